"""Surveys, their waves, and enumerators' assignments to localities."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, event, select
from sqlalchemy.orm import Mapped, mapped_column, relationship, synonym

from ..extensions import db
from .localities import Locality
from .questionnaires import QuestionnaireVersion
from .users import User

MODES = ("phone", "door")


class Survey(db.Model):
    __tablename__ = "survey"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    district_id: Mapped[int] = mapped_column(ForeignKey("locality.id"))
    modes: Mapped[str] = mapped_column(String(40), default="phone,door")
    # Design variables, weighting margins, CI method and level: shown with every output.
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    # Raised by one each time the settings change after responses exist (the audit log keeps
    # every version); estimates and reports say which version they used.
    settings_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # The manager who runs the survey (the access rules' "owner"): its creator at first.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)

    questionnaire_version: Mapped[QuestionnaireVersion] = relationship()
    district: Mapped[Locality] = relationship()
    created_by: Mapped[User | None] = relationship()
    owner_id = synonym("created_by_id")
    owner = synonym("created_by")
    waves: Mapped[list[Wave]] = relationship(
        back_populates="survey", order_by="Wave.position", cascade="all, delete-orphan"
    )

    @property
    def mode_list(self) -> list[str]:
        return [m for m in self.modes.split(",") if m]


class Wave(db.Model):
    __tablename__ = "wave"
    __table_args__ = (UniqueConstraint("survey_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(120), default="")
    position: Mapped[int] = mapped_column(default=0)
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    is_open: Mapped[bool] = mapped_column(default=True)
    # The questionnaire version this wave's interviews use (the web form, the tablets, the
    # sync API's checks, the estimates). Nullable in the database only because SQLite cannot
    # add a NOT NULL column to a referenced table without recreating it; the waves service
    # always sets it, and migration 0011 filled it for the waves before it.
    questionnaire_version_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaire_version.id"), nullable=True
    )
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # Officials see a wave's results only once released (surveyapp.policy.may_see_wave).
    released_at: Mapped[datetime | None]
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    survey: Mapped[Survey] = relationship(back_populates="waves")
    questionnaire_version: Mapped[QuestionnaireVersion] = relationship()
    released_by: Mapped[User | None] = relationship()

    @property
    def state(self) -> str:
        """Fieldwork: ``planned`` (created, never opened), ``open`` or ``closed``. Whether its
        results are released is :attr:`is_released`, apart."""
        if self.is_open:
            return "open"
        if self.opened_at is not None or self.closed_at is not None:
            return "closed"
        return "planned"

    @property
    def is_released(self) -> bool:
        return self.released_at is not None


@event.listens_for(Wave, "before_insert")
def _pin_questionnaire(mapper, connection, target: Wave) -> None:  # noqa: ARG001
    # A wave made without a version (old code, tests) takes its survey's: never NULL.
    if target.questionnaire_version_id is None and target.questionnaire_version is None:
        if target.survey is not None:
            target.questionnaire_version_id = target.survey.questionnaire_version_id
        else:  # made with survey_id only
            target.questionnaire_version_id = connection.scalar(
                select(Survey.questionnaire_version_id).where(Survey.id == target.survey_id)
            )


class Assignment(db.Model):
    """An enumerator's assignment: a survey wave in a locality (street, community or grid)."""

    __tablename__ = "assignment"
    __table_args__ = (UniqueConstraint("wave_id", "enumerator_id", "locality_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), index=True)
    enumerator_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    locality_id: Mapped[int] = mapped_column(ForeignKey("locality.id"))
    mode: Mapped[str] = mapped_column(String(16), default="door")
    target: Mapped[int] = mapped_column(default=0)
    # Whether the enumerator may move a response to another grid or community below the
    # assigned locality (a manager's rule); never outside it.
    locality_editable: Mapped[bool] = mapped_column(default=True)
    # When a manager ended the assignment: nothing more is filed under it; its interviews stay.
    ended_at: Mapped[datetime | None]

    wave: Mapped[Wave] = relationship()
    enumerator: Mapped[User] = relationship()
    locality: Mapped[Locality] = relationship()
