"""Managers' assignments page: who interviews where, with targets and progress."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth import roles_required
from ..extensions import db
from ..fieldwork.assignments import AssignmentError, assign, progress
from ..models import Wave
from .access import supervised_wave

bp = Blueprint("assignments", __name__, url_prefix="/assignments")


def _page(wave: Wave, status: int = 200, error: str | None = None):
    return render_template(
        "assignments/wave.html", wave=wave, rows=progress(wave), error=error, form=request.form
    ), status


@bp.route("/waves/<int:wave_id>", methods=["GET", "POST"])
@roles_required("admin", "manager")
def wave(wave_id: int):
    """List the wave's assignments with progress; add one or change its target."""
    found = supervised_wave(wave_id)
    if request.method == "GET":
        return _page(found)
    try:
        target = int(request.form.get("target", "").strip())
    except ValueError:
        return _page(
            found,
            400,
            _(
                "target: '%(value)s' is not a whole number.",
                value=request.form.get("target", "")[:20],
            ),
        )
    try:
        _a, created = assign(
            found,
            request.form.get("enumerator", ""),
            request.form.get("locality", ""),
            request.form.get("mode", ""),
            target,
            request.form.get("locality_editable") == "yes",
        )
    except AssignmentError as exc:
        db.session.rollback()
        return _page(found, 400, str(exc))
    flash(_("Assignment added.") if created else _("Assignment changed."), "info")
    return redirect(url_for("assignments.wave", wave_id=found.id)), 303
