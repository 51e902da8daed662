"""On the tablet (the offline interview in a real browser), a question the server skips is hidden.

The conditions here are the ones the browser once parsed itself and got wrong (``${q1} > -1``,
``${q1} != -1``, ``${q1} < .5``: refused as syntax errors, and then shown). Now the server sends
them parsed; what the page shows is compared with what the server decides for the same answer.
"""

from __future__ import annotations

import pytest

from ..browser import MARKS, start_offline_interview
from ..conftest import use_questionnaire

pytestmark = MARKS

QUESTIONNAIRE = """\
id: skip-numbers
version: 1
title: {zh_CN: 跳转测试, en: Skip test}
languages: [zh_CN, en]
groups:
  - id: numbers
    title: {zh_CN: 数字, en: Numbers}
    questions:
      - id: q1
        type: integer
        min: -10
        max: 10
        label: {zh_CN: 数字？, en: "A number?"}
      - id: above
        type: text
        required: ${q1} > 5
        relevant: ${q1} > -1
        label: {zh_CN: 大于负一, en: Above minus one}
      - id: not_minus_one
        type: text
        required: false
        relevant: ${q1} != -1
        label: {zh_CN: 不是负一, en: Not minus one}
      - id: below_half
        type: text
        required: false
        relevant: ${q1} < .5
        label: {zh_CN: 小于半, en: Below a half}
      - id: street
        type: single
        required: false
        label: {zh_CN: 街道, en: Street}
        choices:
          - {code: s1, label: {zh_CN: 一街, en: S1}}
          - {code: s2, label: {zh_CN: 二街, en: S2}}
      - id: community
        type: single
        required: false
        choice_filter: street = ${street}
        label: {zh_CN: 社区, en: Community}
        choices:
          - {code: c1, label: {zh_CN: 甲, en: C1}, properties: {street: s1}}
          - {code: c2, label: {zh_CN: 乙, en: C2}, properties: {street: s2}}
          - {code: c3, label: {zh_CN: 丙, en: C3}, properties: {street: s1}}
"""
FOLLOWING = ("above", "not_minus_one", "below_half")


@pytest.fixture
def schema(demo):
    """Every demo survey and wave interviews with the questionnaire above; its parsed schema."""
    return use_questionnaire(demo, QUESTIONNAIRE, "skip-numbers.yaml")


def test_a_question_the_server_skips_is_hidden_on_the_tablet(live_server, browser, schema):
    context = browser.new_context(
        viewport={"width": 768, "height": 1024}, has_touch=True, locale="zh-CN"
    )
    page = context.new_page()
    start_offline_interview(page, live_server)
    page.wait_for_selector("#q-q1")

    for answer in (-5, -1, 0, 2, -0):
        page.fill('#screen input[name="q1"]', str(answer))
        shown = {qid for qid in FOLLOWING if page.locator(f"#q-{qid}").is_visible()}
        server = set(schema.relevant_questions({"q1": answer})) & set(FOLLOWING)
        assert shown == server, answer
    # And by hand, so that the comparison above cannot be vacuous.
    page.fill('#screen input[name="q1"]', "-1")
    assert page.locator("#q-above").is_hidden()
    assert page.locator("#q-not_minus_one").is_hidden()
    assert page.locator("#q-below_half").is_visible()
    page.fill('#screen input[name="q1"]', "2")
    assert page.locator("#q-above").is_visible()
    assert page.locator("#q-below_half").is_hidden()

    # A cascading select: only the communities of the chosen street are offered.
    def offered() -> set[str]:
        return {
            code
            for code in ("c1", "c2", "c3")
            if page.locator(f'#q-community input[value="{code}"]').is_visible()
        }

    assert offered() == set()  # no street yet
    page.check('#q-street input[value="s1"]')
    assert offered() == {"c1", "c3"} == set(schema_question(schema).allowed_codes({"street": "s1"}))
    page.check('#q-community input[value="c3"]')
    page.check('#q-street input[value="s2"]')
    assert offered() == {"c2"}
    assert not page.locator('#q-community input[value="c3"]').is_checked()  # cleared

    # required with an expression: "above" must be answered when q1 > 5.
    page.fill('#screen input[name="q1"]', "7")
    page.click("#interview button[type=submit].primary")
    assert page.locator("#q-above .error-text").is_visible()
    context.close()


def schema_question(schema):
    return next(q for g in schema.groups for q in g.questions if q.id == "community")
