"""The safety index (平安指数) on screen: league table, street pages, bulletin and exports for
the users of a jurisdiction; the monthly data upload (clerks, managers) and the definition
editor (managers)."""

from __future__ import annotations

import base64
import binascii
import io

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from .. import policy
from ..auth import roles_required
from ..models import Locality
from ..safety_index import DefinitionError, streets_to_watch, top_changes
from ..services import localities
from ..services import safety_index as service
from .terms import separator

bp = Blueprint("safety_index", __name__, url_prefix="/safety-index")


@bp.app_template_global("safety_index_note")
def note_text(component) -> str:
    """How a component's missing value was handled, in the interface language."""
    from ..reports.safety_index import missing_text  # reportlab: imported when first used

    return missing_text(component, _, "en" if str(get_locale()) == "en" else "zh_CN")


VIEWERS = policy.SAFETY_INDEX_VIEWERS
MAX_UPLOAD = 5 * 1024 * 1024


def _district(district_code: str) -> tuple[Locality, policy.StreetView]:
    try:
        district = service.district_by_code(district_code)
    except service.SafetyIndexError:
        abort(404)
    view = policy.safety_index_streets(current_user, district)
    if not view:
        abort(403)
    return district, view


def _month() -> str | None:
    month = request.args.get("month") or None
    if month is not None and not service.MONTH_RE.match(month):
        abort(400, _("The month must be written YYYY-MM."))
    return month


def _latest(district: Locality) -> str:
    try:
        return service.latest_month(district)
    except service.SafetyIndexError as exc:
        abort(exc.status, exc.translated())


def _compute(district: Locality, month: str | None):
    try:
        return service.compute_index(district, month)
    except service.SafetyIndexError as exc:
        abort(exc.status, exc.translated())


@bp.get("/")
@roles_required(*VIEWERS)
def index():
    """List the districts whose index the user may see (or go straight to the only one)."""
    districts = localities.districts()
    visible = []
    for d in districts:
        view = policy.safety_index_streets(current_user, d)
        if view.whole:
            visible.append((d, None))
        else:
            visible += [(d, s) for s in view.streets]
    if len(visible) == 1:
        d, street = visible[0]
        if street is None:
            return redirect(url_for(".district", district_code=d.code))
        return redirect(url_for(".street", district_code=d.code, street_code=street.code))
    return render_template("safety_index/index.html", visible=visible)


@bp.get("/<district_code>")
@roles_required(*VIEWERS)
def district(district_code: str):
    """Show the month's league table with intervals, changes, movers and the watch list."""
    place, view = _district(district_code)
    if not view.whole:
        abort(403)
    out = _compute(place, _month())
    months = service.months_with_data(place)
    trend = service.trend(place, out.result.month)
    return render_template(
        "safety_index/district.html",
        district=place,
        survey_note=separator().join(part.translated() for part in out.result.survey_note),
        out=out,
        r=out.result,
        d=out.definition,
        months=months,
        trend=trend,
        watch=streets_to_watch(out.result, out.definition.watch_bottom, out.definition.watch_drop),
        top_changes=top_changes,
    )


@bp.get("/<district_code>/street/<street_code>")
@roles_required(*VIEWERS)
def street(district_code: str, street_code: str):
    """Show one street's index, its breakdown in points and its twelve months."""
    place, view = _district(district_code)
    if street_code not in {s.code for s in view.streets}:
        abort(404)
    out = _compute(place, _month())
    trend = service.trend(place, out.result.month)
    return render_template(
        "safety_index/street.html",
        district=place,
        out=out,
        r=out.result,
        d=out.definition,
        s=out.result.street(street_code),
        months=service.months_with_data(place),
        trend=[
            (m.month, next((x for x in m.streets if x.code == street_code), None)) for m in trend
        ],  # fmt: skip
        whole=view.whole,
        top_changes=top_changes,
    )


def _pdf(place: Locality, street_code: str | None, name: str):
    lang = request.args.get("lang") or "zh_CN"
    try:
        data = service.bulletin_pdf(place, _month(), lang, street_code)
    except service.SafetyIndexError as exc:
        abort(exc.status, exc.translated())
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=name)  # fmt: skip


@bp.get("/<district_code>/bulletin.pdf")
@roles_required(*VIEWERS)
def bulletin(district_code: str):
    """Send the monthly bulletin (平安指数月报) as PDF."""
    place, view = _district(district_code)
    if not view.whole:
        abort(403)
    month = _month() or _latest(place)
    return _pdf(place, None, f"safety-index-{place.code}-{month}.pdf")


@bp.get("/<district_code>/street/<street_code>.pdf")
@roles_required(*VIEWERS)
def street_pdf(district_code: str, street_code: str):
    """Send one street's page as PDF."""
    place, view = _district(district_code)
    if street_code not in {s.code for s in view.streets}:
        abort(404)
    month = _month() or _latest(place)
    return _pdf(place, street_code, f"safety-index-{street_code}-{month}.pdf")


@bp.get("/<district_code>/export.<fmt>")
@roles_required(*VIEWERS)
def export(district_code: str, fmt: str):
    """Send the month's index per street and indicator as CSV or XLSX (visible streets)."""
    place, view = _district(district_code)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    out = _compute(place, _month())
    codes = None if view.whole else {s.code for s in view.streets}
    lang = request.args.get("lang") or "zh_CN"
    data = service.export_bytes(out, fmt, codes, "en" if lang == "en" else "zh_CN")
    mimetype = {
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }[fmt]
    name = f"safety-index-{place.code}-{out.result.month}.{fmt}"
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name)


# ------------------------------------------------------------------------ data upload


@bp.route("/upload", methods=["GET", "POST"])
@roles_required(*policy.SAFETY_INDEX_UPLOADERS)
def upload():
    """Check an upload of monthly values, show the preview, and store it when confirmed."""
    preview = None
    payload = ""
    replace = bool(request.form.get("replace"))
    if request.method == "POST":
        if request.form.get("action") == "store":
            try:
                data = base64.b64decode(request.form.get("payload", ""), validate=True)
            except (binascii.Error, ValueError):
                abort(400, _("The upload was damaged; choose the file again."))
            filename = request.form.get("filename", "upload.csv")[:200]
        else:
            file = request.files.get("file")
            if file is None or not file.filename:
                abort(400, _("Choose a CSV or XLSX file."))
            filename = file.filename[:200]
            data = file.read(MAX_UPLOAD + 1)
            if len(data) > MAX_UPLOAD:
                abort(413)
        if not filename.lower().endswith((".csv", ".xlsx", ".xlsm")):
            abort(400, _("Choose a CSV or XLSX file."))
        try:
            preview = service.check_upload(
                filename, data, current_user, replace=replace, translate=_
            )
        except service.SafetyIndexError as exc:
            abort(exc.status, exc.translated())
        if request.form.get("action") == "store" and preview.ok:
            summary = service.import_upload(preview, current_user)
            flash(
                _("%(stored)s values stored (%(unchanged)s already stored, unchanged).")
                % {"stored": summary["stored"], "unchanged": summary["unchanged"]},
                "success",
            )
            return redirect(url_for(".upload"))
        payload = base64.b64encode(data).decode("ascii")
    status = 200 if preview is None or not preview.problems else 422
    return (
        render_template(
            "safety_index/upload.html",
            preview=preview,
            payload=payload,
            replace=replace,
            series=service.known_series(),
            completeness=_completeness(),
        ),
        status,
    )


def _completeness() -> list:
    """Per district of the user's jurisdiction: the latest month's streets with a value."""
    out = []
    for d in localities.districts():
        if not policy.safety_index_streets(current_user, d).whole:
            continue
        months = service.months_with_data(d)
        if months:
            out.append((d, months[-1], service.data_status(d, months[-1])))
    return out


# ------------------------------------------------------------------------ definition


@bp.route("/definition", methods=["GET", "POST"])
@roles_required(*policy.SAFETY_INDEX_EDITORS)
def definition():
    """Edit the index definition: check it, then store it as a new version."""
    latest = service.latest_definition()
    text = latest.source_text if latest else ""
    problems: list[str] = []
    changes: list[str] = []
    status = 200
    if request.method == "POST":
        text = request.form.get("text", "").replace("\r\n", "\n")
        problems = service.definition_problems(text, "definition")
        if not problems and latest is not None:
            from ..safety_index import definition_changes, load_definition_text

            changes = definition_changes(latest.definition, load_definition_text(text))
        if problems:
            status = 422
        elif request.form.get("action") == "save":
            try:
                row, created = service.store_definition(text, "definition", current_user)
            except DefinitionError:  # checked above; the text cannot have changed since
                abort(400)
            except service.SafetyIndexError as exc:
                problems = [exc.translated()]
                status = exc.status
            else:
                flash(
                    _("Version %(version)s stored; it applies from %(month)s.")
                    % {"version": row.version, "month": row.effective_from}
                    if created
                    else _("This version is already stored."),
                    "success",
                )
                return redirect(url_for(".definition"))
    return (
        render_template(
            "safety_index/definition.html",
            text=text,
            problems=problems,
            changes=changes,
            versions=service.definition_versions(),
        ),
        status,
    )
