"""The whole interface in one language: a crawler logs in as every role, opens every page it
can reach from the menus (and the forms of each page with invalid input), and fails on visible
words of the other language outside data and an explicit allowlist."""

from __future__ import annotations

import io
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
#: Forms not to send: leaving, switching the language (the crawl's own language must stay).
SKIP_FORMS = re.compile(r"/auth/logout|/auth/language|/api/|/submission")
#: Invalid values by input type; a text left empty, a choice that is none of the options.
#: (No word of three letters: an answer that repeats the input must not be taken for wording.)
INVALID = {
    "number": "1x",
    "date": "2026-13-45",
    "time": "25:99",
    "datetime-local": "2026-13-45T99:99",
    "email": "x@",
    "url": "::",
    "month": "2026-13",
    "select": "x0",
}
#: Inputs that are no field to fill in.
NOT_FIELDS = {"hidden", "submit", "button", "reset", "image", "checkbox", "radio"}
#: Words allowed in the Chinese interface: product and format names, codes shown beside words.
ALLOWED_LATIN = set(
    """surveyapp csv xlsx xls pdf zip sav spss yaml json geojson api odk collect enketo xlsform
    aapor cati capi gps qr url english id uuid rr ci utc asia shanghai v n ok utf javascript
    kobotoolbox wald logit wilson korn graubard readme beta svyciprop r yyyy-mm yyyy-mm-dd
    hh:mm""".split()
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
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._stack: list[bool] = []  # per open element: is its text out of scope?

    @property
    def _hidden(self) -> bool:
        return any(self._stack)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        self._form_part(tag, a)
        if tag in VOID:
            return
        # Not wording: scripts and styles, and what the page marks as data or code
        # (translate="no": names, identifiers, file columns; <code>).
        self._stack.append(
            tag in ("script", "style", "template", "title", "code", "kbd", "samp", "textarea")
            or a.get("translate") == "no"
        )

    def _form_part(self, tag: str, a: dict) -> None:
        """Collect each form: method, action, encoding and fields (name, kind, value)."""
        if tag == "form":
            self._form = {
                "method": (a.get("method") or "get").lower(),
                "action": a.get("action") or "",
                "multipart": "multipart" in (a.get("enctype") or ""),
                "fields": [],
            }
            self.forms.append(self._form)
        elif self._form is not None and a.get("name"):
            if tag == "input":
                kind = (a.get("type") or "text").lower()
                self._form["fields"].append((a["name"], kind, a.get("value") or ""))
            elif tag in ("select", "textarea"):
                self._form["fields"].append((a["name"], tag, ""))
            elif tag == "button" and (a.get("type") or "submit") == "submit":
                self._form["fields"].append((a["name"], "submit", a.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        if tag in VOID:
            return
        if self._stack:
            self._stack.pop()

    def handle_data(self, data):
        if not self._hidden:
            self.text.append(data)


def _crawl(client, start: str = "/", forms: list | None = None) -> dict[str, str]:
    """url -> visible text, breadth first from ``start`` inside the site; the forms of the
    pages are added to ``forms`` (with the page's url)."""
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
        if forms is not None:
            # a form's action is relative to the page shown, after any redirect
            shown = response.request.path
            if response.request.query_string:
                shown += "?" + response.request.query_string.decode()
            forms.extend(dict(form, page=shown) for form in parser.forms)
        for href in parser.links:
            target = urljoin(url, href)
            parts = urlsplit(target)
            if parts.netloc and parts.netloc != "localhost":
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if path.startswith("/") and not SKIP.search(path) and path not in seen:
                queue.append(path)
    return seen


def _invalid_fields(form: dict) -> dict | None:
    """The form's fields filled in wrongly: texts empty, numbers and dates not such, choices
    none of the options, files not of their kind; hidden fields as the page gave them. None
    for a form with nothing to fill in (a button: an action, not input)."""
    data: dict = {}
    visible = False
    for name, kind, value in form["fields"]:
        if kind == "hidden":
            data.setdefault(name, value)
        elif kind == "submit":
            data.setdefault(name, value)
        elif kind in NOT_FIELDS:
            continue
        elif kind == "file":
            visible = True
            data[name] = (io.BytesIO(b"\x00 0"), "0.x")  # no word in the name to echo
        else:
            visible = True
            data[name] = INVALID.get(kind, "")
    return data if visible else None


def _send_forms(client, forms: list[dict]) -> dict[str, tuple[int, str]]:
    """Send each kind of form once with invalid input; "METHOD action" -> (status, visible
    text of the answer, after redirects)."""
    answers: dict[str, tuple[int, str]] = {}
    done: set = set()
    for form in forms:
        action = urljoin(form["page"], form["action"] or form["page"])
        parts = urlsplit(action)
        if parts.netloc and parts.netloc != "localhost":
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        data = _invalid_fields(form)
        if data is None or SKIP_FORMS.search(path):
            continue
        key = (form["method"], re.sub(r"\d+", "N", parts.path), tuple(sorted(data)))
        if key in done:
            continue
        done.add(key)
        if form["method"] == "post":
            response = client.post(
                path,
                data=data,
                follow_redirects=True,
                content_type="multipart/form-data" if form["multipart"] else None,
            )
        else:
            # a browser replaces the action's query with the form's fields
            response = client.get(parts.path, query_string=data, follow_redirects=True)
        text = ""
        if "text/html" in (response.content_type or ""):
            parser = _Text()
            parser.feed(response.get_data(as_text=True))
            text = " ".join(parser.text)
        answers[f"{form['method'].upper()} {path} (from {form['page']})"] = (
            response.status_code,
            text,
        )
    return answers


def _check_forms(client, forms: list[dict], words) -> None:
    answers = _send_forms(client, forms)
    assert answers, "no form was sent"
    errors = [f"{where}: {status}" for where, (status, _text) in answers.items() if status >= 500]
    assert not errors, "answered 5xx:\n" + "\n".join(errors)
    found = {where: sorted(words(text)) for where, (_status, text) in answers.items()}
    found = {where: w for where, w in found.items() if w}
    assert not found, "\n".join(f"{where}: {' '.join(w[:15])}" for where, w in found.items())


#: Codes and data inside a message, not wording: quoted values ('x0', “night-safety”, a column
#: name), identifiers and paths with a dot or an underscore (design.strata, name_zh, 0.x).
CODES = re.compile(r"'[^'\n]*'|“[^”\n]*”|\"[^\"\n]*\"|\w+(?:[._]\w+)+")


def _english_words(text: str) -> set[str]:
    text = CODES.sub(" ", text)
    words = set(re.findall(r"[A-Za-z][A-Za-z'’-]{2,}", text))
    return {w for w in words if w.lower().strip("'’-") not in ALLOWED_LATIN}


#: Han characters and CJK punctuation: Chinese wording in the English interface.
CJK = re.compile(r"[\u3001-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]+")
#: Chinese allowed in the English interface: the names of the languages one can switch to.
ALLOWED_CJK = {"中文", "简体中文"}


def _chinese_words(text: str) -> set[str]:
    text = CODES.sub(" ", text)
    return {w for w in CJK.findall(text) if w not in ALLOWED_CJK}


@pytest.mark.slow
@pytest.mark.parametrize("role", list(ROLES))
def test_the_chinese_interface_shows_no_english(demo, client, auth, role):
    assert auth.login(role, ROLES[role]).status_code in (302, 303)
    forms: list[dict] = []
    pages = _crawl(client, forms=forms)
    assert len(pages) > 3
    found = {url: sorted(_english_words(text)) for url, text in pages.items()}
    found = {url: words for url, words in found.items() if words}
    assert not found, "\n".join(f"{url}: {' '.join(words[:15])}" for url, words in found.items())
    # Then each kind of form once, with invalid input: a 4xx or the page again, in Chinese.
    _check_forms(client, forms, _english_words)


@pytest.mark.slow
@pytest.mark.parametrize("role", list(ROLES))
def test_the_english_interface_shows_no_chinese_outside_data(demo, client, auth, role):
    """The same crawl in English: Chinese may appear only as data (names of places, people,
    surveys; questionnaire texts), which the pages mark translate="no"."""
    assert auth.login(role, ROLES[role]).status_code in (302, 303)
    assert client.post("/auth/language/en").status_code in (302, 303)
    forms: list[dict] = []
    pages = _crawl(client, forms=forms)
    assert len(pages) > 3
    found = {url: sorted(_chinese_words(text)) for url, text in pages.items()}
    found = {url: words for url, words in found.items() if words}
    assert not found, "\n".join(f"{url}: {' '.join(words[:15])}" for url, words in found.items())
    _check_forms(client, forms, _chinese_words)
