"""One interview sent through the sync API runs a fixed number of SQL statements (issue 20):
the token with its user, the sender's assignments, the locality with its ancestors, one read
of the stored UUIDs (duplicate and sent-back checks), and one insert per table; none of them
per row of data."""

from __future__ import annotations

from sqlalchemy import event, select

from surveyapp.extensions import db
from surveyapp.models import Assignment, Locality, User, Wave

from .conftest import bearer, full_answers, submission


def _statements(app, client, body: dict, token: str) -> list[str]:
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
    assert response.status_code == 201, response.get_json()
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
    after = _statements(demo, client, submission(door, answers), token)
    assert len(after) == len(before), after
    # the token with its user; assignments; locality and ancestors; which UUIDs are stored
    # already and which of them were sent back (one read); response, paradata and answers
    # inserted
    assert len(after) <= 7, after
