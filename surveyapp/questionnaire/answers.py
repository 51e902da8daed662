"""Server-side checking of answers against a questionnaire: the one authority on what is valid.

:func:`clean_answers` takes raw answers as a form posts them (text, or lists of text for multiple
choices) and returns typed answers plus machine-readable errors. It produces no wording: the web
layer translates each error ``kind`` into the interface language, except the constraint message,
which comes from the questionnaire file (``params["message"]``).
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .model import DEFAULT_TEXT_MAX_LENGTH, Group, Question

if TYPE_CHECKING:
    from .model import Questionnaire

__all__ = [
    "ANSWER_ERROR_KINDS",
    "GEOPOINT_PARTS",
    "NORMALISERS",
    "AnswerError",
    "clean_answers",
    "geopoint_parts",
]

#: Every ``AnswerError.kind``, for the interface's table of messages.
ANSWER_ERROR_KINDS: frozenset[str] = frozenset(
    {
        "required",  # a relevant, required question is unanswered
        "not_relevant",  # a skipped question (or an unused "other" text) was answered
        "unknown_code",  # params: code (and choice_filter when the filter left it out)
        "not_integer",
        "out_of_range",  # params: min, max (either may be None)
        "bad_date",  # expected YYYY-MM-DD
        "not_number",  # a decimal answer that is no number
        "bad_time",  # expected HH:MM (or HH:MM:SS)
        "bad_datetime",  # expected YYYY-MM-DDTHH:MM (seconds and a zone allowed)
        "bad_geopoint",  # expected "latitude longitude [altitude [accuracy]]" within range
        "too_long",  # params: max_length, length, and field for the "other" text
        "constraint",  # params: message (the file's translated constraint_message, or None)
        "exclusive",  # params: code (e.g. "none of these" combined with another choice)
        "other_missing",  # "other" chosen but not specified; params: field
        "unknown_question",  # a key that is no question of the questionnaire
        "not_instances",  # a repeat group's answer is not a list of instances (objects)
        "repeat_count",  # params: count (instances sent), expected, min, max (None if unset)
        "repeat_too_many",  # params: count (the count answered), max (the group's limit)
    }
)

_INTEGER_RE = re.compile(r"[+-]?[0-9]+\Z")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_MAX_INTEGER_DIGITS = 15
_DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\Z")
_TIME_RE = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9])(?:\.[0-9]+)?)?\Z")
_DATETIME_RE = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[T ]([0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})?\Z"
)
#: The parts of a stored geopoint, in ODK's order ("lat lon alt accuracy").
GEOPOINT_PARTS = ("lat", "lon", "alt", "accuracy")


@dataclass(frozen=True)
class AnswerError:
    """One invalid answer: the question id (or unknown key), the error kind and its details.

    In a repeat group, ``repeat`` is the group's id and ``instance`` the instance's number
    (from 1); an error about the instances as a whole has the group's id as ``question``.
    """

    question: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    repeat: str | None = None
    instance: int | None = None

    @property
    def where(self) -> str:
        """Where the error is, for messages: ``age`` or ``members[2].age`` (instance 2)."""
        if self.repeat is None or self.instance is None:
            return self.question
        return f"{self.repeat}[{self.instance}].{self.question}"


def _texts(raw: Any) -> list[str]:
    """Return the non-blank texts of a raw form value (a text, a list of texts, or a number)."""
    if raw is None:
        return []
    if type(raw) is str:  # the usual case, answered without the general loop below
        text = raw.replace("\r\n", "\n").strip()
        return [text] if text else []
    items = raw if isinstance(raw, list | tuple | set | frozenset) else [raw]
    texts: list[str] = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, datetime.date):
            text = item.isoformat()
        else:
            text = str(item)
        text = text.replace("\r\n", "\n").strip()
        if text:
            texts.append(text)
    return texts


def _normalise(question: Question, raw: Any) -> tuple[Any, list[AnswerError]]:
    """Return ``(value, errors)``; value None means unanswered."""
    texts = _texts(raw)
    if not texts:
        return None, []
    return NORMALISERS[question.type](question, texts)


_Normalised = tuple[Any, list[AnswerError]]


def _multiple(question: Question, texts: list[str]) -> _Normalised:
    chosen: set[str] = set()
    for text in texts:
        chosen.update(text.split())  # "a b" is how ODK stores a multiple choice
    codes = question.codes
    unknown = sorted(code for code in chosen if code not in codes)
    if unknown:
        return None, [AnswerError(question.id, "unknown_code", {"code": unknown[0]})]
    if len(chosen) > 1:
        for choice in question.choices:
            if choice.exclusive and choice.code in chosen:
                return None, [AnswerError(question.id, "exclusive", {"code": choice.code})]
    return [code for code in codes if code in chosen], []


def _text(question: Question, texts: list[str]) -> _Normalised:
    text = "\n".join(texts)
    limit = question.max_length or DEFAULT_TEXT_MAX_LENGTH
    if len(text) > limit:
        details = {"max_length": limit, "length": len(text)}
        return None, [AnswerError(question.id, "too_long", details)]
    return text, []


def _one_code(question: Question, texts: list[str]) -> _Normalised:
    if len(texts) > 1 or texts[0] not in question.codes:
        return None, [AnswerError(question.id, "unknown_code", {"code": " ".join(texts)})]
    return texts[0], []


def _typed_text(texts: list[str]) -> str:
    # Full-width digits and dashes typed with a Chinese input method are ordinary ones.
    return unicodedata.normalize("NFKC", texts[0]).strip() if len(texts) == 1 else ""


def _integer(question: Question, texts: list[str]) -> _Normalised:
    text = _typed_text(texts)
    qid = question.id
    if not _INTEGER_RE.match(text):
        return None, [AnswerError(qid, "not_integer", {})]
    bounds = {"min": question.minimum, "max": question.maximum}
    if len(text.lstrip("+-")) > _MAX_INTEGER_DIGITS:
        return None, [AnswerError(qid, "out_of_range", bounds)]
    number = int(text)
    if (question.minimum is not None and number < question.minimum) or (
        question.maximum is not None and number > question.maximum
    ):
        return None, [AnswerError(qid, "out_of_range", bounds)]
    return number, []


def _date(question: Question, texts: list[str]) -> _Normalised:
    text = _typed_text(texts)
    if not _DATE_RE.match(text):
        return None, [AnswerError(question.id, "bad_date", {})]
    try:
        return datetime.date.fromisoformat(text).isoformat(), []
    except ValueError:
        return None, [AnswerError(question.id, "bad_date", {})]


def _decimal(question: Question, texts: list[str]) -> _Normalised:
    text = _typed_text(texts)
    qid = question.id
    if not _DECIMAL_RE.match(text) or len(text) > 30:
        return None, [AnswerError(qid, "not_number", {})]
    number = float(text)
    bounds = {"min": question.minimum, "max": question.maximum}
    if (question.minimum is not None and number < question.minimum) or (
        question.maximum is not None and number > question.maximum
    ):
        return None, [AnswerError(qid, "out_of_range", bounds)]
    return number, []


def _time(question: Question, texts: list[str]) -> _Normalised:
    # ODK sends "14:05:00.000+08:00"; the answer is the time of day as read on the clock.
    text = re.sub(r"(Z|[+-][0-9]{2}:?[0-9]{2})\Z", "", _typed_text(texts))
    match = _TIME_RE.match(text)
    if match is None:
        return None, [AnswerError(question.id, "bad_time", {})]
    return f"{match.group(1)}:{match.group(2)}", []


def _datetime(question: Question, texts: list[str]) -> _Normalised:
    text = _typed_text(texts)
    match = _DATETIME_RE.match(text)
    time_match = _TIME_RE.match(match.group(2)) if match else None
    if match is None or time_match is None:
        return None, [AnswerError(question.id, "bad_datetime", {})]
    try:
        datetime.date.fromisoformat(match.group(1))
    except ValueError:
        return None, [AnswerError(question.id, "bad_datetime", {})]
    return f"{match.group(1)}T{time_match.group(1)}:{time_match.group(2)}", []


def _geopoint(question: Question, texts: list[str]) -> _Normalised:
    parts = _typed_text(texts).replace(",", " ").split()
    bad = [AnswerError(question.id, "bad_geopoint", {})]
    if not 2 <= len(parts) <= 4 or not all(_DECIMAL_RE.match(part) for part in parts):
        return None, bad
    numbers = [float(part) for part in parts]
    lat, lon = numbers[0], numbers[1]
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (len(numbers) == 4 and numbers[3] < 0):
        return None, bad
    # Stored as ODK writes it: "lat lon alt accuracy" (one text; the exports split it).
    return " ".join(_number_text(number) for number in numbers), []


def _number_text(number: float) -> str:
    return str(int(number)) if number.is_integer() else repr(number)


def geopoint_parts(value: Any) -> dict[str, float | None]:
    """Return a stored geopoint answer (``"lat lon alt accuracy"``) as its four numbers (None
    where it has none)."""
    parts: dict[str, float | None] = dict.fromkeys(GEOPOINT_PARTS)
    for name, text in zip(GEOPOINT_PARTS, str(value or "").split(), strict=False):
        try:
            parts[name] = float(text)
        except ValueError:
            pass
    return parts


#: How each question type (:data:`~surveyapp.questionnaire.types.KINDS`) cleans and checks an
#: answer given as texts: the cleaned value and the errors (a test checks every type has one).
NORMALISERS: Mapping[str, Callable[[Question, list[str]], _Normalised]] = {
    "single": _one_code,
    "multiple": _multiple,
    "yesno": _one_code,
    "integer": _integer,
    "text": _text,
    "date": _date,
    "decimal": _decimal,
    "time": _time,
    "datetime": _datetime,
    "geopoint": _geopoint,
}


def _check_other(question: Question, value: Any, other_text: str | None) -> list[AnswerError]:
    key = question.other_key
    chosen = value if isinstance(value, list) else [value] if value is not None else []
    if question.other_code in chosen:
        if not other_text:
            return [AnswerError(question.id, "other_missing", {"field": key})]
        if len(other_text) > DEFAULT_TEXT_MAX_LENGTH:
            return [
                AnswerError(
                    question.id,
                    "too_long",
                    {
                        "field": key,
                        "max_length": DEFAULT_TEXT_MAX_LENGTH,
                        "length": len(other_text),
                    },
                )
            ]
    elif other_text:
        return [AnswerError(question.id, "not_relevant", {"field": key})]
    return []


def _check_filter(question: Question, value: Any, valid: Mapping[str, Any]) -> list[AnswerError]:
    """A cascading select: each chosen code must be one the choice filter offers."""
    allowed = question.allowed_codes(valid)
    chosen = value if isinstance(value, list) else [value]
    for code in chosen:
        if code not in allowed:
            assert question.choice_filter is not None
            details = {"code": code, "choice_filter": question.choice_filter.source}
            return [AnswerError(question.id, "unknown_code", details)]
    return []


def clean_answers(
    questionnaire: Questionnaire,
    raw: Mapping[str, Any],
    groups: Iterable[str] | None = None,
) -> tuple[dict[str, Any], list[AnswerError]]:
    """Normalise ``raw`` answers and return ``(answers, errors)``.

    ``raw`` maps question ids to a text or a list of texts (as a form posts them), and
    ``"<qid>.other"`` to the text of an "other, specify" choice. The answers returned hold only
    valid answers to relevant questions: ``single``/``yesno`` as the code, ``multiple`` as a list
    of codes in questionnaire order, ``integer`` as int, ``decimal`` as float, ``date`` as
    ``YYYY-MM-DD``, ``time`` as ``HH:MM``, ``datetime`` as ``YYYY-MM-DDTHH:MM``, ``geopoint`` as
    ODK's text ``"lat lon alt accuracy"`` (:func:`geopoint_parts` reads it), ``text`` as stripped;
    ``calculate`` questions are computed here from the answers before them (whatever was sent);
    ``note`` questions have no answer; empty answers are left out. Relevance is evaluated in
    questionnaire order on the valid answers before each question. A constraint is not checked
    while an answer it refers to is itself invalid: that error is reported once, where it is.

    With ``groups`` (group ids), only questions of those groups are checked and returned; the
    other answers in ``raw`` still decide what is relevant, which is what page-by-page
    navigation needs. An unknown group id is a programming error (KeyError).
    """
    selected: set[str] | None = None
    if groups is not None:
        selected = {groups} if isinstance(groups, str) else set(groups)
        for group_id in selected:
            questionnaire.group(group_id)  # raises KeyError for an unknown group

    errors: list[AnswerError] = []
    known = questionnaire.answer_keys
    for key in raw:
        if key not in known:
            errors.append(AnswerError(str(key), "unknown_question", {}))

    cleaned: dict[str, Any] = {}
    valid: dict[str, Any] = {}  # valid answers to relevant questions so far
    invalid: set[str] = set()
    for group in questionnaire.groups:
        checked = selected is None or group.id in selected
        group_relevant = group.relevant is None or group.relevant.evaluate(valid)
        if group.repeat is not None:
            _check_repeat(group, raw.get(group.id), group_relevant, checked, valid, cleaned, errors)
            continue
        for question in group.questions:
            _check_question(question, raw, group_relevant, checked, valid, invalid, cleaned, errors)
    return cleaned, errors


def _check_question(
    question: Question,
    raw: Mapping[str, Any],
    group_relevant: bool,
    checked: bool,
    valid: dict[str, Any],
    invalid: set[str],
    cleaned: dict[str, Any],
    errors: list[AnswerError],
) -> None:
    """Check one question's answer in ``raw``: add it to ``valid`` and ``cleaned`` (when
    ``checked``) or its problems to ``errors``."""
    relevant = group_relevant and (question.relevant is None or question.relevant.evaluate(valid))
    other_texts = _texts(raw.get(question.other_key)) if question.other_key else []
    other_text = "\n".join(other_texts) or None
    if not relevant:
        if checked and question.kind.entered and _texts(raw.get(question.id)):
            errors.append(AnswerError(question.id, "not_relevant", {}))
        elif checked and other_text:
            errors.append(AnswerError(question.id, "not_relevant", {"field": question.other_key}))
        return

    kind = question.kind
    if not kind.stored:
        return  # a note: shown, nothing to check or keep
    if not kind.entered:
        # computed from the valid answers before it, whatever was sent
        assert question.calculation is not None  # the loader requires it
        computed = question.calculation.value(valid)
        if computed != "":
            valid[question.id] = computed
            if checked:
                cleaned[question.id] = computed
        return
    value, problems = _normalise(question, raw.get(question.id))
    if value is None and not problems and question.is_required(valid):
        problems.append(AnswerError(question.id, "required", {}))
    if (
        value is not None
        and not problems
        and question.choice_filter is not None
        and not question.choice_filter.refs & invalid
    ):
        problems.extend(_check_filter(question, value, valid))
    if not problems and question.other_code is not None:
        problems.extend(_check_other(question, value, other_text))
    if (
        value is not None
        and not problems
        and question.constraint is not None
        # an invalid earlier answer is reported there, not again here
        and not question.constraint.refs & invalid
        and not question.constraint.evaluate(valid, current=value)
    ):
        problems.append(
            AnswerError(question.id, "constraint", {"message": question.constraint_message})
        )
    if value is not None and not problems:
        valid[question.id] = value
        if checked:
            cleaned[question.id] = value
            if other_text and question.other_key:
                cleaned[question.other_key] = other_text
    if problems:
        invalid.add(question.id)
    if checked:
        errors.extend(problems)


def _check_repeat(
    group: Group,
    raw: Any,
    group_relevant: bool,
    checked: bool,
    valid: dict[str, Any],
    cleaned: dict[str, Any],
    errors: list[AnswerError],
) -> None:
    """Check a repeat group's instances (``raw``: a list of ``{question id: answer}``), each
    with the rules of the questions asked once; its answers' conditions read the instance's
    own earlier answers and the answers before the group (ODK's relative references)."""
    assert group.repeat is not None
    instances = [] if raw is None else raw
    if not isinstance(instances, list) or not all(isinstance(i, Mapping) for i in instances):
        if checked:
            errors.append(AnswerError(group.id, "not_instances", {}))
        return
    if not group_relevant:
        if checked and any(_has_answer(instance) for instance in instances):
            errors.append(AnswerError(group.id, "not_relevant", {}))
        return
    repeat = group.repeat
    expected = repeat.expected(valid)
    if repeat.too_many(valid):  # 5e16 people: refused, never built
        if checked:
            errors.append(
                AnswerError(group.id, "repeat_too_many", {"count": expected, "max": repeat.limit})
            )
        return
    count = len(instances)
    if (
        (expected is not None and count != expected)
        or (repeat.minimum is not None and count < repeat.minimum)
        or count > repeat.limit
    ):
        if checked:
            details = {
                "count": count,
                "expected": expected,
                "min": repeat.minimum,
                # the limit when it was passed (no max written: MAX_INSTANCES)
                "max": repeat.limit if count > repeat.limit else repeat.maximum,
            }
            errors.append(AnswerError(group.id, "repeat_count", details))
        return
    known = {key for q in group.questions for key in (q.id, q.other_key) if key}
    kept: list[dict[str, Any]] = []
    for number, instance in enumerate(instances, start=1):
        problems: list[AnswerError] = [
            AnswerError(str(key), "unknown_question", {}) for key in instance if key not in known
        ]
        scope, invalid = dict(valid), set[str]()
        answers: dict[str, Any] = {}
        for question in group.questions:
            _check_question(question, instance, True, True, scope, invalid, answers, problems)
        if checked:
            errors.extend(
                AnswerError(p.question, p.kind, p.params, group.id, number) for p in problems
            )
        kept.append(answers)
    if kept:
        valid[group.id] = kept
        if checked:
            cleaned[group.id] = kept


def _has_answer(instance: Mapping[str, Any]) -> bool:
    return any(_texts(value) for value in instance.values())
