"""The officials' portal: surveys and waves of their jurisdiction, report and export downloads.

An official of a street sees that street's report only; an official of a district (or
above) sees its streets, the district overview, the ZIP of all streets and the exports.
Managers see the surveys they run, admins everything (:mod:`surveyapp.policy`). Anything
else is 403.
"""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from .. import policy
from ..auth import roles_required
from ..errors import UserError
from ..models import Locality, Survey, Wave
from ..reports import ReportError, ReportLanguageError
from ..services import audit, jobs, records
from ..services.exports import (
    MEDIA_TYPES,
    ExportError,
    check_format,
    export_estimates,
    export_filename,
)
from ..services.reports import (
    ReportRequestError,
    ReportScope,
    ReportUnavailable,
    StreetRow,
    district_pdf,
    report_bundle,
    report_cache,
    report_filename,
    report_scope,
    street_boundaries,
    street_pdf,
    survey_streets,
)
from ..services.surveys import all_surveys
from ..services.wave_data import eligible_counts_by_street

bp = Blueprint("officials", __name__, url_prefix="/officials")
ROLES = ("admin", "manager", "official")


# ----------------------------------------------------------------------------- jurisdiction


def visible_streets(survey: Survey) -> tuple[list[Locality], bool]:
    """The streets of ``survey`` the current user may see, and whether they see the whole
    district (district report, ZIP, exports). No street at all means no access."""
    view = policy.visible_streets(current_user, survey, survey_streets(survey))
    return list(view.streets), view.whole


def _survey_wave(
    survey_id: int, wave_code: str, *, content: bool = False
) -> tuple[Survey, Wave, list[StreetRow], bool, ReportScope]:
    """The survey, its wave, the streets the current user sees of it (plain rows) and
    whether they see the whole survey, in two statements (with ``content``, what the reports'
    keys need of the localities too); 404 or 403 as the access rules say."""
    scope = report_scope(survey_id, wave_code, content=content)
    if scope is None:
        abort(404, _("There is no survey %(id)s.", id=survey_id))
    survey, wave = scope.survey, scope.wave
    view = policy.visible_streets_in(current_user, survey, scope.district_chain, scope.streets)
    if wave is not None and view.streets and not policy.may_see_wave_in(current_user, wave, view):
        wave = None  # an official asking for a wave not released yet: as if it did not exist
    if wave is None:
        abort(404, _("Survey %(id)s has no wave %(wave)s.", id=survey_id, wave=wave_code))
    if not view.streets:
        abort(403)
    return survey, wave, list(view.streets), view.whole, scope


def _lang() -> str:
    lang = request.args.get("lang", "zh_CN")
    if lang not in ("zh_CN", "en"):
        abort(400, _("Reports are written in zh_CN or en, not %(lang)s.", lang=lang[:20]))
    return lang


def _unavailable(exc: UserError):
    """A report that cannot be made yet: say why on the wave page (409)."""
    return render_template("error.html", code=409, message=exc.translated()), 409


# ----------------------------------------------------------------------------- pages


@bp.route("/")
@roles_required(*ROLES)
def index():
    """List the surveys and waves of the user's jurisdiction."""
    surveys = []
    for survey in all_surveys():
        streets, whole = visible_streets(survey)
        if streets:
            waves = policy.visible_waves(current_user, survey)
            surveys.append((survey, streets, whole, waves))
    return render_template("officials/index.html", surveys=surveys)


@bp.route("/surveys/<int:survey_id>/waves/<wave_code>")
@roles_required(*ROLES)
def wave(survey_id: int, wave_code: str):
    """Show one wave: a download per street report, the district report, ZIP and exports."""
    survey, wave, streets, whole, _scope = _survey_wave(survey_id, wave_code)
    counts = eligible_counts_by_street(wave)
    recent = jobs.recent_jobs(current_user, survey, limit=5) if whole else []
    return render_template(
        "officials/wave.html",
        survey=survey,
        wave=wave,
        streets=streets,
        whole=whole,
        counts=counts,
        jobs=recent,
    )


@bp.route("/surveys/<int:survey_id>/waves/<wave_code>/results")
@roles_required(*ROLES)
def results(survey_id: int, wave_code: str):
    """Show the wave's results on screen: league table, chart and map of a chosen indicator."""
    from ..i18n import select_locale
    from ..reports import screen

    survey, wave, streets, whole, scope = _survey_wave(survey_id, wave_code, content=True)
    lang = select_locale()
    try:
        bundle = report_bundle(survey, wave, scope=scope)
    except (ReportUnavailable, ReportError) as exc:
        return _unavailable(exc)
    choices = screen.indicator_choices(bundle.results, lang)
    indicator = request.args.get("indicator") or bundle.meta.options.warnings.indicator
    if indicator not in dict(choices):
        abort(400, _("There is no indicator %(id)s in this wave.", id=indicator[:40]))
    codes = [s.code for s in streets]
    table = screen.league(bundle.results, bundle.meta, lang, indicator=indicator, streets=codes)
    item = bundle.results.item(indicator)
    values = {c: (e.value if e is not None else None) for c, e in item.by_street.items()}
    names = {s.code: s.name(lang) for s in streets}
    links = {
        s.code: url_for(
            "officials.street_results", survey_id=survey.id, wave_code=wave.code, street_code=s.code
        )
        for s in streets
    }
    boundaries = street_boundaries(s.id for s in streets)
    outline, legend = screen.map_svg(
        {s.code: boundaries[s.id] for s in streets if s.id in boundaries},
        {c: v for c, v in values.items() if c in names},
        names,
        item.kind,
        links=links,
        no_data=_("no estimate"),
    )
    return render_template(
        "officials/results.html",
        survey=survey,
        wave=wave,
        whole=whole,
        table=table,
        choices=choices,
        indicator=indicator,
        map_svg=outline,
        legend=legend,
        links=links,
        level=f"{float(bundle.results.settings.get('level', 0.95)) * 100:g}%",
        min_n=bundle.meta.options.min_reliable_n,
        data_as_of=bundle.meta.data_as_of,
    )


@bp.route("/surveys/<int:survey_id>/waves/<wave_code>/results/streets/<street_code>")
@roles_required(*ROLES)
def street_results(survey_id: int, wave_code: str, street_code: str):
    """Show one street's results on screen, as its PDF prints them."""
    from ..i18n import select_locale
    from ..reports import screen

    survey, wave, streets, _whole, scope = _survey_wave(survey_id, wave_code, content=True)
    _check_street(scope, streets, street_code)
    try:
        bundle = report_bundle(survey, wave, scope=scope)
    except (ReportUnavailable, ReportError) as exc:
        return _unavailable(exc)
    try:
        page = screen.street_page(bundle.results, street_code, bundle.meta, select_locale())
    except KeyError:
        abort(404, _("Street %(code)s is not in this survey's district.", code=street_code[:20]))
    return render_template(
        "officials/street.html",
        survey=survey,
        wave=wave,
        page=page,
        level=f"{float(bundle.results.settings.get('level', 0.95)) * 100:g}%",
        min_n=bundle.meta.options.min_reliable_n,
        data_as_of=bundle.meta.data_as_of,
    )


def _check_street(scope: ReportScope, streets: list[StreetRow], street_code: str) -> None:
    if street_code not in {s.code for s in streets}:
        if street_code in {s.code for s in scope.streets}:
            abort(403)
        abort(404, _("Street %(code)s is not in this survey's district.", code=street_code[:20]))


@bp.route("/surveys/<int:survey_id>/waves/<wave_code>/streets/<street_code>.pdf")
@roles_required(*ROLES)
def street_report(survey_id: int, wave_code: str, street_code: str):
    """Send the PDF report of one street."""
    survey, wave, streets, _whole, scope = _survey_wave(survey_id, wave_code, content=True)
    _check_street(scope, streets, street_code)
    lang = _lang()
    try:
        data = street_pdf(survey, wave, street_code, lang, scope=scope)
    except (ReportUnavailable, ReportError) as exc:
        return _unavailable(exc)
    return _send_pdf(
        data,
        f"{street_code}-{wave.code}{'' if lang == 'zh_CN' else '-en'}.pdf",
        f"report:{survey.id}:{wave.code}:{street_code}",
    )


@bp.route("/surveys/<int:survey_id>/waves/<wave_code>/district.pdf")
@roles_required(*ROLES)
def district_report(survey_id: int, wave_code: str):
    """Send the district overview PDF."""
    survey, wave, _streets, whole, scope = _survey_wave(survey_id, wave_code, content=True)
    if not whole:
        abort(403)
    lang = _lang()
    try:
        cache = report_cache()
        bundle = report_bundle(survey, wave, cache, scope=scope)
        data = district_pdf(survey, wave, lang, cache, scope=scope)
        name = report_filename(bundle, "district", lang)
    except (ReportUnavailable, ReportError) as exc:
        return _unavailable(exc)
    return _send_pdf(data, name, f"report:{survey.id}:{wave.code}:district")


def _send_pdf(data: bytes, name: str, target: str):
    audit.record_now("report", target)
    return send_file(
        io.BytesIO(data), mimetype="application/pdf", as_attachment=True, download_name=name
    )


@bp.route("/surveys/<int:survey_id>/waves/<wave_code>/estimates.<fmt>")
@roles_required(*ROLES)
def estimates(survey_id: int, wave_code: str, fmt: str):
    """Send the wave's estimates table (CSV or XLSX)."""
    survey, wave, _streets, whole, scope = _survey_wave(survey_id, wave_code, content=True)
    if not whole:
        abort(403)
    try:
        fmt = check_format("estimates", fmt)
    except ExportError as exc:
        abort(404, exc.translated())
    lang = _lang()
    try:
        cache = report_cache()
        bundle = report_bundle(survey, wave, cache, scope=scope)
        data = export_estimates(bundle, fmt, lang, cache)
    except (ReportUnavailable, ReportError) as exc:
        return _unavailable(exc)
    name = export_filename(survey, "estimates", fmt, wave)
    audit.record_now("export", f"estimates:{survey.id}:{wave.code}", format=fmt)
    return send_file(
        io.BytesIO(data), mimetype=MEDIA_TYPES[fmt], as_attachment=True, download_name=name
    )


@bp.route("/surveys/<int:survey_id>/waves/<wave_code>/jobs", methods=["POST"])
@roles_required(*ROLES)
def start_job(survey_id: int, wave_code: str):
    """Start the ZIP of all street reports or an export of the responses in the background."""
    survey, wave, _streets, whole, _scope = _survey_wave(survey_id, wave_code)
    if not whole:
        abort(403)
    kind = request.form.get("kind", "")
    lang = request.form.get("lang", "zh_CN")
    if lang not in ("zh_CN", "en"):
        abort(400, _("Reports are written in zh_CN or en, not %(lang)s.", lang=lang[:20]))
    params: dict = {"lang": lang}
    if kind == "responses":
        try:
            params["format"] = check_format("responses", request.form.get("format", ""))
        except ExportError as exc:
            abort(400, exc.translated())
    elif kind != "zip":
        abort(400, _("Unknown download %(kind)s: choose zip or responses.", kind=kind[:20]))
    try:
        job = jobs.submit(kind, current_user._get_current_object(), survey, wave, **params)
    except (jobs.JobError, ReportLanguageError) as exc:
        abort(400, exc.translated())
    audit.record("export", f"{kind}:{survey.id}:{wave.code}", job=job.id, commit=True)
    return redirect(url_for("officials.job", job_id=job.id))


def _job_or_404(job_id: str):
    job = jobs.job_for(current_user._get_current_object(), job_id)
    if job is None:
        abort(404, _("There is no download %(id)s of yours.", id=job_id[:40]))
    records.reload(job)
    return job


@bp.route("/jobs/<job_id>")
@roles_required(*ROLES)
def job(job_id: str):
    """Show a background job's progress (the page reloads itself until it is done)."""
    job = _job_or_404(job_id)
    survey = records.get(Survey, job.survey_id)
    wave = records.get(Wave, job.wave_id) if job.wave_id else None
    return render_template(
        "officials/job.html",
        job=job,
        survey=survey,
        wave=wave,
        failure=jobs.failure_text(job.message),
    )


@bp.route("/jobs/<job_id>.json")
@roles_required(*ROLES)
def job_status(job_id: str):
    """Return a background job's progress as JSON."""
    job = _job_or_404(job_id)
    return jsonify(
        id=job.id,
        kind=job.kind,
        status=job.status,
        done=job.done,
        total=job.total,
        percent=job.percent,
        message=jobs.failure_text(job.message),
        reason=job.message,
        download=url_for("officials.job_download", job_id=job.id) if job.status == "done" else None,
    )


@bp.route("/jobs/<job_id>/download")
@roles_required(*ROLES)
def job_download(job_id: str):
    """Send the file a finished job made."""
    job = _job_or_404(job_id)
    if job.status != "done":
        abort(409, _("This download is not ready yet."))
    data = jobs.job_result(job)
    if data is None:
        abort(410, _("This download has expired: start it again."))
    fmt = jobs.job_file(job).suffix.lstrip(".")
    media = "application/zip" if fmt == "zip" else MEDIA_TYPES.get(fmt, "application/octet-stream")
    return send_file(
        io.BytesIO(data), mimetype=media, as_attachment=True, download_name=job.filename
    )


@bp.errorhandler(ReportRequestError)
def _not_found(exc: ReportRequestError):
    flash(exc.translated(), "error")
    return redirect(url_for("officials.index"))
