"""The sync API: tokens, idempotency per UUID, 409, batch statuses, assignment checks,
validation parity with the web form, and 4xx (never 500) for bad input."""

from __future__ import annotations

import json
import uuid as uuidlib

import pytest
import yaml
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import Assignment, Locality, Response, User
from surveyapp.models.fieldwork import ApiToken, ResponseParadata

from .conftest import ENUMERATOR_PASSWORD, bearer, full_answers, submission

URL = "/api/v1/submissions"


def post(client, body, token=None, **kw):
    headers = {**(bearer(token) if token else {}), **kw.pop("headers", {})}
    if isinstance(body, bytes | str):
        return client.post(
            URL,
            data=body,
            headers=headers,
            content_type=kw.pop("content_type", "application/json"),
            **kw,
        )
    return client.post(URL, json=body, headers=headers, **kw)


def count(app, uuid: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Response.id)).where(Response.uuid == uuid))


def test_token_command_prints_a_token_stored_only_as_hash(demo, token):
    assert token.startswith("sa_") and len(token) > 30
    with demo.app_context():
        rows = db.session.scalars(select(ApiToken)).all()
        assert len(rows) == 1
        assert rows[0].token_hash != token and token not in rows[0].token_hash
        assert rows[0].label == "tablet 1"


def test_token_command_rejects_unknown_user(demo, runner):
    result = runner.invoke(args=["users", "token", "nobody"])
    assert result.exit_code != 0
    assert "没有名为「nobody」的用户" in result.output  # in the default language


def test_revoked_and_unknown_tokens_are_refused(demo, client, runner, token, door):
    assert post(client, submission(door), "sa_wrong").status_code == 401
    again = runner.invoke(args=["users", "token", "enumerator", "--revoke-others"])
    assert again.exit_code == 0
    response = post(client, submission(door), token)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "撤销" in response.get_json()["message"]  # Chinese by default
    fresh = again.stdout.strip().splitlines()[0]
    assert post(client, submission(door), fresh).status_code == 201


def test_a_token_s_last_use_is_recorded_at_most_every_few_minutes(demo, client, token, door):
    from datetime import datetime, timedelta

    def last_used():
        with demo.app_context():
            return db.session.scalar(select(ApiToken.last_used_at))

    assert last_used() is None
    assert post(client, submission(door), token).status_code == 201
    first = last_used()
    assert first is not None and abs(datetime.utcnow() - first) < timedelta(minutes=1)
    assert post(client, submission(door), token).status_code == 201
    assert last_used() == first  # not a write for every request
    with demo.app_context():
        db.session.execute(
            ApiToken.__table__.update().values(last_used_at=first - timedelta(hours=1))
        )
        db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    assert last_used() > first - timedelta(seconds=1)
    # A deactivated user's token is refused like a revoked one, and not touched.
    with demo.app_context():
        user = db.session.scalar(select(User).where(User.username == "enumerator"))
        user.active = False
        db.session.execute(ApiToken.__table__.update().values(last_used_at=None))
        db.session.commit()
    assert post(client, submission(door), token).status_code == 401
    assert last_used() is None


def test_no_credentials_is_401_json(demo, client, door):
    response = post(client, submission(door))
    assert response.status_code == 401
    assert response.is_json and "令牌" in response.get_json()["message"]
    assert client.post(URL, json={}, headers={"Authorization": "Basic abc"}).status_code == 401


def test_single_submission_created_then_duplicate_then_conflict(demo, client, token, door):
    body = submission(door)
    first = post(client, body, token)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["outcome"] == "created"
    # The tablet did not get the answer and sends the same interview again.
    again = post(client, body, token)
    assert again.status_code == 200
    assert again.get_json()["outcome"] == "duplicate"
    # Timestamps and paradata are not part of the interview's identity.
    retimed = dict(body, ended_at="2026-11-23T09:40:00+08:00", paradata={"device": "x"})
    assert post(client, retimed, token).status_code == 200
    changed = dict(body, answers={"resident_6m": "yes", "age_16plus": "no"})
    conflict = post(client, changed, token)
    assert conflict.status_code == 409
    assert conflict.get_json()["outcome"] == "conflict"
    assert count(demo, body["uuid"]) == 1
    with demo.app_context():
        stored = db.session.scalar(select(Response).where(Response.uuid == body["uuid"]))
        assert stored.answer_dict() == {"resident_6m": "no", "age_16plus": "yes"}
        assert stored.enumerator.username == "enumerator"
        assert stored.mode == "door" and stored.language == "zh_CN"
        assert stored.locality.code == door["grid"]
        # 09:30 in Shanghai is 01:30 UTC.
        assert stored.started_at.hour == 1 and stored.started_at.minute == 30


def test_batch_gives_each_item_its_own_status(demo, client, token, door):
    existing = submission(door)
    assert post(client, existing, token).status_code == 201
    with demo.app_context():
        elsewhere = (
            db.session.scalar(select(Locality).where(Locality.code == "320106005")).children[0].code
        )
    fresh = submission(door)
    items = [
        fresh,  # 201 created
        existing,  # 200 duplicate
        dict(existing, answers={"resident_6m": "yes", "age_16plus": "no"}),  # 409 conflict
        submission(door, {"resident_6m": "maybe"}),  # 422 invalid
        submission(door, locality=elsewhere),  # 403 outside the assignment
        {"uuid": str(uuidlib.uuid4()), "answers": {}},  # 400 no wave
        "not an object",  # 400
        fresh,  # 200 repeated in the batch
        dict(submission(door), uuid="not-a-uuid"),  # 400
    ]
    response = post(client, {"submissions": items}, token)
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [201, 200, 409, 422, 403, 400, 400, 200, 400]
    assert [r["index"] for r in results] == list(range(len(items)))
    assert [r["outcome"] for r in results][:5] == [
        "created",
        "duplicate",
        "conflict",
        "invalid",
        "forbidden",
    ]
    invalid = results[3]
    named = {e["question"]: e for e in invalid["errors"]}
    assert named["resident_6m"]["kind"] == "unknown_code"
    assert named["resident_6m"]["message"]  # worded for the enumerator
    assert "age_16plus" in named and named["age_16plus"]["kind"] == "required"
    assert "wave" in results[5]["message"]
    assert response.get_json()["counts"] == {
        "created": 1,
        "duplicate": 2,
        "conflict": 1,
        "invalid": 1,
        "forbidden": 1,
        "bad_request": 3,
    }
    assert count(demo, fresh["uuid"]) == 1
    # A JSON array is a batch too.
    as_array = post(client, [submission(door), submission(door)], token)
    assert [r["status"] for r in as_array.get_json()["results"]] == [201, 201]


def test_a_uuid_twice_in_one_batch_is_stored_once(demo, client, token, door):
    first = submission(door)
    changed = dict(first, answers={"resident_6m": "yes", "age_16plus": "no"})
    response = post(client, {"submissions": [first, first, changed]}, token)
    assert [r["status"] for r in response.get_json()["results"]] == [201, 200, 409]
    assert count(demo, first["uuid"]) == 1


def test_a_resend_stored_by_another_server_meanwhile_is_still_stored_once(
    demo, client, token, door, monkeypatch
):
    """The interview arrives on another server between this one's duplicate check and its
    insert: the insert fails on the unique UUID and the item is judged again, as a resend."""
    from surveyapp.fieldwork import sync

    body = submission(door)
    assert post(client, body, token).status_code == 201
    # As if the check had run before the other server's commit: nothing stored yet.
    monkeypatch.setattr(sync, "_stored", lambda user, pending: {})
    again = post(client, body, token)
    assert (again.status_code, again.get_json()["outcome"]) == (200, "duplicate")
    changed = dict(body, answers={"resident_6m": "yes", "age_16plus": "no"})
    fresh = submission(door)
    batch = post(client, [changed, fresh], token)
    assert [r["outcome"] for r in batch.get_json()["results"]] == ["conflict", "created"]
    assert count(demo, body["uuid"]) == 1 and count(demo, fresh["uuid"]) == 1
    with demo.app_context():
        stored = db.session.scalar(select(Response).where(Response.uuid == fresh["uuid"]))
        paradata = db.session.scalars(
            select(ResponseParadata).where(ResponseParadata.response_id == stored.id)
        ).all()
        assert len(paradata) == 1
        assert stored.answer_dict() == {"resident_6m": "no", "age_16plus": "yes"}


def test_paradata_is_stored_with_the_response(demo, client, token, door):
    body = submission(
        door,
        paradata={
            "device": "Android 14; Chrome 131",
            "group_seconds": {"screening": 12.5},
            "saved_at": "2026-11-23T09:38:05+08:00",
            "gps": {"consent": True, "lat": 32.06, "lon": 118.78, "accuracy": 15},
        },
    )
    assert post(client, body, token).status_code == 201
    with demo.app_context():
        row = db.session.scalar(
            select(ResponseParadata).join(Response).where(Response.uuid == body["uuid"])
        )
        assert row.device.startswith("Android") and row.group_seconds == {"screening": 12.5}
        assert (row.gps_lat, row.gps_lon, row.gps_accuracy_m) == (32.06, 118.78, 15.0)
        assert row.channel == "api"


def test_gps_without_consent_is_refused(demo, client, token, door):
    body = submission(door, paradata={"gps": {"lat": 32.0, "lon": 118.0}})
    response = post(client, body, token)
    assert response.status_code == 400
    assert "consent" in response.get_json()["message"]
    assert count(demo, body["uuid"]) == 0


def test_assignment_checks(demo, client, token, door):
    with demo.app_context():
        field = db.session.scalar(select(User).where(User.username == "field01"))
        other = Assignment(
            wave_id=door["wave"],
            enumerator_id=field.id,
            locality_id=db.session.scalar(select(Locality.id).where(Locality.code == "320106005")),
            mode="door",
        )
        db.session.add(other)
        db.session.commit()
        other_id = other.id
        closed_wave = next(w for w in other.wave.survey.waves if not w.is_open)
    # Another enumerator's assignment.
    response = post(client, submission(door, assignment=other_id), token)
    assert response.status_code == 403 and "不是您的任务" in response.get_json()["message"]
    # A wave without an assignment of the sender.
    no_assignment = submission(door, wave=closed_wave.id)
    del no_assignment["assignment"]
    response = post(client, no_assignment, token)
    assert response.status_code == 403
    # A locality outside the assignment (another street's community) is refused.
    response = post(client, submission(door, locality="320106005"), token)
    assert response.status_code == 403 and "320106005" in response.get_json()["message"]
    # An unknown locality code is a bad request, named.
    response = post(client, submission(door, locality="999"), token)
    assert response.status_code == 400 and "999" in response.get_json()["message"]
    # Ids no assignment can have (beyond PostgreSQL's integer, zero, negative): refused as
    # any unknown assignment, never a 500 (PostgreSQL refused to compare 2**31 with an id).
    for impossible in (2**31, 2**40, 0, -1):
        response = post(client, submission(door, assignment=impossible), token)
        assert 400 <= response.status_code < 500, (impossible, response.get_json())


def test_only_enumerators_submit(demo, client, runner, door):
    manager_token = runner.invoke(args=["users", "token", "manager"]).stdout.split()[0]
    response = post(client, submission(door), manager_token)
    assert response.status_code == 403 and "enumerator" in response.get_json()["message"]


@pytest.mark.parametrize(
    "body, status, words",
    [
        (b"{not json", 400, "不是有效的 JSON"),
        (b"", 400, "为空"),
        (b"\xff\xfe", 400, "JSON"),
        (b"42", 400, "访问记录"),
        (b'{"submissions": 5}', 400, "数组"),
        (b'{"submissions": []}', 400, "没有任何访问记录"),
        (b"[" + b"[" * 5000 + b"]" * 5001, 400, ""),
    ],
)
def test_bad_bodies_get_a_message_and_400(demo, client, token, body, status, words):
    response = post(client, body, token)
    assert response.status_code == status
    assert response.is_json
    assert words in response.get_json()["message"]


def test_wrong_content_type_and_huge_batches(demo, client, token, door):
    response = client.post(
        URL, data=json.dumps(submission(door)), headers=bearer(token), content_type="text/plain"
    )
    assert response.status_code == 415
    response = post(client, [submission(door)] * 501, token)
    assert response.status_code == 413 and "500" in response.get_json()["message"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"answers": []}, "answers"),
        ({"answers": {"resident_6m": {"x": 1}}}, "answers.resident_6m"),
        ({"answers": {"resident_6m": True}}, "answers.resident_6m"),
        ({"started_at": "yesterday"}, "started_at"),
        ({"started_at": 5}, "started_at"),
        ({"ended_at": "2026-11-23T08:00:00+08:00"}, "ended_at"),
        ({"ended_at": "2099-01-01T00:00:00Z"}, "将来"),
        ({"assignment": "1"}, "assignment"),
        ({"mode": "fax"}, "fax"),
        ({"language": "xx"}, "xx"),
        ({"uuid": 7}, "uuid"),
        ({"paradata": []}, "paradata"),
        ({"paradata": {"group_seconds": {"a": -1}}}, "group_seconds"),
        ({"paradata": {"device": 3}}, "device"),
        ({"cati_case": "x"}, "cati_case"),
    ],
)
def test_malformed_items_are_400_naming_the_field(demo, client, token, door, change, field):
    body = submission(door)
    body.update(change)
    response = post(client, body, token)
    assert response.status_code == 400, response.get_json()
    assert field in response.get_json()["message"]


def test_closed_wave_is_409_closed(demo, client, token, door):
    with demo.app_context():
        a = db.session.get(Assignment, door["id"])
        a.wave.is_open = False
        db.session.commit()
    response = post(client, submission(door), token)
    assert response.status_code == 409 and response.get_json()["outcome"] == "closed"


def test_session_authentication_for_the_app_pages(demo, client, auth, door):
    auth.login("enumerator", ENUMERATOR_PASSWORD)
    body = submission(door)
    assert post(client, body).status_code == 201
    # A cross-site page cannot use the session (the browser sends its Origin).
    response = post(client, submission(door), headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert client.get("/api/v1/me").get_json()["auth"] == "session"


def test_submission_status_for_own_interviews_only(demo, client, token, runner, door):
    body = submission(door)
    post(client, body, token)
    response = client.get(f"{URL}/{body['uuid']}", headers=bearer(token))
    assert response.status_code == 200
    assert response.get_json()["review"]["state"] == "pending"
    assert client.get(f"{URL}/{uuidlib.uuid4()}", headers=bearer(token)).status_code == 404
    runner.invoke(
        args=["users", "create", "enum2", "--role", "enumerator", "--password", "enum2-password"]
    )
    other = runner.invoke(args=["users", "token", "enum2"]).stdout.split()[0]
    assert client.get(f"{URL}/{body['uuid']}", headers=bearer(other)).status_code == 404


@pytest.mark.parametrize(
    "tamper, kind",
    [
        (("security_overall", "7"), "unknown_code"),  # a code outside the question's list
        (("problem_solved", "1"), "not_relevant"),  # a question the skip logic skips
        (("years_here", "abc"), "not_integer"),  # not a number
        (("nonexistent", "1"), "unknown_question"),  # no such question
    ],
)
def test_api_refuses_what_the_questionnaire_refuses(demo, client, token, door, tamper, kind):
    """The API's answer checks are the questionnaire's own (clean_answers), named per question."""
    from surveyapp.questionnaire import clean_answers

    plan = full_answers(demo, seed=5)
    plan["reported_problem"] = "no"
    plan = {k: v for k, v in plan.items() if not k.startswith("problem_")}
    key, value = tamper
    answers = {**plan, key: value}
    with demo.app_context():
        schema = db.session.get(Assignment, door["id"]).wave.questionnaire_version.schema
        _cleaned, errors = clean_answers(schema, plan)
        assert errors == []  # the untampered interview is valid
        _cleaned, errors = clean_answers(schema, answers)
        expected = {(e.question, e.kind) for e in errors}
    api = post(client, submission(door, answers), token)
    assert api.status_code == 422
    got = {(e["question"], e["kind"]) for e in api.get_json()["errors"]}
    assert got == expected
    assert (key, kind) in got
    assert count(demo, api.get_json()["uuid"]) == 0


def test_openapi_description_is_served_and_matches_the_repository(demo, client):
    from surveyapp.web.api import OPENAPI_FILE

    response = client.get("/api/v1/openapi.yaml")
    assert response.status_code == 200
    doc = yaml.safe_load(response.get_data(as_text=True))
    assert response.get_data() == OPENAPI_FILE.read_bytes()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) >= {
        "/submissions",
        "/submissions/{uuid}",
        "/assignments",
        "/questionnaires/{version_id}",
        "/me",
    }
    statuses = set(doc["paths"]["/submissions"]["post"]["responses"])
    assert {"200", "201", "400", "401", "403", "409", "413", "415", "422"} <= statuses
    # Every route of the blueprint is described.
    rules = {
        r.rule.removeprefix("/api/v1")
        for r in demo.url_map.iter_rules()
        if r.endpoint.startswith("api.")
    }
    described = {
        p.replace("{version_id}", "<int:version_id>").replace("{uuid}", "<uuid>")
        for p in doc["paths"]
    }
    assert rules <= described


def test_assignments_and_questionnaire_for_the_tablet(demo, client, token, door):
    listing = client.get("/api/v1/assignments", headers=bearer(token))
    assert listing.status_code == 200
    assignments = listing.get_json()["assignments"]
    first = next(a for a in assignments if a["id"] == door["id"])
    assert door["grid"] in {loc["code"] for loc in first["localities"]}
    version_id = first["questionnaire"]["version_id"]
    doc = client.get(f"/api/v1/questionnaires/{version_id}", headers=bearer(token)).get_json()
    assert doc["groups"][0]["id"] == "screening"
    security = next(g for g in doc["groups"] if g["id"] == "security")
    # Conditions arrive parsed: the tablet evaluates the tree and never parses the text.
    assert security["relevant"]["source"].startswith("${resident_6m}")
    assert security["relevant"]["tree"][0] == "and"
    assert doc["condition_format"] == security["relevant"]["format"] == 1
    assert client.get("/api/v1/questionnaires/9999", headers=bearer(token)).status_code == 403


def test_officials_cannot_read_assignments_or_questionnaires(demo, client, runner):
    official = runner.invoke(args=["users", "token", "official"]).stdout.split()[0]
    assert client.get("/api/v1/assignments", headers=bearer(official)).status_code == 403
    assert client.get("/api/v1/questionnaires/1", headers=bearer(official)).status_code == 403
    assert client.get("/api/v1/nothing", headers=bearer(official)).status_code == 404
    assert client.put(URL, headers=bearer(official)).status_code == 405


def test_a_nul_character_is_refused_not_a_500(demo, client, token, door):
    # PostgreSQL's text columns cannot hold 0x00: before this check a device name with one
    # was a 500 there (and stored on SQLite).
    body = submission(door, paradata={"device": "tablet\x00"})
    response = post(client, {"submissions": [body]}, token)
    assert response.status_code == 400
    assert "NUL" in response.get_json()["message"]
    assert count(demo, body["uuid"]) == 0


def test_refusals_follow_the_interface_language_and_keep_their_codes(demo, client, token, door):
    """Refusals are worded by the catalogs: Chinese by default, English for an English
    interface; the outcome, the error kinds and the body error's code stay machine codes."""
    items = [
        submission(door, {"resident_6m": "maybe"}),
        dict(submission(door), uuid="not-a-uuid"),
        {"uuid": str(uuidlib.uuid4()), "answers": {}},
    ]

    def refusals():
        results = post(client, {"submissions": items}, token).get_json()["results"]
        assert [r["outcome"] for r in results] == ["invalid", "bad_request", "bad_request"]
        assert results[0]["errors"][0]["kind"] == "unknown_code"
        empty = post(client, b"", token)
        assert empty.status_code == 400 and empty.get_json()["code"] == "bad_request"
        return [r["message"] for r in results] + [empty.get_json()["message"]]

    assert refusals() == [
        "部分回答无效",
        "“not-a-uuid”不是有效的 UUID",
        "缺少 wave（或 assignment）",
        "请求内容为空：请以 JSON 发送一份访问记录",
    ]
    with client.session_transaction() as session:
        session["lang"] = "en"
    assert refusals() == [
        "some answers are not valid",
        "'not-a-uuid' is not a valid UUID",
        "'wave' (or 'assignment') is missing",
        "the request body is empty: send a submission as JSON",
    ]
