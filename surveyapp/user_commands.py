"""``surveyapp users list|disable|enable|set-password|revoke-sessions``: accounts on the
command line (``users create`` and ``users token`` are in cli.py)."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from .cli_text import CliError, say, text, translated
from .errors import N_


def _user(username: str):
    from .services.users import AccountError, find_user

    try:
        return find_user(username)
    except AccountError as exc:
        raise CliError(
            text(N_("%(message)s (surveyapp users list)"), message=translated(exc))
        ) from exc


def _fail(exc) -> click.ClickException:
    from .extensions import db

    db.session.rollback()
    return CliError(translated(exc))


@click.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@with_appcontext
def users_list(fmt: str) -> None:
    """List the accounts: role, jurisdiction, state, valid API tokens."""
    from .services.users import describe, list_users

    rows = [describe(u) for u in list_users()]
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        state = text(
            N_("disabled")
            if not r["active"]
            else N_("must change password")
            if r["must_change_password"]
            else N_("enabled")
        )
        tokens = text(N_("%(count)s token(s)"), count=r["api_tokens"])
        click.echo(
            f"{r['id']:>4}  {r['username']:<20} {r['role']:<10} {r['locality'] or '-':<12} "
            f"{state:<20} {tokens}  {r['display_name']}"
        )


@click.command("disable")
@click.argument("username")
@with_appcontext
def users_disable(username: str) -> None:
    """Disable an account: its sessions end and its API tokens stop working."""
    from .services import audit
    from .services.users import AccountError, set_active

    user = _user(username)
    try:
        set_active(user, False)
    except AccountError as exc:
        raise _fail(exc) from exc
    audit.record("user_disabled", user.username, via="cli", commit=True)
    say(N_("Disabled '%(username)s'; their sessions have ended."), username=user.username)


@click.command("enable")
@click.argument("username")
@with_appcontext
def users_enable(username: str) -> None:
    """Enable a disabled account."""
    from .services import audit
    from .services.users import set_active

    user = _user(username)
    set_active(user, True)
    audit.record("user_enabled", user.username, via="cli", commit=True)
    say(N_("Enabled '%(username)s'."), username=user.username)


@click.command("set-password")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--temporary", is_flag=True, help="The user must change it at the next login.")
@with_appcontext
def users_set_password(username: str, password: str, temporary: bool) -> None:
    """Set an account's password; every session of the account ends."""
    from .services import audit
    from .services.users import AccountError, set_password

    user = _user(username)
    try:
        set_password(user, password, temporary=temporary)
    except AccountError as exc:
        raise _fail(exc) from exc
    audit.record("password_set", user.username, via="cli", temporary=temporary, commit=True)
    say(
        N_(
            "Password of '%(username)s' set (to be changed at the next login); their sessions "
            "have ended."
        )
        if temporary
        else N_("Password of '%(username)s' set; their sessions have ended."),
        username=user.username,
    )


@click.command("revoke-sessions")
@click.argument("username")
@with_appcontext
def users_revoke_sessions(username: str) -> None:
    """End every login session of an account (API tokens are not affected)."""
    from .services import audit
    from .services.users import revoke_sessions

    user = _user(username)
    revoke_sessions(user)
    audit.record("sessions_revoked", user.username, via="cli", commit=True)
    say(N_("Every session of '%(username)s' has ended."), username=user.username)


COMMANDS = (users_list, users_disable, users_enable, users_set_password, users_revoke_sessions)


def add_user_commands(group: click.Group) -> None:
    """Attach these commands to the ``users`` group."""
    for command in COMMANDS:
        group.add_command(command)
