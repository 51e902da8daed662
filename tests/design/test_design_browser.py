"""A manager designs a question with skip logic in a real browser, previews it, publishes."""

from __future__ import annotations

from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import QuestionnaireVersion

from ..browser import MARKS, log_in

pytestmark = MARKS


def test_design_question_with_skip_logic_preview_and_publish(live_server, browser, demo):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    # Script errors and CSP refusals show on the console; failed requests are listed by URL
    # (the browser's own /favicon.ico request aside).
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    log_in(page, live_server, "manager")
    page.goto(live_server + "/design/")

    page.fill("#slug", "night-walk")
    page.fill("#title_zh", "夜间出行调查")
    page.fill("#title_en", "Walking at night")
    page.click("form[action$='/design/new'] button.primary")

    page.click("a.button[href$='/group']")
    page.fill("#id", "main")
    page.fill("#title-zh_CN", "夜间出行")
    page.fill("#title-en", "At night")
    page.click("#group-form button.primary")

    page.click("text=添加问题")  # Add a question
    page.fill("#id", "feel")
    page.select_option("#type", "single")
    page.fill("#label-zh_CN", "晚上一个人走路，您觉得安全吗？")
    page.fill("#label-en", "Do you feel safe walking alone at night?")
    page.fill("input[name='choice-0-code']", "1")
    page.fill("input[name='choice-0-label-zh_CN']", "安全")
    page.fill("input[name='choice-0-label-en']", "Safe")
    page.fill("input[name='choice-1-code']", "2")
    page.fill("input[name='choice-1-label-zh_CN']", "不安全")
    page.fill("input[name='choice-1-label-en']", "Unsafe")
    page.click("#save-question")

    page.click("text=添加问题")
    page.fill("#id", "why_unsafe")
    page.select_option("#type", "text")
    assert page.locator(".choices-editor").is_hidden()  # no options for a text question
    page.fill("#label-zh_CN", "为什么觉得不安全？")
    # The live check reports the missing English text with the message of `validate`.
    page.wait_for_selector("#live-problems code:has-text('缺少 en 译文')")
    page.fill("#label-en", "Why do you feel unsafe?")
    # Skip logic from the pick-lists: feel = 2.
    builder = page.locator(".condition-builder[data-target='relevant']")
    builder.locator("select.b-question").select_option("feel")
    builder.locator("select.b-op").select_option("=")
    builder.locator("select.b-value").select_option("2")
    builder.locator("button.builder-apply").click()
    assert page.input_value("#relevant") == "${feel} = '2'"
    page.wait_for_selector("#live-problems p.ok")
    page.click("#save-question")
    assert page.locator("#q-why_unsafe .condition code").inner_text() == "${feel} = '2'"

    # Preview: the follow-up appears only when "unsafe" is chosen.
    page.click("nav.design-nav >> text=预览")
    assert page.locator("#q-why_unsafe").is_hidden()
    page.check("input[name='feel'][value='2']")
    assert page.locator("#q-why_unsafe").is_visible()
    page.check("input[name='feel'][value='1']")
    assert page.locator("#q-why_unsafe").is_hidden()
    page.click(".preview-langs >> text=English")
    assert page.locator("#q-feel legend").inner_text().startswith("Do you feel safe")

    page.click("nav.design-nav >> text=版本 1")
    # Publishing asks first: declining leaves the draft as it is.
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("text=发布此版本")  # Publish this version
    assert asked and "发布后" in asked[0]
    assert page.locator(".status-draft").count() >= 1
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("text=发布此版本")
    page.wait_for_selector(".status-published")
    assert errors == []

    with demo.app_context():
        version = db.session.scalar(
            select(QuestionnaireVersion).where(QuestionnaireVersion.slug == "night-walk")
        )
        assert version.status == "published"
        schema = version.schema
        assert schema.questions["why_unsafe"].relevant.source == "${feel} = '2'"
        assert schema.relevant_questions({"feel": "2"}) == ["feel", "why_unsafe"]
