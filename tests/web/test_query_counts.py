"""Queries per request do not grow with the data (no N+1) on the main pages (issue 20).

Each page is requested on the demo, then again after the current wave got many more
enumerators, assignments and interviews (flagged and reviewed ones among them); the number of
SQL statements a request runs, counted with a SQLAlchemy event listener, must be the same.
"""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import event, insert, select, update

from surveyapp.extensions import db
from surveyapp.fieldwork.dashboard import MAX_STATEMENTS
from surveyapp.models import Answer, Assignment, Locality, Response, User, Wave

PASSWORDS = {"manager": "manager-demo-2026", "official": "official-demo-2026"}
WAVE = "2026-Q4"

#: page -> (who opens it, URL; {wave} is the current wave's id)
PAGES = {
    "officials wave page": ("official", f"/officials/surveys/1/waves/{WAVE}"),
    "review queue": ("manager", "/review/waves/{wave}"),
    "review queue (all)": ("manager", "/review/waves/{wave}?state=all"),
    "dashboard": ("manager", "/dashboard/waves/{wave}"),
    "dashboard data": ("manager", "/dashboard/waves/{wave}/data.json"),
    "assignments page": ("manager", "/assignments/waves/{wave}"),
    "manage survey page": ("manager", "/manage/surveys/1"),
}


class Counter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append(statement)


def _counts(app, client, auth) -> dict[str, tuple[int, list[str]]]:
    with app.app_context():
        wave_id = db.session.scalar(select(Wave.id).where(Wave.code == WAVE))
        engine = db.engine
    result = {}
    for role in ("manager", "official"):
        assert auth.login(role, PASSWORDS[role]).status_code == 302
        for page, (who, url) in PAGES.items():
            if who != role:
                continue
            url = url.format(wave=wave_id)
            assert client.get(url).status_code == 200, page  # warm (caches, snapshots)
            counter = Counter()
            event.listen(engine, "before_cursor_execute", counter)
            try:
                response = client.get(url)
            finally:
                event.remove(engine, "before_cursor_execute", counter)
            assert response.status_code == 200, page
            result[page] = (len(counter.statements), counter.statements)
        auth.logout()
    return result


def _grow(app, enumerators: int = 15, copies: int = 4) -> None:
    """More of everything a page lists: enumerators with assignments, and each interview of
    the current wave copied ``copies`` times (new enumerators, some reviewed or rejected)."""
    with app.app_context():
        wave = db.session.scalar(select(Wave).where(Wave.code == WAVE))
        communities = db.session.scalars(
            select(Locality).where(Locality.level == "community").order_by(Locality.id)
        ).all()
        users = []
        for i in range(enumerators):
            user = User(username=f"grown-{i}", display_name=f"增{i}", role="enumerator")
            user.set_password("grown-password-1")
            db.session.add(user)
            users.append(user)
        db.session.flush()
        for i, user in enumerate(users):
            db.session.add(
                Assignment(
                    wave_id=wave.id,
                    enumerator_id=user.id,
                    locality_id=communities[i % len(communities)].id,
                    target=10,
                )
            )
        table = Response.__table__
        rows = db.session.execute(select(table).where(table.c.wave_id == wave.id)).mappings()
        rows = [dict(r) for r in rows]
        answers = {}
        for a in db.session.execute(
            select(Answer.__table__).where(Answer.response_id.in_([r["id"] for r in rows]))
        ).mappings():
            answers.setdefault(a["response_id"], []).append(dict(a))
        statuses = ("submitted", "submitted", "rejected")
        n = 0
        for copy in range(copies):
            for row in rows:
                new = {k: v for k, v in row.items() if k != "id"}
                new["uuid"] = str(uuid.uuid4())
                new["enumerator_id"] = users[n % len(users)].id
                new["status"] = statuses[n % len(statuses)] if copy else row["status"]
                new_id = db.session.execute(insert(table).values(**new)).inserted_primary_key[0]
                db.session.execute(
                    insert(Answer.__table__),
                    [
                        {**{k: v for k, v in a.items() if k != "id"}, "response_id": new_id}
                        for a in answers.get(row["id"], [])
                    ],
                ) if answers.get(row["id"]) else None
                n += 1
        db.session.commit()


@pytest.mark.slow
def test_queries_per_page_do_not_grow_with_the_data(demo, client, auth):
    before = _counts(demo, client, auth)
    _grow(demo)
    after = _counts(demo, client, auth)
    grown = {
        page: (before[page][0], after[page][0])
        for page in PAGES
        if after[page][0] > before[page][0]
    }
    if grown:
        page = next(iter(grown))
        extra = after[page][1][len(before[page][1]) - 5 :]
        pytest.fail(f"queries grew with the data: {grown}; e.g. {page}: {extra[:8]}")
    # The dashboard's figures: one aggregate query per kind of figure (it ran 20 statements,
    # most of them rows of every interview, assignment and telephone case brought to Python).
    assert after["dashboard data"][0] <= MAX_STATEMENTS, after["dashboard data"][1]
    # A record of the figures (shown with -s): statements per request on each page.
    for page in PAGES:
        print(f"{page}: {after[page][0]} statements")


def _statements(app, client, url: str) -> int:
    assert client.get(url).status_code == 200, url  # warm
    counter = Counter()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    assert response.status_code == 200, url
    return len(counter.statements)


def test_the_offline_apps_assignments_do_not_query_per_locality(demo, client, auth):
    """The tablet's assignment list names every locality an interview may be filed under; it
    walked the tree one lazy load per locality (hundreds of queries for the demo enumerator's
    street assignments: 115 ms of CPU per request)."""
    assert auth.login("enumerator", "enumerator-demo-2026").status_code == 302
    before = _statements(demo, client, "/api/v1/assignments")
    with demo.app_context():
        user = db.session.scalar(select(User).where(User.username == "enumerator"))
        assignment = db.session.scalar(
            select(Assignment)
            .where(Assignment.enumerator_id == user.id, Assignment.locality_editable.is_(True))
            .order_by(Assignment.id)
        )
        assert assignment is not None
        below = assignment.locality
        while below.children:
            below = below.children[0]
        for i in range(12):
            db.session.add(
                Locality(
                    code=f"{below.code}-x{i:02d}",
                    name_zh=f"新网格{i}",
                    level="grid",
                    parent_id=below.id,
                )
            )
        db.session.commit()
    after = _statements(demo, client, "/api/v1/assignments")
    assert after == before
    assert after < 20


def test_the_officials_estimates_download_does_not_query_per_street(demo, client, auth):
    """Every download checks that the cached estimates still match the localities; that check
    loaded each street's populations and communities one street at a time. Then (14
    statements) the survey, its waves, its district and the localities above it one lazy load
    each, the localities in three statements, the audit row through the ORM. Then (5) the
    user, the survey with its waves, the localities (access and key) in one statement of plain
    rows, the responses' fingerprints with the questionnaire's hash and the telephone cases,
    the audit row. Now (4) the waves' change stamps, the questionnaire's hash and the telephone
    cases come with the localities."""
    assert auth.login("official", "official-demo-2026").status_code == 302
    base = f"/officials/surveys/1/waves/{WAVE}"
    assert _statements(demo, client, f"{base}/estimates.csv") <= 4
    assert _statements(demo, client, f"{base}/streets/320106001.pdf") <= 4
    # the results page: the streets' outlines for its map instead of the audit row
    assert _statements(demo, client, f"{base}/results") <= 4


def _reads_responses(app, client, url: str) -> list[str]:
    """The statements of a (warm) request of ``url`` that read the response table."""
    assert client.get(url).status_code == 200, url  # warm: the bundle is computed once
    counter = Counter()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    assert response.status_code == 200, url
    return [s for s in counter.statements if re.search(r"\b(FROM|JOIN)\s+response\b", s)]


def test_the_officials_downloads_do_not_read_the_responses(demo, client, auth):
    """Whether a cached report still matches the waves' responses is one index look-up of
    each wave's change stamp (migration 0019), whatever the number of responses: it was an
    aggregate of every response of the wave and the earlier waves, on every download."""
    assert auth.login("official", "official-demo-2026").status_code == 302
    base = f"/officials/surveys/1/waves/{WAVE}"
    for url in (f"{base}/estimates.csv", f"{base}/streets/320106001.pdf", f"{base}/results"):
        assert _reads_responses(demo, client, url) == [], url
    with demo.app_context():
        db.session.execute(update(Wave).where(Wave.code == WAVE).values(is_open=False))
        db.session.commit()
    # a closed wave's key has its own responses' state too (no freshness window)
    assert _reads_responses(demo, client, f"{base}/estimates.csv") == []
