"""Logging in, roles, and switching the interface language."""

from __future__ import annotations

import pytest


def test_login_page_is_chinese_by_default_and_switches_to_english(client):
    page = client.get("/auth/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "登录" in html and 'lang="zh' in html
    switched = client.post("/auth/language/en", data={"next": "/auth/login"})
    assert switched.status_code == 302 and switched.location == "/auth/login"
    html = client.get("/auth/login").get_data(as_text=True)
    assert "Log in" in html and 'lang="en"' in html and "登录" not in html
    client.post("/auth/language/zh_CN")
    assert "登录" in client.get("/auth/login").get_data(as_text=True)


def test_unknown_language_is_a_400(client):
    assert client.post("/auth/language/xx").status_code == 400


def test_wrong_password_is_refused(demo, client, auth):
    response = auth.login("enumerator", "wrong-password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/collect/").status_code == 302  # still logged out


def test_login_redirect_stays_on_site(demo, client):
    response = client.post(
        "/auth/login?next=https://evil.example/",
        data={"username": "enumerator", "password": "enumerator-demo-2026"},
    )
    assert response.status_code == 302 and response.location == "/"


@pytest.mark.parametrize(
    ("user", "password", "path", "status"),
    [
        ("enumerator", "enumerator-demo-2026", "/manage/", 403),
        ("official", "official-demo-2026", "/collect/", 403),
        ("manager", "manager-demo-2026", "/collect/", 403),
        ("manager", "manager-demo-2026", "/manage/", 200),
        ("official-street", "official-demo-2026", "/manage/waves/2", 200),
    ],
)
def test_roles(demo, client, auth, user, password, path, status):
    auth.login(user, password)
    assert client.get(path).status_code == status


@pytest.mark.parametrize(
    ("user", "password", "home"),
    [
        ("enumerator", "enumerator-demo-2026", "/offline/"),
        ("manager", "manager-demo-2026", "/manage/"),
        ("official", "official-demo-2026", "/officials/"),
        ("official-street", "official-demo-2026", "/officials/"),
    ],
)
def test_each_role_lands_on_its_home_page(demo, client, auth, user, password, home):
    auth.login(user, password)
    landing = client.get("/")
    assert landing.status_code == 302 and landing.location == home
    assert client.get(home).status_code == 200


def test_street_official_sees_only_their_street(demo, client, auth):
    auth.login("official-street", "official-demo-2026")
    html = client.get("/manage/waves/2").get_data(as_text=True)
    assert 'data-street="320106001"' in html
    assert 'data-street="320106002"' not in html


def test_security_headers_and_no_stack_trace(client):
    response = client.get("/auth/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and "Traceback" not in missing.get_data(as_text=True)


def test_forms_without_csrf_token_are_refused(demo, client):
    demo.config["WTF_CSRF_ENABLED"] = True
    response = client.post(
        "/auth/login", data={"username": "enumerator", "password": "enumerator-demo-2026"}
    )
    assert response.status_code == 400
    assert client.post("/auth/language/en").status_code == 400
    page = client.get("/auth/login").get_data(as_text=True)
    assert 'name="csrf_token"' in page


def test_a_download_language_never_switches_the_interface(demo, client, auth):
    """An official clicked "English" beside a street's PDF: the interface stayed English."""
    auth.login("official", "official-demo-2026")
    client.get("/officials/surveys/1/waves/2026-Q4/streets/320106001.pdf?lang=en")
    client.get("/auth/login?lang=en")
    html = client.get("/officials/").get_data(as_text=True)
    assert 'lang="zh' in html and "退出" in html


def test_the_fieldwork_menu_is_named_for_what_it_opens(demo, client, auth):
    """The menu entry of the fieldwork dashboard read 调查时间 ("survey time")."""
    auth.login("manager", "manager-demo-2026")
    html = client.get("/officials/").get_data(as_text=True)
    assert ">调查执行</a>" in html and "调查时间" not in html


def test_template_texts_follow_the_locale_within_a_request(app):
    """Templates look the catalog up once per request and locale (surveyapp.i18n): a locale
    forced or refreshed in the middle of a request still changes the next text at once."""
    from flask import render_template_string, session
    from flask_babel import force_locale, refresh

    with app.test_request_context():
        assert render_template_string("{{ _('Log out') }}") == "退出"
        with force_locale("en"):
            assert render_template_string("{{ _('Log out') }}") == "Log out"
        assert render_template_string("{{ _('Log out') }}") == "退出"
        session["lang"] = "en"
        refresh()
        assert render_template_string("{{ _('Log out') }}") == "Log out"
    with app.test_request_context():  # a new request: its own language
        assert render_template_string("{{ _('My account') }}") == "我的账号"
