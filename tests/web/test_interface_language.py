"""The whole interface in one language: a crawler logs in as every role, opens every page it
can reach from the menus (and the forms of each page with invalid input), and fails on visible
words of the other language outside data and an explicit allowlist."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

ROLES = {
    "admin": "admin-demo-2026",
    "manager": "manager-demo-2026",
    "enumerator": "enumerator-demo-2026",
    "official": "official-demo-2026",
    "official-street": "official-demo-2026",
    "clerk": "clerk-demo-2026",
}
#: Not pages: files, actions, a preview in another language (questionnaire texts are data).
SKIP = re.compile(
    r"(\.(pdf|csv|xlsx|zip|sav|json|yaml|xml|png|js|css|webmanifest)(\?|$))|/auth/logout|/static/|"
    r"/download|/formList|/submission|/api/|[?&]language=(?!zh)"
)
MAX_PAGES = 160
#: Words allowed in the Chinese interface: product and format names, codes shown beside words.
ALLOWED_LATIN = set(
    """surveyapp csv xlsx xls pdf zip sav spss yaml json geojson api odk collect enketo xlsform
    aapor cati capi gps qr url english id uuid rr ci utc asia shanghai v n ok utf javascript
    kobotoolbox wald logit wilson korn graubard readme beta svyciprop r""".split()
)


VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


class _Text(HTMLParser):
    """Visible text and links of a page (not scripts, styles, attributes)."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self._stack: list[bool] = []  # per open element: is its text out of scope?

    @property
    def _hidden(self) -> bool:
        return any(self._stack)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag in VOID:
            return
        # Not wording: scripts and styles, and what the page marks as data or code
        # (translate="no": names, identifiers, file columns; <code>).
        self._stack.append(
            tag in ("script", "style", "template", "title", "code", "kbd", "samp", "textarea")
            or a.get("translate") == "no"
        )

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if self._stack:
            self._stack.pop()

    def handle_data(self, data):
        if not self._hidden:
            self.text.append(data)


def _crawl(client, start: str = "/") -> dict[str, str]:
    """url -> visible text, breadth first from ``start`` inside the site."""
    seen: dict[str, str] = {}
    per_pattern: dict[str, int] = {}
    queue = [start]
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        # Pages of one kind (/localities/17, /localities/18 …) say the same words: a few do.
        pattern = re.sub(r"\d+", "N", url)
        per_pattern[pattern] = per_pattern.get(pattern, 0) + 1
        if per_pattern[pattern] > 3:
            continue
        response = client.get(url, follow_redirects=True)
        if response.status_code != 200 or "text/html" not in response.content_type:
            seen[url] = ""
            continue
        parser = _Text()
        parser.feed(response.get_data(as_text=True))
        seen[url] = " ".join(parser.text)
        for href in parser.links:
            target = urljoin(url, href)
            parts = urlsplit(target)
            if parts.netloc and parts.netloc != "localhost":
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if path.startswith("/") and not SKIP.search(path) and path not in seen:
                queue.append(path)
    return seen


def _english_words(text: str) -> set[str]:
    words = set(re.findall(r"[A-Za-z][A-Za-z'’-]{2,}", text))
    return {w for w in words if w.lower().strip("'’-") not in ALLOWED_LATIN}


#: Han characters and CJK punctuation: Chinese wording in the English interface.
CJK = re.compile(r"[\u3001-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]+")
#: Chinese allowed in the English interface: the names of the languages one can switch to.
ALLOWED_CJK = {"中文", "简体中文"}


def _chinese_words(text: str) -> set[str]:
    return {w for w in CJK.findall(text) if w not in ALLOWED_CJK}


@pytest.mark.slow
@pytest.mark.parametrize("role", list(ROLES))
def test_the_chinese_interface_shows_no_english(demo, client, auth, role):
    assert auth.login(role, ROLES[role]).status_code in (302, 303)
    pages = _crawl(client)
    assert len(pages) > 3
    found = {url: sorted(_english_words(text)) for url, text in pages.items()}
    found = {url: words for url, words in found.items() if words}
    assert not found, "\n".join(f"{url}: {' '.join(words[:15])}" for url, words in found.items())


@pytest.mark.slow
@pytest.mark.parametrize("role", list(ROLES))
def test_the_english_interface_shows_no_chinese_outside_data(demo, client, auth, role):
    """The same crawl in English: Chinese may appear only as data (names of places, people,
    surveys; questionnaire texts), which the pages mark translate="no"."""
    assert auth.login(role, ROLES[role]).status_code in (302, 303)
    assert client.post("/auth/language/en").status_code in (302, 303)
    pages = _crawl(client)
    assert len(pages) > 3
    found = {url: sorted(_chinese_words(text)) for url, text in pages.items()}
    found = {url: words for url, words in found.items() if words}
    assert not found, "\n".join(f"{url}: {' '.join(words[:15])}" for url, words in found.items())
