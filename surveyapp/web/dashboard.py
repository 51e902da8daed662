"""Managers' dashboard: fieldwork progress of a wave, refreshed in place by a small script
that polls a JSON endpoint (no full page reload)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template
from flask_login import current_user

from ..auth import roles_required
from ..fieldwork.dashboard import dashboard_data
from ..i18n import select_locale
from ..policy import may_manage_survey
from ..services.waves import all_waves
from .access import supervised_wave

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
#: How often the page asks for new figures (the app's DASHBOARD_POLL_SECONDS overrides it).
POLL_SECONDS = 15


@bp.route("/")
@roles_required("admin", "manager")
def index():
    """List the waves the user supervises, with links to their dashboards."""
    waves = [w for w in all_waves() if may_manage_survey(current_user, w.survey)]
    return render_template("dashboard/index.html", waves=waves)


@bp.route("/waves/<int:wave_id>")
@roles_required("admin", "manager")
def wave(wave_id: int):
    """Show the dashboard of a wave; its script fills and refreshes the figures."""
    found = supervised_wave(wave_id)
    poll = current_app.config.get("DASHBOARD_POLL_SECONDS", POLL_SECONDS)
    return render_template("dashboard/wave.html", wave=found, poll=poll)


@bp.route("/waves/<int:wave_id>/data.json")
@roles_required("admin", "manager")
def data(wave_id: int):
    """Send the dashboard figures of a wave as JSON."""
    response = jsonify(dashboard_data(supervised_wave(wave_id), select_locale()))
    response.headers["Cache-Control"] = "no-store"
    return response
