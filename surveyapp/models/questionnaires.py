"""Stored questionnaire versions: the YAML text is kept so a response's version never changes.

A version is a *draft* while a survey manager edits it in the designer, and *published* from
then on. A published version is frozen: changing or deleting it raises
:class:`ImmutableVersionError` whatever route tries (the check runs in the ORM before every
flush), and editing a published questionnaire starts a draft of the next version instead.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    event,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.attributes import get_history

from ..caching import BoundedCache
from ..extensions import db
from ..questionnaire import Questionnaire, load_questionnaire_text

DRAFT, PUBLISHED = "draft", "published"
#: Columns that make up a version's content: frozen once it is published.
FROZEN_COLUMNS = ("slug", "version", "title_zh", "sha256", "source_text", "status", "published_at")


class ImmutableVersionError(RuntimeError):
    """Raised when something tries to change or delete a published questionnaire version."""


@lru_cache(maxsize=64)
def _parse(sha256: str, text: str, source: str) -> Questionnaire:  # noqa: ARG001
    # Keyed by content hash: parsing the YAML once per process and version is enough.
    return load_questionnaire_text(text, source=source)


#: Parsed questionnaires by content hash and name, for published versions loaded without their
#: text (see :attr:`QuestionnaireVersion.schema`): a published version never changes.
_PUBLISHED: BoundedCache[Questionnaire] = BoundedCache(64)


class QuestionnaireVersion(db.Model):
    __tablename__ = "questionnaire_version"
    __table_args__ = (
        UniqueConstraint("slug", "version"),
        CheckConstraint("status in ('draft', 'published')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80))
    version: Mapped[int]
    title_zh: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    source_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    published_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=PUBLISHED, server_default=PUBLISHED)
    # The version a draft was started from (for the diff shown before publishing).
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("questionnaire_version.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime | None]

    @property
    def is_published(self) -> bool:
        return self.status == PUBLISHED

    @property
    def schema(self) -> Questionnaire:
        """Return the parsed, immutable questionnaire (parsed once per process and version).

        Raise :class:`~surveyapp.questionnaire.QuestionnaireError` for a draft that is not
        valid yet (a published version always is).
        """
        source = f"{self.slug}@v{self.version}"
        if "source_text" not in self.__dict__ and self.status == PUBLISHED:
            # Loaded without its text (a deferred column; the sync API's assignments): a
            # published version is frozen, so the version parsed under its hash is this one.
            parsed = _PUBLISHED.get((self.sha256, source))
            if parsed is not None:
                return parsed
        parsed = _parse(self.sha256, self.source_text, source)
        if self.status == PUBLISHED:
            _PUBLISHED.put((self.sha256, source), parsed)
        return parsed


def _stored_status(connection, target: QuestionnaireVersion) -> str | None:
    # Ask the database, not the object's history: an expired object has no history of a
    # column that was set before being read.
    table = QuestionnaireVersion.__table__
    return connection.execute(
        select(table.c.status).where(table.c.id == target.id)
    ).scalar_one_or_none()


@event.listens_for(QuestionnaireVersion, "before_update")
def _refuse_changing_published(mapper, connection, target: QuestionnaireVersion) -> None:  # noqa: ARG001
    if _stored_status(connection, target) != PUBLISHED:
        return
    changed = [name for name in FROZEN_COLUMNS if get_history(target, name).has_changes()]
    if changed:
        raise ImmutableVersionError(
            f"questionnaire {target.slug} version {target.version} is published and cannot "
            f"change ({', '.join(changed)}); edit it to start a draft of the next version"
        )


@event.listens_for(QuestionnaireVersion, "before_delete")
def _refuse_deleting_published(mapper, connection, target: QuestionnaireVersion) -> None:  # noqa: ARG001
    if _stored_status(connection, target) == PUBLISHED:
        raise ImmutableVersionError(
            f"questionnaire {target.slug} version {target.version} is published and cannot be "
            f"deleted"
        )
