"""Variances from merged cells equal the row-by-row calibration residuals (R's algebra)."""

from __future__ import annotations

import numpy as np
import pytest

from surveyapp.estimation import Design
from surveyapp.estimation.cells import cell_design
from surveyapp.estimation.estimates import svyby, svyciprop, svymean
from surveyapp.estimation.weighting import poststratify, rake


def _designs(seed: int, varying_weights: bool):
    rng = np.random.default_rng(seed)
    n = 3000
    stratum = rng.integers(0, 5, n)
    psu = stratum * 10 + rng.integers(0, 6, n)
    sex = rng.integers(0, 2, n)
    age = rng.integers(0, 4, n)
    w = rng.uniform(5, 50, n) if varying_weights else rng.choice([10.0, 20.0, 30.0], n)
    base = Design.create(weights=w, strata=stratum, clusters=[psu], lonely_psu="adjust")

    grand = float(w.sum()) * 1.1

    def totals(a):
        raw = {k: float(w[a == k].sum()) * rng.uniform(0.9, 1.2) for k in np.unique(a)}
        return {k: v * grand / sum(raw.values()) for k, v in raw.items()}

    raked = rake(base, [(stratum, totals(stratum)), (sex, totals(sex)), (age, totals(age))])
    both = poststratify(raked, age, totals(age))
    return rng, n, psu, (raked, both, poststratify(base, sex, totals(sex)))


def _row_path(design: Design, x: np.ndarray) -> np.ndarray:
    for cal in design.calibrations:
        x = cal.residuals(x, design)
    return design.unit_totals(x)


@pytest.mark.parametrize("varying_weights", [False, True])
def test_cell_residual_unit_totals_equal_the_rows(varying_weights):
    rng, n, _psu, designs = _designs(1, varying_weights)
    for design in designs:
        cells = cell_design(design)
        assert cells is not None
        if not varying_weights:
            assert cells.n_cells < n / 2  # rows really merge
        x = rng.normal(size=(n, 3))
        expected = _row_path(design, x)
        sums = cells.cell_sums(x)
        scale = np.abs(expected).max()
        np.testing.assert_allclose(cells.residual_unit_totals(sums), expected, rtol=0,
                                   atol=1e-12 * scale)
        np.testing.assert_allclose(cells.iterate(sums), expected, rtol=0, atol=1e-12 * scale)


def test_domains_at_once_equal_one_domain_at_a_time():
    rng, n, psu, designs = _designs(2, False)
    y = (rng.random(n) < 0.7).astype(float)
    y[rng.random(n) < 0.1] = np.nan
    score = rng.normal(50, 10, n)
    for design in designs:
        for by in (psu, psu // 10):  # domains within units, and strata
            for fn, values in ((svyciprop, y), (svymean, score)):
                together = dict(svyby(values, by, design, fn, df=np.inf))
                for key, est in together.items():
                    alone = fn(values, design, domain=by == key, df=np.inf)
                    assert est.value == pytest.approx(alone.value, rel=1e-12)
                    assert est.se == pytest.approx(alone.se, rel=1e-9)
                    # ... and the row-by-row residuals give the same variance
                    inside = (by == key) & ~np.isnan(values)
                    w = design.weights
                    m = np.sum(w[inside] * values[inside]) / np.sum(w[inside])
                    x = np.where(inside, w * (np.nan_to_num(values) - m), 0.0) / np.sum(w[inside])
                    z = _row_path(design, x[:, None])
                    var = design.covariance_from_unit_totals(z)[0, 0]
                    assert est.se == pytest.approx(np.sqrt(var), rel=1e-9)
