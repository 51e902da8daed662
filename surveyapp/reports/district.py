"""The district overview PDF: the league table of streets with rank intervals, the warning
rules' verdicts, and which differences are larger than sampling error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reportlab.platypus import CondPageBreak, PageBreak, Table

from . import figures
from .charts import ChartRow, ci_chart
from .common import (
    UNRELIABLE,
    Cells,
    comparison_legend,
    label,
    level_text,
    list_sep,
    methodology,
    mode_name,
    place_name,
    rate_items,
    reliability_legend,
    settings_text,
)
from .layout import (
    FRAME_WIDTH,
    HIGH,
    LOW,
    MUTED,
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
from .model import ReportError, ReportMeta, WarningRules
from .wording import report_language, translator

if TYPE_CHECKING:
    from ..estimation import Estimate
    from ..estimation.compare import Comparison
    from .layout import Line
    from .results import ItemResult, WaveResults

#: Above this many streets the league chart (one row per street, on one page) is left out.
MAX_CHART_ROWS = 45
#: Warning statuses, most serious first.
STATUSES = ("rectification", "yellow_card", "interview")


@dataclass(frozen=True)
class StreetStatus:
    """A street's standing under the warning rules."""

    code: str
    rank: int | None  # place by point estimate this wave, 1 = highest
    bottom_waves: int  # consecutive waves (ending with this one) in the bottom places
    status: str | None  # "rectification", "yellow_card", "interview" or None
    below_floor: bool
    possibly_bottom: bool  # the rank interval reaches into the bottom places


def point_ranks(values: dict[str, float | None]) -> dict[str, int]:
    """Places by value, highest first (ties share the better place); streets without a
    value have no place."""
    known = [v for v in values.values() if v is not None]
    return {c: 1 + sum(w > v for w in known) for c, v in values.items() if v is not None}


def bottom_set(values: dict[str, float | None], bottom: int) -> set[str]:
    """The streets in the last ``bottom`` places: fewer than ``bottom`` streets are lower
    (so streets tied at the boundary are all in)."""
    known = [v for v in values.values() if v is not None]
    return {c for c, v in values.items() if v is not None and sum(w < v for w in known) < bottom}


def street_statuses(results: WaveResults, meta: ReportMeta) -> dict[str, StreetStatus]:
    """Apply the survey's warning rules to this wave and the earlier ones (``meta.history``)."""
    rules: WarningRules = meta.options.warnings
    item = _warning_item(results, rules)
    current = {c: (e.value if e is not None else None) for c, e in item.by_street.items()}
    waves = [
        {c: (e.value if e is not None else None) for c, e in h.by_street.get(item.id, {}).items()}
        for h in meta.history
    ] + [current]
    bottoms = [bottom_set(w, rules.bottom) for w in waves]
    # Waves run on when their quarters follow each other by date (issue 18); a wave without
    # a start date is taken to follow the one before, as listed.
    dates = [h.starts_on for h in meta.history] + [meta.starts_on]
    quarter = [None if d is None else d.year * 4 + (d.month - 1) // 3 for d in dates]
    follows = [True] + [
        a is None or b is None or b == a + 1 for a, b in zip(quarter, quarter[1:], strict=False)
    ]
    ranks = point_ranks(current)
    n_ranked = len(ranks)
    out = {}
    for code, _zh, _en in results.streets:
        run = 0
        for i in range(len(bottoms) - 1, -1, -1):
            if code not in bottoms[i]:
                break
            run += 1
            if not follows[i]:
                break
        status = None
        if run >= rules.rectification_waves:
            status = "rectification"
        elif run >= rules.yellow_card_waves:
            status = "yellow_card"
        elif run >= rules.interview_waves:
            status = "interview"
        value = current.get(code)
        interval = item.ranks.get(code)
        out[code] = StreetStatus(
            code=code,
            rank=ranks.get(code),
            bottom_waves=run,
            status=status,
            below_floor=(
                rules.floor is not None
                and value is not None
                and value < rules.floor
                and item.kind == "rate"
            ),
            possibly_bottom=(interval is not None and interval.high >= n_ranked - rules.bottom + 1),
        )
    return out


def _warning_item(results: WaveResults, rules: WarningRules) -> ItemResult:
    for item in results.items:
        if item.id == rules.indicator:
            return item
    raise ReportError(
        f"survey settings: reports.warnings.indicator '{rules.indicator}' is not an indicator "
        "of the questionnaire; its indicators: " + ", ".join(i.id for i in results.items)
    )


def missing_streets(results: WaveResults) -> list[str]:
    """Streets of the district without a counted response this wave (issue 18)."""
    return [code for code, _zh, _en in results.streets if not results.n_by_street.get(code)]


def district_row_label(results: WaveResults, _: Callable[[str], str]) -> str:
    """The league table's district row: ``District``, or which streets it covers."""
    missing = missing_streets(results)
    if not missing:
        return _("District")
    total = len(results.streets)
    return _("District ({k} of {m} streets)").format(k=total - len(missing), m=total)


def build_district_pdf(results: WaveResults, meta: ReportMeta, lang: str = "zh_CN") -> bytes:
    """Return the district overview PDF of one wave (league table, warnings, indicators).

    Raises ``ReportError`` when the warning indicator is not in the questionnaire and
    ``ReportLanguageError`` for an unknown language.
    """
    return _DistrictReport(results, meta, lang).build()


class _DistrictReport:
    def __init__(self, results: WaveResults, meta: ReportMeta, lang: str):
        self.lang = report_language(lang)
        self.r = results
        self.meta = meta
        self._ = translator(self.lang)
        self.st = styles()
        self.cells = Cells(self.st, meta.options.min_reliable_n)
        self.district = meta.district_name.get(self.lang) or meta.district_name.get("zh_CN", "")
        self.names = {code: place_name(zh, en, self.lang) for code, zh, en in results.streets}
        self.rules = meta.options.warnings
        self.item = _warning_item(results, self.rules)
        self.statuses = street_statuses(results, meta)

    def build(self) -> bytes:
        _ = self._
        story: list[Any] = []
        story += self.title_block()
        story += self.league()
        story += self.chart()
        story += self.warnings()
        story += self.assessment()
        story += self.indicator_matrix()
        story += self.previous_wave()
        story.append(Spacer(1, 8))
        story += methodology(
            self.r,
            self.meta,
            self.st,
            _,
            self.lang,
            extra=[
                (
                    _("Ranks"),
                    text(
                        _(
                            "Streets are placed by their point estimate. The plausible "
                            "ranks are a {level} interval of each street's rank, "
                            "simulated from the estimates and their joint sampling "
                            "error: streets whose intervals overlap cannot be told apart "
                            "by this sample."
                        ).format(level=level_text(self.r))
                    ),
                )
            ],
        )
        wave = self.r.wave_name or self.r.wave_code
        title = _("{district}: district overview, {wave}").format(district=self.district, wave=wave)
        left = f"{self.meta.survey_name} · {wave} · {self.district} · " + settings_text(
            _, self.r, self.meta
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

    def title_block(self) -> list[Any]:
        _, st, m, c = self._, self.st, self.meta, self.cells
        wave = self.r.wave_name or self.r.wave_code
        dates = figures.DASH
        if m.starts_on or m.ends_on:
            dates = (
                f"{m.starts_on.isoformat() if m.starts_on else '…'} {figures.EN_DASH} "
                f"{m.ends_on.isoformat() if m.ends_on else '…'}"
            )
        modes = list_sep(self.lang).join(
            f"{mode_name(x, _)} {self.r.n_by_mode.get(x, 0)}" for x in m.modes
        )
        rows = [
            (_("Survey"), text(m.survey_name)),
            (_("District"), text(f"{self.district} ({m.district_code})")),
            (_("Wave"), text(f"{wave} ({self.r.wave_code})")),
            (_("Fieldwork dates"), latin(dates, st.fonts)),
            (_("Completed interviews"), latin(str(self.r.n), st.fonts) + text(f" ({modes})")),
            (_("Streets"), latin(str(len(self.r.streets)), st.fonts)),
        ]
        if m.data_as_of:
            rows.append((_("Data as of"), latin(m.data_as_of, st.fonts)))
        out = [
            Paragraph(
                text(
                    _(
                        "{district} public security and satisfaction survey: district overview"
                    ).format(district=self.district)
                ),
                st.title,
            ),
            Paragraph(text(wave), st.subtitle),
        ]
        t = Table(
            [[c.label(k), Paragraph(v, st.cell)] for k, v in rows],
            colWidths=[100, FRAME_WIDTH - 100],
        )
        t.setStyle(
            [
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
        return out + [t]

    # ---------------------------------------------------------------- league table
    def status_cell(self, s: StreetStatus) -> Paragraph:
        _ = self._
        words = {
            "rectification": _("listed for rectification"),
            "yellow_card": _("yellow card"),
            "interview": _("interview"),
        }
        parts = []
        if s.status:
            parts.append(colored(text(words[s.status]), LOW))
        if s.below_floor:
            parts.append(colored(text(_("below the floor")), LOW))
        if not parts and s.possibly_bottom:
            parts.append(colored(text(_("possibly bottom {n}").format(n=self.rules.bottom)), MUTED))
        return Paragraph("; ".join(parts) if parts else "", self.st.cell)

    def league(self) -> list[Any]:
        _, c, item = self._, self.cells, self.item
        kind = item.kind
        order = sorted(
            self.r.streets,
            key=lambda s: (self.statuses[s[0]].rank is None, self.statuses[s[0]].rank or 0, s[0]),
        )
        head = [
            c.head(_("Place")),
            c.head(_("Street")),
            c.head(_("n")),
            c.head(label(item.label, self.lang) + (" (%)" if kind == "rate" else "")),
            c.head(_("95% CI")),
            c.head(_("Plausible ranks")),
            c.head(_("vs district")),
            c.head(_("vs previous wave")),
            c.head(_("Status")),
        ]
        widths = [30, 92, 32, 50, 62, 50, 50, 50]
        widths.append(FRAME_WIDTH - sum(widths))
        rows = [head]
        for code, _zh, _en in order:
            est = item.by_street.get(code)
            s = self.statuses[code]
            interval = item.ranks.get(code)
            rows.append(
                [
                    c.num(str(s.rank) if s.rank is not None else figures.DASH, align="center"),
                    c.label(self.names[code]),
                    c.n(est.n if est else None),
                    c.num(
                        figures.number(est.value if est else None, kind), muted=c.unreliable(est)
                    ),
                    c.interval(est, kind),
                    c.num(_rank_interval(interval), align="center"),
                    c.comparison(item.vs_district.get(code), kind),
                    c.comparison(item.vs_previous.get(code), kind),
                    self.status_cell(s),
                ]
            )
        overall = item.overall
        rows.append(
            [
                c.label(""),
                c.label(self.district_label()),
                c.num(str(overall.n) if overall else figures.DASH),
                c.num(figures.number(overall.value if overall else None, kind)),
                c.interval(overall, kind),
                c.label(""),
                c.label(""),
                c.comparison(item.vs_previous.get("ALL"), kind),
                c.label(""),
            ]
        )
        title = _("League table: {indicator}").format(indicator=label(item.label, self.lang))
        notes = [
            comparison_legend(_, level_text(self.r)),
            reliability_legend(_, self.meta.options.min_reliable_n),
            _(
                "Plausible ranks: the {level} interval of the street's place; "
                "“possibly bottom {n}”: the interval reaches the last {n} places although "
                "the point estimate does not."
            ).format(level=level_text(self.r), n=self.rules.bottom),
        ]
        if self.r.previous_wave_code:
            notes.append(_("Previous wave: {wave}.").format(wave=self.r.previous_wave_code))
        if self.missing_streets():
            notes.insert(0, self.coverage_note())
        return [self.h2(title), table(rows, widths)] + [self.note(n) for n in notes]

    def assessment(self) -> list[Any]:
        """The year's assessment so far: annual rate, listings and verdicts per street."""
        doc = self.meta.assessment
        if not doc:
            return []
        _, c = self._, self.cells
        rules = doc["rules"]
        rows = [
            [
                c.head(_("Street")),
                c.head(_("Annual rate (%)")),
                c.head(_("95% CI")),
                c.head(_("Listed for rectification")),
                c.head(_("Verdict")),
            ]
        ]
        for s in doc["streets"]:
            rate = s["annual_rate"]
            verdicts = []
            if s["veto"]:
                verdicts.append(_("Veto"))
            if s["disqualified"]:
                verdicts.append(_("Disqualified from the year's awards"))
            rows.append(
                [
                    c.label(self.names.get(s["code"], s["name"])),
                    c.num(f"{rate['value'] * 100:.1f}" if rate else figures.DASH),
                    c.num(
                        f"{rate['ci_low'] * 100:.1f}{figures.EN_DASH}{rate['ci_high'] * 100:.1f}"
                        if rate
                        else figures.DASH
                    ),
                    c.label(list_sep(self.lang).join(s["listings"]) or figures.DASH),
                    c.label(list_sep(self.lang).join(verdicts) or figures.DASH),
                ]
            )
        waves = list_sep(self.lang).join(doc["annual_waves"].get(str(doc["year"]), []))
        return [
            CondPageBreak(160),
            self.h2(_("Annual assessment {year} (waves so far)").format(year=doc["year"])),
            table(rows, [92, 70, 80, 110, FRAME_WIDTH - 352]),
            self.note(
                _(
                    "Annual rate: the year's waves ({waves}) pooled, each wave a stratum. "
                    "Below {floor}: disqualified from the year's awards; veto: listed for "
                    "rectification {k} times within {years} years, or a score below {points} "
                    "points in the bottom {n} in each of {score_years} years."
                ).format(
                    waves=waves,
                    floor=figures.share(rules["disqualify_below"]),
                    k=rules["veto_listings"],
                    years=rules["veto_years"],
                    points=f"{rules['veto_score_below']:g}",
                    n=rules["bottom"],
                    score_years=rules["veto_score_years"],
                )
            ),
        ]

    def missing_streets(self) -> list[str]:
        return missing_streets(self.r)

    def district_label(self) -> str:
        return district_row_label(self.r, self._)

    def coverage_note(self) -> str:
        _ = self._
        missing = self.missing_streets()
        total = len(self.r.streets)
        return _(
            "The district figures cover {k} of {m} streets: {streets} had no counted "
            "responses this wave and are not represented in them."
        ).format(
            k=total - len(missing),
            m=total,
            streets=list_sep(self.lang).join(self.names[c] for c in missing),
        )

    def chart(self) -> list[Any]:
        _, item = self._, self.item
        if len(self.r.streets) > MAX_CHART_ROWS:
            return []
        order = sorted(
            self.r.streets,
            key=lambda s: (
                item.by_street.get(s[0]) is None,
                -(est.value if (est := item.by_street.get(s[0])) else 0),
            ),
        )
        bottom = {c for c, s in self.statuses.items() if s.status}
        rows = [
            ChartRow(self.names[code], item.by_street.get(code), highlight=code in bottom)
            for code, _zh, _en in order
        ]
        drawing = ci_chart(
            rows,
            self.st.fonts,
            width=FRAME_WIDTH,
            kind=item.kind,
            reference_line=item.overall.value if item.overall else None,
            legend=(_("street, with 95% CI"), _("district")),
        )
        unit = " (%)" if item.kind == "rate" else ""
        return [
            CondPageBreak(drawing.height + 40),
            self.h2(
                _("Streets against the district: {indicator}").format(
                    indicator=label(item.label, self.lang)
                )
                + unit
            ),
            drawing,
            self.note(_("Highlighted: streets with a warning this wave.")),
        ]

    def warnings(self) -> list[Any]:
        _, r = self._, self.rules
        rule_lines = [
            _("Bottom {n} on {indicator} this wave: interview.").format(
                n=r.bottom, indicator=label(self.item.label, self.lang)
            )
            if r.interview_waves == 1
            else _("Bottom {n} on {indicator} {k} waves running: interview.").format(
                n=r.bottom, indicator=label(self.item.label, self.lang), k=r.interview_waves
            ),
            _("Bottom {n} {k} waves running: yellow card.").format(
                n=r.bottom, k=r.yellow_card_waves
            ),
            _("Bottom {n} {k} waves running: listed for rectification.").format(
                n=r.bottom, k=r.rectification_waves
            ),
        ]
        if r.floor is not None:
            rule_lines.append(
                _("A rate below {floor}: flagged.").format(floor=figures.share(r.floor))
            )
        out = [CondPageBreak(160), self.h2(_("Warnings"))]
        out += [Paragraph(text("• " + line), self.st.body) for line in rule_lines]
        words = {
            "rectification": _("Listed for rectification"),
            "yellow_card": _("Yellow card"),
            "interview": _("Interview"),
        }
        c = self.cells
        rows = [[c.head(_("Warning")), c.head(_("Streets"))]]
        for status in STATUSES:
            streets = [
                self._street_with_run(s) for s in self._sorted_statuses() if s.status == status
            ]
            rows.append(
                [c.label(words[status]), c.label(list_sep(self.lang).join(streets) or figures.DASH)]
            )
        if r.floor is not None:
            flagged = [self.names[s.code] for s in self._sorted_statuses() if s.below_floor]
            rows.append(
                [
                    c.label(_("Below {floor}").format(floor=figures.share(r.floor))),
                    c.label(list_sep(self.lang).join(flagged) or figures.DASH),
                ]
            )
        missing = self.missing_streets()
        if missing:
            rows.append(
                [
                    c.label(_("No counted responses")),
                    c.label(list_sep(self.lang).join(self.names[m] for m in missing)),
                ]
            )
        out.append(table(rows, [110, FRAME_WIDTH - 110]))
        if missing:
            out.append(self.note(self.coverage_note()))
        waves = len(self.meta.history) + 1
        out.append(
            self.note(
                _(
                    "Counted over the {k} wave(s) of this survey so far; a street "
                    "without an estimate in a wave is not in that wave's bottom "
                    "places."
                ).format(k=waves)
            )
        )
        significant = [
            self.names[s.code]
            for s in self._sorted_statuses()
            if s.status
            and (cmp := self.item.vs_district.get(s.code)) is not None
            and cmp.significant
            and cmp.difference < 0
        ]
        if any(s.status for s in self.statuses.values()):
            out.append(
                self.note(
                    _(
                        "Of the streets with a warning, significantly below the "
                        "district: {streets}. The others' gap may be sampling "
                        "error."
                    ).format(streets=list_sep(self.lang).join(significant) or figures.DASH)
                )
            )
        return out

    def _sorted_statuses(self) -> list[StreetStatus]:
        return sorted(self.statuses.values(), key=lambda s: (s.rank is None, s.rank or 0, s.code))

    def _street_with_run(self, s: StreetStatus) -> str:
        return self._("{street} ({k} waves)").format(street=self.names[s.code], k=s.bottom_waves)

    # ---------------------------------------------------------------- all indicators
    def indicator_matrix(self) -> list[Any]:
        _, c = self._, self.cells
        items = rate_items(self.r)
        if not items:
            return []
        first = 84
        per = (FRAME_WIDTH - first) / len(items)
        head = [c.head(_("Street"))] + [c.head(label(i.label, self.lang)) for i in items]
        rows = [head]
        for code, _zh, _en in sorted(self.r.streets):
            row = [c.label(self.names[code])]
            for item in items:
                row.append(self._marked(item, item.by_street.get(code), item.vs_district.get(code)))
            rows.append(row)
        rows.append(
            [c.label(_("District"))]
            + [c.num(figures.number(i.overall.value if i.overall else None, i.kind)) for i in items]
        )
        return [
            PageBreak(),
            self.h2(_("All indicators by street (%)")),
            table(rows, [first] + [per] * len(items)),
            self.note(
                _(
                    "▲/▼ after a rate: significantly above/below the district at the "
                    "{level} level; grey with {mark}: fewer than {n} respondents."
                ).format(
                    level=level_text(self.r), mark=UNRELIABLE, n=self.meta.options.min_reliable_n
                )
            ),
        ]

    def previous_wave(self) -> list[Any]:
        """Every indicator and score against the previous wave, each said to be comparable or
        not: an item whose definition changed between the two waves' questionnaire versions
        (or that is new) is marked 不可比较 and not compared."""
        if not self.r.previous_wave_code:
            return []
        _, c = self._, self.cells
        head = [
            c.head(_("Indicator")),
            c.head(_("This wave")),
            c.head(_("Previous wave")),
            c.head(_("Change from the previous wave")),
            c.head(_("Comparable")),
        ]
        rows = [head]
        for item in self.r.items:
            now = item.overall
            cmp = item.vs_previous.get("ALL")
            then = now.value - cmp.difference if now is not None and cmp is not None else None
            if item.vs_previous_note:
                verdict = Paragraph(colored(text(_("not comparable")), LOW), self.st.cell)
            else:
                verdict = c.label(_("comparable"))
            rows.append(
                [
                    c.label(label(item.label, self.lang)),
                    c.num(figures.number(now.value if now else None, item.kind)),
                    c.num(figures.number(then, item.kind)),
                    c.comparison(cmp, item.kind) if not item.vs_previous_note else c.label(""),
                    verdict,
                ]
            )
        changed = [label(i.label, self.lang) for i in self.r.items if i.vs_previous_note]
        notes = [_("Previous wave: {wave}.").format(wave=self.r.previous_wave_code)]
        if changed:
            notes.append(
                _(
                    "Not compared with the previous wave (the definition "
                    "changed between the questionnaire versions, or the "
                    "indicator is new): {items}."
                ).format(items=list_sep(self.lang).join(changed))
            )
        first = 170
        widths = [first, 70, 70, 80, FRAME_WIDTH - first - 220]
        return [
            CondPageBreak(200),
            self.h2(_("Comparison with the previous wave")),
            table(rows, widths),
        ] + [self.note(n) for n in notes]

    def _marked(self, item: ItemResult, est: Estimate | None, cmp: Comparison | None) -> Line:
        c, fonts = self.cells, self.st.fonts
        s = figures.number(est.value if est else None, item.kind)
        if est is None:
            return c.num(s)
        if c.unreliable(est):
            return c.line([(s, fonts.latin), (UNRELIABLE, fonts.cjk)], MUTED)
        if cmp is not None and cmp.significant:
            up = cmp.difference > 0
            return c.line([(s, fonts.latin), ("▲" if up else "▼", fonts.cjk)], HIGH if up else LOW)
        return c.num(s)


def _rank_interval(r: Any) -> str:
    if r is None:
        return figures.DASH
    return f"{_whole(r.low)}{figures.EN_DASH}{_whole(r.high)}"


def _whole(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"
