"""The tablet's assignment list (GET /api/v1/assignments) against a reference built from the ORM
objects (issue 20: the list is built from plain rows and each assignment's localities are
encoded once per content; it must say exactly what the objects say, and follow every change)."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from surveyapp.extensions import db
from surveyapp.fieldwork.assignments import filing_localities
from surveyapp.fieldwork.tokens import issue_token
from surveyapp.models import Assignment, Locality, Response, User


def _path(locality: Locality, lang: str) -> str:
    return " › ".join(
        loc.name(lang) for loc in locality.ancestors() if loc.level not in ("province", "city")
    )


def _reference(user_id: int, lang: str) -> dict:
    """The document as the objects give it (one lazy load at a time: slow, obviously right)."""
    db.session.expire_all()
    user = db.session.get(User, user_id)
    done = dict(
        db.session.execute(
            select(Response.wave_id, func.count(Response.id))
            .where(Response.enumerator_id == user.id)
            .group_by(Response.wave_id)
        ).all()
    )
    out = []
    for a in db.session.scalars(
        select(Assignment).where(Assignment.enumerator_id == user.id).order_by(Assignment.id)
    ):
        out.append(
            {
                "id": a.id,
                "mode": a.mode,
                "target": a.target,
                "ended": a.ended_at is not None,
                "wave": {
                    "id": a.wave.id,
                    "code": a.wave.code,
                    "name": a.wave.name,
                    "open": a.wave.is_open,
                    "submitted_by_you": done.get(a.wave.id, 0),
                },
                "survey": {
                    "id": a.wave.survey.id,
                    "name": a.wave.survey.name,
                    "modes": a.wave.survey.mode_list,
                },
                "locality": {"code": a.locality.code, "path": _path(a.locality, lang)},
                "localities": [
                    {
                        "code": loc.code,
                        "path": _path(loc, lang),
                        "within": [x.code for x in loc.ancestors()],
                    }
                    for loc in filing_localities(a)
                ],
                "questionnaire": {
                    "version_id": a.wave.questionnaire_version_id,
                    "sha256": a.wave.questionnaire_version.sha256,
                },
            }
        )
    return {"assignments": out}


def _get(app, token: str, lang: str) -> tuple[dict, int]:
    client = app.test_client()
    with client.session_transaction() as session:
        session["lang"] = lang
    statements = []

    def count(*args):
        statements.append(args[2])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(
            "/api/v1/assignments",
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json(), len(statements)


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_every_enumerators_list_is_what_the_objects_say(demo, lang):
    with demo.app_context():
        names = db.session.scalars(
            select(User.username)
            .where(User.role == "enumerator", User.id.in_(select(Assignment.enumerator_id)))
            .order_by(User.id)
        ).all()
        tokens = {name: issue_token(name, label="test") for name in names}
        expected = {name: _reference(user.id, lang) for name, (_t, user) in tokens.items()}
    assert any(len(d["localities"]) > 100 for e in expected.values() for d in e["assignments"])
    for name, (token, _user) in tokens.items():
        got, statements = _get(demo, token, lang)
        assert got == expected[name], name
        # token and user, then five queries whatever the number of assignments and places
        assert statements <= 9, (name, statements)


def test_the_list_follows_changes_of_localities_and_assignments(demo):
    with demo.app_context():
        token, user = issue_token("enumerator", label="test")
        user_id = user.id
    _get(demo, token, "zh_CN")  # the token's first use is recorded
    first, before = _get(demo, token, "zh_CN")  # the localities now in the cache
    with demo.app_context():
        assignment = db.session.scalar(
            select(Assignment)
            .where(Assignment.enumerator_id == user_id, Assignment.locality_editable.is_(True))
            .order_by(Assignment.id)
        )
        street = assignment.locality
        street.name_zh = "改名街道"
        grid = street
        while grid.children:
            grid = grid.children[0]
        grid.name_zh = "改名网格"
        db.session.add(
            Locality(code=f"{grid.code}-new", name_zh="新网格", level="grid", parent_id=grid.id)
        )
        assignment.target += 7
        db.session.commit()
        expected = _reference(user_id, "zh_CN")
    second, after = _get(demo, token, "zh_CN")
    assert second != first
    assert second == expected
    doc = next(d for d in second["assignments"] if d["id"] == assignment.id)
    assert "改名街道" in doc["locality"]["path"]
    assert any(p["code"] == f"{grid.code}-new" for p in doc["localities"])
    assert any(p["path"].endswith("改名网格") for p in doc["localities"])
    # the changed localities are read again (two queries), then known until the next change
    assert after == before + 2
    third, again = _get(demo, token, "zh_CN")
    assert third == second and again == before


def test_the_offline_page_words_its_messages_in_the_users_language(demo):
    """The page's wording is translated once per language and reused: switching the language
    switches it, in both directions, and the page runs one query (the user)."""
    import json
    import re

    client = demo.test_client()
    response = client.post(
        "/auth/login", data={"username": "enumerator", "password": "enumerator-demo-2026"}
    )
    assert response.status_code == 302

    def messages(lang: str) -> dict:
        with client.session_transaction() as session:
            session["lang"] = lang
        page = client.get("/offline/").get_data(as_text=True)
        found = re.search(r'id="offline-messages">(.*?)</script>', page, re.S)
        return json.loads(found.group(1))

    zh, en, zh_again = messages("zh_CN"), messages("en"), messages("zh_CN")
    assert en["assignments"] == "My assignments" and en["next"] == "Next"
    assert zh["assignments"] != "My assignments" and zh["next"] != "Next"
    assert zh_again == zh and en.keys() == zh.keys()
    with demo.app_context():
        from flask_babel import force_locale, gettext

        with demo.test_request_context(), force_locale("zh_CN"):
            assert zh["assignments"] == gettext("My assignments")


def _conditional(app, token: str, etag: str | None = None):
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if etag:
        headers["If-None-Match"] = etag
    return app.test_client().get("/api/v1/assignments", headers=headers)


def test_a_tablet_holding_the_document_gets_a_304_until_anything_in_it_changes(demo):
    """A strong ETag of the bytes; a change made by another server (here: plain SQL on a
    connection of its own) shows at once: a locality renamed, added or removed, a wave
    closed, a target changed, an interview filed, another questionnaire version."""
    from sqlalchemy import create_engine, text

    with demo.app_context():
        token, user = issue_token("enumerator", label="test")
        user_id = user.id
        assignment = db.session.scalar(
            select(Assignment)
            .where(Assignment.enumerator_id == user_id, Assignment.locality_editable.is_(True))
            .order_by(Assignment.id)
        )
        ids = {
            "assignment": assignment.id,
            "wave": assignment.wave_id,
            "grid": db.session.scalar(
                select(Locality.id)
                .where(Locality.level == "grid")
                .where(Locality.code.startswith(assignment.locality.code))
                .order_by(Locality.code.desc())
            ),
        }
        url = str(db.engine.url.render_as_string(hide_password=False))
    other = create_engine(url)  # another server's connection
    first = _conditional(demo, token)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = _conditional(demo, token, etag)
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert _conditional(demo, token, '"something else"').data == first.data

    changes = [
        "UPDATE locality SET name_zh = '另一台服务器改的名' WHERE id = {grid}",
        "INSERT INTO locality (code, parent_id, level, name_zh, name_en)"
        " SELECT code || '-9', id, 'grid', '新网格', '' FROM locality WHERE id = {grid}",
        "DELETE FROM locality WHERE parent_id = {grid}",
        "UPDATE wave SET is_open = NOT is_open WHERE id = {wave}",
        "UPDATE assignment SET target = target + 3 WHERE id = {assignment}",
        "UPDATE response SET enumerator_id = {user} WHERE id = "
        "(SELECT min(id) FROM response WHERE enumerator_id <> {user} AND wave_id = {wave})",
        (
            "INSERT INTO questionnaire_version (slug, version, title_zh, sha256, source_text,"
            " created_at, status) SELECT slug, version + 1, title_zh, 'another version',"
            " source_text, created_at, status FROM questionnaire_version WHERE id ="
            " (SELECT questionnaire_version_id FROM wave WHERE id = {wave})",
            "UPDATE wave SET questionnaire_version_id = (SELECT max(id) FROM questionnaire_version)"
            " WHERE id = {wave}",
        ),
    ]
    try:
        for change in changes:
            with other.begin() as connection:
                for statement in (change,) if isinstance(change, str) else change:
                    connection.execute(text(statement.format(user=user_id, **ids)))
            changed = _conditional(demo, token, etag)
            assert changed.status_code == 200, change
            assert changed.headers["ETag"] != etag, change
            with demo.app_context():
                assert changed.get_json() == _reference(user_id, "zh_CN"), change
                db.session.remove()
            etag = changed.headers["ETag"]
            assert _conditional(demo, token, etag).status_code == 304
    finally:
        other.dispose()


def test_the_interviews_filed_are_counted_in_the_index_alone(demo):
    """Each assignment's count of the enumerator's interviews reads the index of interviews by
    enumerator and wave, never the table (a count that read a row per interview grew with
    every interview the enumerator had ever filed: a thousand cost half a millisecond)."""
    from surveyapp.fieldwork.offline import _ASSIGNMENTS

    with demo.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's query plan")
        compiled = _ASSIGNMENTS.compile(dialect=db.engine.dialect)
        params = compiled.construct_params({"user_id": 1})
        plan = db.session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + compiled.string,
            tuple(params[name] for name in compiled.positiontup),
        )
        steps = [row[-1] for row in plan]
    on_response = [step for step in steps if " response " in f"{step} "]
    assert on_response == [
        "SEARCH response USING COVERING INDEX ix_response_enumerator_wave "
        "(enumerator_id=? AND wave_id=?)"
    ], steps
