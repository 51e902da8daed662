"""Interface language (Flask-Babel): Chinese by default, English on request."""

from __future__ import annotations

from flask import Flask, current_app, g, has_request_context, session
from flask_babel import get_translations

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
    if not has_request_context():  # a command or a job: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _translations():
    """Flask-Babel's translations of the current locale, looked up once per request and locale.

    A template's ``_()`` asked Flask-Babel each time (the domain, the locale and the catalog,
    three look-ups through ``g``: about 7 µs, a hundred times on some pages). The catalog is kept
    beside Flask-Babel's own per-request state with the locale it was found for, so that
    ``force_locale`` and ``refresh`` (a new or no locale object) still take effect at once.
    """
    try:
        state = g._flask_babel
        cached = state.surveyapp_translations
        if cached[0] is state.babel_locale:
            return cached[1]
    except (AttributeError, RuntimeError):  # not looked up yet, or no application context
        pass
    translations = get_translations()
    state = g.get("_flask_babel") if g else None
    locale = getattr(state, "babel_locale", None)
    if locale is not None:
        state.surveyapp_translations = (locale, translations)
    return translations


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    # Flask-Babel's template functions, through the per-request catalog above.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )
