"""The safety index's monthly bulletin (平安指数月报) and a street's page, as PDF.

Built from a computed :class:`~surveyapp.safety_index.MonthIndex` (and the months before it for
the trend); no request, no database.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from reportlab.platypus import CondPageBreak

from ..estimation.types import Estimate
from ..safety_index import (
    Component,
    Definition,
    MonthIndex,
    StreetIndex,
    missing_note,
    streets_to_watch,
    top_changes,
)
from .charts import ChartRow, TrendPoint, ci_chart, trend_chart
from .layout import (
    FRAME_WIDTH,
    HIGH,
    LOW,
    Paragraph,
    Spacer,
    boxed,
    colored,
    footer,
    latin,
    render,
    styles,
    table,
    text,
)
from .model import ReportError
from .wording import report_language, translator

__all__ = [
    "build_bulletin_pdf",
    "build_street_index_pdf",
    "fmt_change",
    "fmt_index",
    "missing_text",
]


def missing_text(component: Component, _: Any, lang: str) -> str:
    """How a component's missing value was handled, in the report's language."""
    texts = {
        "carried": _("no value this month; the value of {month} is used"),
        "reweight": _("no value; its weight goes to the other indicators of its group"),
        "worst": _("no value; scored 0"),
        "population": _("no resident count, so no rate per 10,000"),
        "no_base": _("no value for the same month last year"),
        "survey": _("no survey estimate for this street (or too few interviews for an interval)"),
    }
    return missing_note(component.missing, texts, "；" if lang != "en" else "; ")


def fmt_index(x: float | None) -> str:
    """An index value as printed: one decimal, a dash when missing."""
    return "—" if x is None or not math.isfinite(x) else f"{x:.1f}"


def fmt_change(x: float | None) -> str:
    """A change of the index as printed: signed, one decimal, ``0.0`` for less than 0.05, a
    dash when missing."""
    if x is None or not math.isfinite(x):
        return "—"
    return "0.0" if abs(x) < 0.05 else f"{x:+.1f}"


def _estimate(value: float, low: float, high: float) -> Estimate:
    return Estimate(value, math.nan, low, high, math.inf, 0, None, method="simulation")


class _Report:
    def __init__(
        self,
        result: MonthIndex,
        definition: Definition,
        district_name: str,
        trend: Sequence[MonthIndex],
        lang: str,
    ) -> None:
        self.lang = report_language(lang)
        self._ = translator(self.lang)
        self.r = result
        self.d = definition
        self.district = district_name
        self.trend = list(trend)
        self.st = styles()
        self.fonts = self.st.fonts

    def p(self, markup: str, style: Any = None) -> Paragraph:
        return Paragraph(markup, style or self.st.body)

    def cell(self, s: str, style: Any = None) -> Paragraph:
        return Paragraph(text(s), style or self.st.cell)

    def num(self, s: str, color: Any = None) -> Paragraph:
        markup = latin(s, self.fonts)
        return Paragraph(colored(markup, color) if color else markup, self.st.cell_right)

    def head(self, *labels: str) -> list[Any]:
        return [Paragraph(text(x), self.st.head) for x in labels]

    def name(self, s: StreetIndex) -> str:
        return s.name(self.lang)

    def render(self, story: list[Any], title: str) -> bytes:
        _ = self._
        on_page = footer(
            f"{title} · {_('definition version')} {self.r.definition_version}",
            lambda n: _("Page %(n)s") % {"n": n},
            self.fonts,
        )
        return render(story, title=title, author=self.district, on_page=on_page)

    def method(self) -> list[Any]:
        _ = self._
        groups = "；".join(f"{g.name(self.lang)} {g.weight:g}%" for g in self.d.groups)
        level = f"{self.r.level * 100:g}%"
        lines = [
            _("Groups and weights: %(groups)s.") % {"groups": groups},
            _(
                "Each indicator is normalised (against a target, per 10,000 residents, relative "
                "to the district, or the change on the same month last year), scored from 0 to 1 "
                "between its caps, and weighted within its group; the index is the sum of the "
                "points (0-100)."
            ),
            _(
                "The survey part has sampling error: it is simulated %(draws)s times (seed "
                "%(seed)s) from each street's estimate and confidence interval, which gives the "
                "%(level)s interval of each index and rank. The administrative series are taken "
                "as exact."
            )
            % {"draws": self.r.draws, "seed": self.r.seed, "level": level},
            _("Missing values: %(rule)s.") % {"rule": self._missing_rule()},
        ]
        if self.r.survey_note:
            separator = "；" if self.lang.startswith("zh") else "; "
            note = separator.join(part.translated(_) for part in self.r.survey_note)
            lines.append(_("Survey part: %(note)s.") % {"note": note})
        return [boxed([self.p(text(line), self.st.small) for line in lines])]

    def _missing_rule(self) -> str:
        _ = self._
        return {
            "previous": _(
                "the latest value of the previous twelve months is carried forward; without "
                "one, the indicator's weight goes to the other indicators of its group"
            ),
            "reweight": _("the indicator's weight goes to the other indicators of its group"),
            "worst": _("the indicator scores 0"),
        }[self.d.missing]


class _Bulletin(_Report):
    def build(self) -> bytes:
        _ = self._
        title = _("%(district)s safety index bulletin, %(month)s") % {
            "district": self.district,
            "month": self.r.month,
        }
        story = [
            self.p(text(title), self.st.title),
            self.p(
                text(
                    _("%(title)s, definition version %(version)s; %(n)s streets.")
                    % {
                        "title": self.d.title(self.lang),
                        "version": self.r.definition_version,
                        "n": len(self.r.streets),
                    }
                ),
                self.st.subtitle,
            ),
        ]
        story += self.summary()
        story += self.league()
        story += self.chart()
        story += self.watch()
        story += self.movers()
        story += self.trend_table()
        story += self.missing()
        story.append(Spacer(1, 6))
        story += self.method()
        return self.render(story, title)

    def summary(self) -> list[Any]:
        _ = self._
        out = []
        if self.r.definition_changes:
            out.append(
                self.p(
                    colored(
                        text(
                            _("The definition changed since last month: %(changes)s.")
                            % {"changes": "；".join(self.r.definition_changes)}
                        ),
                        LOW,
                    )
                )
            )
        distinct = sum(1 for s in self.r.streets if s.above_next)
        out.append(
            self.p(
                text(
                    _(
                        "Of the %(pairs)s neighbouring places in the table, %(real)s are real "
                        "differences (the higher street is ahead in at least %(level)s of the "
                        "simulations); the others lie within the survey's sampling error."
                    )
                    % {
                        "pairs": max(len(self.r.streets) - 1, 0),
                        "real": distinct,
                        "level": f"{self.r.level * 100:g}%",
                    }
                )
            )
        )
        return out

    def league(self) -> list[Any]:
        _ = self._
        level = f"{self.r.level * 100:g}%"
        rows = [
            self.head(
                _("Rank"),
                _("Rank interval"),
                _("Street"),
                _("Index"),
                _("%(level)s interval") % {"level": level},
                _("Change on last month"),
                _("vs mean"),
                _("Ahead of next"),
            )
        ]
        for s in self.r.streets:
            vs = {"above": _("above"), "below": _("below")}.get(s.vs_mean, "—")
            color = {"above": HIGH, "below": LOW}.get(s.vs_mean)
            change_color = None
            if s.change is not None and abs(s.change) >= 0.05:
                change_color = HIGH if s.change > 0 else LOW
            rows.append(
                [
                    self.num(str(s.rank)),
                    self.num(f"{s.rank_low}-{s.rank_high}"),
                    self.cell(self.name(s)),
                    self.num(fmt_index(s.index)),
                    self.num(f"{fmt_index(s.index_low)}-{fmt_index(s.index_high)}"),
                    self.num(fmt_change(s.change), change_color),
                    Paragraph(colored(text(vs), color) if color else text(vs), self.st.cell_center),
                    Paragraph(
                        text(
                            "—" if s.above_next is None else _("yes") if s.above_next else _("no")
                        ),
                        self.st.cell_center,
                    ),
                ]
            )
        widths = [26, 40, 110, 38, 62, 36, 42, 50]
        scale = FRAME_WIDTH / sum(widths)
        return [
            self.p(text(_("League table")), self.st.h2),
            table(rows, [w * scale for w in widths]),
            self.p(
                text(
                    _(
                        "Change: points since last month (%(previous)s). vs mean: above or below "
                        "the streets' mean beyond sampling error."
                    )
                    % {"previous": self.r.previous_month or "—"}
                ),
                self.st.note,
            ),
        ]

    def chart(self) -> list[Any]:
        _ = self._
        rows = [
            ChartRow(self.name(s), _estimate(s.index, s.index_low, s.index_high),
                     highlight=s.vs_mean == "below")
            for s in self.r.streets
        ]  # fmt: skip
        mean = sum(s.index for s in self.r.streets) / max(len(self.r.streets), 1)
        drawing = ci_chart(
            rows,
            self.fonts,
            width=FRAME_WIDTH,
            kind="score",
            reference_line=mean,
            legend=(_("index, with interval"), _("mean of the streets")),
        )
        return [CondPageBreak(drawing.height + 30), self.p(text(_("Chart")), self.st.h2), drawing]

    def watch(self) -> list[Any]:
        _ = self._
        watched = streets_to_watch(self.r, self.d.watch_bottom, self.d.watch_drop)
        out = [self.p(text(_("Streets to watch")), self.st.h2)]
        if not watched:
            return out + [self.p(text(_("None this month.")))]
        for s in self.r.streets:
            if s.code not in watched:
                continue
            reasons = []
            for reason, value in watched[s.code]:
                if reason == "bottom":
                    reasons.append(
                        _("in the last %(n)s places, whatever the sampling error")
                        % {"n": self.d.watch_bottom}
                        if value
                        else _("in the last %(n)s places (the interval reaches higher)")
                        % {"n": self.d.watch_bottom}
                    )
                elif reason == "drop":
                    reasons.append(_("fell %(points)s points") % {"points": f"{-value:.1f}"})
                else:
                    reasons.append(_("below the streets' mean beyond sampling error"))
            out.append(
                self.p(text(f"{self.name(s)}（{fmt_index(s.index)}）：" + "；".join(reasons)))
            )
        return out

    def movers(self) -> list[Any]:
        _ = self._
        rows = [
            self.head(
                _("Street"), _("Change on last month"), _("Indicators that changed the score most")
            )
        ]
        for s in self.r.streets:
            top = top_changes(s, 3)
            names = "；".join(
                f"{self.d.indicator(c.indicator).name(self.lang)} {fmt_change(c.change)}"
                for c in top
            )
            rows.append(
                [self.cell(self.name(s)), self.num(fmt_change(s.change)), self.cell(names or "—")]
            )
        return [
            CondPageBreak(120),
            self.p(text(_("What moved each street's score (points)")), self.st.h2),
            table(rows, [90, 40, FRAME_WIDTH - 130]),
        ]

    def trend_table(self) -> list[Any]:
        _ = self._
        months = self.trend[-12:]
        if len(months) < 2:
            return []
        by_month = [{s.code: s for s in m.streets} for m in months]
        rows = [self.head(_("Street"), *[m.month[2:] for m in months])]
        for s in self.r.streets:
            row = [self.cell(self.name(s))]
            for m in by_month:
                row.append(self.num(fmt_index(m[s.code].index) if s.code in m else "—"))
            rows.append(row)
        first = 70
        width = (FRAME_WIDTH - first) / len(months)
        t = table(rows, [first] + [width] * len(months))
        return [
            CondPageBreak(150),
            self.p(text(_("Twelve months")), self.st.h2),
            t,
        ]

    def missing(self) -> list[Any]:
        _ = self._
        rows = [self.head(_("Street"), _("Indicator"), _("How the missing value was handled"))]
        for s in self.r.streets:
            for c in s.components:
                if c.note:
                    rows.append(
                        [
                            self.cell(self.name(s)),
                            self.cell(self.d.indicator(c.indicator).name(self.lang)),
                            self.cell(missing_text(c, _, self.lang)),
                        ]
                    )
        if len(rows) == 1:
            return [self.p(text(_("Every indicator has this month's value.")), self.st.note)]
        return [
            self.p(text(_("Missing values")), self.st.h2),
            table(rows, [90, 130, FRAME_WIDTH - 220]),
        ]


class _StreetPage(_Report):
    def __init__(self, *args: Any, street_code: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        try:
            self.s = self.r.street(street_code)
        except StopIteration:
            raise ReportError(f"street {street_code} is not in the index") from None

    def build(self) -> bytes:
        _ = self._
        s = self.s
        title = _("%(street)s safety index, %(month)s") % {
            "street": self.name(s),
            "month": self.r.month,
        }
        level = f"{self.r.level * 100:g}%"
        story = [
            self.p(text(title), self.st.title),
            self.p(text(self.district), self.st.subtitle),
            self.p(
                text(
                    _(
                        "Index %(index)s (%(level)s interval %(low)s-%(high)s), rank %(rank)s of "
                        "%(n)s (interval %(rlow)s-%(rhigh)s), change %(change)s."
                    )
                    % {
                        "index": fmt_index(s.index),
                        "level": level,
                        "low": fmt_index(s.index_low),
                        "high": fmt_index(s.index_high),
                        "rank": s.rank,
                        "n": len(self.r.streets),
                        "rlow": s.rank_low,
                        "rhigh": s.rank_high,
                        "change": fmt_change(s.change),
                    }
                )
            ),
        ]
        rows = [
            self.head(
                _("Indicator"), _("Value"), _("Score"), _("Points"), _("Of"),
                _("Change on last month"), _("Note"),
            )
        ]  # fmt: skip
        for group in self.d.groups:
            rows.append(
                [
                    self.cell(f"{group.name(self.lang)}（{s.group_points[group.id]:.1f}/"
                              f"{group.weight:g}）", self.st.cell),
                    "", "", "", "", "", "",
                ]
            )  # fmt: skip
            for c in (c for c in s.components if c.group == group.id):
                ind = self.d.indicator(c.indicator)
                value = "—" if c.value is None else f"{c.value:g} {ind.unit}"
                rows.append(
                    [
                        self.cell(ind.name(self.lang)),
                        self.num(value),
                        self.num("—" if c.score is None else f"{c.score:.2f}"),
                        self.num(f"{c.points:.2f}"),
                        self.num(f"{c.max_points:.2f}"),
                        self.num(fmt_change(c.change)),
                        self.cell(missing_text(c, _, self.lang), self.st.small),
                    ]
                )
        widths = [120, 60, 34, 36, 32, 36, 0]
        widths[-1] = FRAME_WIDTH - sum(widths)
        story += [self.p(text(_("Breakdown")), self.st.h2), table(rows, widths)]
        top = top_changes(s, 3)
        if top:
            story.append(
                self.p(
                    text(
                        _("Most changed since last month: %(list)s.")
                        % {
                            "list": "；".join(
                                f"{self.d.indicator(c.indicator).name(self.lang)} "
                                f"{fmt_change(c.change)}"
                                for c in top
                            )
                        }
                    )
                )
            )
        points = []
        for m in self.trend[-12:]:
            here = next((x for x in m.streets if x.code == s.code), None)
            if here is None:
                continue
            mean = sum(x.index for x in m.streets) / len(m.streets)
            points.append(
                TrendPoint(
                    m.month[2:],
                    _estimate(here.index, here.index_low, here.index_high),
                    _estimate(mean, mean, mean),
                )
            )
        if len(points) >= 2:
            story.append(CondPageBreak(170))
            story.append(self.p(text(_("Twelve months")), self.st.h2))
            story.append(
                trend_chart(
                    _("Index by month"),
                    points,
                    self.fonts,
                    width=FRAME_WIDTH,
                    kind="score",
                    legend=(_("this street"), _("mean of the streets")),
                )
            )
        story.append(Spacer(1, 6))
        story += self.method()
        return self.render(story, title)


def build_bulletin_pdf(
    result: MonthIndex,
    definition: Definition,
    district_name: str,
    trend: Sequence[MonthIndex] = (),
    lang: str = "zh_CN",
) -> bytes:
    """The district's monthly bulletin: league table, chart, watch list, movers, trend."""
    return _Bulletin(result, definition, district_name, trend, lang).build()


def build_street_index_pdf(
    result: MonthIndex,
    definition: Definition,
    district_name: str,
    street_code: str,
    trend: Sequence[MonthIndex] = (),
    lang: str = "zh_CN",
) -> bytes:
    """One street's page: its index, breakdown in points, changes and twelve months."""
    return _StreetPage(
        result, definition, district_name, trend, lang, street_code=street_code
    ).build()
