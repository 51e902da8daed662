"""Sample-size planner: hand-computed values, PracTools formulas, inverse and monotonicity."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from surveyapp.estimation.samplesize import achieved_margin, required_n
from tests.properties import examples

Z = stats.norm.ppf(0.975)


def expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_hand_computed_wald() -> None:
    # 1.959964^2 * 0.9 * 0.1 * 1.5 / 0.03^2 = 576.22 -> 577
    assert required_n(0.03, p=0.9, deff=1.5) == 577
    assert required_n(0.03, p=0.9, deff=1.0) == math.ceil(Z**2 * 0.09 / 0.03**2)


@pytest.mark.parametrize("population", [500, 2_000, 30_000])
def test_matches_practools_npropmoe_with_fpc(population: int) -> None:
    # PracTools::nPropMoe(moe.sw = 1, e, alpha, pU, N): a z^2 pq / (e^2 + z^2 pq / (N - 1))
    e, p, N = 0.02, 0.95, population
    a = N / (N - 1)
    expected = a * Z**2 * p * (1 - p) / (e**2 + Z**2 * p * (1 - p) / (N - 1))
    assert required_n(e, p=p, deff=1.0, population=N) == math.ceil(expected)
    # the design effect multiplies n0 before the finite-population correction
    n0 = 2.0 * a * Z**2 * p * (1 - p) / e**2
    assert required_n(e, p=p, deff=2.0, population=N) == math.ceil(n0 / (1 + n0 / N))


def test_logit_width_matches_the_logit_interval() -> None:
    p, e = 0.97, 0.01
    n = required_n(e, p=p, deff=1.0, method="logit")
    # nLogOdds: logit half-width h with expit(l + h) - expit(l - h) = 2e, n = z^2 / (pq h^2)
    logit = math.log(p / (1 - p))
    h = optimize.brentq(lambda h: expit(logit + h) - expit(logit - h) - 2 * e, 1e-9, 20)
    assert n == math.ceil(Z**2 / (p * (1 - p) * h**2))
    # the achieved width at that n is just inside the target, one fewer is outside
    assert achieved_margin(n, p=p, deff=1.0, method="logit") <= e
    assert achieved_margin(n - 1, p=p, deff=1.0, method="logit") > e


def test_logit_needs_more_interviews_near_100_percent_than_wald() -> None:
    assert required_n(0.01, p=0.98, method="logit") > required_n(0.01, p=0.98)
    # and agrees with Wald at 50% for small margins
    assert required_n(0.01, p=0.5, method="logit") == pytest.approx(
        required_n(0.01, p=0.5), rel=0.01
    )


def test_population_caps_the_sample() -> None:
    assert required_n(0.001, p=0.5, deff=2.0, population=300) <= 300


def test_errors() -> None:
    with pytest.raises(ValueError, match="p must"):
        required_n(0.03, p=1.0)
    with pytest.raises(ValueError, match="margin must be positive"):
        required_n(0.0)
    with pytest.raises(ValueError, match="< 0.5"):
        required_n(0.6, method="logit")
    with pytest.raises(ValueError, match="cannot exceed"):
        achieved_margin(200, population=100)
    with pytest.raises(ValueError, match="method"):
        required_n(0.03, method="exact")  # type: ignore[arg-type]


SETTINGS = settings(max_examples=examples(80), deadline=None)
margins = st.floats(0.005, 0.2)
rates = st.floats(0.05, 0.995)
deffs = st.floats(1.0, 4.0)
methods = st.sampled_from(["wald", "logit"])
populations = st.one_of(st.none(), st.integers(50, 1_000_000))


@SETTINGS
@given(margin=margins, p=rates, deff=deffs, method=methods, population=populations)
def test_required_n_is_the_smallest_sufficient_n(
    margin: float, p: float, deff: float, method: str, population: int | None
) -> None:
    n = required_n(margin, p=p, deff=deff, population=population, method=method)  # type: ignore[arg-type]
    if population is not None and n >= population:
        return
    assert achieved_margin(n, p, deff, population=population, method=method) <= margin * (1 + 1e-9)  # type: ignore[arg-type]
    if n > 1:
        assert achieved_margin(n - 1, p, deff, population=population, method=method) > margin  # type: ignore[arg-type]


@SETTINGS
@given(margin=margins, p=rates, deff=deffs, method=methods, population=populations)
def test_required_n_is_monotone(
    margin: float, p: float, deff: float, method: str, population: int | None
) -> None:
    n = required_n(margin, p=p, deff=deff, population=population, method=method)  # type: ignore[arg-type]
    assert required_n(margin * 0.9, p=p, deff=deff, population=population, method=method) >= n  # type: ignore[arg-type]
    assert required_n(margin, p=p, deff=deff * 1.1, population=population, method=method) >= n  # type: ignore[arg-type]
    if population is not None:
        assert required_n(margin, p=p, deff=deff, method=method) >= n  # type: ignore[arg-type]
