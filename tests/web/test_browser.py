"""A real browser (Playwright driving Debian's chromium) fills one interview on a tablet."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Response

from ..browser import MARKS

pytestmark = MARKS


def choose(page, qid: str, code: str) -> None:
    page.locator(f'input[name="{qid}"][value="{code}"]').check()


def test_tablet_interview_with_skip_logic(live_server, browser, demo, tmp_path):
    page = browser.new_page(viewport={"width": 768, "height": 1024}, has_touch=True)
    page.goto(live_server + "/")
    page.fill("#username", "enumerator")
    page.fill("#password", "enumerator-demo-2026")
    page.click("button[type=submit].primary")
    page.click("text=开始访问 >> nth=0")
    page.click("button.primary")  # 开始 (language zh_CN, locality from the assignment)

    choose(page, "resident_6m", "yes")
    choose(page, "age_16plus", "yes")
    # Touch targets are at least 44 px high.
    box = page.locator("label.choice").first.bounding_box()
    assert box["height"] >= 44
    page.click("button[value=next]")

    def answer_visible_defaults(plan: dict) -> None:
        """Answer what the page shows: from ``plan``, else the first choice."""
        for fs in page.locator("fieldset[data-question]:visible").all():
            qid = fs.get_attribute("data-question")
            kind = fs.get_attribute("data-type")
            if qid in plan:
                value = plan[qid]
                if kind in ("single", "yesno"):
                    choose(page, qid, value)
                elif kind == "multiple":
                    for code in value:
                        page.locator(f'input[name="{qid}"][value="{code}"]').check()
                else:
                    fs.locator("input, textarea").first.fill(str(value))
            elif kind in ("single", "yesno"):
                if not fs.locator("input:checked").count():
                    fs.locator("input").first.check()
            elif kind == "multiple":
                if not fs.locator("input:checked").count():
                    fs.locator("input").first.check()
            elif kind == "integer":
                fs.locator("input").first.fill("5")

    plan = {
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
        if page.locator("button[value=submit]").count():
            break
        group = page.locator("input[name=_group]").get_attribute("value")
        if group == "disputes":
            # Skip logic follows the answer in the browser, without a round trip.
            assert page.locator("#q-dispute_mediated").is_hidden()
            choose(page, "had_dispute", "yes")
            assert page.locator("#q-dispute_mediated").is_visible()
            choose(page, "dispute_mediated", "yes")
            assert page.locator("#q-dispute_resolved").is_visible()
            choose(page, "dispute_mediated", "no")
            assert page.locator("#q-dispute_resolved").is_hidden()
            choose(page, "dispute_mediated", "yes")
            saw_live_skip = True
        answer_visible_defaults(plan)
        page.click("button[value=next]")
    assert saw_live_skip
    page.screenshot(path=str(tmp_path / "review.png"), full_page=True)
    assert page.locator('[data-answer="dispute_resolved"]').count() == 1
    assert page.locator('[data-answer="problem_solved"]').count() == 0
    page.click("button[value=submit]")
    page.wait_for_selector("text=访问已保存")
    uuid = page.locator("code").inner_text().strip()

    with demo.app_context():
        response = db.session.scalar(select(Response).where(Response.uuid == uuid))
        assert response is not None
        answers = response.answer_dict()
        assert answers["had_dispute"] == "yes"
        assert answers["dispute_mediated"] == "yes"
        assert answers["dispute_resolved"] == "1"
        assert answers["years_here"] == 20
        assert "problem_solved" not in answers
        assert response.mode == "door" and response.language == "zh_CN"
        assert response.street.code == "320106001"


@pytest.mark.parametrize(
    "viewport",
    [{"width": 768, "height": 1024}, {"width": 1280, "height": 800}],
    ids=["portrait", "landscape"],
)
def test_interview_page_fits_the_tablet(live_server, browser, viewport):
    """No sideways scrolling, readable type and 44 px touch targets in both orientations."""
    page = browser.new_page(viewport=viewport, has_touch=True)
    page.goto(live_server + "/")
    page.fill("#username", "enumerator")
    page.fill("#password", "enumerator-demo-2026")
    page.click("button[type=submit].primary")
    page.click("text=开始访问 >> nth=0")
    page.click("button.primary")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= viewport["width"]
    for label in page.locator("label.choice").all():
        box = label.bounding_box()
        assert box["height"] >= 44
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
    for button in page.locator("button:visible").all():
        assert button.bounding_box()["height"] >= 44, button.inner_text()
    size = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('fieldset[data-question] legend, "
        "fieldset[data-question] .question-text') || document.body).fontSize)"
    )
    assert size >= 16
