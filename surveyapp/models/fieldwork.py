"""Fieldwork tables: API tokens, paradata, supervisor reviews, back-checks, CATI cases and quotas.

Telephone numbers live only here (``cati_case.phone``): never in responses, exports or logs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .localities import Locality
from .responses import Response
from .surveys import Wave
from .users import User

#: Review states of a response; only ``rejected`` removes it from estimates.
REVIEW_STATES = ("pending", "approved", "rejected", "sent_back")
#: States of a CATI case in the interviewer queue.
CASE_STATES = ("available", "claimed", "closed")


class ApiToken(db.Model):
    """A per-user token for the sync API; only its SHA-256 hash is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class ResponseParadata(db.Model):
    """How an interview was taken: device, time per question group, optional GPS point."""

    __tablename__ = "response_paradata"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("response.id", ondelete="CASCADE"), unique=True, insert_sentinel=True
    )  # unique: a batch's paradata rows go in as one INSERT … RETURNING (see Response.uuid)
    channel: Mapped[str] = mapped_column(String(16), default="api")
    device: Mapped[str] = mapped_column(String(200), default="")
    # Seconds spent on each question group, as the client measured them.
    group_seconds: Mapped[dict] = mapped_column(JSON, default=dict)
    client_saved_at: Mapped[datetime | None]
    # Captured only with the respondent's consent (the client sends nothing otherwise).
    gps_lat: Mapped[float | None]
    gps_lon: Mapped[float | None]
    gps_accuracy_m: Mapped[float | None]

    response: Mapped[Response] = relationship()


class ResponseReview(db.Model):
    """A supervisor's current decision on a response (the history is in ``review_event``)."""

    __tablename__ = "response_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("response.id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str] = mapped_column(Text, default="")
    enumerator_note: Mapped[str] = mapped_column(Text, default="")
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None]

    response: Mapped[Response] = relationship()
    reviewer: Mapped[User | None] = relationship()


class ReviewEvent(db.Model):
    """One step of a response's review, kept for audit."""

    __tablename__ = "review_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("response.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=datetime.utcnow)

    actor: Mapped[User | None] = relationship()


class BackCheck(db.Model):
    """A completed interview drawn for a short verification call (回访)."""

    __tablename__ = "back_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("response.id", ondelete="CASCADE"), unique=True
    )
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), index=True)
    enumerator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    drawn_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    seed: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    checked_at: Mapped[datetime | None]
    # Whether the respondent confirms the interview took place; None until checked.
    confirmed: Mapped[bool | None]
    # The answers given again on the call, question id -> code.
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    items: Mapped[int] = mapped_column(default=0)
    mismatches: Mapped[int] = mapped_column(default=0)
    notes: Mapped[str] = mapped_column(Text, default="")

    response: Mapped[Response] = relationship()
    enumerator: Mapped[User | None] = relationship(foreign_keys=[enumerator_id])


class CatiCase(db.Model):
    """A telephone number to call for a wave, in a street or community."""

    __tablename__ = "cati_case"
    __table_args__ = (
        UniqueConstraint("wave_id", "phone"),
        Index("ix_cati_case_wave_id_status", "wave_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"))
    locality_id: Mapped[int] = mapped_column(ForeignKey("locality.id"), index=True)
    # Normalised digits (e.g. 13812345678, 02583123456); shown masked once the case is closed.
    phone: Mapped[str] = mapped_column(String(20))
    notes: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16), default="import")
    status: Mapped[str] = mapped_column(String(16), default="available")
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    claimed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    # Not to be called before this time (recall delay or appointment).
    next_call_at: Mapped[datetime | None]
    appointment_at: Mapped[datetime | None]
    last_code: Mapped[str] = mapped_column(String(8), default="")
    last_called_at: Mapped[datetime | None]
    # Times of day already tried ("m", "a", "e"), so retries rotate through them.
    tried_slots: Mapped[str] = mapped_column(String(8), default="")
    # The AAPOR code that closed the case (final disposition).
    final_code: Mapped[str] = mapped_column(String(8), default="")
    closed_at: Mapped[datetime | None]
    response_uuid: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)

    wave: Mapped[Wave] = relationship()
    locality: Mapped[Locality] = relationship()
    claimed_by: Mapped[User | None] = relationship()
    attempt_log: Mapped[list[CallAttempt]] = relationship(
        back_populates="case", order_by="CallAttempt.id", cascade="all, delete-orphan"
    )


class CallAttempt(db.Model):
    """One call of a case and its outcome (an AAPOR disposition code)."""

    __tablename__ = "cati_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cati_case.id", ondelete="CASCADE"), index=True)
    interviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    called_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    code: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text, default="")
    appointment_at: Mapped[datetime | None]
    #: The id the desk gave the outcome when it was recorded (maybe offline): sending it twice
    #: stores it once.
    client_id: Mapped[str | None] = mapped_column(String(36), unique=True)

    case: Mapped[CatiCase] = relationship(back_populates="attempt_log")
    interviewer: Mapped[User | None] = relationship()


class Quota(db.Model):
    """A target number of completed interviews in a street, optionally per sex x age cell.

    An empty ``sex`` or ``age_group`` means any (empty text rather than NULL keeps the unique
    constraint effective on PostgreSQL, where NULLs never collide).
    """

    __tablename__ = "fieldwork_quota"
    __table_args__ = (UniqueConstraint("wave_id", "locality_id", "sex", "age_group"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), index=True)
    locality_id: Mapped[int] = mapped_column(ForeignKey("locality.id"))
    sex: Mapped[str] = mapped_column(String(8), default="")
    age_group: Mapped[str] = mapped_column(String(16), default="")
    target: Mapped[int] = mapped_column(default=0)

    wave: Mapped[Wave] = relationship()
    locality: Mapped[Locality] = relationship()
