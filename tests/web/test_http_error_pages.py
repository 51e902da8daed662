"""Error pages that Werkzeug raises (an unknown address, a method the page does not take, an
expired form) are worded in the interface's language, not in Werkzeug's English."""

from __future__ import annotations

import re

import pytest

ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{3,}(?: [A-Za-z]{2,}){2,}")


def _visible(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", html)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/no-such-page", 404),
        ("GET", "/auth/logout", 405),  # logout is a POST
        ("PUT", "/auth/login", 405),
    ],
)
def test_a_werkzeug_error_page_is_in_chinese(client, method, path, status):
    response = client.open(path, method=method, headers={"Accept-Language": "zh-CN"})
    assert response.status_code == status
    text = _visible(response.get_data(as_text=True))
    assert not ENGLISH_SENTENCE.search(text), text
    assert re.search(r"[\u4e00-\u9fff]{4,}", text)


def test_the_api_keeps_json_with_a_chinese_message(client):
    response = client.get("/api/v1/no-such-thing", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 404
    body = response.get_json()
    assert body["error"] == "Not Found"  # the machine code stays
    assert re.search(r"[\u4e00-\u9fff]", body["message"])


def test_an_expired_form_is_explained_in_chinese(app):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    response = client.post(
        "/auth/login", data={"username": "x", "password": "y"}, headers={"Accept-Language": "zh-CN"}
    )
    assert response.status_code == 400
    text = _visible(response.get_data(as_text=True))
    assert not ENGLISH_SENTENCE.search(text), text


def test_in_english_the_pages_are_english(client):
    client.post("/auth/language/en")
    response = client.get("/no-such-page")
    assert response.status_code == 404
    text = _visible(response.get_data(as_text=True))
    assert not re.search(r"[\u4e00-\u9fff]{2,}", text.replace("中文", "")), text
