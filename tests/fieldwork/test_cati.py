"""CATI: the interviewer queue under concurrency (SQLite and PostgreSQL), its order, outcomes
and closing, rates from recorded outcomes, and masking of numbers in every view and export."""

from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.fieldwork import cati
from surveyapp.models import Assignment, Locality, User, Wave
from surveyapp.models.fieldwork import CatiCase

from .conftest import bearer, full_answers

NOW = datetime(2026, 11, 23, 2, 0)  # 10:00 in Shanghai, inside the calling hours
TEAM = ("enumerator", "field01", "field02", "field03")


def _wave() -> Wave:
    return db.session.scalar(select(Wave).where(Wave.code == "2026-Q4"))


def _streets() -> list[Locality]:
    district = _wave().survey.district
    return [c for c in district.children if c.level == "street"]


def numbers(n: int, start: int = 0) -> list[str]:
    return [f"1390000{i:04d}" for i in range(start, start + n)]


def call_list(phones: list[str], streets: list[str]) -> str:
    lines = ["phone,locality,notes"]
    lines += [f"{p},{streets[i % len(streets)]}," for i, p in enumerate(phones)]
    return "\n".join(lines) + "\n"


@pytest.fixture
def team(demo):
    """Four telephone interviewers on the current wave (the demo enumerator and three more)."""
    with demo.app_context():
        wave = _wave()
        for name in TEAM[1:]:
            user = db.session.scalar(select(User).where(User.username == name))
            db.session.add(
                Assignment(
                    wave_id=wave.id,
                    enumerator_id=user.id,
                    locality_id=wave.survey.district_id,
                    mode="phone",
                    target=50,
                )
            )
        db.session.commit()
        return wave.id


def add_cases(app, n: int, start: int = 0) -> list[str]:
    with app.app_context():
        phones = numbers(n, start)
        report = cati.import_call_list(_wave(), call_list(phones, [s.code for s in _streets()]))
        assert report.problems == [] and report.created == n
        return phones


def user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def test_concurrent_claims_never_give_one_case_to_two_interviewers(demo, team):
    add_cases(demo, 40)
    taken: dict[str, list[int]] = {name: [] for name in TEAM}
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(TEAM))

    def work(name: str) -> None:
        try:
            with demo.app_context():
                me = user(name)
                barrier.wait()
                while True:
                    found = cati.next_case(me, now=NOW)
                    if found is None:
                        break
                    taken[name].append(found.id)
                    cati.record_outcome(me, found.id, "disconnected", now=NOW)
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(name,)) for name in TEAM]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    everything = [cid for ids in taken.values() for cid in ids]
    assert len(everything) == 40
    assert len(set(everything)) == 40  # no case went to two interviewers
    with demo.app_context():
        cases = db.session.scalars(select(CatiCase)).all()
        assert {c.status for c in cases} == {"closed"}
        assert all(c.final_code == "4.30" and c.attempts == 1 for c in cases)
        assert len(cases[0].attempt_log) == 1


def test_simultaneous_next_case_gives_distinct_held_cases(demo, team):
    add_cases(demo, 10)
    held: dict[str, int] = {}
    barrier = threading.Barrier(len(TEAM))

    def work(name: str) -> None:
        with demo.app_context():
            me = user(name)
            barrier.wait()
            found = cati.next_case(me, now=NOW)
            held[name] = found.id
            # Asking again gives the same case: one case at a time.
            assert cati.next_case(me, now=NOW).id == found.id
            db.session.remove()

    threads = [threading.Thread(target=work, args=(name,)) for name in TEAM]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(held) == len(TEAM) and len(set(held.values())) == len(TEAM)


def test_queue_order_appointments_fresh_retries_and_closing(demo):
    phones = add_cases(demo, 3)
    with demo.app_context():
        me = user("enumerator")
        cases = {c.phone: c.id for c in db.session.scalars(select(CatiCase))}
        a, b, c = (cases[p] for p in phones)
        # First call: the oldest fresh number; no answer sends it back for two hours.
        assert cati.next_case(me, now=NOW).id == a
        cati.record_outcome(me, a, "no_answer", now=NOW)
        # Second: an appointment for 30 minutes later.
        assert cati.next_case(me, now=NOW).id == b
        with pytest.raises(cati.CatiError, match="appointment needs a date"):
            cati.record_outcome(me, b, "appointment", now=NOW)
        cati.record_outcome(
            me, b, "appointment", now=NOW, appointment_at=NOW + timedelta(minutes=30)
        )
        # The appointment is not due yet, the retry neither: the fresh number comes next.
        assert cati.next_case(me, now=NOW).id == c
        cati.record_outcome(me, c, "busy", now=NOW)
        later = NOW + timedelta(hours=3)
        # Three hours later: the due appointment first, then the longest-waiting retry.
        assert cati.next_case(me, now=later).id == b
        cati.record_outcome(me, b, "refusal_respondent_hard", now=later)
        assert db.session.get(CatiCase, b).status == "closed"
        assert cati.next_case(me, now=later).id == a
        # Without a telephone assignment there is no queue.
        with pytest.raises(cati.CatiError, match="no telephone assignment") as refused:
            cati.next_case(user("field01"), now=NOW)
        assert refused.value.status == 403
    with demo.app_context():
        me = user("enumerator")
        cati.record_outcome(me, a, "no_answer", now=later)
        night = datetime(2026, 11, 23, 15, 0)  # 23:00 in Shanghai
        with pytest.raises(cati.OutsideCallingHours, match="09:00-21:00"):
            cati.next_case(me, now=night)


def test_a_case_closes_after_the_maximum_attempts(demo):
    add_cases(demo, 1)
    with demo.app_context():
        me = user("enumerator")
        survey = _wave().survey
        survey.settings = {**survey.settings, "fieldwork": {"max_attempts": 3}}
        db.session.commit()
        moment = NOW
        codes = ["no_answer", "respondent_unavailable", "busy"]
        for key in codes:
            found = cati.next_case(me, now=moment)
            assert found is not None
            cati.record_outcome(me, found.id, key, now=moment)
            moment += timedelta(hours=5)
            if moment.hour > 12:
                moment = moment.replace(hour=1) + timedelta(days=1)
        case = db.session.scalars(select(CatiCase)).one()
        assert case.status == "closed" and case.attempts == 3
        # Non-contact (2.21) outranks unknown (3.12/3.13) when the attempts run out.
        assert case.final_code == "2.21"
        assert cati.next_case(me, now=moment) is None


def test_rates_from_recorded_outcomes_by_hand(demo):
    add_cases(demo, 6)
    with demo.app_context():
        me = user("enumerator")
        outcomes = [
            "refusal_household_hard",
            "disconnected",
            "business",
            "no_answer",
            "language_barrier",
        ]
        for key in outcomes:
            found = cati.next_case(me, now=NOW)
            cati.record_outcome(me, found.id, key, now=NOW)
        table = cati.wave_rates(_wave())
        # 6 cases: R=1, NE=2, UH=2 (one no answer, one never called: 3.11), O=1.
        assert table.overall.counts.as_dict() == {
            "I": 0,
            "P": 0,
            "R": 1,
            "NC": 0,
            "O": 1,
            "UH": 2,
            "UO": 0,
            "NE": 2,
        }
        assert table.overall.e == pytest.approx(2 / 4)
        assert table.overall.REF1 == pytest.approx(1 / 4)
        assert table.overall.REF2 == pytest.approx(1 / (2 + 0.5 * 2))
        assert table.overall.CON1 == pytest.approx(2 / 4)
        assert sum(r.counts.total for _s, r in table.by_street) == 6


def test_import_reports_rows_and_masks_numbers(demo, runner, tmp_path):
    with demo.app_context():
        street = _streets()[0].code
        text = (
            "phone,locality,notes\n"
            f"138-0013-8000,{street},\n"
            "12345,{street},\n"
            f"13800138000,{street},\n"
            "13900000001,nowhere,\n"
        )
        report = cati.import_call_list(_wave(), text, source="list.csv")
        assert report.created == 0
        assert report.problems[0].startswith("list.csv:3: phone '12*45'") or report.problems[
            0
        ].startswith("list.csv:3:")
        assert any(
            p.startswith("list.csv:4: 电话 138******00 已在第 2 行出现") for p in report.problems
        )
        assert any("list.csv:5: 没有代码为“nowhere”的地区" in p for p in report.problems)
        assert not any("13800138000" in p for p in report.problems)
        assert db.session.scalar(select(CatiCase.id)) is None
    # The command line reports the same and stores nothing.
    path = tmp_path / "list.csv"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["cati", "import", str(path), "--wave", "2026-Q4"])
    assert result.exit_code == 1 and "未导入任何数据" in result.output
    assert "13800138000" not in result.output


def test_import_refuses_a_nul_character_with_its_line(demo):
    # Found by the importers' fuzz test on PostgreSQL, whose text columns cannot hold 0x00:
    # the lookup of the locality code failed with a database error instead of a row message.
    with demo.app_context():
        street = _streets()[0].code
        text = f"phone,locality,notes\n13800138000,{street},\n13900000001,\x00,\n"
        report = cati.import_call_list(_wave(), text, source="list.csv")
        assert report.created == 0
        assert report.problems == [
            "list.csv:3: 含有空字符（0x00）：请将名单另存为 UTF-8 编码的 CSV 文本文件"
        ]
        assert db.session.scalar(select(CatiCase.id)) is None


# --- the web pages -------------------------------------------------------------------------


@pytest.fixture
def anytime(demo):
    demo.config["FIELDWORK"] = {"calling_hours": "00:00-24:00"}
    return demo


def login(client, name, password):
    client.post("/auth/logout")
    response = client.post("/auth/login", data={"username": name, "password": password})
    assert response.status_code in (302, 303)


ENUM = ("enumerator", "enumerator-demo-2026")
MANAGER = ("manager", "manager-demo-2026")


def test_desk_shows_the_number_only_while_the_case_is_held(anytime, client, token):
    phones = add_cases(anytime, 2)
    login(client, *ENUM)
    page = client.get("/cati/").get_data(as_text=True)
    assert "next-case" in page
    assert client.post("/cati/next").status_code == 302
    page = client.get("/cati/").get_data(as_text=True)
    assert phones[0] in page  # the interviewer dials it
    assert "12345" in page  # the verification hotline in the introduction script
    with anytime.app_context():
        case_id = db.session.scalar(select(CatiCase.id).where(CatiCase.phone == phones[0]))
    # Bad input: 4xx with a message, nothing changed.
    bad = client.post(f"/cati/cases/{case_id}/outcome", data={"outcome": "nonsense"})
    assert bad.status_code == 400 and "unknown call outcome" in bad.get_data(as_text=True)
    # The desk offers no outcome until one is chosen: pressing 记录结果 at once records nothing.
    desk = client.get("/cati/").get_data(as_text=True)
    assert "的调查员李强" in desk and "调查员调查员" not in desk
    assert re.search(r'<select name="outcome"[^>]*>\s*<option value="" selected disabled>', desk)
    bad = client.post(f"/cati/cases/{case_id}/outcome", data={"outcome": ""})
    assert bad.status_code == 400 and "请选择本次通话的结果" in bad.get_data(as_text=True)
    bad = client.post(
        f"/cati/cases/{case_id}/outcome", data={"outcome": "appointment", "appointment": "tomorrow"}
    )
    assert bad.status_code == 400 and "tomorrow" in bad.get_data(as_text=True)
    ok = client.post(f"/cati/cases/{case_id}/outcome", data={"outcome": "fax"})
    assert ok.status_code == 302
    page = client.get("/cati/").get_data(as_text=True)
    assert phones[0] not in page and cati.mask_phone(phones[0]) in page
    # Another interviewer cannot record outcomes of a case they do not hold (told in Chinese).
    again = client.post(f"/cati/cases/{case_id}/outcome", data={"outcome": "fax"})
    assert again.status_code in (403, 409)
    assert again.status_code == 403, again.status_code
    assert "这个样本不归您拨打" in again.get_data(as_text=True)

    # The second case completes through the sync API with the interview.
    assert client.post("/cati/next").status_code == 302
    with anytime.app_context():
        second = db.session.scalar(select(CatiCase).where(CatiCase.phone == phones[1]))
        assert second.status == "claimed"
        phone_assignment = db.session.scalar(
            select(Assignment.id).where(
                Assignment.mode == "phone", Assignment.enumerator_id == second.claimed_by_id
            )
        )
        wave_id, street = second.wave_id, second.locality.code
    answers = full_answers(anytime, seed=3)
    body = {
        "uuid": "5f0c6a0e-8b1e-4c1e-9d7a-0a0b0c0d0e01",
        "assignment": phone_assignment,
        "wave": wave_id,
        "locality": street,
        "mode": "phone",
        "language": "zh_CN",
        "answers": answers,
        "cati_case": second.id,
    }
    # A street is above the leaves an editable assignment allows: file it under a grid.
    with anytime.app_context():
        loc = db.session.scalar(select(Locality).where(Locality.code == street))
        while loc.children:
            loc = loc.children[0]
        body["locality"] = loc.code
    stored = client.post("/api/v1/submissions", json=body, headers=bearer(token))
    assert stored.status_code == 201, stored.get_json()
    with anytime.app_context():
        second = db.session.get(CatiCase, second.id)
        assert second.status == "closed" and second.final_code == "1.1"
        assert second.response_uuid == body["uuid"]

    # Masking in every view and export once the cases are closed.
    login(client, *MANAGER)
    pages = [
        f"/cati/waves/{wave_id}",
        f"/cati/waves/{wave_id}/cases.csv",
        f"/review/waves/{wave_id}?state=all",
        f"/dashboard/waves/{wave_id}/data.json",
        f"/dashboard/waves/{wave_id}",
        f"/assignments/waves/{wave_id}",
        f"/review/waves/{wave_id}/backchecks",
    ]
    with anytime.app_context():
        from surveyapp.models import Response

        rid = db.session.scalar(select(Response.id).where(Response.uuid == body["uuid"]))
    pages.append(f"/review/responses/{rid}")
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True)
        for phone in phones:
            assert phone not in text, url
    csv_text = client.get(f"/cati/waves/{wave_id}/cases.csv").get_data(as_text=True)
    assert cati.mask_phone(phones[0]) in csv_text and cati.mask_phone(phones[1]) in csv_text
    login(client, "admin", "admin-demo-2026")
    for url in ("/admin/audit", "/admin/audit.csv"):
        response = client.get(url)
        if response.status_code == 200:
            text = response.get_data(as_text=True)
            assert not any(p in text for p in phones), url
    # Nothing of the response carries the number either.
    with anytime.app_context():
        response = db.session.get(Response, rid)
        assert not any(p in str(v) for v in response.answer_dict().values() for p in phones)


def test_supervisor_pages_check_roles_and_jurisdiction(anytime, client, team):
    wave_id = team
    login(client, *ENUM)
    assert client.get(f"/cati/waves/{wave_id}").status_code == 403
    assert client.get(f"/dashboard/waves/{wave_id}/data.json").status_code == 403
    login(client, "official", "official-demo-2026")
    assert client.get("/cati/").status_code == 403
    assert client.get(f"/review/waves/{wave_id}").status_code == 403
    login(client, *MANAGER)
    assert client.get("/cati/waves/99999").status_code == 404
    assert client.post("/cati/next").status_code == 403
    # Uploads: problems by row, nothing stored, 400 not 500.
    with anytime.app_context():
        street = _streets()[0].code
    bad = client.post(
        f"/cati/waves/{wave_id}/import",
        data={
            "file": (__import__("io").BytesIO(f"phone,locality\n123,{street}\n".encode()), "l.csv")
        },
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400 and "号码名单:2:" in bad.get_data(as_text=True)  # row 2
    good = client.post(
        f"/cati/waves/{wave_id}/sample",
        data={
            "frame": (__import__("io").BytesIO(call_list(numbers(30), [street]).encode()), "f.csv"),
            "per_street": "5",
            "seed": "7",
        },
        content_type="multipart/form-data",
    )
    assert good.status_code == 303
    with anytime.app_context():
        assert Counter(c.source for c in db.session.scalars(select(CatiCase))) == {"sample": 5}
    assert (
        client.post(
            f"/cati/waves/{wave_id}/quota", data={"street": street, "target": "x"}
        ).status_code
        == 400
    )
    assert (
        client.post(
            f"/cati/waves/{wave_id}/quota", data={"street": street, "target": "3"}
        ).status_code
        == 303
    )
    assert "quotas" in client.get(f"/cati/waves/{wave_id}").get_data(as_text=True)


def test_an_outcome_sent_again_after_an_outage_is_stored_once(anytime, client):
    """The desk queues an outcome recorded offline and sends it with its own id until the
    server answers: the same id twice stores one call; a late one for a lost case is refused."""
    from surveyapp.models.fieldwork import CallAttempt

    add_cases(anytime, 2)
    login(client, *ENUM)
    assert client.post("/cati/next").status_code == 302
    with anytime.app_context():
        case_id = db.session.scalar(select(CatiCase.id).where(CatiCase.status == "claimed"))
    json = {"Accept": "application/json"}
    url = f"/cati/cases/{case_id}/outcome"
    sent = {"outcome": "no_answer", "client_id": "3f1c2a9e-1111-4a4a-8b8b-123456789abc"}
    first = client.post(url, data=sent, headers=json)
    assert first.status_code == 200 and first.get_json()["status"] == "recorded"
    again = client.post(url, data=sent, headers=json)  # the answer was lost: sent again
    assert again.status_code == 200
    with anytime.app_context():
        attempts = db.session.scalars(select(CallAttempt)).all()
        assert [(a.case_id, a.code, a.client_id) for a in attempts] == [
            (case_id, "3.13", sent["client_id"])
        ]
        assert db.session.get(CatiCase, case_id).attempts == 1
    # A different outcome queued for the case the interviewer no longer holds: 409, nothing.
    stale = client.post(
        url,
        data={"outcome": "busy", "client_id": "3f1c2a9e-2222-4a4a-8b8b-123456789abc"},
        headers=json,
    )
    assert stale.status_code == 409
    assert f"案例 {case_id} 已不归您拨打" in stale.get_json()["message"]
    # A malformed id: 400 with a message; a case that does not exist: 404.
    bad = client.post(url, data={"outcome": "busy", "client_id": "<x>"}, headers=json)
    assert bad.status_code == 400 and "编号无效" in bad.get_json()["message"]
    missing = client.post("/cati/cases/999999/outcome", data=sent, headers=json)
    assert missing.status_code == 404
    with anytime.app_context():
        assert len(db.session.scalars(select(CallAttempt)).all()) == 1
