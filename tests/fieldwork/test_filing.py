"""Mode and locality: the assignment rule (``check_filing``) through the web form and the API.

A door-to-door assignment accepts only door-to-door interviews inside its localities; telephone
interviews are made only from the CATI desk, for a case of the wave. Every refusal is a 403
(or 400 for a malformed request) and stores nothing.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.fieldwork import cati
from surveyapp.models import Assignment, Locality, Response, User, Wave
from surveyapp.models.fieldwork import CatiCase

from .conftest import ENUMERATOR_PASSWORD, bearer, full_answers, submission

NOW = datetime(2026, 11, 23, 2, 0)  # 10:00 in Shanghai, inside the calling hours


def post(client, body, token):
    return client.post("/api/v1/submissions", json=body, headers=bearer(token))


def stored(app, uuid: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Response.id)).where(Response.uuid == uuid))


def responses(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Response.id)))


@pytest.fixture
def phone(demo):
    """The demo enumerator's district-wide telephone assignment: (id, wave id)."""
    with demo.app_context():
        user = db.session.scalar(select(User).where(User.username == "enumerator"))
        a = db.session.scalar(
            select(Assignment).where(
                Assignment.enumerator_id == user.id, Assignment.mode == "phone"
            )
        )
        return {"id": a.id, "wave": a.wave_id}


def _outside_grid(door: dict) -> str:
    """A grid of the district outside the door assignments (another street)."""
    street = db.session.scalar(select(Locality).where(Locality.code == "320106005"))
    loc = street
    while loc.children:
        loc = loc.children[0]
    return loc.code


def _claim_case(app, phones: list[str]) -> dict:
    """Import ``phones`` for the current wave's first street; the enumerator claims one."""
    with app.app_context():
        wave = db.session.scalar(select(Wave).where(Wave.code == "2026-Q4"))
        street = next(c for c in wave.survey.district.children if c.level == "street")
        text = "phone,locality\n" + "".join(f"{p},{street.code}\n" for p in phones)
        assert cati.import_call_list(wave, text).problems == []
        user = db.session.scalar(select(User).where(User.username == "enumerator"))
        case = cati.next_case(user, now=NOW)
        grid = case.locality
        while grid.children:
            grid = grid.children[0]
        return {"id": case.id, "wave": wave.id, "street": street.code, "grid": grid.code}


# --- the old start pages ----------------------------------------------------------------------


def test_start_pages_lead_to_the_offline_app_or_the_desk(demo, client, auth, door, phone):
    """Interviews are entered only in the offline app (door) or from the telephone desk."""
    auth.login("enumerator", ENUMERATOR_PASSWORD)
    assert client.get(f"/collect/assignments/{door['id']}/start").location == "/offline/"
    assert client.get(f"/collect/assignments/{phone['id']}/start").location == "/cati/"
    # The server-side interview form is gone: no address takes an interview by form post.
    url = f"/collect/assignments/{door['id']}/interview"
    assert client.post(url, data={"nav": "start"}).status_code in (404, 405)


def test_the_assigned_community_itself_is_a_locality_of_the_assignment(demo, client, token, door):
    body = submission(door, locality=door["community"])
    response = post(client, body, token)
    assert response.status_code == 201, response.get_json()
    assert stored(demo, body["uuid"]) == 1


# --- the sync API ---------------------------------------------------------------------------


def test_api_refuses_a_telephone_item_under_a_door_assignment(demo, client, token, door):
    body = submission(door, mode="phone")
    response = post(client, body, token)
    assert response.status_code == 403, response.get_json()
    assert "入户访问" in response.get_json()["message"]
    assert stored(demo, body["uuid"]) == 0


def test_api_refuses_door_items_outside_the_door_assignments(demo, client, token, door):
    """The district-wide telephone assignment does not open the district to door interviews."""
    with demo.app_context():
        outside = _outside_grid(door)
    body = submission(door, locality=outside)
    response = post(client, body, token)
    assert response.status_code == 403 and outside in response.get_json()["message"]
    # Without an assignment (wave only) the same item is refused: no door assignment has it.
    body = submission(door, locality=outside, wave=door["wave"])
    del body["assignment"]
    response = post(client, body, token)
    assert response.status_code == 403, response.get_json()
    assert stored(demo, body["uuid"]) == 0


def test_api_refuses_free_telephone_items(demo, client, token, phone):
    with demo.app_context():
        grid = db.session.scalar(select(Locality).where(Locality.level == "grid")).code
    free = submission({"id": phone["id"], "grid": grid}, mode="phone")
    response = post(client, free, token)
    assert response.status_code == 403 and "电话访问台" in response.get_json()["message"]
    # Nor with only the wave: the telephone assignment needs a case.
    free = submission({"id": phone["id"], "grid": grid}, mode="phone", wave=phone["wave"])
    del free["assignment"]
    assert post(client, free, token).status_code == 403
    assert stored(demo, free["uuid"]) == 0


def test_api_telephone_items_need_a_case_the_interviewer_holds(demo, client, token, phone):
    case = _claim_case(demo, ["13900001111", "13900002222"])
    answers = full_answers(demo, seed=2)
    with demo.app_context():
        other = db.session.scalar(select(CatiCase).where(CatiCase.id != case["id"]))
        other_id = other.id
    base = {"id": phone["id"], "grid": case["grid"]}
    before = responses(demo)
    # A case nobody claimed is not the interviewer's.
    body = submission(base, answers, mode="phone", cati_case=other_id)
    assert post(client, body, token).status_code == 403
    # A locality outside the case's street is refused.
    with demo.app_context():
        outside = _outside_grid({})
    body = submission({**base, "grid": outside}, answers, mode="phone", cati_case=case["id"])
    response = post(client, body, token)
    assert response.status_code == 403 and str(case["id"]) in response.get_json()["message"]
    # A door-to-door item cannot carry a case.
    with demo.app_context():
        door_id = db.session.scalar(
            select(Assignment.id).where(Assignment.mode == "door").order_by(Assignment.id)
        )
    body = submission({"id": door_id, "grid": case["grid"]}, answers, cati_case=case["id"])
    assert post(client, body, token).status_code in (400, 403)
    assert responses(demo) == before
    # The held case files the interview, closes the case; resending it is a duplicate.
    body = submission(base, answers, mode="phone", cati_case=case["id"])
    response = post(client, body, token)
    assert response.status_code == 201, response.get_json()
    again = post(client, body, token)
    assert again.status_code == 200 and again.get_json()["outcome"] == "duplicate"
    with demo.app_context():
        found = db.session.get(CatiCase, case["id"])
        assert found.status == "closed" and found.response_uuid == body["uuid"]
        assert db.session.scalar(select(func.count(Response.id)).where(Response.mode == "phone"))
    # The closed case cannot file a second interview.
    second = submission(base, answers, mode="phone", cati_case=case["id"])
    assert post(client, second, token).status_code == 403
    assert stored(demo, second["uuid"]) == 0


def test_api_default_locality_is_the_assignments_own(demo, client, token, door):
    """openapi.yaml: `assignment` gives the default locality and mode."""
    body = submission(door)
    del body["locality"], body["mode"]
    response = post(client, body, token)
    assert response.status_code == 201, response.get_json()
    with demo.app_context():
        found = db.session.scalar(select(Response).where(Response.uuid == body["uuid"]))
        assert found.locality.code == door["community"] and found.mode == "door"


def test_a_sent_back_telephone_interview_is_corrected_without_its_closed_case(
    demo, client, token, phone
):
    """The correction the API lists for a sent-back telephone interview carries no case (it was
    closed by the interview): it files under the case the interview completed."""
    from surveyapp.fieldwork import review as reviews

    case = _claim_case(demo, ["13900003333"])
    answers = full_answers(demo, seed=6)
    body = submission(
        {"id": phone["id"], "grid": case["grid"]}, answers, mode="phone", cati_case=case["id"]
    )
    assert post(client, body, token).status_code == 201
    with demo.app_context():
        response = db.session.scalar(select(Response).where(Response.uuid == body["uuid"]))
        manager = db.session.scalar(select(User).where(User.username == "manager"))
        reviews.decide(response, manager, "send_back", "请核实第3题")
    listed = client.get("/api/v1/sent-back", headers=bearer(token)).get_json()["interviews"]
    assert [i["uuid"] for i in listed] == [body["uuid"]]
    correction = listed[0]["submission"]
    assert "cati_case" not in correction
    new_code = "1" if answers["security_overall"] != "1" else "2"
    correction["answers"] = {**correction["answers"], "security_overall": new_code}
    done = post(client, correction, token)
    assert done.status_code == 200 and done.get_json()["outcome"] == "corrected", done.get_json()
    # Another interview cannot borrow that closed case.
    other = submission({"id": phone["id"], "grid": case["grid"]}, answers, mode="phone")
    assert post(client, other, token).status_code == 403
