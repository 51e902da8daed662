"""Managers' assignments pages: who interviews where, with targets and progress; add one from
lists (enumerator, locality tree), upload many from a CSV (preview, then confirm), edit the
target, reassign, end or delete."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import roles_required
from ..fieldwork import assignments as service
from ..fieldwork.access import may_supervise
from ..models import Assignment, Wave
from ..services import records
from .access import supervised_wave

bp = Blueprint("assignments", __name__, url_prefix="/assignments")

MAX_UPLOAD = 2 * 1024 * 1024


def _page(wave: Wave, status: int = 200, error: str | None = None):
    return render_template(
        "assignments/wave.html",
        wave=wave,
        rows=service.progress(wave),
        error=error,
        form=request.form,
        enumerators=service.enumerators(),
        localities=service.assignable_localities(wave),
        mode_text=service.mode_text,
        level_text=service.level_text,
    ), status


@bp.route("/waves/<int:wave_id>", methods=["GET", "POST"])
@roles_required("admin", "manager")
def wave(wave_id: int):
    """List the wave's assignments with progress; add one or change its target."""
    found = supervised_wave(wave_id)
    if request.method == "GET":
        return _page(found)
    try:
        _a, created = service.assign(
            found,
            request.form.get("enumerator", ""),
            request.form.get("locality", ""),
            request.form.get("mode", ""),
            request.form.get("target", ""),
            request.form.get("locality_editable") == "yes",
        )
    except service.AssignmentError as exc:
        records.discard_changes()
        return _page(found, 400, str(exc))
    flash(_("Assignment added.") if created else _("Assignment changed."), "info")
    return redirect(url_for("assignments.wave", wave_id=found.id)), 303


def _uploaded_text() -> str:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise service.AssignmentError(_("Choose a CSV file to upload."))
    data = upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise service.AssignmentError(_("The file is larger than 2 MB: split it."))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise service.AssignmentError(
            _("%(file)s is not UTF-8 text (save the CSV as UTF-8).", file=upload.filename[:80])
        ) from None


def _preview_page(wave: Wave, text: str, preview: service.UploadPreview, status: int):
    return render_template(
        "assignments/upload.html",
        wave=wave,
        text=text,
        preview=preview,
        mode_text=service.mode_text,
    ), status


@bp.route("/waves/<int:wave_id>/upload", methods=["POST"])
@roles_required("admin", "manager")
def upload(wave_id: int):
    """Check an assignment CSV and show what it would do, every problem by row; store nothing."""
    found = supervised_wave(wave_id)
    try:
        text = _uploaded_text()
    except service.AssignmentError as exc:
        return _page(found, 400, str(exc))
    preview = service.preview_upload(found, text)
    records.discard_changes()
    return _preview_page(found, text, preview, 400 if preview.problems else 200)


@bp.route("/waves/<int:wave_id>/upload/confirm", methods=["POST"])
@roles_required("admin", "manager")
def confirm_upload(wave_id: int):
    """Store the previewed upload (checked again: all rows, or none)."""
    found = supervised_wave(wave_id)
    text = request.form.get("text", "")
    try:
        done = service.import_assignments(found, text)
    except service.AssignmentImportError as exc:
        records.discard_changes()
        return _preview_page(found, text, service.UploadPreview(problems=exc.problems), 400)
    flash(
        _(
            "Upload stored: %(created)s assignment(s) added, %(changed)s changed.",
            created=done.created,
            changed=done.changed,
        ),
        "info",
    )
    return redirect(url_for("assignments.wave", wave_id=found.id)), 303


def _assignment_or_404(assignment_id: int) -> Assignment:
    found = records.get(Assignment, assignment_id)
    if found is None:
        abort(404)
    if not may_supervise(current_user, found.wave.survey):
        abort(403)
    return found


def _edit_page(found: Assignment, status: int = 200, error: str | None = None):
    return render_template(
        "assignments/edit.html",
        a=found,
        error=error,
        enumerators=service.enumerators(),
        responses=service.filed_responses(found),
        mode_text=service.mode_text,
    ), status


@bp.route("/<int:assignment_id>", methods=["GET", "POST"])
@roles_required("admin", "manager")
def edit(assignment_id: int):
    """Show an assignment; change its target, enumerator (reassign) or locality rule."""
    found = _assignment_or_404(assignment_id)
    if request.method == "GET":
        return _edit_page(found)
    try:
        service.edit_assignment(
            found,
            target=request.form.get("target", ""),
            username=request.form.get("enumerator", found.enumerator.username),
            locality_editable=request.form.get("locality_editable") == "yes",
        )
    except service.AssignmentError as exc:
        records.discard_changes()
        return _edit_page(found, 400, str(exc))
    flash(_("Assignment changed."), "info")
    return redirect(url_for("assignments.wave", wave_id=found.wave_id)), 303


@bp.route("/<int:assignment_id>/end", methods=["POST"])
@roles_required("admin", "manager")
def end(assignment_id: int):
    """End an assignment: nothing more is filed under it; its interviews stay."""
    found = _assignment_or_404(assignment_id)
    service.end_assignment(found)
    flash(_("Assignment ended."), "info")
    return redirect(url_for("assignments.wave", wave_id=found.wave_id)), 303


@bp.route("/<int:assignment_id>/resume", methods=["POST"])
@roles_required("admin", "manager")
def resume(assignment_id: int):
    """Resume an ended assignment."""
    found = _assignment_or_404(assignment_id)
    service.resume_assignment(found)
    flash(_("Assignment resumed."), "info")
    return redirect(url_for("assignments.wave", wave_id=found.wave_id)), 303


@bp.route("/<int:assignment_id>/delete", methods=["POST"])
@roles_required("admin", "manager")
def delete(assignment_id: int):
    """Delete an assignment that has no responses."""
    found = _assignment_or_404(assignment_id)
    wave_id = found.wave_id
    try:
        service.delete_assignment(found)
    except service.AssignmentError as exc:
        records.discard_changes()
        return _edit_page(found, 400, str(exc))
    flash(_("Assignment deleted."), "info")
    return redirect(url_for("assignments.wave", wave_id=wave_id)), 303
