"""Quality control: flags checked on constructed interviews, review decisions (a rejected
interview leaves the estimates but stays stored), back-checks scored per enumerator, the
dashboard's figures counted independently, assignments."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.fieldwork import review as reviews
from surveyapp.fieldwork.quality import km_between, scales, straightlines, wave_quality
from surveyapp.models import Response, User, Wave
from surveyapp.models.fieldwork import BackCheck, ResponseParadata, ReviewEvent
from surveyapp.services.wave_snapshot import extract_wave

from .test_cati import ENUM, MANAGER, login


def _wave() -> Wave:
    return db.session.scalar(select(Wave).where(Wave.code == "2026-Q4"))


def _user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def test_straightlining_and_distance_by_hand():
    sets = [["a", "b", "c", "d", "e"], ["x", "y"]]
    assert straightlines({"a": "1", "b": "1", "c": "1", "d": "1", "e": "1"}, sets, 5)
    assert not straightlines({"a": "1", "b": "1", "c": "1", "d": "1", "e": "2"}, sets, 5)
    assert not straightlines({"a": "1", "b": "1", "c": "1", "d": "1"}, sets, 5)
    # One degree of latitude is 111.19 km on a 6371 km sphere (2 * pi * 6371 / 360).
    assert km_between(32.0, 118.0, 33.0, 118.0) == pytest.approx(111.195, abs=0.01)


def test_flags_on_constructed_interviews(demo):
    with demo.app_context():
        wave = _wave()
        schema = wave.survey.questionnaire_version.schema
        satisfaction = next(qids for qids in scales(schema) if "police_satisfaction" in qids)
        assert len(satisfaction) >= 5
        rows = db.session.scalars(
            select(Response).where(Response.wave_id == wave.id).order_by(Response.id)
        ).all()
        assert len(rows) >= 10
        # Ten interviews of 10 minutes at 10:00 local (02:00 UTC), then three special ones.
        base = datetime(2026, 11, 20, 2, 0)
        for r in rows:
            r.started_at, r.ended_at = base, base + timedelta(minutes=10)
        fast, night, far = rows[0], rows[1], rows[2]
        fast.ended_at = fast.started_at + timedelta(minutes=4)  # 4 < 0.5 * 10
        night.started_at = datetime(2026, 11, 20, 15, 0)  # 23:00 local
        night.ended_at = night.started_at + timedelta(minutes=10)
        for i, r in enumerate(rows[2:8]):
            # Five points near the locality's centre, one 5 km north of it.
            lat = 32.06 + (0.045 if r is far else 0.0001 * i)
            db.session.add(
                ResponseParadata(response_id=r.id, gps_lat=lat, gps_lon=118.78, gps_accuracy_m=10)
            )
            r.locality_id = rows[2].locality_id
        db.session.commit()
        quality = wave_quality(wave)
        assert "speeding" in quality[fast.id].flags
        assert "out_of_hours" in quality[night.id].flags
        assert "out_of_area" in quality[far.id].flags
        assert "out_of_area" not in quality[rows[3].id].flags
        expected_straight = set()
        for r in rows:
            given = [v for q, v in r.answer_dict().items() if q in satisfaction]
            if len(given) >= 5 and len(set(given)) == 1:
                expected_straight.add(r.id)
        flagged = {rid for rid, q in quality.items() if "straightlining" in q.flags}
        assert flagged == expected_straight


def test_reject_removes_from_estimates_keeps_for_audit_and_enumerator_sees_why(demo, client):
    with demo.app_context():
        wave = _wave()
        schema = wave.survey.questionnaire_version.schema
        before = extract_wave(wave, schema)
        enumerator = _user("enumerator")
        target = db.session.scalar(
            select(Response)
            .where(Response.wave_id == wave.id, Response.id.in_(before.response_ids.tolist()))
            .order_by(Response.id)
        )
        target.enumerator_id = enumerator.id
        db.session.commit()
        rid = target.id
    login(client, *MANAGER)
    missing = client.post(f"/review/responses/{rid}", data={"action": "reject", "reason": " "})
    assert missing.status_code == 400
    # the reason in the reader's language (Chinese by default)
    assert "请填写理由：调查员会看到它" in missing.get_data(as_text=True)
    bad = client.post(f"/review/responses/{rid}", data={"action": "delete"})
    assert bad.status_code == 400
    done = client.post(
        f"/review/responses/{rid}", data={"action": "reject", "reason": "录音显示未实际入户"}
    )
    assert done.status_code == 303
    with demo.app_context():
        wave = _wave()
        after = extract_wave(wave, wave.survey.questionnaire_version.schema)
        assert after.n == before.n - 1 and rid not in after.response_ids.tolist()
        assert db.session.get(Response, rid).status == "rejected"  # kept, not deleted
        assert db.session.scalar(select(func.count(ReviewEvent.id))) == 1
    login(client, *ENUM)
    page = client.get("/review/mine").get_data(as_text=True)
    assert "录音显示未实际入户" in page and "rejected" in page
    assert client.get(f"/review/responses/{rid}").status_code == 403
    # Approving later brings it back into the estimates.
    login(client, *MANAGER)
    assert client.post(f"/review/responses/{rid}", data={"action": "approve"}).status_code == 303
    with demo.app_context():
        wave = _wave()
        assert extract_wave(wave, wave.survey.questionnaire_version.schema).n == before.n
        wave_id = wave.id
    queue = client.get(f"/review/waves/{wave_id}?state=approved").get_data(as_text=True)
    assert f'data-response="{rid}"' in queue
    assert client.get(f"/review/waves/{wave_id}?state=bogus").status_code == 400


def test_backchecks_drawn_per_enumerator_and_scored(demo, client):
    with demo.app_context():
        wave = _wave()
        counts = dict(
            db.session.execute(
                select(Response.enumerator_id, func.count(Response.id))
                .where(Response.wave_id == wave.id)
                .group_by(Response.enumerator_id)
            ).all()
        )
        added = reviews.draw_backchecks(wave, 0.25, seed=3)
        # ceil(25% of n) per enumerator, computed here independently.
        assert added == sum(-(-n // 4) for e, n in counts.items() if e is not None)
        assert reviews.draw_backchecks(wave, 0.25, seed=4) == 0  # already drawn
        check = db.session.scalars(select(BackCheck).order_by(BackCheck.id)).first()
        stored = check.response.answer_dict()
        check_id, enumerator = check.id, check.enumerator.username
    login(client, *MANAGER)
    asked = {"sex": "f" if stored.get("sex") == "m" else "m"}
    if "age_group" in stored:
        asked["age_group"] = stored["age_group"]
    form = {"confirmed": "yes", **{f"q_{k}": v for k, v in asked.items()}}
    assert client.post(f"/review/backchecks/{check_id}", data={"q_sex": "zz"}).status_code == 400
    assert client.post(f"/review/backchecks/{check_id}", data=form).status_code == 303
    assert client.post(f"/review/backchecks/{check_id}", data=form).status_code == 409
    with demo.app_context():
        score = next(
            s for s in reviews.backcheck_scores(_wave()) if s.enumerator.username == enumerator
        )
        assert score.done == 1 and score.items == len(asked) and score.mismatches == 1
    page = client.get(f"/review/waves/{_wave_id(demo)}/backchecks").get_data(as_text=True)
    assert enumerator in page


def _wave_id(app) -> int:
    with app.app_context():
        return _wave().id


def test_dashboard_json_counts_match_an_independent_count(demo, client):
    login(client, *MANAGER)
    wave_id = _wave_id(demo)
    data = client.get(f"/dashboard/waves/{wave_id}/data.json").get_json()
    with demo.app_context():
        rows = db.session.scalars(select(Response).where(Response.wave_id == wave_id)).all()
        by_street: dict[str, int] = {}
        for r in rows:
            if r.status != "rejected":
                by_street[r.street.code] = by_street.get(r.street.code, 0) + 1
    assert {s["code"]: s["completed"] for s in data["streets"] if s["completed"]} == by_street
    assert data["totals"]["completed"] == sum(by_street.values())
    assert sum(r["interviews"] for r in data["per_enumerator_day"]) == sum(by_street.values())
    assert set(data["flags"]) == {"speeding", "straightlining", "out_of_hours", "out_of_area"}
    page = client.get(f"/dashboard/waves/{wave_id}").get_data(as_text=True)
    assert "js/dashboard.js" in page and "data.json" in page


def test_assignments_by_manager(demo, client):
    wave_id = _wave_id(demo)
    login(client, *MANAGER)
    with demo.app_context():
        street = next(c for c in _wave().survey.district.children if c.level == "street")
        community = street.children[0].code
    bad = client.post(
        f"/assignments/waves/{wave_id}",
        data={"enumerator": "nobody", "locality": community, "mode": "door", "target": "30"},
    )
    assert bad.status_code == 400 and "没有名为“nobody”的调查员" in bad.get_data(as_text=True)
    bad = client.post(
        f"/assignments/waves/{wave_id}",
        data={"enumerator": "field05", "locality": "000", "mode": "door", "target": "30"},
    )
    assert bad.status_code == 400 and "没有代码为“000”的地区" in bad.get_data(as_text=True)
    ok = client.post(
        f"/assignments/waves/{wave_id}",
        data={"enumerator": "field05", "locality": community, "mode": "door", "target": "30"},
    )
    assert ok.status_code == 303
    page = client.get(f"/assignments/waves/{wave_id}").get_data(as_text=True)
    assert "field05" in page
    login(client, *ENUM)
    assert client.get(f"/assignments/waves/{wave_id}").status_code == 403


def test_sent_back_interview_is_corrected_under_its_uuid(demo, client, token, door):
    from .conftest import bearer, full_answers, submission

    answers = full_answers(demo, seed=5)
    body = submission(door, answers)
    assert client.post("/api/v1/submissions", json=body, headers=bearer(token)).status_code == 201
    with demo.app_context():
        rid = db.session.scalar(select(Response.id).where(Response.uuid == body["uuid"]))
    assert client.get("/api/v1/sent-back", headers=bearer(token)).get_json() == {"interviews": []}
    login(client, *MANAGER)
    assert (
        client.post(
            f"/review/responses/{rid}", data={"action": "send_back", "reason": "第3题请重新核实"}
        ).status_code
        == 303
    )
    client.post("/auth/logout")
    listed = client.get("/api/v1/sent-back", headers=bearer(token)).get_json()["interviews"]
    assert [i["uuid"] for i in listed] == [body["uuid"]]
    assert listed[0]["reason"] == "第3题请重新核实"
    assert listed[0]["submission"]["assignment"] == door["id"]
    assert listed[0]["submission"]["answers"]["security_overall"] == answers["security_overall"]
    # The same interview again: nothing changes.
    again = client.post("/api/v1/submissions", json=body, headers=bearer(token))
    assert again.status_code == 200 and again.get_json()["outcome"] == "duplicate"
    # An invalid correction is refused and changes nothing.
    wrong = dict(body, answers={**answers, "security_overall": "99"})
    refused = client.post("/api/v1/submissions", json=wrong, headers=bearer(token))
    assert refused.status_code == 422
    # A valid correction replaces the answers and goes back to the queue.
    new_code = "1" if answers["security_overall"] != "1" else "2"
    fixed = dict(body, answers={**answers, "security_overall": new_code})
    from surveyapp.services.reports import wave_fingerprint

    with demo.app_context():
        before = wave_fingerprint(db.session.get(Response, rid).wave)
    done = client.post("/api/v1/submissions", json=fixed, headers=bearer(token))
    assert done.status_code == 200 and done.get_json()["outcome"] == "corrected"
    with demo.app_context():
        response = db.session.get(Response, rid)
        assert response.answer_dict()["security_overall"] == new_code
        # Same rows, new answers: cached reports of the wave must not be reused.
        assert response.revised_at is not None
        assert wave_fingerprint(response.wave) != before
        assert reviews.review_of(response).state == "pending"
        actions = [e.action for e in reviews.history(response)]
        assert actions == ["send_back", "resubmitted"]
        assert (
            db.session.scalar(select(func.count(Response.id)).where(Response.uuid == body["uuid"]))
            == 1
        )
    assert client.get("/api/v1/sent-back", headers=bearer(token)).get_json() == {"interviews": []}
    # No longer sent back: a different body is a conflict again.
    other = dict(body, answers={**answers, "security_overall": answers["security_overall"]})
    assert client.post("/api/v1/submissions", json=other, headers=bearer(token)).status_code == 409


def test_a_screened_out_interview_is_not_speeding(demo):
    """A screen-out ends after the screening questions: short by design, not a quality problem."""
    with demo.app_context():
        wave = _wave()
        rows = db.session.scalars(
            select(Response).where(Response.wave_id == wave.id).order_by(Response.id)
        ).all()
        base = datetime(2026, 11, 20, 2, 0)
        for r in rows:
            r.started_at, r.ended_at = base, base + timedelta(minutes=10)
        eligible = [r for r in rows if {"sex", "age_group"} <= set(r.answer_dict())]
        screened, fast = eligible[0], eligible[1]
        for answer in list(screened.answers):
            if answer.question in ("sex", "age_group"):
                db.session.delete(answer)
        screened.ended_at = screened.started_at + timedelta(minutes=1)
        fast.ended_at = fast.started_at + timedelta(minutes=4)
        db.session.commit()
        quality = wave_quality(wave)
        assert "speeding" not in quality[screened.id].flags
        assert "speeding" in quality[fast.id].flags


def test_the_review_queue_speaks_words_not_codes(demo, client):
    """door, pending, speeding were shown as stored; supervisors read words (code in a title)."""
    import re

    with demo.app_context():
        wave = _wave()
        rows = db.session.scalars(
            select(Response).where(Response.wave_id == wave.id).order_by(Response.id)
        ).all()
        base = datetime(2026, 11, 20, 2, 0)
        for r in rows:
            r.started_at, r.ended_at = base, base + timedelta(minutes=10)
        eligible = [r for r in rows if {"sex", "age_group"} <= set(r.answer_dict())]
        eligible[0].ended_at = base + timedelta(minutes=2)
        wave_id = wave.id
        db.session.commit()
    login(client, *MANAGER)
    page = client.get(f"/review/waves/{wave_id}?state=all").get_data(as_text=True)
    visible = re.sub(r"<[^>]+>", " ", page)
    for code in ("speeding", "pending", "door", "phone", "sent_back"):
        assert not re.search(rf"\b{code}\b", visible), code
    for word in ("用时过短", "待审核", "入户访问", "已发回修改"):
        assert word in visible, word
