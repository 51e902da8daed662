"""Repeat groups through the sync API: each instance checked with the rules of the questions
asked once, errors naming the group, the instance and the question (4xx, never 500), and the
answers stored per instance (``Answer.repeat_group``/``instance``) and read back as
``{group: [{question: answer}, ...]}``."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Answer, Response

from ..conftest import use_questionnaire
from ..rosters import MEMBERS, STORED_MEMBERS
from .conftest import submission
from .test_cati import MANAGER, login
from .test_sync_api import post


def test_instances_are_stored_one_row_set_each(demo, client, token, door, roster_survey):
    body = submission(
        door,
        {
            "household_size": "3",
            "members": MEMBERS,
            "visitors": [{}, {"visitor_relation": "friend"}],
            "crowded": "yes",
        },
    )
    response = post(client, body, token)
    assert response.status_code == 201, response.get_json()
    with demo.app_context():
        stored = db.session.scalar(select(Response).where(Response.uuid == body["uuid"]))
        assert stored.answer_dict() == {
            "household_size": 3,
            "members": STORED_MEMBERS,
            "visitors": [{}, {"visitor_relation": "friend"}],  # an empty instance is kept
            "crowded": "yes",
        }
        rows = db.session.execute(
            select(Answer.repeat_group, Answer.instance, Answer.question, Answer.value)
            .where(Answer.response_id == stored.id)
            .order_by(Answer.id)
        ).all()
    assert rows[:3] == [
        ("", 0, "household_size", "3"),
        ("members", 1, "members", ""),
        ("members", 1, "member_name", "张三"),
    ]
    assert ("members", 3, "member_age", "70") in rows
    assert ("visitors", 1, "visitors", "") in rows and ("", 0, "crowded", "yes") in rows
    # the identical interview sent again is a duplicate, not a conflict
    assert post(client, body, token).status_code == 200
    # the supervisor's review page lists each member's answers
    login(client, *MANAGER)
    page = client.get(f"/review/responses/{stored.id}").get_data(as_text=True)
    assert "家庭成员 2 · 年龄" in page and "家庭成员 1 · 职业" in page and "农民" in page


def test_an_invalid_instance_is_refused_naming_it(demo, client, token, door, roster_survey):
    members = [dict(m) for m in MEMBERS]
    members[1]["member_age"] = "two hundred"
    body = submission(door, {"household_size": 3, "members": members, "crowded": "yes"})
    response = post(client, body, token)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert errors[0]["field"] == "members[2].member_age"
    assert (errors[0]["repeat"], errors[0]["instance"], errors[0]["question"]) == (
        "members",
        2,
        "member_age",
    )
    assert errors[0]["kind"] == "not_integer"

    wrong_count = submission(door, {"household_size": 4, "members": MEMBERS, "crowded": "yes"})
    response = post(client, wrong_count, token)
    assert response.status_code == 422
    error = response.get_json()["errors"][0]
    assert (error["field"], error["kind"]) == ("members", "repeat_count")
    assert "4" in error["message"] and "3" in error["message"]


@pytest.mark.parametrize(
    "members",
    [[{"member_name": ["a", {"b": 1}]}], [{"member_age": True}], [{"member_name": None}, 3]],
)
def test_malformed_instances_are_400(demo, client, token, door, roster_survey, members):
    body = submission(door, {"household_size": 1, "members": members})
    response = post(client, body, token)
    assert response.status_code in (400, 422), response.get_json()
    assert "members" in response.get_json()["message"] + str(response.get_json().get("errors"))


# A roster whose count is any number ("how many people live here" without a max).
UNBOUNDED = """\
id: unbounded-roster
version: 1
title: {zh_CN: 家庭成员, en: Household}
languages: [zh_CN, en]
groups:
  - id: household
    title: {zh_CN: 住户, en: Household}
    questions:
      - {id: size, type: decimal, label: {zh_CN: 几口人？, en: "How many?"}}
  - id: people
    title: {zh_CN: 成员, en: People}
    repeat: {count: "${size}"}
    questions:
      - {id: person, type: text, label: {zh_CN: 姓名, en: Name}}
"""


@pytest.fixture
def unbounded_wave(demo):
    use_questionnaire(demo, UNBOUNDED, "unbounded.yaml")


@pytest.mark.parametrize(
    ("size", "sent"), [("50000000000000000", 0), (101, 101), ("99999999999999999999.5", 3)]
)
def test_a_count_above_the_limit_is_422_naming_the_roster(
    demo, client, token, door, unbounded_wave, size, sent
):
    """A repeat has at most MAX_INSTANCES (100) instances: a count above it is an answer
    error naming the roster and the count, never a 500, nothing stored."""
    people = [{"person": f"p{i}"} for i in range(sent)]
    body = submission(door, {"size": size, "people": people})
    response = post(client, body, token)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["errors"][0]
    assert (error["field"], error["kind"]) == ("people", "repeat_too_many")
    assert "100" in error["message"]
    with demo.app_context():
        assert db.session.scalar(select(Response).where(Response.uuid == body["uuid"])) is None
