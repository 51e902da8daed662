"""Supervisors' review of interviews: the queue, approve / reject / send back, and the audit."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Response, User
from ..models.fieldwork import ResponseReview


def submission_status(user: User, uuid: str) -> dict | None:
    """Return what the server knows of ``user``'s interview ``uuid`` (None if not theirs)."""
    response = db.session.scalar(select(Response).where(Response.uuid == uuid))
    if response is None or response.enumerator_id != user.id:
        return None
    review = db.session.scalar(
        select(ResponseReview).where(ResponseReview.response_id == response.id))
    return {
        "uuid": response.uuid,
        "stored": True,
        "submitted_at": response.submitted_at.isoformat(timespec="seconds") + "Z",
        "review": {"state": review.state if review else "pending",
                   "reason": review.reason if review else ""},
    }
