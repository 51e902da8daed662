"""Questionnaire design: drafts edited in the browser, publishing (freezing) and versions.

A draft is a :class:`QuestionnaireVersion` with status ``draft`` whose YAML text may still have
problems; the designer edits it as a *document* (see :mod:`surveyapp.questionnaire.export`).
Publishing checks it with the rules of ``surveyapp questionnaire validate`` and freezes it.
Editing a published version starts (or reopens) the draft of the next version. A published
version never changes: this module refuses it, and the model refuses it again on flush.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import yaml
from sqlalchemy import func, select

from ..errors import N_, Text, UserError
from ..estimation.samplesize import allocate
from ..extensions import db
from ..models import QuestionnaireVersion
from ..models.questionnaires import DRAFT, PUBLISHED, ImmutableVersionError
from ..questionnaire import (
    DEFAULT_LANGUAGE,
    Problem,
    Questionnaire,
    load_questionnaire_text,
)
from ..questionnaire import validate_text as _validate_text
from ..questionnaire.export import dump_document, read_document, to_document
from ..questionnaire.loader import _IDENTIFIER_RE, _LANGUAGE_RE, _SLUG_RE
from ..questionnaire.types import COMMON_QUESTION_KEYS, KINDS
from .questionnaires import publish_languages

__all__ = [
    "DesignError",
    "create_draft",
    "delete_draft",
    "draft_problems",
    "edit_version",
    "publish",
    "save_document",
    "save_text",
]


def validate_text(text: str, source: str = "<text>") -> list[Problem]:
    """The questionnaire check of a draft's text, with the languages publishing requires
    (``SURVEYAPP_PUBLISH_LANGUAGES``): what the designer lists and publishing refuses."""
    return _validate_text(text, source, required_languages=publish_languages())


#: The words of the questionnaire's result kinds, in messages.
_RESULT_WORDS = {"indicators": Text(N_("indicator")), "composites": Text(N_("composite"))}


class DesignError(UserError):
    """A design operation that cannot be done; the message is for the survey manager."""


# --- versions ---------------------------------------------------------------------------------


def versions_of(slug: str) -> list[QuestionnaireVersion]:
    """Return every version of questionnaire ``slug``, newest first."""
    return list(
        db.session.scalars(
            select(QuestionnaireVersion)
            .where(QuestionnaireVersion.slug == slug)
            .order_by(QuestionnaireVersion.version.desc())
        )
    )


def questionnaire_list() -> list[dict[str, Any]]:
    """Return one entry per questionnaire: slug, title, latest published and draft versions."""
    rows = db.session.scalars(
        select(QuestionnaireVersion).order_by(
            QuestionnaireVersion.slug, QuestionnaireVersion.version.desc()
        )
    )
    entries: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = entries.setdefault(
            row.slug,
            {"slug": row.slug, "title": row.title_zh, "published": None, "draft": None, "count": 0},
        )
        entry["count"] += 1
        if row.status == DRAFT and entry["draft"] is None:
            entry["draft"] = row
        if row.status == PUBLISHED and entry["published"] is None:
            entry["published"] = row
    return list(entries.values())


def draft_of(slug: str) -> QuestionnaireVersion | None:
    """Return the open draft of ``slug``, if any (there is at most one)."""
    return db.session.scalar(
        select(QuestionnaireVersion).where(
            QuestionnaireVersion.slug == slug, QuestionnaireVersion.status == DRAFT
        )
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def new_document(slug: str, title: Mapping[str, str], version: int = 1) -> dict[str, Any]:
    """Return the document of an empty questionnaire (it has problems until a group is added)."""
    return {
        "id": slug,
        "version": version,
        "title": {lang: text for lang, text in title.items() if text},
        "languages": [DEFAULT_LANGUAGE, "en"],
        "groups": [],
    }


def create_draft(slug: str, title: Mapping[str, str], user=None) -> QuestionnaireVersion:
    """Start a new questionnaire ``slug`` (version 1) as a draft; refuse a slug already used."""
    slug = (slug or "").strip()
    if not _SLUG_RE.match(slug):
        raise DesignError(
            Text(
                N_(
                    "'%(slug)s' is not a questionnaire name: use lower-case letters, digits and "
                    "hyphens (like night-safety)"
                ),
                slug=slug,
            )
        )
    if not (title.get(DEFAULT_LANGUAGE) or "").strip():
        raise DesignError(Text(N_("give the title in Chinese (zh_CN)")))
    if db.session.scalar(select(QuestionnaireVersion.id).where(QuestionnaireVersion.slug == slug)):
        raise DesignError(
            Text(N_("a questionnaire named '%(slug)s' exists already: edit it instead"), slug=slug)
        )
    text = dump_document(new_document(slug, title))
    draft = QuestionnaireVersion(
        slug=slug,
        version=1,
        title_zh=title[DEFAULT_LANGUAGE].strip()[:200],
        sha256=_sha256(text),
        source_text=text,
        status=DRAFT,
        created_by_id=getattr(user, "id", None),
        updated_at=datetime.utcnow(),
    )
    db.session.add(draft)
    db.session.commit()
    return draft


_VERSION_LINE = re.compile(r"^version:[ \t]*(\d+)[ \t]*(#.*)?$", re.MULTILINE)


def edit_version(version: QuestionnaireVersion, user=None) -> QuestionnaireVersion:
    """Return the draft to edit for ``version``.

    A draft is returned as is. For a published version, the open draft of the questionnaire is
    returned if there is one; otherwise a draft of the next version is started from its text
    (comments kept, ``version`` raised).
    """
    if version.status == DRAFT:
        return version
    existing = draft_of(version.slug)
    if existing is not None:
        return existing
    latest = db.session.scalar(
        select(func.max(QuestionnaireVersion.version)).where(
            QuestionnaireVersion.slug == version.slug
        )
    )
    number = int(latest or version.version) + 1
    text, count = _VERSION_LINE.subn(
        lambda match: f"version: {number}" + (f" {match.group(2)}" if match.group(2) else ""),
        version.source_text,
        count=1,
    )
    if count == 0:
        doc = read_document(version.source_text)
        doc["version"] = number
        text = dump_document(doc)
    draft = QuestionnaireVersion(
        slug=version.slug,
        version=number,
        title_zh=version.title_zh,
        sha256=_sha256(text),
        source_text=text,
        status=DRAFT,
        based_on_id=version.id,
        created_by_id=getattr(user, "id", None),
        updated_at=datetime.utcnow(),
    )
    db.session.add(draft)
    db.session.commit()
    return draft


def _require_draft(version: QuestionnaireVersion) -> None:
    if version.status != DRAFT:
        raise DesignError(
            Text(
                N_(
                    "version %(version)s of '%(slug)s' is published and cannot change: edit it "
                    "to start a draft of the next version"
                ),
                version=version.version,
                slug=version.slug,
            )
        )


def save_text(draft: QuestionnaireVersion, text: str) -> list[Problem]:
    """Replace the draft's YAML text; return its problems (a draft may be saved with problems).

    Refuse a published version, text that is not a YAML mapping, and a change of the
    questionnaire's ``id`` or ``version`` (they name the draft).
    """
    _require_draft(draft)
    text = text.replace("\r\n", "\n")
    if not text.endswith("\n"):
        text += "\n"
    try:
        doc = read_document(text)
    except (yaml.YAMLError, ValueError) as error:
        problems = validate_text(text, source=_source(draft))
        if problems:
            raise DesignError(problems[0].as_text()) from None
        raise DesignError(str(error)) from None
    if str(doc.get("id", "")) != draft.slug:
        raise DesignError(
            Text(
                N_("the id must stay '%(slug)s' (this is a draft of '%(slug2)s')"),
                slug=draft.slug,
                slug2=draft.slug,
            )
        )
    if doc.get("version") != draft.version:
        raise DesignError(
            Text(N_("the version must stay %(version)s in this draft"), version=draft.version)
        )
    title = doc.get("title")
    if isinstance(title, dict) and str(title.get(DEFAULT_LANGUAGE, "")).strip():
        draft.title_zh = str(title[DEFAULT_LANGUAGE]).strip()[:200]
    draft.source_text = text
    draft.sha256 = _sha256(text)
    draft.updated_at = datetime.utcnow()
    db.session.commit()
    return validate_text(text, source=_source(draft))


def save_document(draft: QuestionnaireVersion, doc: Mapping[str, Any]) -> list[Problem]:
    """Write ``doc`` as the draft's text (see :func:`save_text`); return its problems."""
    return save_text(draft, dump_document(doc))


def document(version: QuestionnaireVersion) -> dict[str, Any]:
    """Return the version's text as a document; raise DesignError if it is not readable."""
    try:
        return read_document(version.source_text)
    except (yaml.YAMLError, ValueError) as error:
        raise DesignError(
            Text(
                N_(
                    "the text of this draft is not readable as a questionnaire (%(error)s); fix "
                    "it in the text mode"
                ),
                error=error,
            )
        ) from None


def _source(version: QuestionnaireVersion) -> str:
    return f"{version.slug}.yaml"


def draft_problems(version: QuestionnaireVersion) -> list[Problem]:
    """Return the problems of the version's text, as ``surveyapp questionnaire validate``."""
    return validate_text(version.source_text, source=_source(version))


def publish(draft: QuestionnaireVersion, user=None) -> QuestionnaireVersion:  # noqa: ARG001
    """Freeze ``draft`` as a published version; refuse it while it has problems."""
    _require_draft(draft)
    problems = draft_problems(draft)
    if problems:
        shown = {f"p{i}": problem.as_text() for i, problem in enumerate(problems[:5])}
        # the list is no sentence: a template of its own (not in the catalogs), its items translated
        listed = Text("; ".join(f"%({key})s" for key in shown), **shown)
        raise DesignError(
            Text(
                N_("the draft has %(n)s problem(s); fix them before publishing: %(problems)s"),
                n=len(problems),
                problems=listed,
            )
        )
    if draft.based_on_id is not None:
        previous = db.session.get(QuestionnaireVersion, draft.based_on_id)
        if previous is not None and _content(previous) == _content(draft):
            raise DesignError(
                Text(
                    N_("nothing changed since version %(version)s: there is nothing to publish"),
                    version=previous.version,
                )
            )
    draft.status = PUBLISHED
    draft.published_at = datetime.utcnow()
    db.session.commit()
    return draft


def _content(version: QuestionnaireVersion) -> dict[str, Any]:
    doc = to_document(load_questionnaire_text(version.source_text))
    doc.pop("version", None)
    return doc


def delete_draft(draft: QuestionnaireVersion) -> None:
    """Delete a draft (a published version cannot be deleted)."""
    _require_draft(draft)
    db.session.delete(draft)
    db.session.commit()


def schema_or_none(version: QuestionnaireVersion) -> Questionnaire | None:
    """Return the parsed questionnaire, or None while the draft has problems."""
    if draft_problems(version):
        return None
    return version.schema


# --- document edits (pure: they change a document in place and report bad input) ------------------


def _languages(doc: Mapping[str, Any]) -> list[str]:
    codes: list[str] = []
    for item in doc.get("languages") or []:
        code = item.get("code") if isinstance(item, dict) else item
        if isinstance(code, str):
            codes.append(code)
    return codes or [DEFAULT_LANGUAGE, "en"]


def language_entries(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the declared languages as ``{code, name, rtl}`` (names and rtl as the loader sets)."""
    from ..questionnaire.model import LANGUAGE_NAMES, RTL_LANGUAGES

    entries = []
    for item in doc.get("languages") or []:
        if isinstance(item, dict):
            code = str(item.get("code", ""))
            name = str(item.get("name") or LANGUAGE_NAMES.get(code, code))
            rtl = item.get("rtl", code in RTL_LANGUAGES) is True
        else:
            code, name, rtl = (
                str(item),
                LANGUAGE_NAMES.get(str(item), str(item)),
                str(item) in RTL_LANGUAGES,
            )
        entries.append({"code": code, "name": name, "rtl": rtl})
    return entries


def add_language(doc: dict[str, Any], code: str, name: str, rtl: bool) -> None:
    """Declare a language (texts in it are then missing until translated)."""
    code = (code or "").strip()
    if not _LANGUAGE_RE.match(code):
        raise DesignError(
            Text(N_("'%(code)s' is not a language code like zh_CN, en or ug"), code=code)
        )
    if code in _languages(doc):
        raise DesignError(Text(N_("language '%(code)s' is already declared"), code=code))
    name = (name or "").strip()
    if not name:
        raise DesignError(
            Text(N_("give the name of language '%(code)s' as its speakers write it"), code=code)
        )
    entry: dict[str, Any] = {"code": code, "name": name}
    if rtl:
        entry["rtl"] = True
    doc.setdefault("languages", []).append(entry)


def remove_language(doc: dict[str, Any], code: str) -> None:
    """Remove a language and every text in it (not the default language nor English)."""
    if code in (DEFAULT_LANGUAGE, "en"):
        raise DesignError(Text(N_("%(code)s is required and cannot be removed"), code=code))
    before = _languages(doc)
    if code not in before:
        raise DesignError(Text(N_("language '%(code)s' is not declared"), code=code))
    doc["languages"] = [
        item
        for item in doc.get("languages") or []
        if (item.get("code") if isinstance(item, dict) else item) != code
    ]
    for _path, text in translatable_texts(doc):
        text.pop(code, None)


def translatable_texts(doc: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(path, text)`` for every translated text of ``doc``, in file order.

    Paths are those of validation problems (``groups[0].questions[1].label``).
    """

    def text_at(holder: Mapping[str, Any], key: str, path: str):
        value = holder.get(key)
        if isinstance(value, dict):
            yield f"{path}.{key}" if path else key, value

    yield from text_at(doc, "title", "")
    yield from text_at(doc, "description", "")
    for name, choices in (doc.get("choice_lists") or {}).items():
        if isinstance(choices, list):
            for index, choice in enumerate(choices):
                if isinstance(choice, dict):
                    yield from text_at(choice, "label", f"choice_lists.{name}[{index}]")
    for g, group in enumerate(doc.get("groups") or []):
        if not isinstance(group, dict):
            continue
        yield from text_at(group, "title", f"groups[{g}]")
        for q, question in enumerate(group.get("questions") or []):
            if not isinstance(question, dict):
                continue
            path = f"groups[{g}].questions[{q}]"
            for key in ("label", "hint", "constraint_message"):
                yield from text_at(question, key, path)
            choices = question.get("choices")
            if isinstance(choices, list):
                for c, choice in enumerate(choices):
                    if isinstance(choice, dict):
                        yield from text_at(choice, "label", f"{path}.choices[{c}]")
    for kind in ("indicators", "composites"):
        for index, item in enumerate(doc.get(kind) or []):
            if isinstance(item, dict):
                for key in ("label", "description"):
                    yield from text_at(item, key, f"{kind}[{index}]")


def set_translations(doc: dict[str, Any], values: Mapping[tuple[str, str], str]) -> int:
    """Set texts from ``{(path, language): text}``; a blank text removes it. Return changes."""
    languages = set(_languages(doc))
    texts = dict(translatable_texts(doc))
    changed = 0
    for (path, lang), value in values.items():
        if path not in texts:
            raise DesignError(Text(N_("there is no text at %(path)s"), path=path))
        if lang not in languages:
            raise DesignError(Text(N_("'%(lang)s' is not a declared language"), lang=lang))
        value = (value or "").strip()
        text = texts[path]
        if value and text.get(lang) != value:
            text[lang] = value
            changed += 1
        elif not value and lang in text:
            del text[lang]
            changed += 1
    return changed


def _groups(doc: dict[str, Any]) -> list[dict[str, Any]]:
    groups = doc.setdefault("groups", [])
    if not isinstance(groups, list):
        raise DesignError(Text(N_("'groups' of this draft is not a list: fix it in the text mode")))
    return groups


def find_group(doc: dict[str, Any], group_id: str) -> dict[str, Any]:
    for group in _groups(doc):
        if isinstance(group, dict) and group.get("id") == group_id:
            return group
    raise DesignError(Text(N_("there is no group '%(group_id)s'"), group_id=group_id))


def find_question(doc: dict[str, Any], question_id: str) -> tuple[dict[str, Any], int]:
    """Return (group, index) of question ``question_id``."""
    for group in _groups(doc):
        if not isinstance(group, dict):
            continue
        for index, question in enumerate(group.get("questions") or []):
            if isinstance(question, dict) and question.get("id") == question_id:
                return group, index
    raise DesignError(Text(N_("there is no question '%(question_id)s'"), question_id=question_id))


def _all_ids(doc: dict[str, Any]) -> tuple[set[str], set[str]]:
    groups, questions = set(), set()
    for group in _groups(doc):
        if isinstance(group, dict):
            groups.add(str(group.get("id")))
            for question in group.get("questions") or []:
                if isinstance(question, dict):
                    questions.add(str(question.get("id")))
    return groups, questions


def _check_identifier(value: str, what: Text) -> str:
    value = (value or "").strip()
    if not _IDENTIFIER_RE.match(value):
        raise DesignError(
            Text(
                N_(
                    "%(what)s '%(value)s' must be a name of letters, digits and underscores, not "
                    "starting with a digit (at most 64)"
                ),
                what=what,
                value=value,
            )
        )
    return value


#: ``set_group``'s ``repeat`` when the form says nothing about it: the group keeps its own.
KEEP_REPEAT = object()


def repeat_entry(enabled: bool, count: str = "", low: str = "", high: str = "") -> Any:
    """A group's ``repeat`` from the designer's form: None (asked once), ``True`` (as many
    instances as the interviewer adds) or ``{count, min, max}``; DesignError for a bound that
    is no whole number."""
    if not enabled:
        return None
    entry: dict[str, Any] = {}
    count = count.strip()
    if count:
        entry["count"] = int(count) if count.isdigit() else count
    for key, text in (("min", low.strip()), ("max", high.strip())):
        if text and not text.isdigit():
            raise DesignError(
                Text(N_("the minimum number of instances must be a whole number"))
                if key == "min"
                else Text(N_("the maximum number of instances must be a whole number"))
            )
        if text:
            entry[key] = int(text)
    return entry or True


def set_group(
    doc: dict[str, Any],
    original_id: str | None,
    group_id: str,
    title: Mapping[str, str],
    relevant: str = "",
    repeat: Any = KEEP_REPEAT,
) -> None:
    """Add a group (``original_id`` None) or change one; its questions are kept.

    ``repeat``: None for a group asked once, or a repeat group's ``repeat`` (see
    :func:`repeat_entry`); by default the group keeps what it has."""
    group_id = _check_identifier(group_id, Text(N_("group id")))
    groups_ids, _ = _all_ids(doc)
    if original_id is None:
        if group_id in groups_ids:
            raise DesignError(
                Text(N_("there is already a group '%(group_id)s'"), group_id=group_id)
            )
        group: dict[str, Any] = {"id": group_id}
        _groups(doc).append(group)
    else:
        group = find_group(doc, original_id)
        if group_id != original_id and group_id in groups_ids:
            raise DesignError(
                Text(N_("there is already a group '%(group_id)s'"), group_id=group_id)
            )
        group["id"] = group_id
    rebuilt: dict[str, Any] = {"id": group_id, "title": _clean_text(title)}
    if relevant.strip():
        rebuilt["relevant"] = relevant.strip()
    if repeat is KEEP_REPEAT:
        repeat = group.get("repeat")
    if repeat is not None:
        rebuilt["repeat"] = repeat
    rebuilt["questions"] = group.get("questions") or []
    group.clear()
    group.update(rebuilt)


def delete_group(doc: dict[str, Any], group_id: str) -> None:
    group = find_group(doc, group_id)
    if group.get("questions"):
        raise DesignError(
            Text(
                N_("group '%(group_id)s' still has questions: move or delete them first"),
                group_id=group_id,
            )
        )
    _groups(doc).remove(group)


def move_group(doc: dict[str, Any], group_id: str, offset: int) -> None:
    groups = _groups(doc)
    group = find_group(doc, group_id)
    index = groups.index(group)
    target = max(0, min(len(groups) - 1, index + offset))
    groups.insert(target, groups.pop(index))


def _clean_text(text: Mapping[str, str]) -> dict[str, str]:
    return {lang: value.strip() for lang, value in text.items() if value and value.strip()}


#: The keys of a question in the order they are kept: the common ones, then the type's own
#: (:attr:`QuestionKind.keys`), as the exporter writes them.
QUESTION_KEY_ORDER = COMMON_QUESTION_KEYS + tuple(
    dict.fromkeys(key for kind in KINDS.values() for key in kind.keys)
)


#: ``set_question(after=FIRST)``: at the start of the group.
FIRST = "^"


def set_question(
    doc: dict[str, Any],
    group_id: str,
    original_id: str | None,
    question: Mapping[str, Any],
    *,
    after: str | None = None,
) -> None:
    """Add a question to ``group_id`` or replace ``original_id`` (moving its group).

    ``after`` places it: ``None`` at the end of the group for a new or moved question (in its
    place for one that stays in its group), ``FIRST`` at the start of the group, or a question
    id of the group to put it right after. ``question`` holds the file's keys; empty values are
    left out.
    """
    qid = _check_identifier(str(question.get("id", "")), Text(N_("question id")))
    _, question_ids = _all_ids(doc)
    if (original_id is None or qid != original_id) and qid in question_ids:
        raise DesignError(
            Text(N_("there is already a question '%(qid)s': question ids are unique"), qid=qid)
        )
    target_group = find_group(doc, group_id)
    if after not in (None, FIRST):
        siblings = [q.get("id") for q in target_group.get("questions") or []]
        if after not in siblings or after == original_id:
            raise DesignError(
                Text(
                    N_(
                        "question '%(after)s' is not another question of group '%(group_id)s': "
                        "choose where to put the question among that group's questions"
                    ),
                    after=after,
                    group_id=group_id,
                )
            )
    kind = KINDS.get(str(question.get("type")))
    # the type's own keys in its order; another type's keys are kept for the check to report
    own = COMMON_QUESTION_KEYS + (kind.keys if kind is not None else ())
    order = own + tuple(key for key in QUESTION_KEY_ORDER if key not in own)
    item = {
        key: question[key]
        for key in order
        if key in question and question[key] not in (None, "", {}, [])
    }
    item["id"] = qid
    if original_id is not None:
        group, index = find_question(doc, original_id)
        if group is target_group and after is None:
            group["questions"][index] = item
            _rename_if_needed(doc, original_id, qid)
            return
        del group["questions"][index]
    questions = target_group.setdefault("questions", [])
    if after is None:
        questions.append(item)
    elif after == FIRST:
        questions.insert(0, item)
    else:
        position = next(i for i, q in enumerate(questions) if q.get("id") == after)
        questions.insert(position + 1, item)
    if original_id is not None:
        _rename_if_needed(doc, original_id, qid)


def _rename_if_needed(doc: dict[str, Any], old: str, new: str) -> None:
    if new != old:
        _rename_references(doc, old, new)


def _rename_references(doc: dict[str, Any], old: str, new: str) -> None:
    pattern = re.compile(r"\$\{\s*" + re.escape(old) + r"\s*\}")

    def fix(holder: dict[str, Any], key: str) -> None:
        if isinstance(holder.get(key), str):
            holder[key] = pattern.sub("${" + new + "}", holder[key])

    for group in _groups(doc):
        if not isinstance(group, dict):
            continue
        fix(group, "relevant")
        for question in group.get("questions") or []:
            if isinstance(question, dict):
                fix(question, "relevant")
                fix(question, "constraint")
    for kind in ("indicators", "composites"):
        for item in doc.get(kind) or []:
            if isinstance(item, dict):
                fix(item, "base")
                if item.get("question") == old:
                    item["question"] = new


def delete_question(doc: dict[str, Any], question_id: str) -> None:
    group, index = find_question(doc, question_id)
    del group["questions"][index]


def move_question(doc: dict[str, Any], question_id: str, offset: int) -> None:
    group, index = find_question(doc, question_id)
    questions = group["questions"]
    target = max(0, min(len(questions) - 1, index + offset))
    questions.insert(target, questions.pop(index))


def set_result(
    doc: dict[str, Any], kind: str, original_id: str | None, item: Mapping[str, Any]
) -> None:
    """Add or replace an indicator (``kind`` 'indicators') or composite ('composites')."""
    if kind not in ("indicators", "composites"):
        raise DesignError(Text(N_("unknown kind '%(kind)s'"), kind=kind))
    rid = _check_identifier(str(item.get("id", "")), Text(N_("id")))
    items = doc.setdefault(kind, [])
    ids = {
        str(entry.get("id"))
        for key in ("indicators", "composites")
        for entry in doc.get(key) or []
        if isinstance(entry, dict)
    }
    if (original_id is None or rid != original_id) and rid in ids:
        raise DesignError(Text(N_("there is already an indicator or composite '%(rid)s'"), rid=rid))
    clean = {key: value for key, value in item.items() if value not in (None, "", {}, [])}
    clean["id"] = rid
    if original_id is None:
        items.append(clean)
        return
    for index, entry in enumerate(items):
        if isinstance(entry, dict) and entry.get("id") == original_id:
            items[index] = clean
            return
    raise DesignError(
        Text(
            N_("there is no %(kind)s '%(original_id)s'"),
            kind=_RESULT_WORDS.get(kind, kind),
            original_id=original_id,
        )
    )


def delete_result(doc: dict[str, Any], kind: str, item_id: str) -> None:
    items = doc.get(kind) or []
    for entry in items:
        if isinstance(entry, dict) and entry.get("id") == item_id:
            items.remove(entry)
            if not items:
                doc.pop(kind, None)
            return
    raise DesignError(
        Text(
            N_("there is no %(kind)s '%(item_id)s'"),
            kind=_RESULT_WORDS.get(kind, kind),
            item_id=item_id,
        )
    )


def preview_document(doc: Mapping[str, Any], marker: str) -> dict[str, Any]:
    """Return a copy of ``doc`` with every missing translation filled with ``marker``.

    The preview of a draft that is still being translated loads this copy and shows the
    default-language text, marked as not translated, wherever it finds the marker.
    """
    copied = copy.deepcopy(dict(doc))
    languages = _languages(copied)
    for _path, text in translatable_texts(copied):
        for lang in languages:
            if not str(text.get(lang) or "").strip():
                text[lang] = marker
    return copied


__all__ += [
    "AGE_GROUPS",
    "PLAN_DEFAULTS",
    "ImmutableVersionError",
    "draft_from_text",
    "plan_parameters",
    "plan_sample",
    "save_plan",
    "validate_text",
    "add_language",
    "delete_group",
    "delete_question",
    "delete_result",
    "document",
    "draft_of",
    "find_group",
    "find_question",
    "language_entries",
    "move_group",
    "move_question",
    "new_document",
    "preview_document",
    "questionnaire_list",
    "remove_language",
    "schema_or_none",
    "set_group",
    "set_question",
    "set_result",
    "set_translations",
    "translatable_texts",
    "versions_of",
]


# --- import into a draft -----------------------------------------------------------------------


def draft_from_text(text: str, source: str, user=None) -> QuestionnaireVersion:
    """Store an uploaded questionnaire text as a draft (problems allowed, fixed in the designer).

    A new name keeps the file's version; a known name becomes the draft of its next version
    (refused while another draft of it is open).
    """
    text = text.replace("\r\n", "\n")
    try:
        doc = read_document(text)
    except (yaml.YAMLError, ValueError):
        problems = validate_text(text, source=source)
        raise DesignError(
            problems[0].as_text() if problems else Text(N_("not a questionnaire file"))
        ) from None
    slug = str(doc.get("id") or "").strip()
    if not _SLUG_RE.match(slug):
        raise DesignError(
            Text(
                N_("the file's id '%(slug)s' is not a questionnaire name (like night-safety)"),
                slug=slug,
            )
        )
    if draft_of(slug) is not None:
        raise DesignError(
            Text(
                N_(
                    "a draft of '%(slug)s' is open already: publish or delete it before "
                    "importing again"
                ),
                slug=slug,
            )
        )
    latest = db.session.scalar(
        select(func.max(QuestionnaireVersion.version)).where(QuestionnaireVersion.slug == slug)
    )
    based_on = None
    if latest is None:
        number = doc.get("version") if isinstance(doc.get("version"), int) else 1
        number = max(1, number)
    else:
        number = int(latest) + 1
        based_on = db.session.scalar(
            select(QuestionnaireVersion).where(
                QuestionnaireVersion.slug == slug, QuestionnaireVersion.version == latest
            )
        )
    if doc.get("version") != number:
        text, count = _VERSION_LINE.subn(f"version: {number}", text, count=1)
        if count == 0:
            doc["version"] = number
            text = dump_document(doc)
    title = doc.get("title")
    title_zh = str(title.get(DEFAULT_LANGUAGE) or slug) if isinstance(title, dict) else slug
    draft = QuestionnaireVersion(
        slug=slug,
        version=number,
        title_zh=title_zh.strip()[:200],
        sha256=_sha256(text),
        source_text=text,
        status=DRAFT,
        based_on_id=based_on.id if based_on is not None else None,
        created_by_id=getattr(user, "id", None),
        updated_at=datetime.utcnow(),
    )
    db.session.add(draft)
    db.session.commit()
    return draft


# --- sample and quota planning -------------------------------------------------------------------

AGE_GROUPS = ("16_24", "25_34", "35_44", "45_54", "55_64", "65p")
SEXES = ("m", "f")
PLAN_DEFAULTS: dict[str, Any] = {
    "margin": 0.05,
    "p": 0.9,
    "deff": 1.5,
    "level": 0.95,
    "method": "logit",
}


def plan_parameters(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check planning parameters (margin, anticipated rate p, deff, level, method)."""
    params: dict[str, Any] = {}
    bounds = {
        "margin": (0.0, 0.5, Text(N_("the margin of error, like 0.05 for ±5 points"))),
        "p": (0.0, 1.0, Text(N_("the anticipated rate, like 0.9"))),
        "deff": (0.0, 100.0, Text(N_("the design effect, like 1.5"))),
        "level": (0.0, 1.0, Text(N_("the confidence level, like 0.95"))),
    }
    for key, (low, high, what) in bounds.items():
        value = raw.get(key)
        if value in (None, ""):
            params[key] = PLAN_DEFAULTS[key]
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise DesignError(
                Text(
                    N_("%(key)s must be %(what)s, not '%(value)s'"), key=key, what=what, value=value
                )
            ) from None
        if not low < number < high and not (key == "deff" and number >= 1 and number < high):
            raise DesignError(
                Text(
                    N_("%(key)s must be %(what)s (between %(low)s and %(high)s), not %(value)s"),
                    key=key,
                    what=what,
                    low=f"{low:g}",
                    high=f"{high:g}",
                    value=value,
                )
            )
        params[key] = number
    method = raw.get("method") or PLAN_DEFAULTS["method"]
    if method not in ("wald", "logit"):
        raise DesignError(Text(N_("method must be wald or logit, not '%(method)s'"), method=method))
    params["method"] = method
    return params


def _streets(district) -> list:
    streets, stack = [], [district]
    while stack:
        locality = stack.pop()
        if locality.level == "street":
            streets.append(locality)
            continue
        stack.extend(sorted(locality.children, key=lambda child: child.code, reverse=True))
    return sorted(streets, key=lambda street: street.code)


def plan_sample(
    survey, margin: float, p: float, deff: float, level: float, method: str
) -> list[dict[str, Any]]:
    """Return, per street of the survey's district, the interviews needed and the quotas.

    The target per street is :func:`surveyapp.estimation.samplesize.required_n` for the
    street's population; it is split over the sex × age cells of the census counts
    (:class:`LocalityPopulation`) in proportion to their population (:func:`allocate`).
    """
    from ..estimation.samplesize import required_n

    rows = []
    for street in _streets(survey.district):
        counts = {(pop.sex, pop.age_group): pop.count for pop in street.populations}
        population = street.population or sum(counts.values()) or None
        target = required_n(margin, p, deff, level, population, method=method)
        cells = {(sex, age): counts.get((sex, age), 0) for sex in SEXES for age in AGE_GROUPS}
        quotas = allocate(target, cells) if sum(cells.values()) else {}
        rows.append(
            {"street": street, "population": population, "target": target, "quotas": quotas}
        )
    return rows


def save_plan(survey, wave, params: Mapping[str, Any], rows: list[dict[str, Any]]) -> int:
    """Store the plan in the survey's settings, as the wave's quotas and as the targets of the
    wave's assignments, in one step (one transaction); return the quotas written."""
    from ..fieldwork.assignments import targets_from_plan
    from ..models.fieldwork import Quota

    if wave is None or wave.survey_id != survey.id:
        raise DesignError(Text(N_("choose one of the survey's waves for the quotas")))
    existing = {
        (quota.locality_id, quota.sex, quota.age_group): quota
        for quota in db.session.scalars(select(Quota).where(Quota.wave_id == wave.id))
    }
    written = 0

    def put(street, sex: str, age: str, target: int) -> None:
        nonlocal written
        quota = existing.get((street.id, sex, age))
        if quota is None:
            quota = Quota(wave_id=wave.id, locality_id=street.id, sex=sex, age_group=age)
            db.session.add(quota)
        quota.target = int(target)
        written += 1

    for row in rows:
        put(row["street"], "", "", row["target"])
        for (sex, age), target in row["quotas"].items():
            put(row["street"], sex, age, target)
    settings = dict(survey.settings or {})
    settings["plan"] = {
        **{key: params[key] for key in PLAN_DEFAULTS},
        "targets": {row["street"].code: row["target"] for row in rows},
    }
    survey.settings = settings
    targets_from_plan(wave, {row["street"].id: int(row["target"]) for row in rows})
    db.session.commit()
    return written


#: What a draft's missing translations are set to for previewing and printing it (never shown:
#: the default-language text is, marked).
UNTRANSLATED = "\u2060untranslated\u2060"


def printable_schema(version):
    """Return ``(schema, marker)`` to print ``version``: a published version as it is (marker
    None); a draft whose only problems are missing translations loaded with them set to the
    marker (printed in the default language, marked). Raise QuestionnaireError otherwise."""
    from ..questionnaire import QuestionnaireError, load_questionnaire_text
    from ..questionnaire.export import dump_document

    try:
        return version.schema, None
    except QuestionnaireError as error:
        if version.status != "draft":
            raise
        try:
            doc = preview_document(document(version), UNTRANSLATED)
        except DesignError:
            raise error from None
        try:
            schema = load_questionnaire_text(dump_document(doc), source=f"{version.slug}.yaml")
        except QuestionnaireError:
            raise error from None
        return schema, UNTRANSLATED
