"""What the real-browser tests share: Debian's chromium, its launch flags and the marks."""

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
