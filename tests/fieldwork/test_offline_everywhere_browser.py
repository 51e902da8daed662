"""Issue 16: an enumerator loses the network on every page they use and loses nothing.

A real browser (Playwright + Debian's chromium, tablet) goes offline on each page of a
door-to-door interview in turn, reloads and closes the tab in the middle of it, and on the
telephone desk records a call outcome and a telephone interview during an outage; after the
network returns, exactly what was entered is stored (rows counted in the database).

An outage is cut at both ends (:class:`Outage`): the browser is offline (Playwright's
``set_offline``) and the server answers no request either, so nothing the browser sends
anyway (a service worker's update check) reaches it while the network is "down".
"""

from __future__ import annotations

import time

from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.fieldwork import cati
from surveyapp.models import Response, User, Wave
from surveyapp.models.fieldwork import CallAttempt, CatiCase

from ..browser import log_in
from .test_offline_browser import answer_visible, context, pytestmark  # noqa: F401

PHONES = ("13900002001", "13900002002", "13900002003")
PLAN = {
    "resident_6m": "yes",
    "age_16plus": "yes",
    "security_overall": "2",
    "had_dispute": "no",
    "reported_problem": "no",
    "antigang_aware": "no",
    "sex": "f",
    "age_group": "35_44",
    "years_here": "12",
}


class Outage:
    """The network between the tablet and the server, cut and restored at both ends."""

    def __init__(self, app, browser_context):
        self.browser_context = browser_context
        self.down = False
        inner = app.wsgi_app

        def serve(environ, start_response):
            if self.down:
                start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
                return [b"network down"]
            return inner(environ, start_response)

        app.wsgi_app = serve

    def set(self, down: bool) -> None:
        self.down = down
        self.browser_context.set_offline(down)


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def mine(app) -> list[Response]:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "enumerator"))
        rows = db.session.scalars(select(Response).where(Response.enumerator_id == user.id)).all()
        return [(r.mode, r.answer_dict()) for r in rows]


def wait_until(check, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting for the server to store what was entered")


def login_and_install(page, live_server) -> None:
    log_in(page, live_server)
    # After login the enumerator is on the offline-first app, not a server-rendered form.
    page.wait_for_selector("#offline-app[data-ready='1']")
    assert page.url.endswith("/offline/")
    screen_top = page.locator("#screen").bounding_box()["y"]
    # The app says when it is on the device; from then on it opens without a network.
    page.wait_for_selector("#offline-app[data-offline-ready='1']", timeout=20000)
    assert page.locator("#offline-ready").is_visible()
    # ... without moving the screen under the enumerator's finger (its line was kept).
    assert page.locator("#screen").bounding_box()["y"] == screen_top


def test_door_interview_survives_an_outage_on_every_page_a_reload_and_a_closed_tab(
    live_server,
    context,  # noqa: F811
    demo,
):
    network = Outage(demo, context)
    page = context.new_page()
    login_and_install(page, live_server)
    assert mine(demo) == []
    # The old home opens the app too, even offline.
    network.set(True)
    page.goto(live_server + "/collect/")
    page.wait_for_selector("#offline-app[data-ready='1']")
    # So do the supervisor decisions: the copy saved when the app was installed, marked so.
    page.goto(live_server + "/review/mine")
    assert "离线" in page.locator("#offline-copy").inner_text()
    assert page.locator("#my-reviews").is_visible()
    page.goto(live_server + "/offline/")
    page.wait_for_selector("#offline-app[data-ready='1']")
    network.set(False)

    page.click(".start-interview >> nth=0")
    page.click("#start-form button[type=submit]")
    page.wait_for_selector("#interview")
    pages = 0
    for _ in range(30):
        if page.locator("#save-interview").count():
            break
        pages += 1
        title = page.locator("#interview h1").inner_text()
        network.set(True)  # the network drops on this page
        answer_visible(page, PLAN)
        if pages == 2:
            # Reloaded offline in the middle of a page: the draft is still there.
            page.reload()
            page.wait_for_selector("#offline-app[data-ready='1']")
            page.click("#resume-draft")
            assert page.locator("#interview h1").inner_text() == title
            answer_visible(page, PLAN)
        page.click("#screen button[value=next]")
        page.wait_for_selector("#interview, #save-interview")
        assert page.locator("#waiting-count").inner_text() == "0"
        network.set(False)
        if pages == 3:
            # The tab is closed and opened again: the draft survives that too.
            page.close()
            page = context.new_page()
            page.goto(live_server + "/offline/")
            page.wait_for_selector("#offline-app[data-ready='1']")
            page.click("#resume-draft")
            page.wait_for_selector("#interview, #save-interview")
    assert pages >= 4
    assert mine(demo) == []  # nothing left the device yet
    network.set(True)
    page.click("#save-interview")
    page.wait_for_selector("#waiting-count[data-count='1']")
    assert "离线" in page.locator("#net-state").inner_text()
    assert mine(demo) == []
    network.set(False)
    page.wait_for_selector("#waiting-count[data-count='0']", timeout=20000)
    stored = mine(demo)
    assert len(stored) == 1
    mode, answers = stored[0]
    assert mode == "door"
    assert answers["security_overall"] == "2" and answers["years_here"] == 12
    assert answers["sex"] == "f" and answers["age_group"] == "35_44"


def test_telephone_desk_and_its_questionnaire_work_through_an_outage(live_server, context, demo):  # noqa: F811
    demo.config["FIELDWORK"] = {"calling_hours": "00:00-24:00", "verification_hotline": "110-12345"}
    with demo.app_context():
        wave = db.session.scalar(select(Wave).where(Wave.code == "2026-Q4"))
        rows = "".join(f"{p},320106001\n" for p in PHONES)
        assert cati.import_call_list(wave, "phone,locality\n" + rows).created == 3
    network = Outage(demo, context)
    page = context.new_page()
    login_and_install(page, live_server)
    page.click("text=电话访问")
    page.wait_for_selector("#page-status[data-ready='1']")

    # Call 1: no answer, recorded while the network is down.
    page.click("#next-case")
    first = int(page.locator("#case").get_attribute("data-case"))
    network.set(True)
    page.reload()  # the desk opens offline: the saved copy, marked as such
    assert page.locator("#offline-copy").is_visible()
    assert "离线" in page.locator("#offline-copy").inner_text()
    page.select_option("#outcome", "no_answer")
    page.click("#outcome-form button[type=submit]")
    page.wait_for_selector("#waiting-outcomes[data-count='1']")
    assert page.locator("#outcome-form").is_hidden()
    assert count(demo, CallAttempt) == 0
    network.set(False)
    page.wait_for_selector("#next-case", timeout=20000)  # sent, and the fresh desk shown
    assert count(demo, CallAttempt) == 1
    with demo.app_context():
        attempt = db.session.scalar(select(CallAttempt))
        assert attempt.case_id == first and attempt.code == "3.13"

    # Taking the next number needs the server: offline, the desk says so instead of failing.
    network.set(True)
    page.click("#next-case")
    assert "联网" in page.locator("#page-note").inner_text()
    assert page.url.endswith("/cati/")
    network.set(False)

    # Call 2: the respondent agrees; the network drops on every page of the questionnaire.
    page.click("#next-case")
    second = int(page.locator("#case").get_attribute("data-case"))
    assert second != first
    network.set(True)
    page.click("#start-cati-interview")
    page.wait_for_selector("#start-form")
    page.click("#start-form button[type=submit]")
    page.wait_for_selector("#interview")
    for _ in range(30):
        if page.locator("#save-interview").count():
            break
        network.set(True)
        answer_visible(page, PLAN)
        page.click("#screen button[value=next]")
        page.wait_for_selector("#interview, #save-interview")
        network.set(False)
    network.set(True)
    page.click("#save-interview")
    # Back on the desk (its saved copy): the case's interview waits on the device.
    page.wait_for_url("**/cati/", timeout=20000)
    page.wait_for_selector("#waiting-interviews[data-count='1']")
    assert page.locator("#held-note").is_visible()
    assert page.locator("#outcome-form").is_hidden()
    assert mine(demo) == []
    network.set(False)
    wait_until(lambda: len(mine(demo)) == 1)
    assert mine(demo)[0][0] == "phone"
    with demo.app_context():
        case = db.session.get(CatiCase, second)
        assert case.status == "closed" and case.final_code == "1.1"
    # The interview closed the case with its own attempt (1.1); nothing else was added.
    with demo.app_context():
        codes = sorted((a.case_id, a.code) for a in db.session.scalars(select(CallAttempt)))
    assert codes == [(first, "3.13"), (second, "1.1")]
    assert len(mine(demo)) == 1
    # The desk, fresh again, offers the next number.
    page.wait_for_selector("#next-case", timeout=20000)


def test_a_saved_page_reloads_only_when_the_server_answers_and_never_over_a_navigation(
    live_server,
    context,  # noqa: F811
    demo,
):
    """The supervisor decisions, opened offline, are the saved copy; it reloads itself when the
    server answers again, not on the browser's "online" alone (a Wi-Fi without internet), and
    never in place of the page the enumerator is going to."""
    network = Outage(demo, context)
    page = context.new_page()
    login_and_install(page, live_server)
    network.set(True)
    page.goto(live_server + "/review/mine")
    page.wait_for_selector("#offline-copy")
    page.evaluate("window.stayed = true")
    # The tablet is on a network again, but the server is still out of reach.
    context.set_offline(False)
    page.wait_for_timeout(1500)
    assert page.evaluate("window.stayed === true")
    assert page.locator("#offline-copy").is_visible()
    # The enumerator leaves for the interview app as the browser says "online" again.
    page.evaluate("location.href = '/offline/'; window.dispatchEvent(new Event('online'))")
    page.wait_for_selector("#offline-app[data-ready='1']")
    assert page.url.endswith("/offline/")
    # Back on the saved copy, the server returns: the page becomes the fresh one by itself.
    network.set(True)
    page.goto(live_server + "/review/mine")
    page.wait_for_selector("#offline-copy")
    network.set(False)
    page.wait_for_selector("#offline-copy", state="detached", timeout=15000)
    page.wait_for_selector("#page-status[data-ready='1']")
    assert page.locator("#my-reviews").is_visible()
