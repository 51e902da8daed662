"""The language of the command line: what the ``surveyapp`` commands print, through Babel.

The commands speak the interface's language: Chinese by default, as the web; English when
``SURVEYAPP_LANGUAGE=en`` (``zh_CN``/``zh`` for Chinese) is set in the operator's environment.
``LANG`` is not read: a server's shell often says ``en_US.UTF-8`` or ``C.UTF-8`` for other
reasons, and the district operators read Chinese.

This module imports neither Flask nor the database: ``questionnaire validate`` and
``estimate --data`` run without the web application. It reads the compiled catalogs
(``surveyapp/translations/*/LC_MESSAGES/messages.mo``, the ones Flask-Babel reads), or the
``.po`` files when they are not compiled. A message is an English msgid marked with
:func:`~surveyapp.errors.N_` and its parameters (a :class:`~surveyapp.errors.Text`), so
``pybabel extract`` finds it and file names, rows and question names stay as given.
"""

from __future__ import annotations

import gettext as stdlib_gettext
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import click

from .errors import N_, Text, UserError, Worded

__all__ = [
    "ENV",
    "CliError",
    "cli_gettext",
    "cli_language",
    "fail",
    "language_setting",
    "say",
    "text",
    "translated",
]

#: The environment variable that chooses the language of the command line.
ENV = "SURVEYAPP_LANGUAGE"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
#: The command line's languages and the catalog directory of each.
CATALOGS = {"zh_CN": "zh_Hans_CN", "en": "en"}
_ALIASES = {
    "zh": "zh_CN",
    "zh_cn": "zh_CN",
    "zh_hans": "zh_CN",
    "zh_hans_cn": "zh_CN",
    "chinese": "zh_CN",
    "en": "en",
    "en_us": "en",
    "en_gb": "en",
    "english": "en",
}
_warned: set[str] = set()


def cli_language() -> str:
    """``zh_CN`` or ``en``: ``SURVEYAPP_LANGUAGE`` (``zh_CN`` when unset); a value that is
    neither is named on standard error (once) and Chinese is used."""
    return language_setting() or "zh_CN"


def language_setting() -> str | None:
    """The language ``SURVEYAPP_LANGUAGE`` asks for (``zh_CN`` or ``en``), None when unset."""
    value = os.environ.get(ENV, "").strip()
    if not value:
        return None
    code = _ALIASES.get(value.split(".")[0].replace("-", "_").lower())
    if code is None:
        if value not in _warned:
            _warned.add(value)
            click.echo(
                f"{ENV}={value}: 不是命令行的语言（zh_CN 或 en），使用中文。"
                f" / not a language of the command line (zh_CN or en): Chinese is used.",
                err=True,
            )
        return "zh_CN"
    return code


@lru_cache(maxsize=4)
def _translator(lang: str) -> Callable[[str], str]:
    directory = CATALOGS[lang]
    try:
        catalog = stdlib_gettext.translation("messages", str(TRANSLATIONS), languages=[directory])
        return catalog.gettext
    except OSError:  # not compiled (a checkout without `make translations`): read the .po
        from .reports.wording import translator

        return translator(lang)


def cli_gettext(message: str) -> str:
    """``message`` (an English msgid) in the command line's language."""
    return _translator(cli_language())(message)


def text(template: str, /, **params: Any) -> str:
    """``Text(template, **params)`` in the command line's language."""
    return Text(template, **params).translated(cli_gettext)


def translated(message: str | Text | UserError) -> str:
    """A message in the command line's language: a :class:`Text` (or the English of one), a
    :class:`UserError` (its Text, else its message as it was worded where it was raised)."""
    if isinstance(message, UserError):
        if message.text is not None:
            return message.text.translated(cli_gettext)
        template, params = getattr(message, "template", None), getattr(message, "params", None)
        if isinstance(template, str) and isinstance(params, dict):  # an msgid and its parameters
            return Text(template, **params).translated(cli_gettext)
        return message.translated()
    if isinstance(message, Text):
        return message.translated(cli_gettext)
    if isinstance(message, Worded):
        return message.text.translated(cli_gettext)
    return message


def say(template: str, /, *, err: bool = False, **params: Any) -> None:
    """Print ``Text(template, **params)`` in the command line's language (a line)."""
    click.echo(text(template, **params), err=err)


class CliError(click.ClickException):
    """A refusal worded in the command line's language, printed ``错误：…`` (``Error: …``)
    on standard error with exit status 1."""

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(text(N_("Error: %(message)s"), message=self.format_message()), err=True)


def fail(template: str, /, **params: Any) -> CliError:
    """The refusal ``Text(template, **params)`` in the command line's language, to raise."""
    return CliError(text(template, **params))
