"""Weighting against R's survey package (fixtures from tests/fixtures/r/weighting_reference.R)."""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from surveyapp.estimation.design import Design
from surveyapp.estimation.estimates import svyciprop, svymean, svytotal
from surveyapp.estimation.weighting import (
    WeightingError,
    calibrate,
    poststratify,
    rake,
    trim,
)

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "r" / "weighting_reference.json"
RTOL = 1e-8


@cache
def reference() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def data(name: str) -> dict[str, np.ndarray]:
    columns = reference()["data"][name]
    return {key: np.asarray(value) for key, value in columns.items()}


def base_design(name: str) -> Design:
    d = data(name)
    if name == "apiclus1":
        return Design.create(weights=d["pw"], clusters=d["dnum"], fpc=d["fpc"])
    if name == "apistrat":
        return Design.create(weights=d["pw"], strata=d["stype"], fpc=d["fpc"])
    raise KeyError(name)


def model_matrix(formula: str, d: dict[str, np.ndarray]) -> tuple[np.ndarray, list[str]]:
    """R's model.matrix(~a + b) for the simple additive formulas used in the fixtures."""
    columns = [np.ones(d["pw"].size)]
    names = ["(Intercept)"]
    for term in formula.split("+"):
        values = d[term]
        if values.dtype.kind in "US":
            for level in sorted(set(values.tolist()))[1:]:
                columns.append((values == level).astype(float))
                names.append(f"{term}{level}")
        else:
            columns.append(values.astype(float))
            names.append(term)
    return np.column_stack(columns), names


def apply(design: Design, spec: dict[str, Any], d: dict[str, np.ndarray]) -> Design:
    kind = spec["kind"]
    if kind == "chain":
        for step in spec["steps"]:
            design = apply(design, step, d)
        return design
    if kind == "poststratify":
        return poststratify(design, d[spec["variable"]], spec["population"])
    if kind == "rake":
        margins = [
            (d[var], pop) for var, pop in zip(spec["variables"], spec["margins"], strict=True)
        ]
        return rake(design, margins, maxit=spec["maxit"], epsilon=spec["epsilon"])
    if kind == "calibrate":
        X, names = model_matrix(spec["formula"], d)
        totals = [spec["totals"][name] for name in names]
        lower, upper = spec["bounds"]
        bounds = None if (lower, upper) == ("-Inf", "Inf") else (float(lower), float(upper))
        return calibrate(design, X, totals, calfun=spec["calfun"], bounds=bounds)
    if kind == "trim":
        return trim(design, lower=spec["lower"], upper=spec["upper"], strict=spec["strict"])
    raise KeyError(kind)


def mean_and_se(design: Design, y: np.ndarray) -> tuple[float, float]:
    w = design.weights
    mean = float(np.sum(w * y) / np.sum(w))
    var = design.total_covariance(w * (y - mean) / np.sum(w))
    return mean, math.sqrt(var[0, 0])


def total_and_se(design: Design, y: np.ndarray) -> tuple[float, float]:
    w = design.weights
    var = design.total_covariance(w * y)
    return float(np.sum(w * y)), math.sqrt(var[0, 0])


CASES = [
    name for name, case in reference()["cases"].items() if isinstance(case, dict) and "spec" in case
]


@pytest.mark.parametrize("name", CASES)
def test_weights_match_r(name: str) -> None:
    case = reference()["cases"][name]
    d = data(case["data"])
    design = apply(base_design(case["data"]), case["spec"], d)
    np.testing.assert_allclose(design.weights, case["weights"], rtol=RTOL, atol=0)


@pytest.mark.parametrize("name", CASES)
def test_estimates_and_standard_errors_match_r(name: str) -> None:
    case = reference()["cases"][name]
    d = data(case["data"])
    design = apply(base_design(case["data"]), case["spec"], d)
    mean, se = mean_and_se(design, d["api00"].astype(float))
    assert mean == pytest.approx(case["mean_api00"], rel=RTOL)
    assert se == pytest.approx(case["se_mean_api00"], rel=RTOL)
    total, se = total_and_se(design, d["enroll"].astype(float))
    assert total == pytest.approx(case["total_enroll"], rel=RTOL)
    assert se == pytest.approx(case["se_total_enroll"], rel=RTOL)
    mean, se = mean_and_se(design, d["yes"].astype(float))
    assert mean == pytest.approx(case["mean_yes"], rel=RTOL)
    assert se == pytest.approx(case["se_mean_yes"], rel=RTOL)
    assert design.degf() == case["degf"]


def test_rake_nonconvergence_names_the_iterations() -> None:
    d = data("apiclus1")
    pops = reference()["cases"]["clus1_rake_tight"]["spec"]["margins"]
    margins = [(d[v], p) for v, p in zip(["stype", "sch.wide", "awards"], pops, strict=True)]
    r_message = reference()["cases"]["rake_nonconvergence_warning"]["message"]
    assert "after 2 iterations" in r_message
    with pytest.raises(WeightingError, match="did not converge after 2 iterations"):
        rake(base_design("apiclus1"), margins, maxit=2, epsilon=1e-9)


def test_calibration_failure_matches_r_iteration_count() -> None:
    d = data("apiclus1")
    X, names = model_matrix("stype+api99", d)
    totals = reference()["cases"]["clus1_calibrate_raking"]["spec"]["totals"]
    r_message = reference()["cases"]["calibrate_failure_warning"]["message"]
    eps = r_message.split("eps=")[1].split(" ")[0]
    with pytest.raises(WeightingError, match=r"did not converge in 51 iterations") as info:
        calibrate(
            base_design("apiclus1"),
            X,
            [totals[n] for n in names],
            calfun="raking",
            bounds=(0.8, 1.5),
        )
    assert f"{float(eps):.6g}" in str(info.value)


@pytest.mark.parametrize("name", CASES)
def test_svymean_svytotal_svyciprop_on_weighted_designs_match_r(name: str) -> None:
    case = reference()["cases"][name]
    d = data(case["data"])
    design = apply(base_design(case["data"]), case["spec"], d)
    mean = svymean(d["api00"].astype(float), design)
    assert mean.value == pytest.approx(case["mean_api00"], rel=RTOL)
    assert mean.se == pytest.approx(case["se_mean_api00"], rel=RTOL)
    assert mean.deff == pytest.approx(case["deff_mean_api00"], rel=RTOL)
    total = svytotal(d["enroll"].astype(float), design)
    assert total.value == pytest.approx(case["total_enroll"], rel=RTOL)
    assert total.se == pytest.approx(case["se_total_enroll"], rel=RTOL)
    rate = svyciprop(d["yes"].astype(float), design, method="logit")
    assert rate.value == pytest.approx(case["mean_yes"], rel=RTOL)
    assert rate.se == pytest.approx(case["se_mean_yes"], rel=RTOL)
    np.testing.assert_allclose([rate.ci_low, rate.ci_high], case["ciprop_logit_yes"], rtol=RTOL)
