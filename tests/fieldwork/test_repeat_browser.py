"""A household roster on the tablet (the offline interview in Debian's chromium): the repeat
count makes one section per member, each member's skip logic reads that member's own answers,
an open repeat group is grown and shrunk by the interviewer, the draft keeps the instances
across a reload, and the server stores what the tablet sent, instance by instance."""

from __future__ import annotations

from ..browser import MARKS, start_offline_interview
from .conftest import enumerators_answers

pytestmark = MARKS


def _slot(page, name: str):
    return page.locator(f'[data-question="{name}"]')


def test_a_household_roster_on_the_tablet(live_server, browser, roster_survey, demo):
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN")
    page = context.new_page()
    start_offline_interview(page, live_server)
    page.fill('#screen input[name="household_size"]', "2")
    page.click("#screen button[value=next]")

    # household_size 2: two members, no way to add or remove one
    page.wait_for_selector("section.instance")
    assert page.locator("section.instance").count() == 2
    assert page.locator(".add-instance, .remove-instance").count() == 0
    page.fill('[name="members.0.member_name"]', "张三")
    page.fill('input[name="members.0.member_age"]', "40")
    page.fill('[name="members.1.member_name"]', "小明")
    page.fill('input[name="members.1.member_age"]', "9")
    # each member's own age decides whether he is asked about work
    assert _slot(page, "members.0.member_works").is_visible()
    assert _slot(page, "members.1.member_works").is_hidden()
    page.check('input[name="members.0.member_works"][value="yes"]')
    assert _slot(page, "members.0.member_job").is_visible()
    assert _slot(page, "members.1.member_job").is_hidden()
    page.check('input[name="members.0.member_job"][value="worker"]')

    # the draft keeps both members across a reload
    page.reload()
    page.wait_for_selector("#resume-draft")
    page.click("#resume-draft")
    page.wait_for_selector("section.instance")
    assert page.locator('[name="members.1.member_name"]').input_value() == "小明"
    assert page.locator('input[name="members.0.member_job"][value="worker"]').is_checked()
    page.click("#screen button[value=next]")

    # visitors: as many as the interviewer adds, at most 3
    page.wait_for_selector(".add-instance")
    assert page.locator("section.instance").count() == 0
    for _ in range(3):
        page.click(".add-instance")
    assert page.locator("section.instance").count() == 3
    assert page.locator(".add-instance").count() == 0  # max 3
    page.check('input[name="visitors.1.visitor_relation"][value="friend"]')
    page.click("section.instance[data-instance='1'] .remove-instance")
    assert page.locator("section.instance").count() == 2
    assert page.locator('input[name="visitors.0.visitor_relation"][value="friend"]').is_checked()
    page.click("#screen button[value=next]")

    # crowded (count(${members}) >= 3) is skipped: the review comes next
    page.wait_for_selector("#save-interview")
    assert "小明" in page.locator("#screen").inner_text()
    page.click("#save-interview")
    enumerators_answers(demo)  # waits until the tablet has sent the interview
    context.close()
    assert enumerators_answers(demo) == [
        {
            "household_size": 2,
            "members": [
                {
                    "member_name": "张三",
                    "member_age": 40,
                    "member_works": "yes",
                    "member_job": "worker",
                },
                {"member_name": "小明", "member_age": 9},
            ],
            "visitors": [{"visitor_relation": "friend"}, {}],
        }
    ]
