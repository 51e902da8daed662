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
