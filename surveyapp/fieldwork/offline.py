"""What a tablet needs to interview offline: its assignments and their questionnaires as JSON.

The questionnaire document carries each condition parsed, as the JSON tree of
:meth:`Condition.to_json`, which ``static/js/conditions.js`` evaluates without parsing anything;
the server checks every answer again on sync.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Assignment, Locality, QuestionnaireVersion, Response, User, Wave
from ..questionnaire import Question, Questionnaire
from ..questionnaire.conditions import FORMAT as CONDITION_FORMAT
from ..questionnaire.model import Repeat


def _text(text) -> dict[str, str] | None:
    return dict(text) if text else None


def _question(q: Question) -> dict[str, Any]:
    return {
        "id": q.id,
        "type": q.type,
        # how offline.js shows it and what it checks (the registry's input kind)
        "input": q.kind.input,
        "multiple": q.kind.multiple,
        "label": _text(q.label),
        "hint": _text(q.hint),
        "required": q.required,
        "required_if": q.required_if.to_json() if q.required_if else None,
        "choice_filter": q.choice_filter.to_json() if q.choice_filter else None,
        "relevant": q.relevant.to_json() if q.relevant else None,
        "constraint": q.constraint.to_json() if q.constraint else None,
        "constraint_message": _text(q.constraint_message),
        "min": q.minimum,
        "max": q.maximum,
        "max_length": q.max_length,
        # a calculate question: evaluated on the tablet for skip logic, again by the server
        "calculation": q.calculation.to_json() if q.calculation else None,
        "other_code": q.other_code,
        "choices": [
            {
                "code": c.code,
                "label": _text(c.label),
                "exclusive": c.exclusive,
                # what the choice filter reads (its columns, "name" the code)
                **({"properties": c.columns()} if q.choice_filter else {}),
            }
            for c in q.choices
        ],
    }


def _repeat(repeat: Repeat) -> dict[str, Any]:
    return {
        "count": repeat.count.to_json() if repeat.count is not None else None,
        "min": repeat.minimum,
        "max": repeat.maximum,
    }


def questionnaire_document(version: QuestionnaireVersion) -> dict[str, Any]:
    """Return a stored questionnaire version as the JSON the offline interview runs."""
    schema: Questionnaire = version.schema
    return {
        "version_id": version.id,
        "id": schema.id,
        "version": schema.version,
        "sha256": version.sha256,
        # A tablet holding a document of another condition format fetches it again.
        "condition_format": CONDITION_FORMAT,
        "title": _text(schema.title),
        "description": _text(schema.description),
        "languages": [
            {"code": lang.code, "name": lang.name, "rtl": lang.rtl} for lang in schema.languages
        ],
        "groups": [
            {
                "id": g.id,
                "title": _text(g.title),
                "relevant": g.relevant.to_json() if g.relevant else None,
                # a repeat group: asked once per instance (None for a group asked once)
                "repeat": _repeat(g.repeat) if g.repeat is not None else None,
                "questions": [_question(q) for q in g.questions],
            }
            for g in schema.groups
        ],
    }


def _path(locality, lang: str) -> str:
    return " › ".join(
        loc.name(lang) for loc in locality.ancestors() if loc.level not in ("province", "city")
    )


def _filing_places(assignment: Assignment, lang: str) -> list[dict[str, Any]]:
    """:func:`filing_localities` of ``assignment`` with their paths, from one query of plain
    rows (a street's assignment lists hundreds of localities: building an object for each
    took most of the time of the tablet's request)."""
    root = assignment.locality
    above = root.ancestors()
    if not assignment.locality_editable:
        return [{"code": root.code, "path": _path(root, lang), "within": [a.code for a in above]}]
    below = select(Locality.id).where(Locality.parent_id == root.id).cte(recursive=True)
    below = below.union_all(select(Locality.id).where(Locality.parent_id == below.c.id))
    rows = db.session.execute(
        select(
            Locality.id,
            Locality.parent_id,
            Locality.code,
            Locality.name_zh,
            Locality.name_en,
            Locality.level,
        )
        .where(Locality.id.in_(select(below.c.id)))
        .order_by(Locality.code)
    ).all()
    children: dict[int, list] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)

    def name(row) -> str:
        return row.name_en if lang == "en" and row.name_en else row.name_zh

    shown = [loc.name(lang) for loc in above if loc.level not in ("province", "city")]
    codes = [loc.code for loc in above]
    leaves: list[dict[str, Any]] = []
    inner: list[dict[str, Any]] = [
        {"code": root.code, "path": " › ".join(shown), "within": list(codes)}
    ]
    # Depth first in code order, as filing_localities walks the tree: the leaves (grids)
    # first, then the assigned locality and the levels between.
    stack = [(row, shown, codes) for row in reversed(children.get(root.id, []))]
    if not stack:
        return inner
    while stack:
        row, parent_shown, parent_codes = stack.pop()
        here_shown = parent_shown + ([name(row)] if row.level not in ("province", "city") else [])
        here_codes = [*parent_codes, row.code]
        place = {"code": row.code, "path": " › ".join(here_shown), "within": here_codes}
        kids = children.get(row.id, [])
        (inner if kids else leaves).append(place)
        stack.extend((kid, here_shown, here_codes) for kid in reversed(kids))
    return leaves + inner


def user_assignments(user: User) -> list[Assignment]:
    return db.session.scalars(
        select(Assignment).where(Assignment.enumerator_id == user.id).order_by(Assignment.id)
    ).all()


def assignment_documents(user: User, lang: str = "zh_CN") -> list[dict[str, Any]]:
    """Return ``user``'s assignments with the localities they may file interviews under."""
    done = dict(
        db.session.execute(
            select(Response.wave_id, func.count(Response.id))
            .where(Response.enumerator_id == user.id)
            .group_by(Response.wave_id)
        ).all()
    )
    assignments = db.session.scalars(
        select(Assignment)
        .where(Assignment.enumerator_id == user.id)
        .order_by(Assignment.id)
        .options(
            selectinload(Assignment.wave).selectinload(Wave.survey),
            selectinload(Assignment.locality),
        )
    ).all()
    # The versions' hashes only (a version row carries the whole questionnaire).
    sha256 = dict(
        db.session.execute(
            select(QuestionnaireVersion.id, QuestionnaireVersion.sha256).where(
                QuestionnaireVersion.id.in_({a.wave.questionnaire_version_id for a in assignments})
            )
        ).all()
    )
    out = []
    for a in assignments:
        survey = a.wave.survey
        out.append(
            {
                "id": a.id,
                "mode": a.mode,
                "target": a.target,
                "ended": a.ended_at is not None,
                "wave": {
                    "id": a.wave.id,
                    "code": a.wave.code,
                    "name": a.wave.name,
                    "open": a.wave.is_open,
                    "submitted_by_you": done.get(a.wave.id, 0),
                },
                "survey": {"id": survey.id, "name": survey.name, "modes": survey.mode_list},
                "locality": {"code": a.locality.code, "path": _path(a.locality, lang)},
                "localities": _filing_places(a, lang),
                "questionnaire": {
                    "version_id": a.wave.questionnaire_version_id,
                    "sha256": sha256[a.wave.questionnaire_version_id],
                },
            }
        )
    return out
