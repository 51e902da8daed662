"""Interface language (Flask-Babel): Chinese by default, English on request."""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, session

from .errors import Text
from .extensions import babel


def translate(message: str | Text) -> str:
    """A :class:`~surveyapp.errors.Text` in the interface language (English outside the app);
    a plain text (already translated where it was raised) as it is."""
    return message.translated() if isinstance(message, Text) else message


def select_locale() -> str:
    """Pick the interface language: the user's choice in the session, else Chinese.

    Only the language switcher (``POST /auth/language/<lang>``) changes it: a ``?lang=`` in a
    URL is the language of a download (a report, an export), never of the interface.
    """
    if not has_request_context():  # a command or a job: SURVEYAPP_LANGUAGE, else the default
        from .cli_text import language_setting

        return language_setting() or current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
