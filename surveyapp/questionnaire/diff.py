"""Compare two questionnaire versions: a readable diff, and whether an indicator is comparable.

An indicator computed on two versions (two waves) can only be compared when its *definition* is
the same: the question it counts (its type, its wording in the default language and its answer
codes with their default-language labels), the positive and excluded codes and the base
condition. Translations into other languages, hints, targets and the indicator's own label do not
change what is measured and are ignored. :func:`indicator_comparable` is what the estimation
service calls before comparing waves.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .conditions import Condition, _Binary, _Call, _Current, _Literal, _Node, _Prop, _Ref, _Regex
from .model import Indicator, Question, Questionnaire, Repeat, Text

__all__ = [
    "Change",
    "IndicatorDefinition",
    "canonical_condition",
    "comparable_indicators",
    "diff_questionnaires",
    "indicator_comparable",
    "indicator_definition",
    "indicator_fingerprint",
]


# --- canonical conditions --------------------------------------------------------------------


def _literal_text(node: _Literal) -> str:
    if isinstance(node.value, float):
        number = node.value
        return repr(int(number)) if number == int(number) else repr(number)
    # A quoted text that looks like a number compares as that number (see the format).
    try:
        number = float(node.value)
    except ValueError:
        return json.dumps(node.value, ensure_ascii=False)
    return repr(int(number)) if number == int(number) else repr(number)


def _canonical(node: _Node) -> str:
    if isinstance(node, _Literal):
        return _literal_text(node)
    if isinstance(node, _Ref):
        return "${" + node.qid + "}"
    if isinstance(node, _Current):
        return "."
    if isinstance(node, _Binary):
        return f"({_canonical(node.left)} {node.op} {_canonical(node.right)})"
    if isinstance(node, _Call):
        return f"{node.name}(" + ", ".join(_canonical(arg) for arg in node.args) + ")"
    if isinstance(node, _Prop):
        return node.name
    if isinstance(node, _Regex):
        return f"regex({_canonical(node.subject)}, {node.pattern.source!r})"
    raise TypeError(f"unknown condition node {node!r}")  # pragma: no cover - invariant


def canonical_condition(condition: Condition | None) -> str | None:
    """Return ``condition`` in a canonical text: spacing, quotes and ``1``/``'1'`` do not matter.

    Two conditions with the same canonical text select the same respondents.
    """
    if condition is None:
        return None
    return _canonical(condition._tree)


# --- indicator definitions --------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorDefinition:
    """What an indicator measures, independent of its wording in other languages.

    ``question_type``, ``question_label`` and ``choices`` are None when the definition was built
    from an :class:`Indicator` alone (without its questionnaire).
    """

    id: str
    question: str
    positive: frozenset[str]
    excluded: frozenset[str]
    base: str | None
    question_type: str | None = None
    question_label: str | None = None
    choices: tuple[tuple[str, str], ...] | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the definition as plain data (sorted sets), e.g. for storing next to results."""
        return {
            "id": self.id,
            "question": self.question,
            "positive": sorted(self.positive),
            "excluded": sorted(self.excluded),
            "base": self.base,
            "question_type": self.question_type,
            "question_label": self.question_label,
            "choices": [list(pair) for pair in self.choices] if self.choices is not None else None,
        }


def _default_text(text: Text | None, language: str) -> str:
    if not text:
        return ""
    return " ".join(str(text.get(language, "")).split())


def indicator_definition(
    indicator: Indicator | str, questionnaire: Questionnaire | None = None
) -> IndicatorDefinition:
    """Return the definition of ``indicator`` (an object, or an id of ``questionnaire``).

    With ``questionnaire`` the definition includes the question's type, default-language wording
    and codes; raise KeyError for an unknown indicator id.
    """
    if isinstance(indicator, str):
        if questionnaire is None:
            raise TypeError("an indicator id needs its questionnaire")
        found = [item for item in questionnaire.indicators if item.id == indicator]
        if not found:
            raise KeyError(indicator)
        indicator = found[0]
    definition = IndicatorDefinition(
        id=indicator.id,
        question=indicator.question,
        positive=frozenset(indicator.positive),
        excluded=frozenset(indicator.excluded),
        base=canonical_condition(indicator.base),
    )
    if questionnaire is None:
        return definition
    question = questionnaire.questions.get(indicator.question)
    if question is None:  # a validated questionnaire never has this
        return definition
    language = questionnaire.default_language
    return IndicatorDefinition(
        id=definition.id,
        question=definition.question,
        positive=definition.positive,
        excluded=definition.excluded,
        base=definition.base,
        question_type=question.type,
        question_label=_default_text(question.label, language),
        choices=_question_choices(question, language),
    )


def _question_choices(question: Question, language: str) -> tuple[tuple[str, str], ...]:
    builtin = question.kind.builtin_labels
    if builtin and not question.choices:
        return tuple((code, _default_text(labels, language)) for code, labels in builtin.items())
    return tuple(
        (choice.code, _default_text(choice.label, language)) for choice in question.choices
    )


def indicator_fingerprint(definition: IndicatorDefinition | Indicator) -> str:
    """Return a SHA-256 hex digest of an indicator's definition (equal digests: comparable)."""
    if isinstance(definition, Indicator):
        definition = indicator_definition(definition)
    payload = json.dumps(definition.as_dict(), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _codes(codes: frozenset[str]) -> str:
    return ", ".join(sorted(codes)) or "none"


def indicator_comparable(
    old_indicator: Indicator | IndicatorDefinition, new_indicator: Indicator | IndicatorDefinition
) -> tuple[bool, str]:
    """Return ``(comparable, reason)`` for an indicator in an old and a new questionnaire version.

    The indicator is comparable when it counts the same question with the same positive and
    excluded codes among the same base. When both arguments are :class:`IndicatorDefinition`
    built with their questionnaires (see :func:`indicator_definition`), the question's type,
    default-language wording and answer codes (with their labels) must also be unchanged. The
    reason (English) says what changed, or that nothing did.
    """
    old = (
        old_indicator
        if isinstance(old_indicator, IndicatorDefinition)
        else indicator_definition(old_indicator)
    )
    new = (
        new_indicator
        if isinstance(new_indicator, IndicatorDefinition)
        else indicator_definition(new_indicator)
    )
    name = new.id if old.id == new.id else f"{old.id}/{new.id}"
    reasons: list[str] = []
    if old.question != new.question:
        reasons.append(f"it counts question '{new.question}' instead of '{old.question}'")
    if old.positive != new.positive:
        reasons.append(
            f"positive codes changed from [{_codes(old.positive)}] to [{_codes(new.positive)}]"
        )
    if old.excluded != new.excluded:
        reasons.append(
            f"excluded codes changed from [{_codes(old.excluded)}] to [{_codes(new.excluded)}]"
        )
    if old.base != new.base:
        reasons.append(
            f"base condition changed from {old.base or 'everyone asked'} "
            f"to {new.base or 'everyone asked'}"
        )
    if old.question == new.question:
        if old.question_type and new.question_type and old.question_type != new.question_type:
            reasons.append(
                f"question '{new.question}' changed type from {old.question_type} "
                f"to {new.question_type}"
            )
        if (
            old.question_label is not None
            and new.question_label is not None
            and old.question_label != new.question_label
        ):
            reasons.append(f"the wording of question '{new.question}' changed")
        if old.choices is not None and new.choices is not None and old.choices != new.choices:
            reasons.append(_choices_change(new.question, old.choices, new.choices))
    if reasons:
        return False, f"indicator '{name}' is not comparable: " + "; ".join(reasons)
    return True, f"indicator '{name}' has the same definition in both versions"


def _choices_change(
    qid: str, old: tuple[tuple[str, str], ...], new: tuple[tuple[str, str], ...]
) -> str:
    old_map, new_map = dict(old), dict(new)
    parts: list[str] = []
    added = [code for code in new_map if code not in old_map]
    removed = [code for code in old_map if code not in new_map]
    relabelled = [code for code in new_map if code in old_map and old_map[code] != new_map[code]]
    if added:
        parts.append("codes added: " + ", ".join(added))
    if removed:
        parts.append("codes removed: " + ", ".join(removed))
    if relabelled:
        parts.append("codes relabelled: " + ", ".join(relabelled))
    if not parts:
        parts.append("codes reordered")
    return f"answer codes of question '{qid}' changed ({'; '.join(parts)})"


# --- questionnaire diff ------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One difference between two versions: ``kind`` is added, removed or changed."""

    kind: str
    where: str
    detail: str

    def __str__(self) -> str:
        return (
            f"{self.kind} {self.where}: {self.detail}"
            if self.detail
            else f"{self.kind} {self.where}"
        )


def _text_changes(where: str, old: Text | None, new: Text | None) -> list[Change]:
    changes: list[Change] = []
    old = dict(old or {})
    new = dict(new or {})
    for language in sorted(set(old) | set(new)):
        before, after = old.get(language), new.get(language)
        if before == after:
            continue
        if before is None:
            changes.append(Change("added", f"{where} [{language}]", repr(after)))
        elif after is None:
            changes.append(Change("removed", f"{where} [{language}]", repr(before)))
        else:
            changes.append(Change("changed", f"{where} [{language}]", f"{before!r} → {after!r}"))
    return changes


def _value_change(where: str, old: Any, new: Any) -> list[Change]:
    if old == new:
        return []
    return [Change("changed", where, f"{_show(old)} → {_show(new)}")]


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, Condition):
        return value.source
    if isinstance(value, tuple | list | frozenset | set):
        return "[" + ", ".join(str(item) for item in value) + "]"
    return str(value)


def _question_changes(old: Question, new: Question) -> list[Change]:
    where = f"question {new.id}"
    changes: list[Change] = []
    changes += _value_change(f"{where} type", old.type, new.type)
    changes += _value_change(f"{where} group", old.group_id, new.group_id)
    changes += _text_changes(f"{where} label", old.label, new.label)
    changes += _text_changes(f"{where} hint", old.hint, new.hint)
    changes += _value_change(
        f"{where} required",
        canonical_condition(old.required_if) if old.required_if else old.required,
        canonical_condition(new.required_if) if new.required_if else new.required,
    )
    changes += _value_change(
        f"{where} relevant", canonical_condition(old.relevant), canonical_condition(new.relevant)
    )
    changes += _value_change(
        f"{where} constraint",
        canonical_condition(old.constraint),
        canonical_condition(new.constraint),
    )
    changes += _value_change(
        f"{where} choice_filter",
        canonical_condition(old.choice_filter),
        canonical_condition(new.choice_filter),
    )
    changes += _value_change(
        f"{where} choice columns",
        {c.code: dict(c.properties) for c in old.choices if c.properties} or None,
        {c.code: dict(c.properties) for c in new.choices if c.properties} or None,
    )
    changes += _text_changes(
        f"{where} constraint_message", old.constraint_message, new.constraint_message
    )
    changes += _value_change(f"{where} min", old.minimum, new.minimum)
    changes += _value_change(f"{where} max", old.maximum, new.maximum)
    changes += _value_change(f"{where} max_length", old.max_length, new.max_length)
    changes += _value_change(f"{where} other", old.other_code, new.other_code)
    old_choices = {choice.code: choice for choice in old.choices}
    new_choices = {choice.code: choice for choice in new.choices}
    for code, choice in new_choices.items():
        if code not in old_choices:
            changes.append(Change("added", f"{where} choice {code}", _default_label(choice.label)))
            continue
        before = old_choices[code]
        changes += _text_changes(f"{where} choice {code}", before.label, choice.label)
        changes += _value_change(
            f"{where} choice {code} exclusive", before.exclusive, choice.exclusive
        )
    for code, choice in old_choices.items():
        if code not in new_choices:
            changes.append(
                Change("removed", f"{where} choice {code}", _default_label(choice.label))
            )
    kept_old = [code for code in old_choices if code in new_choices]
    kept_new = [code for code in new_choices if code in old_choices]
    if kept_old != kept_new:
        changes.append(Change("changed", f"{where} choice order", " ".join(kept_new)))
    return changes


def _repeat_text(repeat: Repeat | None) -> str | None:
    """A repeat group's ``repeat`` as written (None for a group asked once)."""
    if repeat is None:
        return None
    parts = [f"count: {canonical_condition(repeat.count)}"] if repeat.count else []
    parts += [f"min: {repeat.minimum}"] if repeat.minimum is not None else []
    parts += [f"max: {repeat.maximum}"] if repeat.maximum is not None else []
    return "{" + ", ".join(parts) + "}" if parts else "true"


def _default_label(text: Text | None) -> str:
    if not text:
        return ""
    return str(next(iter(text.values())))


def _by_id(items: Any) -> dict[str, Any]:
    return {item.id: item for item in items}


def diff_questionnaires(old: Questionnaire, new: Questionnaire) -> list[Change]:
    """Return the differences from ``old`` to ``new`` in questionnaire order.

    Covers the title, languages, groups (title, skip logic, order), questions (every field,
    choices with codes and labels), indicators and composites. Conditions are compared in
    canonical form, so re-spacing a condition is not a change.
    """
    changes: list[Change] = []
    changes += _text_changes("title", old.title, new.title)
    changes += _text_changes("description", old.description, new.description)
    old_langs = [language.code for language in old.languages]
    new_langs = [language.code for language in new.languages]
    for code in new_langs:
        if code not in old_langs:
            changes.append(Change("added", f"language {code}", ""))
    for code in old_langs:
        if code not in new_langs:
            changes.append(Change("removed", f"language {code}", ""))

    old_groups, new_groups = _by_id(old.groups), _by_id(new.groups)
    for group in new.groups:
        if group.id not in old_groups:
            changes.append(
                Change("added", f"group {group.id}", f"{len(group.questions)} questions")
            )
            continue
        before = old_groups[group.id]
        changes += _text_changes(f"group {group.id} title", before.title, group.title)
        changes += _value_change(
            f"group {group.id} relevant",
            canonical_condition(before.relevant),
            canonical_condition(group.relevant),
        )
        changes += _value_change(
            f"group {group.id} repeat", _repeat_text(before.repeat), _repeat_text(group.repeat)
        )
    for group in old.groups:
        if group.id not in new_groups:
            changes.append(Change("removed", f"group {group.id}", ""))
    kept_old = [gid for gid in old_groups if gid in new_groups]
    kept_new = [gid for gid in new_groups if gid in old_groups]
    if kept_old != kept_new:
        changes.append(Change("changed", "group order", " ".join(kept_new)))

    for qid, question in new.questions.items():
        if qid not in old.questions:
            changes.append(
                Change(
                    "added",
                    f"question {qid}",
                    f"{question.type} in group {question.group_id}: "
                    f"{_default_label(question.label)}",
                )
            )
        else:
            changes += _question_changes(old.questions[qid], question)
    for qid, question in old.questions.items():
        if qid not in new.questions:
            changes.append(Change("removed", f"question {qid}", _default_label(question.label)))

    changes += _indicator_changes(old, new)
    changes += _composite_changes(old, new)
    return changes


def _indicator_changes(old: Questionnaire, new: Questionnaire) -> list[Change]:
    changes: list[Change] = []
    old_items, new_items = _by_id(old.indicators), _by_id(new.indicators)
    for item in new.indicators:
        where = f"indicator {item.id}"
        if item.id not in old_items:
            changes.append(Change("added", where, f"question {item.question}"))
            continue
        before = old_items[item.id]
        changes += _text_changes(f"{where} label", before.label, item.label)
        changes += _value_change(f"{where} target", before.target, item.target)
        comparable, reason = indicator_comparable(
            indicator_definition(before, old), indicator_definition(item, new)
        )
        if not comparable:
            changes.append(Change("changed", f"{where} definition", reason))
    for item in old.indicators:
        if item.id not in new_items:
            changes.append(Change("removed", f"indicator {item.id}", ""))
    return changes


def _composite_changes(old: Questionnaire, new: Questionnaire) -> list[Change]:
    changes: list[Change] = []
    old_items, new_items = _by_id(old.composites), _by_id(new.composites)
    for item in new.composites:
        where = f"composite {item.id}"
        if item.id not in old_items:
            changes.append(Change("added", where, f"question {item.question}"))
            continue
        before = old_items[item.id]
        changes += _text_changes(f"{where} label", before.label, item.label)
        changes += _value_change(f"{where} question", before.question, item.question)
        changes += _value_change(f"{where} points", _points(before.points), _points(item.points))
        changes += _value_change(
            f"{where} excluded", sorted(before.excluded), sorted(item.excluded)
        )
    for item in old.composites:
        if item.id not in new_items:
            changes.append(Change("removed", f"composite {item.id}", ""))
    return changes


def _points(points: Mapping[str, float]) -> str:
    return ", ".join(f"{code}: {value:g}" for code, value in points.items())


def comparable_indicators(old: Questionnaire, new: Questionnaire) -> dict[str, tuple[bool, str]]:
    """Return ``indicator_comparable`` for every indicator id present in both versions."""
    old_items = _by_id(old.indicators)
    result: dict[str, tuple[bool, str]] = {}
    for item in new.indicators:
        if item.id in old_items:
            result[item.id] = indicator_comparable(
                indicator_definition(old_items[item.id], old), indicator_definition(item, new)
            )
    return result
