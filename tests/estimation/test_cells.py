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
        np.testing.assert_allclose(
            cells.residual_unit_totals(sums), expected, rtol=0, atol=1e-12 * scale
        )
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


def _zero_weight_designs(seed: int):
    """Raked and post-stratified designs where some respondents have weight 0."""
    rng, n, psu, (raked, both, post) = _designs(seed, False)
    out = []
    for design in (raked, both, post):
        w = np.asarray(design.weights).copy()
        w[rng.random(n) < 0.05] = 0.0
        base = Design.create(weights=w, strata=psu // 10, clusters=[psu], lonely_psu="adjust")
        sex = rng.integers(0, 2, n)
        out.append(poststratify(base, sex, {0: float(w.sum()) * 0.55, 1: float(w.sum()) * 0.6}))
    return rng, n, psu, out


@pytest.mark.parametrize("zero_weights", [False, True])
def test_cell_sums_equal_the_row_sums(monkeypatch, zero_weights):
    """Every domain estimate from per-cell sums equals the one from per-row sums: binary and
    non-binary values, rows in no domain, respondents with weight 0, glm's first step from the
    rows when a cell's prior weight is beyond its clamp."""
    from surveyapp.estimation import cells as cells_module
    from surveyapp.estimation import estimates as est_module

    rng, n, psu, designs = _zero_weight_designs(3) if zero_weights else _designs(3, False)
    y = (rng.random(n) < 0.6).astype(float)
    y[rng.random(n) < 0.1] = np.nan
    score = np.round(rng.normal(70, 15, n))
    score[rng.random(n) < 0.1] = np.nan
    by = psu.astype(object)
    by[rng.random(n) < 0.05] = None  # rows in no domain

    def everything(design):
        out = []
        for fn, values, kwargs in (
            (svyciprop, y, {"method": "logit"}),
            (svyciprop, y, {"method": "likelihood"}),
            (svyciprop, y, {"method": "beta"}),
            (svymean, score, {}),
        ):
            out.append([(k, e) for k, e in svyby(values, by, design, fn, errors="keep", **kwargs)])
            out.append(fn(values, design, **kwargs))
        return out

    for design in designs:
        assert cell_design(design) is not None
        by_cells = everything(design)
        with monkeypatch.context() as patch:
            patch.setattr(est_module, "_irls_start_sums_grouped", lambda *a: None)
            by_cells_rows_start = everything(design)
        with monkeypatch.context() as patch:
            patch.setattr(cells_module, "cell_design", lambda d: None)
            by_rows = everything(design)
        for got, other in ((by_cells, by_rows), (by_cells_rows_start, by_rows)):
            for a, b in zip(_flatten(got), _flatten(other), strict=True):
                assert a[0] == b[0]
                if isinstance(b[1], Exception):
                    assert str(a[1]) == str(b[1])
                    continue
                for field in ("value", "se", "ci_low", "ci_high", "deff"):
                    x, z = getattr(a[1], field), getattr(b[1], field)
                    assert (x is None) == (z is None), field
                    if z is not None:
                        assert x == pytest.approx(z, rel=1e-9, abs=1e-12), (a[0], field)
                assert (a[1].n, a[1].df) == (b[1].n, b[1].df)


def _flatten(results):
    for part in results:
        if isinstance(part, list):
            yield from part
        else:
            yield ("ALL", part)
