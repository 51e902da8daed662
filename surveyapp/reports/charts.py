"""Charts drawn with reportlab graphics: estimates with CI whiskers, trends across waves."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from ..estimation import Estimate
from .fonts import FontSet
from .layout import ACCENT, DISTRICT, GRID, MUTED


@dataclass(frozen=True)
class ChartRow:
    """One row of a CI chart: a label, an estimate (or None) and its reference value."""

    label: str
    estimate: Estimate | None
    reference: float | None = None
    highlight: bool = False


def _fit(text: str, font: str, size: float, width: float) -> str:
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _nice_step(span: float) -> float:
    for step in (1, 2, 5, 10, 20, 25, 50):
        if span / step <= 8:
            return step
    return 100


def _axis(
    values: Sequence[float], scale: float, upper_cap: float | None
) -> tuple[float, float, float]:
    lo, hi = min(values) * scale, max(values) * scale
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    step = _nice_step(hi - lo)
    lo = math.floor(lo / step) * step
    hi = math.ceil(hi / step) * step
    if upper_cap is not None:
        hi = min(hi, upper_cap)
        lo = max(lo, 0.0)
    if hi <= lo:
        hi = lo + step
    return lo, hi, step


def ci_chart(
    rows: Sequence[ChartRow],
    fonts: FontSet,
    *,
    width: float,
    kind: str = "rate",
    reference_line: float | None = None,
    legend: tuple[str, str] = ("", ""),
    label_width: float = 120,
    row_height: float = 15,
) -> Drawing:
    """Point estimates with confidence-interval whiskers, one row each.

    The reference (the district) is a red tick per row, or one red line across all rows when
    ``reference_line`` is given (the district overview's league chart).
    """
    scale = 100.0 if kind == "rate" else 1.0
    values: list[float] = []
    for r in rows:
        if r.estimate is not None:
            values += [
                v
                for v in (r.estimate.ci_low, r.estimate.ci_high, r.estimate.value)
                if v is not None and math.isfinite(v)
            ]
        if r.reference is not None and math.isfinite(r.reference):
            values.append(r.reference)
    if reference_line is not None:
        values.append(reference_line)
    lo, hi, step = _axis(values or [0.0, 1.0], scale, 100.0 if kind == "rate" else None)
    top_pad, bottom_pad = 6, 34
    height = top_pad + bottom_pad + row_height * len(rows)
    d = Drawing(width, height)
    x0, x1 = label_width + 6, width - 10

    def x(v: float) -> float:
        return x0 + (min(max(v * scale, lo), hi) - lo) / (hi - lo) * (x1 - x0)

    y_axis = bottom_pad
    # grid and ticks
    tick = lo
    while tick <= hi + 1e-9:
        xt = x0 + (tick - lo) / (hi - lo) * (x1 - x0)
        d.add(Line(xt, y_axis, xt, height - top_pad, strokeColor=GRID, strokeWidth=0.3))
        d.add(
            String(
                xt,
                y_axis - 10,
                f"{tick:g}",
                fontName=fonts.latin,
                fontSize=7,
                textAnchor="middle",
                fillColor=MUTED,
            )
        )
        tick += step
    d.add(Line(x0, y_axis, x1, y_axis, strokeColor=MUTED, strokeWidth=0.5))
    for i, r in enumerate(rows):
        yc = height - top_pad - row_height * (i + 0.5)
        if r.highlight:
            d.add(
                Rect(
                    0,
                    yc - row_height / 2,
                    width,
                    row_height,
                    fillColor=colors.HexColor("#fff6d6"),
                    strokeColor=None,
                )
            )
        d.add(
            String(
                label_width,
                yc - 3,
                _fit(r.label, fonts.cjk, 8, label_width),
                fontName=fonts.cjk,
                fontSize=8,
                textAnchor="end",
            )
        )
        if r.reference is not None and math.isfinite(r.reference) and reference_line is None:
            xr = x(r.reference)
            d.add(
                Line(
                    xr,
                    yc - row_height * 0.4,
                    xr,
                    yc + row_height * 0.4,
                    strokeColor=DISTRICT,
                    strokeWidth=1.6,
                )
            )
        est = r.estimate
        if est is None or not math.isfinite(est.value):
            d.add(String(x0 + 4, yc - 3, "—", fontName=fonts.cjk, fontSize=8, fillColor=MUTED))
            continue
        if math.isfinite(est.ci_low) and math.isfinite(est.ci_high):
            xl, xh = x(est.ci_low), x(est.ci_high)
            d.add(Line(xl, yc, xh, yc, strokeColor=ACCENT, strokeWidth=1.1))
            d.add(Line(xl, yc - 3, xl, yc + 3, strokeColor=ACCENT, strokeWidth=1.1))
            d.add(Line(xh, yc - 3, xh, yc + 3, strokeColor=ACCENT, strokeWidth=1.1))
        d.add(
            Circle(
                x(est.value), yc, 2.8, fillColor=ACCENT, strokeColor=colors.white, strokeWidth=0.5
            )
        )
    if reference_line is not None:
        xr = x(reference_line)
        d.add(
            Line(
                xr,
                y_axis,
                xr,
                height - top_pad,
                strokeColor=DISTRICT,
                strokeWidth=1.2,
                strokeDashArray=[3, 2],
            )
        )
    # legend
    ly = 8
    d.add(Line(x0, ly + 3, x0 + 16, ly + 3, strokeColor=ACCENT, strokeWidth=1.1))
    d.add(Circle(x0 + 8, ly + 3, 2.8, fillColor=ACCENT, strokeColor=colors.white))
    d.add(String(x0 + 20, ly, legend[0], fontName=fonts.cjk, fontSize=7.5))
    lx = x0 + 30 + stringWidth(legend[0], fonts.cjk, 7.5)
    d.add(Line(lx, ly - 1, lx, ly + 7, strokeColor=DISTRICT, strokeWidth=1.6))
    d.add(String(lx + 5, ly, legend[1], fontName=fonts.cjk, fontSize=7.5))
    return d


@dataclass(frozen=True)
class TrendPoint:
    """One wave of a trend chart: the street's and the district's estimates (None: none)."""

    wave: str
    street: Estimate | None
    district: Estimate | None


def trend_chart(
    title: str,
    points: Sequence[TrendPoint],
    fonts: FontSet,
    *,
    width: float,
    height: float = 150,
    kind: str = "rate",
    legend: tuple[str, str] = ("", ""),
) -> Drawing:
    """The street's estimate per wave with CI whiskers, and the district's as a dashed line."""
    scale = 100.0 if kind == "rate" else 1.0
    values = []
    for p in points:
        for e in (p.street, p.district):
            if e is not None:
                values += [v for v in (e.value, e.ci_low, e.ci_high) if math.isfinite(v)]
    lo, hi, step = _axis(values or [0.0, 1.0], scale, 100.0 if kind == "rate" else None)
    d = Drawing(width, height)
    x0, x1, y0, y1 = 30, width - 12, 36, height - 20
    d.add(
        String(
            x0,
            height - 12,
            _fit(title, fonts.cjk, 9, width - x0),
            fontName=fonts.cjk,
            fontSize=9,
            fillColor=ACCENT,
        )
    )

    def y(v: float) -> float:
        return y0 + (min(max(v * scale, lo), hi) - lo) / (hi - lo) * (y1 - y0)

    tick = lo
    while tick <= hi + 1e-9:
        yt = y0 + (tick - lo) / (hi - lo) * (y1 - y0)
        d.add(Line(x0, yt, x1, yt, strokeColor=GRID, strokeWidth=0.3))
        d.add(
            String(
                x0 - 3,
                yt - 2.5,
                f"{tick:g}",
                fontName=fonts.latin,
                fontSize=6.5,
                textAnchor="end",
                fillColor=MUTED,
            )
        )
        tick += step
    n = len(points)

    def x(i: int) -> float:
        return (x0 + x1) / 2 if n == 1 else x0 + 14 + i * (x1 - x0 - 28) / (n - 1)

    for i, p in enumerate(points):
        d.add(String(x(i), y0 - 11, p.wave, fontName=fonts.cjk, fontSize=7, textAnchor="middle"))
    district = [
        (x(i), y(p.district.value))
        for i, p in enumerate(points)
        if p.district is not None and math.isfinite(p.district.value)
    ]
    for (xa, ya), (xb, yb) in zip(district, district[1:], strict=False):
        d.add(Line(xa, ya, xb, yb, strokeColor=DISTRICT, strokeWidth=1, strokeDashArray=[3, 2]))
    for xd, yd in district:
        d.add(
            Polygon(
                [xd - 2.5, yd, xd, yd + 2.5, xd + 2.5, yd, xd, yd - 2.5],
                fillColor=DISTRICT,
                strokeColor=None,
            )
        )
    street = [
        (i, p.street)
        for i, p in enumerate(points)
        if p.street is not None and math.isfinite(p.street.value)
    ]
    for (ia, ea), (ib, eb) in zip(street, street[1:], strict=False):
        d.add(Line(x(ia), y(ea.value), x(ib), y(eb.value), strokeColor=ACCENT, strokeWidth=1.2))
    for i, e in street:
        if math.isfinite(e.ci_low) and math.isfinite(e.ci_high):
            d.add(Line(x(i), y(e.ci_low), x(i), y(e.ci_high), strokeColor=ACCENT, strokeWidth=0.9))
            for v in (e.ci_low, e.ci_high):
                d.add(Line(x(i) - 3, y(v), x(i) + 3, y(v), strokeColor=ACCENT, strokeWidth=0.9))
        d.add(Circle(x(i), y(e.value), 2.8, fillColor=ACCENT, strokeColor=colors.white))
    ly = 6
    d.add(Circle(x0 + 4, ly + 3, 2.8, fillColor=ACCENT, strokeColor=colors.white))
    d.add(String(x0 + 10, ly, legend[0], fontName=fonts.cjk, fontSize=7))
    lx = x0 + 22 + stringWidth(legend[0], fonts.cjk, 7)
    d.add(Line(lx, ly + 3, lx + 14, ly + 3, strokeColor=DISTRICT, strokeDashArray=[3, 2]))
    d.add(String(lx + 18, ly, legend[1], fontName=fonts.cjk, fontSize=7))
    return d
