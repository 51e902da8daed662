"""Log in, log out, and switch the interface language."""

from __future__ import annotations

from math import ceil
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from .. import sessions
from ..services import audit
from ..services.login import authenticate
from ..services.users import revoke_sessions

bp = Blueprint("auth", __name__, url_prefix="/auth")


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    submit = SubmitField(_l("Log in"))


def _safe_next(target: str | None) -> str | None:
    # Only same-site paths: a crafted ?next=https://elsewhere must not redirect off site.
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form and log the user in."""
    form = LoginForm()
    if form.validate_on_submit():
        typed = form.username.data or ""
        result = authenticate(typed, form.password.data or "", request.remote_addr or "")
        if result.outcome == "throttled":
            audit.record("login_throttled", typed, username=typed, commit=True)
            minutes = ceil(result.retry_after / 60)
            flash(
                _(
                    "Too many failed logins: try again in %(minutes)s minute(s).",
                    minutes=minutes,
                ),
                "error",
            )
            response = make_response(render_template("auth/login.html", form=form), 429)
            response.headers["Retry-After"] = str(result.retry_after)
            return response
        if result.outcome == "disabled":
            audit.record("login_refused_disabled", typed, username=typed, commit=True)
            flash(_("This account is disabled: ask an administrator."), "error")
            return render_template("auth/login.html", form=form), 403
        if result.outcome != "ok":
            # The same answer for an unknown name and a wrong password.
            audit.record("login_failed", typed, username=typed, commit=True)
            flash(_("Wrong user name or password."), "error")
            return render_template("auth/login.html", form=form), 401
        user = result.user
        login_user(user)
        sessions.start(user)
        audit.record("login", user.username, user=user, commit=True)
        return redirect(_safe_next(request.args.get("next")) or url_for("index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    """Log the user out, here and on every other device."""
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        revoke_sessions(user, commit=False)
        audit.record("logout", user.username, user=user, commit=True)
    logout_user()
    sessions.end()
    return redirect(url_for("auth.login"))


@bp.route("/language/<lang>", methods=["POST"])
def set_language(lang: str):
    """Switch the interface language and go back to the page the user was on."""
    if lang not in current_app.config["LANGUAGES"]:
        return render_template("error.html", code=400, message=_("Unknown language.")), 400
    session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")) or url_for("index"))
