"""A real browser (Playwright + Debian's chromium) interviews offline: two interviews are done
without a network, kept on the device, and sent exactly once when the network is back."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Response, User
from surveyapp.models.fieldwork import ResponseParadata

from ..browser import MARKS, open_offline_app

pytestmark = MARKS


@pytest.fixture
def context(browser):
    """A tablet: portrait, touch, Chinese."""
    context = browser.new_context(
        viewport={"width": 768, "height": 1024}, has_touch=True, locale="zh-CN"
    )
    yield context
    context.close()


def enumerator_responses(app) -> list[dict]:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "enumerator"))
        rows = db.session.scalars(select(Response).where(Response.enumerator_id == user.id)).all()
        return [
            {
                "id": r.id,
                "uuid": r.uuid,
                "answers": r.answer_dict(),
                "mode": r.mode,
                "street": r.street.code,
            }
            for r in rows
        ]


def choose(page, qid: str, code: str) -> None:
    page.locator(f'#screen input[name="{qid}"][value="{code}"]').check()


def answer_visible(page, plan: dict) -> None:
    """Answer what the group shows: from ``plan``, else the first choice (or 5)."""
    for fs in page.locator("#screen fieldset[data-question]:visible").all():
        qid = fs.get_attribute("data-question")
        kind = fs.get_attribute("data-type")
        if qid in plan:
            value = plan[qid]
            if kind in ("single", "yesno"):
                choose(page, qid, value)
            elif kind == "multiple":
                for code in value:
                    page.locator(f'#screen input[name="{qid}"][value="{code}"]').check()
            else:
                fs.locator("input, textarea").first.fill(str(value))
        elif kind in ("single", "yesno", "multiple"):
            if not fs.locator("input:checked").count():
                fs.locator("input").first.check()
        elif kind == "integer":
            fs.locator("input").first.fill("5")


def start_interview(page) -> None:
    page.click(".start-interview >> nth=0")
    page.click("#start-form button[type=submit]")
    page.wait_for_selector("#interview")


def test_two_interviews_offline_are_sent_once_back_online(live_server, context, demo, tmp_path):
    from flask import request

    assignment_answers = []

    @demo.after_request
    def record(response):
        if request.path == "/api/v1/assignments":
            assignment_answers.append(response.status_code)
        return response

    page = context.new_page()
    open_offline_app(page, live_server)
    # The service worker is installed and controls the page (so the app opens offline).
    page.wait_for_function("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=15000)
    page.wait_for_selector("#offline-app[data-ready='1']")
    assert enumerator_responses(demo) == []
    # Loaded again, the same assignment list is revalidated (its ETag): a 304, and the app
    # shows it from the browser's copy.
    assert assignment_answers[0] == 200 and 304 in assignment_answers
    assert page.locator(".start-interview").count() >= 1

    context.set_offline(True)
    # Offline, the page itself comes from the service worker's cache.
    page.reload()
    page.wait_for_selector("#offline-app[data-ready='1']")
    assert page.locator(".start-interview").count() >= 1
    assert "离线" in page.locator("#net-state").inner_text()

    # 1: a respondent screened out (not resident for six months).
    start_interview(page)
    choose(page, "resident_6m", "no")
    choose(page, "age_16plus", "yes")
    page.click("#screen button[value=next]")
    page.wait_for_selector("#save-interview")
    page.click("#save-interview")
    page.wait_for_selector("#waiting-count[data-count='1']")

    # 2: a whole interview, with skip logic following the answers in the browser.
    start_interview(page)
    plan = {
        "resident_6m": "yes",
        "age_16plus": "yes",
        "security_overall": "2",
        "had_dispute": "yes",
        "dispute_mediated": "yes",
        "dispute_resolved": "1",
        "reported_problem": "no",
        "antigang_aware": "no",
        "sex": "m",
        "age_group": "45_54",
        "years_here": "20",
    }
    saw_live_skip = False
    for _ in range(30):
        if page.locator("#save-interview").count():
            break
        if not saw_live_skip and page.locator("#q-had_dispute").count():
            assert page.locator("#q-dispute_mediated").is_hidden()
            choose(page, "had_dispute", "yes")
            assert page.locator("#q-dispute_mediated").is_visible()
            choose(page, "dispute_mediated", "yes")
            assert page.locator("#q-dispute_resolved").is_visible()
            choose(page, "dispute_mediated", "no")
            assert page.locator("#q-dispute_resolved").is_hidden()
            choose(page, "dispute_mediated", "yes")
            saw_live_skip = True
        answer_visible(page, plan)
        page.click("#screen button[value=next]")
    assert saw_live_skip
    # A required question left empty is caught on the device already.
    assert page.locator('[data-answer="dispute_resolved"]').count() == 1
    assert page.locator('[data-answer="problem_solved"]').count() == 0
    page.screenshot(path=str(tmp_path / "offline-review.png"), full_page=True)
    page.click("#save-interview")
    page.wait_for_selector("#waiting-count[data-count='2']")
    assert enumerator_responses(demo) == []  # nothing reached the server

    context.set_offline(False)
    page.wait_for_selector("#waiting-count[data-count='0']", timeout=20000)
    stored = enumerator_responses(demo)
    assert len(stored) == 2
    assert len({r["uuid"] for r in stored}) == 2
    full = next(r for r in stored if r["answers"].get("resident_6m") == "yes")
    answers = full["answers"]
    assert answers["dispute_resolved"] == "1" and answers["years_here"] == 20
    assert "problem_solved" not in answers
    assert full["mode"] == "door" and full["street"] == "320106001"
    with demo.app_context():
        paradata = db.session.scalar(
            select(ResponseParadata).where(ResponseParadata.response_id == full["id"])
        )
        assert paradata is not None and "screening" in paradata.group_seconds
        assert paradata.device
    # Pressing the button again sends nothing twice.
    page.click("#sync-now")
    page.wait_for_timeout(500)
    assert len(enumerator_responses(demo)) == 2


def test_interview_sent_back_is_corrected_on_the_device(live_server, context, demo):
    import uuid as uuidlib

    from surveyapp.fieldwork.review import decide, review_of
    from surveyapp.models import Locality, Wave
    from surveyapp.services.responses import Submission, submit_response

    with demo.app_context():
        wave = db.session.scalar(select(Wave).where(Wave.code == "2026-Q4"))
        grid = db.session.scalar(select(Locality).where(Locality.code == "32010600100101"))
        enumerator = db.session.scalar(select(User).where(User.username == "enumerator"))
        manager = db.session.scalar(select(User).where(User.username == "manager"))
        response, _created = submit_response(
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
        decide(response, manager, "send_back", "请核实受访者年龄")
        rid = response.id
    page = context.new_page()
    open_offline_app(page, live_server)
    item = page.locator("#attention-list li")
    item.wait_for()
    assert "请核实受访者年龄" in item.inner_text()
    item.locator("button").first.click()  # correct the answers
    page.wait_for_selector("#save-interview")
    page.locator("#screen h2 button.link").first.click()  # change the screening group
    page.locator('#screen input[name="age_16plus"][value="no"]').check()
    page.click("#screen button[value=next]")
    page.click("#save-interview")
    # Saved on the device, then sent: wait until the server holds the correction.
    for _ in range(100):
        with demo.app_context():
            if review_of(db.session.get(Response, rid)).state == "pending":
                break
        page.wait_for_timeout(200)
    page.wait_for_selector("#waiting-count[data-count='0']")
    page.wait_for_selector("#attention", state="hidden")
    with demo.app_context():
        response = db.session.get(Response, rid)
        assert response.answer_dict() == {"resident_6m": "no", "age_16plus": "no"}
        assert review_of(response).state == "pending"
        assert len(enumerator_responses(demo)) == 1
