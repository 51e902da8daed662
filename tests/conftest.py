"""Shared fixtures: an app on a freshly migrated database, its client and CLI runner.

The schema is created only by the migrations: once per session into a template database,
then each test gets its own copy (SQLite) or a truncated schema (PostgreSQL, when
``SURVEYAPP_TEST_DATABASE_URL`` is set; see tests/pg.py and the Makefile).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from surveyapp import create_app
from surveyapp.extensions import db

from . import properties  # noqa: F401  (loads the hypothesis profile: quick, or thorough in CI)

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("SURVEYAPP_TEST_DATABASE_URL")
#: Tests that take more than about a second, by node id (a parametrized test by its base id) or
#: by module path, marked ``slow`` here so that ``make check`` (``-m "not slow and not browser"``)
#: skips them.
SLOW_TESTS = frozenset(
    line.strip()
    for line in (Path(__file__).with_name("slow_tests.txt")).read_text().splitlines()
    if line.strip() and not line.startswith("#")
)


def pytest_collection_modifyitems(config, items) -> None:
    """Mark the tests that drive a browser (through the ``browser`` fixture), the slow ones and
    the ones on the database; on PostgreSQL, keep only the tests that need its run.

    A test is ``db`` when its fixtures reach ``migrated_database`` (``app``, ``client``,
    ``demo``, ``runner``, ``ctx`` and every fixture built on them do), whatever its directory:
    a new database test is picked up by the PostgreSQL run without a list to update. That run
    (``SURVEYAPP_TEST_DATABASE_URL`` set, scripts/with-postgres) deselects the tests that do not
    touch the database (they would only repeat the SQLite run) and the browser tests (a browser
    exercises the page's script against the same views the ``client`` tests already run on
    PostgreSQL), except those marked ``postgres``. docs/testing.md states the rule.
    """
    keep, dropped = [], []
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "browser" in fixtures:
            item.add_marker(pytest.mark.browser)
        if "migrated_database" in fixtures:
            item.add_marker(pytest.mark.db)
        base = item.nodeid.split("[")[0]
        if base in SLOW_TESTS or base.split("::")[0] in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
        if PG_URL and not _runs_on_postgres(item):
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
        config._surveyapp_pg_deselected = len(dropped)


def _runs_on_postgres(item) -> bool:
    """Whether the PostgreSQL run takes this test: marked ``postgres``, or on the database and
    not in a browser."""
    if item.get_closest_marker("postgres"):
        return True
    return item.get_closest_marker("db") is not None and item.get_closest_marker("browser") is None


def pytest_sessionfinish(session, exitstatus) -> None:
    """On PostgreSQL, a selection with no database test in it (say a pure-core file) passes."""
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED and getattr(
        session.config, "_surveyapp_pg_deselected", 0
    ):
        session.exitstatus = pytest.ExitCode.OK


#: Passwords are hashed in the tests with werkzeug's scrypt at a test cost (n = 2**10 instead of
#: 2**15: 1 MiB and a millisecond instead of 32 MiB and 0.1-0.9 s a hash on the shared machine,
#: which was over a third of the web tests' time). Same algorithm and format; the production
#: cost is checked by tests/security/test_password_cost.py, and the servers and commands the
#: tests start in subprocesses hash at full cost.
TEST_PASSWORD_METHOD = "scrypt:1024:8:1"


def _cheap_hash(password: str, method: str = TEST_PASSWORD_METHOD, salt_length: int = 16) -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(password, TEST_PASSWORD_METHOD, salt_length)


@pytest.fixture(scope="session", autouse=True)
def _test_password_cost():
    import surveyapp.models.users
    import surveyapp.services.login

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(surveyapp.models.users, "generate_password_hash", _cheap_hash)
        mp.setattr(surveyapp.services.login, "generate_password_hash", _cheap_hash)
        surveyapp.services.login._dummy_hash.cache_clear()
        yield
    surveyapp.services.login._dummy_hash.cache_clear()


def _config(url: str) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        # No background work racing the tests (tests/services/test_prepare_reports.py turns it on).
        "PREPARE_REPORTS": False,
    }


def _close(app) -> None:
    """Release every connection and fold the WAL into the file, so the file can be copied."""
    db.session.remove()
    if not PG_URL:
        with db.engine.begin() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    db.engine.dispose()


def wipe_postgres() -> None:
    """Empty every table of the PostgreSQL test database (inside an app context).

    The one way tests empty PostgreSQL: the current session is released first, and any other
    connection a finished test left "idle in transaction" is ended, so TRUNCATE (which waits
    for every lock on its tables) can never hang the run; a lock still held after 30 s is an
    error naming the cause instead of a silent hang.
    """
    db.session.remove()
    with db.engine.begin() as conn:
        conn.execute(text("SET LOCAL lock_timeout = '30s'"))
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND state LIKE 'idle in transaction%'"
            )
        )
        tables = ", ".join(reversed(_pg_tables()))
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> str:
    """Run the migrations once; return the URL (PostgreSQL) or template file (SQLite)."""
    from flask_migrate import downgrade, upgrade

    if PG_URL:
        app = create_app(_config(PG_URL))
        with app.app_context():
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            upgrade()
            db.engine.dispose()
        return PG_URL
    template = tmp_path_factory.mktemp("db") / "template.sqlite"
    app = create_app(_config(f"sqlite:///{template}"))
    with app.app_context():
        upgrade()
        # The downgrade path must work too: down to nothing and up again.
        downgrade(revision="base")
        upgrade()
        _close(app)
    return str(template)


DEMO_RESPONSES, DEMO_SEED = 60, 7


# PostgreSQL keeps the demo rows once in this schema; each test copies them into ``public``.
PG_DEMO_SCHEMA = "demo_template"


def _pg_tables():
    """The tables tests empty and copy: those a backup holds. State the database keeps
    itself (``change_stamp``, replaced by triggers) keeps its row, as in production, where
    nothing empties it (emptied, the tablets' locality lists would not be cached at all)."""
    from surveyapp.services.backup import backed_up_tables

    return [f'"{t.name}"' for t in backed_up_tables()]


def _demo_template(migrated_database, folder: Path, responses: int, seed: int, schema: str):
    """Load the demo once into a SQLite template file (returned) or, on PostgreSQL, into
    ``schema`` (``public`` is used to load it and left empty)."""
    from surveyapp.services.demo import load_demo

    if PG_URL:
        app = create_app(_config(PG_URL))
        with app.app_context():
            load_demo(responses=responses, seed=seed)
            db.session.remove()
            with db.engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                conn.execute(text(f"CREATE SCHEMA {schema}"))
                for table in _pg_tables():
                    conn.execute(
                        text(f"CREATE TABLE {schema}.{table} AS SELECT * FROM public.{table}")
                    )
                conn.execute(
                    text(f"TRUNCATE {', '.join(reversed(_pg_tables()))} RESTART IDENTITY CASCADE")
                )
            db.engine.dispose()
        return None
    template = folder / f"{schema}.sqlite"
    shutil.copy(migrated_database, template)
    app = create_app(_config(f"sqlite:///{template}"))
    with app.app_context():
        load_demo(responses=responses, seed=seed)
        _close(app)
    return str(template)


def _pg_copy_template(app, schema: str) -> None:
    """Copy a template schema's rows into the (empty) ``public`` schema of the test."""
    from surveyapp.services.backup import _reset_sequences

    with app.app_context():
        with db.engine.begin() as conn:
            for table in _pg_tables():
                conn.execute(text(f"INSERT INTO public.{table} SELECT * FROM {schema}.{table}"))
        _reset_sequences({t.name: t for t in db.metadata.sorted_tables})
        db.session.commit()
        db.session.remove()


@pytest.fixture(scope="session")
def demo_database(migrated_database, tmp_path_factory) -> str | None:
    """The demo loaded once: a SQLite template file, or (PostgreSQL) a template schema."""
    return _demo_template(
        migrated_database,
        tmp_path_factory.mktemp("demo"),
        DEMO_RESPONSES,
        DEMO_SEED,
        PG_DEMO_SCHEMA,
    )


class LargerDemos:
    """Templates of larger demos by (responses, seed), each loaded when first asked for."""

    def __init__(self, migrated_database: str, folder: Path):
        self._migrated, self._folder, self._made = migrated_database, folder, {}

    @staticmethod
    def schema(responses: int, seed: int) -> str:
        return f"demo_{responses}_{seed}"

    def template(self, responses: int, seed: int) -> str | None:
        """The SQLite template file (None on PostgreSQL: the rows are in ``schema()``)."""
        key = (responses, seed)
        if key not in self._made:
            self._made[key] = _demo_template(
                self._migrated, self._folder, responses, seed, self.schema(responses, seed)
            )
        return self._made[key]


@pytest.fixture(scope="session")
def larger_demos(migrated_database, tmp_path_factory) -> LargerDemos:
    return LargerDemos(migrated_database, tmp_path_factory.mktemp("demos"))


@pytest.fixture
def load_demo_copy(app, larger_demos):
    """``load_demo_copy(responses, seed)``: the test's (still empty) database gets exactly what
    ``load_demo(responses=..., seed=...)`` would store, copied from a template loaded once a
    session (a 600-response demo took 5-10 s a test to load; a copy takes a fraction of a second).
    """

    def load(responses: int, seed: int) -> None:
        template = larger_demos.template(responses, seed)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if PG_URL:
            _pg_copy_template(app, larger_demos.schema(responses, seed))
            return
        path = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.copy(template, path)

    return load


@pytest.fixture
def app(request, migrated_database, tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEYAPP_INSTANCE_PATH", str(tmp_path / "instance"))
    wants_demo = "demo" in request.fixturenames
    if PG_URL:
        url = PG_URL
    else:
        source = request.getfixturevalue("demo_database") if wants_demo else migrated_database
        copy = tmp_path / "test.sqlite"
        shutil.copy(source, copy)
        url = f"sqlite:///{copy}"
    app = create_app(_config(url))
    if PG_URL and wants_demo:
        request.getfixturevalue("demo_database")
        _pg_copy_template(app, PG_DEMO_SCHEMA)
    yield app
    with app.app_context():
        db.session.remove()
        if PG_URL:
            wipe_postgres()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username: str, password: str):
        return self._client.post("/auth/login", data={"username": username, "password": password})

    def logout(self):
        return self._client.post("/auth/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def demo(app):
    """The app on a database holding the demo data set with a few synthetic responses."""
    return app


def use_questionnaire(app, text: str, filename: str):
    """Store the questionnaire ``text`` and make it every survey's and wave's; its schema."""
    from sqlalchemy import select

    from surveyapp.models import Survey, Wave
    from surveyapp.services.questionnaires import store_questionnaire

    with app.app_context():
        version, _ = store_questionnaire(text, filename)
        for survey in db.session.scalars(select(Survey)):
            survey.questionnaire_version_id = version.id
        for wave in db.session.scalars(select(Wave)):
            wave.questionnaire_version_id = version.id
        db.session.commit()
        return version.schema


@pytest.fixture
def roster_survey(demo):
    """The demo with the household roster (tests/rosters.py) as every survey's and wave's
    questionnaire."""
    from .rosters import roster_text

    use_questionnaire(demo, roster_text(), "roster.yaml")


@pytest.fixture
def live_server(demo):
    """The demo app served on a free loopback port, CSRF on (a browser goes through it)."""
    import threading

    from werkzeug.serving import make_server

    demo.config["WTF_CSRF_ENABLED"] = True
    server = make_server("127.0.0.1", 0, demo, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def browser():
    """Debian's chromium driven by Playwright, headless."""
    from playwright.sync_api import sync_playwright

    from .browser import CHROMIUM, LAUNCH_ARGS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()
