"""The annual assessment of a district's streets: quarterly sanctions and yearly verdicts.

Gathers each quarter's league-table values (one wave per quarter, placed by its start date),
pools each year's waves into one design (:mod:`surveyapp.estimation.pooling`) for the annual
rate and composite score per street, and applies the survey's assessment rules
(:mod:`surveyapp.reports.sanctions`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import select

from ..errors import N_, Text
from ..estimation import Estimate
from ..estimation.estimates import svyby, svyciprop, svymean
from ..estimation.pooling import WavePart, pool_waves
from ..extensions import db
from ..models import Locality, Survey, Wave
from ..reports.sanctions import (
    AnnualFigures,
    AssessmentError,
    QuarterFigures,
    assess,
    rules_from_settings,
)
from .estimates import wave_results
from .wave_design import build_design, survey_settings
from .wave_selection import EstimateRequestError, wave_version
from .wave_snapshot import extract_wave

__all__ = ["annual_assessment"]


def _quarter(wave: Wave) -> tuple[int, int]:
    if wave.starts_on is None:
        raise EstimateRequestError(
            Text(
                N_(
                    "wave %(wave)s has no start date: the assessment places waves in quarters "
                    "by date"
                ),
                wave=wave.code,
            )
        )
    return wave.starts_on.year, (wave.starts_on.month - 1) // 3 + 1


def _estimate_dict(est: Estimate | None) -> dict | None:
    if est is None:
        return None
    return {
        "value": est.value,
        "ci_low": est.ci_low,
        "ci_high": est.ci_high,
        "n": est.n,
        "df": est.df,
        "fallback": est.fallback,
    }


def pooled_year(survey: Survey, waves: list[Wave], items: tuple[str, str]) -> dict[str, Any]:
    """Pool ``waves`` (one year's) and estimate ``items`` (rate id, score id) by street."""
    settings = survey_settings(survey)
    streets = [s for s in survey.district.children if s.level == "street"]
    parts = []
    for wave in waves:
        schema = wave_version(survey, wave).schema
        known = {i.id for i in (*schema.indicators, *schema.composites)}
        missing = [i for i in items if i not in known]
        if missing:
            raise EstimateRequestError(
                Text(
                    N_(
                        "wave %(wave)s: the questionnaire has no item %(items)s "
                        "(survey settings: assessment)"
                    ),
                    wave=wave.code,
                    items=", ".join(missing),
                )
            )
        data = extract_wave(wave, schema)
        design, _ = build_design(data, streets, settings)
        parts.append(
            WavePart(
                label=wave.code,
                weights=design.weights,
                strata=data.columns["street"],
                clusters=data.columns["community"],
                values={
                    "street": data.columns["street"],
                    items[0]: data.values[items[0]],
                    items[1]: data.values[items[1]],
                },
            )
        )
    pooled = pool_waves(parts)
    street = np.asarray(pooled.columns["street"]).astype(str)
    rate_item, score_item = items
    out: dict[str, Any] = {"pooled": pooled, "rate": {}, "score": {}}
    for name, fn, kwargs in (
        (rate_item, svyciprop, {"method": settings.get("ci_method", "logit")}),
        (score_item, svymean, {}),
    ):
        y = np.asarray(pooled.columns[name], dtype=float)
        key = "rate" if name == rate_item and fn is svyciprop else "score"
        for code, est in svyby(
            y,
            street,
            pooled.design,
            fn,
            errors="keep",
            single_psu="respondents",
            level=float(settings.get("level", 0.95)),
            **kwargs,
        ):
            out[key][str(code)] = est if isinstance(est, Estimate) else None
    return out


def annual_assessment(district_code: str, year: int, until: Any = None) -> dict:
    """The assessment of ``year`` for the streets of the district ``district_code``.

    ``until`` (a date): only the waves starting on or before it (a report's wave: the year so
    far).
    """
    district = db.session.scalar(select(Locality).where(Locality.code == district_code))
    if district is None:
        raise EstimateRequestError(Text(N_("no locality with code %(code)s"), code=district_code))
    surveys = list(db.session.scalars(select(Survey).where(Survey.district_id == district.id)))
    if not surveys:
        raise EstimateRequestError(
            Text(N_("no survey of the district %(code)s"), code=district_code)
        )
    survey = surveys[0]
    try:
        rules = rules_from_settings(survey.settings)
    except AssessmentError as exc:
        raise EstimateRequestError(str(exc)) from None
    first = year - max(rules.veto_years, rules.veto_score_years)  # runs may start a year early
    waves = [
        w
        for s in surveys
        for w in s.waves
        if w.starts_on
        and first <= w.starts_on.year <= year
        and (until is None or w.starts_on <= until)
    ]
    if not any(_quarter(w)[0] == year for w in waves):
        raise EstimateRequestError(
            Text(
                N_("no wave of the district %(code)s starts in %(year)s"),
                code=district_code,
                year=year,
            )
        )
    streets = [s for s in district.children if s.level == "street"]
    quarters = []
    for wave in waves:
        results = wave_results(wave.survey, wave, with_previous=False)
        try:
            item = results.item(rules.quarterly_indicator)
        except StopIteration:
            raise EstimateRequestError(
                Text(
                    N_(
                        "survey settings: assessment.quarterly_indicator '%(item)s' is not an item "
                        "of wave %(wave)s"
                    ),
                    item=rules.quarterly_indicator,
                    wave=wave.code,
                )
            ) from None
        y, q = _quarter(wave)
        quarters.append(
            QuarterFigures(
                y,
                q,
                {c: (e.value if e is not None else None) for c, e in item.by_street.items()},
                wave=wave.code,
            )
        )
    annual, pooled = [], {}
    for y in range(year - max(rules.veto_score_years, 1) + 1, year + 1):
        of_year = [w for w in waves if _quarter(w)[0] == y]
        if not of_year:
            continue
        figures = pooled_year(survey, of_year, (rules.disqualify_indicator, rules.veto_score))
        pooled[y] = (of_year, figures)
        annual.append(
            AnnualFigures(
                y,
                rate={c: (e.value if e else None) for c, e in figures["rate"].items()},
                score={c: (e.value if e else None) for c, e in figures["score"].items()},
            )
        )
    try:
        verdicts = assess([s.code for s in streets], quarters, annual, year, rules)
    except AssessmentError as exc:
        raise EstimateRequestError(str(exc)) from None
    this_year = pooled.get(year, ([], {"rate": {}, "score": {}}))[1]
    rows = []
    for s in streets:
        v = verdicts[s.code]
        rows.append(
            {
                "code": s.code,
                "name": s.name_zh,
                "quarters": v.quarters,
                "listings": v.listings,
                "annual_rate": _estimate_dict(this_year["rate"].get(s.code)),
                "annual_score": _estimate_dict(this_year["score"].get(s.code)),
                "disqualified": v.disqualified,
                "veto": v.veto,
                "reasons": v.reasons,
            }
        )
    from dataclasses import asdict

    return {
        "district": district_code,
        "year": year,
        "rules": asdict(rules),
        "quarters": {q.label: q.wave for q in sorted(quarters, key=lambda q: q.index)},
        "annual_waves": {str(y): [w.code for w in ws] for y, (ws, _f) in pooled.items()},
        "pooling": "each year's waves pooled, wave x street strata, communities as PSUs, "
        "weights / number of waves (docs/methods.md)",
        "streets": rows,
    }
