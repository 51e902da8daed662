"""Results on screen: the league table, a street's page and a map, with the PDFs' numbers.

The officials' portal shows what the PDFs print, formatted by the same functions
(:mod:`surveyapp.reports.figures`) from the same results, so a number on screen and in the PDF
of a wave cannot differ. Everything here is plain data (dataclasses of strings) and inline SVG:
no Flask, no database, no JavaScript needed to read it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape, quoteattr

from . import figures
from .common import label, main_indicators, place_name, rate_items, score_items
from .district import district_row_label, street_statuses
from .model import ReportMeta
from .wording import report_language, translator

if TYPE_CHECKING:
    from ..estimation.compare import Comparison
    from ..estimation.types import Estimate
    from .results import ItemResult, WaveResults

#: Colours of the map's classes, low to high (a sequential palette readable in grey).
MAP_COLOURS = ("#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#67a9cf", "#2166ac")
NO_DATA = "#e0e0e0"


@dataclass(frozen=True)
class Figure:
    """One printed figure: its text, and how the PDF marks it."""

    text: str
    mark: str = ""  # "up" / "down" (significant difference), "" otherwise
    muted: bool = False  # fewer respondents than the reliability threshold
    fallback: bool = False  # interval from a documented fallback (see the method note)


@dataclass(frozen=True)
class LeagueRow:
    """One street (or the district) of the league table, its figures formatted."""

    code: str
    name: str
    place: str
    n: Figure
    value: Figure
    interval: Figure
    ranks: str
    vs_district: Figure
    vs_previous: Figure
    status: tuple[str, ...]


@dataclass(frozen=True)
class League:
    """The league table of one indicator: the streets' rows, the district's, and the chart."""

    indicator: str
    indicator_label: str
    kind: str
    rows: tuple[LeagueRow, ...]
    district: LeagueRow
    chart_svg: str


@dataclass(frozen=True)
class IndicatorRow:
    """One indicator on a street's page: the street's figures against the district's."""

    id: str
    label: str
    kind: str
    n: Figure
    value: Figure
    interval: Figure
    district: Figure
    vs_district: Figure
    vs_previous: Figure
    target: str


@dataclass(frozen=True)
class CommunityRow:
    """One community on a street's page: n, value and interval of each main indicator."""

    code: str
    name: str
    cells: tuple[tuple[Figure, Figure, Figure], ...]  # per main indicator: n, value, CI


@dataclass(frozen=True)
class StreetPage:
    """A street's results page: its indicators and scores and its communities."""

    code: str
    name: str
    n: int
    scores: tuple[IndicatorRow, ...]
    rates: tuple[IndicatorRow, ...]
    chart_svg: str
    trends: tuple[tuple[str, str], ...]  # (indicator label, SVG)
    community_items: tuple[str, ...]
    communities: tuple[CommunityRow, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)


def _n(n: int | None, min_n: int) -> Figure:
    if n is None:
        return Figure(figures.DASH)
    return Figure(f"{n}†" if n < min_n else str(n), muted=n < min_n)


def _value(est: Estimate | None, kind: str, min_n: int) -> Figure:
    return Figure(figures.value(est, kind), muted=est is not None and est.n < min_n)


def _number(est: Estimate | None, kind: str, min_n: int) -> Figure:
    return Figure(
        figures.number(est.value if est else None, kind), muted=est is not None and est.n < min_n
    )


def _interval(est: Estimate | None, kind: str, min_n: int) -> Figure:
    text = figures.interval(est, kind)
    return Figure(
        text,
        muted=est is not None and est.n < min_n,
        fallback=bool(est is not None and getattr(est, "fallback", "") and text != figures.DASH),
    )


def _comparison(cmp: Comparison | None, kind: str) -> Figure:
    text = figures.difference(cmp, kind)
    if cmp is not None and cmp.significant and text != figures.DASH:
        return Figure(text, mark="up" if cmp.difference > 0 else "down")
    return Figure(text)


def league(
    results: WaveResults,
    meta: ReportMeta,
    lang: str,
    *,
    indicator: str | None = None,
    streets: Iterable[str] | None = None,
) -> League:
    """The league table of ``indicator`` (the warning rules' indicator by default).

    ``streets`` limits the rows to the streets a reader may see (the district row stays).
    """
    lang = report_language(lang)
    _ = translator(lang)
    min_n = meta.options.min_reliable_n
    item = _item(results, indicator or meta.options.warnings.indicator)
    kind = item.kind
    statuses = street_statuses(results, meta) if item.id == meta.options.warnings.indicator else {}
    points = {c: (e.value if e is not None else None) for c, e in item.by_street.items()}
    places = {
        c: 1 + sum(w > v for w in points.values() if w is not None)
        for c, v in points.items()
        if v is not None
    }
    visible = set(streets) if streets is not None else None
    order = sorted(results.streets, key=lambda s: (s[0] not in places, places.get(s[0], 0), s[0]))
    words = {
        "rectification": _("listed for rectification"),
        "yellow_card": _("yellow card"),
        "interview": _("interview"),
    }
    rows = []
    for code, zh, en in order:
        if visible is not None and code not in visible:
            continue
        est = item.by_street.get(code)
        status: list[str] = []
        s = statuses.get(code)
        if s is not None:
            if s.status:
                status.append(words[s.status])
            if s.below_floor:
                status.append(_("below the floor"))
            if not status and s.possibly_bottom:
                status.append(_("possibly bottom {n}").format(n=meta.options.warnings.bottom))
        interval = item.ranks.get(code)
        rows.append(
            LeagueRow(
                code=code,
                name=place_name(zh, en, lang),
                place=str(places[code]) if code in places else figures.DASH,
                n=_n(est.n if est else None, min_n),
                value=_number(est, kind, min_n),
                interval=_interval(est, kind, min_n),
                ranks=_rank_interval(interval),
                vs_district=_comparison(item.vs_district.get(code), kind),
                vs_previous=_comparison(item.vs_previous.get(code), kind),
                status=tuple(status),
            )
        )
    overall = item.overall
    district = LeagueRow(
        code="ALL",
        name=district_row_label(results, _),
        place="",
        n=Figure(str(overall.n) if overall else figures.DASH),
        value=Figure(figures.number(overall.value if overall else None, kind)),
        interval=_interval(overall, kind, 0),
        ranks="",
        vs_district=Figure(""),
        vs_previous=_comparison(item.vs_previous.get("ALL"), kind),
        status=(),
    )
    bars = [(row.name, item.by_street.get(row.code)) for row in rows]
    chart = ci_bars_svg(bars, overall.value if overall else None, kind, _("district"))
    return League(item.id, label(item.label, lang), kind, tuple(rows), district, chart)


def _rank_interval(r: Any) -> str:
    if r is None:
        return figures.DASH
    low, high = (f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}" for x in (r.low, r.high))
    return f"{low}{figures.EN_DASH}{high}"


def _item(results: WaveResults, item_id: str) -> ItemResult:
    for item in results.items:
        if item.id == item_id:
            return item
    raise KeyError(item_id)


def indicator_choices(results: WaveResults, lang: str) -> list[tuple[str, str]]:
    """(id, label) of every indicator and composite score, for the map's and table's choice."""
    lang = report_language(lang)
    return [(i.id, label(i.label, lang)) for i in results.items]


def street_page(results: WaveResults, code: str, meta: ReportMeta, lang: str) -> StreetPage:
    """A street's figures as its PDF prints them: scores, indicators, trends, communities."""
    lang = report_language(lang)
    _ = translator(lang)
    min_n = meta.options.min_reliable_n
    names = {c: (zh, en) for c, zh, en in results.streets}
    if code not in names:
        raise KeyError(code)

    def rows(items: Sequence[ItemResult], with_target: bool) -> tuple[IndicatorRow, ...]:
        out = []
        for item in items:
            est = item.by_street.get(code)
            target = ""
            if with_target and item.target is not None:
                target = "≥" + figures.share(item.target)
                if est is not None:
                    target += " " + (_("met") if est.value >= item.target else _("not met"))
            out.append(
                IndicatorRow(
                    id=item.id,
                    label=label(item.label, lang),
                    kind=item.kind,
                    n=_n(est.n if est else None, min_n),
                    value=_value(est, item.kind, min_n),
                    interval=_interval(est, item.kind, min_n),
                    district=_value(item.overall, item.kind, min_n),
                    vs_district=_comparison(item.vs_district.get(code), item.kind),
                    vs_previous=_comparison(item.vs_previous.get(code), item.kind),
                    target=target,
                )
            )
        return tuple(out)

    rate = rate_items(results)
    chart = ci_bars_svg(
        [(label(i.label, lang), i.by_street.get(code)) for i in rate],
        None,
        "rate",
        _("district"),
        district_marks=[i.overall.value if i.overall else None for i in rate],
    )
    trends = []
    if meta.history:
        for item in main_indicators(results, meta):
            series = [
                (h.code, h.by_street.get(item.id, {}).get(code), h.overall.get(item.id))
                for h in meta.history
            ] + [(results.wave_code, item.by_street.get(code), item.overall)]
            trends.append((label(item.label, lang), trend_svg(series, item.kind)))
    main = main_indicators(results, meta)[:2]
    communities = []
    for ccode in sorted(c for c, (s, _zh, _en) in results.communities.items() if s == code):
        _street, zh, en = results.communities[ccode]
        cells = []
        for item in main:
            n = meta.community_n.get(item.id, {}).get(ccode, 0)
            est = item.by_community.get(ccode)
            point = (
                est.value if est is not None else meta.community_value.get(item.id, {}).get(ccode)
            )
            shaky = n < min_n
            cells.append(
                (
                    _n(n, min_n),
                    Figure(figures.number(point, item.kind), muted=shaky),
                    Figure(figures.interval(est, item.kind), muted=shaky),
                )
            )
        communities.append(CommunityRow(ccode, place_name(zh, en, lang), tuple(cells)))
    zh, en = names[code]
    return StreetPage(
        code=code,
        name=place_name(zh, en, lang),
        n=results.n_by_street.get(code, 0),
        scores=rows(score_items(results), False),
        rates=rows(rate, True),
        chart_svg=chart,
        trends=tuple(trends),
        community_items=tuple(label(i.label, lang) for i in main),
        communities=tuple(communities),
    )


# --- inline SVG ---------------------------------------------------------------------------


def ci_bars_svg(
    bars: Sequence[tuple[str, Estimate | None]],
    district: float | None,
    kind: str,
    district_label: str,
    *,
    district_marks: Sequence[float | None] | None = None,
) -> str:
    """Horizontal bars with their confidence intervals; the district as a line or marks."""
    values = [
        x
        for _name, est in bars
        if est is not None
        for x in (est.ci_low, est.ci_high, est.value)
        if x is not None and math.isfinite(x)
    ]
    if district is not None:
        values.append(district)
    values += [x for x in (district_marks or []) if x is not None]
    if not values:
        return ""
    top = 1.0 if kind == "rate" else max(values) * 1.05
    low = 0.0 if kind == "rate" else min(0.0, min(values))
    left, width, row_h = 150, 420, 22
    height = row_h * len(bars) + 30
    span = (top - low) or 1.0

    def x(v: float) -> float:
        return left + (v - low) / span * width

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {left + width + 20} {height}" width="100%">'
    ]
    for i, (name, est) in enumerate(bars):
        y = 10 + i * row_h
        parts.append(
            f'<text x="{left - 6}" y="{y + 14}" text-anchor="end" font-size="12">'
            f"{escape(name)}</text>"
        )
        if est is not None and math.isfinite(est.value):
            parts.append(
                f'<rect x="{left}" y="{y + 4}" width="{x(est.value) - left:.1f}" height="12" '
                f'fill="#67a9cf"><title>{escape(name)}: {escape(figures.value(est, kind))} '
                f"({escape(figures.interval(est, kind))})</title></rect>"
            )
            if est.ci_low is not None and est.ci_high is not None:
                parts.append(
                    f'<line x1="{x(est.ci_low):.1f}" x2="{x(est.ci_high):.1f}" y1="{y + 10}" '
                    f'y2="{y + 10}" stroke="#222" stroke-width="1.5"/>'
                )
        if district_marks is not None and i < len(district_marks) and district_marks[i] is not None:
            dx = x(district_marks[i])  # type: ignore[arg-type]
            parts.append(
                f'<line x1="{dx:.1f}" x2="{dx:.1f}" y1="{y + 2}" y2="{y + 18}" stroke="#b2182b" '
                'stroke-width="2"/>'
            )
    if district is not None:
        dx = x(district)
        parts.append(
            f'<line x1="{dx:.1f}" x2="{dx:.1f}" y1="6" y2="{height - 18}" stroke="#b2182b" '
            'stroke-dasharray="4 3"/>'
        )
    parts.append(
        f'<text x="{left}" y="{height - 4}" font-size="11" fill="#b2182b">'
        f"| {escape(district_label)}</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def trend_svg(series: Sequence[tuple[str, Estimate | None, Estimate | None]], kind: str) -> str:
    """A street's estimate per wave with its interval, and the district's, as a small chart."""
    values = [
        v
        for _code, est, overall in series
        for v in (
            *((est.ci_low, est.ci_high) if est is not None else ()),
            overall.value if overall is not None else None,
        )
        if v is not None and math.isfinite(v)
    ]
    if not values:
        return ""
    low, top = min(values), max(values)
    pad = (top - low) * 0.1 or 0.05
    low, top = low - pad, top + pad
    width, height, left = 300, 140, 40
    step = (width - left - 20) / max(1, len(series) - 1)

    def y(v: float) -> float:
        return float(10 + (top - v) / (top - low) * (height - 40))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%">'
    ]
    street_points, district_points = [], []
    for i, (code, est, overall) in enumerate(series):
        cx = left + i * step
        parts.append(
            f'<text x="{cx:.1f}" y="{height - 8}" text-anchor="middle" font-size="10">'
            f"{escape(code)}</text>"
        )
        if est is not None and math.isfinite(est.value):
            street_points.append(f"{cx:.1f},{y(est.value):.1f}")
            parts.append(
                f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(est.ci_low):.1f}" '
                f'y2="{y(est.ci_high):.1f}" stroke="#2166ac"/>'
                f'<circle cx="{cx:.1f}" cy="{y(est.value):.1f}" r="3" fill="#2166ac">'
                f"<title>{escape(code)}: {escape(figures.value(est, kind))}</title></circle>"
            )
        if overall is not None and math.isfinite(overall.value):
            district_points.append(f"{cx:.1f},{y(overall.value):.1f}")
    if len(street_points) > 1:
        parts.append(f'<polyline points="{" ".join(street_points)}" fill="none" stroke="#2166ac"/>')
    if len(district_points) > 1:
        parts.append(
            f'<polyline points="{" ".join(district_points)}" fill="none" stroke="#b2182b" '
            'stroke-dasharray="4 3"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def map_svg(
    boundaries: dict[str, Any],
    values: dict[str, float | None],
    names: dict[str, str],
    kind: str,
    *,
    links: dict[str, str] | None = None,
    no_data: str = "",
) -> tuple[str, list[tuple[str, str]]]:
    """Streets coloured by ``values``; returns the SVG and its legend (colour, range).

    ``boundaries`` maps a street code to a GeoJSON geometry (Polygon or MultiPolygon, lon/lat).
    Classes are equal intervals between the lowest and highest value shown, so the colours
    compare streets of this wave; the legend says the range of each colour.
    """
    rings: dict[str, list[list[tuple[float, float]]]] = {}
    for code, geometry in boundaries.items():
        rings[code] = _rings(geometry)
    points = [p for rs in rings.values() for ring in rs for p in ring]
    if not points:
        return "", []
    lon0 = min(p[0] for p in points)
    lon1 = max(p[0] for p in points)
    lat0 = min(p[1] for p in points)
    lat1 = max(p[1] for p in points)
    shrink = math.cos(math.radians((lat0 + lat1) / 2))  # equirectangular at the mean latitude
    width = 600.0
    span_x = ((lon1 - lon0) * shrink) or 1e-9
    height = width * (lat1 - lat0) / span_x if lat1 > lat0 else width
    shown = [v for c, v in values.items() if c in rings and v is not None]
    lo, hi = (min(shown), max(shown)) if shown else (0.0, 0.0)
    classes = len(MAP_COLOURS)

    def colour(v: float | None) -> str:
        if v is None:
            return NO_DATA
        if hi <= lo:
            return MAP_COLOURS[classes // 2]
        return MAP_COLOURS[min(classes - 1, int((v - lo) / (hi - lo) * classes))]

    def project(p: tuple[float, float]) -> str:
        px = (p[0] - lon0) * shrink / span_x * width
        py = (lat1 - p[1]) / (lat1 - lat0 or 1e-9) * height
        return f"{px:.1f},{py:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="map" role="img" '
        f'viewBox="-5 -5 {width + 10:.0f} {height + 10:.0f}" width="100%">'
    ]
    for code, rs in sorted(rings.items()):
        d = " ".join("M" + " L".join(project(p) for p in ring) + " Z" for ring in rs)
        value = values.get(code)
        shown_value = figures.value_text(value, kind) if value is not None else no_data
        title = f"{names.get(code, code)}: {shown_value}"
        path = (
            f'<path d="{d}" fill="{colour(value)}" stroke="#fff" stroke-width="1.5" '
            f"data-street={quoteattr(code)} data-value={quoteattr(shown_value)}>"
            f"<title>{escape(title)}</title></path>"
        )
        if links and code in links:
            path = f"<a href={quoteattr(links[code])}>{path}</a>"
        parts.append(path)
    parts.append("</svg>")
    legend = []
    if shown:
        if hi <= lo:
            legend.append((MAP_COLOURS[classes // 2], figures.value_text(lo, kind)))
        else:
            step = (hi - lo) / classes
            for i, c in enumerate(MAP_COLOURS):
                a, b = lo + i * step, lo + (i + 1) * step
                span = figures.value_text(a, kind) + figures.EN_DASH + figures.value_text(b, kind)
                legend.append((c, span))
    if no_data:
        legend.append((NO_DATA, no_data))
    return "".join(parts), legend


def _rings(geometry: dict[str, Any]) -> list[list[tuple[float, float]]]:
    kind = geometry.get("type")
    coords = geometry.get("coordinates") or []
    polygons = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    return [[(float(p[0]), float(p[1])) for p in polygon[0]] for polygon in polygons if polygon]
