"""Properties of the estimators on random designs (Hypothesis)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from surveyapp.estimation import Design, Estimate, EstimationError
from surveyapp.estimation.estimates import svyby, svyciprop, svymean, svytotal
from tests.properties import examples

INTERVAL_METHODS = ("logit", "likelihood", "beta", "wilson", "xlogit", "mean")
BOUNDED_METHODS = ("logit", "likelihood", "beta", "wilson", "xlogit", "asin")


@st.composite
def samples(draw: st.DrawFn) -> tuple[Design, np.ndarray, np.ndarray, np.ndarray]:
    """A stratified cluster sample with a 0/1 answer and a two-level domain."""
    n_strata = draw(st.integers(1, 4))
    psus = draw(st.lists(st.integers(2, 5), min_size=n_strata, max_size=n_strata))
    rows_per_psu = [draw(st.integers(1, 6)) for _ in range(sum(psus))]
    strata = np.repeat(np.repeat(np.arange(n_strata), psus), rows_per_psu)
    cluster = np.repeat(np.arange(sum(psus)), rows_per_psu)
    n = strata.size
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    weights = rng.uniform(0.5, 40.0, n)
    rate = draw(st.floats(0.05, 0.95))
    y = (rng.uniform(size=n) < rate).astype(float)
    domain = rng.uniform(size=n) < 0.5
    design = Design.create(weights=weights, strata=strata, clusters=[cluster])
    return design, y, domain, weights


def rel_close(a: float | None, b: float | None, tol: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=tol, abs_tol=1e-12)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(samples(), st.floats(1e-3, 1e4), st.sampled_from(INTERVAL_METHODS + ("asin",)))
def test_proportions_do_not_depend_on_the_scale_of_the_weights(sample, c, method) -> None:
    design, y, _, weights = sample
    scaled = Design.create(weights=weights * c, strata=design.strata, clusters=[design.psu])
    try:
        a = svyciprop(y, design, method=method)
    except EstimationError:
        return
    b = svyciprop(y, scaled, method=method)
    for field in ("value", "se", "ci_low", "ci_high", "df"):
        assert rel_close(getattr(a, field), getattr(b, field), 1e-7), field
    # deff compares with SRS without replacement from a population of sum(w): not invariant
    m_a, m_b = svymean(y, design), svymean(y, scaled)
    assert rel_close(m_a.value, m_b.value) and rel_close(m_a.se, m_b.se)
    t_a, t_b = svytotal(y, design), svytotal(y, scaled)
    assert rel_close(t_a.value * c, t_b.value) and rel_close(t_a.se * c, t_b.se)


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(samples(), st.sampled_from([0.9, 0.95, 0.99]))
def test_intervals_contain_the_estimate_and_stay_in_0_1(sample, level) -> None:
    design, y, domain, _ = sample
    for method in INTERVAL_METHODS + ("asin",):
        for mask in (None, domain):
            try:
                est = svyciprop(y, design, method=method, level=level, domain=mask)
            except EstimationError:
                continue
            assert isinstance(est, Estimate)
            values = (est.value, est.se, est.ci_low, est.ci_high)
            assert all(math.isfinite(v) for v in values)
            if method in INTERVAL_METHODS:
                assert est.ci_low <= est.value + 1e-12 and est.value <= est.ci_high + 1e-12
            if method in BOUNDED_METHODS:
                assert 0.0 <= est.ci_low <= est.ci_high <= 1.0, method


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(samples(), st.sampled_from(INTERVAL_METHODS))
def test_svyby_equals_one_domain_at_a_time(sample, method) -> None:
    design, y, domain, _ = sample
    groups = np.where(domain, "in", "out")
    for key, est in svyby(y, groups, design, svyciprop, method=method, errors="keep"):
        try:
            single = svyciprop(y, design, method=method, domain=groups == key)
        except EstimationError:
            assert isinstance(est, EstimationError)
            continue
        assert isinstance(est, Estimate) and est.domain == key
        for field in ("value", "se", "ci_low", "ci_high", "df", "deff", "n"):
            assert rel_close(getattr(est, field), getattr(single, field), 1e-12), field


@settings(max_examples=examples(40), deadline=None)
@given(samples())
def test_row_order_and_labels_do_not_matter(sample) -> None:
    design, y, _, weights = sample
    rng = np.random.default_rng(0)
    order = rng.permutation(y.size)
    relabel = rng.permutation(design.n_psu) * 7 + 3
    shuffled = Design.create(
        weights=weights[order],
        strata=np.array([f"s{s}" for s in design.strata])[order],
        clusters=[relabel[design.psu][order]],
    )
    a, b = svymean(y, design), svymean(y[order], shuffled)
    assert rel_close(a.value, b.value) and rel_close(a.se, b.se) and a.df == b.df


@settings(max_examples=examples(40), deadline=None)
@given(samples())
def test_missing_values_are_a_domain(sample) -> None:
    design, y, domain, _ = sample
    assume(domain.sum() > 2)
    with_missing = np.where(domain, y, np.nan)
    a = svyciprop(with_missing, design, method="mean", df=math.inf)
    b = svyciprop(y, design, method="mean", domain=domain, df=math.inf)
    assert rel_close(a.value, b.value) and rel_close(a.se, b.se) and a.n == b.n
