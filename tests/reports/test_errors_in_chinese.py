"""A refused request shows the domain error in the interface language: an official reading in
Chinese (the default) sees no English sentence (the messages are marked with ``_l()`` where they
are raised, rendered when shown)."""

from __future__ import annotations

import re

from .test_portal import BASE, PASSWORD
from .test_portal_jobs import _empty_wave

ENGLISH_SENTENCE = re.compile(r"[A-Za-z]+(?: [A-Za-z']+){3,}")


def _message(page: str) -> str:
    """The error page's or flash's text: what is inside <main> without tags."""
    main = page.split("<main", 1)[-1].split("</main>", 1)[0]
    return re.sub(r"<[^>]+>", " ", main)


def test_refusals_are_chinese_for_a_chinese_reader(demo, client, auth):
    auth.login("official", PASSWORD)
    cases = []
    # an export format that does not exist (ExportError)
    bad_format = client.get(f"{BASE}/estimates.pdf")
    cases.append((bad_format, "estimates 的导出格式为 csv, xlsx，而不是「pdf」"))
    # a download of an unknown format (ExportError through the job form)
    bad_job = client.post(f"{BASE}/jobs", data={"kind": "responses", "format": "doc"})
    cases.append((bad_job, "responses 的导出格式为"))
    # a wave without responses (EstimateRequestError, shown as unavailable)
    empty = _empty_wave(demo)
    no_data = client.get(f"/officials/surveys/1/waves/{empty}/results")
    cases.append((no_data, "本轮只有 0 份合格问卷：计算估计值至少需要 2 份"))
    for response, chinese in cases:
        assert 400 <= response.status_code < 500, response.status_code
        text = _message(response.get_data(as_text=True))
        assert chinese in text, text
        assert not ENGLISH_SENTENCE.search(text.replace("&#39;", "'")), text


def test_an_english_reader_gets_english(demo, client, auth):
    auth.login("official", PASSWORD)
    client.post("/auth/language/en")
    page = client.get(f"{BASE}/estimates.pdf").get_data(as_text=True)
    assert "estimates are exported as csv, xlsx, not &#39;pdf&#39;" in page
