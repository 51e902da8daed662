"""The offline app's page is rendered once per language and address and filled in per request
(issue 20): every user must get exactly the page the templates give for them, with their own
names and their own session's CSRF token."""

from __future__ import annotations

import re

import pytest
from flask import render_template

from surveyapp.extensions import db
from surveyapp.services.users import create_user
from surveyapp.web import offline as offline_views

PASSWORD = "a-long-test-password-2026"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def people(demo):
    with demo.app_context():
        create_user("li<b>&\"'", "enumerator", PASSWORD, display_name='李 <i>&amp;</i> "四"')
        plain = create_user("wang", "enumerator", PASSWORD)
        plain.display_name = ""  # shown by the user name
        db.session.commit()
    return ["li<b>&\"'", "wang", "enumerator"]


def _login(app, username: str):
    client = app.test_client()
    password = "enumerator-demo-2026" if username == "enumerator" else PASSWORD
    response = client.post("/auth/login", data={"username": username, "password": password})
    assert response.status_code == 302, username
    return client


def _rendered(monkeypatch, client, path: str) -> str:
    """The page as the templates give it, not through the cache."""

    def plain():
        return render_template("offline/index.html", messages=offline_views._translated_messages())

    with monkeypatch.context() as m:
        m.setattr(offline_views, "_shell_page", plain)
        return client.get(path).get_data(as_text=True)


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_every_user_gets_the_page_the_templates_give(demo, people, monkeypatch, lang):
    clients = {name: _login(demo, name) for name in people}
    for client in clients.values():
        with client.session_transaction() as session:
            session["lang"] = lang
    for path in ("/offline/", '/offline/?from=<script>&x="1"'):
        for round_ in range(2):  # the first user fills the cache, the others read it
            for name, client in clients.items():
                response = client.get(path)
                assert response.status_code == 200
                assert response.mimetype == "text/html"
                got = response.get_data(as_text=True)
                expected = _rendered(monkeypatch, client, path)
                # the same page but for the token's time stamp
                assert TOKEN.sub("TOKEN", got) == TOKEN.sub("TOKEN", expected), (name, round_)
                assert len(TOKEN.findall(got)) == 2
    li = clients[people[0]].get("/offline/").get_data(as_text=True)
    assert 'data-user="li&lt;b&gt;&amp;&#34;&#39;"' in li
    assert "李 &lt;i&gt;&amp;amp;&lt;/i&gt; &#34;四&#34;" in li
    wang = clients["wang"].get("/offline/").get_data(as_text=True)
    assert 'title="wang">wang</span>' in wang and "li&lt;b" not in wang


def test_the_token_of_the_cached_page_is_the_sessions_own(demo, people):
    """Switching the language with the form of a page served from the cache works; the same
    form with another session's token is refused."""
    first, second = _login(demo, "enumerator"), _login(demo, "wang")
    first.get("/offline/")
    second.get("/offline/")  # from the cache
    demo.config["WTF_CSRF_ENABLED"] = True
    mine = TOKEN.findall(second.get("/offline/").get_data(as_text=True))
    theirs = TOKEN.findall(first.get("/offline/").get_data(as_text=True))
    assert mine[0] != theirs[0]
    refused = second.post("/auth/language/en", data={"csrf_token": theirs[0], "next": "/offline/"})
    assert refused.status_code == 400
    switched = second.post("/auth/language/en", data={"csrf_token": mine[0], "next": "/offline/"})
    assert switched.status_code == 302
    assert "Offline interviews" in second.get("/offline/").get_data(as_text=True)


def test_a_flashed_message_is_shown_once(demo, people):
    client = _login(demo, "wang")
    client.get("/offline/")
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "一条 <提示>")]
    assert "一条 &lt;提示&gt;" in client.get("/offline/").get_data(as_text=True)
    assert "一条" not in client.get("/offline/").get_data(as_text=True)
