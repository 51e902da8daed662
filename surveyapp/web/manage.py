"""Survey managers' pages: surveys, waves and responses per street.

Officials may open them too, read-only, and see only the streets of their jurisdiction
(:func:`surveyapp.policy.visible_streets`): a street's official never sees district totals.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user
from sqlalchemy import select

from .. import policy
from ..auth import roles_required
from ..extensions import db
from ..models import Survey, Wave
from ..services.surveys import counts_by_street, survey_overview

bp = Blueprint("manage", __name__, url_prefix="/manage")


@bp.route("/")
@roles_required("admin", "manager", "official")
def index():
    """List the surveys the user may see, with their waves and response counts."""
    visible = {}
    for survey in db.session.scalars(select(Survey).order_by(Survey.id)):
        view = policy.visible_streets(current_user, survey)
        if view:
            visible[survey.id] = None if view.whole else view.street_ids
    return render_template("manage/index.html", surveys=survey_overview(visible))


@bp.route("/waves/<int:wave_id>")
@roles_required("admin", "manager", "official")
def wave(wave_id: int):
    """Show a wave's completed interviews per street."""
    wave = db.session.get(Wave, wave_id)
    if wave is None:
        abort(404)
    view = policy.visible_streets(current_user, wave.survey)
    if not view or not policy.may_see_wave(current_user, wave):
        abort(403)
    counts = counts_by_street(wave)
    if not view.whole:
        counts = [(street, n) for street, n in counts if street.id in view.street_ids]
    return render_template("manage/wave.html", wave=wave, counts=counts)
