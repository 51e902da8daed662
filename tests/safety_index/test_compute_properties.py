"""Properties the seeds rely on, and the survey part's uncertainty against direct computation.

The bound: positive and negative indicators each weigh 35%, so a street that fails every
negative indicator (score 0: beyond the caps) cannot score above the positive and public groups'
weights, however well it does on the positive side, and vice versa.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveyapp.safety_index import (
    Definition,
    Group,
    Indicator,
    Normalisation,
    Source,
    Street,
    SurveyValue,
    compute_month,
)

from .conftest import MONTH, STREETS, hand, series, survey

KINDS = ("target", "per_10k", "district", "yoy")


@st.composite
def indicator(draw, gid: str, k: int, direction: str):
    kind = draw(st.sampled_from(KINDS))
    if kind == "district":
        low = draw(st.floats(0.1, 1.0))
        caps = (low, draw(st.floats(low + 0.1, 2.5)))
    elif kind == "yoy":
        low = draw(st.floats(-0.9, 0.4))
        caps = (low, draw(st.floats(low + 0.1, 1.5)))
    else:
        low = draw(st.floats(0.0, 5.0))
        caps = (low, draw(st.floats(low + 0.1, 10.0)))
    target = draw(st.floats(0.5, 100.0)) if kind == "target" else None
    return Indicator(
        id=f"{gid}{k}",
        name_zh=f"{gid}{k}",
        name_en="",
        direction=direction,
        unit="件",
        source=Source("series", series=f"{gid}{k}"),
        normalisation=Normalisation(kind, caps, target),
        weight=draw(st.floats(0.1, 5.0)),
    )


@st.composite
def case(draw):
    w_pos = draw(st.floats(5, 60))
    w_neg = draw(st.floats(5, 90 - w_pos))
    groups = []
    for gid, weight, direction in (
        ("pos", w_pos, "positive"),
        ("neg", w_neg, "negative"),
        ("pub", 100 - w_pos - w_neg, "positive"),
    ):
        n = draw(st.integers(1, 4))
        inds = tuple(draw(indicator(gid, k, direction)) for k in range(n))
        groups.append(Group(gid, gid, "", weight, inds))
    definition = Definition(
        "p", 1, "2026-01", "p", "", draw(st.sampled_from(("previous", "reweight", "worst"))),
        200, 1, 0.95, 3, 3.0, tuple(groups),
    )  # fmt: skip
    n_streets = draw(st.integers(3, 6))
    streets = tuple(
        Street(f"S{j}", f"S{j}", "", draw(st.floats(1000, 90000))) for j in range(n_streets)
    )
    values = st.floats(0, 500)
    data = {
        i.source.series: {s.code: {MONTH: draw(values), "2025-11": draw(values)} for s in streets}
        for g in groups
        for i in g.indicators
    }
    return definition, streets, data


def extreme(ind: Indicator, street: Street, data: dict, best: bool) -> None:
    """Give ``street`` a value at the best (score 1) or worst (score 0) end of ``ind``."""
    norm = ind.normalisation
    low, high = norm.caps
    up = (ind.direction == "positive") == best  # a high normalised value wanted
    x = high + 1.0 if up else low - 0.05  # yoy caps stay above -0.95: reachable
    series = data[ind.source.series]
    if norm.kind == "target":
        value = max(x, 0) * norm.target
    elif norm.kind == "per_10k":
        value = max(x, 0) * street.population / 10_000
    elif norm.kind == "yoy":
        base = series[street.code]["2025-11"] = max(series[street.code]["2025-11"], 1.0)
        value = max(base + x * max(base, 1.0), 0.0)
    else:  # district: all others 0 -> x = n; or this street 0 -> x = 0
        if up:
            for code in series:
                series[code][MONTH] = 0.0
            value = 1.0
        else:
            value = 0.0
            for code in series:
                if code != street.code:
                    series[code][MONTH] = 1.0
    series[street.code][MONTH] = value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case(), st.booleans())
def test_failing_one_direction_caps_the_index(c, fail_negative) -> None:
    definition, streets, data = c
    street = streets[0]
    groups = {g.id: g for g in definition.groups}
    good, bad = ("pos", "neg") if fail_negative else ("neg", "pos")
    for ind in groups[good].indicators:
        extreme(ind, street, data, best=True)
    for ind in groups[bad].indicators:
        if ind.normalisation.kind == "district":
            continue  # the district indicators are set below, last, for every indicator
        extreme(ind, street, data, best=False)
    for ind in groups[bad].indicators:
        if ind.normalisation.kind == "district":
            extreme(ind, street, data, best=False)
    result = compute_month(definition, MONTH, streets, data, {}).street(street.code)
    bound = 100 - groups[bad].weight
    assert result.group_points[bad] == pytest.approx(0, abs=1e-9)
    assert result.index <= bound + 1e-9
    assert 0 <= result.index <= 100


@settings(max_examples=100, deadline=None)
@given(case(), st.integers(0, 3), st.floats(0, 50))
def test_a_better_value_never_lowers_the_index(c, which, step) -> None:
    definition, streets, data = c
    inds = definition.indicators
    ind = inds[which % len(inds)]
    before = compute_month(definition, MONTH, streets, data, {}).street("S0")
    change = step if ind.direction == "positive" else -step
    data[ind.source.series]["S0"][MONTH] = max(data[ind.source.series]["S0"][MONTH] + change, 0)
    after = compute_month(definition, MONTH, streets, data, {}).street("S0")
    assert after.index >= before.index - 1e-9


def test_index_interval_matches_the_survey_bounds_when_linear() -> None:
    """One uncertain survey item, no caps reached: the index is linear in it, so the index's
    2.5% and 97.5% quantiles are the index computed at the estimate's confidence bounds."""
    definition = hand("previous")
    uncertain = survey()
    uncertain["pss:satisfaction"] = {
        "A": SurveyValue(0.75, 0.70, 0.78),  # asymmetric, as a logit interval is
        "B": SurveyValue(0.80, 0.72, 0.86),
        "C": SurveyValue(0.70, 0.60, 0.76),
    }
    result = compute_month(definition, MONTH, STREETS, series(), uncertain, draws=40_000)
    for street in result.streets:
        sv = uncertain["pss:satisfaction"][street.code]

        def at(v: float, code: str = street.code) -> float:
            items = {**uncertain["pss:satisfaction"], code: SurveyValue(v, v, v)}
            data = {**uncertain, "pss:satisfaction": items}
            return compute_month(definition, MONTH, STREETS, series(), data).street(code)

        at_low, at_high = at(sv.low), at(sv.high)
        assert street.index_low == pytest.approx(at_low.index, abs=0.03)
        assert street.index_high == pytest.approx(at_high.index, abs=0.03)
        comp = next(c for c in street.components if c.indicator == "s_satisfaction")
        assert comp.points_low < comp.points < comp.points_high


def test_index_interval_against_a_direct_simulation() -> None:
    """Several uncertain items (district-relative too): the same split-normal draws, made here
    one draw at a time and each computed as a point, give the same quantiles and rank spreads."""
    definition = hand("previous")
    uncertain = survey(spread=0.08)
    draws, seed = 400, 11
    result = compute_month(definition, MONTH, STREETS, series(), uncertain, draws=draws, seed=seed)

    rng = np.random.default_rng(seed)
    keys = [i.source.key for i in definition.indicators if i.source.kind == "survey"]
    z = {k: rng.standard_normal((draws, len(STREETS))) for k in keys}
    indices = np.zeros((draws, len(STREETS)))
    for d in range(draws):
        drawn = {}
        for k in keys:
            drawn[k] = {}
            for j, s in enumerate(STREETS):
                sv = uncertain[k][s.code]
                scale = (sv.high - sv.value if z[k][d, j] > 0 else sv.value - sv.low) / 1.959964
                v = max(sv.value + z[k][d, j] * scale, 0.0)
                drawn[k][s.code] = SurveyValue(v, v, v)
        point = compute_month(definition, MONTH, STREETS, series(), drawn, draws=1)
        for j, s in enumerate(STREETS):
            indices[d, j] = point.street(s.code).index
    low, high = np.quantile(indices, [0.025, 0.975], axis=0)
    ranks = 1 + (indices[:, None, :] > indices[:, :, None]).sum(axis=2)
    for j, s in enumerate(STREETS):
        got = result.street(s.code)
        assert got.index_low == pytest.approx(min(low[j], got.index), abs=1e-6)
        assert got.index_high == pytest.approx(max(high[j], got.index), abs=1e-6)
        assert got.rank_low <= got.rank <= got.rank_high
        assert got.rank_low == min(int(np.quantile(ranks[:, j], 0.025, method="lower")), got.rank)
        assert got.rank_high == max(int(np.quantile(ranks[:, j], 0.975, method="higher")), got.rank)


def test_rank_intervals_follow_the_index_intervals() -> None:
    """A street far ahead is first in every draw; two close streets share ranks 2-3."""
    definition = hand("previous")
    uncertain = survey()
    data = series()
    data["theft"]["C"][MONTH] = 10  # C: 5 per 10k, +3.5 points -> 28.1875, far from B
    uncertain["pss:security"] = {
        "A": SurveyValue(0.9, 0.85, 0.95),
        "B": SurveyValue(0.81, 0.72, 0.90),
        "C": SurveyValue(0.72, 0.6, 0.9),
    }
    # B loses most of its lead over C: C's survey part is much better now.
    uncertain["pss:satisfaction"] = {"A": SurveyValue(.75, .7, .8), "B": SurveyValue(.6, .5, .7),
                                     "C": SurveyValue(.95, .85, 1.0)}  # fmt: skip
    data["publicity"]["C"][MONTH] = 16
    data["visits"]["B"][MONTH] = 30
    result = compute_month(definition, MONTH, STREETS, data, uncertain, draws=4000)
    a, b, c = (result.street(x) for x in "ABC")
    assert a.index_low > max(b.index_high, c.index_high)
    assert (a.rank_low, a.rank_high) == (1, 1)
    assert b.index_low < c.index_high and c.index_low < b.index_high  # overlapping
    assert (b.rank_low, b.rank_high) == (2, 3) and (c.rank_low, c.rank_high) == (2, 3)
    assert a.above_next is True
    assert result.streets[1].above_next is False
