"""Log in, log out, and switch the interface language."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
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
from sqlalchemy import select
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from .. import sessions
from ..extensions import db
from ..models import User
from ..services import audit
from ..services.users import revoke_sessions

# After this many failed logins in a row, the account is locked for LOCKOUT.
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)

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
        user = db.session.scalar(select(User).where(User.username == form.username.data))
        now = datetime.utcnow()
        if user is not None and user.locked_until and user.locked_until > now:
            audit.record("login_refused_locked", user.username, user=user, commit=True)
            minutes = int((user.locked_until - now).total_seconds() // 60) + 1
            flash(
                _(
                    "Too many failed logins: this account is locked for %(minutes)s more "
                    "minute(s).",
                    minutes=minutes,
                ),
                "error",
            )
            return render_template("auth/login.html", form=form), 429
        if user is None or not user.check_password(form.password.data) or not user.active:
            if user is not None:
                user.failed_logins += 1
                if user.failed_logins >= MAX_FAILED_LOGINS:
                    user.locked_until = now + LOCKOUT
                    user.failed_logins = 0
            audit.record(
                "login_failed",
                form.username.data or "",
                user=user,
                username=form.username.data or "",
                commit=True,
            )
            flash(_("Wrong user name or password."), "error")
            return render_template("auth/login.html", form=form), 401
        user.failed_logins = 0
        user.locked_until = None
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
