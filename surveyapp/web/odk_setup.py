"""The enumerator's page for ODK Collect: a new app password, shown once with its QR code."""

from __future__ import annotations

import base64

from flask import Blueprint, current_app, make_response, render_template, request
from flask_login import current_user

from ..auth import roles_required
from ..fieldwork import odk_credentials
from ..models.odk import OdkCredential

bp = Blueprint("odk_setup", __name__, url_prefix="/odk-collect")


def _server_url() -> str:
    return (current_app.config.get("PUBLIC_URL") or request.url_root).rstrip("/")


def _active() -> OdkCredential | None:
    return odk_credentials.credential_of(current_user)


@bp.get("/")
@roles_required("enumerator")
def index():
    """Show how to connect ODK Collect, and whether an app password is active."""
    return render_template(
        "odk/index.html", server_url=_server_url(), active=_active(), issued=None
    )


@bp.post("/")
@roles_required("enumerator")
def issue():
    """Issue a new app password (the previous one stops working) and show it once."""
    password, user = odk_credentials.issue_app_password(current_user.username)
    settings = odk_credentials.collect_settings(_server_url(), user.username, password, "surveyapp")
    qr = base64.b64encode(odk_credentials.collect_settings_png(settings, scale=5)).decode()
    response = make_response(
        render_template(
            "odk/index.html",
            server_url=_server_url(),
            active=_active(),
            issued={"username": user.username, "password": password, "qr": qr},
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response
