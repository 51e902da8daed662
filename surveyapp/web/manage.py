"""Survey managers' pages: surveys, waves and responses per street."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from ..auth import may_see_survey, roles_required
from ..extensions import db
from ..models import Survey, Wave
from ..services.surveys import counts_by_street, survey_overview

bp = Blueprint("manage", __name__, url_prefix="/manage")


@bp.route("/")
@roles_required("admin", "manager", "official")
def index():
    """List the surveys the user may see, with their waves and response counts."""
    surveys = [
        s
        for s in survey_overview()
        if may_see_survey(current_user, db.session.get(Survey, s["id"]))
    ]
    return render_template("manage/index.html", surveys=surveys)


@bp.route("/waves/<int:wave_id>")
@roles_required("admin", "manager", "official")
def wave(wave_id: int):
    """Show a wave's completed interviews per street."""
    wave = db.session.get(Wave, wave_id)
    if wave is None:
        abort(404)
    if not may_see_survey(current_user, wave.survey):
        abort(403)
    counts = counts_by_street(wave)
    if current_user.role == "official":
        jurisdiction = current_user.locality
        counts = [
            (street, n)
            for street, n in counts
            if street.is_within(jurisdiction) or jurisdiction.is_within(street)
        ]
    return render_template("manage/wave.html", wave=wave, counts=counts)
