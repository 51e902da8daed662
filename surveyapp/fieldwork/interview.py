"""Moving through a questionnaire one question group at a time, with skip logic.

Answers here are raw form values (``qid -> str | list[str]``, ``"qid.other" -> str``); the
questionnaire's ``clean_answers`` is what finally judges them.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..questionnaire import Group, Question, Questionnaire


def read_raw_answers(schema: Questionnaire, form: Mapping, getlist) -> dict:
    """Collect the answers of every question from submitted form data; empty ones are left out.

    ``getlist(name)`` returns all values of a form field (multiple choice).
    """
    raw: dict = {}
    for qid, question in schema.questions.items():
        if question.type == "multiple":
            values = [v for v in getlist(qid) if v]
            if values:
                raw[qid] = values
        else:
            value = (form.get(qid) or "").strip()
            if value:
                raw[qid] = value
        if question.other_code:
            other = (form.get(f"{qid}__other") or form.get(f"{qid}.other") or "").strip()
            if other:
                raw[f"{qid}.other"] = other
    return raw


def prune(schema: Questionnaire, raw: dict) -> dict:
    """Drop the answers of questions that the skip logic now skips (as ODK does)."""
    relevant = set(schema.relevant_questions(raw))
    kept: dict = {}
    for key, value in raw.items():
        qid = key.split(".", 1)[0]
        if qid in relevant:
            kept[key] = value
    # Dropping an answer can make further questions irrelevant: repeat until stable.
    return kept if kept == raw else prune(schema, kept)


def visible_questions(schema: Questionnaire, group: Group, raw: dict) -> list[Question]:
    return [q for q in group.questions if schema.is_relevant(q.id, raw)]


def group_index(schema: Questionnaire, group_id: str) -> int | None:
    for i, group in enumerate(schema.groups):
        if group.id == group_id:
            return i
    return None


def next_group(schema: Questionnaire, raw: dict, after: int) -> int | None:
    """Return the index of the next group with a question to ask, or None (review)."""
    for i in range(after + 1, len(schema.groups)):
        if visible_questions(schema, schema.groups[i], raw):
            return i
    return None


def previous_group(schema: Questionnaire, raw: dict, before: int) -> int | None:
    for i in range(before - 1, -1, -1):
        if visible_questions(schema, schema.groups[i], raw):
            return i
    return None


def first_group(schema: Questionnaire, raw: dict) -> int:
    found = next_group(schema, raw, -1)
    return 0 if found is None else found
