"""Waves: creation, the life of a wave (open, close, reopen, release) with its audit trail, and
each wave's own questionnaire version reaching the web form, the tablets and the sync API."""

from __future__ import annotations

import uuid as uuidlib
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import (
    Assignment,
    AuditEvent,
    Locality,
    QuestionnaireVersion,
    Response,
    Survey,
    User,
    Wave,
)
from surveyapp.services.questionnaires import store_questionnaire
from surveyapp.services.waves import (
    SurveyOperationError,
    close_wave,
    create_wave,
    find_questionnaire,
    open_wave,
    release_wave,
    reopen_wave,
)

from ..fieldwork.conftest import bearer, full_answers, token  # noqa: F401  (fixture)

QUESTIONNAIRE = (
    Path(__file__).resolve().parents[2] / "questionnaires" / "public-security-satisfaction.yaml"
)


def version_two_text() -> str:
    """Version 2: 'security' counts only very safe and safe (1, 2) as positive."""
    text = QUESTIONNAIRE.read_text(encoding="utf-8")
    text = text.replace("\nversion: 1\n", "\nversion: 2\n", 1)
    old = "    question: security_overall\n    positive: [1, 2, 3]\n"
    assert text.count(old) == 1
    return text.replace(old, "    question: security_overall\n    positive: [1, 2]\n")


def _survey() -> Survey:
    return db.session.get(Survey, 1)


def test_a_new_wave_is_planned_on_the_latest_published_version(demo):
    with demo.app_context():
        survey = _survey()
        v1 = survey.questionnaire_version
        v2, _ = store_questionnaire(version_two_text(), source="v2.yaml")
        wave = create_wave(survey, code="2027-Q1", starts_on="2027-01-01", ends_on="2027-03-31")
        assert wave.state == "planned" and not wave.is_open and not wave.is_released
        assert wave.questionnaire_version_id == v2.id
        assert wave.position == max(w.position for w in survey.waves)
        pinned = create_wave(
            survey, code="2027-X", starts_on=date(2027, 1, 1), ends_on=date(2027, 1, 2),
            questionnaire=f"{v1.slug}@1",
        )  # fmt: skip
        assert pinned.questionnaire_version_id == v1.id
        event = db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "wave_created", AuditEvent.target == "survey 1 wave 2027-Q1"
            )
        )
        assert event.detail["questionnaire"].endswith("@2")
        assert event.username == "(command line)"


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"code": ""}, "code", "not a wave code"),
        ({"code": "2026-Q4"}, "code", "already has a wave"),
        ({"code": "a b"}, "code", "not a wave code"),
        ({"starts_on": "2027-02-30"}, "start", "not a date"),
        ({"ends_on": ""}, "end", "the last day is needed"),
        ({"ends_on": "2026-12-31"}, "end", "before it starts"),
        ({"questionnaire": "public-security-satisfaction@9"}, "questionnaire", "no version 9"),
        ({"questionnaire": "other@1"}, "questionnaire", "no version 1 of 'other'"),
        ({"questionnaire": "bad name!"}, "questionnaire", "not a questionnaire name"),
    ],
)
def test_bad_waves_are_refused_naming_the_field(demo, kwargs, field, words):
    with demo.app_context():
        survey = _survey()
        before = len(survey.waves)
        args = {"code": "2027-Q1", "starts_on": "2027-01-01", "ends_on": "2027-03-31"}
        args.update(kwargs)
        with pytest.raises(SurveyOperationError) as info:
            create_wave(survey, **args)
        assert info.value.field == field
        assert words in info.value.message
        db.session.rollback()
        assert len(db.session.get(Survey, 1).waves) == before


def test_a_wave_of_another_questionnaire_is_refused(demo):
    with demo.app_context():
        text = version_two_text().replace(
            "\nid: public-security-satisfaction\n", "\nid: other-survey\n", 1
        )
        assert "id: other-survey" in text
        store_questionnaire(text, source="other.yaml")
        with pytest.raises(SurveyOperationError, match="uses questionnaire"):
            create_wave(
                _survey(), code="X1", starts_on="2027-01-01", ends_on="2027-01-02",
                questionnaire="other-survey",
            )  # fmt: skip


def test_transitions_are_checked_and_audited(demo):
    with demo.app_context():
        wave = create_wave(_survey(), code="2027-Q1", starts_on="2027-01-01", ends_on="2027-03-31")
        for step in (close_wave, reopen_wave, release_wave):
            with pytest.raises(SurveyOperationError) as info:
                step(wave)
            assert info.value.status == 409
        assert wave.state == "planned"
        open_wave(wave)
        assert wave.state == "open" and wave.opened_at is not None
        with pytest.raises(SurveyOperationError, match="already open"):
            open_wave(wave)
        with pytest.raises(SurveyOperationError, match="not closed"):
            reopen_wave(wave)
        close_wave(wave)
        assert wave.state == "closed" and wave.closed_at is not None
        with pytest.raises(SurveyOperationError, match="reopen it instead"):
            open_wave(wave)
        reopen_wave(wave)
        assert wave.state == "open"
        close_wave(wave)
        manager = db.session.scalar(select(User).where(User.username == "manager"))
        release_wave(wave, user=manager)
        assert wave.is_released and wave.released_by_id == manager.id
        with pytest.raises(SurveyOperationError, match="already released"):
            release_wave(wave)
        with pytest.raises(SurveyOperationError, match="cannot be reopened"):
            reopen_wave(wave)
        actions = db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.target == f"survey 1 wave {wave.code}")
            .order_by(AuditEvent.id)
        ).all()
        assert actions == [
            "wave_created",
            "wave_opened",
            "wave_closed",
            "wave_reopened",
            "wave_closed",
            "wave_released",
        ]
        last = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
        assert last.username == "manager"
        assert last.detail["after"] == {"state": "closed", "released": True}


def test_the_demo_waves_were_made_by_the_service(demo):
    with demo.app_context():
        survey = _survey()
        assert [(w.code, w.state, w.is_released) for w in survey.waves] == [
            ("2026-Q3", "closed", True),
            ("2026-Q4", "open", True),
        ]
        assert all(
            w.questionnaire_version_id == survey.questionnaire_version_id for w in survey.waves
        )
        actions = set(db.session.scalars(select(AuditEvent.action)))
        assert {"survey_created", "wave_created", "wave_opened", "wave_released"} <= actions


def test_find_questionnaire_reads_slug_and_number(demo):
    with demo.app_context():
        v2, _ = store_questionnaire(version_two_text(), source="v2.yaml")
        assert find_questionnaire("public-security-satisfaction").id == v2.id
        assert find_questionnaire("public-security-satisfaction@v1").version == 1
        assert find_questionnaire(" public-security-satisfaction@2 ").id == v2.id


# ----------------------------------------------------------------------------- per-wave version


@pytest.fixture
def second_wave(demo):
    """Wave 2027-Q1 on questionnaire v2, open, with a door assignment of the enumerator."""
    with demo.app_context():
        survey = _survey()
        v2, _ = store_questionnaire(version_two_text(), source="v2.yaml")
        wave = create_wave(survey, code="2027-Q1", starts_on="2027-01-01", ends_on="2027-03-31")
        user = db.session.scalar(select(User).where(User.username == "enumerator"))
        community = db.session.scalar(
            select(Locality).where(Locality.level == "community").order_by(Locality.code)
        )
        assignment = Assignment(wave=wave, enumerator=user, locality=community, mode="door")
        db.session.add(assignment)
        db.session.commit()
        open_wave(wave)
        return {
            "wave": wave.id,
            "assignment": assignment.id,
            "grid": community.children[0].code,
            "v1": survey.questionnaire_version_id,
            "v2": v2.id,
        }


def test_tablets_get_each_waves_version_without_reinstalling(
    demo,
    client,
    token,  # noqa: F811
    second_wave,
):
    listed = client.get("/api/v1/assignments", headers=bearer(token))
    assert listed.status_code == 200
    by_wave = {
        a["wave"]["code"]: a["questionnaire"]["version_id"] for a in listed.json["assignments"]
    }
    assert by_wave == {"2026-Q4": second_wave["v1"], "2027-Q1": second_wave["v2"]}
    for version_id, number in ((second_wave["v1"], 1), (second_wave["v2"], 2)):
        document = client.get(f"/api/v1/questionnaires/{version_id}", headers=bearer(token))
        assert document.status_code == 200
        assert document.json["version"] == number
    # An interview of the new wave is checked against, and stored with, version 2.
    key = str(uuidlib.uuid4())
    answers = full_answers(demo)
    sent = client.post(
        "/api/v1/submissions",
        json={
            "uuid": key,
            "assignment": second_wave["assignment"],
            "locality": second_wave["grid"],
            "mode": "door",
            "language": "zh_CN",
            "answers": answers,
        },
        headers=bearer(token),
    )
    assert sent.status_code in (200, 201), sent.json
    with demo.app_context():
        response = db.session.scalar(select(Response).where(Response.uuid == key))
        assert response.questionnaire_version_id == second_wave["v2"]
        assert db.session.get(QuestionnaireVersion, second_wave["v2"]).version == 2


def test_the_offline_app_gets_the_waves_version(demo, client, auth, second_wave):
    from ..fieldwork.conftest import ENUMERATOR_PASSWORD

    auth.login("enumerator", ENUMERATOR_PASSWORD)
    page = client.get(f"/collect/assignments/{second_wave['assignment']}/start")
    assert page.location == "/offline/"
    # The app (session, as on the tablet) loads the assignment with its wave's version.
    listed = client.get("/api/v1/assignments").get_json()["assignments"]
    mine = next(a for a in listed if a["id"] == second_wave["assignment"])
    assert mine["questionnaire"]["version_id"] == second_wave["v2"]
    document = client.get(f"/api/v1/questionnaires/{second_wave['v2']}").get_json()
    assert document["version"] == 2
    with demo.app_context():
        wave = db.session.get(Wave, second_wave["wave"])
        assert wave.questionnaire_version.version == 2
