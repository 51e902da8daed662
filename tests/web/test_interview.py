"""A whole interview as the offline app sends it (session, sync API): skip logic, refusals,
storage. (The app's screens themselves are driven in a real browser in
tests/fieldwork/test_offline_browser.py.)"""

from __future__ import annotations

import uuid as uuidlib

import pytest
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import Answer, Assignment, Locality, Response, User

from ..fieldwork.conftest import full_answers

PASSWORD = "enumerator-demo-2026"
URL = "/api/v1/submissions"


@pytest.fixture
def enumerator(demo, client, auth):
    """The demo enumerator logged in (as on the tablet); their door assignment and a grid."""
    auth.login("enumerator", PASSWORD)
    with demo.app_context():
        user = db.session.scalar(select(User).where(User.username == "enumerator"))
        door = db.session.scalar(
            select(Assignment).where(Assignment.enumerator_id == user.id, Assignment.mode == "door")
        )
        grid = door.locality
        while grid.children:
            grid = grid.children[0]
        return {"id": door.id, "grid": grid.code}


def send(client, enumerator, answers, **change):
    body = {
        "uuid": str(uuidlib.uuid4()),
        "assignment": enumerator["id"],
        "locality": enumerator["grid"],
        "mode": "door",
        "language": "zh_CN",
        "started_at": "2026-11-23T09:30:00+08:00",
        "ended_at": "2026-11-23T09:38:00+08:00",
        "answers": answers,
    }
    body.update(change)
    return body, client.post(URL, json=body)


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


def test_skip_logic_asks_the_followups_of_the_answers_given(demo):
    """What the app asks is the questionnaire's relevance (one condition engine)."""
    with demo.app_context():
        assignment = db.session.scalar(select(Assignment).where(Assignment.mode == "door"))
        schema = assignment.wave.questionnaire_version.schema
        asked = set(schema.relevant_questions(PLAN_DISPUTE_MEDIATED))
        assert {"dispute_mediated", "dispute_resolved", "dispute_mediator"} <= asked
        assert "problem_solved" not in asked and "antigang_evaluation" not in asked
        # Screened out: nothing after the screening questions is asked.
        screened = set(schema.relevant_questions({"resident_6m": "no", "age_16plus": "yes"}))
        assert "security_overall" not in screened


def test_full_interview_is_stored_with_its_places_and_answers(demo, client, enumerator):
    with demo.app_context():
        schema = db.session.get(Assignment, enumerator["id"]).wave.questionnaire_version.schema
        plan = {**full_answers(demo, seed=1), **PLAN_DISPUTE_MEDIATED}
        plan["dispute_mediator"] = schema.questions["dispute_mediator"].choices[0].code
        plan.pop("problem_solved", None)
        asked = set(schema.relevant_questions(plan))
        for qid in asked - set(plan):  # the follow-ups the app asks: their first choice
            question = schema.questions[qid]
            if question.choices:
                code = question.choices[0].code
                plan[qid] = [code] if question.type == "multiple" else code
        plan = {k: v for k, v in plan.items() if k.split(".", 1)[0] in asked}
    body, response = send(client, enumerator, plan)
    assert response.status_code == 201, response.get_json()
    with demo.app_context():
        response = stored(body["uuid"])
        answers = response.answer_dict()
        assert answers["dispute_resolved"] == "1"
        assert answers["unsafe_factors"] == ["telecom_fraud", "traffic"]
        assert answers["years_here"] == 12
        assert answers["suggestion"] == "希望多开展反诈宣传"
        assert "problem_solved" not in answers
        assert response.language == "zh_CN" and response.mode == "door"
        path = response.locality.path_by_level()
        assert response.community_id == path["community"].id
        assert response.grid_id == path["grid"].id
        assert response.street_id == path["street"].id
        # Answers are queryable per question.
        n = db.session.scalar(
            select(func.count(Answer.id)).where(
                Answer.question == "dispute_resolved", Answer.response_id == response.id
            )
        )
        assert n == 1


def test_screened_out_respondent_is_stored(demo, client, enumerator):
    body, response = send(client, enumerator, {"resident_6m": "no", "age_16plus": "yes"})
    assert response.status_code == 201
    with demo.app_context():
        assert stored(body["uuid"]).answer_dict() == {"resident_6m": "no", "age_16plus": "yes"}


def test_missing_answer_is_named_in_chinese(demo, client, enumerator):
    body, response = send(client, enumerator, {"resident_6m": "yes"})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert "age_16plus" in {e["question"] for e in errors}
    assert any("请回答此题" in e["message"] for e in errors)  # the interface language
    with demo.app_context():
        assert stored(body["uuid"]) is None


@pytest.mark.parametrize(
    "change, words",
    [
        ({"security_overall": "7"}, "不是本题的选项"),  # a code outside the question's list
        ({"reported_problem": "no", "problem_solved": "1"}, "不适用"),  # a skipped question
    ],
)
def test_refused_answers_are_named_and_nothing_stored(demo, client, enumerator, change, words):
    body, response = send(client, enumerator, {**PLAN_DISPUTE_MEDIATED, **change})
    assert response.status_code == 422
    assert any(words in e["message"] for e in response.get_json()["errors"])
    with demo.app_context():
        assert stored(body["uuid"]) is None


def test_double_submit_stores_once_and_changed_resend_conflicts(demo, client, enumerator):
    screened = {"resident_6m": "no", "age_16plus": "yes"}
    body, first = send(client, enumerator, screened)
    assert first.status_code == 201
    again = client.post(URL, json=body)
    assert again.status_code == 200
    conflict = client.post(URL, json={**body, "answers": {**screened, "age_16plus": "no"}})
    assert conflict.status_code == 409
    with demo.app_context():
        n = db.session.scalar(select(func.count(Response.id)).where(Response.uuid == body["uuid"]))
        assert n == 1
        assert stored(body["uuid"]).answer_dict()["age_16plus"] == "yes"


def test_forged_locality_is_forbidden(demo, client, enumerator):
    with demo.app_context():
        other_street = db.session.scalar(select(Locality).where(Locality.code == "320106005"))
        elsewhere = other_street.children[0].children[0].code
    body, response = send(client, enumerator, {"resident_6m": "no"}, locality=elsewhere)
    assert response.status_code == 403
    with demo.app_context():
        assert stored(body["uuid"]) is None


def test_other_enumerators_assignment_is_invisible(demo, client, auth):
    auth.login("enumerator", PASSWORD)
    with demo.app_context():
        field = db.session.scalar(select(User).where(User.username == "field01"))
        other = Assignment(wave_id=2, enumerator_id=field.id, locality_id=1, mode="door")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    assert client.get(f"/collect/assignments/{other_id}/start").status_code == 404
    mine = client.get("/api/v1/assignments").get_json()["assignments"]
    assert other_id not in {a["id"] for a in mine}
    body, response = send(client, {"id": other_id, "grid": "x"}, {"resident_6m": "no"})
    assert 400 <= response.status_code < 500


def test_interview_in_english(demo, client, enumerator):
    """The questionnaire the app gets carries the English texts; answers in English are kept."""
    version = client.get("/api/v1/assignments").get_json()["assignments"][0]["questionnaire"]
    doc = client.get(f"/api/v1/questionnaires/{version['version_id']}").get_json()
    assert "en" in {lang["code"] for lang in doc["languages"]}
    first = doc["groups"][0]["questions"][0]
    assert "6 months" in first["label"]["en"] or "lived" in first["label"]["en"]
    refused = send(client, enumerator, {"resident_6m": "no"}, language="en")[1]
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["question"] == "age_16plus"
    screened = {"resident_6m": "no", "age_16plus": "yes"}
    body, response = send(client, enumerator, screened, language="en")
    assert response.status_code == 201
    with demo.app_context():
        assert stored(body["uuid"]).language == "en"


@pytest.mark.parametrize(
    "crafted",
    [
        {"uuid": "not-a-uuid"},
        {"language": "xx"},
        {"mode": "fax"},
        {"locality": "nope"},
    ],
)
def test_crafted_items_give_4xx(demo, client, enumerator, crafted):
    body, response = send(client, enumerator, {"resident_6m": "no"}, **crafted)
    assert 400 <= response.status_code < 500
