"""``surveyapp users list|disable|enable|set-password|revoke-sessions``."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.fieldwork.tokens import issue_token
from surveyapp.models import User
from surveyapp.services import users as user_service

PASSWORD = "Kestrel-Harbour-42"


@pytest.fixture
def people(app):
    with app.app_context():
        user_service.create_user("boss", "admin", PASSWORD)
        user_service.create_user("li", "enumerator", PASSWORD, display_name="调查员 李强")
        issue_token("li", label="tablet")
    return app


def _login(app, username="li", password=PASSWORD):
    client = app.test_client()
    response = client.post("/auth/login", data={"username": username, "password": password})
    assert response.status_code == 302
    return client


def _user(app, name):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == name))
        db.session.expunge(user)
        return user


def test_list_as_json_and_table(people, runner):
    result = runner.invoke(args=["users", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["username"], r["role"], r["active"], r["api_tokens"]) for r in rows] == [
        ("boss", "admin", True, 0),
        ("li", "enumerator", True, 1),
    ]
    assert rows[1]["display_name"] == "调查员 李强"
    table = runner.invoke(args=["users", "list"])
    assert table.exit_code == 0 and "li " in table.output and "已启用" in table.output


def test_disable_and_enable(people, runner):
    session = _login(people)
    result = runner.invoke(args=["users", "disable", "li"])
    assert result.exit_code == 0, result.output
    assert not _user(people, "li").active
    assert session.get("/api/v1/me").status_code == 401
    listed = json.loads(runner.invoke(args=["users", "list", "--format", "json"]).output)
    assert listed[1]["active"] is False
    assert runner.invoke(args=["users", "enable", "li"]).exit_code == 0
    assert _user(people, "li").active
    assert session.get("/api/v1/me").status_code == 401
    _login(people)


def test_set_password(people, runner):
    session = _login(people)
    result = runner.invoke(
        args=["users", "set-password", "li"], input="Plum-Blossom-8\nPlum-Blossom-8\n"
    )
    assert result.exit_code == 0, result.output
    assert session.get("/api/v1/me").status_code == 401
    _login(people, password="Plum-Blossom-8")
    temporary = runner.invoke(
        args=["users", "set-password", "li", "--temporary", "--password", "Orchid-Lane-77"]
    )
    assert temporary.exit_code == 0 and "下次登录时须修改" in temporary.output
    assert _user(people, "li").must_change_password
    forced = _login(people, password="Orchid-Lane-77")
    assert forced.get("/account").headers["Location"].endswith("/account/password")


def test_revoke_sessions(people, runner):
    li, boss = _login(people), _login(people, "boss")
    result = runner.invoke(args=["users", "revoke-sessions", "li"])
    assert result.exit_code == 0, result.output
    assert li.get("/api/v1/me").status_code == 401
    assert boss.get("/api/v1/me").status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # a Chinese operator (the default language) reads the refusal in Chinese
        (["users", "disable", "nobody"], "没有名为「nobody」的用户"),
        (["users", "enable", "nobody"], "没有名为「nobody」的用户"),
        (["users", "revoke-sessions", "nobody"], "没有名为「nobody」的用户"),
        (
            ["users", "set-password", "nobody", "--password", "Plum-Blossom-8"],
            "没有名为「nobody」的用户",
        ),
        (["users", "set-password", "li", "--password", "password123"], "此密码属于最常用的密码"),
        (["users", "set-password", "li", "--password", "short"], "密码至少需要 8 个字符"),
        (["users", "disable", "boss"], "「boss」是最后一个有效的管理员"),
        (["users", "list", "--format", "xml"], "'xml' is not one of"),
    ],
)
def test_errors_exit_1_naming_the_problem(people, runner, args, message):
    before = _user(people, "li").password_hash
    result = runner.invoke(args=args)
    # A bad option is click's usage error (2); every other problem exits 1.
    assert result.exit_code == (2 if "--format" in args else 1)
    assert message in result.output, result.output
    assert _user(people, "li").password_hash == before
    assert _user(people, "boss").active
