"""Pieces shared by the street and district reports: names, cells, the methodology box."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..estimation import Estimate
from ..estimation.compare import Comparison
from ..questionnaire import translate
from . import figures
from .layout import ACCENT, HIGH, LOW, MUTED, Line, Paragraph, Styles, boxed, colored, latin, text
from .model import ReportError, ReportMeta

if TYPE_CHECKING:
    from .results import ItemResult, WaveResults

Gettext = Callable[[str], str]

UP, DOWN = "▲", "▼"
UNRELIABLE = "†"
FALLBACK = "‡"


def label(texts: dict[str, Any] | None, lang: str) -> str:
    """A translated label from a questionnaire text ({"zh_CN": …, "en": …})."""
    return translate(texts or {}, lang)[0]


def place_name(zh: str, en: str, lang: str) -> str:
    """A locality's name in ``lang``: the English one for ``en`` when there is one, else the
    Chinese."""
    return en if lang == "en" and en else zh


def list_sep(lang: str) -> str:
    """The separator of a list in ``lang``: ``, `` in English, ``、`` in Chinese."""
    return ", " if lang == "en" else "、"


def colon(lang: str) -> str:
    """The colon after a heading in ``lang`` (full width in Chinese)."""
    return ": " if lang == "en" else "："


def street_names(results: WaveResults) -> dict[str, tuple[str, str]]:
    """The district's streets: code -> (Chinese name, English name)."""
    return {code: (zh, en) for code, zh, en in results.streets}


def check_street(results: WaveResults, street_code: str) -> tuple[str, str]:
    """Return the street's (Chinese, English) names; ReportError for a code not in the district."""
    names = street_names(results)
    if street_code not in names:
        raise ReportError(
            f"street '{street_code}' is not in the survey's district; its streets: "
            + ", ".join(sorted(names))
        )
    return names[street_code]


def mode_name(mode: str, _: Gettext) -> str:
    """The name of an interview mode (``phone``, ``door``) in the report's language."""
    return {"phone": _("Telephone (CATI)"), "door": _("Door to door")}.get(mode, mode)


class Cells:
    """Table cells as Paragraphs: figures in the Latin font, marks in the CJK font."""

    def __init__(self, st: Styles, min_reliable_n: int):
        self.st = st
        self.fonts = st.fonts
        self.min_n = min_reliable_n

    def label(self, s: str, muted: bool = False) -> Paragraph:
        """A text cell (grey when ``muted``)."""
        markup = text(s)
        return Paragraph(colored(markup, MUTED) if muted else markup, self.st.cell)

    def head(self, s: str) -> Paragraph:
        """A column heading cell."""
        return Paragraph(text(s), self.st.head)

    def line(
        self, parts: Sequence[tuple[str, str]], color: Any = None, align: str = "right"
    ) -> Line:
        """A one-line cell of ``(text, font)`` runs in the cell style."""
        style = self.st.cell
        return Line(parts, style.fontSize, style.leading, color or style.textColor, align)

    def num(self, s: str, muted: bool = False, align: str = "right") -> Line:
        """A figure in the Latin font (the dash of a missing one in the CJK font)."""
        font = self.fonts.cjk if s == figures.DASH else self.fonts.latin
        return self.line([(s, font)], MUTED if muted else None, align)

    def n(self, n: int | None) -> Line:
        """A number of respondents, marked and red below the reliable minimum (a dash for none)."""
        if n is None:
            return self.num(figures.DASH)
        if n < self.min_n:
            return self.line([(str(n), self.fonts.latin), (UNRELIABLE, self.fonts.cjk)], LOW)
        return self.num(str(n))

    def unreliable(self, est: Estimate | None) -> bool:
        """Whether ``est`` rests on fewer respondents than the reliable minimum."""
        return est is not None and est.n < self.min_n

    def value(self, est: Estimate | None, kind: str) -> Line:
        """An estimate as printed (percent for a rate, points for a score), grey when unreliable."""
        return self.num(figures.value(est, kind), muted=self.unreliable(est))

    def interval(self, est: Estimate | None, kind: str, muted: bool | None = None) -> Line:
        """An estimate's confidence interval, marked when it is a fallback (Korn-Graubard at 0
        or 100%, respondents as PSUs)."""
        s = figures.interval(est, kind)
        muted = self.unreliable(est) if muted is None else muted
        if est is not None and est.fallback and s != figures.DASH:
            # Korn-Graubard at 0%/100%, or respondents as PSUs: see the methodology box.
            color = MUTED if muted else None
            return self.line([(s, self.fonts.latin), (FALLBACK, self.fonts.cjk)], color)
        return self.num(s, muted=muted)

    def comparison(self, cmp: Comparison | None, kind: str) -> Line:
        """``+4.5 ▲`` when significant (green up, red down), plain ``+0.3`` otherwise."""
        s = figures.difference(cmp, kind)
        if cmp is not None and cmp.significant and s != figures.DASH:
            up = cmp.difference > 0
            return self.line(
                [(s, self.fonts.latin), (" " + (UP if up else DOWN), self.fonts.cjk)],
                HIGH if up else LOW,
            )
        return self.num(s)


def level_text(results: WaveResults) -> str:
    """The confidence level as printed: ``95%``."""
    return f"{float(results.settings.get('level', 0.95)) * 100:g}%"


def settings_text(_: Gettext, results: WaveResults, meta: ReportMeta | None = None) -> str:
    """Which version of the survey's settings the results used: ``设置版本 2``; and
    ``未发布`` while the wave's results are not released."""
    out = _("settings version {n}").format(n=results.settings.get("settings_version", 1))
    if meta is not None and not meta.released:
        out += " · " + _("unreleased")
    return out


def comparison_legend(_: Gettext, level: str) -> str:
    """The legend of the significance marks, at confidence ``level`` (``95%``)."""
    return _(
        "▲/▼: the difference is statistically significant at the {level} level (green "
        "above, red below); a difference without a mark may be sampling error. "
        "Differences of rates are in percentage points."
    ).format(level=level)


def reliability_legend(_: Gettext, min_n: int) -> str:
    """The legend of the unreliable mark (fewer than ``min_n`` respondents) and of the dash."""
    return _(
        "{mark} fewer than {n} respondents: unreliable, shown in grey for information "
        "only. — too few respondents to estimate."
    ).format(mark=UNRELIABLE, n=min_n)


def methodology(
    results: WaveResults,
    meta: ReportMeta,
    st: Styles,
    _: Gettext,
    lang: str,
    extra: Sequence[tuple[str, str]] = (),
) -> list[Any]:
    """The methodology box: design, weighting, CI method, don't-know, significance, reliability."""
    settings = results.settings
    design = settings.get("design", {})
    w = results.weighting
    method = settings.get("ci_method", "logit")
    method_names = {
        "logit": _("logit (Wald interval on the log-odds scale, R survey's svyciprop)"),
        "likelihood": _("profile likelihood (Rao–Scott scaled)"),
        "beta": _("Korn–Graubard (Clopper–Pearson with the effective sample size)"),
        "wilson": _("Wilson score interval with the effective sample size"),
        "asin": _("arcsine square root"),
        "mean": _("Wald interval on the probability scale"),
        "xlogit": _("Wald interval for the logit of the mean"),
    }
    strata = design.get("strata")
    cluster = design.get("cluster")
    level_names = {"street": _("street"), "community": _("community"), "grid": _("grid")}
    if strata and cluster:
        design_text = _(
            "Stratified cluster sample: strata are {strata}s, primary sampling units "
            "are {cluster}s."
        ).format(strata=level_names.get(strata, strata), cluster=level_names.get(cluster, cluster))
    elif strata:
        design_text = _("Stratified sample: strata are {strata}s.").format(
            strata=level_names.get(strata, strata)
        )
    else:
        design_text = _("Simple random sample of respondents (no strata or clusters declared).")
    margin_names = {"street": _("street"), "sex": _("sex"), "age_group": _("age group")}
    if w.method == "rake":
        weighting_text = _(
            "Base weights from the streets' populations, then raked to census counts by {margins}."
        ).format(margins=list_sep(lang).join(margin_names.get(m, m) for m in w.margins))
    elif w.method == "base":
        weighting_text = _("Base weights from the streets' populations (no raking).")
    else:
        weighting_text = _("Unweighted.")
    weighting_text += " " + _(
        "Kish design effect of the weights {deff}; effective sample size {neff} of {n} respondents."
    ).format(
        deff=latin(f"{w.kish_deff:.2f}", st.fonts),
        neff=latin(f"{w.effective_n:.0f}", st.fonts),
        n=latin(str(results.n), st.fonts),
    )
    if w.note:
        weighting_text += " " + text(w.note)
    design_text += " " + _(
        "These results use version {n} of the survey's settings (design, weighting, intervals, "
        "warnings)."
    ).format(n=settings.get("settings_version", 1))
    paragraphs = [
        (_("Sample design"), text(design_text)),
        (_("Weighting"), weighting_text),
        (
            _("Confidence intervals"),
            text(
                _(
                    "{level} intervals by the {method} method, with the design's degrees of "
                    "freedom; they account for the weights, strata and clusters."
                ).format(level=level_text(results), method=method_names.get(method, method))
                + " "
                + _(
                    "{mark} Where that interval would have zero width (every respondent or none "
                    "answering positively), "
                    "the Korn–Graubard interval (Clopper–Pearson with the respondents as the "
                    "effective sample size, adjusted for the degrees of freedom) is given "
                    "instead."
                ).format(mark=FALLBACK)
                + " "
                + _(
                    "{mark} also marks a street interviewed in a single community: its interval "
                    "takes its respondents as the sampling units, which ignores the clustering "
                    "and may be too narrow."
                ).format(mark=FALLBACK)
            ),
        ),
        (
            _("Don't know"),
            text(
                _(
                    "Answers such as “don't know” are left out of a rate's denominator; "
                    "rates with a "
                    "base (for example the dispute resolution rate) count only the respondents "
                    "asked."
                )
            ),
        ),
        (
            _("Significance"),
            text(
                _(
                    "A street is compared with its whole district taking into account that the "
                    "street is part of the district; a change since the previous wave compares two "
                    "independent samples. Differences are called significant when their {level} "
                    "interval excludes zero."
                ).format(level=level_text(results))
                + " "
                + _(
                    "A difference is never called significant when the street's own interval "
                    "contains the value it is compared with."
                )
                + " "
                + _(
                    "A street is tested against its district with the street's own degrees of "
                    "freedom, those of its interval."
                )
            ),
        ),
        (
            _("Reliability"),
            text(
                _("Estimates from fewer than {n} respondents are marked unreliable.").format(
                    n=meta.options.min_reliable_n
                )
            ),
        ),
    ]
    paragraphs += [(t, m) for t, m in extra]
    flow = [Paragraph(text(_("Methodology")), st.h2)]
    flow += [Paragraph(colored(text(t) + colon(lang), ACCENT) + m, st.box) for t, m in paragraphs]
    return [boxed(flow)]


def rate_items(results: WaveResults) -> list[ItemResult]:
    """The wave's rates (indicators), in questionnaire order."""
    return [i for i in results.items if i.kind == "rate"]


def score_items(results: WaveResults) -> list[ItemResult]:
    """The wave's composite scores, in questionnaire order."""
    return [i for i in results.items if i.kind == "score"]


def main_indicators(results: WaveResults, meta: ReportMeta) -> list[ItemResult]:
    """The survey's main indicators (settings), those the questionnaire has; else the first two."""
    by_id = {i.id: i for i in results.items}
    chosen = [by_id[i] for i in meta.options.main_indicators if i in by_id]
    return chosen or rate_items(results)[:2]
