"""The web's answers to errors: one handler for the errors the user can fix.

:func:`user_error` is registered on the app for :class:`surveyapp.errors.UserError` (and
called by the API's and OpenRosa's blueprint handlers): an HTML error page, or JSON for the
API and clients that accept JSON, with the error's own status.
"""

from __future__ import annotations

from flask import current_app, render_template, request

from ..errors import UserError
from ..services import records

__all__ = ["rollback", "user_error", "wants_json"]


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
