"""svyby against R's survey package (tests/fixtures/r/domain_reference.R).

R's ``svyby(~y, ~by, design, svyciprop)`` evaluates svyciprop's default ``df = degf(design)``
on each domain's subset: the fixture checks that ``svyciprop(~y, subset(design, domain))``
reproduces every svyby interval exactly (``df_check``), and records ``degf`` of the subset,
which is what :func:`svyby` uses. Tolerances as in test_ciprop_r.py.
"""

from __future__ import annotations

import math

import pytest
from r_reference import boundary_beta, close, design_from_spec, labels, numeric, reference

from surveyapp.estimation import Estimate, EstimationError
from surveyapp.estimation.estimates import svyby, svyciprop, svymean, svytotal

CASES = reference("domain_reference.json")
FUNS = {"svyciprop": svyciprop, "svymean": svymean, "svytotal": svytotal}


def run(case: dict, **kwargs) -> dict:
    spec = case["design"]
    data = spec["data"]
    by = case["by"] if isinstance(case["by"], list) else [case["by"]]
    arrays = [labels(data, b) for b in by]
    extra = {"method": case["method"]} if case["fun"] == "svyciprop" else {}
    out = svyby(
        numeric(data, case["var"]),
        arrays if len(arrays) > 1 else arrays[0],
        design_from_spec(spec),
        FUNS[case["fun"]],
        errors="keep",
        level=case["level"],
        **extra,
        **kwargs,
    )
    return dict(out)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_svyby_matches_r(case: dict) -> None:
    rows = case["rows"]
    spec = case["design"]
    assert isinstance(rows, list), rows
    ours = run(case)
    assert len(ours) >= len(rows)
    normal = None
    for row in rows:
        key = tuple(row["key"]) if len(row["key"]) > 1 else row["key"][0]
        est = ours[key]
        if row["df"] <= 0:
            # No interval without degrees of freedom: the domain's error names it, and a
            # Normal-based rerun (df=inf) still reproduces R's estimate and SE.
            assert isinstance(est, EstimationError)
            assert str(key) in str(est)
            if case.get("method") == "beta":
                continue  # beta uses degf whatever df is given, as in R
            normal = normal or run(case, df=math.inf)
            est = normal[key]
            assert isinstance(est, Estimate)
            assert close(est.value, row["value"]) and close(est.se, row["se"])
            continue
        assert isinstance(est, Estimate), est
        assert est.df == row["df"] and est.n == row["n"]
        assert close(est.se, row["se"], atol=1e-300)
        if "deff" in row:
            assert close(est.deff, row.get("deff"))
        if case["fun"] != "svyciprop":
            assert close(est.value, row["value"])
            continue
        p = est.value
        if p in (0.0, 1.0):
            assert math.isclose(p, row["value"], abs_tol=1e-9)
            # R's logit and mean intervals have zero width here, asin, beta and xlogit give
            # NaN: every method but wilson publishes the Korn-Graubard interval with design
            # effect 1, computed by R in boundary_beta.R (issue 18).
            if case["method"] == "wilson":
                continue
            ref = boundary_beta(spec["data"], case["var"], case["by"], key, case["level"])
            assert ref["n"] == est.n and ref["df"] == est.df
            assert est.method == "beta" and est.ci_high > est.ci_low
            assert est.fallback == ("" if case["method"] == "beta" else "beta")
            for field in ("ci_low", "ci_high"):
                assert close(getattr(est, field), ref[field], rtol=1e-12, atol=1e-300), field
            continue
        assert close(p, row["value"])
        for field in ("ci_low", "ci_high"):
            expected = row.get(field)
            if case["method"] == "likelihood":
                # The same profile equation solved in R with uniroot agrees to 1e-10. R's own
                # spline through its profile grid is coarse at small df (a factor 3 off at
                # df = 2, level 0.99; NA where the grid stops short): compare from df = 5.
                assert close(getattr(est, field), row[f"exact_{field}"], rtol=1e-10)
                if expected is not None and row["df"] >= 5:
                    assert close(getattr(est, field), expected, rtol=2e-3)
            elif expected is None:  # R's expit overflows to NaN at huge log-odds
                assert case["method"] == "logit" and getattr(est, field) == 1.0
            elif case["method"] == "asin" and getattr(est, field) in (0.0, 1.0):
                continue  # R's sin()^2 wraps round past pi/2; ours is clipped
            else:
                assert close(getattr(est, field), expected, atol=1e-300), field


def test_r_uses_the_domain_degrees_of_freedom() -> None:
    checked = [
        r for c in CASES if isinstance(c["rows"], list) for r in c["rows"] if "df_check" in r
    ]
    finite = [r for r in checked if r.get("ci_high") is not None and r.get("ci_low") is not None]
    assert finite and all(r["df_check"] for r in finite)
    assert any(r["df"] != r["df_design"] for r in finite)
