"""A survey's settings: design, weighting margins, CI method and level, warning rules, fieldwork.

:func:`check_settings` validates a whole settings object field by field (the form and the
commands both go through it); :func:`change_settings` stores a change and, once the survey
has responses, raises its settings version and keeps the old and new settings in the audit
log, so that every estimate and report can say which settings version it used.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from sqlalchemy import select

from ..estimation.design import LONELY_PSU_RULES
from ..extensions import db
from ..models import Response, Survey, User
from .waves import SurveyOperationError, audit_actor

CI_METHODS = ("logit", "likelihood", "asin", "beta", "mean", "xlogit", "wilson")
STRATA = ("", "street")
CLUSTERS = ("", "community", "grid")
WEIGHTING_METHODS = ("rake", "none")
MARGINS = ("street", "sex", "age_group")
TOP_KEYS = ("design", "weighting", "ci_method", "level", "lonely_psu", "reports", "fieldwork")
#: Kept as they are (written by other pages: the fieldwork plan).
PASSED_THROUGH = ("plan",)

DEFAULT_SURVEY_SETTINGS: dict[str, Any] = {
    "design": {"strata": "street", "cluster": "community"},
    "weighting": {"method": "rake", "margins": ["street", "sex", "age_group"]},
    "ci_method": "logit",
    "level": 0.95,
}


def _bad(template: str, field: str, **params) -> SurveyOperationError:
    return SurveyOperationError(template, field=field, **params)


def _choice(value: Any, allowed: tuple[str, ...], field: str) -> str:
    text = "" if value is None else str(value).strip()
    if text not in allowed:
        raise _bad(
            "%(field)s: '%(value)s' is not one of %(allowed)s",
            field,
            value=text[:40],
            allowed=", ".join(f"'{a}'" for a in allowed),
        )
    return text


def check_settings(raw: Any) -> dict:
    """Return ``raw`` checked and normalised; raise :class:`SurveyOperationError` naming the
    first field at fault (``field`` is its dotted path, e.g. ``weighting.margins``)."""
    if not isinstance(raw, dict):
        raise _bad("settings: an object of settings is needed", "settings")
    unknown = sorted(set(raw) - set(TOP_KEYS) - set(PASSED_THROUGH))
    if unknown:
        raise _bad(
            "%(field)s: unknown setting; known: %(known)s",
            unknown[0],
            known=", ".join(TOP_KEYS),
        )
    out: dict[str, Any] = {}
    design = raw.get("design", DEFAULT_SURVEY_SETTINGS["design"])
    if not isinstance(design, dict) or set(design) - {"strata", "cluster"}:
        raise _bad("design: an object with strata and cluster", "design")
    out["design"] = {
        "strata": _choice(design.get("strata", ""), STRATA, "design.strata"),
        "cluster": _choice(design.get("cluster", ""), CLUSTERS, "design.cluster"),
    }
    weighting = raw.get("weighting", DEFAULT_SURVEY_SETTINGS["weighting"])
    if not isinstance(weighting, dict) or set(weighting) - {"method", "margins"}:
        raise _bad("weighting: an object with method and margins", "weighting")
    method = _choice(weighting.get("method", "rake"), WEIGHTING_METHODS, "weighting.method")
    margins = weighting.get("margins", list(MARGINS) if method == "rake" else [])
    if isinstance(margins, str):
        margins = [m.strip() for m in margins.split(",") if m.strip()]
    if not isinstance(margins, list | tuple):
        raise _bad("weighting.margins: a list of margins", "weighting.margins")
    margins = [_choice(m, MARGINS, "weighting.margins") for m in margins]
    if len(set(margins)) != len(margins):
        raise _bad("weighting.margins: a margin is listed twice", "weighting.margins")
    if method == "rake" and not margins:
        raise _bad(
            "weighting.margins: raking needs at least one margin (street, sex, age_group)",
            "weighting.margins",
        )
    out["weighting"] = {"method": method, "margins": margins}
    out["ci_method"] = _choice(raw.get("ci_method", "logit"), CI_METHODS, "ci_method")
    level = raw.get("level", 0.95)
    try:
        level = float(level)
    except (TypeError, ValueError):
        raise _bad("level: '%(value)s' is not a number", "level", value=str(level)[:20]) from None
    if not math.isfinite(level) or not 0.5 <= level <= 0.999:
        raise _bad(
            "level: %(value)s is not a confidence level between 0.5 and 0.999 (e.g. 0.95)",
            "level",
            value=f"{level:g}",
        )
    out["level"] = level
    if "lonely_psu" in raw:
        out["lonely_psu"] = _choice(raw["lonely_psu"], LONELY_PSU_RULES, "lonely_psu")
    if raw.get("reports"):
        from ..reports.model import ReportError, ReportOptions

        try:
            ReportOptions.from_settings({"reports": raw["reports"]})
        except ReportError as exc:
            raise _bad("reports: %(problem)s", "reports", problem=str(exc)) from None
        out["reports"] = copy.deepcopy(raw["reports"])
    if raw.get("fieldwork"):
        from ..fieldwork.settings import FieldworkSettings, FieldworkSettingsError, merge

        if not isinstance(raw["fieldwork"], dict):
            raise _bad("fieldwork: an object of fieldwork settings", "fieldwork")
        try:
            merge(FieldworkSettings(), raw["fieldwork"])
        except FieldworkSettingsError as exc:
            # the problem stays a Text: translated with the message that names it
            raise _bad(
                "fieldwork: %(problem)s", "fieldwork", problem=exc.text or str(exc)
            ) from None
        out["fieldwork"] = copy.deepcopy(raw["fieldwork"])
    for key in PASSED_THROUGH:
        if key in raw:
            out[key] = copy.deepcopy(raw[key])
    return out


def has_responses(survey: Survey) -> bool:
    return (
        db.session.scalar(select(Response.id).where(Response.survey_id == survey.id).limit(1))
        is not None
    )


def change_settings(survey: Survey, raw: Any, user: User | None = None) -> bool:
    """Store new settings for ``survey``; return whether anything changed.

    Once the survey has responses, a change raises ``settings_version`` by one; the audit log
    keeps the old and the new settings with both version numbers either way.
    """
    new = check_settings(raw)
    old = copy.deepcopy(survey.settings or {})
    if new == old:
        return False
    before = survey.settings_version or 1
    after = before + 1 if has_responses(survey) else before
    survey.settings = new
    survey.settings_version = after
    from . import audit

    audit.record(
        "survey_settings_changed",
        f"survey {survey.id}",
        **audit_actor(user),
        survey=survey.id,
        settings_version=after,
        previous_version=before,
        before=old,
        after=new,
    )
    db.session.commit()
    return True


# ----------------------------------------------------------------------------- the form

#: The fieldwork settings the form shows (name, kind); blank keeps the default.
FIELDWORK_FIELDS = (
    ("calling_hours", str),
    ("timezone", str),
    ("max_attempts", int),
    ("claim_minutes", int),
    ("verification_hotline", str),
    ("speeding_share", float),
    ("straightlining_min_items", int),
    ("backcheck_share", float),
    ("far_from_area_km", float),
)
#: The warning rules the form shows (settings["reports"]["warnings"]).
WARNING_FIELDS = (
    ("indicator", str),
    ("bottom", int),
    ("interview_waves", int),
    ("yellow_card_waves", int),
    ("rectification_waves", int),
    ("floor", float),
)


def _number(text: str, kind, field: str):
    try:
        return kind(text)
    except ValueError:
        raise _bad("%(field)s: '%(value)s' is not a number", field, value=text[:20]) from None


def settings_from_form(form, current: dict | None = None) -> dict:
    """Build a settings object from the survey form's fields (named by their dotted path,
    e.g. ``design.strata``), keeping what the form does not show (the plan, other report
    options), and check it. Blank fieldwork and warning fields keep their defaults."""
    current = copy.deepcopy(current or {})
    raw: dict[str, Any] = {k: v for k, v in current.items() if k in ("plan", "lonely_psu")}
    raw["design"] = {
        "strata": form.get("design.strata", ""),
        "cluster": form.get("design.cluster", ""),
    }
    raw["weighting"] = {
        "method": form.get("weighting.method", ""),
        "margins": [m for m in MARGINS if m in form.getlist("weighting.margins")],
    }
    raw["ci_method"] = form.get("ci_method", "")
    raw["level"] = form.get("level", "").strip()
    reports = dict(current.get("reports") or {})
    min_n = form.get("reports.min_reliable_n", "").strip()
    if min_n:
        reports["min_reliable_n"] = _number(min_n, int, "reports.min_reliable_n")
    else:
        reports.pop("min_reliable_n", None)
    warnings = {}
    for name, kind in WARNING_FIELDS:
        value = form.get(f"reports.warnings.{name}", "").strip()
        if value:
            warnings[name] = (
                value if kind is str else _number(value, kind, f"reports.warnings.{name}")
            )
    if warnings:
        reports["warnings"] = warnings
    else:
        reports.pop("warnings", None)
    if reports:
        raw["reports"] = reports
    fieldwork = {}
    for name, kind in FIELDWORK_FIELDS:
        value = form.get(f"fieldwork.{name}", "").strip()
        if value:
            fieldwork[name] = value if kind is str else _number(value, kind, f"fieldwork.{name}")
    if fieldwork:
        raw["fieldwork"] = fieldwork
    return check_settings(raw)
