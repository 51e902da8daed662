"""The enumerators' old addresses: ``/collect/`` and an assignment's start page.

Interviews run in the offline-first app (``/offline/``, ``static/js/offline.js``), which reaches
the server only through the sync API; these addresses (old links and bookmarks) lead there, or
to the telephone desk for a telephone assignment. There is no server-side interview form.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import roles_required
from ..models import Assignment
from ..services import records

bp = Blueprint("collect", __name__, url_prefix="/collect")


def _assignment_or_404(assignment_id: int) -> Assignment:
    assignment = records.get(Assignment, assignment_id)
    # Another enumerator's assignment is as invisible as a missing one.
    if assignment is None or assignment.enumerator_id != current_user.id:
        abort(404)
    return assignment


@bp.route("/")
@roles_required("enumerator")
def index():
    """The enumerator's home is the offline-first interview app, which opens without a network."""
    return redirect(url_for("offline.index"))


@bp.route("/assignments/<int:assignment_id>/start")
@roles_required("enumerator")
def start(assignment_id: int):
    """Interviews run in the offline-first app; a telephone assignment's start from the CATI
    desk, for a case. (Old links and bookmarks of this page lead there.)"""
    assignment = _assignment_or_404(assignment_id)
    if assignment.ended_at is not None:
        abort(403, description=_("This assignment has ended."))
    if assignment.mode == "phone":
        return redirect(url_for("cati.desk"))
    return redirect(url_for("offline.index"))
