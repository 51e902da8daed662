"""The index of three streets computed by hand, every normalisation and missing-value rule.

Positive group (35 points, four indicators of weight 1: 8.75 points each)
  p_target  value/100, caps [0.9, 1]:  A 1.00 -> 1,  B 0.95 -> 0.5,  C 0.90 -> 0
  p_per10k  per 10k, caps [0, 4]:      A 2 -> 0.5,   B 4 -> 1,       C 1 -> 0.25
  p_district value/mean(60), [.5,1.5]: A .5 -> 0,    B 1 -> .5,      C 1.5 -> 1
  p_yoy     (v-b)/max(b,1), [-.5,.5]:  A +.5 -> 1,   B +.25 -> .75,  C 0/1 -> .5
  A 8.75*2.5 = 21.875   B 8.75*2.75 = 24.0625   C 8.75*1.75 = 15.3125
Negative group (35 points, weights 2,1,1,1: 7 points per unit)
  n_target  value/2, caps [1, 2]:      A 1 -> 1,     B 1.5 -> .5,    C 2.5 -> 0
  n_per10k  per 10k, caps [0, 10]:     A 5 -> .5,    B 5 -> .5,      C 20 -> 0
  n_district value/mean(20):           A .5 -> 1,    B 1 -> .5,      C 1.5 -> 0
  n_yoy     vs 10 last year:           A -.5 -> 1,   B 0 -> .5,      C +1 -> 0
  A 7*4.5 = 31.5   B 7*2.5 = 17.5   C 0
Public group (30 points, four survey items of weight 1: 7.5 points each)
  s_security v/0.9, caps [.8, 1]:      A 1 -> 1,     B .9 -> .5,     C .8 -> 0
  s_score   v/mean(80):                A 1 -> .5,    B .75 -> .25,   C 1.25 -> .75
  s_satisfaction v/1, caps [.5, 1]:    A .75 -> .5,  B 1 -> 1,       C .5 -> 0
  s_flat    all equal:                 .5 each
  A 7.5*2.5 = 18.75   B 7.5*2.25 = 16.875   C 7.5*1.25 = 9.375
Index: A 72.125, B 58.4375, C 24.6875.
"""

from __future__ import annotations

import pytest

from surveyapp.safety_index import as_dict, compute_month, top_changes, with_changes

from .conftest import MONTH, STREETS, hand, series, survey


def test_index_points_and_ranks_by_hand(hand_definition) -> None:
    result = compute_month(hand_definition, MONTH, STREETS, series(), survey())
    by_code = {s.code: s for s in result.streets}
    assert by_code["A"].index == pytest.approx(72.125)
    assert by_code["B"].index == pytest.approx(58.4375)
    assert by_code["C"].index == pytest.approx(24.6875)
    assert [s.code for s in result.streets] == ["A", "B", "C"]
    assert [s.rank for s in result.streets] == [1, 2, 3]
    assert by_code["B"].group_points == pytest.approx(
        {"positive": 24.0625, "negative": 17.5, "public": 16.875}
    )
    scores = {c.indicator: c.score for c in by_code["C"].components}
    assert scores == pytest.approx(
        {
            "p_target": 0,
            "p_per10k": 0.25,
            "p_district": 1,
            "p_yoy": 0.5,
            "n_target": 0,
            "n_per10k": 0,
            "n_district": 0,
            "n_yoy": 0,
            "s_security": 0,
            "s_score": 0.75,
            "s_satisfaction": 0,
            "s_flat": 0.5,
        }
    )
    a = {c.indicator: c for c in by_code["A"].components}
    assert a["n_target"].points == pytest.approx(14.0) and a["n_target"].max_points == 14.0
    assert a["p_per10k"].normalised == pytest.approx(2.0)
    # No sampling error given: the intervals are the points themselves.
    for s in result.streets:
        assert s.index_low == pytest.approx(s.index) and s.index_high == pytest.approx(s.index)
        assert s.rank_low == s.rank_high == s.rank
        assert all(c.note == "" for c in s.components)


def test_missing_value_rules_are_stated_and_never_zero() -> None:
    data = series()
    del data["theft"]["A"][MONTH]
    data["theft"]["A"]["2026-10"] = 3  # 3 per 10k -> score 0.7

    carried = compute_month(hand("previous"), MONTH, STREETS, data, survey()).street("A")
    comp = next(c for c in carried.components if c.indicator == "n_per10k")
    assert comp.score == pytest.approx(0.7) and comp.value == 3
    assert "2026-10" in comp.note
    assert carried.index == pytest.approx(72.125 + 7 * 0.2)

    reweighted = compute_month(hand("reweight"), MONTH, STREETS, data, survey()).street("A")
    comp = next(c for c in reweighted.components if c.indicator == "n_per10k")
    assert comp.value is None and comp.score is None and comp.points == 0
    assert comp.note and comp.max_points == 0
    # Negative group: (2*1 + 1 + 1) / 4 of 35 points.
    assert reweighted.group_points["negative"] == pytest.approx(35.0)

    worst = compute_month(hand("worst"), MONTH, STREETS, data, survey()).street("A")
    comp = next(c for c in worst.components if c.indicator == "n_per10k")
    assert comp.score == 0 and comp.value is None and "0" in comp.note
    assert worst.index == pytest.approx(72.125 - 3.5)

    # No value in the last twelve months either: "previous" falls back to reweighting.
    del data["theft"]["A"]["2026-10"]
    fallback = compute_month(hand("previous"), MONTH, STREETS, data, survey()).street("A")
    assert fallback.group_points["negative"] == pytest.approx(35.0)


def test_a_whole_group_missing_is_not_spread_over_the_other_groups() -> None:
    data = series()
    for name in ("escalated", "theft", "traffic", "vice"):
        data[name]["C"].pop(MONTH)
    c = compute_month(hand("reweight"), MONTH, STREETS, data, survey()).street("C")
    assert c.group_points["negative"] == 0
    assert c.index == pytest.approx(15.3125 + 9.375)


def test_changes_from_last_month_and_top_three(hand_definition) -> None:
    before = compute_month(hand_definition, MONTH, STREETS, series(), survey())
    data = series()
    data["mediation"]["C"][MONTH] = 100  # +8.75 points
    data["theft"]["C"][MONTH] = 20  # 5 per 10k: +3.5 points
    now = compute_month(hand_definition, MONTH, STREETS, data, survey())
    result = with_changes(now, before)
    c = result.street("C")
    assert c.change == pytest.approx(12.25)
    assert [x.indicator for x in top_changes(c)] == ["p_target", "n_per10k"]
    assert result.street("A").change == pytest.approx(0)
    js = as_dict(result, "D", hand_definition)
    assert set(js) == {"district", "month", "definition_version", "streets"}
    assert list(js["streets"][0])[:10] == [
        "code", "name", "index", "index_low", "index_high", "rank", "rank_low", "rank_high",
        "change", "components",
    ]  # fmt: skip
