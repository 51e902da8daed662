"""Totals and means against R's survey package (tests/fixtures/r/design_reference.R).

Designs: stratified, one- and two-stage cluster with and without fpc, weights from fpc, domains,
and every lonely-PSU rule. Estimates, SEs, interval bounds and design effects agree within
1e-8 relative; where R stops or returns NaN we raise EstimationError.
"""

from __future__ import annotations

import pytest
from r_reference import close, design_from_spec, domain_mask, numeric, reference

from surveyapp.estimation import EstimationError, LonelyPSUError
from surveyapp.estimation.estimates import svymean, svytotal

CASES = reference("design_reference.json")


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_matches_r(case: dict) -> None:
    spec = case["design"]
    fn = svytotal if case["estimator"] == "total" else svymean
    expected = case["result"]

    def run():
        design = design_from_spec(spec)
        return fn(
            numeric(spec["data"], case["var"]),
            design,
            domain=domain_mask(spec["data"], case["domain"]),
            level=case["level"],
        )

    if "error" in expected:
        with pytest.raises(EstimationError) as info:
            run()
        if "only one PSU" in expected["error"]:
            assert isinstance(info.value, LonelyPSUError)
            assert "only one PSU" in str(info.value)
        return
    est = run()
    for field in ("value", "se", "ci_low", "ci_high", "df", "deff"):
        assert close(getattr(est, field), expected[field]), (
            field,
            getattr(est, field),
            expected[field],
        )
    assert est.n == expected["n"]
