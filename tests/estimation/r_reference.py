"""Load the R reference fixtures (tests/fixtures/r/design_*, ciprop_*, domain_*) into designs."""

from __future__ import annotations

import csv
import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from surveyapp.estimation import Design

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "r"
RTOL = 1e-8


@cache
def table(name: str) -> dict[str, list[str]]:
    """Columns of a fixture CSV as lists of strings ("" for R's NA)."""
    with (FIXTURES / name).open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    return {col: [r[i] for r in body] for i, col in enumerate(header)}


def numeric(name: str, column: str) -> np.ndarray:
    return np.array([float(v) if v != "" else math.nan for v in table(name)[column]])


def labels(name: str, column: str) -> np.ndarray:
    return np.array(table(name)[column], dtype=object)


def reference(name: str) -> list[dict[str, Any]]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))["cases"]


def design_from_spec(spec: dict[str, Any], lonely_psu: str | None = None) -> Design:
    data = spec["data"]
    clusters = spec.get("clusters") or []
    fpc = spec.get("fpc") or []
    if isinstance(clusters, str):
        clusters = [clusters]
    if isinstance(fpc, str):
        fpc = [fpc]
    return Design.create(
        weights=numeric(data, spec["weights"]) if spec.get("weights") else None,
        strata=labels(data, spec["strata"]) if spec.get("strata") else None,
        clusters=[labels(data, c) for c in clusters] or None,
        fpc=[numeric(data, c) for c in fpc] or None,
        lonely_psu=lonely_psu or spec.get("lonely_psu", "fail"),
    )


def domain_mask(data: str, domain: dict[str, str] | None) -> np.ndarray | None:
    if not domain:
        return None
    return labels(data, domain["var"]) == domain["value"]


def close(
    actual: float | None, expected: float | None, rtol: float = RTOL, atol: float = 0.0
) -> bool:
    if expected is None:
        return actual is None
    if actual is None:
        return False
    return math.isclose(actual, expected, rel_tol=rtol, abs_tol=atol)


def boundary_beta(data: str, var: str, by: str | list[str], key: Any, level: float) -> dict:
    """R's Korn-Graubard interval (design effect 1) for a 0%/100% domain (boundary_beta.R)."""
    by_list = [by] if isinstance(by, str) else list(by)
    keys = [key] if not isinstance(key, tuple | list) else list(key)
    for case in reference("boundary_beta.json"):
        spec_data = "design_generated.csv"  # every boundary case of the fixtures
        case_by = [case["by"]] if isinstance(case["by"], str) else case["by"]
        case_key = case["key"] if isinstance(case["key"], list) else [case["key"]]
        if (
            data == spec_data
            and case["var"] == var
            and case_by == by_list
            and case_key == [str(k) for k in keys]
            and math.isclose(case["level"], level)
        ):
            return case
    raise KeyError((data, var, by, key, level))
