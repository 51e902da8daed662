"""Estimates for a survey wave from the database: extract arrays, weight, estimate, compare.

This is the one place where stored responses meet the pure estimation core. It extracts one
array per indicator (1/0, NaN outside the base or for excluded codes), builds the survey's
design (strata = street, PSU = community by default), weights it (base weights from the
streets' populations, then raking to street, sex and age-group margins of the census counts),
and computes every indicator overall, by street and by community, with comparisons against
the district and the previous wave and rank intervals for the league table.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Hashable
from dataclasses import asdict
from typing import Any

import numpy as np

from ..caching import BoundedCache, array_key
from ..errors import UserError
from ..estimation import Categorical, Design, Estimate, EstimationError
from ..estimation.compare import (
    Comparison,
    consistent_with_interval,
    difference_between_waves,
    difference_from_overall,
    differences_from_overall,
    domain_means,
)
from ..estimation.estimates import svyby, svyciprop, svymean
from ..estimation.ranks import RankInterval, rank_intervals
from ..estimation.weighting import base_weights, effective_n, kish_deff, rake
from ..extensions import db
from ..models import Locality, QuestionnaireVersion, Survey, Wave
from ..questionnaire import Questionnaire
from ..questionnaire.diff import indicator_comparable, indicator_definition
from ..reports.cells import CsvDictWriter
from ..reports.results import ItemResult, WaveResults, WeightingReport
from .wave_data import WaveData
from .wave_snapshot import current_state, extract_wave, load_design, save_design, version_counts

DEFAULT_SETTINGS = {
    "design": {"strata": "street", "cluster": "community"},
    "weighting": {"method": "rake", "margins": ["street", "sex", "age_group"]},
    "ci_method": "logit",
    "level": 0.95,
}
DOMAINS = ("street", "community", "grid", "mode", "sex", "age_group")
# Below this many respondents a domain's estimate is marked unreliable in reports.
MIN_RELIABLE_N = 30


class EstimateRequestError(UserError):
    """The request cannot be answered (unknown survey or wave, no data); the message says why."""


def survey_settings(survey: Survey) -> dict:
    """The survey's estimation settings, completed with the defaults, with the number of the
    settings version they are (every estimate and report says which one it used)."""
    settings = json.loads(json.dumps(DEFAULT_SETTINGS))
    for key, value in (survey.settings or {}).items():
        if isinstance(value, dict) and isinstance(settings.get(key), dict):
            settings[key].update(value)
        else:
            settings[key] = value
    settings["settings_version"] = survey.settings_version or 1
    return settings


def _population_cells(streets: list[Locality]) -> dict[tuple[str, str, str], float]:
    cells: dict[tuple[str, str, str], float] = {}
    for street in streets:
        for p in street.populations:
            cells[(street.code, p.sex, p.age_group)] = float(p.count)
    return cells


#: Weighted designs by the content of the wave data and the weighting inputs.
_DESIGNS: BoundedCache[tuple[Design, WeightingReport]] = BoundedCache(8)


def _design_inputs(data: WaveData) -> str:
    """A content key of what weighting reads of the wave data: the snapshot's name and
    checksum when the data is exactly a snapshot's, else the respondents and their coded
    localities and groups."""
    if data.content_key:
        return data.content_key
    parts: list[Any] = [data.response_ids]
    if data.codes:
        for name in sorted(data.codes):
            parts += [name, data.codes[name].codes, list(data.codes[name].labels)]
    else:
        parts += [np.asarray(data.columns[name]) for name in sorted(data.columns)]
    return array_key(*parts)


def build_design(
    data: WaveData, streets: list[Locality], settings: dict
) -> tuple[Design, WeightingReport]:
    """Weight the wave: base weights from street populations, then the survey's weighting.

    The result is kept for the same extracted wave, settings and population counts (raking a
    large wave takes a while and every table of a report needs the same weights): in memory,
    and, when the wave came from its snapshot file, on disk next to it, so that a new process
    does not rake again (:func:`surveyapp.services.wave_snapshot.load_design`).
    """
    key = (
        _design_inputs(data),
        json.dumps(settings, sort_keys=True, default=str),
        tuple(sorted(_population_cells(streets).items())),
        tuple(sorted((s.code, s.population) for s in streets)),
    )
    hit = _DESIGNS.get(key)
    if hit is not None:
        return hit
    stored_key = json.dumps([key[1], key[2], key[3]], default=str)
    loaded = load_design(data, stored_key)
    if loaded is not None:
        design, report = loaded
    else:
        design, report = _build_design(data, streets, settings)
        save_design(data, stored_key, (design, report))
    return _DESIGNS.put(key, (design, report))


def _build_design(
    data: WaveData, streets: list[Locality], settings: dict
) -> tuple[Design, WeightingReport]:
    if data.n < 2:
        raise EstimateRequestError(
            f"this wave has {data.n} eligible response(s): at least 2 are needed to estimate"
        )
    street = _design_column(data, "street")
    cells = _population_cells(streets)
    street_pop: dict[Hashable, float] = {}
    for (code, _sex, _age), count in cells.items():
        street_pop[code] = street_pop.get(code, 0.0) + count
    for s in streets:
        if s.code not in street_pop and s.population:
            street_pop[s.code] = float(s.population)
    present = set(data.columns["street"].tolist())
    missing = sorted(present - set(street_pop))
    if missing:
        raise EstimateRequestError(
            "no population count for street(s) "
            + ", ".join(missing)
            + ": import them with `surveyapp localities import`"
        )
    weights = base_weights(
        street, {k: v for k, v in street_pop.items() if k in present}, partial=True
    )
    design_settings = settings.get("design", {})
    strata = _design_column(data, design_settings.get("strata") or "")
    cluster_name = design_settings.get("cluster") or ""
    clusters = [_design_column(data, cluster_name)] if cluster_name in data.columns else None
    design = Design.create(
        weights=weights,
        strata=strata,
        clusters=clusters,
        lonely_psu=settings.get("lonely_psu", "adjust"),
    )
    weighting = settings.get("weighting", {})
    method = weighting.get("method", "none")
    note = ""
    margins_used: tuple[str, ...] = ()
    if method == "rake" and cells:
        margins = []
        for name in weighting.get("margins", ["street", "sex", "age_group"]):
            totals: dict[Hashable, float] = {}
            for (code, sex, age), count in cells.items():
                if code not in present:
                    continue
                key = {"street": code, "sex": sex, "age_group": age}.get(name)
                if key is None:
                    raise EstimateRequestError(f"unknown weighting margin '{name}'")
                totals[key] = totals.get(key, 0.0) + count
            margins.append((_design_column(data, name), totals))
            margins_used += (name,)
        try:
            design = rake(design, margins, maxit=50, epsilon=1e-6)
        except EstimationError as exc:
            note = f"raking failed ({exc}); base weights used"
            margins_used = ()
            method = "base"
    elif method == "rake":
        note = "no population counts by sex and age group: base weights only"
        method = "base"
    w = np.asarray(design.weights)
    return design, WeightingReport(
        method=method,
        margins=margins_used,
        kish_deff=float(kish_deff(w)),
        effective_n=float(effective_n(w)),
        note=note,
    )


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


def wave_version(survey: Survey, wave: Wave, current: tuple | None = None) -> QuestionnaireVersion:
    """The questionnaire version a wave was collected with.

    That of most of the wave's responses not rejected (the newest on a tie), or the survey's
    version when the wave has none yet. ``current`` is what
    :func:`~surveyapp.services.wave_snapshot.current_state` returns, when the caller already
    asked (estimating a wave needs both: one pass over its responses).
    """
    counts = version_counts((current if current is not None else current_state(wave))[0])
    if not counts:
        return wave.questionnaire_version
    version_id = max(counts, key=lambda v: (counts[v], v))
    if version_id == wave.questionnaire_version_id:
        return wave.questionnaire_version
    return db.session.get(QuestionnaireVersion, version_id)


def _composite_definition(item: Any, schema: Questionnaire) -> dict:
    question = schema.questions.get(item.question)
    return {
        "question": item.question,
        "points": sorted((str(k), float(v)) for k, v in item.points.items()),
        "excluded": sorted(item.excluded),
        "question_type": question.type if question else None,
        "choices": [c.code for c in question.choices] if question else None,
    }


def not_comparable(old: Questionnaire, new: Questionnaire) -> dict[str, str]:
    """Items of ``new`` that cannot be compared with a wave collected with ``old``, and why.

    An indicator is comparable when it counts the same question (type, wording, codes) with
    the same positive and excluded codes among the same base
    (:func:`surveyapp.questionnaire.diff.indicator_comparable`); a composite score when it
    scores the same question's codes with the same points.
    """
    if old is new:
        return {}
    out: dict[str, str] = {}
    old_indicators = {i.id: i for i in old.indicators}
    for item in new.indicators:
        before = old_indicators.get(item.id)
        if before is None:
            out[item.id] = (
                f"indicator '{item.id}' is not in the previous wave's questionnaire "
                f"({old.id} version {old.version})"
            )
            continue
        ok, reason = indicator_comparable(
            indicator_definition(before, old), indicator_definition(item, new)
        )
        if not ok:
            out[item.id] = reason
    old_composites = {c.id: c for c in old.composites}
    for item in new.composites:
        before = old_composites.get(item.id)
        if before is None:
            out[item.id] = (
                f"score '{item.id}' is not in the previous wave's questionnaire "
                f"({old.id} version {old.version})"
            )
        elif _composite_definition(before, old) != _composite_definition(item, new):
            out[item.id] = (
                f"score '{item.id}' is not comparable: its question, codes or "
                "points changed between the two questionnaire versions"
            )
    return out


def _counts(data: WaveData, name: str) -> dict[str, int]:
    """Respondents per value of a column, labels as text, sorted."""
    coded = data.codes.get(name)
    if coded is None:
        values, counts = np.unique(data.columns[name].astype(str), return_counts=True)
        return dict(zip(values.tolist(), counts.tolist(), strict=True))
    codes = np.asarray(coded.codes)
    counts = np.bincount(codes[codes >= 0], minlength=len(coded.labels))
    return dict(sorted((str(lb), int(c)) for lb, c in zip(coded.labels, counts, strict=True) if c))


def _design_column(data: WaveData, name: str) -> Categorical | np.ndarray | None:
    """A design variable: coded when every respondent has one (faster to group by)."""
    if name not in data.columns:
        return None
    coded = data.codes.get(name)
    if coded is not None and not (np.asarray(coded.codes) < 0).any():
        return coded
    return data.columns[name]


def streets_vs_district(
    design: Design,
    y: np.ndarray,
    street: Categorical | np.ndarray,
    by_street: dict[str, Estimate | None],
    level: float,
) -> dict[str, Comparison | None]:
    """Each estimable street against the whole district (the street is part of it).

    The test uses the street's degrees of freedom, those of the street's interval printed on
    the same line (PSUs minus strata among the street's respondents), not the district's:
    the difference's variance is dominated by the street's, and a test with the district's
    63 degrees of freedom called differences significant that the street's own interval
    (3 to 6 degrees of freedom) does not support (issue 18; docs/methods.md).
    """
    out: dict[str, Comparison | None] = {code: None for code in by_street}
    estimable = [code for code, est in by_street.items() if est is not None]
    if isinstance(street, Categorical):
        labels = {str(lb): lb for lb in street.labels}
        levels = [labels.get(code, code) for code in estimable]
    else:
        levels = list(estimable)
    dfs = {lv: by_street[code].df for lv, code in zip(levels, estimable, strict=True)}
    try:
        found = differences_from_overall(design, y, street, levels, level=level, df=dfs)
        out.update({str(k): v for k, v in found.items()})
    except EstimationError:
        labels_all = street.as_array() if isinstance(street, Categorical) else street
        for lv, code in zip(levels, estimable, strict=True):
            try:
                out[code] = difference_from_overall(
                    design, y, labels_all == code, level=level, df=dfs[lv]
                )
            except EstimationError:
                out[code] = None
    for code, cmp in out.items():
        est = by_street.get(code)
        if cmp is not None and est is not None:
            out[code] = consistent_with_interval(cmp, est, est.value - cmp.difference)
    return out


def vs_previous_wave(now: Estimate, then: Estimate, level: float) -> Comparison | None:
    """An estimate against the previous wave's, never significant inside its own interval;
    None when the two have no degrees of freedom between them (one respondent each)."""
    try:
        cmp = difference_between_waves(now, then, level=level)
    except EstimationError:
        return None
    return consistent_with_interval(cmp, now, then.value)


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


def find_survey_and_wave(survey_id: int, wave_code: str | None) -> tuple[Survey, Wave]:
    """The survey ``survey_id`` and its wave ``wave_code`` (default: its latest wave);
    EstimateRequestError naming what is missing."""
    survey = db.session.get(Survey, survey_id)
    if survey is None:
        raise EstimateRequestError(f"no survey with id {survey_id} (see `surveyapp surveys list`)")
    if not survey.waves:
        raise EstimateRequestError(f"survey {survey_id} has no wave")
    if wave_code is None:
        return survey, survey.waves[-1]
    for wave in survey.waves:
        if wave.code == wave_code:
            return survey, wave
    raise EstimateRequestError(
        f"survey {survey_id} has no wave '{wave_code}'; its waves: "
        + ", ".join(w.code for w in survey.waves)
    )


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


# ----------------------------------------------------------------------------- CLI output

ROW_KEYS = ("domain", "n", "estimate", "se", "ci_low", "ci_high", "df", "deff", "fallback")


def _clean(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _row(indicator: str, domain: str, est: Estimate) -> dict:
    return {
        "indicator": indicator,
        "domain": domain,
        "n": est.n,
        "estimate": _clean(est.value),
        "se": _clean(est.se),
        "ci_low": _clean(est.ci_low),
        "ci_high": _clean(est.ci_high),
        "df": _clean(est.df),
        "deff": _clean(est.deff),
        "fallback": est.fallback,
    }


def estimate_survey(
    survey_id: int,
    wave: str | None = None,
    by: str | None = None,
    method: str | None = None,
    level: float | None = None,
    fmt: str = "table",
    indicators: tuple[str, ...] = (),
) -> str:
    """Estimate every indicator of a survey wave from the database; return the formatted text.

    The rows of each indicator are its domains (when ``by`` is given) followed by ``ALL``.
    """
    survey, wave_obj = find_survey_and_wave(survey_id, wave)
    if by is not None and by not in DOMAINS:
        raise EstimateRequestError(f"--by must be one of {', '.join(DOMAINS)}, not '{by}'")
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
            f"unknown indicator(s) {', '.join(unknown)}; known: {', '.join(known)}"
        )
    streets = [s for s in survey.district.children if s.level == "street"]
    data = extract_wave(wave_obj, schema, current)
    design, weighting = build_design(data, streets, settings)
    ci_method = settings["ci_method"]
    lvl = float(settings["level"])
    rows: list[dict] = []
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
                    rows.append(_row(item.id, domain, est))
            notes.extend(f"{item.id} {d}: {msg}" for d, msg in problems.items())
        est, problem = _estimate(fn, y, design, **kwargs)
        if est is not None:
            rows.append(_row(item.id, "ALL", est))
        else:
            notes.append(f"{item.id} ALL: {problem}")
    header = {
        "survey": {"id": survey.id, "name": survey.name},
        "wave": wave_obj.code,
        "settings_version": settings["settings_version"],
        "settings": settings,
        "weighting": asdict(weighting),
        "n": data.n,
    }
    if fmt == "json":
        return json.dumps(
            {**header, "estimates": rows, "notes": notes}, ensure_ascii=False, indent=2
        )
    if fmt == "csv":
        buf = io.StringIO()
        buf.write(
            f"# survey {survey.id} {survey.name}; wave {wave_obj.code}; "
            f"settings version {settings['settings_version']}; "
            f"strata {settings['design'].get('strata')}; "
            f"PSU {settings['design'].get('cluster')}; "
            f"CI {ci_method} {lvl:g}; weighting {weighting.method} "
            f"{'+'.join(weighting.margins)}; n {data.n}\n"
        )
        writer = CsvDictWriter(buf, fieldnames=("indicator", *ROW_KEYS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        buf.writelines(f"# note: {n}\n" for n in notes)
        return buf.getvalue()
    lines = [
        f"Survey {survey.id} {survey.name}, wave {wave_obj.code}: {data.n} eligible responses",
        f"Design: strata={settings['design'].get('strata')} "
        f"PSU={settings['design'].get('cluster')}; weighting: {weighting.method} "
        f"({', '.join(weighting.margins) or 'no margins'}), Kish deff {weighting.kish_deff:.2f}, "
        f"effective n {weighting.effective_n:.0f}; CI: {ci_method} {lvl:.0%}",
        "",
        f"{'indicator':<30} {'domain':<16} {'n':>6} {'estimate':>9} {'CI':>19} {'deff':>6}",
    ]
    for r in rows:
        ci = f"{r['ci_low']:.4f}–{r['ci_high']:.4f}" if r["ci_low"] is not None else "–"
        deff = f"{r['deff']:.2f}" if r["deff"] is not None else "–"
        lines.append(
            f"{r['indicator']:<30} {r['domain']:<16} {r['n']:>6} "
            f"{r['estimate']:>9.4f} {ci:>19} {deff:>6}"
        )
    lines.extend(f"note: {n}" for n in notes)
    return "\n".join(lines) + "\n"
