"""The seeds' assessment rules on a synthetic two-year history, sanctions computed by hand.

Eight streets A-H, eight quarters 2025-Q1 .. 2026-Q4 (given in shuffled order: quarters are
consecutive by date, not by position). Each quarter's bottom five (the rest at 95%):

    2025-Q1 A B C D E    2025-Q2 A B C D F    2025-Q3 A B C G H    2025-Q4 A B D E F
    2026-Q1 A B C E F    2026-Q2 A B D G H    2026-Q3 A B C D E    2026-Q4 A C D E F

Runs in the bottom five (1 约谈, 2 黄牌警告, >=3 挂牌整治; a listing at runs 3, 6, ...):
A in all eight: listed 2025-Q3 and 2026-Q2 -> two listings in two years -> 一票否决.
B 2025-Q1..2026-Q3: listed 2025-Q3, 2026-Q2 -> 一票否决; 2026-Q4 nothing.
C runs 3 (2025), then 1, -, 1, 2: one listing; 2026: 约谈, -, 约谈, 黄牌.
D runs 1 2 - 1 | - 1 2 3: listed 2026-Q4; 2026: -, 约谈, 黄牌, 挂牌.
E 1 - - 1 | 2 - 1 2: 2026: 黄牌, -, 约谈, 黄牌.  F - 1 - 1 | 2 - - 1.  G, H: 约谈 in 2026-Q2.
Annual 单项安全感 2026: E 78% -> 取消评选资格. Composite scores (points), bottom five:
2025 A70 B71 E72 C78 F79 | D85 G90 H91;  2026 A72 B73 E74 C79 D79.5 | F81 G90 H91.
Below 80 and in the bottom five in both years: A, B, C, E -> 一票否决 (F: 81 in 2026; D: 85).
"""

from __future__ import annotations

import random

import pytest

from surveyapp.reports.sanctions import (
    AnnualFigures,
    AssessmentError,
    AssessmentRules,
    QuarterFigures,
    assess,
    rules_from_settings,
)

STREETS = list("ABCDEFGH")
BOTTOM = {
    (2025, 1): "ABCDE",
    (2025, 2): "ABCDF",
    (2025, 3): "ABCGH",
    (2025, 4): "ABDEF",
    (2026, 1): "ABCEF",
    (2026, 2): "ABDGH",
    (2026, 3): "ABCDE",
    (2026, 4): "ACDEF",
}


def quarters() -> list[QuarterFigures]:
    out = []
    for (year, q), bottom in BOTTOM.items():
        values = {s: (0.70 + 0.01 * i if s in bottom else 0.95) for i, s in enumerate(STREETS)}
        out.append(QuarterFigures(year, q, values, wave=f"w{year}{q}"))
    random.Random(3).shuffle(out)
    return out


ANNUAL = [
    AnnualFigures(
        2025,
        rate=dict.fromkeys(STREETS, 0.9),
        score={"A": 70, "B": 71, "C": 78, "D": 85, "E": 72, "F": 79, "G": 90, "H": 91},
    ),
    AnnualFigures(
        2026,
        rate={**dict.fromkeys(STREETS, 0.9), "E": 0.78},
        score={"A": 72, "B": 73, "C": 79, "D": 79.5, "E": 74, "F": 81, "G": 90, "H": 91},
    ),
]

IV, Y, R = "interview", "yellow_card", "rectification"
EXPECTED = {
    # street: (2026 Q1..Q4, listings, disqualified, veto)
    "A": ([R, R, R, R], ["2025-Q3", "2026-Q2"], False, True),
    "B": ([R, R, R, None], ["2025-Q3", "2026-Q2"], False, True),
    "C": ([IV, None, IV, Y], ["2025-Q3"], False, True),
    "D": ([None, IV, Y, R], ["2026-Q4"], False, False),
    "E": ([Y, None, IV, Y], [], True, True),
    "F": ([Y, None, None, IV], [], False, False),
    "G": ([None, IV, None, None], [], False, False),
    "H": ([None, IV, None, None], [], False, False),
}


def test_eight_quarters_by_hand():
    result = assess(STREETS, quarters(), ANNUAL, 2026, AssessmentRules())
    for street, (statuses, listings, disqualified, veto) in EXPECTED.items():
        got = result[street]
        assert [got.quarters[f"2026-Q{q}"] for q in (1, 2, 3, 4)] == statuses, street
        assert got.listings == listings, street
        assert got.disqualified is disqualified, street
        assert got.veto is veto, street
    assert any("listed for rectification 2 times" in r for r in result["A"].reasons)
    assert any("points" in r for r in result["C"].reasons)
    assert not any("listed" in r for r in result["C"].reasons)
    assert any("78.0% below 80%" in r for r in result["E"].reasons)


def test_a_missing_quarter_breaks_the_run():
    # Without 2025-Q4's wave, A's run restarts in 2026-Q1: 约谈, 黄牌, 挂牌 (Q3), listed once
    # in 2026 (run 3) and once in 2025 (run 3 at 2025-Q3).
    qs = [q for q in quarters() if (q.year, q.quarter) != (2025, 4)]
    a = assess(STREETS, qs, ANNUAL, 2026, AssessmentRules())["A"]
    assert [a.quarters[f"2026-Q{q}"] for q in (1, 2, 3, 4)] == [IV, Y, R, R]
    assert a.listings == ["2025-Q3", "2026-Q3"]


def test_rules_are_configuration():
    rules = rules_from_settings({"assessment": {"bottom": 2, "veto_listings": 3}})
    assert rules.bottom == 2 and rules.veto_listings == 3
    result = assess(STREETS, quarters(), ANNUAL, 2026, rules)
    # Bottom two each quarter: A and B (lowest values), C at 2026-Q4.
    assert result["A"].listings == ["2025-Q3", "2026-Q2"] and not result["E"].quarters["2026-Q1"]
    for bad, message in [
        ({"bottom": 0}, "assessment.bottom"),
        ({"disqualify_below": 80}, "disqualify_below"),
        ({"colour": 1}, "unknown key assessment.colour"),
        ({"interview_quarters": 3}, "interview_quarters <="),
    ]:
        with pytest.raises(AssessmentError, match=message):
            rules_from_settings({"assessment": bad})


def test_two_waves_in_one_quarter_are_refused():
    qs = quarters() + [QuarterFigures(2026, 4, {}, wave="extra")]
    with pytest.raises(AssessmentError, match="two sets of figures for 2026-Q4"):
        assess(STREETS, qs, ANNUAL, 2026, AssessmentRules())
