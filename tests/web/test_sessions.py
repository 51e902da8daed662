"""Sessions end on the server: a copied cookie stops working after logout, a password change,
disabling the account or revoking its sessions; and after the idle or absolute time limit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from surveyapp import sessions
from surveyapp.extensions import db
from surveyapp.fieldwork.tokens import issue_token
from surveyapp.models import User
from surveyapp.services import users as user_service

PASSWORD = "Kestrel-Harbour-42"


@pytest.fixture
def people(app):
    with app.app_context():
        user_service.create_user("wang", "manager", PASSWORD, display_name="王芳")
        user_service.create_user("li", "enumerator", PASSWORD)
    return app


def _login(app, username: str = "wang", password: str = PASSWORD):
    client = app.test_client()
    response = client.post("/auth/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def _copy(app, client):
    """A second browser holding a copy of ``client``'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def _me(client) -> int:
    return client.get("/api/v1/me").status_code


def _user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def test_a_copied_cookie_is_refused_after_logout(people):
    client = _login(people)
    other_device = _login(people)
    thief = _copy(people, client)
    assert _me(thief) == 200
    assert client.post("/auth/logout").status_code == 302
    assert _me(client) == 401
    assert _me(thief) == 401
    assert _me(other_device) == 401  # logout ends every session of the account
    page = thief.get("/manage/")
    assert page.status_code == 302 and "/auth/login" in page.headers["Location"]
    # Another account is not affected, and logging in again works.
    assert _me(_login(people, "li")) == 200
    assert _me(_login(people)) == 200


def test_a_copied_cookie_is_refused_after_a_password_change(people):
    client = _login(people)
    thief = _copy(people, client)
    with people.app_context():
        user_service.set_password(_user("wang"), "Another-Long-Secret-7")
    assert _me(thief) == 401
    assert _me(client) == 401
    assert _me(_login(people, password="Another-Long-Secret-7")) == 200


def test_a_copied_cookie_and_the_tokens_are_refused_after_disabling(people):
    client = _login(people, "li")
    thief = _copy(people, client)
    with people.app_context():
        token, _user_row = issue_token("li", label="tablet 1")
    api = people.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/me", headers=bearer).status_code == 200
    with people.app_context():
        user_service.set_active(_user("li"), False)
    assert _me(thief) == 401
    assert _me(client) == 401
    assert api.get("/api/v1/me", headers=bearer).status_code == 401
    # Enabled again: the old sessions stay ended, the token works again, a new login works.
    with people.app_context():
        user_service.set_active(_user("li"), True)
    assert _me(thief) == 401
    assert api.get("/api/v1/me", headers=bearer).status_code == 200
    assert _me(_login(people, "li")) == 200


def test_revoking_sessions_spares_other_accounts(people):
    wang, li = _login(people), _login(people, "li")
    with people.app_context():
        user_service.revoke_sessions(_user("wang"))
    assert _me(wang) == 401
    assert _me(li) == 200


def test_a_forged_session_without_the_generation_is_refused(people):
    """A session holding only Flask-Login's user id (as before this check existed) is
    refused: the cookie must have been made by a login."""
    client = people.test_client()
    with people.app_context():
        user_id = _user("wang").id
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
    assert _me(client) == 401


class Clock:
    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(sessions, "clock", fake)
    return fake


def test_defaults_are_twelve_hours_and_two_idle(people):
    assert people.config["SESSION_LIFETIME"] == 12 * 3600
    assert people.config["SESSION_IDLE_TIMEOUT"] == 2 * 3600


def test_idle_sessions_end(people, clock):
    client = _login(people)
    clock.advance(2 * 3600 - 60)
    assert _me(client) == 200  # the request renews the idle limit
    clock.advance(2 * 3600 - 60)
    assert _me(client) == 200
    clock.advance(2 * 3600 + 1)
    assert _me(client) == 401
    clock.advance(-3600)  # not even if the clock is put back: the session is gone
    assert _me(client) == 401


def test_sessions_end_after_their_lifetime_even_when_active(people, clock):
    client = _login(people)
    for _hour in range(12):
        assert _me(client) == 200
        clock.advance(3600)
    assert _me(client) == 200  # exactly 12 h
    clock.advance(1)
    assert _me(client) == 401
    assert _me(_login(people)) == 200


def test_limits_come_from_the_environment(tmp_path, monkeypatch):
    from surveyapp.config import from_environment

    monkeypatch.setenv("SURVEYAPP_SECRET_KEY", "x")
    monkeypatch.setenv("SURVEYAPP_SESSION_LIFETIME", "8h")
    monkeypatch.setenv("SURVEYAPP_SESSION_IDLE_TIMEOUT", "900")
    config = from_environment(str(tmp_path))
    assert config["SESSION_LIFETIME"] == 8 * 3600
    assert config["SESSION_IDLE_TIMEOUT"] == 900
    assert config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 8 * 3600
    monkeypatch.setenv("SURVEYAPP_SESSION_IDLE_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="SURVEYAPP_SESSION_IDLE_TIMEOUT"):
        from_environment(str(tmp_path))
    monkeypatch.setenv("SURVEYAPP_SESSION_IDLE_TIMEOUT", "0")
    with pytest.raises(ValueError, match="above 0"):
        from_environment(str(tmp_path))


def test_the_cookie_is_sent_again_only_when_the_session_changes(people, clock):
    """The session cookie is not signed and sent again on every request (Flask's
    SESSION_REFRESH_EACH_REQUEST): only when the session changes, here the idle timestamp,
    rewritten at most every 30 s. The limits are the server's, whatever the cookie's expiry."""
    client = _login(people)
    for _request in range(3):
        response = client.get("/api/v1/me")
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
    clock.advance(31)
    response = client.get("/api/v1/me")
    assert response.status_code == 200
    assert "Set-Cookie" in response.headers  # the idle timestamp moved
    assert "Set-Cookie" not in client.get("/api/v1/me").headers
    # Idle for the limit since that timestamp: refused, though the cookie never expired.
    clock.advance(2 * 3600 + 1)
    assert _me(client) == 401


def test_a_request_reads_the_account_once_and_its_user_is_the_sessions(people):
    """The session check reads the account's row (one statement); ``current_user`` is then the
    database session's own ``User``, as if queried: found again without a query, and a change
    to it is saved."""
    from flask_login import current_user
    from sqlalchemy import event, inspect

    from surveyapp.auth import roles_required

    seen = {}

    @roles_required("manager")
    def probe():
        user = current_user._get_current_object()
        seen["persistent"] = inspect(user).persistent and not db.session.dirty
        seen["same"] = db.session.get(User, user.id) is user
        seen["locality"] = user.locality  # a relationship, loaded when used
        user.display_name = "王芳芳"
        db.session.commit()
        return "ok"

    people.add_url_rule("/probe", "probe", probe)
    client = _login(people)
    with people.app_context():
        engine = db.engine
    statements: list[str] = []
    listener = lambda *a: statements.append(" ".join(a[2].split()))  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert client.get("/probe").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert seen == {"persistent": True, "same": True, "locality": None}
    assert [s.split(" FROM ")[1].split()[0] for s in statements if s.startswith("SELECT")] == [
        "user_account"
    ]
    assert sum(s.startswith("UPDATE user_account") for s in statements) == 1
    with people.app_context():
        assert _user("wang").display_name == "王芳芳"


def test_a_remembered_cookie_still_expires_and_a_changed_one_is_refused(people, monkeypatch):
    """Cookies verified once are remembered (sessions.CookieSessions), not trusted more: a
    changed cookie is refused, and the remembered one ends when Flask's cookie age limit
    (PERMANENT_SESSION_LIFETIME) passes, as a verified one does."""
    import time
    import types
    from datetime import timedelta

    import itsdangerous.timed

    client = _login(people)
    assert _me(client) == 200  # verified and remembered
    assert _me(client) == 200  # from memory
    cookie = client.get_cookie("session").value
    changed = people.test_client()
    changed.set_cookie("session", cookie[:-2] + ("AB" if cookie[-2:] != "AB" else "BA"))
    assert _me(changed) == 401
    people.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=60)
    later = types.SimpleNamespace(time=lambda: time.time() + 61)
    monkeypatch.setattr(itsdangerous.timed, "time", later)
    monkeypatch.setattr(sessions, "time", later)
    assert _me(client) == 401  # the server's own limits (2 h idle, 12 h) are not reached


@pytest.mark.parametrize(
    "environ",
    [
        {"REMOTE_ADDR": "10.1.2.3", "HTTP_USER_AGENT": "Mozilla/5.0 (Linux; Android 13)"},
        {"REMOTE_ADDR": "10.1.2.3"},
        {"REMOTE_ADDR": "10.1.2.3", "HTTP_X_FORWARDED_FOR": " 192.0.2.7 , 10.0.0.1"},
        {"HTTP_X_FORWARDED_FOR": "", "HTTP_USER_AGENT": "Tablette \xe9"},
        {},
    ],
)
def test_the_session_identifier_is_flask_logins(app, environ):
    """Sessions opened before (and by Flask-Login's own code) keep their identifier."""
    from flask_login.utils import _create_identifier

    from surveyapp.auth import session_identifier

    with app.test_request_context(environ_base=environ):
        if "REMOTE_ADDR" not in environ:
            from flask import request

            request.environ.pop("REMOTE_ADDR", None)
        assert session_identifier() == _create_identifier()
        assert app.login_manager._session_identifier_generator is session_identifier
