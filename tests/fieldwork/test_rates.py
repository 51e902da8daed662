"""AAPOR outcome rates against hand-computed values (Standard Definitions, 10th ed., formulas
written out by hand below, not taken from the code)."""

from __future__ import annotations

import pytest

from surveyapp.fieldwork.dispositions import DISPOSITIONS, closing_code
from surveyapp.fieldwork.rates import DispositionCounts, aapor_rates, estimate_e

# I=400 complete, P=50 partial, R=100 refusals and break-offs, NC=150 non-contacts, O=50 other
# eligible, UH=200 unknown if household, UO=50 other unknown, NE=100 not eligible.
COUNTS = {"I": 400, "P": 50, "R": 100, "NC": 150, "O": 50, "UH": 200, "UO": 50, "NE": 100}


def test_all_sixteen_rates_by_hand_with_a_given_e():
    r = aapor_rates(COUNTS, e=0.8)
    # Denominators: all cases but NE = 1000; known eligible = 750; with e: 750 + 0.8*250 = 950.
    expected = {
        "RR1": 400 / 1000,
        "RR2": 450 / 1000,
        "RR3": 400 / 950,
        "RR4": 450 / 950,
        "RR5": 400 / 750,
        "RR6": 450 / 750,
        # COOP: interviews among contacted eligible cases (1, 2 with O; 3, 4 without).
        "COOP1": 400 / 600,
        "COOP2": 450 / 600,
        "COOP3": 400 / 550,
        "COOP4": 450 / 550,
        "REF1": 100 / 1000,
        "REF2": 100 / 950,
        "REF3": 100 / 750,
        # CON: contacted cases (I+P+R+O = 600).
        "CON1": 600 / 1000,
        "CON2": 600 / 950,
        "CON3": 600 / 750,
    }
    assert r.e == 0.8 and r.e_method == "given"
    for name, value in expected.items():
        assert getattr(r, name) == pytest.approx(value, abs=1e-12), name
    assert (r.RR1, r.RR6, r.COOP2, r.CON3) == pytest.approx((0.4, 0.6, 0.75, 0.8))


def test_default_e_is_proportional_allocation_by_hand():
    r = aapor_rates(COUNTS)
    e = 750 / 850  # eligible among resolved cases
    assert r.e == pytest.approx(e)
    assert estimate_e(DispositionCounts(**COUNTS)) == pytest.approx(e)
    assert r.RR3 == pytest.approx(400 / (750 + e * 250))
    assert r.REF2 == pytest.approx(100 / (750 + e * 250))
    assert r.CON2 == pytest.approx(600 / (750 + e * 250))


def test_e_zero_and_one_bound_rr3_between_rr5_and_rr1():
    assert aapor_rates(COUNTS, e=1.0).RR3 == pytest.approx(aapor_rates(COUNTS).RR1)
    assert aapor_rates(COUNTS, e=0.0).RR3 == pytest.approx(aapor_rates(COUNTS).RR5)


def test_small_example_from_dispositions():
    # Ten numbers: 3 completes, 1 partial, 1 hard refusal, 1 respondent unavailable,
    # 1 language barrier, 2 no answers, 1 disconnected.
    keys = ["complete"] * 3 + [
        "partial",
        "refusal_household_hard",
        "respondent_unavailable",
        "language_barrier",
        "no_answer",
        "no_answer",
        "disconnected",
    ]
    counts = DispositionCounts.from_codes(DISPOSITIONS[k].aapor for k in keys)
    assert counts.as_dict() == {"I": 3, "P": 1, "R": 1, "NC": 1, "O": 1, "UH": 2, "UO": 0, "NE": 1}
    r = aapor_rates(counts, e=0.5)
    assert r.RR1 == pytest.approx(3 / 9)
    assert r.RR2 == pytest.approx(4 / 9)
    assert r.RR3 == pytest.approx(3 / 8)  # 7 known eligible + 0.5 * 2
    assert r.RR4 == pytest.approx(4 / 8)
    assert r.RR5 == pytest.approx(3 / 7)
    assert r.RR6 == pytest.approx(4 / 7)
    assert r.COOP1 == pytest.approx(3 / 6)
    assert r.COOP2 == pytest.approx(4 / 6)
    assert r.COOP3 == pytest.approx(3 / 5)
    assert r.COOP4 == pytest.approx(4 / 5)
    assert (r.REF1, r.REF2, r.REF3) == pytest.approx((1 / 9, 1 / 8, 1 / 7))
    assert (r.CON1, r.CON2, r.CON3) == pytest.approx((6 / 9, 6 / 8, 6 / 7))
    # Default e: 7 eligible of 8 resolved.
    assert aapor_rates(counts).e == pytest.approx(7 / 8)


def test_empty_denominators_are_none_and_bad_input_refused():
    r = aapor_rates({})
    assert r.RR1 is None and r.e is None and r.RR3 is None
    with pytest.raises(ValueError, match="e is a proportion"):
        aapor_rates(COUNTS, e=1.5)
    with pytest.raises(ValueError, match="I must be a count"):
        DispositionCounts(I=-1)


def test_closing_code_after_the_last_attempt():
    assert closing_code([]) == "3.11"
    assert closing_code(["3.13", "3.12", "3.13"]) == "3.13"  # last unknown
    assert closing_code(["3.13", "2.111", "3.13"]) == "2.111"  # a refusal shows eligibility
    assert closing_code(["3.13", "2.21"]) == "2.21"
    assert closing_code(["3.13", "4.30"]) == "4.30"  # a final outcome closes by itself
