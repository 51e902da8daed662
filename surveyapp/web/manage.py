"""调查管理: surveys and their waves, for the managers who run them (and admins).

Managers create and edit surveys (name, district, modes, owner, settings) and run their waves
(create, open, close, reopen, release, each confirmed on its own page). Officials may open the
overview and a wave's counts too, read-only: only released waves, only the streets of their
jurisdiction (:mod:`surveyapp.policy`).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import policy
from ..auth import roles_required
from ..models import Survey, Wave
from ..models.surveys import MODES
from ..services import records
from ..services import survey_settings as settings_service
from ..services import waves as wave_service
from ..services.localities import districts
from ..services.questionnaires import published_versions
from ..services.surveys import (
    all_surveys,
    counts_by_street,
    create_survey,
    survey_overview,
    update_survey,
)
from ..services.users import active_users

bp = Blueprint("manage", __name__, url_prefix="/manage")

MANAGERS = ("admin", "manager")
#: The wave actions, each confirmed on its own page before it is done.
ACTIONS = {
    "open": wave_service.open_wave,
    "close": wave_service.close_wave,
    "reopen": wave_service.reopen_wave,
    "release": wave_service.release_wave,
}


@bp.route("/")
@roles_required("admin", "manager", "official")
def index():
    """List the surveys the user may see, with their waves and response counts."""
    visible = {}
    for survey in all_surveys():
        view = policy.visible_streets(current_user, survey)
        if view:
            visible[survey.id] = None if view.whole else view.street_ids
    surveys = survey_overview(visible)
    if current_user.role == "official":  # released waves only, counted without the others
        for s in surveys:
            s["waves"] = [w for w in s["waves"] if w["released"]]
            s["responses"] = sum(w["responses"] for w in s["waves"])
            s["counted_responses"] = sum(w["counted_responses"] for w in s["waves"])
    return render_template(
        "manage/index.html", surveys=surveys, may_create=current_user.role in MANAGERS
    )


@bp.route("/waves/<int:wave_id>")
@roles_required("admin", "manager", "official")
def wave(wave_id: int):
    """Show a wave's completed interviews per street."""
    wave = records.get(Wave, wave_id)
    if wave is None:
        abort(404)
    view = policy.visible_streets(current_user, wave.survey)
    if not view:
        abort(403)
    if not policy.may_see_wave(current_user, wave):
        abort(404)  # not released yet: officials do not learn it exists
    counts = counts_by_street(wave)
    if not view.whole:
        counts = [(street, n) for street, n in counts if street.id in view.street_ids]
    return render_template("manage/wave.html", wave=wave, counts=counts)


# ----------------------------------------------------------------------------- surveys


def _managed_survey(survey_id: int) -> Survey:
    survey = records.get(Survey, survey_id)
    if survey is None:
        abort(404)
    if not policy.may_manage_survey(current_user, survey):
        abort(403)
    return survey


def _choices() -> dict:
    """The lists the survey form chooses from."""
    return {
        "questionnaires": published_versions(),
        "districts": districts(),
        "owners": active_users(MANAGERS),
        "modes": MODES,
        "strata": settings_service.STRATA,
        "clusters": settings_service.CLUSTERS,
        "weighting_methods": settings_service.WEIGHTING_METHODS,
        "margins": settings_service.MARGINS,
        "ci_methods": settings_service.CI_METHODS,
        "fieldwork_fields": [name for name, _kind in settings_service.FIELDWORK_FIELDS],
        "warning_fields": [name for name, _kind in settings_service.WARNING_FIELDS],
    }


def _form_values(survey: Survey | None) -> dict:
    """What the survey form shows: the posted values, else the survey's, else defaults."""
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in request.form}
        values["modes"] = request.form.getlist("modes")
        values["weighting.margins"] = request.form.getlist("weighting.margins")
        return values
    settings = dict(
        survey.settings if survey is not None else settings_service.DEFAULT_SURVEY_SETTINGS
    )
    design = settings.get("design", {})
    weighting = settings.get("weighting", {})
    reports = settings.get("reports", {}) or {}
    values = {
        "name": survey.name if survey else "",
        "questionnaire": (
            f"{survey.questionnaire_version.slug}@{survey.questionnaire_version.version}"
            if survey
            else ""
        ),
        "district": survey.district.code if survey else "",
        "modes": survey.mode_list if survey else list(MODES),
        "owner": (
            survey.created_by.username
            if survey and survey.created_by
            else (current_user.username if current_user.role == "manager" else "")
        ),
        "design.strata": design.get("strata", ""),
        "design.cluster": design.get("cluster", ""),
        "weighting.method": weighting.get("method", "rake"),
        "weighting.margins": weighting.get("margins", []),
        "ci_method": settings.get("ci_method", "logit"),
        "level": str(settings.get("level", 0.95)),
        "reports.min_reliable_n": str(reports.get("min_reliable_n", "")),
    }
    for name, value in (reports.get("warnings") or {}).items():
        values[f"reports.warnings.{name}"] = "" if value is None else str(value)
    for name, value in (settings.get("fieldwork") or {}).items():
        values[f"fieldwork.{name}"] = str(value)
    return values


def _form_page(survey: Survey | None, error=None, status: int = 200):
    return (
        render_template(
            "manage/survey_form.html",
            survey=survey,
            values=_form_values(survey),
            error=error.translated() if error else None,
            error_field=error.field if error else None,
            **_choices(),
        ),
        status,
    )


@bp.route("/surveys/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new_survey():
    """Create a survey: name, questionnaire, district, modes, owner and settings."""
    if request.method == "GET":
        return _form_page(None)
    form = request.form
    try:
        settings = settings_service.settings_from_form(form)
        survey = create_survey(
            name=form.get("name", ""),
            questionnaire=form.get("questionnaire", ""),
            district=form.get("district", ""),
            modes=form.getlist("modes"),
            owner=form.get("owner", ""),
            settings=settings,
            user=current_user._get_current_object(),
        )
    except wave_service.SurveyOperationError as exc:
        records.discard_changes()
        return _form_page(None, exc, 400)
    flash(_("Survey created: now add its first wave."), "success")
    return redirect(url_for("manage.survey", survey_id=survey.id))


@bp.route("/surveys/<int:survey_id>")
@roles_required(*MANAGERS)
def survey(survey_id: int):
    """Show a survey: its settings (with their version) and its waves with their actions."""
    survey = _managed_survey(survey_id)
    doc = next(s for s in survey_overview({survey.id: None}) if s["id"] == survey.id)
    return render_template("manage/survey.html", survey=survey, doc=doc)


@bp.route("/surveys/<int:survey_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit_survey(survey_id: int):
    """Change a survey's name, district, modes, owner or settings."""
    survey = _managed_survey(survey_id)
    if request.method == "GET":
        return _form_page(survey)
    form = request.form
    user = current_user._get_current_object()
    try:
        settings = settings_service.settings_from_form(form, survey.settings)
        before = survey.settings_version
        update_survey(
            survey,
            name=form.get("name", ""),
            district=form.get("district", ""),
            modes=form.getlist("modes"),
            owner=form.get("owner", ""),
            user=user,
        )
        settings_service.change_settings(survey, settings, user=user)
    except wave_service.SurveyOperationError as exc:
        records.discard_changes()
        survey = records.get(Survey, survey_id)
        return _form_page(survey, exc, 400)
    if survey.settings_version != before:
        flash(
            _(
                "Saved. The settings changed after responses were collected: this is settings "
                "version %(n)s, and estimates and reports now say so.",
                n=survey.settings_version,
            ),
            "success",
        )
    else:
        flash(_("Saved."), "success")
    if not policy.may_manage_survey(current_user, survey):  # handed to another manager
        return redirect(url_for("manage.index"))
    return redirect(url_for("manage.survey", survey_id=survey.id))


# ----------------------------------------------------------------------------- waves


@bp.route("/surveys/<int:survey_id>/waves/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new_wave(survey_id: int):
    """Add a wave: code, name, dates and questionnaire version (latest published by default)."""
    survey = _managed_survey(survey_id)
    versions = published_versions(survey.questionnaire_version.slug)
    values = dict(request.form) if request.method == "POST" else {}
    error = None
    if request.method == "POST":
        try:
            wave = wave_service.create_wave(
                survey,
                code=values.get("code", ""),
                name=values.get("name", ""),
                starts_on=values.get("start", ""),
                ends_on=values.get("end", ""),
                questionnaire=values.get("questionnaire") or None,
                user=current_user._get_current_object(),
            )
        except wave_service.SurveyOperationError as exc:
            records.discard_changes()
            error = exc
        else:
            flash(
                _("Wave %(code)s created: assign enumerators, then open it.", code=wave.code),
                "success",
            )
            return redirect(url_for("manage.survey", survey_id=survey.id))
    return (
        render_template(
            "manage/wave_form.html",
            survey=survey,
            versions=versions,
            values=values,
            error=error.translated() if error else None,
            error_field=error.field if error else None,
        ),
        400 if error else 200,
    )


@bp.route("/waves/<int:wave_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit_wave(wave_id: int):
    """Change a wave's name or dates, and its questionnaire version before any interview."""
    wave = records.get(Wave, wave_id)
    if wave is None:
        abort(404)
    if not policy.may_manage_wave(current_user, wave):
        abort(403)
    survey = wave.survey
    versions = published_versions(survey.questionnaire_version.slug)
    version = wave.questionnaire_version
    values = {
        "code": wave.code,
        "name": wave.name,
        "start": wave.starts_on.isoformat() if wave.starts_on else "",
        "end": wave.ends_on.isoformat() if wave.ends_on else "",
        "questionnaire": f"{version.slug}@{version.version}",
    }
    error = None
    if request.method == "POST":
        values.update({k: request.form.get(k, "") for k in ("name", "start", "end")})
        values["questionnaire"] = request.form.get("questionnaire") or values["questionnaire"]
        try:
            wave_service.update_wave(
                wave,
                name=values["name"],
                starts_on=values["start"],
                ends_on=values["end"],
                questionnaire=values["questionnaire"],
                user=current_user._get_current_object(),
            )
        except wave_service.SurveyOperationError as exc:
            records.discard_changes()
            error = exc
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("manage.survey", survey_id=survey.id))
    return (
        render_template(
            "manage/wave_form.html",
            survey=survey,
            wave=wave,
            versions=versions,
            values=values,
            error=error.translated() if error else None,
            error_field=error.field if error else None,
        ),
        error.status if error else 200,
    )


@bp.route(
    "/waves/<int:wave_id>/<any(open, close, reopen, release):action>", methods=["GET", "POST"]
)
@roles_required(*MANAGERS)
def wave_action(wave_id: int, action: str):
    """Confirm (GET) and then do (POST) one step of a wave's life."""
    step = ACTIONS.get(action)
    wave = records.get(Wave, wave_id)
    if step is None or wave is None:
        abort(404)
    if not policy.may_manage_wave(current_user, wave):
        abort(403)
    if request.method == "GET":
        return render_template("manage/wave_action.html", wave=wave, action=action)
    try:
        step(wave, user=current_user._get_current_object())
    except wave_service.SurveyOperationError as exc:
        records.discard_changes()
        return (
            render_template(
                "manage/wave_action.html", wave=wave, action=action, error=exc.translated()
            ),
            exc.status,
        )
    flash(_("Done: wave %(code)s.", code=wave.code), "success")
    return redirect(url_for("manage.survey", survey_id=wave.survey_id))
