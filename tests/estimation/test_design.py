"""Design: construction, checks, covariance of several totals (vs R), calibration hook."""

from __future__ import annotations

import numpy as np
import pytest
from r_reference import RTOL, design_from_spec, numeric, reference

from surveyapp.estimation import (
    Categorical,
    Design,
    DesignError,
    EstimationError,
    LonelyPSUError,
)

VCOV = reference("design_vcov.json")


@pytest.mark.parametrize("case", VCOV, ids=[c["id"] for c in VCOV])
def test_covariance_of_several_totals_matches_r(case: dict) -> None:
    spec = case["design"]
    data = spec["data"]
    x = np.column_stack([numeric(data, v) for v in case["vars"]])
    complete = ~np.isnan(x).any(axis=1)
    design = design_from_spec(spec, lonely_psu=case["lonely_psu"])
    scores = np.where(complete[:, None], x * design.weights[:, None], 0.0)
    expected = case["result"]
    if "error" in expected:
        with pytest.raises(EstimationError):
            design.total_covariance(scores, in_domain=complete)
        return
    v = design.total_covariance(scores, in_domain=complete)
    np.testing.assert_allclose(v, np.array(expected["vcov"]), rtol=RTOL)
    np.testing.assert_allclose(scores.sum(axis=0), expected["totals"], rtol=RTOL)
    assert design.degf() == expected["degf"]


def test_fpc_as_counts_or_fractions_is_the_same_design() -> None:
    strata = np.array([1, 1, 1, 2, 2, 2, 2])
    psu = np.array([1, 2, 3, 1, 2, 3, 4])
    pop = np.array([10, 10, 10, 40, 40, 40, 40.0])
    y = np.arange(7.0) ** 2
    a = Design.create(strata=strata, clusters=[psu], fpc=[pop])
    b = Design.create(strata=strata, clusters=[psu], fpc=[np.array([0.3] * 3 + [0.1] * 4)])
    np.testing.assert_allclose(a.weights, [10 / 3] * 3 + [10.0] * 4)  # from fpc, as R
    np.testing.assert_allclose(a.total_covariance(y * a.weights), b.total_covariance(y * b.weights))
    # f = 1 - n/N per stratum, n/(n-1) times the spread of PSU totals
    expected = sum(
        (1 - n / big) * n / (n - 1) * np.sum((t - t.mean()) ** 2)
        for n, big, t in ((3, 10, y[:3] * 10 / 3), (4, 40, y[3:] * 10))
    )
    assert a.total_covariance(y * a.weights)[0, 0] == pytest.approx(expected, rel=1e-12)


def test_categorical_ids_keep_their_labels() -> None:
    street = Categorical(codes=np.array([0, 0, 1]), labels=["鼓楼", "华侨路"])
    community = Categorical(codes=np.array([0, 1, 2]), labels=["c1", "c2", "c3"])
    design = Design.create(weights=np.ones(3), strata=street, clusters=[community])
    with pytest.raises(LonelyPSUError, match="华侨路") as info:
        design.total_covariance(np.ones(3))
    assert info.value.stratum == "华侨路" and info.value.stage == 1


def test_lonely_rules() -> None:
    strata = np.array(["a", "a", "b"])
    x = np.array([1.0, 3.0, 5.0])
    v = {
        rule: Design.create(weights=np.ones(3), strata=strata, lonely_psu=rule).total_covariance(x)[
            0, 0
        ]
        for rule in ("remove", "certainty", "adjust", "average")
    }
    assert v["remove"] == v["certainty"] == pytest.approx(4.0)  # 2/1 * (1 + 1)
    assert v["adjust"] == pytest.approx(4.0 + 25.0)  # the lonely PSU around 0
    assert v["average"] == pytest.approx(4.0 * 2 / 1)  # scaled by strata / usable strata


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weights": np.ones(3), "strata": np.ones(4)}, "different lengths"),
        ({"weights": np.array([1.0, np.nan])}, "row 2"),
        ({"weights": np.ones(2), "probs": np.ones(2)}, "either weights or probs"),
        ({"weights": np.ones(3), "clusters": [np.ones(3)]}, "only one primary sampling unit"),
        ({"clusters": [np.arange(3)], "fpc": [np.array([2.0, 0.5, 3])]}, "mixes"),
        ({"clusters": [np.arange(3)], "fpc": [np.full(3, 2.0)]}, ">100% sampling"),
        (
            {"clusters": [np.arange(4), np.arange(4)], "fpc": [np.full(4, 10.0)]},
            "one fpc per cluster stage",
        ),
        ({"weights": np.ones(3), "lonely_psu": "skip"}, "lonely_psu"),
        ({}, "at least"),
    ],
)
def test_bad_designs_are_explained(kwargs: dict, message: str) -> None:
    with pytest.raises(DesignError, match=message):
        Design.create(**kwargs)


class _Shift:
    """A stand-in calibration: records its calls and subtracts the column means."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def residuals(self, scores: np.ndarray, design: Design) -> np.ndarray:
        self.calls.append(scores.shape[1])
        return scores - scores.mean(axis=0)


def test_with_weights_records_calibrations_in_order() -> None:
    base = Design.create(weights=np.arange(1.0, 7.0), strata=np.repeat([1, 2], 3))
    first, second = _Shift(), _Shift()
    calibrated = base.with_weights(base.weights * 2, calibration=first).with_weights(
        base.weights * 3, calibration=second
    )
    assert calibrated.calibrations == (first, second)
    assert base.calibrations == ()
    np.testing.assert_array_equal(calibrated.weights, base.weights * 3)
    x = np.arange(12.0).reshape(6, 2)
    v = calibrated.total_covariance(x)
    assert first.calls == [2] and second.calls == [2]
    np.testing.assert_allclose(v, base.total_covariance(x - x.mean(axis=0)))
    with pytest.raises(DesignError):
        base.with_weights(np.ones(5))


def test_inputs_are_not_modified() -> None:
    w = np.arange(1.0, 7.0)
    strata = np.repeat([1, 2], 3)
    design = Design.create(weights=w, strata=strata)
    x = np.arange(6.0)
    design.total_covariance(x, in_domain=x > 2)
    np.testing.assert_array_equal(x, np.arange(6.0))
    np.testing.assert_array_equal(w, np.arange(1.0, 7.0))
    assert not design.weights.flags.writeable


def test_degf_counts_psus_minus_strata_with_weight() -> None:
    design = Design.create(
        weights=np.array([1, 1, 0, 1, 1, 1.0]),
        strata=np.array([1, 1, 1, 2, 2, 2]),
        clusters=[np.array([1, 2, 3, 1, 1, 2])],
    )
    assert design.degf() == (2 + 2) - 2
    assert design.degf(in_domain=np.array([1, 1, 1, 0, 0, 0], bool)) == 1
