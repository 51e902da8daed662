"""The new question types on the tablet (the offline interview in Debian's chromium): a note is
shown, a decimal and a time are typed, a geopoint is captured only when the interviewer presses
the button (Playwright grants the permission and sets the position), a calculation steers a skip
on the page; the interview reaches the server, which stores what it computes itself."""

from __future__ import annotations

import time

import pytest

from ..browser import MARKS, start_offline_interview
from ..conftest import use_questionnaire
from .conftest import enumerators_answers

pytestmark = MARKS

QUESTIONNAIRE = """\
id: tablet-types
version: 1
title: {zh_CN: 题型, en: Types}
languages: [zh_CN, en]
groups:
  - id: visit
    title: {zh_CN: 走访, en: Visit}
    questions:
      - {id: intro, type: note, label: {zh_CN: 请向受访者说明来意。, en: Explain the visit.}}
      - {id: height, type: decimal, min: 0.5, max: 2.5, label: {zh_CN: 身高, en: Height}}
      - {id: tall, type: calculate, label: {zh_CN: 高, en: Tall}, calculation: "${height} > 1.8"}
      - id: why_tall
        type: text
        required: false
        relevant: ${tall} = 'true'
        label: {zh_CN: 很高, en: Tall}
      - {id: visit_time, type: time, label: {zh_CN: 时间, en: Time}}
      - {id: place, type: geopoint, label: {zh_CN: 位置, en: Location}}
"""


@pytest.fixture
def schema(demo):
    return use_questionnaire(demo, QUESTIONNAIRE, "tablet-types.yaml")


def test_decimal_time_geopoint_and_note_on_the_tablet(live_server, browser, schema, demo):
    context = browser.new_context(
        viewport={"width": 768, "height": 1024}, has_touch=True, locale="zh-CN"
    )
    context.grant_permissions(["geolocation"], origin=live_server)
    context.set_geolocation({"latitude": 31.2304, "longitude": 121.4737, "accuracy": 8})
    page = context.new_page()
    start_offline_interview(page, live_server)
    page.wait_for_selector("#q-height")

    # The note is shown (its text, no box to fill); the calculation is not shown.
    assert page.locator("#q-intro").is_visible()
    assert "请向受访者说明来意。" in page.locator("#q-intro").inner_text()
    assert page.locator("#q-intro input, #q-intro textarea").count() == 0
    assert page.locator("#q-tall").is_hidden()

    # A decimal out of range is refused on the page, as by the server.
    page.fill('#screen input[name="height"]', "3.1")
    page.fill('#screen input[name="visit_time"]', "14:05")
    assert page.locator("#q-why_tall").is_visible()  # ${tall}: 3.1 > 1.8, computed here
    page.click("#screen button[value=next]")
    assert "0.5" in page.locator("#q-height .error-text").inner_text()
    assert page.locator("#q-place .error-text").is_visible()  # required, not captured
    page.fill('#screen input[name="height"]', "1.72")
    assert page.locator("#q-why_tall").is_hidden()

    # No location before the button is pressed (the respondent's consent); then it is taken.
    assert page.locator('#screen input[name="place"]').input_value() == ""
    page.click("#q-place button.capture-location")
    place = page.locator('#screen input[name="place"]')
    deadline = time.monotonic() + 10  # the page's CSP allows no eval: poll from here
    while not place.input_value() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert page.locator('#screen input[name="place"]').input_value().split()[::3] == [
        "31.2304",
        "8",
    ]
    assert "31.230400, 121.473700" in page.locator("#q-place").inner_text()
    page.click("#screen button[value=next]")
    page.wait_for_selector("#save-interview")
    page.click("#save-interview")

    enumerators_answers(demo)  # waits until the tablet has sent the interview
    context.close()
    [answers] = enumerators_answers(demo)
    assert answers["height"] == 1.72
    assert answers["visit_time"] == "14:05"
    # as ODK stores it: latitude longitude altitude (0: unknown) accuracy
    assert answers["place"] == "31.2304 121.4737 0 8"
    assert answers["tall"] == "false"  # computed by the server
    assert "intro" not in answers
