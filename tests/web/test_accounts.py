"""Administrators' account pages (账号管理), one's own password and API tokens."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.fieldwork.tokens import issue_token
from surveyapp.models import AuditEvent, User
from surveyapp.models.fieldwork import ApiToken
from surveyapp.services import localities
from surveyapp.services import users as user_service

PASSWORD = "Kestrel-Harbour-42"
LOCALITIES = """code,parent_code,level,name_zh,name_en,population
320106,,district,鼓楼区,Gulou District,100000
320106001,320106,street,宁海路街道,Ninghailu,20000
"""


@pytest.fixture
def people(app):
    with app.app_context():
        localities.import_localities(LOCALITIES, source="test.csv")
        user_service.create_user("boss", "admin", PASSWORD)
        user_service.create_user("wang", "manager", PASSWORD, display_name="王芳")
        user_service.create_user("li", "enumerator", PASSWORD)
    return app


def _login(app, username="boss", password=PASSWORD):
    client = app.test_client()
    response = client.post("/auth/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    return client


def _user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def _text(response) -> str:
    return response.get_data(as_text=True)


def _temporary(response) -> str:
    return re.search(r'id="temporary-password">([^<]+)<', _text(response)).group(1)


def test_only_admins_see_the_accounts(people):
    admin = _login(people)
    page = admin.get("/admin/users")
    assert page.status_code == 200
    text = _text(page)
    assert "账号管理" in text and "王芳" in text and "调查主管" in text
    assert 'href="/admin/users"' in _text(admin.get("/account"))  # the menu entry
    manager = _login(people, "wang")
    assert manager.get("/admin/users").status_code == 403
    assert 'href="/admin/users"' not in _text(manager.get("/account"))
    assert (
        manager.post("/admin/users/new", data={"username": "x", "role": "admin"}).status_code == 403
    )


def test_create_an_account_with_a_temporary_password_to_change(people):
    admin = _login(people)
    created = admin.post(
        "/admin/users/new",
        data={
            "username": "chen",
            "display_name": "区政法委 陈明",
            "role": "official",
            "locality": "320106",
        },
    )
    assert created.status_code == 200
    temporary = _temporary(created)
    with people.app_context():
        chen = _user("chen")
        assert (chen.role, chen.locality.code, chen.display_name) == (
            "official",
            "320106",
            "区政法委 陈明",
        )
        assert chen.must_change_password and chen.check_password(temporary)
    # The temporary password opens only the change page.
    chen = _login(people, "chen", temporary)
    for path in ("/officials/", "/account", "/manage/"):
        response = chen.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith(
            "/account/password"
        ), path
    assert chen.get("/api/v1/me").status_code == 403
    page = chen.get("/account/password")
    assert "管理员重置" in _text(page)
    changed = chen.post(
        "/account/password",
        data={
            "current": temporary,
            "new": "Plum-Blossom-Street-8",
            "confirm": "Plum-Blossom-Street-8",
        },
    )
    assert changed.status_code == 302
    assert chen.get("/account").status_code == 200
    with people.app_context():
        assert not _user("chen").must_change_password


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "", "role": "manager"}, "用户名为 1 至 64 个字符，前后不得有空格"),
        ({"username": " zhao", "role": "manager"}, "用户名为 1 至 64 个字符，前后不得有空格"),
        ({"username": "x" * 65, "role": "manager"}, "用户名为 1 至 64 个字符，前后不得有空格"),
        (
            {"username": "zhao", "role": "manager", "display_name": "名" * 121},
            "显示名称最多 120 个字符",
        ),
        ({"username": "zhao", "role": "official"}, "必须指定管辖地区"),
        ({"username": "zhao", "role": "king"}, "角色"),
        ({"username": "zhao", "role": "manager", "locality": "999"}, "没有代码为“999”的地区"),
        ({"username": "wang", "role": "manager"}, "用户「wang」已存在"),
    ],
)
def test_bad_new_accounts_are_refused_in_chinese(people, data, message):
    admin = _login(people)
    response = admin.post("/admin/users/new", data=data)
    assert response.status_code == 400
    assert message in _text(response), _text(response)[-1500:]
    with people.app_context():
        assert len(user_service.list_users()) == 3


@pytest.mark.parametrize(
    ("language", "wording"),
    [
        (
            "zh_CN",
            {
                "exists": "用户「wang」已存在",
                "needs_jurisdiction": "领导账号必须指定管辖地区：请选择一个地区",
                "last_admin": "「boss」是最后一个有效的管理员：请先设置另一位管理员",
                "password_common": "此密码属于最常用的密码，请另选一个",
            },
        ),
        (
            "en",
            {
                "exists": "user 'wang' already exists",
                "needs_jurisdiction": "an official needs a jurisdiction: choose a locality",
                "last_admin": "'boss' is the last active admin: make another admin first",
                "password_common": "this password is among the most commonly used ones; "
                "choose another",
            },
        ),
    ],
)
def test_a_refusal_shows_the_services_wording_in_the_interface_language(people, language, wording):
    """One wording per refusal: the accounts service's message (the one the command line
    prints), in the interface language, whether the service or the page's form refuses."""
    admin = _login(people)
    if language == "en":
        assert admin.post("/auth/language/en").status_code in (302, 303)
    with people.app_context():
        boss = _user("boss").id
    refused = {
        "exists": admin.post("/admin/users/new", data={"username": "wang", "role": "manager"}),
        "needs_jurisdiction": admin.post(
            "/admin/users/new", data={"username": "zhao", "role": "official"}
        ),
        "last_admin": admin.post(
            f"/admin/users/{boss}", data={"display_name": "", "role": "manager"}
        ),
        "password_common": admin.post(
            "/account/password",
            data={"current": PASSWORD, "new": "password123", "confirm": "password123"},
        ),
    }
    for code, response in refused.items():
        assert response.status_code == 400, code
        assert wording[code] in html.unescape(_text(response)), (code, _text(response)[-1500:])
    with people.app_context():
        assert _user("boss").role == "admin" and _user("boss").check_password(PASSWORD)
        assert len(user_service.list_users()) == 3


def test_edit_role_jurisdiction_and_name(people):
    admin = _login(people)
    with people.app_context():
        li = _user("li").id
    saved = admin.post(
        f"/admin/users/{li}",
        data={"display_name": "宁海路 李强", "role": "official", "locality": "320106001"},
    )
    assert saved.status_code == 302
    with people.app_context():
        user = _user("li")
        assert (user.role, user.locality.code, user.display_name) == (
            "official",
            "320106001",
            "宁海路 李强",
        )
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user_changed"))
        assert event.detail["before"] == {"role": "enumerator", "locality": None}
    refused = admin.post(f"/admin/users/{li}", data={"display_name": "", "role": "official"})
    assert refused.status_code == 400 and "必须指定管辖地区" in _text(refused)
    assert admin.get("/admin/users/999999").status_code == 404


def test_the_last_admin_cannot_be_demoted_or_disabled(people):
    admin = _login(people)
    with people.app_context():
        boss = _user("boss").id
    refused = admin.post(f"/admin/users/{boss}", data={"display_name": "", "role": "manager"})
    assert refused.status_code == 400 and "最后一个" in _text(refused)
    assert admin.post(f"/admin/users/{boss}/disable").status_code == 400
    with people.app_context():
        assert _user("boss").role == "admin" and _user("boss").active


def test_disable_and_enable_end_the_sessions(people):
    admin = _login(people)
    li = _login(people, "li")
    with people.app_context():
        li_id = _user("li").id
    assert admin.post(f"/admin/users/{li_id}/disable").status_code == 302
    assert li.get("/api/v1/me").status_code == 401
    refused = people.test_client().post(
        "/auth/login", data={"username": "li", "password": PASSWORD}
    )
    assert refused.status_code == 403
    assert "停用" in _text(admin.get("/admin/users"))
    assert admin.post(f"/admin/users/{li_id}/enable").status_code == 302
    assert li.get("/api/v1/me").status_code == 401  # the old session stays ended
    _login(people, "li")


def test_reset_a_password(people):
    admin = _login(people)
    wang = _login(people, "wang")
    with people.app_context():
        wang_id = _user("wang").id
    reset = admin.post(f"/admin/users/{wang_id}/reset-password")
    assert reset.status_code == 200
    temporary = _temporary(reset)
    assert wang.get("/api/v1/me").status_code == 401
    bad = people.test_client().post("/auth/login", data={"username": "wang", "password": PASSWORD})
    assert bad.status_code == 401
    again = _login(people, "wang", temporary)
    assert again.get("/manage/").headers["Location"].endswith("/account/password")
    # An admin does not reset their own password here (they change it).
    with people.app_context():
        boss_id = _user("boss").id
    assert admin.post(f"/admin/users/{boss_id}/reset-password").status_code == 400


def test_change_own_password(people):
    li = _login(people, "li")
    other_device = _login(people, "li")
    cases = [
        (
            {"current": "wrong-one-1", "new": "Plum-Blossom-8", "confirm": "Plum-Blossom-8"},
            "当前密码不正确",
        ),
        ({"current": PASSWORD, "new": "Plum-Blossom-8", "confirm": "Plum-Blossom-9"}, "不一致"),
        ({"current": PASSWORD, "new": "password123", "confirm": "password123"}, "常用"),
        ({"current": PASSWORD, "new": "short", "confirm": "short"}, "至少 8 个字符"),
        ({"current": PASSWORD, "new": "li123456", "confirm": "li123456"}, "用户名"),
        ({"current": "", "new": "", "confirm": ""}, "请输入"),
    ]
    for data, message in cases:
        response = li.post("/account/password", data=data)
        assert response.status_code == 400 and message in _text(response), (
            data,
            _text(response)[-1200:],
        )
    changed = li.post(
        "/account/password",
        data={"current": PASSWORD, "new": "Plum-Blossom-8", "confirm": "Plum-Blossom-8"},
    )
    assert changed.status_code == 302
    assert li.get("/api/v1/me").status_code == 200  # this session goes on
    assert other_device.get("/api/v1/me").status_code == 401  # the others end
    _login(people, "li", "Plum-Blossom-8")


def test_api_tokens_listed_and_revoked(people):
    with people.app_context():
        own_token, _ = issue_token("li", label="平板 1")
        issue_token("li", label="平板 2")
        other_token, _ = issue_token("wang", label="laptop")
        li_tokens = [
            t.id
            for t in db.session.scalars(
                select(ApiToken).where(ApiToken.user_id == _user("li").id).order_by(ApiToken.id)
            )
        ]
        wang_token = db.session.scalar(
            select(ApiToken.id).where(ApiToken.user_id == _user("wang").id)
        )
        li_id = _user("li").id
    li = _login(people, "li")
    page = _text(li.get("/account"))
    assert "平板 1" in page and "平板 2" in page and "laptop" not in page
    bearer = {"Authorization": f"Bearer {own_token}"}
    api = people.test_client()
    assert api.get("/api/v1/me", headers=bearer).status_code == 200
    assert li.post(f"/account/tokens/{li_tokens[0]}/revoke").status_code == 302
    assert api.get("/api/v1/me", headers=bearer).status_code == 401
    assert "已撤销" in _text(li.get("/account"))
    # Someone else's token: 404, and it keeps working.
    assert li.post(f"/account/tokens/{wang_token}/revoke").status_code == 404
    assert (
        api.get("/api/v1/me", headers={"Authorization": f"Bearer {other_token}"}).status_code == 200
    )
    # The admin sees and revokes them on the account's page.
    admin = _login(people)
    assert "平板 2" in _text(admin.get(f"/admin/users/{li_id}"))
    assert admin.post(f"/admin/users/{li_id}/tokens/{wang_token}/revoke").status_code == 404
    assert admin.post(f"/admin/users/{li_id}/tokens/{li_tokens[1]}/revoke").status_code == 302
    with people.app_context():
        assert all(t.revoked_at for t in user_service.tokens_of(_user("li")))
        assert not user_service.tokens_of(_user("wang"))[0].revoked_at


def test_admin_revokes_every_session(people):
    admin = _login(people)
    wang = _login(people, "wang")
    with people.app_context():
        wang_id = _user("wang").id
    assert admin.post(f"/admin/users/{wang_id}/revoke-sessions").status_code == 302
    assert wang.get("/api/v1/me").status_code == 401
    assert admin.get("/api/v1/me").status_code == 200
