"""``surveyapp users odk NAME``: an enumerator's app password for ODK Collect and Enketo."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .cli_text import CliError, fail, say, translated
from .errors import N_

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
            raise CliError(translated(exc)) from exc
        say(
            N_("Revoked %(count)s app password(s) of '%(username)s'."),
            count=count,
            username=user.username,
        )
        return
    if output is not None and output.suffix.lower() != ".png":
        raise _usage(fail(N_("-o: the QR code is written as a .png file")))
    server = (url or current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    if not server:
        server = DEFAULT_URL
        say(
            N_(
                "warning: no --url and no SURVEYAPP_PUBLIC_URL: using %(url)s, which only this "
                "machine reaches"
            ),
            url=server,
            err=True,
        )
    if not server.startswith(("http://", "https://")):
        raise _usage(fail(N_("--url: the URL starts with http:// or https://")))
    try:
        password, user = issue_app_password(username)
    except CredentialError as exc:
        raise CliError(translated(exc)) from exc
    if output is not None:
        settings = collect_settings(server, user.username, password, "surveyapp")
        output.write_bytes(collect_settings_png(settings))
    if fmt == "json":
        click.echo(json.dumps({"url": server, "username": user.username, "password": password}))
    else:
        # "key: value" lines, keyed as ODK Collect's settings (scripts read them): not words
        for key, value in (("url", server), ("username", user.username), ("password", password)):
            click.echo(f"{key}: {value}")
    if output is not None:
        say(
            N_(
                "The previous app password no longer works; this one is not stored. QR code: "
                "%(file)s (ODK Collect: Add project → scan)."
            ),
            file=output,
            err=True,
        )
    else:
        say(N_("The previous app password no longer works; this one is not stored."), err=True)


def _usage(error: CliError) -> CliError:
    """A bad option: exit status 2, as click's own."""
    error.exit_code = 2
    return error
