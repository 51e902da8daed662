"""Stored questionnaire versions: the YAML text is kept so a response's version never changes."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..questionnaire import Questionnaire, load_questionnaire_text


@lru_cache(maxsize=64)
def _parse(sha256: str, text: str, source: str) -> Questionnaire:  # noqa: ARG001
    # Keyed by content hash: parsing the YAML once per process and version is enough.
    return load_questionnaire_text(text, source=source)


class QuestionnaireVersion(db.Model):
    __tablename__ = "questionnaire_version"
    __table_args__ = (UniqueConstraint("slug", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80))
    version: Mapped[int]
    title_zh: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    source_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    published_at: Mapped[datetime | None]

    @property
    def schema(self) -> Questionnaire:
        """Return the parsed, immutable questionnaire (parsed once per process and version)."""
        return _parse(self.sha256, self.source_text, f"{self.slug}@v{self.version}")
