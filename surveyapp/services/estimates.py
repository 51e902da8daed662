"""Estimates for a survey wave from the database: every indicator and score, compared.

This is where stored responses meet the pure estimation core. The wave's data comes from
:func:`~surveyapp.services.wave_snapshot.extract_wave` (one array per indicator: 1/0, NaN
outside the base or for excluded codes), its weighted design from
:func:`~surveyapp.services.wave_design.build_design`, and the comparisons from
:mod:`~surveyapp.services.comparisons`. :func:`wave_results` computes every indicator overall,
by street and by community, with comparisons against the district and the previous wave and rank
intervals for the league table (what the screens and reports show); :func:`survey_estimates`
the rows the ``surveyapp estimate --survey`` command prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import N_, Text
from ..estimation import Design, Estimate, EstimationError
from ..estimation.compare import Comparison, domain_means
from ..estimation.estimates import svyby, svyciprop, svymean
from ..estimation.ranks import RankInterval, rank_intervals
from ..models import Survey, Wave
from ..questionnaire import Questionnaire
from ..reports.results import ItemResult, WaveResults, WeightingReport
from .comparisons import not_comparable, streets_vs_district, vs_previous_wave
from .wave_data import WaveData
from .wave_design import build_design, survey_settings
from .wave_selection import EstimateRequestError, find_survey_and_wave, wave_version
from .wave_snapshot import current_state, extract_wave

__all__ = [
    "DOMAINS",
    "MIN_RELIABLE_N",
    "SurveyEstimates",
    "survey_estimates",
    "wave_results",
]

DOMAINS = ("street", "community", "grid", "mode", "sex", "age_group")
# Below this many respondents a domain's estimate is marked unreliable in reports.
MIN_RELIABLE_N = 30


def _estimate(fn, y, design, domain=None, **kwargs) -> tuple[Estimate | None, str]:
    try:
        return fn(y, design, domain=domain, **kwargs), ""
    except EstimationError as exc:
        return None, str(exc)


def _by(
    fn, y, groups, design, single_psu: str = "fail", **kwargs
) -> tuple[dict[str, Estimate | None], dict[str, str]]:
    out: dict[str, Estimate | None] = {}
    problems: dict[str, str] = {}
    for key, est in svyby(y, groups, design, fn, errors="keep", single_psu=single_psu, **kwargs):
        if isinstance(est, Exception):
            out[str(key)] = None
            problems[str(key)] = str(est)
        else:
            out[str(key)] = est
    return out, problems


def _counts(data: WaveData, name: str) -> dict[str, int]:
    """Respondents per value of a column, labels as text, sorted."""
    coded = data.codes.get(name)
    if coded is None:
        values, counts = np.unique(data.columns[name].astype(str), return_counts=True)
        return dict(zip(values.tolist(), counts.tolist(), strict=True))
    codes = np.asarray(coded.codes)
    counts = np.bincount(codes[codes >= 0], minlength=len(coded.labels))
    return dict(sorted((str(lb), int(c)) for lb, c in zip(coded.labels, counts, strict=True) if c))


def _wave_items(
    schema: Questionnaire,
    data: WaveData,
    design: Design,
    settings: dict,
    previous: dict[str, ItemResult] | None,
    seed: int,
    incomparable: dict[str, str] | None = None,
) -> list[ItemResult]:
    method = settings.get("ci_method", "logit")
    level = float(settings.get("level", 0.95))
    street = data.domain("street")
    items: list[ItemResult] = []
    for item in (*schema.indicators, *schema.composites):
        is_rate = item in schema.indicators
        y = data.values[item.id]
        fn = svyciprop if is_rate else svymean
        kwargs = {"method": method, "level": level} if is_rate else {"level": level}
        overall, overall_problem = _estimate(fn, y, design, **kwargs)
        # A street interviewed in one community stays in every table (issue 18).
        by_street, problems = _by(fn, y, street, design, single_psu="respondents", **kwargs)
        by_community, community_problems = _by(fn, y, data.domain("community"), design, **kwargs)
        problems.update(community_problems)
        if overall_problem:
            problems["ALL"] = overall_problem
        vs_district = streets_vs_district(design, y, street, by_street, level)
        vs_previous: dict[str, Comparison | None] = {}
        previous_note = (incomparable or {}).get(item.id, "")
        if previous_note:
            vs_previous = {code: None for code in ("ALL", *by_street)}
        elif previous is not None and item.id in previous:
            before = previous[item.id]
            pairs = [("ALL", overall, before.overall)] + [
                (code, est, before.by_street.get(code)) for code, est in by_street.items()
            ]
            for code, now, then in pairs:
                vs_previous[code] = (
                    vs_previous_wave(now, then, level)
                    if now is not None and then is not None
                    else None
                )
        ranks: dict[str, RankInterval] = {}
        estimable = [code for code, est in by_street.items() if est is not None]
        if len(estimable) >= 2:
            try:
                dm = domain_means(design, y, street, levels=estimable)
                intervals = rank_intervals(dm.means, dm.cov, level=level, seed=seed)
                ranks = dict(zip(estimable, intervals, strict=True))
            except EstimationError:
                ranks = {}
        items.append(
            ItemResult(
                id=item.id,
                kind="rate" if is_rate else "score",
                label=dict(item.label),
                target=getattr(item, "target", None),
                overall=overall,
                by_street=by_street,
                by_community=by_community,
                vs_district=vs_district,
                vs_previous=vs_previous,
                ranks=ranks,
                problems=problems,
                vs_previous_note=previous_note,
            )
        )
    return items


def _factor_shares(
    schema: Questionnaire, data: WaveData, design: Design, settings: dict
) -> dict[str, dict[str, dict[str, Estimate | None]]]:
    method = settings.get("ci_method", "logit")
    level = float(settings.get("level", 0.95))
    out: dict[str, dict[str, dict[str, Estimate | None]]] = {}
    for qid, per_code in data.shares.items():
        table: dict[str, dict[str, Estimate | None]] = {"ALL": {}}
        for code, y in per_code.items():
            table["ALL"][code] = _estimate(svyciprop, y, design, method=method, level=level)[0]
            by_street, _ = _by(
                svyciprop,
                y,
                data.domain("street"),
                design,
                single_psu="respondents",
                method=method,
                level=level,
            )
            for street_code, est in by_street.items():
                table.setdefault(street_code, {})[code] = est
        out[qid] = table
    return out


def wave_results(
    survey: Survey,
    wave: Wave,
    *,
    method: str | None = None,
    level: float | None = None,
    seed: int = 20260901,
    with_previous: bool = True,
    previous: WaveResults | None = None,
) -> WaveResults:
    """Every indicator and score of ``wave``: overall, by street and community, compared.

    ``previous``: the previous wave's results on their own (``with_previous=False``, the same
    method, level and seed), when the caller has them already (the reports keep them).
    """
    settings = survey_settings(survey)
    if method:
        settings["ci_method"] = method
    if level:
        settings["level"] = level
    current = current_state(wave)
    schema = wave_version(survey, wave, current).schema
    streets = [s for s in survey.district.children if s.level == "street"]
    data = extract_wave(wave, schema, current)
    design, weighting = build_design(data, streets, settings)

    previous_items = None
    previous_code = None
    incomparable: dict[str, str] = {}
    index = survey.waves.index(wave)
    if with_previous and index > 0:
        before = survey.waves[index - 1]
        previous_code = before.code
        incomparable = not_comparable(wave_version(survey, before).schema, schema)
        try:
            prev = previous or wave_results(
                survey, before, method=method, level=level, seed=seed, with_previous=False
            )
            previous_items = {i.id: i for i in prev.items}
        except EstimateRequestError:
            previous_items = None

    n_by_street = _counts(data, "street")
    n_by_street = {s.code: n_by_street.get(s.code, 0) for s in streets}
    mode_counts = _counts(data, "mode")
    modes, counts = list(mode_counts), list(mode_counts.values())
    communities = {c.code: (s.code, c.name_zh, c.name_en) for s in streets for c in s.children}
    return WaveResults(
        survey_id=survey.id,
        survey_name=survey.name,
        wave_code=wave.code,
        wave_name=wave.name,
        previous_wave_code=previous_code,
        settings=settings,
        weighting=weighting,
        n=data.n,
        n_by_street=n_by_street,
        n_by_mode={str(m): int(c) for m, c in zip(modes, counts, strict=True)},
        streets=[(s.code, s.name_zh, s.name_en) for s in streets],
        communities=communities,
        items=_wave_items(schema, data, design, settings, previous_items, seed, incomparable),
        factor_shares=_factor_shares(schema, data, design, settings),
    )


@dataclass(frozen=True)
class SurveyEstimates:
    """What ``surveyapp estimate --survey`` prints: the estimates of a wave's indicators,
    each as ``(indicator, domain, estimate)``, and notes on what could not be estimated."""

    survey: Survey
    wave: Wave
    settings: dict
    weighting: WeightingReport
    n: int
    rows: list[tuple[str, str, Estimate]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def survey_estimates(
    survey_id: int,
    wave: str | None = None,
    by: str | None = None,
    method: str | None = None,
    level: float | None = None,
    indicators: tuple[str, ...] = (),
) -> SurveyEstimates:
    """Estimate every indicator (or those named) of a survey wave from the database.

    The rows of each indicator are its domains (when ``by`` is given) followed by ``ALL``.
    """
    survey, wave_obj = find_survey_and_wave(survey_id, wave)
    if by is not None and by not in DOMAINS:
        raise EstimateRequestError(
            Text(
                N_("--by must be one of %(domains)s, not '%(by)s'"),
                domains=", ".join(DOMAINS),
                by=by,
            )
        )
    settings = survey_settings(survey)
    if method:
        settings["ci_method"] = method
    if level:
        settings["level"] = level
    current = current_state(wave_obj)
    schema = wave_version(survey, wave_obj, current).schema
    known = [i.id for i in (*schema.indicators, *schema.composites)]
    unknown = [i for i in indicators if i not in known]
    if unknown:
        raise EstimateRequestError(
            Text(
                N_("unknown indicator(s) %(unknown)s; known: %(known)s"),
                unknown=", ".join(unknown),
                known=", ".join(known),
            )
        )
    streets = [s for s in survey.district.children if s.level == "street"]
    data = extract_wave(wave_obj, schema, current)
    design, weighting = build_design(data, streets, settings)
    ci_method = settings["ci_method"]
    lvl = float(settings["level"])
    rows: list[tuple[str, str, Estimate]] = []
    notes: list[str] = []
    index = survey.waves.index(wave_obj)
    incomparable: dict[str, str] = {}
    if index > 0:
        before = survey.waves[index - 1]
        incomparable = {
            item: f"not comparable with the previous wave {before.code}: {reason}"
            for item, reason in not_comparable(wave_version(survey, before).schema, schema).items()
        }
    counted = _counts(data, "street")
    missing = [s.code for s in streets if not counted.get(s.code)]
    if missing:
        notes.append(
            f"ALL covers {len(streets) - len(missing)} of {len(streets)} streets: no counted "
            f"responses from {', '.join(missing)}"
        )
    for item in (*schema.indicators, *schema.composites):
        if indicators and item.id not in indicators:
            continue
        if item.id in incomparable:
            notes.append(f"{item.id}: {incomparable[item.id]}")
        is_rate = item in schema.indicators
        fn = svyciprop if is_rate else svymean
        kwargs = {"method": ci_method, "level": lvl} if is_rate else {"level": lvl}
        y = data.values[item.id]
        if by:
            table, problems = _by(
                fn,
                y,
                data.domain(by),
                design,
                single_psu="respondents" if by == "street" else "fail",
                **kwargs,
            )
            for domain, est in table.items():
                if est is not None:
                    rows.append((item.id, domain, est))
            notes.extend(f"{item.id} {d}: {msg}" for d, msg in problems.items())
        est, problem = _estimate(fn, y, design, **kwargs)
        if est is not None:
            rows.append((item.id, "ALL", est))
        else:
            notes.append(f"{item.id} ALL: {problem}")
    return SurveyEstimates(
        survey=survey,
        wave=wave_obj,
        settings=settings,
        weighting=weighting,
        n=data.n,
        rows=rows,
        notes=notes,
    )
