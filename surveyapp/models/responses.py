"""Responses and their answers, one row per answered question (or selected code)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .localities import Locality
from .questionnaires import QuestionnaireVersion
from .surveys import Survey, Wave
from .users import User


class Response(db.Model):
    __tablename__ = "response"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The client-given UUID lets a batch of new responses go in as one INSERT … RETURNING
    # (SQLite cannot order RETURNING by its ROWIDs; see SQLAlchemy "insertmanyvalues").
    uuid: Mapped[str] = mapped_column(String(36), unique=True, insert_sentinel=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), index=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"))
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    mode: Mapped[str] = mapped_column(String(16))
    enumerator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    language: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    # When the answers were last replaced (a sent-back interview corrected); None if never.
    revised_at: Mapped[datetime | None]
    # The full locality path, denormalised so that estimates group by any level cheaply.
    locality_id: Mapped[int] = mapped_column(ForeignKey("locality.id"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("locality.id"))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("locality.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("locality.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("locality.id"))
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    # A hash of the submitted content, so a resent identical submission is recognised.
    content_hash: Mapped[str] = mapped_column(String(64), default="")

    # A wave's version, status, mode and localities: the estimates' check of a wave's stored
    # snapshot reads only this index, grouped in its order (migration 0008).
    __table_args__ = (
        # An enumerator's interviews, by wave: the tablets' assignment list counts those of
        # each assigned wave from this index alone (migration 0020).
        Index("ix_response_enumerator_wave", "enumerator_id", "wave_id"),
        Index(
            "ix_response_wave_state",
            "wave_id",
            "questionnaire_version_id",
            "status",
            "mode",
            "street_id",
            "community_id",
            "grid_id",
        ),
    )

    survey: Mapped[Survey] = relationship()
    wave: Mapped[Wave] = relationship()
    questionnaire_version: Mapped[QuestionnaireVersion] = relationship()
    enumerator: Mapped[User | None] = relationship()
    locality: Mapped[Locality] = relationship(foreign_keys=[locality_id])
    street: Mapped[Locality | None] = relationship(foreign_keys=[street_id])
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", order_by="Answer.id"
    )

    def answer_dict(self) -> dict[str, object]:
        """Rebuild the answers as the questionnaire sees them (lists for multiple choice; a
        repeat group's answers as ``{group: [{question: answer, ...}, ...]}``, by instance)."""
        out: dict[str, object] = {}
        rosters: dict[str, dict[int, dict[str, object]]] = {}
        for a in self.answers:
            target: dict[str, object] = out
            if a.instance:
                target = rosters.setdefault(a.repeat_group, {}).setdefault(a.instance, {})
                if a.question == a.repeat_group:
                    continue  # the instance's own row
            if a.multiple:
                target.setdefault(a.question, []).append(a.value)  # type: ignore[union-attr]
            elif a.number is not None and a.value == _number_text(a.number):
                target[a.question] = int(a.number) if a.number.is_integer() else a.number
            else:
                target[a.question] = a.value
        for group, instances in rosters.items():
            out[group] = [instances[number] for number in sorted(instances)]
        return out


def _number_text(number: float) -> str:
    return str(int(number)) if number.is_integer() else repr(number)


class Answer(db.Model):
    __tablename__ = "answer"
    # One index, (response_id, question): answers are read by response (blocks of responses,
    # a response's answers, "did response R answer Q"), and new responses have the highest
    # ids, so each insert only touches the end of it. An index led by the question (there
    # was one on (question, value)) takes a write at ~50 places of the tree per batch and
    # more than doubled the pages each submission writes (migration 0007).
    __table_args__ = (Index("ix_answer_response_question", "response_id", "question"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(String(80))
    value: Mapped[str] = mapped_column(Text)
    number: Mapped[float | None]
    multiple: Mapped[bool] = mapped_column(default=False)
    # An answer given in a repeat group (a household roster): the group's id and the
    # instance's number from 1; "" and 0 for an answer to a question asked once. Each instance
    # also has a row with ``question`` = the group's id and an empty value, so that an instance
    # whose questions were all skipped is kept (migration 0017).
    repeat_group: Mapped[str] = mapped_column(String(80), default="", server_default="")
    instance: Mapped[int] = mapped_column(default=0, server_default="0")

    response: Mapped[Response] = relationship(back_populates="answers")
