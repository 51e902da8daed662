"""Administrators' locality pages: the tree with populations, an import (CSV or XLSX) previewed
with every problem by row before anything is stored, and editing one locality."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth import roles_required
from ..models import Locality
from ..services import localities as service
from ..services import records

bp = Blueprint("localities", __name__, url_prefix="/localities")


def _index(status: int = 200, error: str | None = None):
    return render_template(
        "localities/index.html", tree=service.locality_tree(), error=error
    ), status


@bp.route("/")
@roles_required("admin")
def index():
    """Show the locality tree with codes and populations."""
    return _index()


def _preview(text: str, status: int, problems=None, result=None):
    return render_template(
        "localities/preview.html", text=text, problems=problems or [], result=result
    ), status


@bp.route("/import", methods=["POST"])
@roles_required("admin")
def upload():
    """Check an uploaded locality file and show what it would change; store nothing."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _index(400, _("Choose a CSV or XLSX file to upload."))
    data = upload.read(service.MAX_UPLOAD + 1)
    try:
        text = service.upload_text(upload.filename, data)
        result = service.import_localities(text, source=upload.filename[:80], dry_run=True)
    except service.LocalityImportError as exc:
        records.discard_changes()
        return _preview("", 400, problems=exc.problems)
    return _preview(text, 200, result=result)


@bp.route("/import/confirm", methods=["POST"])
@roles_required("admin")
def confirm():
    """Store the previewed locality file (checked again: all rows, or none)."""
    text = request.form.get("text", "")
    try:
        result = service.import_localities(text, source=_("file"))
    except service.LocalityImportError as exc:
        records.discard_changes()
        return _preview("", 400, problems=exc.problems)
    flash(
        _(
            "Localities stored: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.",
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
        ),
        "info",
    )
    return redirect(url_for("localities.index")), 303


@bp.route("/<int:locality_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit(locality_id: int):
    """Show a locality; change its names and population."""
    found = records.get(Locality, locality_id)
    if found is None:
        abort(404)
    error = None
    if request.method == "POST":
        try:
            service.edit_locality(
                found,
                request.form.get("name_zh", ""),
                request.form.get("name_en", ""),
                request.form.get("population", ""),
            )
        except service.LocalityEditError as exc:
            records.discard_changes()
            error = exc.translated()
        else:
            flash(_("Locality changed."), "info")
            return redirect(url_for("localities.index")), 303
    return render_template("localities/edit.html", loc=found, error=error), (400 if error else 200)
