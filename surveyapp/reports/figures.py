"""How numbers are printed in reports: rates in percent, scores in points, one decimal.

Every figure a report prints goes through these functions, so the tests can read the PDF
back and compare it with the estimates.
"""

from __future__ import annotations

import math
from typing import Any

from ..estimation import Estimate
from ..estimation.compare import Comparison

DASH = "—"  # no estimate (too few respondents, not estimable)
EN_DASH = "–"


def _finite(x: float | None) -> bool:
    return x is not None and isinstance(x, int | float) and math.isfinite(x)


def scale(kind: str) -> float:
    """Rates are printed in percent, scores in their own points."""
    return 100.0 if kind == "rate" else 1.0


def number(x: float | None, kind: str = "rate", digits: int = 1) -> str:
    """``0.9372`` -> ``93.7`` (rate) ; ``82.87`` -> ``82.9`` (score); ``—`` if missing."""
    if x is None or not _finite(x):
        return DASH
    text = f"{x * scale(kind):.{digits}f}"
    return text[1:] if _is_zero(text) and text.startswith("-") else text


def value(est: Estimate | None, kind: str = "rate") -> str:
    """The point estimate: ``93.7%`` or ``82.9``."""
    if est is None or not _finite(est.value):
        return DASH
    return number(est.value, kind) + ("%" if kind == "rate" else "")


def value_text(x: float | None, kind: str = "rate") -> str:
    """A bare value as an estimate prints: ``93.7%`` or ``82.9``; ``—`` if missing."""
    if not _finite(x):
        return DASH
    return number(x, kind) + ("%" if kind == "rate" else "")


def share(x: float | None) -> str:
    """A share given as a number: ``93.7%``."""
    return DASH if not _finite(x) else number(x) + "%"


def interval(est: Estimate | None, kind: str = "rate") -> str:
    """The confidence interval: ``92.2–95.0`` (same unit as the estimate)."""
    if est is None or not (_finite(est.ci_low) and _finite(est.ci_high)):
        return DASH
    return f"{number(est.ci_low, kind)}{EN_DASH}{number(est.ci_high, kind)}"


def difference(cmp: Comparison | None, kind: str = "rate") -> str:
    """A difference with its sign: ``+4.5`` (percentage points for rates)."""
    if cmp is None or not _finite(cmp.difference):
        return DASH
    text = number(cmp.difference, kind)
    return text if _is_zero(text) or text.startswith("-") else "+" + text


def rank(r: Any) -> str:
    """A rank with its interval of plausible ranks: ``4 (2–7)``."""
    if r is None:
        return DASH
    return f"{_whole(r.rank)} ({_whole(r.low)}{EN_DASH}{_whole(r.high)})"


def _whole(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"


def _is_zero(text: str) -> bool:
    return all(ch in "-+0." for ch in text)
