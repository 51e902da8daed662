"""A whole interview through the Flask test client: skip logic, review, submit, storage."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import Answer, Assignment, Locality, Response, User

from .interviewer import Interviewer, hidden_fields

PASSWORD = "enumerator-demo-2026"


@pytest.fixture
def enumerator(demo, client, auth):
    auth.login("enumerator", PASSWORD)
    with demo.app_context():
        user = db.session.scalar(select(User).where(User.username == "enumerator"))
        door = db.session.scalar(
            select(Assignment).where(Assignment.enumerator_id == user.id, Assignment.mode == "door")
        )
        return door.id


def stored(uuid: str) -> Response | None:
    return db.session.scalar(select(Response).where(Response.uuid == uuid))


PLAN_DISPUTE_MEDIATED = {
    "resident_6m": "yes",
    "age_16plus": "yes",
    "security_overall": "2",
    "had_dispute": "yes",
    "dispute_mediated": "yes",
    "dispute_resolved": "1",
    "reported_problem": "no",
    "antigang_aware": "no",
    "sex": "f",
    "age_group": "35_44",
    "years_here": "12",
    "unsafe_factors": ["telecom_fraud", "traffic"],
    "suggestion": "希望多开展反诈宣传",
}


def test_full_interview_follows_skip_logic_and_is_stored(demo, client, enumerator):
    interviewer = Interviewer(client, enumerator)
    review = interviewer.run(PLAN_DISPUTE_MEDIATED)
    shown = {q for _, qs in interviewer.pages for q in qs}
    # dispute -> mediated -> resolved were asked; the skipped branches were not.
    assert {"dispute_mediated", "dispute_resolved", "dispute_mediator"} <= shown
    assert "problem_solved" not in shown and "antigang_evaluation" not in shown
    # The follow-ups of "had a dispute" appear on the same group's page once it is answered.
    disputes = [qs for group, qs in interviewer.pages if group == "disputes"]
    assert disputes[0] == ["had_dispute"]
    assert "dispute_mediated" in disputes[1]

    html = review.get_data(as_text=True)
    assert "希望多开展反诈宣传" in html
    done = interviewer.submit(review)
    assert done.status_code == 302
    page = client.get(done.location)
    assert page.status_code == 200
    with demo.app_context():
        response = stored(interviewer.uuid)
        assert response is not None
        answers = response.answer_dict()
        assert answers["dispute_resolved"] == "1"
        assert answers["unsafe_factors"] == ["telecom_fraud", "traffic"]
        assert answers["years_here"] == 12
        assert "problem_solved" not in answers
        assert response.street.code == "320106001"
        assert response.language == "zh_CN" and response.mode == "door"
        path = response.locality.path_by_level()
        assert response.community_id == path["community"].id
        assert response.grid_id == path["grid"].id
        # Answers are queryable per question.
        n = db.session.scalar(
            select(func.count(Answer.id)).where(
                Answer.question == "dispute_resolved", Answer.response_id == response.id
            )
        )
        assert n == 1
        street_count = db.session.scalar(
            select(func.count(Response.id)).where(
                Response.street_id == response.street_id, Response.wave_id == response.wave_id
            )
        )
    # The confirmation page shows the street's count, including this response.
    row = re.search(r'data-street="320106001">(\d+)<', page.get_data(as_text=True))
    assert int(row.group(1)) == street_count


def test_screened_out_respondent_skips_to_review(demo, client, enumerator):
    interviewer = Interviewer(client, enumerator)
    review = interviewer.run({"resident_6m": "no", "age_16plus": "yes"})
    assert [g for g, _ in interviewer.pages] == ["screening"]
    assert interviewer.submit(review).status_code == 302


def test_missing_answer_is_reported_on_the_page(demo, client, enumerator):
    interviewer = Interviewer(client, enumerator)
    first = interviewer.start()
    html = first.get_data(as_text=True)
    response = interviewer.post(hidden_fields(html) + [("resident_6m", "yes"), ("nav", "next")])
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "请回答此题" in body  # Chinese interface by default


def test_answer_outside_codes_is_refused_and_nothing_stored(demo, client, enumerator):
    interviewer = Interviewer(client, enumerator)
    review = interviewer.run(PLAN_DISPUTE_MEDIATED)
    data = [
        (k, "7" if k == "security_overall" else v)
        for k, v in hidden_fields(review.get_data(as_text=True))
    ]
    response = interviewer.post(data + [("nav", "submit")])
    assert response.status_code == 422
    assert "不是本题的选项" in response.get_data(as_text=True)
    with demo.app_context():
        assert stored(interviewer.uuid) is None


def test_skipped_question_answered_anyway_is_refused(demo, client, enumerator):
    interviewer = Interviewer(client, enumerator)
    review = interviewer.run({**PLAN_DISPUTE_MEDIATED, "reported_problem": "no"})
    data = hidden_fields(review.get_data(as_text=True)) + [("problem_solved", "1")]
    response = interviewer.post(data + [("nav", "submit")])
    assert response.status_code == 422
    assert "不适用" in response.get_data(as_text=True)
    with demo.app_context():
        assert stored(interviewer.uuid) is None


def test_double_submit_stores_once_and_changed_resend_conflicts(demo, client, enumerator):
    interviewer = Interviewer(client, enumerator)
    review = interviewer.run(PLAN_DISPUTE_MEDIATED)
    assert interviewer.submit(review).status_code == 302
    again = interviewer.submit(review)
    assert again.status_code == 302
    data = [
        (k, "1" if k == "security_overall" else v)
        for k, v in hidden_fields(review.get_data(as_text=True))
    ]
    conflict = interviewer.post(data + [("nav", "submit")])
    assert conflict.status_code == 409
    with demo.app_context():
        n = db.session.scalar(
            select(func.count(Response.id)).where(Response.uuid == interviewer.uuid)
        )
        assert n == 1
        assert stored(interviewer.uuid).answer_dict()["security_overall"] == "2"


def test_forged_locality_is_forbidden(demo, client, enumerator):
    interviewer = Interviewer(client, enumerator)
    with demo.app_context():
        other_street = db.session.scalar(select(Locality).where(Locality.code == "320106005"))
        elsewhere = other_street.children[0].children[0].code
    response = interviewer.start(locality=elsewhere)
    assert response.status_code == 403
    review = interviewer.run(PLAN_DISPUTE_MEDIATED)
    data = [
        (k, elsewhere if k == "_locality" else v)
        for k, v in hidden_fields(review.get_data(as_text=True))
    ]
    assert interviewer.post(data + [("nav", "submit")]).status_code == 403
    with demo.app_context():
        assert stored(interviewer.uuid) is None


def test_other_enumerators_assignment_is_invisible(demo, client, auth):
    auth.login("enumerator", PASSWORD)
    with demo.app_context():
        field = db.session.scalar(select(User).where(User.username == "field01"))
        other = Assignment(wave_id=2, enumerator_id=field.id, locality_id=1, mode="door")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    assert client.get(f"/collect/assignments/{other_id}/start").status_code == 404


def test_interview_in_english(demo, client, enumerator):
    interviewer = Interviewer(client, enumerator)
    client.post("/auth/language/en")
    page = interviewer.start(lang="en")
    html = page.get_data(as_text=True)
    assert "Have you lived in this district" in html or "6 months" in html
    assert "Next" in html


@pytest.mark.parametrize(
    "crafted",
    [
        {"_uuid": "not-a-uuid"},
        {"_lang": "xx"},
        {"_mode": "fax"},
        {"_group": "nope", "nav": "next"},
        {"nav": "teleport"},
    ],
)
def test_crafted_state_gives_4xx(demo, client, enumerator, crafted):
    interviewer = Interviewer(client, enumerator)
    html = interviewer.start().get_data(as_text=True)
    data = dict(hidden_fields(html))
    data.update({"nav": "next"})
    data.update(crafted)
    response = interviewer.post(data)
    assert 400 <= response.status_code < 500
