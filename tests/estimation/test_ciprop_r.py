"""svyciprop against R's survey package (tests/fixtures/r/ciprop_reference.R, ciprop_wilson.R).

Every method at levels 0.9/0.95/0.99 on stratified, one-stage and two-stage cluster designs
with fpc, domains, and 0%/100% domains. Tolerances:

- estimates, SEs, design effects and interval bounds: 1e-8 relative (observed: 1e-13);
- ``likelihood``: R interpolates a cubic spline through a profile grid spaced ``zmax/5``
  standard errors apart, which moves its bounds by up to 1.5e-3 relative on these data; we
  solve the profile equation exactly, so bounds agree within 2e-3 relative with R's
  ``svyciprop`` and within 1e-10 with the exact root of the same equation computed in R
  (``exact_ci_low``/``exact_ci_high``, uniroot to 1e-14);
- ``asin``: where the interval on the arcsine scale leaves [0, pi/2], R's ``sin()^2`` wraps
  round (the lower bound can exceed the upper); ours is clipped to 0 or 1 there;
- ``logit`` at 0%/100%: R's glm stops after 25 iterations at a log-odds near +-25, so its
  estimate and bounds sit within 1e-10 of 0 or 1; we agree within 1e-9 absolute and report the
  estimate and the bound at the boundary as exactly 0 or 1.
"""

from __future__ import annotations

import json
import math

import pytest
from r_reference import (
    FIXTURES,
    boundary_beta,
    close,
    design_from_spec,
    domain_mask,
    numeric,
    reference,
)

from surveyapp.estimation.estimates import svyciprop, t_quantile


def json_fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


CASES = reference("ciprop_reference.json")
WILSON = reference("ciprop_wilson.json")


def run(case: dict, **kwargs):
    spec = case["design"]
    return svyciprop(
        numeric(spec["data"], case["var"]),
        design_from_spec(spec),
        method=case["method"],
        level=case["level"],
        domain=domain_mask(spec["data"], case["domain"]),
        **kwargs,
    )


def is_boundary(case: dict) -> bool:
    return "鼓楼" in case["id"] or "group=none" in case["id"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_matches_r(case: dict) -> None:
    expected = case["result"]
    if "error" in expected:
        return  # see test_where_r_gives_no_interval
    est = run(case)
    assert est.df == expected["df"]
    assert est.n == expected["n"]
    assert close(est.se, expected["se"], atol=1e-300)
    assert close(est.deff, expected["deff"])
    if is_boundary(case):
        # R's logit and mean intervals have zero width here: see test_where_r_gives_no_interval.
        assert math.isclose(est.value, expected["value"], abs_tol=1e-9)
        assert est.value in (0.0, 1.0)
        assert_boundary_beta(case, est)
        return
    assert close(est.value, expected["value"])
    if case["method"] == "likelihood":
        assert close(est.ci_low, expected["ci_low"], rtol=2e-3)
        assert close(est.ci_high, expected["ci_high"], rtol=2e-3)
        assert close(est.ci_low, expected["exact_ci_low"], rtol=1e-10)
        assert close(est.ci_high, expected["exact_ci_high"], rtol=1e-10)
    else:
        for field in ("ci_low", "ci_high"):
            ours, theirs = getattr(est, field), expected[field]
            if asin_clipped(case, ours):
                continue
            assert close(ours, theirs, atol=1e-300), field


def asin_clipped(case: dict, bound: float) -> bool:
    """R's asin interval wraps round past 0 or pi/2 (sin^2); ours stops at 0 or 1."""
    return case["method"] == "asin" and bound in (0.0, 1.0)


BOUNDARY_ERRORS = [c for c in CASES if "error" in c["result"]]


@pytest.mark.parametrize("case", BOUNDARY_ERRORS, ids=[c["id"] for c in BOUNDARY_ERRORS])
def test_where_r_gives_no_interval(case: dict) -> None:
    """0% and 100% domains: R stops (likelihood) or returns NaN (asin, beta, xlogit)."""
    assert is_boundary(case)
    est = run(case)
    assert est.value in (0.0, 1.0)
    assert est.se == 0.0
    assert_boundary_beta(case, est)


def assert_boundary_beta(case: dict, est) -> None:
    """No interval of zero width (issue 18): the Korn-Graubard interval with design effect 1,
    as R computes it in boundary_beta.R, for every method; marked when it replaced another."""
    spec = case["design"]
    domain = case["domain"]
    ref = boundary_beta(spec["data"], case["var"], domain["var"], domain["value"], case["level"])
    assert est.n == ref["n"] and est.df == ref["df"]
    assert est.method == "beta"
    assert est.fallback == ("" if case["method"] == "beta" else "beta")
    assert "Korn-Graubard" in est.note
    assert est.ci_high - est.ci_low > 0.1
    for field in ("ci_low", "ci_high"):
        assert close(getattr(est, field), ref[field], rtol=1e-12, atol=1e-300), field
    # The same numbers from the formula (Korn & Graubard 1998, design effect 1).
    a = 1 - case["level"]
    n_eff = est.n * (t_quantile(a / 2, est.n - 1) / t_quantile(a / 2, est.df)) ** 2
    if est.value == 1.0:
        assert est.ci_high == 1.0
        assert math.isclose(est.ci_low, (a / 2) ** (1 / n_eff), rel_tol=1e-12)
    else:
        assert est.ci_low == 0.0
        assert math.isclose(est.ci_high, 1 - (a / 2) ** (1 / n_eff), rel_tol=1e-12)


def test_r_beta_code_is_svyciprop_beta() -> None:
    assert json_fixture("boundary_beta.json")["beta_check"] is True


@pytest.mark.parametrize("case", WILSON, ids=[c["id"] for c in WILSON])
def test_wilson(case: dict) -> None:
    expected = case["result"]
    df = math.inf if case["df"] == "Inf" else None
    est = run(case, df=df)
    if "error" in expected:
        # 0%/100%: R's formula gives 0/0; we take n_eff = respondents (design effect 1).
        z = t_quantile(1 - (1 - case["level"]) / 2, est.df)
        n = est.n
        if est.value == 0.0:
            assert est.ci_low == 0.0
            assert math.isclose(est.ci_high, z * z / (n + z * z), rel_tol=1e-12)
        else:
            assert est.ci_high == 1.0
            assert math.isclose(est.ci_low, n / (n + z * z), rel_tol=1e-12)
        return
    for field in ("value", "se", "ci_low", "ci_high"):
        assert close(getattr(est, field), expected[field]), field
    assert est.n == expected["n"]
