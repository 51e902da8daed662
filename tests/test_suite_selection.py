"""The PostgreSQL run's selection (tests/conftest.py, docs/testing.md): a test is ``db`` when its
fixtures reach the migrated database, and PostgreSQL takes the ``db`` tests that drive no
browser, and those marked ``postgres``."""

from __future__ import annotations

import pytest

from .conftest import _runs_on_postgres


def test_a_database_test_is_marked_through_its_fixtures(client):
    """This test only asks for ``client``: that is enough to be marked and taken."""


def test_a_pure_test_is_not_marked():
    pass


class _Item:
    def __init__(self, *marks: str):
        self.marks = set(marks)

    def get_closest_marker(self, name):
        return name if name in self.marks else None


def test_the_marks_follow_the_fixtures_of_every_collected_test(request):
    items = {item.nodeid: item for item in request.session.items}
    for item in items.values():
        assert (item.get_closest_marker("db") is not None) == (
            "migrated_database" in item.fixturenames
        ), item.nodeid
    module = request.node.nodeid.split("::")[0]
    db_test = items.get(f"{module}::test_a_database_test_is_marked_through_its_fixtures")
    pure = items.get(f"{module}::test_a_pure_test_is_not_marked")
    if db_test is not None:
        assert db_test.get_closest_marker("db") and _runs_on_postgres(db_test)
    if pure is not None:
        assert not pure.get_closest_marker("db") and not _runs_on_postgres(pure)


@pytest.mark.parametrize(
    ("marks", "taken"),
    [
        ((), False),
        (("db",), True),
        (("db", "browser"), False),
        (("db", "browser", "postgres"), True),
        (("browser",), False),
        (("postgres",), True),
    ],
)
def test_what_the_postgresql_run_takes(marks, taken):
    assert _runs_on_postgres(_Item(*marks)) is taken
