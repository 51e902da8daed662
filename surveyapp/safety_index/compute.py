"""Computing the safety index of one month: scores, points, ranks, and their uncertainty.

Each indicator's month value becomes a normalised value (against a target, per 10,000 residents,
relative to the district, or the change on the same month last year), then a score in [0, 1]
between its caps, then points: ``group weight x indicator weight / group's weights x score``.
The index (0-100) is the sum of the points. Administrative series are taken as exact; the
survey part has sampling error, which is carried into the index by simulation: each draw takes
every survey estimate from a split-normal distribution whose 2.5% and 97.5% quantiles are the
estimate's confidence bounds (so asymmetric intervals near 100% stay asymmetric), with a fixed
seed, and the index, ranks and differences are recomputed per draw.

References
----------
Goldstein, H. & Spiegelhalter, D. J. (1996). League tables and their limitations: statistical
issues in comparisons of institutional performance. JRSS A 159(3), 385-443 (rank intervals
by simulation).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from statistics import NormalDist

import numpy as np

from ..errors import Text
from .definition import Definition, Indicator

__all__ = [
    "Component",
    "MonthIndex",
    "Street",
    "StreetIndex",
    "SurveyValue",
    "as_dict",
    "compute_month",
    "MISSING_NOTES",
    "missing_note",
    "month_add",
    "streets_to_watch",
    "top_changes",
    "with_changes",
]


def month_add(month: str, delta: int) -> str:
    """``"2026-11"`` plus ``delta`` months."""
    year, mon = int(month[:4]), int(month[5:7])
    total = year * 12 + mon - 1 + delta
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


@dataclass(frozen=True)
class Street:
    code: str
    name_zh: str
    name_en: str = ""
    population: float | None = None

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name_zh


@dataclass(frozen=True)
class SurveyValue:
    """A street's survey estimate and its confidence interval at ``level``."""

    value: float
    low: float
    high: float
    level: float = 0.95


@dataclass(frozen=True)
class Component:
    """One indicator's part of a street's index."""

    indicator: str
    group: str
    value: float | None  # the month's value as used (carried or not); None when missing
    normalised: float | None
    score: float | None
    points: float
    max_points: float  # the points at a score of 1, after any reweighting
    points_low: float
    points_high: float
    note: str = ""  # how a missing value was handled ("" when the month had a value)
    missing: tuple[str, ...] = ()  # the same as codes: "carried:2026-10", "reweight", ...
    change: float | None = None  # points minus last month's points (same indicator)


@dataclass(frozen=True)
class StreetIndex:
    code: str
    name_zh: str
    name_en: str
    index: float
    index_low: float
    index_high: float
    rank: int
    rank_low: int
    rank_high: int
    components: tuple[Component, ...]
    group_points: Mapping[str, float]
    # Compared with the mean of the streets' indices over the simulation: "above", "below"
    # or "" (the difference is within the survey's sampling error).
    vs_mean: str = ""
    # Whether this street's index is above the next-ranked street's in at least ``level`` of
    # the draws (None for the last street).
    above_next: bool | None = None
    change: float | None = None
    rank_change: int | None = None

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name_zh


@dataclass(frozen=True)
class MonthIndex:
    definition_id: str
    definition_version: int
    month: str
    streets: tuple[StreetIndex, ...]  # in rank order
    level: float
    draws: int
    seed: int
    #: Which waves the survey part comes from: texts translated where they are shown.
    survey_note: tuple[Text, ...] = ()
    previous_month: str | None = None
    definition_changes: tuple[str, ...] = ()  # from last month's version, if it differs

    def street(self, code: str) -> StreetIndex:
        return next(s for s in self.streets if s.code == code)


# ------------------------------------------------------------------------------ computing

#: How a missing value was handled, in Chinese (the JSON's ``note``); reports translate the
#: parts themselves (see :func:`missing_note`).
MISSING_NOTES = {
    "carried": "缺当月数据，沿用{month}数据",
    "reweight": "缺数据，权重分给同组其他指标",
    "worst": "缺数据，按0分计",
    "population": "缺常住人口数，无法折算每万人",
    "no_base": "缺去年同月数据",
    "survey": "该街道无调查估计（或样本太少，无置信区间）",
}


def missing_note(parts: tuple[str, ...], texts: Mapping[str, str] = MISSING_NOTES,
                 sep: str = "；") -> str:  # fmt: skip
    """Words for a component's ``missing`` parts (``"carried:2026-10"``, ``"reweight"``, …)."""
    out = []
    for part in parts:
        code, _, month = part.partition(":")
        out.append(texts[code].format(month=month))
    return sep.join(out)


def _score(x: np.ndarray, indicator: Indicator) -> np.ndarray:
    low, high = indicator.normalisation.caps
    if indicator.direction == "positive":
        s = (x - low) / (high - low)
    else:
        s = (high - x) / (high - low)
    return np.clip(s, 0.0, 1.0)


def _normalise(
    values: np.ndarray,
    indicator: Indicator,
    populations: np.ndarray,
    base: np.ndarray | None,
) -> np.ndarray:
    """Normalised values (draws x streets) from month values; NaN where not computable."""
    norm = indicator.normalisation
    with np.errstate(invalid="ignore", divide="ignore"):
        if norm.kind == "target":
            return values / norm.target
        if norm.kind == "per_10k":
            return values / populations * 10_000.0
        if norm.kind == "district":
            count = np.isfinite(values).sum(axis=1, keepdims=True)
            total = np.nansum(values, axis=1, keepdims=True)
            mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
            return np.where(mean > 0, values / np.where(mean > 0, mean, 1.0), 1.0) + values * 0
        # yoy: the change on the same month last year, against at least 1 (a count of 0)
        return (values - base) / np.maximum(base, 1.0)


def _series_value(
    series: Mapping[str, Mapping[str, float]], street: str, month: str
) -> float | None:
    value = series.get(street, {}).get(month)
    return None if value is None or not math.isfinite(value) else float(value)


def _series_x(
    indicator: Indicator,
    series: Mapping[str, Mapping[str, float]],
    streets: tuple[Street, ...],
    populations: np.ndarray,
    month: str,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Month values, normalised values and a reason per street where x is missing."""
    values = np.array([[_nan(_series_value(series, s.code, month)) for s in streets]])
    base = None
    reasons = ["" if math.isfinite(v) else "missing" for v in values[0]]
    if indicator.normalisation.kind == "yoy":
        last_year = month_add(month, -12)
        base = np.array(
            [[_nan(_series_value(series, s.code, last_year)) for s in streets]], dtype=float
        )
        reasons = [
            r or ("no_base" if not math.isfinite(b) else "")
            for r, b in zip(reasons, base[0], strict=True)
        ]
    if indicator.normalisation.kind == "per_10k":
        reasons = [
            r or ("population" if not (p > 0) else "")
            for r, p in zip(reasons, populations[0], strict=True)
        ]
    x = _normalise(values, indicator, populations, base)
    return values, x, reasons


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def _survey_draws(
    values: Mapping[str, SurveyValue],
    streets: tuple[Street, ...],
    rng: np.random.Generator,
    draws: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Point values (1 x S) and simulated values (draws x S) of one survey item."""
    point = np.full((1, len(streets)), math.nan)
    sim = np.full((draws, len(streets)), math.nan)
    z = rng.standard_normal((draws, len(streets)))  # drawn for every street: stable streams
    for j, s in enumerate(streets):
        sv = values.get(s.code)
        if sv is None or not all(map(math.isfinite, (sv.value, sv.low, sv.high))):
            continue  # no estimate, or one without an interval (too few answers): missing
        point[0, j] = sv.value
        zc = NormalDist().inv_cdf(1 - (1 - sv.level) / 2)
        up = max(sv.high - sv.value, 0.0) / zc
        down = max(sv.value - sv.low, 0.0) / zc
        zj = z[:, j]
        sim[:, j] = np.maximum(sv.value + np.where(zj > 0, zj * up, zj * down), 0.0)
    return point, sim


def compute_month(
    definition: Definition,
    month: str,
    streets: tuple[Street, ...] | list[Street],
    series: Mapping[str, Mapping[str, Mapping[str, float]]],
    survey: Mapping[str, Mapping[str, SurveyValue]],
    *,
    survey_note: tuple[Text, ...] = (),
    draws: int | None = None,
    seed: int | None = None,
) -> MonthIndex:
    """Compute the index of ``month`` for ``streets``.

    Parameters
    ----------
    series : mapping
        Administrative values: series id -> street code -> month ("YYYY-MM") -> value. Earlier
        months are used for the same month last year and for carrying a missing value.
    survey : mapping
        Survey estimates: ``Source.key`` ("questionnaire:item") -> street code -> estimate.
    draws, seed :
        Simulation of the survey's sampling error (default: the definition's).
    """
    streets = tuple(streets)
    n = len(streets)
    draws = definition.draws if draws is None else draws
    seed = definition.seed if seed is None else seed
    rng = np.random.default_rng(seed)
    populations = np.array(
        [[s.population if s.population else math.nan for s in streets]], dtype=float
    )
    rule = definition.missing

    # Per indicator: points (1 x S), simulated points (draws x S), the in/out mask, notes.
    scores: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    shown_values: dict[str, np.ndarray] = {}
    shown_x: dict[str, np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    notes: dict[str, list[tuple[str, ...]]] = {}
    for ind in definition.indicators:
        note: list[tuple[str, ...]] = [()] * n
        if ind.source.kind == "series":
            data = series.get(ind.source.series, {})
            values, x, reasons = _series_x(ind, data, streets, populations, month)
            x = x.copy()
            values = values.copy()
            for j, reason in enumerate(reasons):
                if not reason:
                    continue
                if rule == "previous" and reason in ("missing", "no_base"):
                    for back in range(1, 13):
                        earlier = month_add(month, -back)
                        v2, x2, r2 = _series_x(ind, data, streets, populations, earlier)
                        if not r2[j]:
                            values[0, j], x[0, j] = v2[0, j], x2[0, j]
                            note[j] = (f"carried:{earlier}",)
                            break
                    else:
                        note[j] = ("reweight",)
                elif reason == "population":
                    note[j] = ("population", "worst" if rule == "worst" else "reweight")
                else:
                    detail = ("no_base",) if reason == "no_base" else ()
                    note[j] = (*detail, "worst" if rule == "worst" else "reweight")
            point_score = _score(x, ind)
            sim_score = point_score
        else:
            point_v, sim_v = _survey_draws(survey.get(ind.source.key, {}), streets, rng, draws)
            values = point_v
            pops = populations
            x = _normalise(point_v, ind, pops, None)
            sim_x = _normalise(sim_v, ind, pops, None)
            point_score = _score(x, ind)
            sim_score = _score(sim_x, ind)
            for j in range(n):
                if not math.isfinite(point_v[0, j]):
                    note[j] = ("survey", "worst" if rule == "worst" else "reweight")
        has = np.isfinite(x[0])
        if rule == "worst":
            inside = np.ones(n, dtype=bool)
            point_score = np.where(has, point_score, 0.0)
            sim_score = np.where(has, sim_score, 0.0)
        else:
            inside = has
            point_score = np.where(has, point_score, 0.0)
            sim_score = np.where(has, sim_score, 0.0)
        # A missing score was set to 0 above only to keep the sums finite: its weight is
        # excluded (reweight) or it counts as 0 (worst), as the note says.
        scores[ind.id] = (point_score, sim_score)
        shown_values[ind.id] = np.where(has, values[0], math.nan)
        shown_x[ind.id] = np.where(has, x[0], math.nan)
        present[ind.id] = inside
        notes[ind.id] = note

    total_point = np.zeros((1, n))
    total_sim = np.zeros((draws, n))
    points: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    group_points: dict[str, np.ndarray] = {}
    for group in definition.groups:
        weights = np.array([[i.weight] for i in group.indicators], dtype=float)  # I x 1
        mask = np.array([present[i.id] for i in group.indicators], dtype=float)  # I x S
        denom = (weights * mask).sum(axis=0)  # S
        share = np.where(denom > 0, weights * mask / np.where(denom > 0, denom, 1.0), 0.0)
        gp = np.zeros(n)
        for k, ind in enumerate(group.indicators):
            p_point = group.weight * share[k] * scores[ind.id][0]
            p_sim = group.weight * share[k] * scores[ind.id][1]
            points[ind.id] = (p_point[0], p_sim, group.weight * share[k])
            total_point += p_point
            total_sim = total_sim + p_sim
            gp = gp + p_point[0]
        group_points[group.id] = gp

    index = total_point[0]
    alpha = (1 - definition.level) / 2
    lo_q, hi_q = np.quantile(total_sim, [alpha, 1 - alpha], axis=0)
    rank = _ranks(index[None, :])[0]
    sim_ranks = _ranks(total_sim)
    rank_lo = np.floor(np.quantile(sim_ranks, alpha, axis=0, method="lower"))
    rank_hi = np.ceil(np.quantile(sim_ranks, 1 - alpha, axis=0, method="higher"))
    mean_sim = total_sim.mean(axis=1, keepdims=True)
    above_mean = (total_sim > mean_sim).mean(axis=0)
    order = sorted(range(n), key=lambda j: (rank[j], streets[j].code))

    out: list[StreetIndex] = []
    for pos, j in enumerate(order):
        comps = []
        for ind in definition.indicators:
            p_point, p_sim, max_pts = points[ind.id]
            p_lo, p_hi = np.quantile(p_sim[:, j], [alpha, 1 - alpha])
            comps.append(
                Component(
                    indicator=ind.id,
                    group=definition.group_of(ind.id).id,
                    value=_float(shown_values[ind.id][j]),
                    normalised=_float(shown_x[ind.id][j]),
                    score=_float(scores[ind.id][0][0, j])
                    if present[ind.id][j] and math.isfinite(shown_x[ind.id][j])
                    else (0.0 if present[ind.id][j] else None),
                    points=float(p_point[j]),
                    max_points=float(max_pts[j]),
                    points_low=float(min(p_lo, p_point[j])),
                    points_high=float(max(p_hi, p_point[j])),
                    note=missing_note(notes[ind.id][j]),
                    missing=notes[ind.id][j],
                )
            )
        above_next = None
        if pos + 1 < len(order):
            k = order[pos + 1]
            above_next = bool((total_sim[:, j] > total_sim[:, k]).mean() >= definition.level)
        share_above = above_mean[j]
        vs_mean = (
            "above"
            if share_above >= 1 - alpha and index[j] > mean_sim.mean()
            else "below"
            if share_above <= alpha and index[j] < mean_sim.mean()
            else ""
        )
        out.append(
            StreetIndex(
                code=streets[j].code,
                name_zh=streets[j].name_zh,
                name_en=streets[j].name_en,
                index=float(index[j]),
                index_low=float(min(lo_q[j], index[j])),
                index_high=float(max(hi_q[j], index[j])),
                rank=int(rank[j]),
                rank_low=int(min(rank_lo[j], rank[j])),
                rank_high=int(max(rank_hi[j], rank[j])),
                components=tuple(comps),
                group_points={g: float(v[j]) for g, v in group_points.items()},
                vs_mean=vs_mean,
                above_next=above_next,
            )
        )
    return MonthIndex(
        definition_id=definition.id,
        definition_version=definition.version,
        month=month,
        streets=tuple(out),
        level=definition.level,
        draws=draws,
        seed=seed,
        survey_note=survey_note,
    )


def _float(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _ranks(matrix: np.ndarray) -> np.ndarray:
    """Competition ranks per row (1 = highest; ties share the best rank)."""
    rounded = np.round(matrix, 9)
    return 1 + (rounded[:, None, :] > rounded[:, :, None]).sum(axis=2)


# ------------------------------------------------------------------------ month to month


def with_changes(
    current: MonthIndex, previous: MonthIndex | None, changes: tuple[str, ...] = ()
) -> MonthIndex:
    """Add the change from last month to each street and component.

    ``changes`` says what differs between the two months' definition versions (see
    :func:`~surveyapp.safety_index.definition.definition_changes`); a component whose
    indicator did not exist last month has no change.
    """
    if previous is None:
        return current
    before = {s.code: s for s in previous.streets}
    streets = []
    for s in current.streets:
        old = before.get(s.code)
        if old is None:
            streets.append(s)
            continue
        old_points = {c.indicator: c.points for c in old.components}
        comps = tuple(
            replace(c, change=c.points - old_points[c.indicator])
            if c.indicator in old_points
            else c
            for c in s.components
        )
        streets.append(
            replace(
                s,
                components=comps,
                change=s.index - old.index,
                rank_change=old.rank - s.rank,  # positive: moved up
            )
        )
    return replace(
        current,
        streets=tuple(streets),
        previous_month=previous.month,
        definition_changes=tuple(changes),
    )


def top_changes(street: StreetIndex, k: int = 3) -> list[Component]:
    """The ``k`` components whose points changed most since last month (largest first)."""
    changed = [c for c in street.components if c.change is not None and abs(c.change) > 1e-9]
    return sorted(changed, key=lambda c: (-abs(c.change), c.indicator))[:k]


def streets_to_watch(result: MonthIndex, bottom: int = 3, drop: float = 3.0) -> dict[str, list]:
    """Streets that need attention and why: ``{code: [(reason, value), ...]}``.

    Reasons: ``"bottom"`` (ranked in the last ``bottom``; value: True when even the best rank
    of its interval is there), ``"drop"`` (fell by at least ``drop`` points since last month;
    value: the change), ``"below_mean"`` (below the streets' mean beyond sampling error).
    """
    n = len(result.streets)
    out: dict[str, list] = {}
    for s in result.streets:
        reasons = []
        if bottom and s.rank > n - bottom:
            reasons.append(("bottom", s.rank_low > n - bottom))
        if s.change is not None and s.change <= -drop:
            reasons.append(("drop", s.change))
        if s.vs_mean == "below":
            reasons.append(("below_mean", True))
        if reasons:
            out[s.code] = reasons
    return out


def as_dict(result: MonthIndex, district: str, definition, lang: str = "zh_CN") -> dict:
    """The index of a month as the ``index compute --format json`` command prints it."""

    def r(x: float | None, digits: int = 2) -> float | None:
        return None if x is None or not math.isfinite(x) else round(x, digits)

    return {
        "district": district,
        "month": result.month,
        "definition_version": result.definition_version,
        "streets": [
            {
                "code": s.code,
                "name": s.name(lang),
                "index": r(s.index),
                "index_low": r(s.index_low),
                "index_high": r(s.index_high),
                "rank": s.rank,
                "rank_low": s.rank_low,
                "rank_high": s.rank_high,
                "change": r(s.change),
                "components": [
                    {
                        "indicator": c.indicator,
                        "name": definition.indicator(c.indicator).name(lang),
                        "group": c.group,
                        "unit": definition.indicator(c.indicator).unit,
                        "value": r(c.value, 4),
                        "normalised": r(c.normalised, 4),
                        "score": r(c.score, 4),
                        "points": r(c.points, 3),
                        "points_low": r(c.points_low, 3),
                        "points_high": r(c.points_high, 3),
                        "max_points": r(c.max_points, 3),
                        "change": r(c.change, 3),
                        "note": c.note,
                    }
                    for c in s.components
                ],
            }
            for s in result.streets
        ],
    }
