"""Store a submitted interview: validated against its questionnaire version, all or nothing."""

from __future__ import annotations

import hashlib
import json
import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Answer, Locality, Response, User, Wave
from ..questionnaire import AnswerError


class SubmissionError(Exception):
    """The submission is refused; nothing was stored.

    ``status`` is the HTTP status a web caller should answer with (400, 403, 409, 422).
    """

    def __init__(self, message: str, status: int = 422,
                 answer_errors: list[AnswerError] | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.answer_errors = answer_errors or []


@dataclass
class Submission:
    wave: Wave
    locality: Locality
    mode: str
    language: str
    uuid: str
    answers: dict
    enumerator: User | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    paradata: dict = field(default_factory=dict)


def content_hash(sub: Submission, cleaned: dict) -> str:
    """Hash what defines a submission, so an identical resend is recognised."""
    body = {
        "wave": sub.wave.id,
        "locality": sub.locality.code,
        "mode": sub.mode,
        "language": sub.language,
        "answers": cleaned,
    }
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


def _check_uuid(value: str) -> str:
    try:
        return str(uuidlib.UUID(value))
    except (ValueError, AttributeError, TypeError) as exc:
        raise SubmissionError(f"'{value}' is not a valid UUID", status=400) from exc


def submit_response(sub: Submission) -> tuple[Response, bool]:
    """Validate and store ``sub``; return (response, created).

    An identical resend under a known UUID returns the stored response with ``created``
    False; a different body under a known UUID raises a 409 :class:`SubmissionError`.
    """
    key = _check_uuid(sub.uuid)
    survey = sub.wave.survey
    if not sub.wave.is_open:
        raise SubmissionError(f"wave {sub.wave.code} is closed", status=409)
    if sub.mode not in survey.mode_list:
        raise SubmissionError(f"mode '{sub.mode}' is not used by this survey", status=400)
    schema = survey.questionnaire_version.schema
    if sub.language not in {lang.code for lang in schema.languages}:
        raise SubmissionError(f"the questionnaire has no language '{sub.language}'", status=400)
    district = survey.district
    if not sub.locality.is_within(district):
        raise SubmissionError(
            f"locality {sub.locality.code} is outside the survey's district {district.code}",
            status=403,
        )
    cleaned, errors = schema.clean_answers(sub.answers)
    if errors:
        raise SubmissionError("some answers are not valid", status=422, answer_errors=errors)
    digest = content_hash(sub, cleaned)

    existing = db.session.scalar(select(Response).where(Response.uuid == key))
    if existing is not None:
        return _resend(existing, digest)

    path = sub.locality.path_by_level()
    response = Response(
        uuid=key,
        survey_id=survey.id,
        wave_id=sub.wave.id,
        questionnaire_version_id=survey.questionnaire_version_id,
        mode=sub.mode,
        enumerator_id=sub.enumerator.id if sub.enumerator else None,
        language=sub.language,
        started_at=sub.started_at,
        ended_at=sub.ended_at,
        submitted_at=datetime.utcnow(),
        locality_id=sub.locality.id,
        district_id=path["district"].id if "district" in path else None,
        street_id=path["street"].id if "street" in path else None,
        community_id=path["community"].id if "community" in path else None,
        grid_id=path["grid"].id if "grid" in path else None,
        content_hash=digest,
    )
    response.answers = list(answer_rows(cleaned))
    db.session.add(response)
    try:
        db.session.commit()
    except IntegrityError:
        # Another request stored the same UUID between our check and our insert.
        db.session.rollback()
        existing = db.session.scalar(select(Response).where(Response.uuid == key))
        if existing is None:
            raise
        return _resend(existing, digest)
    return response, True


def _resend(existing: Response, digest: str) -> tuple[Response, bool]:
    if existing.content_hash != digest:
        raise SubmissionError(
            f"a different response was already stored under UUID {existing.uuid}", status=409
        )
    return existing, False


def answer_rows(cleaned: dict):
    """Turn cleaned answers into :class:`Answer` rows (one per selected code)."""
    for question, value in cleaned.items():
        if isinstance(value, list):
            for code in value:
                yield Answer(question=question, value=str(code), multiple=True)
        elif isinstance(value, bool):
            yield Answer(question=question, value=str(value).lower())
        elif isinstance(value, int | float):
            yield Answer(question=question, value=str(value), number=float(value))
        else:
            yield Answer(question=question, value=str(value))
