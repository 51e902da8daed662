"""The managers' dashboard in a real browser: a new interview shows up without a page reload."""

from __future__ import annotations

import uuid as uuidlib

from playwright.sync_api import expect
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Locality, User, Wave
from surveyapp.services.responses import Submission, submit_response

from ..browser import log_in
from .test_offline_browser import context, pytestmark  # noqa: F401


def test_dashboard_updates_in_place(live_server, context, demo):  # noqa: F811
    demo.config["DASHBOARD_POLL_SECONDS"] = 0.5
    with demo.app_context():
        wave = db.session.scalar(select(Wave).where(Wave.code == "2026-Q4"))
        wave_id = wave.id
    page = context.new_page()
    log_in(page, live_server, "manager")
    page.goto(f"{live_server}/dashboard/waves/{wave_id}")
    page.wait_for_selector("#dashboard[data-loaded]")
    before = int(page.locator("#dash-completed").inner_text())
    page.evaluate("window.__marker = 'same page'")
    with demo.app_context():
        wave = db.session.get(Wave, wave_id)
        grid = db.session.scalar(select(Locality).where(Locality.code == "32010600100101"))
        enumerator = db.session.scalar(select(User).where(User.username == "enumerator"))
        submit_response(
            Submission(
                wave=wave,
                locality=grid,
                mode="door",
                language="zh_CN",
                uuid=str(uuidlib.uuid4()),
                enumerator=enumerator,
                answers={"resident_6m": "no", "age_16plus": "yes"},
            )
        )
    expect(page.locator("#dash-completed")).to_have_text(str(before + 1), timeout=15000)
    assert page.evaluate("window.__marker") == "same page"  # no reload happened
    assert page.locator("#dash-streets td[data-street='320106001']").count() == 1
    # Each community is shown with its street (the first cell of its row).
    community = page.locator("#dash-communities tr:has(td[data-community='320106001001'])")
    street_name = page.locator("#dash-streets tr:has(td[data-street='320106001']) td").first
    expect(community.locator("td").first).to_have_text(street_name.inner_text())
