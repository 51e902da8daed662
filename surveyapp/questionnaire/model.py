"""The immutable questionnaire schema: groups, questions, choices, indicators and composites.

Objects here are built by :mod:`surveyapp.questionnaire.loader` from a validated file and never
change afterwards (frozen dataclasses, tuples, read-only mappings), so one parsed questionnaire can
be shared by every request of a process.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Any, Literal

from ..errors import N_
from ..errors import Text as Message
from .conditions import Condition
from .types import GROUP_KINDS, KINDS, GroupKind, QuestionKind

__all__ = [
    "CHOICE_TYPES",
    "DEFAULT_LANGUAGE",
    "QUESTION_TYPES",
    "Choice",
    "Composite",
    "Group",
    "Indicator",
    "Language",
    "Question",
    "QuestionType",
    "Repeat",
    "Questionnaire",
    "Text",
    "translate",
]

#: A translated text: language code -> text, e.g. ``{"zh_CN": "是", "en": "Yes"}``.
Text = Mapping[str, str]

QuestionType = Literal[
    "single",
    "multiple",
    "yesno",
    "integer",
    "text",
    "date",
    "decimal",
    "time",
    "datetime",
    "geopoint",
    "note",
    "calculate",
]
#: The question types, from their registry (:mod:`.types`; a test checks ``QuestionType``).
QUESTION_TYPES: tuple[QuestionType, ...] = tuple(KINDS)  # type: ignore[arg-type]
#: Question types whose answers are codes from a list of choices.
CHOICE_TYPES: frozenset[str] = frozenset(name for name, kind in KINDS.items() if kind.choices)

DEFAULT_LANGUAGE = "zh_CN"
DEFAULT_TEXT_MAX_LENGTH = 500

#: Names shown in the language switcher when a file gives none.
LANGUAGE_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "zh_CN": "简体中文",
        "zh_TW": "繁體中文",
        "en": "English",
        "ug": "ئۇيغۇرچە",
        "bo": "བོད་ཡིག",
        "ko": "한국어",
    }
)
#: The same languages as words of a message, in the message's language (Babel msgids): a
#: Chinese message says 英语, an English one English.
LANGUAGE_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "zh_CN": N_("Simplified Chinese"),
        "zh_TW": N_("Traditional Chinese"),
        "en": N_("English"),
        "ug": N_("Uyghur"),
        "bo": N_("Tibetan"),
        "ko": N_("Korean"),
    }
)


def language_word(code: str) -> Message | str:
    """The language ``code`` named inside a message: a Text translated with the message when
    the language is known here, else its own name (or the code)."""
    word = LANGUAGE_WORDS.get(code)
    return Message(word) if word is not None else LANGUAGE_NAMES.get(code, code)


#: Languages written right to left unless a file says otherwise.
RTL_LANGUAGES: frozenset[str] = frozenset({"ug", "ar", "fa", "he", "ur"})

#: The built-in labels of ``yesno`` questions; a file may relabel them with its own choices.
YESNO_LABELS: Mapping[str, Text] = KINDS["yesno"].builtin_labels


def translate(text: Text | None, lang: str, default: str = DEFAULT_LANGUAGE) -> tuple[str, bool]:
    """Return ``(string, is_fallback)`` for ``text`` in ``lang``.

    ``lang`` may be a plain code (``en``), a regional one (``en_GB``, ``en-GB``) or a Babel
    locale string (``zh_Hans_CN``); a regional request is served by the plain language and vice
    versa (``zh`` finds ``zh_CN``) without counting as a fallback. Otherwise the ``default``
    language is used, then any non-blank translation, and ``is_fallback`` is True. The result is
    blank only if the text has no non-blank translation at all, which a validated questionnaire
    never has.
    """
    if not text:
        return "", True
    for candidate in _language_candidates(str(lang), text):
        value = text.get(candidate)
        if value and value.strip():
            return value, False
    value = text.get(default)
    if value and value.strip():
        return value, True
    for value in text.values():
        if value and value.strip():
            return value, True
    return "", True


def translate_marked(
    text: Text | None, lang: str, default: str, marker: str | None
) -> tuple[str, bool]:
    """:func:`translate`, where a value equal to ``marker`` (a draft's missing translation, as
    the designer fills it for previewing and printing) counts as missing."""
    if marker is not None and text:
        if text.get(lang) == marker:
            value = text.get(default)
            if value and value != marker:
                return value, True
        value, fallback = translate(text, lang, default)
        return ("", True) if value == marker else (value, fallback)
    return translate(text, lang, default)


def _language_candidates(lang: str, text: Text) -> list[str]:
    parts = [part for part in lang.replace("-", "_").split("_") if part]
    if not parts:
        return []
    parts[0] = parts[0].lower()
    candidates = ["_".join(parts)]
    if len(parts) > 2:  # language_Script_REGION: drop the script
        candidates.append(f"{parts[0]}_{parts[-1]}")
    candidates.append(parts[0])
    if len(parts) == 1:  # "zh" is served by the only "zh_*" translation
        matches = [key for key in text if key.split("_")[0].lower() == parts[0]]
        if len(matches) == 1:
            candidates.append(matches[0])
    by_lower = {key.lower(): key for key in text}
    return [by_lower.get(candidate.lower(), candidate) for candidate in candidates]


@dataclass(frozen=True)
class Language:
    """A language the questionnaire is written in; ``rtl`` for right-to-left scripts."""

    code: str
    name: str
    rtl: bool = False


@dataclass(frozen=True)
class Choice:
    """One answer option: a stable ``code`` (what is stored) and its translated label."""

    code: str
    label: Text
    exclusive: bool = False
    #: Extra columns of the choice (XLSForm's choices sheet), read by a question's
    #: ``choice_filter``: ``(("street", "s1"),)``.
    properties: tuple[tuple[str, str], ...] = ()

    def columns(self) -> dict[str, str]:
        """The choice's columns as a choice filter sees them: ``name`` is its code."""
        return {**dict(self.properties), "name": self.code}


@dataclass(frozen=True)
class Question:
    """One question. Fields that do not apply to the type are None (or empty)."""

    id: str
    type: QuestionType
    label: Text
    hint: Text | None = None
    choices: tuple[Choice, ...] = ()
    required: bool = True
    #: ``required`` written as a condition (XLSForm's ``required`` column with an expression):
    #: the question must be answered when it holds; ``required`` is then True.
    required_if: Condition | None = None
    relevant: Condition | None = None
    constraint: Condition | None = None
    constraint_message: Text | None = None
    #: XLSForm's ``choice_filter`` (cascading selects): a choice is offered, and accepted,
    #: only when it holds for the choice's columns (``street = ${street}``).
    choice_filter: Condition | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    max_length: int | None = None
    other_code: str | None = None
    group_id: str = ""
    calculation: Condition | None = None
    #: The repeat group the question is asked in, once per instance (None: asked once).
    repeat: str | None = None

    @property
    def kind(self) -> QuestionKind:
        """The question's type (:data:`~surveyapp.questionnaire.types.KINDS`)."""
        return KINDS[self.type]

    @cached_property
    def codes(self) -> tuple[str, ...]:
        """The answer codes in questionnaire order (empty for non-choice questions)."""
        return tuple(choice.code for choice in self.choices)

    @cached_property
    def other_key(self) -> str | None:
        """The answer key of the "other, specify" text, or None if there is none."""
        return f"{self.id}.other" if self.other_code is not None else None

    def is_required(self, answers: Mapping[str, Any]) -> bool:
        """Whether an answer is required, given the (cleaned) ``answers`` asked before."""
        if self.required_if is not None:
            return self.required_if.evaluate(answers)
        return self.required

    def allowed_codes(self, answers: Mapping[str, Any]) -> tuple[str, ...]:
        """The codes the ``choice_filter`` lets through given earlier ``answers`` (all codes
        without a filter)."""
        if self.choice_filter is None:
            return self.codes
        condition = self.choice_filter
        return tuple(c.code for c in self.choices if condition.evaluate(answers, c.columns()))

    def choice(self, code: str) -> Choice | None:
        """Return the choice with ``code``, or None."""
        for choice in self.choices:
            if choice.code == code:
                return choice
        return None


#: A number written as text, as a repeat count reads it (the tablet uses the same pattern).
#: Only ASCII white space around it: Python's and JavaScript's ``\s`` differ beyond it.
_COUNT_TEXT = re.compile(r"[ \t\n\r\f\v]*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))[ \t\n\r\f\v]*\Z")


#: The most instances a repeat group may have (a roster of 100 people): a count above it, or
#: above the group's ``max``, is an answer error; the loader refuses a ``max`` above it. The
#: tablet gets each group's limit in the questionnaire document (fieldwork/offline.py).
MAX_INSTANCES = 100


@dataclass(frozen=True)
class Repeat:
    """How often a repeat group is asked: ``count`` (a number or an expression such as
    ``${household_size}``, XLSForm's ``repeat_count``), or as many instances as the
    interviewer adds, from ``minimum`` to ``maximum`` (either may be None)."""

    count: Condition | None = None
    minimum: int | None = None
    maximum: int | None = None

    def expected(self, answers: Mapping[str, Any]) -> int | None:
        """The number of instances ``count`` asks for given earlier ``answers`` (None without
        a count; 0 when it is no whole number of at least 0, as ODK does)."""
        if self.count is None:
            return None
        value = self.count.value(answers)
        if isinstance(value, str):  # "true"/"false", a text: only a plain number counts
            match = _COUNT_TEXT.match(value)
            value = float(match.group(1)) if match else 0
        if not math.isfinite(value) or value <= 0:
            return 0
        return int(value)

    @property
    def limit(self) -> int:
        """The most instances this group may have: its ``max``, never above MAX_INSTANCES."""
        return min(self.maximum, MAX_INSTANCES) if self.maximum is not None else MAX_INSTANCES

    def too_many(self, answers: Mapping[str, Any]) -> bool:
        """Whether ``count`` asks for more instances than :attr:`limit` (an answer error; the
        tablet's ``SurveyConditions.repeatTooMany`` is the same rule)."""
        expected = self.expected(answers)
        return expected is not None and expected > self.limit


@dataclass(frozen=True)
class Group:
    """A page or section: questions asked together, possibly skipped as a whole.

    With ``repeat``, a repeat group: its questions are asked once per instance (a household
    roster) and its answer is a list of instances, ``{question id: answer}`` each.
    """

    id: str
    title: Text
    relevant: Condition | None
    questions: tuple[Question, ...]
    repeat: Repeat | None = None

    @property
    def kind(self) -> GroupKind:
        """The group's kind (:data:`~surveyapp.questionnaire.types.GROUP_KINDS`)."""
        return GROUP_KINDS["repeat" if self.repeat is not None else "group"]


def _selected_codes(answer: Any) -> tuple[str, ...]:
    if answer is None:
        return ()
    if isinstance(answer, list | tuple | set | frozenset):
        return tuple(str(code) for code in answer if str(code).strip())
    return tuple(str(answer).split())


@dataclass(frozen=True)
class Indicator:
    """A rate: the share of positive answers among valid answers of those in the ``base``.

    ``base`` (who is asked, e.g. ``${had_dispute} = 'yes'``) is None when everyone to whom the
    question is relevant counts. ``target`` is the share a jurisdiction is expected to reach.
    """

    id: str
    label: Text
    question: str
    positive: tuple[str, ...]
    excluded: tuple[str, ...] = ()
    base: Condition | None = None
    target: float | None = None
    description: Text | None = None

    def value(self, answers: Mapping[str, Any]) -> float | None:
        """Return 1.0 (positive), 0.0 (valid, not positive) or None (not counted).

        None means: outside the base, unanswered, or an excluded code (don't know, refused).
        For a multiple-choice question the answer is positive if any positive code is selected,
        and not counted if any excluded code is. ``answers`` are cleaned answers.
        """
        if self.base is not None and not self.base.evaluate(answers):
            return None
        codes = _selected_codes(answers.get(self.question))
        if not codes or any(code in self.excluded for code in codes):
            return None
        return 1.0 if any(code in self.positive for code in codes) else 0.0


@dataclass(frozen=True)
class Composite:
    """A score: each answer code is worth ``points`` (e.g. 100/80/60/40/0); excluded codes none."""

    id: str
    label: Text
    question: str
    points: Mapping[str, float]
    excluded: tuple[str, ...] = ()
    description: Text | None = None

    def value(self, answers: Mapping[str, Any]) -> float | None:
        """Return the points of the answer, or None if unanswered or an excluded code."""
        codes = _selected_codes(answers.get(self.question))
        if len(codes) != 1 or codes[0] in self.excluded:
            return None
        return self.points.get(codes[0])


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | set | frozenset):
        return all(_is_blank(item) for item in value)
    return False


@dataclass(frozen=True)
class Questionnaire:
    """A loaded, validated questionnaire. Build it with :func:`load_questionnaire`."""

    id: str
    version: int
    title: Text
    languages: tuple[Language, ...]
    groups: tuple[Group, ...]
    questions: Mapping[str, Question]
    indicators: tuple[Indicator, ...]
    composites: tuple[Composite, ...]
    source_text: str
    sha256: str
    description: Text | None = None

    def __hash__(self) -> int:
        return hash((self.id, self.version, self.sha256))

    @property
    def default_language(self) -> str:
        """The language every text is guaranteed to have (``zh_CN``)."""
        return self.languages[0].code

    def language(self, code: str) -> Language | None:
        """Return the declared language with ``code``, or None."""
        for language in self.languages:
            if language.code == code:
                return language
        return None

    @cached_property
    def _groups_by_id(self) -> Mapping[str, Group]:
        return MappingProxyType({group.id: group for group in self.groups})

    @cached_property
    def answer_keys(self) -> frozenset[str]:
        """Every top-level key an answer may have: the question ids asked once, their "other"
        texts, and the ids of the repeat groups (whose answers are lists of instances)."""
        once = [q for q in self.questions.values() if q.repeat is None]
        keys = {q.id for q in once if KINDS[q.type].stored}
        keys.update(q.other_key for q in once if q.other_key)
        keys.update(self.repeats)
        return frozenset(keys)

    @cached_property
    def repeats(self) -> Mapping[str, Group]:
        """The repeat groups, by id, in questionnaire order."""
        return MappingProxyType({g.id: g for g in self.groups if g.repeat is not None})

    @cached_property
    def questions_once(self) -> Mapping[str, Question]:
        """The questions asked once per interview (not in a repeat group), by id: one answer
        each, one column each in the responses export, what estimation may read."""
        return MappingProxyType({k: q for k, q in self.questions.items() if q.repeat is None})

    def group(self, group_id: str) -> Group:
        """Return the group with ``group_id``; raise KeyError if there is none."""
        return self._groups_by_id[group_id]

    def _relevance(
        self, answers: Mapping[str, Any], stop: str | None = None
    ) -> tuple[dict[str, bool], dict[str, Any]]:
        # One pass in questionnaire order: conditions only read earlier questions, and the
        # answer of a question that is not relevant is ignored, so chained skips propagate.
        relevance: dict[str, bool] = {}
        effective: dict[str, Any] = {}
        for group in self.groups:
            group_ok = group.relevant is None or group.relevant.evaluate(effective)
            if group.repeat is not None:
                # asked per instance (clean_answers checks each); here only whether it is asked
                for question in group.questions:
                    relevance[question.id] = group_ok
                if group_ok and answers.get(group.id):
                    effective[group.id] = answers[group.id]
                if stop is not None and any(q.id == stop for q in group.questions):
                    return relevance, effective
                continue
            for question in group.questions:
                ok = group_ok and (
                    question.relevant is None or question.relevant.evaluate(effective)
                )
                relevance[question.id] = ok
                answer = answers.get(question.id)
                if ok and not _is_blank(answer):
                    effective[question.id] = answer
                if question.id == stop:
                    return relevance, effective
        return relevance, effective

    def is_relevant(self, qid: str, answers: Mapping[str, Any]) -> bool:
        """Return whether question ``qid`` is asked, given ``answers`` (group and question skip).

        An answer to a question that is itself not relevant counts as unanswered.
        Raise KeyError for an unknown question.
        """
        if qid not in self.questions:
            raise KeyError(qid)
        return self._relevance(answers, stop=qid)[0][qid]

    def relevant_questions(self, answers: Mapping[str, Any]) -> list[str]:
        """Return the ids of the questions asked, given ``answers``, in questionnaire order."""
        relevance, _ = self._relevance(answers)
        return [qid for qid, ok in relevance.items() if ok]

    def relevant_answers(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """Return ``answers`` without those to questions that are not asked (or unknown).

        Useful after a respondent goes back and changes an answer that skips later questions.
        """
        relevance, effective = self._relevance(answers)
        kept: dict[str, Any] = {k: v for k, v in effective.items() if k in self.repeats}
        for qid, ok in relevance.items():
            if self.questions[qid].repeat is not None:
                continue
            if not ok:
                continue
            if qid in answers:
                kept[qid] = answers[qid]
            other_key = self.questions[qid].other_key
            if other_key is not None and other_key in answers:
                kept[other_key] = answers[other_key]
        return kept
