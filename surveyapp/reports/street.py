"""The per-street PDF: what a street's officials read after each wave (A4, Chinese by default)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reportlab.platypus import CondPageBreak, Table

from ..estimation import Estimate
from . import figures
from .charts import ChartRow, TrendPoint, ci_chart, trend_chart
from .common import (
    Cells,
    check_street,
    colon,
    comparison_legend,
    label,
    level_text,
    list_sep,
    main_indicators,
    methodology,
    mode_name,
    place_name,
    rate_items,
    reliability_legend,
    score_items,
    settings_text,
)
from .layout import (
    FRAME_WIDTH,
    HIGH,
    LOW,
    KeepTogether,
    Paragraph,
    Spacer,
    colored,
    footer,
    latin,
    render,
    styles,
    table,
    text,
)
from .model import ReportMeta
from .wording import report_language, translator

if TYPE_CHECKING:
    from .results import ItemResult, WaveResults


def build_street_pdf(
    results: WaveResults, street_code: str, meta: ReportMeta, lang: str = "zh_CN"
) -> bytes:
    """Return the PDF report of one street for one wave.

    ``results`` are the wave's estimates (``wave_results``), ``meta`` the context gathered
    with them (``services.reports.report_data``). Raises ``ReportError`` for a street that is
    not in the survey's district and ``ReportLanguageError`` for an unknown language.
    """
    return _StreetReport(results, street_code, meta, lang).build()


class _StreetReport:
    def __init__(self, results: WaveResults, street_code: str, meta: ReportMeta, lang: str):
        self.lang = report_language(lang)
        self.r = results
        self.meta = meta
        self.code = street_code
        zh, en = check_street(results, street_code)
        self.street = place_name(zh, en, self.lang)
        self.district = meta.district_name.get(self.lang) or meta.district_name.get("zh_CN", "")
        self._ = translator(self.lang)
        self.st = styles()
        self.cells = Cells(self.st, meta.options.min_reliable_n)

    # ------------------------------------------------------------------ assembly
    def build(self) -> bytes:
        _ = self._
        story: list[Any] = []
        story += self.title_block()
        story += self.sample()
        story += self.scores()
        story += self.indicators()
        story += self.chart()
        story += self.trend()
        story += self.factors()
        story += self.departments()
        story += self.communities()
        story.append(Spacer(1, 8))
        story += methodology(self.r, self.meta, self.st, _, self.lang)
        title = _("{street}: public security and satisfaction survey, {wave}").format(
            street=self.street, wave=self.r.wave_name or self.r.wave_code
        )
        left = (
            f"{self.meta.survey_name} · {self.r.wave_name or self.r.wave_code} · {self.street} · "
            + settings_text(_, self.r, self.meta)
        )
        return render(
            story,
            title=title,
            author=self.district,
            on_page=footer(left, lambda p: _("Page {page}").format(page=p), self.st.fonts),
        )

    def h2(self, s: str) -> Paragraph:
        return Paragraph(text(s), self.st.h2)

    def note(self, s: str) -> Paragraph:
        return Paragraph(text(s), self.st.note)

    # ------------------------------------------------------------------ sections
    def title_block(self) -> list[Any]:
        _, st, m = self._, self.st, self.meta
        wave = self.r.wave_name or self.r.wave_code
        out = [
            Paragraph(
                text(
                    _("{street} public security and satisfaction survey").format(street=self.street)
                ),
                st.title,
            ),
            Paragraph(text(f"{self.district} · {wave}"), st.subtitle),
        ]
        dates = figures.DASH
        if m.starts_on or m.ends_on:
            dates = (
                f"{m.starts_on.isoformat() if m.starts_on else '…'} {figures.EN_DASH} "
                f"{m.ends_on.isoformat() if m.ends_on else '…'}"
            )
        rows = [
            (_("Survey"), text(m.survey_name)),
            (_("District"), text(f"{self.district} ({m.district_code})")),
            (_("Street"), text(f"{self.street} ({self.code})")),
            (_("Wave"), text(f"{wave} ({self.r.wave_code})")),
            (_("Fieldwork dates"), latin(dates, st.fonts)),
            (_("Modes"), text(list_sep(self.lang).join(mode_name(x, _) for x in m.modes))),
        ]
        if m.data_as_of:
            rows.append((_("Data as of"), latin(m.data_as_of, st.fonts)))
        t = Table(
            [[Paragraph(text(k), st.cell), Paragraph(v, st.cell)] for k, v in rows],
            colWidths=[80, FRAME_WIDTH - 80],
        )
        t.setStyle(
            [
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
        return out + [t]

    def sample(self) -> list[Any]:
        _, c, m = self._, self.cells, self.meta
        mine = m.sample_by_street_mode.get(self.code, {})
        modes = list(m.modes) + sorted(set(mine) - set(m.modes))
        district_by_mode = self.r.n_by_mode
        rows = [
            [
                c.head(_("Mode")),
                c.head(_("Completed interviews, street")),
                c.head(_("Completed interviews, district")),
            ]
        ]
        for mode in modes:
            rows.append(
                [
                    c.label(mode_name(mode, _)),
                    c.num(str(mine.get(mode, 0))),
                    c.num(str(district_by_mode.get(mode, 0))),
                ]
            )
        rows.append(
            [
                c.label(_("Total")),
                c.num(str(self.r.n_by_street.get(self.code, 0))),
                c.num(str(self.r.n)),
            ]
        )
        rr_street = m.phone_response_rate.get(self.code)
        rr_all = m.phone_response_rate.get("ALL")
        if rr_street is not None or rr_all is not None:
            rows.append(
                [
                    c.label(_("Telephone response rate (AAPOR RR3)")),
                    c.num(figures.share(rr_street)),
                    c.num(figures.share(rr_all)),
                ]
            )
        out = [self.h2(_("Sample")), table(rows, [200, 150, 165])]
        if rr_street is None and rr_all is None:
            out.append(
                self.note(
                    _("The telephone response rate is shown once fieldwork records call outcomes.")
                )
            )
        out.append(
            self.note(
                _(
                    "Completed interviews with eligible respondents (resident for "
                    "six months or more, aged 16 or over); rejected interviews are "
                    "left out."
                )
            )
        )
        return out

    def _comparison_table(self, items: list[ItemResult], *, with_target: bool) -> Table:
        _, c = self._, self.cells
        head = [
            c.head(_("Indicator")),
            c.head(_("n")),
            c.head(_("Street")),
            c.head(_("95% CI")),
            c.head(_("District")),
            c.head(_("vs district")),
            c.head(_("vs previous wave")),
        ]
        widths = [118, 34, 50, 70, 50, 62, 62]
        if with_target:
            head.append(c.head(_("Target")))
            widths.append(FRAME_WIDTH - sum(widths))
        else:
            widths[0] += FRAME_WIDTH - sum(widths)
        rows = [head]
        for item in items:
            est = item.by_street.get(self.code)
            row = [
                c.label(label(item.label, self.lang)),
                c.n(est.n if est else None),
                c.value(est, item.kind),
                c.interval(est, item.kind),
                c.value(item.overall, item.kind),
                c.comparison(item.vs_district.get(self.code), item.kind),
                c.comparison(item.vs_previous.get(self.code), item.kind),
            ]
            if with_target:
                row.append(self.target_cell(item, est))
            rows.append(row)
        return table(rows, widths)

    def target_cell(self, item: ItemResult, est: Estimate | None) -> Paragraph:
        _, c = self._, self.cells
        if item.target is None:
            return c.num(figures.DASH, align="center")
        goal = latin("≥" + figures.share(item.target), self.st.fonts)
        if est is None:
            return Paragraph(goal, self.st.cell_center)
        met = est.value >= item.target
        word = colored(text(_("met") if met else _("not met")), HIGH if met else LOW)
        return Paragraph(f"{goal} {word}", self.st.cell_center)

    def scores(self) -> list[Any]:
        items = score_items(self.r)
        if not items:
            return []
        _ = self._
        return [
            self.h2(_("Composite scores")),
            self._comparison_table(items, with_target=False),
            self.note(
                _(
                    "Mean points per respondent (for example very safe 100, safe 80, "
                    "fairly safe 60, not very safe 40, unsafe 0); differences in "
                    "points."
                )
            ),
        ]

    def indicators(self) -> list[Any]:
        _ = self._
        items = rate_items(self.r)
        out = [
            self.h2(_("Indicators")),
            self._comparison_table(items, with_target=True),
            self.note(comparison_legend(_, level_text(self.r))),
            self.note(reliability_legend(_, self.meta.options.min_reliable_n)),
        ]
        if self.r.previous_wave_code is None:
            out.append(self.note(_("There is no previous wave to compare with.")))
        else:
            out.append(
                self.note(_("Previous wave: {wave}.").format(wave=self.r.previous_wave_code))
            )
            changed = [
                label(i.label, self.lang)
                for i in self.r.items
                if getattr(i, "vs_previous_note", "")
            ]
            if changed:
                out.append(
                    self.note(
                        _(
                            "Not compared with the previous wave (the definition "
                            "changed between the questionnaire versions, or the "
                            "indicator is new): {items}."
                        ).format(items=list_sep(self.lang).join(changed))
                    )
                )
        return out

    def chart(self) -> list[Any]:
        _ = self._
        rows = [
            ChartRow(
                label(i.label, self.lang),
                i.by_street.get(self.code),
                i.overall.value if i.overall else None,
            )
            for i in rate_items(self.r)
        ]
        drawing = ci_chart(
            rows,
            self.st.fonts,
            width=FRAME_WIDTH,
            kind="rate",
            legend=(_("street, with 95% CI"), _("district")),
        )
        return [
            CondPageBreak(drawing.height + 40),
            self.h2(_("The street's indicators against the district (%)")),
            drawing,
        ]

    def trend(self) -> list[Any]:
        _ = self._
        items = main_indicators(self.r, self.meta)
        history = self.meta.history
        if not history:
            return [self.note(_("Only one wave so far: trends appear from the second wave."))]
        charts = []
        for item in items:
            points = [
                TrendPoint(
                    h.code, h.by_street.get(item.id, {}).get(self.code), h.overall.get(item.id)
                )
                for h in history
            ]
            points.append(TrendPoint(self.r.wave_code, item.by_street.get(self.code), item.overall))
            unit = " (%)" if item.kind == "rate" else ""
            charts.append(
                trend_chart(
                    label(item.label, self.lang) + unit,
                    points,
                    self.st.fonts,
                    width=FRAME_WIDTH / 2 - 4,
                    kind=item.kind,
                    legend=(_("street, with 95% CI"), _("district")),
                )
            )
        grid = [charts[i : i + 2] for i in range(0, len(charts), 2)]
        if len(grid[-1]) == 1:
            grid[-1].append("")
        t = Table(grid, colWidths=[FRAME_WIDTH / 2] * 2)
        t.setStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)])
        return [KeepTogether([self.h2(_("Trend across waves")), t])]

    def factors(self) -> list[Any]:
        _, c, m = self._, self.cells, self.meta
        qid = m.options.unsafe_factors
        table_ = self.r.factor_shares.get(qid)
        if not table_ or m.factor_question is None:
            return []
        mine = table_.get(self.code, {})
        district = table_.get("ALL", {})
        codes = [code for code in m.factor_labels if code != "none"]

        def key(code: str) -> float:
            est = mine.get(code)
            return -(est.value if est is not None else -1.0)

        rows = [
            [
                c.head(_("Factor")),
                c.head(_("Street")),
                c.head(_("95% CI")),
                c.head(_("District")),
                c.head(_("95% CI")),
            ]
        ]
        for code in sorted(codes, key=key):
            est = mine.get(code)
            rows.append(
                [
                    c.label(label(m.factor_labels[code], self.lang)),
                    c.value(est, "rate"),
                    c.interval(est, "rate"),
                    c.value(district.get(code), "rate"),
                    c.interval(district.get(code), "rate"),
                ]
            )
        out = [
            self.h2(_("What makes people feel unsafe")),
            self.note(label(m.factor_question, self.lang)),
            table(rows, [FRAME_WIDTH - 4 * 72, 72, 72, 72, 72]),
        ]
        none = mine.get("none")
        if "none" in m.factor_labels:
            out.append(
                self.note(
                    _(
                        "Share answering that nothing makes them feel unsafe: {street} "
                        "(district {district}). Several answers were allowed, so the "
                        "shares add up to more than 100%."
                    ).format(
                        street=figures.value(none), district=figures.value(district.get("none"))
                    )
                )
            )
        return out

    def departments(self) -> list[Any]:
        _ = self._
        items = list(self.meta.departments)
        if not items:
            return []
        other = set(self.meta.options.other_enforcement)
        legal = [i for i in items if i.id.removeprefix("department:") not in other]
        enforcement = [i for i in items if i.id.removeprefix("department:") in other]
        out: list[Any] = []
        for title, group in (
            (_("Satisfaction with the political-legal units"), legal),
            (_("Satisfaction with other law-enforcement departments"), enforcement),
        ):
            if group:
                out += [
                    CondPageBreak(160),
                    self.h2(title),
                    self._comparison_table(group, with_target=False),
                ]
        out.append(
            self.note(
                _(
                    "Share very satisfied, satisfied or fairly satisfied among those who "
                    "gave an opinion (“don't know” left out)."
                )
            )
        )
        return out

    def communities(self) -> list[Any]:
        _, c, m = self._, self.cells, self.meta
        items = main_indicators(self.r, self.meta)[:2]
        communities = sorted(
            code for code, (street, _zh, _en) in self.r.communities.items() if street == self.code
        )
        if not communities or not items:
            return []
        head = [c.head(_("Community"))]
        for item in items:
            unit = " (%)" if item.kind == "rate" else ""
            head += [
                c.head(_("n")),
                c.head(label(item.label, self.lang) + unit),
                c.head(_("95% CI")),
            ]
        rows = [head]
        missing_ci = False
        for code in communities:
            _street, zh, en = self.r.communities[code]
            row = [c.label(place_name(zh, en, self.lang))]
            for item in items:
                n = m.community_n.get(item.id, {}).get(code, 0)
                est = item.by_community.get(code)
                point = (
                    est.value if est is not None else m.community_value.get(item.id, {}).get(code)
                )
                shaky = n < m.options.min_reliable_n
                row += [
                    c.n(n),
                    c.num(figures.number(point, item.kind), muted=shaky),
                    c.interval(est, item.kind, muted=shaky),
                ]
                missing_ci |= est is None and point is not None
            rows.append(row)
        rest = FRAME_WIDTH - 110
        per = rest / len(items)
        widths = [110] + [per * 0.2, per * 0.35, per * 0.45] * len(items)
        out = [
            CondPageBreak(160),
            self.h2(_("Communities")),
            table(rows, widths),
            self.note(reliability_legend(_, m.options.min_reliable_n)),
        ]
        if missing_ci:
            design = self.r.settings.get("design", {})
            if design.get("cluster") == "community":
                out.append(
                    self.note(
                        _(
                            "No confidence interval for a community: communities are "
                            "the primary sampling units of the design, so the "
                            "sample holds one unit per community and its sampling "
                            "error cannot be estimated. The rates are weighted "
                            "point estimates."
                        )
                    )
                )
            else:
                out.append(
                    self.note(
                        _(
                            "— in the interval column: the sampling error of the "
                            "community cannot be estimated from this sample."
                        )
                    )
                )
        return out


__all__ = ["build_street_pdf", "colon"]
