"""CATI in a real browser: the interviewer takes the next case, reads the introduction with the
verification hotline, runs the questionnaire, and the submission completes the case."""

from __future__ import annotations

from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.fieldwork import cati
from surveyapp.models import Response, Wave
from surveyapp.models.fieldwork import CatiCase

from ..browser import log_in
from .test_offline_browser import context, pytestmark  # noqa: F401

PHONE = "13900001234"


def test_next_case_intro_questionnaire_and_completion(live_server, context, demo):  # noqa: F811
    demo.config["FIELDWORK"] = {"calling_hours": "00:00-24:00", "verification_hotline": "110-12345"}
    with demo.app_context():
        wave = db.session.scalar(select(Wave).where(Wave.code == "2026-Q4"))
        # A street other than the first: the interview must be filed under the case's street.
        report = cati.import_call_list(wave, f"phone,locality\n{PHONE},320106002\n")
        assert report.created == 1
    page = context.new_page()
    log_in(page, live_server)
    page.click("text=电话访问")
    page.click("#next-case")
    assert page.locator("#case-phone").inner_text() == PHONE
    assert "110-12345" in page.locator("#intro-script").inner_text()
    page.click("#start-cati-interview")
    page.wait_for_selector("#start-form")
    options = page.locator("#locality option").all_inner_texts()
    assert options and all("宁海路" not in o for o in options)
    page.click("#start-form button[type=submit]")
    page.wait_for_selector("#interview")
    page.locator('#screen input[name="resident_6m"][value="no"]').check()
    page.locator('#screen input[name="age_16plus"][value="yes"]').check()
    page.click("#screen button[value=next]")
    page.click("#save-interview")
    # Sent at once (online), then back to the desk, where the closed case is masked.
    page.wait_for_url("**/cati/", timeout=20000)
    page.wait_for_selector("#next-case")
    assert PHONE not in page.content()
    assert cati.mask_phone(PHONE) in page.locator("#recent-cases").inner_text()
    with demo.app_context():
        case = db.session.scalar(select(CatiCase).where(CatiCase.phone == PHONE))
        assert case.status == "closed" and case.final_code == "1.1"
        response = db.session.scalar(select(Response).where(Response.uuid == case.response_uuid))
        assert response.mode == "phone" and response.street.code == "320106002"
