"""The locality tree: province > city > district > street > community > grid."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db

LEVELS = ("province", "city", "district", "street", "community", "grid")


class Locality(db.Model):
    __tablename__ = "locality"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("locality.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120), default="")
    population: Mapped[int | None]
    # The outline for maps: a GeoJSON geometry (Polygon or MultiPolygon, lon/lat), or None.
    boundary: Mapped[dict | None] = mapped_column(JSON, default=None)

    parent: Mapped[Locality | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Locality]] = relationship(
        back_populates="parent", order_by="Locality.code"
    )
    populations: Mapped[list[LocalityPopulation]] = relationship(
        back_populates="locality", cascade="all, delete-orphan"
    )

    def name(self, lang: str) -> str:
        """Return the name in the interface language, Chinese when no English name exists."""
        if lang == "en" and self.name_en:
            return self.name_en
        return self.name_zh

    def ancestors(self) -> list[Locality]:
        """Return the path from the root down to this locality, inclusive."""
        path: list[Locality] = []
        node: Locality | None = self
        while node is not None:
            path.append(node)
            node = node.parent
        return list(reversed(path))

    def path_by_level(self) -> dict[str, Locality]:
        return {loc.level: loc for loc in self.ancestors()}

    def is_within(self, other: Locality) -> bool:
        """Tell whether this locality is ``other`` or lies below it."""
        return any(loc.id == other.id for loc in self.ancestors())

    def __repr__(self) -> str:
        return f"<Locality {self.code} {self.level} {self.name_zh}>"


class LocalityPopulation(db.Model):
    """Population counts by sex and age group, from the census, for weighting."""

    __tablename__ = "locality_population"
    __table_args__ = (UniqueConstraint("locality_id", "sex", "age_group"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    locality_id: Mapped[int] = mapped_column(ForeignKey("locality.id"), index=True)
    sex: Mapped[str] = mapped_column(String(8))
    age_group: Mapped[str] = mapped_column(String(16))
    count: Mapped[int]

    locality: Mapped[Locality] = relationship(back_populates="populations")


#: The :class:`ChangeStamp` that changes with any row of the locality table.
LOCALITY_STAMP = "locality"
#: The prefix of the :class:`ChangeStamp` rows of waves: ``responses:<wave id>`` changes with
#: any response of that wave (migration 0019).
RESPONSES_STAMP = "responses:"


def responses_stamp(wave_id: int) -> str:
    """The name of the :class:`ChangeStamp` of wave ``wave_id``'s responses."""
    return f"{RESPONSES_STAMP}{wave_id}"


class ChangeStamp(db.Model):
    """A random token that database triggers replace whenever a table changes (migration
    0018): a cheap version of that table for caches shared by every server, read in the same
    statement as what it guards. Rows: :data:`LOCALITY_STAMP` (any insert, update or delete of
    a locality) and, per wave, :func:`responses_stamp` (any insert, update or delete of one of
    its responses, TRUNCATE of them all, the wave's creation; written at COMMIT on
    PostgreSQL: migration 0019). A missing row means "unknown": nothing may be cached on it.
    A restored backup brings the localities and responses, whose inserts replace the stamps.

    On SQLite, a batch migration of ``locality``, ``response`` or ``wave`` (a copy of the
    table) drops its triggers: create them again after one
    (tests/fieldwork/test_assignment_document.py and tests/services/test_report_keys.py fail
    otherwise).
    """

    __tablename__ = "change_stamp"
    # Not in backups: the triggers keep it, and a fresh database has its own rows.
    __table_args__ = {"info": {"backup": False}}

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    stamp: Mapped[str] = mapped_column(String(32))
