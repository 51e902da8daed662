"""The printable questionnaire: the paper version enumerators carry as a backup in the field.

:func:`build_questionnaire_pdf` is pure (a loaded questionnaire and a language code in, PDF
bytes out). It prints the title, each group, each question with its code, what kind of answer
is expected, the choices with their codes and tick boxes, and the skip instructions in words
("Ask if had_dispute = Yes"), in the chosen language. A text that is not translated into that
language is printed in the default language and marked with † (explained on page 1), as the
interview shows it marked.

Right-to-left languages (:data:`surveyapp.questionnaire.model.RTL_LANGUAGES`, or a language the
file declares ``rtl``, such as Uyghur) are shaped (``arabic-reshaper``: the contextual letter
forms), put in visual order per line (``python-bidi``) and right-aligned, in an embedded font
with Arabic-script glyphs (DejaVu Sans from Debian's ``fonts-dejavu-core``). Chinese text uses
the embedded report font of :mod:`surveyapp.reports.fonts`. Each line is drawn in runs: every
character in the first font that has its glyph.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas

from ..errors import UserError
from ..questionnaire.conditions import Condition, _Binary, _Call, _Current, _Literal, _Node, _Ref
from ..questionnaire.model import Question, Questionnaire, translate_marked
from .fonts import FontSet, report_fonts

#: The Debian package whose font has the Arabic-script (Uyghur) glyphs.
ARABIC_FONT_PACKAGE = "fonts-dejavu-core"
#: TrueType fonts with Arabic-script glyphs, tried in this order after
#: ``SURVEYAPP_ARABIC_FONT``.
ARABIC_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf",
)
FALLBACK_MARK = "†"


class QuestionnairePdfError(UserError, ValueError):
    """The PDF cannot be made: an unknown language or a missing font (the message says which)."""


# --- wording --------------------------------------------------------------------------------

# The instructions printed around the questionnaire's own texts. Languages without an entry get
# English. (The Uyghur wording should be checked by a native speaker.)
_WORDS: Mapping[str, Mapping[str, str]] = {
    "zh_CN": {
        "single": "（单选，请在一个方框内打 ✓）",
        "multiple": "（多选，可在多个方框内打 ✓）",
        "yesno": "（单选，请在一个方框内打 ✓）",
        "integer": "（请填写数字）",
        "integer_range": "（请填写 {min} 至 {max} 之间的数字）",
        "text": "（请填写文字）",
        "date": "（请填写日期：年 / 月 / 日）",
        "decimal": "（请填写数字，可带小数）",
        "time": "（请填写时间：时 : 分）",
        "datetime": "（请填写日期和时间：年 / 月 / 日 时 : 分）",
        "geopoint": "（平板电脑记录位置，须经受访者同意；纸质问卷请填写经纬度）",
        "optional": "（选答）",
        "ask_if": "如果 {cond}，才问本题",
        "group_if": "如果 {cond}，才问本部分",
        "and": "并且",
        "or": "或者",
        "not": "并非（{x}）",
        "selected": "{q} 选了「{c}」",
        "count": "{q} 所选项数",
        "answered": "{q} 已回答",
        "this": "本题答案",
        "instances": "{q} 的条数",
        "repeat_count": "本部分逐条询问，共 {count} 条（每条复印本部分一份）",
        "repeat_open": "本部分逐条询问，按实际条数（每条复印本部分一份）",
        "repeat_bounds": "，{min} 至 {max} 条",
        "required_if": "如果 {cond}，本题必答",
        "choice_filter": "只列出符合条件的选项：{cond}",
        "fallback": "{mark} 尚未翻译成{lang}，以{default}印出。",
        "language": "语言：{lang}",
        "page": "第 {n} 页",
    },
    "en": {
        "single": "(Tick one box.)",
        "multiple": "(Tick all boxes that apply.)",
        "yesno": "(Tick one box.)",
        "integer": "(Write a number.)",
        "integer_range": "(Write a number from {min} to {max}.)",
        "text": "(Write the answer.)",
        "date": "(Write the date: year / month / day.)",
        "decimal": "(Write a number; decimals allowed.)",
        "time": "(Write the time: hours : minutes.)",
        "datetime": "(Write the date and time: year / month / day hours : minutes.)",
        "geopoint": "(The tablet records the location, with the respondent's consent; "
        "on paper write latitude and longitude.)",
        "optional": "(optional)",
        "ask_if": "Ask if {cond}",
        "group_if": "Ask this section if {cond}",
        "and": "and",
        "or": "or",
        "not": "not ({x})",
        "selected": "{q} includes “{c}”",
        "count": "the number of answers to {q}",
        "answered": "{q} is answered",
        "this": "this answer",
        "instances": "the number of {q}",
        "repeat_count": "Ask this section once for each of {count} (copy it for each)",
        "repeat_open": "Ask this section once for each, as many as there are (copy it for each)",
        "repeat_bounds": ", from {min} to {max}",
        "required_if": "Must be answered if {cond}",
        "choice_filter": "Offer only the choices where {cond}",
        "fallback": "{mark} Not translated into {lang} yet: printed in {default}.",
        "language": "Language: {lang}",
        "page": "Page {n}",
    },
    "ug": {
        "single": "بىر كاتەكچىگە ✓ بەلگىسى قويۇڭ.",
        "multiple": "مۇناسىپ بارلىق كاتەكچىلەرگە ✓ بەلگىسى قويۇڭ.",
        "yesno": "بىر كاتەكچىگە ✓ بەلگىسى قويۇڭ.",
        "integer": "سان يېزىڭ.",
        "integer_range": "{min} دىن {max} گىچە بولغان سان يېزىڭ.",
        "text": "جاۋابنى يېزىڭ.",
        "date": "چېسلانى يېزىڭ: يىل / ئاي / كۈن.",
        "optional": "ئىختىيارىي",
        "ask_if": "ئەگەر {cond} بولسا، بۇ سوئالنى سوراڭ",
        "group_if": "ئەگەر {cond} بولسا، بۇ بۆلەكنى سوراڭ",
        "and": "ۋە",
        "or": "ياكى",
        "not": "ئەمەس: {x}",
        "selected": "{q} دا «{c}» تاللانغان",
        "count": "{q} دا تاللانغانلار سانى",
        "answered": "{q} جاۋاب بېرىلگەن",
        "this": "بۇ جاۋاب",
        "fallback": "{mark} تېخى {lang} غا تەرجىمە قىلىنمىغان، {default} دا بېسىلدى.",
        "language": "تىل: {lang}",
        "page": "{n}-بەت",
    },
}
_OPERATORS = {"=": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥"}


def _words(lang: str) -> Mapping[str, str]:
    words = _WORDS.get(lang) or _WORDS.get(lang.split("_")[0]) or _WORDS["en"]
    return {**_WORDS["en"], **words}  # what a language lacks, in English


@dataclass(frozen=True)
class _Text:
    """A questionnaire text in the chosen language; ``fallback`` if in the default language."""

    value: str
    fallback: bool = False

    @property
    def marked(self) -> str:
        return f"{self.value} {FALLBACK_MARK}" if self.fallback else self.value


def _literal_label(
    question: Question | None, literal: _Literal, lang: str, default: str, marker: str | None
) -> str:
    code = literal.value if isinstance(literal.value, str) else literal.text
    choice = question.choice(code.strip()) if question is not None else None
    if choice is None:
        return code
    text, fallback = translate_marked(choice.label, lang, default, marker)
    return f"{text} {FALLBACK_MARK}" if fallback else text


def describe_condition(
    condition: Condition,
    schema: Questionnaire,
    lang: str,
    current: str | None = None,
    untranslated: str | None = None,
) -> str:
    """Return ``condition`` in words in ``lang``: question codes, choice labels, ``and``/``or``.

    ``current`` is the question ``.`` stands for. Parts that have no wording (functions other
    than ``selected``, ``count-selected`` and ``not``, arithmetic) are printed as written.
    """
    words = _words(lang)
    default = schema.default_language

    def subject(node: _Node) -> tuple[str, Question | None] | None:
        if isinstance(node, _Ref):
            return node.qid, schema.questions.get(node.qid)
        if isinstance(node, _Current):
            return words["this"], schema.questions.get(current or "")
        return None

    def walk(node: _Node, parent: str | None = None) -> str:
        if isinstance(node, _Binary) and node.op in ("and", "or"):
            text = f" {words[node.op]} ".join((walk(node.left, node.op), walk(node.right, node.op)))
            return f"({text})" if parent is not None and parent != node.op else text
        if isinstance(node, _Binary) and node.op in _OPERATORS:
            left, right = node.left, node.right
            if isinstance(left, _Literal) and not isinstance(right, _Literal):
                left, right = right, left
            named = subject(left)
            if named is not None and isinstance(right, _Literal):
                qid, question = named
                if right.text.strip() in ("''", '""') or (
                    isinstance(right.value, str) and not right.value.strip()
                ):
                    if node.op == "!=":
                        return words["answered"].format(q=qid)
                value = _literal_label(question, right, lang, default, untranslated)
                return f"{qid} {_OPERATORS[node.op]} {value}"
            return f"{walk(left, node.op)} {_OPERATORS[node.op]} {walk(right, node.op)}"
        if isinstance(node, _Call):
            if node.name == "selected" and len(node.args) == 2:
                named = subject(node.args[0])
                if named is not None and isinstance(node.args[1], _Literal):
                    qid, question = named
                    label = _literal_label(question, node.args[1], lang, default, untranslated)
                    return words["selected"].format(q=qid, c=label)
            if node.name == "count-selected" and len(node.args) == 1:
                named = subject(node.args[0])
                if named is not None:
                    return words["count"].format(q=named[0])
            if node.name == "count" and len(node.args) == 1 and isinstance(node.args[0], _Ref):
                return words["instances"].format(q=node.args[0].qid)  # a roster's instances
            if node.name == "not" and len(node.args) == 1:
                return words["not"].format(x=walk(node.args[0], "not"))
        if isinstance(node, _Ref):
            return node.qid
        if isinstance(node, _Current):
            return words["this"]
        if isinstance(node, _Literal):
            return node.text
        raise _NoWords

    try:
        return walk(condition._tree)
    except _NoWords:
        return condition.source


class _NoWords(Exception):
    pass


# --- fonts and text shaping -----------------------------------------------------------------

_ARABIC_RE = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_RTL_RE = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")


@lru_cache(maxsize=4)
def arabic_font(path: str | None = None) -> str:
    """Register and return the name of the embedded Arabic-script font.

    ``path`` defaults to ``SURVEYAPP_ARABIC_FONT``, then the first installed of
    :data:`ARABIC_CANDIDATES`. Raise :class:`QuestionnairePdfError` naming the Debian package
    when there is none.
    """
    path = path if path is not None else os.environ.get("SURVEYAPP_ARABIC_FONT", "")
    tried = [path] if path else [p for p in ARABIC_CANDIDATES if os.path.exists(p)]
    for candidate in tried:
        try:
            font = TTFont("QuestionnaireArabic", candidate)
        except (TTFError, OSError) as exc:
            raise QuestionnairePdfError(
                f"the Arabic-script font {candidate} cannot be embedded ({exc})"
            ) from None
        if ord("ئ") not in font.face.charToGlyph:
            raise QuestionnairePdfError(f"the font {candidate} has no Arabic-script glyphs")
        pdfmetrics.registerFont(font)
        return "QuestionnaireArabic"
    raise QuestionnairePdfError(
        "no font with Arabic-script (Uyghur) glyphs is installed: install the Debian package "
        f"{ARABIC_FONT_PACKAGE} (apt-get install {ARABIC_FONT_PACKAGE}, or `make system-deps`) "
        "or set SURVEYAPP_ARABIC_FONT to a TrueType font file"
    )


class _Fonts:
    """The fonts of one PDF, in order of preference; a character is drawn in the first that
    has its glyph (the non-embedded CID font is assumed to have every non-Arabic glyph)."""

    def __init__(self, cjk: FontSet, arabic: str | None, rtl: bool) -> None:
        self.cjk = cjk
        self.names = [name for name in ([arabic, cjk.cjk] if rtl else [cjk.cjk, arabic]) if name]
        self.arabic = arabic
        self._font_of: dict[str, str] = {}  # every character is measured many times

    def _has(self, name: str, ch: str) -> bool:
        if name == self.arabic or self.cjk.embedded:
            return ord(ch) in pdfmetrics.getFont(name).face.charToGlyph
        return not _ARABIC_RE.match(ch)

    def font_for(self, ch: str) -> str:
        found = self._font_of.get(ch)
        if found is None:
            found = next((name for name in self.names if self._has(name, ch)), self.names[0])
            self._font_of[ch] = found
        return found

    def runs(self, text: str) -> list[tuple[str, str]]:
        runs: list[tuple[str, str]] = []
        for ch in text:
            name = runs[-1][0] if runs and ch == " " else self.font_for(ch)
            if runs and runs[-1][0] == name:
                runs[-1] = (name, runs[-1][1] + ch)
            else:
                runs.append((name, ch))
        return runs

    def width(self, text: str, size: float, runs: list[tuple[str, str]] | None = None) -> float:
        runs = runs if runs is not None else self.runs(text)
        return float(sum(pdfmetrics.stringWidth(t, name, size) for name, t in runs))


@lru_cache(maxsize=1)
def _joining_forms() -> tuple[dict[str, str], dict[str, str]]:
    from arabic_reshaper.letters import LETTERS_ARABIC

    to_initial: dict[str, str] = {}
    to_medial: dict[str, str] = {}
    for base, (isolated, initial, medial, final) in LETTERS_ARABIC.items():
        if initial:
            to_initial[isolated or base] = initial
            to_initial.setdefault(base, initial)
        if final and medial:
            to_medial[final] = medial
    return to_initial, to_medial


def _join_before_ae(shaped: str) -> str:
    """Join the letter before Uyghur ە (AE) to it.

    ە joins on its right side only, but Unicode has no presentation form for its joined (final)
    shape, so the reshaper leaves the letter before it unjoined (ئەمەس drawn as ئ ەم ەس).
    That letter takes its initial (or medial) form; ە keeps its own glyph and code, so the
    text read back from the PDF is unchanged.
    """
    if "\u06d5" not in shaped:
        return shaped
    to_initial, to_medial = _joining_forms()
    chars = list(shaped)
    for index in range(1, len(chars)):
        if chars[index] == "\u06d5":
            before = chars[index - 1]
            chars[index - 1] = to_initial.get(before) or to_medial.get(before) or before
    return "".join(chars)


def _visual(text: str, rtl: bool) -> str:
    """Return one line of ``text`` shaped and in visual (left-to-right drawing) order."""
    if not _RTL_RE.search(text):
        return text
    import arabic_reshaper
    from bidi import get_display

    shaped = _join_before_ae(arabic_reshaper.reshape(text))
    return str(get_display(shaped, base_dir="R" if rtl else "L"))


_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
#: Line-breaking units: spaces, one CJK character, or a run of anything else (a word).
_TOKEN_RE = re.compile(rf"\s+|[{_CJK}]|[^\s{_CJK}]+")


# --- layout ---------------------------------------------------------------------------------


class _Page:
    WIDTH, HEIGHT = A4
    LEFT = RIGHT = 18 * mm
    TOP = 18 * mm
    BOTTOM = 20 * mm

    def __init__(self, fonts: _Fonts, rtl: bool, footer: str) -> None:
        self.buffer = io.BytesIO()
        self.canvas = Canvas(self.buffer, pagesize=A4, invariant=1)
        self.fonts = fonts
        self.rtl = rtl
        self.footer = footer
        self.page = 1
        self.y = self.HEIGHT - self.TOP

    @property
    def text_width(self) -> float:
        return float(self.WIDTH - self.LEFT - self.RIGHT)

    def room(self, height: float) -> None:
        if self.y - height < self.BOTTOM:
            self._finish_page()
            self.canvas.showPage()
            self.page += 1
            self.y = self.HEIGHT - self.TOP

    def _finish_page(self) -> None:
        self.canvas.setFillGray(0.4)
        self._draw(self.footer.format(n=self.page), 8, self.BOTTOM - 10 * mm, 0, centre=True)
        self.canvas.setFillGray(0)

    def wrap(self, text: str, size: float, width: float) -> list[str]:
        lines: list[str] = []
        for paragraph in text.split("\n"):
            line = ""
            for token in _TOKEN_RE.findall(paragraph):
                candidate = line + token
                if (
                    line
                    and not token.isspace()
                    and self.fonts.width(_visual(candidate.strip(), self.rtl), size) > width
                ):
                    lines.append(line.strip())
                    line = token
                else:
                    line = candidate
            lines.append(line.strip())
        return lines

    def _draw(self, line: str, size: float, y: float, indent: float, centre: bool = False) -> float:
        visual = _visual(line, self.rtl)
        runs = self.fonts.runs(visual)
        width = self.fonts.width(visual, size, runs)
        if centre:
            x = (self.WIDTH - width) / 2
        elif self.rtl:
            x = self.WIDTH - self.RIGHT - indent - width
        else:
            x = self.LEFT + indent
        for name, text in runs:
            self.canvas.setFont(name, size)
            self.canvas.drawString(x, y, text)
            x += pdfmetrics.stringWidth(text, name, size)
        return width

    def paragraph(
        self, text: str, size: float, indent: float = 0, gray: float = 0, after: float = 1.5 * mm
    ) -> None:
        leading = size * 1.35
        self.canvas.setFillGray(gray)
        for line in self.wrap(text, size, self.text_width - indent):
            self.room(leading)
            self.y -= leading
            self._draw(line, size, self.y + size * 0.25, indent)
        self.canvas.setFillGray(0)
        self.y -= after

    def choice(self, text: str, size: float, indent: float) -> None:
        box = size * 0.85
        gap = 2.5 * mm
        leading = size * 1.45
        lines = self.wrap(text, size, self.text_width - indent - box - gap)
        self.room(leading * len(lines))
        for index, line in enumerate(lines):
            self.y -= leading
            base = self.y + size * 0.25
            if index == 0:
                bx = self.WIDTH - self.RIGHT - indent - box if self.rtl else self.LEFT + indent
                self.canvas.setLineWidth(0.7)
                self.canvas.rect(bx, base - size * 0.1, box, box, stroke=1, fill=0)
            self._draw(line, size, base, indent + box + gap)

    def answer_line(self, indent: float) -> None:
        self.room(9 * mm)
        self.y -= 8 * mm
        self.canvas.setLineWidth(0.5)
        if self.rtl:
            self.canvas.line(self.LEFT + 40 * mm, self.y, self.WIDTH - self.RIGHT - indent, self.y)
        else:
            self.canvas.line(self.LEFT + indent, self.y, self.WIDTH - self.RIGHT - 40 * mm, self.y)
        self.y -= 2 * mm

    def rule(self) -> None:
        self.room(3 * mm)
        self.y -= 1.5 * mm
        self.canvas.setLineWidth(0.8)
        self.canvas.line(self.LEFT, self.y, self.WIDTH - self.RIGHT, self.y)
        self.y -= 1.5 * mm

    def finish(self, title: str) -> bytes:
        self._finish_page()
        self.canvas.setTitle(title)
        self.canvas.setCreator("surveyapp")
        self.canvas.save()
        return self.buffer.getvalue()


# --- the document ---------------------------------------------------------------------------


def _needs_arabic(schema: Questionnaire, lang: str) -> bool:
    language = schema.language(lang)
    return bool(language and language.rtl) or bool(_ARABIC_RE.search(schema.source_text))


def build_questionnaire_pdf(
    schema: Questionnaire, language: str, untranslated: str | None = None
) -> bytes:
    """Return the printable questionnaire ``schema`` in ``language`` (a declared language code)
    as PDF bytes. Raise :class:`QuestionnairePdfError` for an undeclared language or when the
    font a right-to-left language needs is missing.

    A published questionnaire has every text in every language; a draft being translated is
    loaded with its missing translations set to a marker (the designer's preview document):
    pass it as ``untranslated`` and those texts are printed in the default language, marked.
    """
    declared = schema.language(language)
    if declared is None:
        codes = ", ".join(lang.code for lang in schema.languages)
        raise QuestionnairePdfError(
            f"language '{language}' is not one of this questionnaire's languages ({codes})"
        )
    rtl = declared.rtl
    default = schema.default_language
    words = _words(language)
    arabic: str | None = None
    if _needs_arabic(schema, language):
        try:
            arabic = arabic_font()
        except QuestionnairePdfError:
            if rtl:
                raise
    fonts = _Fonts(report_fonts(), arabic, rtl)
    page = _Page(fonts, rtl, words["page"])
    arrow = "" if rtl else "→ "

    def tr(text: Mapping[str, str]) -> _Text:
        return _Text(*translate_marked(text, language, default, untranslated))

    title = tr(schema.title)
    page.paragraph(title.marked, 16, after=1 * mm)
    page.paragraph(
        f"{schema.id} v{schema.version} · " + words["language"].format(lang=declared.name),
        8.5,
        gray=0.35,
        after=1 * mm,
    )
    if schema.description:
        page.paragraph(tr(schema.description).marked, 9.5, gray=0.2)
    if _any_fallback(schema, language, untranslated):
        default_name = schema.languages[0].name
        page.paragraph(
            words["fallback"].format(mark=FALLBACK_MARK, lang=declared.name, default=default_name),
            8.5,
            gray=0.35,
        )
    for group in schema.groups:
        page.room(20 * mm)
        page.rule()
        page.paragraph(tr(group.title).marked, 13, after=1 * mm)
        if group.relevant is not None:
            cond = describe_condition(group.relevant, schema, language, None, untranslated)
            page.paragraph(arrow + words["group_if"].format(cond=cond), 9, gray=0.3)
        if group.repeat is not None:  # a roster: asked once per instance
            repeat = group.repeat
            if repeat.count is not None:
                count = describe_condition(repeat.count, schema, language, None, untranslated)
                how = words["repeat_count"].format(count=count)
            else:
                how = words["repeat_open"]
            if repeat.count is None and (repeat.minimum is not None or repeat.maximum is not None):
                low = repeat.minimum if repeat.minimum is not None else 0
                high = repeat.maximum if repeat.maximum is not None else "…"
                how += words["repeat_bounds"].format(min=low, max=high)
            page.paragraph(arrow + how, 9, gray=0.3)
        for question in group.questions:
            if not question.kind.entered:
                continue  # a calculation: computed, never asked
            page.room(22 * mm)
            page.y -= 2 * mm
            if question.relevant is not None:
                cond = describe_condition(
                    question.relevant, schema, language, question.id, untranslated
                )
                ask = arrow + words["ask_if"].format(cond=cond)
                page.paragraph(ask, 8.5, gray=0.3, after=0.5 * mm)
            label = tr(question.label).marked
            page.paragraph(f"{question.id}  {label}", 10.5, after=0.5 * mm)
            if question.hint:
                hint = tr(question.hint).marked
                page.paragraph(hint, 8.5, indent=4 * mm, gray=0.3, after=0.5 * mm)
            if not question.kind.stored:
                continue  # a note: its text only
            whole = question.kind.whole_numbers
            if whole and question.minimum is not None and question.maximum is not None:
                how = words["integer_range"].format(min=question.minimum, max=question.maximum)
            else:
                how = words.get(question.type) or _WORDS["en"][question.type]
            if not question.required:
                how = f"{how} {words['optional']}"
            page.paragraph(how, 8.5, indent=4 * mm, gray=0.3, after=0.5 * mm)
            for key, extra in (
                ("required_if", question.required_if),
                ("choice_filter", question.choice_filter),
            ):
                if extra is not None:
                    cond = describe_condition(extra, schema, language, question.id, untranslated)
                    text = words[key].format(cond=cond)
                    page.paragraph(text, 8.5, indent=4 * mm, gray=0.3, after=0.5 * mm)
            if question.choices:
                for choice in question.choices:
                    page.choice(f"{choice.code}  {tr(choice.label).marked}", 10, 6 * mm)
            else:
                page.answer_line(6 * mm)
            if question.other_code is not None:
                page.answer_line(12 * mm)
    return page.finish(title.value)


def _any_fallback(schema: Questionnaire, language: str, marker: str | None) -> bool:
    default = schema.default_language
    texts = [schema.title] + [group.title for group in schema.groups]
    for question in schema.questions.values():
        texts.append(question.label)
        if question.hint:
            texts.append(question.hint)
        texts.extend(choice.label for choice in question.choices)
    return any(translate_marked(text, language, default, marker)[1] for text in texts)
