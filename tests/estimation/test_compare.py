"""Comparisons: symmetry, missing answers, independence of waves, and the Comparison record."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from surveyapp.estimation.compare import (
    Comparison,
    difference_between_domains,
    difference_between_waves,
    difference_from_overall,
    domain_means,
)
from surveyapp.estimation.design import Design
from surveyapp.estimation.ranks import rank_intervals
from surveyapp.estimation.types import Estimate, EstimationError
from surveyapp.estimation.weighting import poststratify
from tests.properties import examples


def district(seed: int, n: int = 300) -> tuple[Design, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    street = rng.choice(["S1", "S2", "S3", "S4"], n)
    community = np.array([f"{s}-{c}" for s, c in zip(street, rng.integers(0, 5, n), strict=True)])
    sex = rng.choice(["F", "M"], n)
    y = rng.binomial(1, 0.93, n).astype(float)
    design = Design.create(weights=rng.uniform(80, 120, n), strata=street, clusters=community)
    design = poststratify(design, sex, {"F": 16_000.0, "M": 15_000.0})
    return design, {"street": street, "y": y}


def estimate(value: float, se: float, df: float) -> Estimate:
    return Estimate(value=value, se=se, ci_low=math.nan, ci_high=math.nan, df=df, n=1, deff=None)


def test_comparison_is_frozen() -> None:
    result = difference_between_waves(estimate(0.95, 0.01, 20), estimate(0.93, 0.01, 30))
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.difference = 0.0  # type: ignore[misc]
    assert isinstance(result, Comparison)


def test_waves_add_variances_and_degrees_of_freedom() -> None:
    result = difference_between_waves(estimate(0.95, 0.03, 20), estimate(0.91, 0.04, 30))
    assert result.difference == pytest.approx(0.04)
    assert result.se == pytest.approx(0.05)
    assert result.df == 50
    half = result.ci_high - result.difference
    assert half == pytest.approx(0.05 * stats.t.ppf(0.975, 50), rel=1e-12)
    normal = difference_between_waves(estimate(1, 1, math.inf), estimate(0, 0, 10))
    assert normal.df == math.inf
    assert normal.p_value == pytest.approx(2 * (1 - 0.8413447460685429))


@settings(max_examples=examples(25), deadline=None)
@given(seed=st.integers(0, 10_000))
def test_street_comparisons_are_antisymmetric(seed: int) -> None:
    design, v = district(seed)
    s1, s2 = v["street"] == "S1", v["street"] == "S2"
    ab = difference_between_domains(design, v["y"], s1, s2)
    ba = difference_between_domains(design, v["y"], s2, s1)
    assert ab.difference == pytest.approx(-ba.difference, abs=1e-15)
    assert ab.se == pytest.approx(ba.se, rel=1e-12)
    assert ab.p_value == pytest.approx(ba.p_value, rel=1e-9)
    assert ab.df == design.degf()
    # street vs district is street vs the all-respondents domain
    whole = np.ones(design.n_rows, dtype=bool)
    assert difference_from_overall(design, v["y"], s1) == difference_between_domains(
        design, v["y"], s1, whole
    )
    # and agrees with the joint covariance of the domain means
    means = domain_means(design, v["y"], v["street"], levels=["S1", "S2"])
    var = means.cov[0, 0] + means.cov[1, 1] - 2 * means.cov[0, 1]
    assert ab.se == pytest.approx(math.sqrt(var), rel=1e-12)


def test_missing_answers_leave_the_domains() -> None:
    design, v = district(7)
    y = v["y"].copy()
    y[::5] = np.nan
    valid = ~np.isnan(y)
    s1 = v["street"] == "S1"
    with_nan = difference_from_overall(design, y, s1)
    masked = difference_between_domains(design, np.nan_to_num(y, nan=123.0), s1 & valid, valid)
    assert with_nan == masked


def test_the_district_overlap_lowers_the_standard_error() -> None:
    # a street that is most of the district moves with it: far from independent samples
    design, v = district(11)
    big = v["street"] != "S4"
    joint = difference_from_overall(design, v["y"], big)
    means = domain_means(design, v["y"], np.where(big, "big", "rest"), levels=["big"])
    whole = domain_means(design, v["y"], np.zeros(design.n_rows, dtype=int))
    independent = math.sqrt(means.cov[0, 0] + whole.cov[0, 0])
    assert joint.se < 0.6 * independent


def test_errors_name_the_problem() -> None:
    design, v = district(3)
    nobody = np.zeros(design.n_rows, dtype=bool)
    with pytest.raises(EstimationError, match="no respondent with a valid answer"):
        difference_from_overall(design, v["y"], nobody)
    with pytest.raises(EstimationError, match="boolean mask"):
        difference_from_overall(design, v["y"], v["street"])
    with pytest.raises(EstimationError, match="has 3 values"):
        difference_from_overall(design, [1.0, 2.0, 3.0], v["street"] == "S1")
    with pytest.raises(EstimationError, match="degrees of freedom"):
        difference_between_waves(estimate(1, 1, 0), estimate(0, 1, 0))


def test_domain_means_feed_rank_intervals() -> None:
    design, v = district(5)
    means = domain_means(design, v["y"], v["street"], levels=["S1", "S2", "S3", "S4"])
    assert means.cov.shape == (4, 4)
    assert np.all(means.n > 0)
    intervals = rank_intervals(means.means, means.cov, n_sim=2000)
    assert [r.rank for r in intervals] == list(
        np.argsort(np.argsort(-means.means)).astype(float) + 1
    )


@pytest.mark.parametrize("calibrated", [True, False])
def test_all_streets_against_the_district_at_once_equal_one_by_one(calibrated):
    from surveyapp.estimation.compare import differences_from_overall
    from surveyapp.estimation.design import Categorical

    design, data = district(11)
    if not calibrated:
        design = Design.create(
            weights=design.weights, strata=data["street"], clusters=[np.arange(design.n_rows) // 3]
        )
    y = data["y"].copy()
    y[::17] = np.nan
    levels = ["S1", "S2", "S3", "S4"]
    labels, codes = np.unique(data["street"], return_inverse=True)
    for domains in (data["street"], Categorical(codes, list(labels))):
        together = differences_from_overall(design, y, domains, levels)
        for s in levels:
            alone = difference_from_overall(design, y, data["street"] == s)
            got = together[s]
            assert got.difference == pytest.approx(alone.difference, rel=1e-12)
            assert got.se == pytest.approx(alone.se, rel=1e-9)
            assert got.p_value == pytest.approx(alone.p_value, rel=1e-9, abs=1e-15)
        means = domain_means(design, y, domains, levels=levels)
        # the scores row by row (n x 4) through the design's calibration residuals
        from surveyapp.estimation.compare import _mean_scores

        scores, expected, _ = _mean_scores(design, y, [data["street"] == s for s in levels], levels)
        np.testing.assert_allclose(means.means, expected, rtol=1e-12)
        np.testing.assert_allclose(means.cov, design.total_covariance(scores), rtol=1e-9)
