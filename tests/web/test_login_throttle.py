"""Login throttling (issue 14, item 6): counted atomically in the database, per address, per
account and per both; nobody can lock an account for others; unknown and known names get the
same answer after the same work."""

from __future__ import annotations

import re
import threading

import pytest

from surveyapp import sessions
from surveyapp.services import login as login_service
from surveyapp.services import users as user_service

PASSWORD = "Kestrel-Harbour-42"


@pytest.fixture
def people(app):
    with app.app_context():
        user_service.create_user("admin1", "admin", PASSWORD)
        user_service.create_user("li", "enumerator", PASSWORD)
    return app


@pytest.fixture
def checks(monkeypatch):
    """Count the password hashes the login computes (known and unknown names alike)."""
    calls = []
    lock = threading.Lock()
    real = login_service.check_password_hash

    def counting(pwhash, password):
        with lock:
            calls.append(pwhash.split("$", 1)[0])
        return real(pwhash, password)

    monkeypatch.setattr(login_service, "check_password_hash", counting)
    return calls


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(sessions, "clock", fake)
    return fake


def _post(app, username, password, address="192.0.2.1"):
    client = app.test_client()
    return client.post(
        "/auth/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def _parallel(app, attempts: list[tuple[str, str, str]]) -> list[int]:
    """Send the login attempts all at once from threads; return their statuses."""
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(attempts))

    def run(username, password, address):
        barrier.wait()
        status = _post(app, username, password, address).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=run, args=a) for a in attempts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(statuses) == len(attempts)
    return statuses


def test_forty_parallel_wrong_passwords_get_five_checks(people, checks):
    statuses = _parallel(people, [("li", f"wrong-{i}", "192.0.2.9") for i in range(40)])
    assert len(checks) == login_service.ADDRESS_ACCOUNT_LIMIT == 5, sorted(statuses)
    assert sorted(statuses) == [401] * 5 + [429] * 35
    # The right password from that address waits too; from elsewhere it works.
    assert _post(people, "li", PASSWORD, "192.0.2.9").status_code == 429
    assert _post(people, "li", PASSWORD, "198.51.100.4").status_code == 302


def test_parallel_attempts_from_many_addresses_get_at_most_the_free_checks(people, checks):
    statuses = _parallel(people, [("admin1", "wrong", f"10.0.{i}.1") for i in range(40)])
    assert len(checks) <= login_service.ACCOUNT_FREE
    assert statuses.count(401) == len(checks)
    assert statuses.count(429) == 40 - len(checks)


def test_unknown_and_known_names_get_the_same_answer_after_the_same_work(people, checks):
    answers = []
    for username in ("li", "nobody-here"):
        response = _post(people, username, "not-the-password", f"203.0.113.{len(answers)}")
        # The page echoes the typed name; CSRF tokens are random.
        page = response.get_data(as_text=True).replace(f'value="{username}"', 'value="NAME"')
        answers.append((response.status_code, re.sub(r'name="csrf_token" [^>]*', "", page)))
    assert answers[0] == answers[1]
    assert answers[0][0] == 401 and "用户名或密码错误" in answers[0][1]
    # One hash each, with the same method and cost (scrypt parameters).
    assert len(checks) == 2 and checks[0] == checks[1]
    # Throttling does not tell them apart either.
    for username in ("li", "nobody-here"):
        statuses = [_post(people, username, "x", "203.0.113.99").status_code for _ in range(6)]
        assert statuses == [401] * 5 + [429]


@pytest.mark.slow
def test_an_attacker_cannot_lock_the_account_for_others(people, clock):
    for _ in range(100):
        _post(people, "admin1", "guess", "192.0.2.66")
    assert _post(people, "admin1", "guess", "192.0.2.66").status_code == 429
    assert _post(people, "admin1", PASSWORD, "192.0.2.7").status_code == 302
    # Many addresses only slow the account down: a minute at most between attempts.
    for i in range(60):
        clock.now += 0.5
        _post(people, "admin1", "guess", f"198.51.100.{i}")
    refused = _post(people, "admin1", PASSWORD, "192.0.2.7")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= login_service.ACCOUNT_MAX_DELAY
    clock.now += login_service.ACCOUNT_MAX_DELAY
    assert _post(people, "admin1", PASSWORD, "192.0.2.7").status_code == 302


def test_one_address_across_its_window_does_not_slow_the_account(people, clock):
    for _ in range(login_service.ADDRESS_ACCOUNT_LIMIT):
        assert _post(people, "admin1", "guess", "192.0.2.66").status_code == 401
    clock.now += login_service.WINDOW  # its next window: five more
    for _ in range(login_service.ADDRESS_ACCOUNT_LIMIT):
        assert _post(people, "admin1", "guess", "192.0.2.66").status_code == 401
    assert _post(people, "admin1", "guess", "192.0.2.66").status_code == 429
    assert _post(people, "admin1", PASSWORD, "192.0.2.7").status_code == 302


def test_the_wait_doubles(people, clock):
    address = iter(f"10.1.{i}.1" for i in range(100))
    for _ in range(login_service.ACCOUNT_FREE):
        assert _post(people, "li", "guess", next(address)).status_code == 401
    waits = []
    for _ in range(8):
        response = _post(people, "li", "guess", next(address))
        assert response.status_code == 429
        waits.append(int(response.headers["Retry-After"]))
        clock.now += waits[-1]
        assert _post(people, "li", "guess", next(address)).status_code == 401
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]


@pytest.mark.slow
def test_one_address_is_limited_across_names(people):
    for i in range(login_service.ADDRESS_LIMIT):
        assert _post(people, f"name{i}", "guess", "192.0.2.50").status_code == 401
    assert _post(people, "li", PASSWORD, "192.0.2.50").status_code == 429
    assert _post(people, "li", PASSWORD, "192.0.2.51").status_code == 302


@pytest.mark.slow
def test_successful_logins_do_not_use_up_an_address(people):
    """A station's tablets share one address: their logins do not count against it."""
    for _ in range(login_service.ADDRESS_LIMIT + 2):
        assert _post(people, "li", PASSWORD, "192.0.2.80").status_code == 302


def test_a_success_resets_the_pair_and_variants_of_a_name_count_together(people, clock):
    for _ in range(4):
        assert _post(people, "li", "typo", "192.0.2.3").status_code == 401
    assert _post(people, "li", PASSWORD, "192.0.2.3").status_code == 302
    for name in ("li", "LI", " Li", "li ", "lI"):
        assert _post(people, name, "typo", "192.0.2.3").status_code == 401
    throttled = _post(people, "li", PASSWORD, "192.0.2.3")
    assert throttled.status_code == 429 and "15 分钟后再试" in throttled.get_data(as_text=True)
    clock.now += login_service.WINDOW
    assert _post(people, "li", PASSWORD, "192.0.2.3").status_code == 302


def test_a_disabled_account_is_refused_only_with_its_password(people):
    from sqlalchemy import select

    from surveyapp.extensions import db
    from surveyapp.models import User

    with people.app_context():
        user_service.set_active(db.session.scalar(select(User).where(User.username == "li")), False)
    assert _post(people, "li", "wrong", "192.0.2.4").status_code == 401
    refused = _post(people, "li", PASSWORD, "192.0.2.4")
    assert refused.status_code == 403 and "已停用" in refused.get_data(as_text=True)
