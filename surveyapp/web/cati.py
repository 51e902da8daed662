"""Telephone interviewing (CATI) pages: the interviewer's desk (next case, introduction script,
call outcomes) and the supervisor's wave page (call lists, samples, quotas, rates, cases).

Telephone numbers are shown in full only to the interviewer holding an open case; everywhere
else (closed cases, supervisors' lists, the CSV export) they are masked.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import roles_required
from ..fieldwork import cati
from ..fieldwork.dispositions import DISPOSITIONS
from ..fieldwork.settings import FieldworkSettings, settings_for
from ..i18n import select_locale
from ..models import Wave
from ..models.fieldwork import CatiCase
from ..reports.cells import CsvWriter
from ..services import records
from .access import supervised_wave

bp = Blueprint("cati", __name__, url_prefix="/cati")

MAX_UPLOAD = 5 * 1024 * 1024
CASES_SHOWN = 200


def _local(moment: datetime | None, settings: FieldworkSettings) -> str:
    if moment is None:
        return ""
    return cati.local_time(moment, settings).strftime("%Y-%m-%d %H:%M")


def shown_phone(found: CatiCase, user) -> str:
    """The number as ``user`` may see it: in full only while they hold the open case."""
    if found.status == "claimed" and found.claimed_by_id == user.id:
        return found.phone
    return cati.mask_phone(found.phone)


def _desk(status: int = 200, error: str | None = None):
    user = current_user
    held = cati.held_case(user)
    assignments = cati.phone_assignments(user)
    settings = settings_for(
        held.wave.survey if held else (assignments[0].wave.survey if assignments else None)
    )
    assignment = None
    if held is not None:
        # The telephone assignment the case files under (the assignment rule's condition).
        assignment = next(
            (
                a
                for a in assignments
                if a.wave_id == held.wave_id
                and a.ended_at is None
                and held.locality.is_within(a.locality)
            ),
            None,
        )
    recent = cati.recent_cases(user, but=held, limit=10)
    outcomes = [d for d in DISPOSITIONS.values() if d.key != "complete"]
    return render_template(
        "cati/desk.html",
        held=held,
        assignment=assignment,
        assignments=assignments,
        settings=settings,
        recent=recent,
        outcomes=outcomes,
        error=error,
        phone=lambda c: shown_phone(c, user),
        local=lambda m: _local(m, settings),
        time_zone=settings.timezone,
    ), status


@bp.route("/")
@roles_required("enumerator")
def desk():
    """Show the interviewer's current case, or the button that takes the next one."""
    return _desk()


@bp.route("/next", methods=["POST"])
@roles_required("enumerator")
def take_next():
    """Give the interviewer one case from the queue."""
    try:
        found = cati.next_case(current_user)
    except cati.CatiError as exc:
        return _desk(exc.status, exc.translated())
    if found is None:
        flash(
            _(
                "No number is due now: every case is in progress, waiting for its recall "
                "time, or closed."
            ),
            "info",
        )
    return redirect(url_for("cati.desk"))


def _appointment(text: str, settings: FieldworkSettings) -> datetime | None:
    """Read a local date and time from the form (``YYYY-MM-DDTHH:MM``) as naive UTC."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise cati.CatiError(
            _(
                "The appointment '%(value)s' is not a date and time such as 2026-11-24T18:30.",
                value=text[:40],
            )
        ) from exc
    return moment.replace(tzinfo=settings.zone).astimezone(UTC).replace(tzinfo=None)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.route("/cases/<int:case_id>/outcome", methods=["POST"])
@roles_required("enumerator")
def outcome(case_id: int):
    """Record the outcome of the call just made, and requeue or close the case.

    The desk sends it with ``client_id`` (its own id of the outcome) and asks for JSON, so
    that an outcome recorded during a network outage is sent again safely when it returns.
    """
    try:
        found = records.get(CatiCase, case_id)
        if found is None:
            raise cati.CatiError(_("There is no case %(id)s.", id=case_id), status=404)
        settings = settings_for(found.wave.survey)
        appointment = _appointment(request.form.get("appointment", ""), settings)
        cati.record_outcome(
            current_user,
            case_id,
            request.form.get("outcome", ""),
            note=request.form.get("note", "").strip(),
            appointment_at=appointment,
            settings=settings,
            client_id=request.form.get("client_id", "").strip() or None,
        )
    except cati.CatiError as exc:
        records.discard_changes()
        if _wants_json():
            return {"error": exc.status, "message": exc.translated()}, exc.status
        return _desk(exc.status, exc.translated())
    if _wants_json():
        return {"status": "recorded", "case": case_id}
    flash(_("Outcome recorded."), "info")
    return redirect(url_for("cati.desk"))


# --- supervisors ---------------------------------------------------------------------------


def _wave_page(wave: Wave, status: int = 200, problems: list[str] | None = None):
    settings = settings_for(wave.survey)
    by_status = cati.case_counts(wave)
    total = sum(by_status.values())
    cases = cati.wave_cases(wave, limit=CASES_SHOWN)
    rates = cati.wave_rates(wave)
    lang = select_locale()
    rate_rows = [(_("All"), rates.overall)] + [(s.name(lang), r) for s, r in rates.by_street]
    return render_template(
        "cati/wave.html",
        wave=wave,
        settings=settings,
        total=total,
        by_status=by_status,
        cases=cases,
        shown=CASES_SHOWN,
        quotas=cati.quota_progress(wave),
        rates=rates,
        rate_rows=rate_rows,
        problems=problems or [],
        mask=cati.mask_phone,
        local=lambda m: _local(m, settings),
        time_zone=settings.timezone,
    ), status


@bp.route("/waves/<int:wave_id>")
@roles_required("admin", "manager")
def wave(wave_id: int):
    """Show a wave's telephone cases, quotas and AAPOR rates, with the import forms."""
    return _wave_page(supervised_wave(wave_id))


def _uploaded_text(field: str) -> str:
    upload = request.files.get(field)
    if upload is None or not upload.filename:
        raise cati.CatiError(_("Choose a CSV file to upload."))
    data = upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise cati.CatiError(_("The file is larger than 5 MB: split it."), status=413)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise cati.CatiError(
            _("%(file)s is not UTF-8 text (save the CSV as UTF-8).", file=upload.filename)
        ) from exc


def _import_done(wave: Wave, report) -> tuple:
    if report.problems:
        return _wave_page(wave, 400, report.problems)
    flash(
        _(
            "%(n)s numbers added; %(skipped)s were already listed.",
            n=report.created,
            skipped=len(report.already_listed),
        ),
        "info",
    )
    return redirect(url_for("cati.wave", wave_id=wave.id)), 303


@bp.route("/waves/<int:wave_id>/import", methods=["POST"])
@roles_required("admin", "manager")
def import_list(wave_id: int):
    """Add an uploaded call list to the wave; nothing is stored if a row has a problem."""
    wave = supervised_wave(wave_id)
    try:
        text = _uploaded_text("file")
    except cati.CatiError as exc:
        return _wave_page(wave, exc.status, [exc.translated()])
    return _import_done(wave, cati.import_call_list(wave, text, source=_("call list")))


@bp.route("/waves/<int:wave_id>/sample", methods=["POST"])
@roles_required("admin", "manager")
def sample(wave_id: int):
    """Draw a random sample of numbers per street from an uploaded frame."""
    wave = supervised_wave(wave_id)
    try:
        per_street = _whole(request.form.get("per_street", ""), _("numbers per street"), 1)
        seed = _whole(request.form.get("seed", ""), _("seed"), 0)
        text = _uploaded_text("frame")
        report = cati.draw_sample(wave, text, per_street, seed, source=_("frame"))
    except cati.CatiError as exc:
        return _wave_page(wave, exc.status, [exc.translated()])
    return _import_done(wave, report)


def _whole(text: str, what: str, low: int) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise cati.CatiError(
            _("%(what)s: '%(value)s' is not a whole number.", what=what, value=str(text)[:20])
        ) from None
    if value < low:
        raise cati.CatiError(_("%(what)s must be at least %(low)s.", what=what, low=low))
    return value


@bp.route("/waves/<int:wave_id>/quota", methods=["POST"])
@roles_required("admin", "manager")
def quota(wave_id: int):
    """Set the number of interviews wanted in a street or one of its sex x age cells."""
    wave = supervised_wave(wave_id)
    try:
        target = _whole(request.form.get("target", ""), _("target"), 0)
        cati.set_quota(
            wave,
            request.form.get("street", "").strip(),
            target,
            sex=request.form.get("sex", "").strip(),
            age_group=request.form.get("age_group", "").strip(),
        )
    except cati.CatiError as exc:
        records.discard_changes()
        return _wave_page(wave, exc.status, [exc.translated()])
    flash(_("Quota saved."), "info")
    return redirect(url_for("cati.wave", wave_id=wave.id)), 303


def cases_csv(wave: Wave) -> bytes:
    """The wave's cases for download: numbers always masked, no answers."""
    settings = settings_for(wave.survey)
    out = io.StringIO()
    writer = CsvWriter(out)
    writer.writerow(
        [
            "case",
            "phone_masked",
            "locality",
            "status",
            "attempts",
            "last_code",
            "final_code",
            "last_called_local",
            "closed_local",
        ]
    )
    for c in cati.wave_cases(wave):
        writer.writerow(
            [
                c.id,
                cati.mask_phone(c.phone),
                c.locality.code,
                c.status,
                c.attempts,
                c.last_code,
                c.final_code,
                _local(c.last_called_at, settings),
                _local(c.closed_at, settings),
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@bp.route("/waves/<int:wave_id>/cases.csv")
@roles_required("admin", "manager")
def cases_export(wave_id: int):
    """Download the wave's cases with masked numbers and their dispositions."""
    wave = supervised_wave(wave_id)
    from ..services.audit import record

    record("export", f"cati cases of wave {wave.id}", commit=True)
    return Response(
        cases_csv(wave),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=cati-cases-wave-{wave.id}.csv"},
    )
