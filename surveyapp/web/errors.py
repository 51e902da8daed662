"""The web's answers to errors: one handler for the errors the user can fix.

:func:`user_error` is registered on the app for :class:`surveyapp.errors.UserError` (and
called by the API's and OpenRosa's blueprint handlers): an HTML error page, or JSON for the
API and clients that accept JSON, with the error's own status.
"""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from ..errors import UserError
from ..services import records

__all__ = ["http_message", "rollback", "user_error", "wants_json"]

#: What each HTTP error means to a user, in the interface's language. Werkzeug's own
#: descriptions are English sentences; a view that explains its error itself
#: (``abort(404, description=_("..."))``) keeps its own words.
HTTP_MESSAGES = {
    400: _l("The request cannot be processed: check what you entered and try again."),
    401: _l("Please log in first."),
    403: _l("You are not allowed to open this page."),
    404: _l("There is no such page. Check the address, or go back to the start page."),
    405: _l("This page cannot be used in that way (the request method is not allowed)."),
    408: _l("The request took too long. Try again."),
    409: _l("The request conflicts with the data as it is now. Reload the page and try again."),
    410: _l("This page no longer exists."),
    415: _l("The file or data sent is not of a kind this page accepts."),
    422: _l("The data sent cannot be processed: check what you entered."),
    429: _l("Too many requests. Wait a moment and try again."),
    500: _l("Something went wrong on the server. The error was logged."),
    501: _l("This is not supported."),
    502: _l("The server is not reachable at the moment. Try again shortly."),
    503: _l("The server is busy or under maintenance. Try again shortly."),
    504: _l("The server did not answer in time. Try again shortly."),
}

#: The message of a refused form whose security token is missing or expired (CSRF).
EXPIRED_FORM = _l(
    "The form has expired or lost its security token. Reload the page and send it again."
)


def http_message(error: HTTPException) -> str:
    """The user's words for an HTTP error: the view's own description if it gave one, else the
    translated meaning of its status (never Werkzeug's English default)."""
    if error.description and error.description != type(error).description:
        return str(error.description)
    return str(HTTP_MESSAGES.get(error.code or 500, HTTP_MESSAGES[400]))


def wants_json() -> bool:
    """Whether the client reads JSON: the API (``/api/``), or a request that accepts JSON
    rather than HTML."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def user_error(error: UserError):
    """The web's one answer to an error the user can fix (:class:`surveyapp.errors.UserError`)
    that no view answered itself: the session rolled back, then the error page, or JSON
    ``{"error": status, "code": ..., "message": ...}`` for the API and JSON clients, with the
    error's status (400 unless it says otherwise)."""
    rollback()
    message = error.translated()
    if wants_json():
        return {"error": error.status, "code": error.code, "message": message}, error.status
    return render_template("error.html", code=error.status, message=message), error.status


def rollback() -> None:
    """Roll the session back before an error page: the failed statement may have left it
    unusable, and the page (current_user, the menu) queries through it."""
    try:
        records.discard_changes()
    except Exception:  # noqa: BLE001 - an error page must render even if this fails
        current_app.logger.exception("rollback before an error page failed")
