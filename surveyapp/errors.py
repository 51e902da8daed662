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
This module imports nothing (the pure cores derive their errors from it too).
"""

from __future__ import annotations

__all__ = ["UserError"]


class UserError(Exception):
    """An error the user can fix; ``message`` says what and where, ``status`` is the HTTP
    status to answer with (400 unless the class or the raise says otherwise), ``code`` a
    short name for machines (the class's, unless given)."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str = "", status: int | None = None, code: str | None = None):
        super().__init__(message)
        if not isinstance(getattr(type(self), "message", None), property):
            self.message = message  # a subclass may make it from a template and parameters
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message if self.message else super().__str__()

    def translated(self) -> str:
        """The message in the interface language. Most messages are translated where they are
        raised (``_()``); a subclass that keeps an English msgid and its parameters (e.g.
        ``SurveyOperationError``) translates it here."""
        return str(self)
