"""``surveyapp users odk NAME``: an enumerator's app password for ODK Collect and Enketo."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

DEFAULT_URL = "http://127.0.0.1:5000"


@click.command("odk")
@click.argument("username")
@click.option(
    "--url",
    default=None,
    help="The server address tablets reach (default: SURVEYAPP_PUBLIC_URL).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write ODK Collect's settings QR code to this PNG file.",
)
@click.option("--revoke", is_flag=True, help="Only revoke the app password; issue none.")
@with_appcontext
def users_odk(username: str, url: str | None, fmt: str, output: Path | None, revoke: bool) -> None:
    """Print the server URL, user name and a new app password for ODK Collect.

    The previous app password of the enumerator stops working. The password is not stored
    and cannot be shown again.
    """
    from .fieldwork.odk_credentials import (
        CredentialError,
        collect_settings,
        collect_settings_png,
        issue_app_password,
    )
    from .fieldwork.odk_credentials import revoke as revoke_passwords

    if revoke:
        try:
            count, user = revoke_passwords(username)
        except CredentialError as exc:
            raise click.ClickException(exc.translated()) from exc
        click.echo(f"Revoked {count} app password(s) of '{user.username}'.")
        return
    if output is not None and output.suffix.lower() != ".png":
        raise click.BadParameter("the QR code is written as a .png file", param_hint="-o")
    server = (url or current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    if not server:
        server = DEFAULT_URL
        click.echo(
            f"warning: no --url and no SURVEYAPP_PUBLIC_URL: using {server}, which only this "
            "machine reaches",
            err=True,
        )
    if not server.startswith(("http://", "https://")):
        raise click.BadParameter("the URL starts with http:// or https://", param_hint="--url")
    try:
        password, user = issue_app_password(username)
    except CredentialError as exc:
        raise click.ClickException(exc.translated()) from exc
    if output is not None:
        settings = collect_settings(server, user.username, password, "surveyapp")
        output.write_bytes(collect_settings_png(settings))
    if fmt == "json":
        click.echo(json.dumps({"url": server, "username": user.username, "password": password}))
    else:
        click.echo(f"url: {server}")
        click.echo(f"username: {user.username}")
        click.echo(f"password: {password}")
    note = "The previous app password no longer works; this one is not stored."
    if output is not None:
        note += f" QR code: {output} (ODK Collect: Add project → scan)."
    click.echo(note, err=True)
