"""The safety index's stored definition versions and monthly administrative values."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..safety_index import Definition, load_definition_text
from .localities import Locality
from .users import User


class ImmutableDefinitionError(RuntimeError):
    """A stored definition version cannot change: a change is a new version."""


@lru_cache(maxsize=32)
def _parse(sha256: str, text: str, source: str) -> Definition:  # noqa: ARG001
    return load_definition_text(text, source)


class SafetyIndexDefinition(db.Model):
    """One version of an index definition; a month uses the version in force then."""

    __tablename__ = "safety_index_definition"
    __table_args__ = (UniqueConstraint("slug", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80))
    version: Mapped[int]
    effective_from: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    sha256: Mapped[str] = mapped_column(String(64))
    source_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    created_by: Mapped[User | None] = relationship()

    @property
    def definition(self) -> Definition:
        """The parsed definition (once per process and version)."""
        return _parse(self.sha256, self.source_text, f"{self.slug}@v{self.version}")


@event.listens_for(SafetyIndexDefinition, "before_update")
def _refuse_update(mapper, connection, target) -> None:  # noqa: ARG001
    raise ImmutableDefinitionError(
        f"safety index {target.slug} version {target.version} is stored and cannot change; "
        "store the change as the next version"
    )


class SafetyIndexValue(db.Model):
    """An administrative series' value for a street and month, and who uploaded it when."""

    __tablename__ = "safety_index_value"
    __table_args__ = (UniqueConstraint("series", "locality_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[str] = mapped_column(String(64), index=True)
    locality_id: Mapped[int] = mapped_column(ForeignKey("locality.id"), index=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM
    value: Mapped[float]
    unit: Mapped[str] = mapped_column(String(16))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    # The upload (file) the value came from, as named in the audit log.
    upload: Mapped[str] = mapped_column(String(200), default="")

    locality: Mapped[Locality] = relationship()
    uploaded_by: Mapped[User | None] = relationship()
