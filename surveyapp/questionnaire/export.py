"""Write questionnaires back as YAML text in the format of ``questionnaires/README.md``.

Two representations meet here: the frozen :class:`Questionnaire` (validated) and a *document*,
the plain dict/list/str structure of a questionnaire file, which the designer edits and which
may be invalid while it is being edited. :func:`to_document` turns a questionnaire into a
document, :func:`dump_document` writes a document as YAML that the loader reads back into an
equal questionnaire, and :func:`read_document` reads a (possibly invalid) file into a document
keeping every scalar as written (``code: 1`` stays the code ``"1"``, ``yes`` stays ``"yes"``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import yaml

from .model import (
    DEFAULT_TEXT_MAX_LENGTH,
    LANGUAGE_NAMES,
    RTL_LANGUAGES,
    Choice,
    Question,
    Questionnaire,
    Repeat,
    Text,
)
from .types import KINDS
from .untrusted import NoAliasBaseLoader

__all__ = ["dump_document", "export_yaml", "read_document", "to_document", "uses_builtin_labels"]

_CODE_RE = re.compile(r"[A-Za-z0-9_]+\Z")
#: Keys whose values are whole numbers, true/false or numbers in the file format.
_INT_KEYS = frozenset({"version", "min", "max", "max_length"})
_BOOL_KEYS = frozenset({"required", "exclusive", "rtl"})
_NUMBER_KEYS = frozenset({"target"})
_BOUND_KEYS = frozenset({"min", "max"})


def _text(text: Text | None) -> dict[str, str] | None:
    return dict(text) if text else None


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _choices(choices: tuple[Choice, ...]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for choice in choices:
        item: dict[str, Any] = {"code": choice.code, "label": dict(choice.label)}
        if choice.exclusive:
            item["exclusive"] = True
        if choice.properties:
            item["properties"] = dict(choice.properties)
        items.append(item)
    return items


def uses_builtin_labels(question: Question, languages: tuple[str, ...]) -> bool:
    """Whether ``question`` has its type's built-in choices (yes/no), labelled as built in for
    ``languages``: the files then leave the choices out and the loader gives them back."""
    builtin = question.kind.builtin_labels
    if not builtin or [choice.code for choice in question.choices] != list(builtin):
        return False
    for choice in question.choices:
        expected = {lang: text for lang, text in builtin[choice.code].items() if lang in languages}
        if dict(choice.label) != expected or choice.exclusive:
            return False
    return True


def _repeat(repeat: Repeat) -> Any:
    """A repeat group's ``repeat``: ``true``, or ``{count, min, max}`` (a count that is a
    whole number written as one)."""
    entry: dict[str, Any] = {}
    if repeat.count is not None:
        source = repeat.count.source
        entry["count"] = int(source) if source.isdigit() else source
    if repeat.minimum is not None:
        entry["min"] = repeat.minimum
    if repeat.maximum is not None:
        entry["max"] = repeat.maximum
    return entry or True


def _question(question: Question, languages: tuple[str, ...]) -> dict[str, Any]:
    item: dict[str, Any] = {"id": question.id, "type": question.type, "label": dict(question.label)}
    if question.hint:
        item["hint"] = dict(question.hint)
    kind = KINDS[question.type]
    if question.required_if is not None:
        item["required"] = question.required_if.source
    elif not question.required and kind.stored and kind.entered:
        item["required"] = False
    if question.relevant is not None:
        item["relevant"] = question.relevant.source
    if question.constraint is not None:
        item["constraint"] = question.constraint.source
    if question.constraint_message:
        item["constraint_message"] = dict(question.constraint_message)
    for key in KINDS[question.type].keys:
        value = _TYPE_KEY_VALUES[key](question, languages)
        if value is not None:
            item[key] = value
    return item


def _choices_value(question: Question, languages: tuple[str, ...]) -> list[dict[str, Any]] | None:
    if uses_builtin_labels(question, languages):
        return None  # the built-in yes/no labels: the loader gives them back
    return _choices(question.choices)


#: The value written under each type-specific key (:attr:`QuestionKind.keys`), None to leave
#: the key out (a default).
_TYPE_KEY_VALUES: Mapping[str, Callable[[Question, tuple[str, ...]], Any]] = {
    "min": lambda question, languages: question.minimum,
    "max": lambda question, languages: question.maximum,
    "max_length": lambda question, languages: (
        None if question.max_length == DEFAULT_TEXT_MAX_LENGTH else question.max_length
    ),
    "other": lambda question, languages: question.other_code,
    "choice_filter": lambda question, languages: (
        question.choice_filter.source if question.choice_filter is not None else None
    ),
    "calculation": lambda question, languages: (
        question.calculation.source if question.calculation is not None else None
    ),
    "choices": _choices_value,
}


def to_document(questionnaire: Questionnaire) -> dict[str, Any]:
    """Return ``questionnaire`` as a document (plain data in the file format).

    Choice lists are written out in each question (the schema does not keep which list a
    question used); everything else is kept, so that loading :func:`dump_document`'s text gives
    an equal questionnaire.
    """
    languages = tuple(language.code for language in questionnaire.languages)
    doc: dict[str, Any] = {
        "id": questionnaire.id,
        "version": questionnaire.version,
        "title": dict(questionnaire.title),
    }
    if questionnaire.description:
        doc["description"] = dict(questionnaire.description)
    doc["languages"] = []
    for language in questionnaire.languages:
        default_rtl = language.code in RTL_LANGUAGES
        if language.name == LANGUAGE_NAMES.get(language.code) and language.rtl == default_rtl:
            doc["languages"].append(language.code)
        else:
            entry: dict[str, Any] = {"code": language.code, "name": language.name}
            if language.rtl != default_rtl:
                entry["rtl"] = language.rtl
            doc["languages"].append(entry)
    doc["groups"] = []
    for group in questionnaire.groups:
        item: dict[str, Any] = {"id": group.id, "title": dict(group.title)}
        if group.relevant is not None:
            item["relevant"] = group.relevant.source
        if group.repeat is not None:
            item["repeat"] = _repeat(group.repeat)
        item["questions"] = [_question(question, languages) for question in group.questions]
        doc["groups"].append(item)
    if questionnaire.indicators:
        doc["indicators"] = []
        for indicator in questionnaire.indicators:
            entry = {"id": indicator.id, "label": dict(indicator.label)}
            if indicator.description:
                entry["description"] = dict(indicator.description)
            entry["question"] = indicator.question
            entry["positive"] = list(indicator.positive)
            if indicator.excluded:
                entry["excluded"] = list(indicator.excluded)
            if indicator.base is not None:
                entry["base"] = indicator.base.source
            if indicator.target is not None:
                entry["target"] = _number(indicator.target)
            doc["indicators"].append(entry)
    if questionnaire.composites:
        doc["composites"] = []
        for composite in questionnaire.composites:
            entry = {"id": composite.id, "label": dict(composite.label)}
            if composite.description:
                entry["description"] = dict(composite.description)
            entry["question"] = composite.question
            entry["points"] = {code: _number(value) for code, value in composite.points.items()}
            if composite.excluded:
                entry["excluded"] = list(composite.excluded)
            doc["composites"].append(entry)
    return doc


class _Dumper(yaml.SafeDumper):
    """Block style for structure, flow style for short translated texts and code lists."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


def _represent_dict(dumper: yaml.SafeDumper, value: Mapping[str, Any]) -> yaml.Node:
    flat = all(
        isinstance(item, str | int | float) and not isinstance(item, bool)
        for item in value.values()
    )
    short = flat and sum(len(str(key)) + len(str(item)) + 4 for key, item in value.items()) <= 80
    return dumper.represent_mapping("tag:yaml.org,2002:map", value.items(), flow_style=short)


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.Node:
    flat = all(isinstance(item, str | int | float) for item in value)
    return dumper.represent_sequence(
        "tag:yaml.org,2002:seq", value, flow_style=flat and len(value) <= 12
    )


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(list, _represent_list)


def dump_document(doc: Mapping[str, Any]) -> str:
    """Return ``doc`` as YAML text (UTF-8 characters kept, keys in the order given)."""
    return yaml.dump(
        _plain(doc),
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        width=100,
        default_flow_style=False,
    )


_CODE_KEYS = frozenset({"code", "other"})
_CODE_LIST_KEYS = frozenset({"positive", "excluded"})


def _plain(value: Any, key: str = "") -> Any:
    # Mapping proxies and tuples become dicts and lists, so the representers above apply;
    # answer codes are marked so that they are written without quotes, as the format asks.
    if isinstance(value, Mapping):
        if key == "points":
            return {_code(code): _plain(item) for code, item in value.items()}
        return {str(name): _plain(item, str(name)) for name, item in value.items()}
    if isinstance(value, list | tuple):
        if key in _CODE_LIST_KEYS:
            return [_code(item) for item in value]
        return [_plain(item) for item in value]
    if key in _CODE_KEYS and isinstance(value, str):
        return _code(value)
    return value


class _Code(str):
    """An answer code: written plain (``1``, ``yes``), since the loader keeps plain text as is."""


def _code(value: Any) -> Any:
    return _Code(value) if isinstance(value, str) and _CODE_RE.match(value) else value


def _represent_code(dumper: yaml.SafeDumper, value: _Code) -> yaml.Node:
    # Tag the node as whatever a plain scalar of this text resolves to (int for 1, bool for
    # yes), so the emitter writes it without quotes; the loader reads the text as written.
    # (resolve() is untyped in types-PyYAML)
    tag: str = dumper.resolve(yaml.ScalarNode, str(value), (True, False))  # type: ignore[no-untyped-call]
    return dumper.represent_scalar(tag, str(value))


_Dumper.add_representer(_Code, _represent_code)


def export_yaml(questionnaire: Questionnaire) -> str:
    """Return ``questionnaire`` as YAML text that loads back into an equal questionnaire."""
    return dump_document(to_document(questionnaire))


# --- reading documents -------------------------------------------------------------------------


def read_document(text: str) -> dict[str, Any]:
    """Read a questionnaire file into a document, scalars kept as written.

    Raise :class:`yaml.YAMLError` for text that is not YAML and :class:`ValueError` when the top
    level is not a mapping. Values of the keys that the format types (``version``, ``min``,
    ``max``, ``max_length``, ``required``, ``exclusive``, ``rtl``, ``target``, composite points)
    are converted when they are valid, and left as text otherwise (the check reports them).
    """
    data = yaml.load(text, Loader=NoAliasBaseLoader)  # noqa: S506 - str/list/dict, no aliases
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError("the top level of a questionnaire file must be a mapping of keys")
    document: dict[str, Any] = _typed(data, "")
    return document


def _typed(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        if key == "points":
            return {code: _as_number(points) for code, points in value.items()}
        return {name: _typed(item, name) for name, item in value.items()}
    if isinstance(value, list):
        return [_typed(item, "") for item in value]
    if not isinstance(value, str):
        return value
    if key in _INT_KEYS:
        try:
            return int(value)
        except ValueError:
            if key not in _BOUND_KEYS:
                return value
        try:  # a decimal question's limits
            number = float(value)
        except ValueError:
            return value
        return number if math.isfinite(number) else value
    if key in _BOOL_KEYS:
        lowered = value.lower()
        if lowered in ("true", "yes", "on"):
            return True
        if lowered in ("false", "no", "off"):
            return False
        return value
    if key in _NUMBER_KEYS:
        return _as_number(value)
    return value


def _as_number(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() and "." not in value else number
