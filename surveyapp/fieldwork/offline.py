"""What a tablet needs to interview offline: its assignments and their questionnaires as JSON.

The questionnaire document carries each condition parsed, as the JSON tree of
:meth:`Condition.to_json`, which ``static/js/conditions.js`` evaluates without parsing anything;
the server checks every answer again on sync.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ..extensions import db
from ..models import Assignment, QuestionnaireVersion, Response, User
from ..questionnaire import Question, Questionnaire
from ..questionnaire.conditions import FORMAT as CONDITION_FORMAT
from .assignments import filing_localities


def _text(text) -> dict[str, str] | None:
    return dict(text) if text else None


def _question(q: Question) -> dict[str, Any]:
    return {
        "id": q.id,
        "type": q.type,
        "label": _text(q.label),
        "hint": _text(q.hint),
        "required": q.required,
        "required_if": q.required_if.to_json() if q.required_if else None,
        "relevant": q.relevant.to_json() if q.relevant else None,
        "constraint": q.constraint.to_json() if q.constraint else None,
        "constraint_message": _text(q.constraint_message),
        "min": q.minimum,
        "max": q.maximum,
        "max_length": q.max_length,
        "other_code": q.other_code,
        "choices": [
            {"code": c.code, "label": _text(c.label), "exclusive": c.exclusive} for c in q.choices
        ],
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
                "questions": [_question(q) for q in g.questions],
            }
            for g in schema.groups
        ],
    }


def _path(locality, lang: str) -> str:
    return " › ".join(
        loc.name(lang) for loc in locality.ancestors() if loc.level not in ("province", "city")
    )


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
    out = []
    for a in user_assignments(user):
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
                "localities": [
                    {
                        "code": loc.code,
                        "path": _path(loc, lang),
                        "within": [anc.code for anc in loc.ancestors()],
                    }
                    for loc in filing_localities(a)
                ],
                "questionnaire": {
                    "version_id": a.wave.questionnaire_version_id,
                    "sha256": a.wave.questionnaire_version.sha256,
                },
            }
        )
    return out
