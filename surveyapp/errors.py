"""The base of every error that is the user's to fix: bad input, a refused operation.

A :class:`UserError` carries a message for people (already translated where it is raised, with
Flask-Babel's ``_()``), the HTTP status the web answers with and a short machine-readable
``code`` for the API. The domain errors of every area derive from it (``DesignError``,
``SubmissionError``, ``ReportError`` ...), so there is one place that turns them into an
answer for each interface:

- the web: :func:`surveyapp.web.user_error` (registered on the app) answers the error page,
  or JSON ``{"error": code, "message": ...}`` for the API and clients that accept JSON, with
  the error's status, after rolling the session back;
- the command line: :func:`surveyapp.commands.lazy_command` wraps every command so that a
  ``UserError`` prints ``Error: <message>`` and exits with status 1 (no traceback);
- background jobs: :mod:`surveyapp.services.jobs` stores the message as the job's failure.

Anything else is a fault of the program: a 500 page (logged), a traceback on the command line.
This module imports nothing (the pure cores derive their errors from it too). A message raised
outside a request (services, the pure cores) is a :class:`Text`: an English msgid marked with
:func:`N_` and its parameters, translated where it is shown (``Text.translated()``, called by
``UserError.translated()`` and :func:`surveyapp.i18n.translate`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["N_", "Text", "UserError", "Worded"]


def N_(text: str) -> str:  # noqa: N802 - Babel's marker for a msgid translated where it is shown
    """Mark ``text`` for the catalogs (pybabel extracts ``N_``) without translating it here."""
    return text


class Text:
    """A message not translated yet: an English msgid (``%(name)s`` placeholders) and its
    parameters. ``str()`` gives the English; the interface translates it at its boundary,
    so a pure core words its errors without importing Flask."""

    __slots__ = ("params", "template")

    def __init__(self, template: str, /, **params: Any):
        self.template = template
        self.params = params

    def __str__(self) -> str:
        return (
            self.template % {k: str(v) for k, v in self.params.items()}
            if self.params
            else self.template
        )

    def translated(self, gettext: Callable[[str], str] | None = None) -> str:
        """The text in the interface language, or through ``gettext`` (a report's language):
        called where it is shown (the web, a report), so Flask-Babel is imported only there;
        English outside the app."""
        if gettext is None:
            from flask_babel import gettext
        # a parameter may be a Text too (a word of the message): translated with it
        params = {
            k: v.translated(gettext)
            if isinstance(v, Text)
            else v.text.translated(gettext)
            if isinstance(v, Worded)
            else v
            for k, v in self.params.items()
        }
        wording = gettext(self.template)
        return wording % params if params else wording

    def __repr__(self) -> str:
        return f"Text({self.template!r}, **{self.params!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Text):
            return (self.template, self.params) == (other.template, other.params)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.template)


class Worded(str):
    """The English of a :class:`Text` as a ``str`` (for code that reads it as text), carrying
    the Text: as a parameter of another Text it is translated with it."""

    text: Text

    def __new__(cls, text: Text) -> Worded:
        worded = super().__new__(cls, str(text))
        worded.text = text
        return worded


class UserError(Exception):
    """An error the user can fix; ``message`` says what and where, ``status`` is the HTTP
    status to answer with (400 unless the class or the raise says otherwise), ``code`` a
    short name for machines (the class's, unless given)."""

    status: int = 400
    code: str = "bad_request"

    def __init__(
        self, message: str | Text = "", status: int | None = None, code: str | None = None
    ):
        super().__init__(str(message))
        #: The message to translate where it is shown, when it was raised as a :class:`Text`.
        self.text = message if isinstance(message, Text) else None
        if not isinstance(getattr(type(self), "message", None), property):
            self.message = str(message)  # a subclass may make it from a template and parameters
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message if self.message else super().__str__()

    def translated(self) -> str:
        """The message in the interface language. Most messages are translated where they are
        raised (``_()``); a subclass that keeps an English msgid and its parameters (e.g.
        ``SurveyOperationError``) translates it here, and so does a :class:`Text` message."""
        if self.text is not None:
            return self.text.translated()
        return str(self)
