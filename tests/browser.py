"""What the real-browser tests share: Debian's chromium, its launch flags and the marks; the
steps every page test takes first (logging in, opening the offline app)."""

from __future__ import annotations

import os

import pytest

CHROMIUM = "/usr/bin/chromium"
# Machines reach only the package registries: no downloaded browser, no background traffic.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
        reason="Debian's chromium is not installed (make test installs it)",
    ),
]


def log_in(
    page, live_server: str, username: str = "enumerator", password: str | None = None
) -> None:
    """Open the server's first page and log in through its form (with the demo user's
    password unless another is given)."""
    from surveyapp.services.demo import DEMO_USERS

    if password is None:
        password = next(p for name, _role, p, *_ in DEMO_USERS if name == username)
    page.goto(live_server + "/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit].primary")


def open_offline_app(page, live_server: str) -> None:
    """Log the demo enumerator in and open the offline app (离线访问), ready."""
    log_in(page, live_server)
    page.click("text=离线访问")
    page.wait_for_selector("#offline-app[data-ready='1']")


def start_offline_interview(page, live_server: str) -> None:
    """Open the offline app and start an interview of the first assignment."""
    open_offline_app(page, live_server)
    page.click(".start-interview >> nth=0")
    page.click("#start-form button[type=submit]")
