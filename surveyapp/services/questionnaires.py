"""Store questionnaire files as immutable versions."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, has_app_context
from sqlalchemy import func, select

from ..extensions import db
from ..models import QuestionnaireVersion
from ..questionnaire import DEFAULT_LANGUAGE, Problem, QuestionnaireError, load_questionnaire_text


def publish_languages() -> tuple[str, ...]:
    """The languages publishing requires (``SURVEYAPP_PUBLISH_LANGUAGES``, zh_CN by default)."""
    if has_app_context():
        configured = tuple(current_app.config.get("PUBLISH_LANGUAGES") or ())
    else:  # a command that does not build the app (questionnaire validate)
        from ..config import publish_languages_setting

        configured = publish_languages_setting()
    return tuple(dict.fromkeys((DEFAULT_LANGUAGE, *configured)))


def store_questionnaire(text: str, source: str) -> tuple[QuestionnaireVersion, bool]:
    """Validate ``text`` and store it as a published version; return (version, created).

    The same content is never stored twice. A different content under a version number
    that is already stored is refused: published versions are immutable. The questionnaire
    must have the :func:`publish_languages`.
    """
    schema = load_questionnaire_text(text, source=source, required_languages=publish_languages())
    existing = db.session.scalar(
        select(QuestionnaireVersion).where(
            QuestionnaireVersion.slug == schema.id,
            QuestionnaireVersion.version == schema.version,
        )
    )
    if existing is not None and existing.status == "draft":
        raise QuestionnaireError(
            [
                Problem(
                    source,
                    1,
                    "version",
                    f"version {schema.version} of '{schema.id}' is a draft in the designer: "
                    f"publish or delete that draft first, or give this file another version",
                )
            ]
        )
    if existing is not None:
        if existing.sha256 == schema.sha256:
            return existing, False
        latest = db.session.scalar(
            select(func.max(QuestionnaireVersion.version)).where(
                QuestionnaireVersion.slug == schema.id
            )
        )
        raise QuestionnaireError(
            [
                Problem(
                    source,
                    1,
                    "version",
                    f"version {schema.version} of '{schema.id}' is already published with "
                    f"different content; published versions cannot change: give this file "
                    f"version {int(latest or 0) + 1}",
                )
            ]
        )
    version = QuestionnaireVersion(
        slug=schema.id,
        version=schema.version,
        title_zh=schema.title.get("zh_CN", schema.id),
        sha256=schema.sha256,
        source_text=text,
        published_at=datetime.utcnow(),
    )
    db.session.add(version)
    db.session.commit()
    return version, True


def parse_open_questionnaires() -> int:
    """Parse the questionnaire of every open wave into this process's cache; return how many.

    The gunicorn master calls this before it forks its workers (``gunicorn.conf.py``), so that
    no worker spends its first submission on parsing a questionnaire.
    """
    from ..models import Wave

    versions = db.session.scalars(
        select(QuestionnaireVersion)
        .join(Wave, Wave.questionnaire_version_id == QuestionnaireVersion.id)
        .where(Wave.is_open.is_(True))
        .distinct()
    ).all()
    for version in versions:
        version.schema  # noqa: B018  (parses and caches)
    return len(versions)


def published_versions(slug: str | None = None) -> list[QuestionnaireVersion]:
    """The published questionnaire versions (of questionnaire ``slug`` if given), by
    questionnaire and newest version first."""
    query = select(QuestionnaireVersion).where(QuestionnaireVersion.status == "published")
    if slug is not None:
        query = query.where(QuestionnaireVersion.slug == slug)
    return list(
        db.session.scalars(
            query.order_by(QuestionnaireVersion.slug, QuestionnaireVersion.version.desc())
        )
    )
