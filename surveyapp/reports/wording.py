"""Report wording, read from the interface catalogs (``surveyapp/translations``) without Flask.

Reports are built outside requests (the CLI, worker processes), so they cannot use
Flask-Babel's ``gettext``; they read the same ``.po`` files, which stay the one place where
wording is translated. ``pybabel extract`` finds the ``_()`` calls of this package as usual.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

from ..errors import UserError

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
#: Report languages and the catalog directory of each (Babel's full locale names).
LANGUAGES = {"zh_CN": "zh_Hans_CN", "en": "en"}
_ALIASES = {
    "zh": "zh_CN",
    "zh-cn": "zh_CN",
    "zh_cn": "zh_CN",
    "zh_hans_cn": "zh_CN",
    "zh-hans-cn": "zh_CN",
    "en": "en",
    "en_us": "en",
    "en-us": "en",
    "en_gb": "en",
}


class ReportLanguageError(UserError, ValueError):
    """A report was asked for in a language it is not written in."""


def report_language(lang: str | None) -> str:
    """Normalise ``lang`` to a report language code (``zh_CN`` or ``en``); Chinese by default."""
    if lang is None or lang == "":
        return "zh_CN"
    code = _ALIASES.get(str(lang).strip().lower())
    if code is None:
        raise ReportLanguageError(f"reports are written in {' and '.join(LANGUAGES)}, not '{lang}'")
    return code


@lru_cache(maxsize=8)
def _catalog(lang: str) -> dict[str, str]:
    path = TRANSLATIONS / LANGUAGES[lang] / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        catalog = read_po(fh)
    return {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
    }


def translator(lang: str) -> Callable[[str], str]:
    """Return ``gettext`` for the report language ``lang`` (the English text when untranslated)."""
    table = _catalog(report_language(lang))

    def gettext(message: str) -> str:
        return table.get(message) or message

    return gettext
