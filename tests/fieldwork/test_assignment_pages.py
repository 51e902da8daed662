"""Managers' assignment pages: lists to choose from, a CSV upload previewed with every problem by
row before anything is stored, edit the target, reassign, end, delete (only without
responses)."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import Assignment, Locality, Response, User, Wave

from .conftest import bearer, submission
from .test_cati import MANAGER, login


def _wave() -> Wave:
    return db.session.scalar(select(Wave).where(Wave.code == "2026-Q4"))


def _communities(n: int) -> list[str]:
    street = next(c for c in _wave().survey.district.children if c.level == "street")
    return [c.code for c in street.children[:n]]


def _count() -> int:
    return db.session.scalar(select(func.count(Assignment.id)))


def _upload(client, wave_id: int, text: str):
    return client.post(
        f"/assignments/waves/{wave_id}/upload",
        data={"file": (io.BytesIO(text.encode()), "assignments.csv")},
        content_type="multipart/form-data",
    )


def test_page_offers_enumerators_and_the_locality_tree(demo, client):
    login(client, *MANAGER)
    with demo.app_context():
        wave = _wave()
        wave_id, district = wave.id, wave.survey.district
        expected = db.session.scalar(
            select(func.count(User.id)).where(User.role == "enumerator", User.active.is_(True))
        )
        # Every locality of the district, down to the grids.
        below, stack = 0, [district]
        while stack:
            node = stack.pop()
            below += 1
            stack.extend(node.children)
    html = client.get(f"/assignments/waves/{wave_id}").get_data(as_text=True)
    enumerator_select = re.search(r'<select name="enumerator".*?</select>', html, re.S).group(0)
    assert enumerator_select.count("<option value=") == expected + 1  # with "— choose —"
    locality_select = re.search(r'<select name="locality".*?</select>', html, re.S).group(0)
    assert locality_select.count("data-depth=") == below
    assert 'data-depth="0"' in locality_select and "data-locality-picker" in locality_select
    assert "js/locality-picker.js" in html
    # A survey with both modes offers door to door first: a telephone assignment gives the
    # enumerator no interview to start on the tablet (only CATI cases).
    mode_select = re.search(r'<select name="mode".*?</select>', html, re.S).group(0)
    assert re.findall(r'<option value="(\w+)" selected', mode_select) == ["door"]
    # The survey's page leads to the wave's assignments.
    with demo.app_context():
        survey_id = db.session.get(Wave, wave_id).survey_id
    survey_page = client.get(f"/manage/surveys/{survey_id}").get_data(as_text=True)
    assert f'href="/assignments/waves/{wave_id}"' in survey_page


def test_upload_lists_every_problem_by_row_and_stores_nothing(demo, client):
    login(client, *MANAGER)
    with demo.app_context():
        wave_id = _wave().id
        a, b = _communities(2)
        before = _count()
    text = (
        "enumerator,locality,mode,target\n"
        f"field05,{a},door,30\n"  # fine
        f"nobody,{a},door,30\n"  # row 3: unknown enumerator
        f"field05,999,door,30\n"  # row 4: unknown locality
        f"field06,{b},fax,30\n"  # row 5: unknown mode
        f"field06,{b},door,lots\n"  # row 6: not a number
        f"field05,{a},door,20\n"  # row 7: same enumerator and locality as row 2
        f"field04,{b},door,-1\n"  # row 8: negative
    )
    page = _upload(client, wave_id, text)
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    for row, words in [
        (3, "nobody"),
        (4, "999"),
        (5, "fax"),
        (6, "lots"),
        (7, "第 2 行"),
        (8, "-1"),
    ]:
        line = re.search(rf"<li>第 {row} 行：([^<]*)</li>", html)
        assert line is not None, (row, html)
        assert words in line.group(1), (row, line.group(1))
    assert "第 2 行：" not in html  # the good row has no problem
    assert 'id="confirm-upload"' not in html
    with demo.app_context():
        assert _count() == before
    # A missing column is named.
    page = _upload(client, wave_id, "enumerator,locality,target\nfield05,x,3\n")
    assert page.status_code == 400 and "mode" in page.get_data(as_text=True)


def test_upload_preview_then_confirm(demo, client):
    login(client, *MANAGER)
    with demo.app_context():
        wave_id = _wave().id
        a, b = _communities(2)
        before = _count()
    text = (
        "调查员,地区代码,方式,目标,locality_editable\n"
        f"field05,{a},入户,30,yes\n"
        f"field06,{b},door,25,no\n"
    )
    page = _upload(client, wave_id, text)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "将新增 2 个任务" in html and 'id="confirm-upload"' in html
    with demo.app_context():
        assert _count() == before  # the preview stores nothing
    stored_text = re.search(r'<textarea name="text" hidden>(.*?)</textarea>', html, re.S).group(1)
    done = client.post(f"/assignments/waves/{wave_id}/upload/confirm", data={"text": stored_text})
    assert done.status_code == 303
    with demo.app_context():
        assert _count() == before + 2
        mine = {
            (x.enumerator.username, x.locality.code): x
            for x in db.session.scalars(select(Assignment).where(Assignment.wave_id == wave_id))
        }
        assert mine[("field05", a)].target == 30 and mine[("field05", a)].locality_editable
        assert mine[("field06", b)].target == 25 and not mine[("field06", b)].locality_editable
    # A tampered confirmation is checked again: nothing stored, problems by row.
    bad = client.post(
        f"/assignments/waves/{wave_id}/upload/confirm",
        data={"text": "enumerator,locality,mode,target\nfield05,{a},door,1\nghost,x,door,1\n"},
    )
    assert bad.status_code == 400 and "第 3 行" in bad.get_data(as_text=True)
    with demo.app_context():
        assert _count() == before + 2


def test_edit_reassign_end_and_delete(demo, client, token, door):
    login(client, *MANAGER)
    assignment_id = door["id"]
    # Edit the target; a bad target is a 400 with its message, nothing changed.
    bad = client.post(f"/assignments/{assignment_id}", data={"target": "many"})
    assert bad.status_code == 400 and "many" in bad.get_data(as_text=True)
    ok = client.post(
        f"/assignments/{assignment_id}",
        data={"target": "55", "enumerator": "enumerator", "locality_editable": "yes"},
    )
    assert ok.status_code == 303
    with demo.app_context():
        assert db.session.get(Assignment, assignment_id).target == 55

    # End it: the API refuses new interviews under it (403), the page says so; resume.
    assert client.post(f"/assignments/{assignment_id}/end").status_code == 303
    refused = client.post("/api/v1/submissions", json=submission(door), headers=bearer(token))
    assert refused.status_code == 403 and "已结束" in refused.get_json()["message"]
    assert "已结束" in client.get(f"/assignments/waves/{door['wave']}").get_data(as_text=True)
    # The enumerator's old start page refuses it too, saying why.
    login(client, "enumerator", "enumerator-demo-2026")
    start = client.get(f"/collect/assignments/{assignment_id}/start")
    assert start.status_code == 403 and "本任务已结束" in start.get_data(as_text=True)
    # The enumerator's home (the offline app) learns it from the assignments it loads.
    assert client.get("/collect/").location == "/offline/"
    mine = client.get("/api/v1/assignments").get_json()["assignments"]
    assert [a["ended"] for a in mine if a["id"] == assignment_id] == [True]
    login(client, *MANAGER)
    assert client.post(f"/assignments/{assignment_id}/resume").status_code == 303
    accepted = client.post("/api/v1/submissions", json=submission(door), headers=bearer(token))
    assert accepted.status_code == 201

    # With a response it cannot be deleted.
    refused = client.post(f"/assignments/{assignment_id}/delete")
    assert refused.status_code == 400 and "结束" in refused.get_data(as_text=True)
    with demo.app_context():
        assert db.session.get(Assignment, assignment_id) is not None

    # Reassign to another enumerator: the response stays the first enumerator's.
    moved = client.post(
        f"/assignments/{assignment_id}",
        data={"target": "55", "enumerator": "field04", "locality_editable": "yes"},
    )
    assert moved.status_code == 303
    with demo.app_context():
        found = db.session.get(Assignment, assignment_id)
        assert found.enumerator.username == "field04"
        response = db.session.scalar(
            select(Response).where(Response.uuid == accepted.get_json()["uuid"])
        )
        assert response.enumerator.username == "enumerator"
    # The old enumerator can no longer file under it.
    gone = client.post("/api/v1/submissions", json=submission(door), headers=bearer(token))
    assert gone.status_code == 403
    # Reassigning onto an enumerator who already has this locality is refused.
    with demo.app_context():
        other = Assignment(
            wave_id=door["wave"],
            enumerator_id=db.session.scalar(select(User.id).where(User.username == "field03")),
            locality_id=db.session.scalar(
                select(Locality.id).where(Locality.code == door["community"])
            ),
            mode="door",
        )
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    clash = client.post(
        f"/assignments/{assignment_id}", data={"target": "5", "enumerator": "field03"}
    )
    assert clash.status_code == 400 and "field03" in clash.get_data(as_text=True)

    # Without responses it can be deleted.
    assert client.post(f"/assignments/{other_id}/delete").status_code == 303
    with demo.app_context():
        assert db.session.get(Assignment, other_id) is None
    assert client.post(f"/assignments/{other_id}/delete").status_code == 404
