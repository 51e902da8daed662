"""Properties and error messages of surveyapp.estimation.weighting (R agreement: *_r.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from surveyapp.estimation.design import Design
from surveyapp.estimation.weighting import (
    WeightingError,
    base_weights,
    calibrate,
    effective_n,
    kish_deff,
    margin_model,
    poststratify,
    rake,
    trim,
)
from tests.properties import examples

SETTINGS = settings(max_examples=examples(40), deadline=None)


def sample(seed: int, n: int = 120) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "street": rng.choice(["S1", "S2", "S3"], n),
        "sex": rng.choice(["F", "M"], n),
        "age": rng.choice(["18-39", "40-59", "60+"], n),
        "y": rng.binomial(1, 0.9, n).astype(float),
        "w": rng.uniform(50, 150, n),
        "cluster": rng.integers(0, 30, n),
    }


POP_SEX = {"F": 5100.0, "M": 4900.0}
POP_AGE = {"18-39": 3000.0, "40-59": 4000.0, "60+": 3000.0}


def design_of(d: dict[str, np.ndarray]) -> Design:
    return Design.create(weights=d["w"], clusters=d["cluster"])


def weighted_counts(labels: np.ndarray, w: np.ndarray) -> dict[str, float]:
    return {str(k): float(w[labels == k].sum()) for k in np.unique(labels)}


def se_of_total(design: Design, x: np.ndarray) -> float:
    return math.sqrt(design.total_covariance(design.weights * x)[0, 0])


# ----------------------------------------------------------------------------- base weights


def test_base_weights_are_population_over_interviews() -> None:
    strata = np.array(["A", "A", "B", "B", "B", "C"])
    w = base_weights(strata, {"A": 100, "B": 300, "C": 7})
    np.testing.assert_allclose(w, [50, 50, 100, 100, 100, 7])


def test_base_weights_name_the_missing_and_empty_strata() -> None:
    with pytest.raises(WeightingError, match=r"\['Z'\].*absent from the population"):
        base_weights(np.array(["A", "Z"]), {"A": 10})
    with pytest.raises(WeightingError, match=r"empty cell.*\['B'\]"):
        base_weights(np.array(["A", "A"]), {"A": 10, "B": 5})
    np.testing.assert_allclose(base_weights(["A", "A"], {"A": 10, "B": 5}, partial=True), [5, 5])
    with pytest.raises(WeightingError, match="population count of zero"):
        base_weights(["A"], {"A": 0})


# ----------------------------------------------------------------------------- post-stratification


@SETTINGS
@given(seed=st.integers(0, 10_000))
def test_poststratified_weights_reproduce_the_population(seed: int) -> None:
    d = sample(seed)
    design = design_of(d)
    adjusted = poststratify(design, d["age"], POP_AGE)
    assert weighted_counts(d["age"], adjusted.weights) == pytest.approx(POP_AGE, rel=1e-12)
    # the estimated size of a post-stratum is known: no sampling error left
    for level in POP_AGE:
        indicator = (d["age"] == level).astype(float)
        assert se_of_total(adjusted, indicator) < 1e-9 * POP_AGE[level]
        assert se_of_total(design, indicator) > 1.0
    # inputs untouched, one calibration recorded
    assert design.calibrations == ()
    assert len(adjusted.calibrations) == 1


def test_poststratify_errors_name_the_cell() -> None:
    d = sample(1)
    design = design_of(d)
    with pytest.raises(WeightingError, match=r"empty cell.*'80\+'"):
        poststratify(design, d["age"], {**POP_AGE, "80+": 100.0})
    with pytest.raises(WeightingError, match=r"'60\+'.*absent from the population"):
        poststratify(design, d["age"], {"18-39": 1.0, "40-59": 1.0})
    with pytest.raises(WeightingError, match="population count of zero"):
        poststratify(design, d["age"], {**POP_AGE, "60+": 0.0})
    partial = poststratify(design, d["age"], {**POP_AGE, "80+": 100.0}, partial=True)
    assert partial.weights.sum() == pytest.approx(10_000)


# ----------------------------------------------------------------------------- raking


@SETTINGS
@given(seed=st.integers(0, 10_000))
def test_raked_weights_reproduce_every_margin(seed: int) -> None:
    d = sample(seed)
    raked = rake(design_of(d), [(d["sex"], POP_SEX), (d["age"], POP_AGE)], maxit=100, epsilon=1e-9)
    w = raked.weights
    assert weighted_counts(d["sex"], w) == pytest.approx(POP_SEX, rel=1e-9)
    assert weighted_counts(d["age"], w) == pytest.approx(POP_AGE, rel=1e-9)
    # raking by calibration (raking distance) lands on the same weights
    X, totals = margin_model([(d["sex"], POP_SEX), (d["age"], POP_AGE)])
    by_calibration = calibrate(design_of(d), X, totals, calfun="raking", epsilon=1e-12)
    np.testing.assert_allclose(by_calibration.weights, w, rtol=1e-7)


def test_rake_errors() -> None:
    d = sample(2)
    design = design_of(d)
    with pytest.raises(WeightingError, match="different totals"):
        rake(design, [(d["sex"], POP_SEX), (d["age"], {**POP_AGE, "60+": 1.0})])
    with pytest.raises(WeightingError, match=r"'M'.*absent from the population"):
        rake(design, [(d["sex"], {"F": 10_000.0}), (d["age"], POP_AGE)])
    with pytest.raises(WeightingError, match="empty cell"):
        rake(design, [(d["sex"], {"F": 5000.0, "M": 4000.0, "X": 1000.0}), (d["age"], POP_AGE)])
    with pytest.raises(WeightingError, match="did not converge after 1 iterations"):
        rake(design, [(d["sex"], POP_SEX), (d["age"], POP_AGE)], maxit=1, epsilon=1e-12)


# ----------------------------------------------------------------------------- calibration


@SETTINGS
@given(
    seed=st.integers(0, 10_000),
    calfun=st.sampled_from(["linear", "raking"]),
    bounded=st.booleans(),
)
def test_calibrated_weights_reproduce_the_totals(seed: int, calfun: str, bounded: bool) -> None:
    d = sample(seed)
    X, totals = margin_model([(d["sex"], POP_SEX), (d["age"], POP_AGE)])
    rng = np.random.default_rng(seed)
    income = rng.gamma(4.0, 10.0, d["w"].size)
    X = np.column_stack([X, income])
    totals = np.append(totals, 40.0 * 10_000 * 1.02)
    bounds = (0.3, 3.0) if bounded else None
    try:
        adjusted = calibrate(design_of(d), X, totals, calfun=calfun, bounds=bounds)  # type: ignore[arg-type]
    except WeightingError:
        # R's Newton iterations can stall against the bounds (seed 665, raking: R's grake stops
        # with the same misfit, 0.000367); the property is about the calibrations that succeed
        assume(not bounded)
        raise
    np.testing.assert_allclose(X.T @ adjusted.weights, totals, rtol=1e-6)
    g = adjusted.weights / d["w"]
    if bounded:
        assert g.min() >= 0.3 - 1e-12 and g.max() <= 3.0 + 1e-12
    if calfun == "raking":
        assert g.min() > 0
    # the calibration totals carry no sampling error any more
    for j in range(X.shape[1]):
        assert se_of_total(adjusted, X[:, j]) < 1e-6 * abs(totals[j])


def test_calibration_errors() -> None:
    d = sample(3)
    design = design_of(d)
    X, totals = margin_model([(d["sex"], POP_SEX)])
    with pytest.raises(WeightingError, match="collinear"):
        calibrate(design, np.column_stack([X, X[:, 1]]), np.append(totals, totals[1]))
    with pytest.raises(WeightingError, match="empty cell"):
        calibrate(design, np.column_stack([X, np.zeros(X.shape[0])]), np.append(totals, 5.0))
    with pytest.raises(WeightingError, match=r"did not converge in \d+ iterations"):
        calibrate(design, X, [10_000, 9_000], calfun="raking", bounds=(0.9, 1.1))
    with pytest.raises(ValueError, match="finite bounds"):
        calibrate(design, X, totals, calfun="logit")
    with pytest.raises(WeightingError, match="2 columns but 3"):
        calibrate(design, X, [1.0, 2.0, 3.0])


def test_margin_model_matches_r_model_matrix_layout() -> None:
    X, totals = margin_model([(["a", "b", "c", "b"], {"a": 1, "b": 2, "c": 3})])
    np.testing.assert_array_equal(X, [[1, 0, 0], [1, 1, 0], [1, 0, 1], [1, 1, 0]])
    np.testing.assert_array_equal(totals, [6, 2, 3])
    with pytest.raises(WeightingError, match="absent"):
        margin_model([(["a", "z"], {"a": 1})])


# ----------------------------------------------------------------------------- trimming


@SETTINGS
@given(seed=st.integers(0, 10_000), strict=st.booleans())
def test_trimming_keeps_the_total_and_the_bounds(seed: int, strict: bool) -> None:
    d = sample(seed)
    design = design_of(d)
    trimmed = trim(design, lower=70, upper=130, strict=strict)
    assert trimmed.weights.sum() == pytest.approx(design.weights.sum(), rel=1e-12)
    assert trimmed.calibrations == design.calibrations
    if strict:
        assert trimmed.weights.min() >= 70 - 1e-9 and trimmed.weights.max() <= 130 + 1e-9


def test_trim_shares_the_excess_equally_like_r() -> None:
    design = Design.create(weights=[1.0, 2.0, 3.0, 10.0])
    trimmed = trim(design, upper=5)
    # the excess 10 - 5 is shared equally by the three others (not in proportion to them)
    np.testing.assert_allclose(trimmed.weights, [1 + 5 / 3, 2 + 5 / 3, 3 + 5 / 3, 5])
    assert trim(design, lower=0, upper=100) is design
    with pytest.raises(WeightingError, match="every weight is outside"):
        trim(design, lower=20, upper=30)
    with pytest.raises(ValueError, match="must not exceed"):
        trim(design, lower=5, upper=1)


# ----------------------------------------------------------------------------- Kish


def test_kish_design_effect_and_effective_n() -> None:
    assert kish_deff([2.0, 2.0, 2.0]) == pytest.approx(1.0)
    w = np.array([1.0, 1.0, 4.0])
    # 1 + CV^2 with divisor n: mean 2, variance 2 -> 1 + 2/4
    assert kish_deff(w) == pytest.approx(1.5)
    assert effective_n(w) == pytest.approx(2.0)
    assert effective_n([1.0, 0.0, 1.0]) == pytest.approx(2.0)


@SETTINGS
@given(st.lists(st.floats(0.01, 1e4), min_size=1, max_size=50))
def test_effective_n_is_n_over_deff(weights: list[float]) -> None:
    assert effective_n(weights) * kish_deff(weights) == pytest.approx(len(weights), rel=1e-9)
    assert 1.0 - 1e-12 <= kish_deff(weights)
