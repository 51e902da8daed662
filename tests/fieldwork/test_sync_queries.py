"""One interview sent through the sync API runs a fixed number of SQL statements (issue 20):
the token with its user, the sender's assignments (with the locality table's stamp and how
many of the interviews' UUIDs are stored already), and one insert per table; none of them per
row of data. A UUID stored already costs one read more (duplicate and sent-back checks). The
locality with its ancestors is read once per locality and state of the locality table, and a
locality changed by anyone is seen by the next interview."""

from __future__ import annotations

from sqlalchemy import event, select, text

from surveyapp.extensions import db
from surveyapp.models import Assignment, Locality, Response, User, Wave

from .conftest import bearer, full_answers, submission

_CHAIN = "WITH RECURSIVE chain"


def _statements(app, client, body: dict, token: str, status: int = 201) -> list[str]:
    seen: list[str] = []

    def count(*args):
        seen.append(args[2])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.post("/api/v1/submissions", json=body, headers=bearer(token))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == status, response.get_json()
    return seen


def test_a_submission_runs_the_same_few_statements_whatever_the_data(demo, client, token, door):
    answers = full_answers(demo)
    client.post("/api/v1/submissions", json=submission(door, answers), headers=bearer(token))
    before = _statements(demo, client, submission(door, answers), token)
    with demo.app_context():
        # More of what the checks read: assignments of the sender and localities below them.
        user = db.session.scalar(select(User).where(User.username == "enumerator"))
        wave = db.session.get(Wave, door["wave"])
        grid = db.session.scalar(select(Locality).where(Locality.code == door["grid"]))
        for i in range(10):
            db.session.add(
                Locality(
                    code=f"{grid.code}-q{i}",
                    name_zh=f"新{i}",
                    level="grid",
                    parent_id=grid.parent_id,
                )
            )
        taken = select(Assignment.locality_id).where(
            Assignment.enumerator_id == user.id, Assignment.wave_id == wave.id
        )
        communities = db.session.scalars(
            select(Locality)
            .where(Locality.level == "community", Locality.id.not_in(taken))
            .order_by(Locality.id)
            .limit(6)
        ).all()
        assert len(communities) == 6
        for community in communities:
            db.session.add(
                Assignment(
                    wave_id=wave.id, enumerator_id=user.id, locality_id=community.id, target=5
                )
            )
        db.session.commit()
    # The localities changed: their stamp too, so the first interview reads the chain again.
    again = _statements(demo, client, submission(door, answers), token)
    assert sum(_CHAIN in s for s in again) == 1, again
    after = _statements(demo, client, submission(door, answers), token)
    assert len(after) == len(before), after
    # the token with its user; assignments, the locality table's stamp and how many of the
    # UUIDs are stored already (none); response, paradata and answers inserted
    assert len(after) <= 5, after
    assert not any(_CHAIN in s for s in after), after


def test_a_resend_reads_which_uuids_are_stored(demo, client, token, door):
    body = submission(door, full_answers(demo))
    first = _statements(demo, client, body, token)
    again = _statements(demo, client, body, token, status=200)
    # token; assignments (one UUID stored); which one, by whom, its review state; the
    # stored response to compare, and again after the read-only transaction ends (its
    # submission time); nothing inserted
    assert not any("INSERT" in s for s in again), again
    assert len(again) <= 5, again
    assert any("INSERT INTO response " in s for s in first), first


def _post(client, token, door, **extra):
    return client.post("/api/v1/submissions", json=submission(door, **extra), headers=bearer(token))


def test_a_moved_or_renamed_locality_is_seen_by_the_next_interview(demo, client, token, door):
    """The localities of an interview are kept between requests only while the locality
    table's stamp (replaced by database triggers at any change, whoever makes it: another
    server, plain SQL) is the same."""
    assert _post(client, token, door).status_code == 201
    with demo.app_context():
        grid = db.session.scalar(select(Locality).where(Locality.code == door["grid"]))
        home, grid_id = grid.parent_id, grid.id
        elsewhere = db.session.scalar(
            select(Locality.id).where(
                Locality.level == "community", Locality.code != door["community"]
            )
        )
    assert _post(client, token, door).status_code == 201  # from the cache

    def sql(statement: str, **params) -> None:
        with demo.app_context():
            db.session.execute(text(statement), params)
            db.session.commit()

    # Moved under another community: no longer part of the assignment.
    sql("UPDATE locality SET parent_id = :p WHERE id = :g", p=elsewhere, g=grid_id)
    moved = _post(client, token, door)
    assert moved.status_code == 403, moved.get_json()
    assert door["grid"] in moved.get_json()["message"]
    # Back home: accepted again, filed under its community.
    sql("UPDATE locality SET parent_id = :p WHERE id = :g", p=home, g=grid_id)
    back = _post(client, token, door)
    assert back.status_code == 201, back.get_json()
    with demo.app_context():
        stored = db.session.scalar(select(Response).where(Response.uuid == back.get_json()["uuid"]))
        assert (stored.locality_id, stored.community_id) == (grid_id, home)
    # Renamed: the old code is unknown, the new one accepted.
    sql("UPDATE locality SET code = :c WHERE id = :g", c=door["grid"] + "-new", g=grid_id)
    old = _post(client, token, door)
    assert old.status_code == 400, old.get_json()
    assert (old.get_json()["outcome"], door["grid"]) == ("bad_request", door["grid"])
    assert door["grid"] in old.get_json()["message"]
    renamed = _post(client, token, door, locality=door["grid"] + "-new")
    assert renamed.status_code == 201, renamed.get_json()


def test_the_answers_are_stored_in_the_order_of_the_questionnaire(demo, client, token, door):
    """One INSERT of every answer (on PostgreSQL the columns as arrays): rows and their
    order as the answers' own."""
    from surveyapp.models import Answer
    from surveyapp.questionnaire import clean_answers
    from surveyapp.services.responses import answer_tuples

    answers = full_answers(demo, seed=3)
    body = submission(door, answers)
    assert _post_body(client, token, body).status_code == 201
    with demo.app_context():
        wave = db.session.get(Wave, door["wave"])
        cleaned, errors = clean_answers(wave.questionnaire_version.schema, answers)
        assert not errors
        response = db.session.scalar(select(Response).where(Response.uuid == body["uuid"]))
        stored = db.session.execute(
            select(
                Answer.question,
                Answer.value,
                Answer.number,
                Answer.multiple,
                Answer.repeat_group,
                Answer.instance,
            )
            .where(Answer.response_id == response.id)
            .order_by(Answer.id)
        ).all()
    assert [tuple(row) for row in stored] == list(answer_tuples(cleaned))
    assert len(stored) > 20


def _post_body(client, token, body):
    return client.post("/api/v1/submissions", json=body, headers=bearer(token))
