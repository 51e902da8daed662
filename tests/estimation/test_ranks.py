"""Rank intervals: determinism, ties, correlation, and the point rank."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveyapp.estimation.ranks import RankInterval, rank_intervals
from tests.properties import examples


def test_deterministic_for_a_seed() -> None:
    est = [0.95, 0.94, 0.96, 0.93]
    cov = np.diag([0.01, 0.01, 0.01, 0.01]) ** 2
    assert rank_intervals(est, cov, seed=3) == rank_intervals(est, cov, seed=3)


def test_well_separated_domains_have_certain_ranks() -> None:
    result = rank_intervals([0.99, 0.90, 0.95], np.diag([1e-6, 1e-6, 1e-6]))
    assert result == [RankInterval(1, 1, 1), RankInterval(3, 3, 3), RankInterval(2, 2, 2)]
    ascending = rank_intervals([0.99, 0.90, 0.95], np.diag([1e-6] * 3), descending=False)
    assert [r.rank for r in ascending] == [3, 1, 2]


def test_ties_get_the_average_rank() -> None:
    result = rank_intervals([0.9, 0.9, 0.9, 0.5], np.zeros((4, 4)))
    assert [r.rank for r in result] == [2, 2, 2, 4]
    assert [(r.low, r.high) for r in result] == [(2, 2), (2, 2), (2, 2), (4, 4)]


def test_indistinguishable_domains_have_wide_intervals() -> None:
    result = rank_intervals([0.987, 0.986, 0.985], np.eye(3) * 0.01**2, n_sim=4000)
    for r in result:
        assert (r.low, r.high) == (1, 3)


def test_correlation_is_used() -> None:
    # two streets that move together: their small difference is well determined
    sd = 0.01
    corr = 0.9999
    cov = sd**2 * np.array([[1.0, corr], [corr, 1.0]])
    joint = rank_intervals([0.95, 0.94], cov)
    independent = rank_intervals([0.95, 0.94], np.diag(np.diag(cov)))
    assert [(r.low, r.high) for r in joint] == [(1, 1), (2, 2)]
    assert [(r.low, r.high) for r in independent] == [(1, 2), (1, 2)]


def test_point_rank_outside_the_percentile_interval_is_included_on_request() -> None:
    # one precise domain just above twenty imprecise ones: its simulated rank drifts to the middle
    est = np.r_[0.951, np.full(20, 0.95)]
    cov = np.diag(np.r_[1e-10, np.full(20, 0.02**2)])
    raw = rank_intervals(est, cov, include_point_rank=False)[0]
    widened = rank_intervals(est, cov)[0]
    assert raw.rank == 1 and raw.low > 1
    assert (widened.low, widened.high) == (1, raw.high)


def test_validation() -> None:
    with pytest.raises(ValueError, match="shape"):
        rank_intervals([1, 2], np.eye(3))
    with pytest.raises(ValueError, match="symmetric"):
        rank_intervals([1, 2], [[1, 0.5], [0, 1]])
    with pytest.raises(ValueError, match="positive semi-definite"):
        rank_intervals([1, 2], [[1, 2], [2, 1]])
    assert rank_intervals([], np.zeros((0, 0))) == []


@st.composite
def problems(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    k = draw(st.integers(1, 8))
    est = np.array(draw(st.lists(st.floats(0.8, 1.0), min_size=k, max_size=k)))
    sd = np.array(draw(st.lists(st.floats(0.0, 0.05), min_size=k, max_size=k)))
    # equicorrelation is positive semi-definite for rho >= -1/(k-1) (k <= 8: -1/7)
    rho = draw(st.floats(-0.1, 0.9))
    corr = (1 - rho) * np.eye(k) + rho * np.ones((k, k))
    return est, corr * np.outer(sd, sd), draw(st.integers(0, 2**32 - 1))


@settings(max_examples=examples(60), deadline=None)
@given(problems())
def test_intervals_are_ordered_within_range_and_contain_the_point_rank(
    problem: tuple[np.ndarray, np.ndarray, int],
) -> None:
    est, cov, seed = problem
    k = est.size
    for r in rank_intervals(est, cov, n_sim=500, seed=seed):
        assert 1 <= r.low <= r.rank <= r.high <= k


def test_rounding_asymmetry_of_a_computed_covariance_is_accepted() -> None:
    """A raked design's covariance (demo wave, margins street and sex) was asymmetric by 2e-31
    where its largest entry is 900: the portal answered 500 for that settings choice."""
    cov = np.array([[900.0, 1e-25], [1e-25 + 2e-31, 0.25]])
    got = rank_intervals([0.5, 0.7], cov, seed=1)
    assert got == rank_intervals([0.5, 0.7], (cov + cov.T) / 2, seed=1)
    with pytest.raises(ValueError, match="symmetric"):
        rank_intervals([0.5, 0.7], np.array([[900.0, 1.0], [2.0, 0.25]]), seed=1)
