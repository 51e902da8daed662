"""Accounts: administrators create, change, disable and reset them (账号管理); everyone
changes their own password and sees and revokes their own API tokens."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, ValidationError

from .. import sessions
from ..auth import roles_required
from ..i18n import select_locale
from ..models import ROLES, User
from ..services import audit, localities, records
from ..services import users as accounts

bp = Blueprint("accounts", __name__)

ALL_ROLES = tuple(ROLES)

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "manager": _l("Survey manager"),
    "enumerator": _l("Enumerator"),
    "official": _l("Official"),
    "clerk": _l("Data clerk"),
}


def _refusal_of(check, *args) -> None:
    """Run the accounts service's ``check``; its refusal as the field's error, in its wording
    (the one the command line shows too), in the interface language."""
    try:
        check(*args)
    except accounts.AccountError as exc:
        raise ValidationError(exc.translated()) from exc


def _locality_choices() -> list[tuple[str, str]]:
    """Jurisdictions to choose from: districts, streets and communities, by code."""
    lang = select_locale()
    rows = localities.jurisdictions()
    return [SelectChoice("", _("(none)"))] + [
        SelectChoice(loc.code, f"{loc.code} {loc.name(lang)}") for loc in rows
    ]


class AccountForm(FlaskForm):
    display_name = StringField(_l("Displayed name"))
    # The choices are checked below, with messages of our own.
    role = SelectField(_l("Role"), choices=[], validate_choice=False)
    locality = SelectField(_l("Jurisdiction"), choices=[], validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locality.choices = _locality_choices()
        self.role.choices = [SelectChoice(r, ROLE_LABELS.get(r, r)) for r in ROLES]

    def validate_display_name(self, field) -> None:
        _refusal_of(accounts.check_display_name, field.data or "")

    def validate_role(self, field) -> None:
        _refusal_of(accounts.check_role, field.data)

    def validate_locality(self, field) -> None:
        if field.data and field.data not in {c.value for c in self.locality.choices}:
            raise ValidationError(accounts.unknown_locality(field.data).translated())
        _refusal_of(accounts.check_jurisdiction, self.role.data, field.data)


class NewAccountForm(AccountForm):
    username = StringField(_l("User name"))

    def validate_username(self, field) -> None:
        _refusal_of(accounts.check_username, field.data or "")


def _new_password_validator(username_of):
    def check(form, field) -> None:
        _refusal_of(accounts.check_password, field.data or "", username_of(form))

    return check


class PasswordForm(FlaskForm):
    current = PasswordField(
        _l("Current password"), validators=[DataRequired(message=_l("Enter your password."))]
    )
    new = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(message=_l("Enter a new password.")),
            _new_password_validator(lambda form: current_user.username),
        ],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[EqualTo("new", message=_l("The two new passwords differ."))],
    )


def _user_or_404(user_id: int) -> User:
    user = records.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _account_data(user: User) -> dict:
    return {
        "display_name": user.display_name,
        "role": user.role,
        "locality": user.locality.code if user.locality else "",
    }


def _form_page(template: str, status: int = 200, **context):
    return render_template(template, role_labels=ROLE_LABELS, **context), status


# ------------------------------------------------------------------------ administrators


@bp.route("/admin/users")
@roles_required("admin")
def users():
    """List every account with its role, jurisdiction and state."""
    return render_template(
        "accounts/list.html", users=accounts.list_users(), role_labels=ROLE_LABELS
    )


@bp.route("/admin/users/new", methods=["GET", "POST"])
@roles_required("admin")
def create():
    """Create an account with a temporary password, shown once."""
    form = NewAccountForm()
    if request.method == "POST":
        if not form.validate():
            return _form_page("accounts/new.html", 400, form=form)
        password = accounts.temporary_password()
        try:
            user = accounts.create_user(
                form.username.data,
                form.role.data,
                password,
                display_name=(form.display_name.data or "").strip(),
                locality_code=form.locality.data or None,
                temporary=True,
            )
        except accounts.AccountError as exc:
            records.discard_changes()
            return _form_page("accounts/new.html", 400, form=form, error=exc.translated())
        audit.record("user_created", user.username, role=user.role, commit=True)
        return render_template(
            "accounts/password_shown.html", user=user, password=password, created=True
        )
    return _form_page("accounts/new.html", form=form)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit(user_id: int):
    """Show an account, its API tokens and actions; change its role, jurisdiction, name."""
    user = _user_or_404(user_id)
    form = AccountForm(data=_account_data(user) if request.method == "GET" else None)
    page = {"user": user, "form": form, "tokens": accounts.tokens_of(user)}
    if request.method == "POST":
        if not form.validate():
            return _form_page("accounts/edit.html", 400, **page)
        before = {"role": user.role, "locality": user.locality.code if user.locality else None}
        try:
            accounts.update_user(
                user,
                role=form.role.data,
                display_name=form.display_name.data or "",
                locality_code=form.locality.data or None,
            )
        except accounts.AccountError as exc:
            records.discard_changes()
            return _form_page("accounts/edit.html", 400, error=exc.translated(), **page)
        audit.record("user_changed", user.username, before=before, role=user.role, commit=True)
        flash(_("The account “%(name)s” is saved.", name=user.username), "info")
        return redirect(url_for("accounts.edit", user_id=user.id))
    return _form_page("accounts/edit.html", **page)


def _refused(user: User, message: str):
    """The account's page again, with why the action was refused (400)."""
    records.discard_changes()
    return _form_page(
        "accounts/edit.html",
        400,
        user=user,
        form=AccountForm(data=_account_data(user)),
        tokens=accounts.tokens_of(user),
        error=message,
    )


@bp.route("/admin/users/<int:user_id>/disable", methods=["POST"])
@roles_required("admin")
def disable(user_id: int):
    """Disable an account: its sessions end, its API tokens stop working."""
    user = _user_or_404(user_id)
    if user.id == current_user.id:
        return _refused(user, _("You cannot do this to your own account here."))
    try:
        accounts.set_active(user, False)
    except accounts.AccountError as exc:
        return _refused(user, exc.translated())
    audit.record("user_disabled", user.username, commit=True)
    flash(_("The account “%(name)s” is disabled.", name=user.username), "info")
    return redirect(url_for("accounts.edit", user_id=user.id))


@bp.route("/admin/users/<int:user_id>/enable", methods=["POST"])
@roles_required("admin")
def enable(user_id: int):
    """Enable a disabled account (its old sessions stay ended)."""
    user = _user_or_404(user_id)
    accounts.set_active(user, True)
    audit.record("user_enabled", user.username, commit=True)
    flash(_("The account “%(name)s” is enabled.", name=user.username), "info")
    return redirect(url_for("accounts.edit", user_id=user.id))


@bp.route("/admin/users/<int:user_id>/reset-password", methods=["POST"])
@roles_required("admin")
def reset_password(user_id: int):
    """Give an account a temporary password, shown once, to be changed at the next login."""
    user = _user_or_404(user_id)
    if user.id == current_user.id:
        return _refused(user, _("You cannot do this to your own account here."))
    password = accounts.reset_password(user)
    audit.record("password_reset", user.username, commit=True)
    return render_template("accounts/password_shown.html", user=user, password=password)


@bp.route("/admin/users/<int:user_id>/revoke-sessions", methods=["POST"])
@roles_required("admin")
def revoke_sessions(user_id: int):
    """End every session of an account (it must log in again)."""
    user = _user_or_404(user_id)
    accounts.revoke_sessions(user)
    audit.record("sessions_revoked", user.username, commit=True)
    if user.id == current_user.id:
        return redirect(url_for("auth.login"))
    flash(_("Every session of “%(name)s” is ended.", name=user.username), "info")
    return redirect(url_for("accounts.edit", user_id=user.id))


@bp.route("/admin/users/<int:user_id>/tokens/<int:token_id>/revoke", methods=["POST"])
@roles_required("admin")
def revoke_user_token(user_id: int, token_id: int):
    """Revoke one API token of an account."""
    user = _user_or_404(user_id)
    try:
        accounts.revoke_token(user, token_id)
    except accounts.AccountError:
        abort(404)
    audit.record("token_revoked", user.username, token=token_id, commit=True)
    flash(_("The API token is revoked."), "info")
    return redirect(url_for("accounts.edit", user_id=user.id))


# ----------------------------------------------------------------------------- everyone


@bp.route("/account")
@roles_required(*ALL_ROLES)
def own():
    """Show one's own account and API tokens."""
    user = current_user._get_current_object()
    return render_template(
        "accounts/own.html", user=user, tokens=accounts.tokens_of(user), role_labels=ROLE_LABELS
    )


@bp.route("/account/password", methods=["GET", "POST"])
@roles_required(*ALL_ROLES)
def change_password():
    """Change one's own password (required after an administrator's reset)."""
    form = PasswordForm()
    if request.method == "POST":
        if not form.validate():
            return _form_page("accounts/password.html", 400, form=form)
        user = current_user._get_current_object()
        try:
            accounts.change_own_password(user, form.current.data, form.new.data)
        except accounts.AccountError as exc:
            records.discard_changes()
            return _form_page("accounts/password.html", 400, form=form, error=exc.translated())
        # Every other session has ended; this one goes on with the new generation.
        sessions.start(user)
        audit.record("password_changed", user.username, commit=True)
        flash(_("Your password is changed. Other devices must log in again."), "info")
        return redirect(url_for("index"))
    return _form_page("accounts/password.html", form=form)


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@roles_required(*ALL_ROLES)
def revoke_own_token(token_id: int):
    """Revoke one of one's own API tokens."""
    user = current_user._get_current_object()
    try:
        accounts.revoke_token(user, token_id)
    except accounts.AccountError:
        abort(404)
    audit.record("token_revoked", user.username, token=token_id, commit=True)
    flash(_("The API token is revoked."), "info")
    return redirect(url_for("accounts.own"))


#: What a user who must change their password may still open.
_OPEN_BEFORE_CHANGE = {"accounts.change_password", "auth.logout", "auth.set_language", "static"}


@bp.before_app_request
def require_password_change():
    """After an administrator's reset, the temporary password opens only the change page."""
    endpoint = request.endpoint  # (every request passes here: each proxy read once)
    if endpoint in _OPEN_BEFORE_CHANGE or endpoint is None:
        return None
    user = current_user._get_current_object()
    if not user.is_authenticated or not user.must_change_password:
        return None
    if request.path.startswith("/api/"):
        response = jsonify(
            {"error": 403, "message": "change your password first (/account/password)"}
        )
        response.status_code = 403
        return response
    return redirect(url_for("accounts.change_password"))
