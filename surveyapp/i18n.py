"""Interface language (Flask-Babel): Chinese by default, English on request."""

from __future__ import annotations

from flask import Flask, current_app, request, session

from .extensions import babel


def select_locale() -> str:
    """Pick the interface language: the user's choice in the session, else Chinese."""
    languages = current_app.config["LANGUAGES"]
    lang = request.args.get("lang") if request else None
    if lang in languages:
        session["lang"] = lang
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
