"""A scripted enumerator for the Flask test client: reads each page, answers what it shows."""

from __future__ import annotations

import re
import uuid as uuidlib
from html import unescape

from werkzeug.datastructures import MultiDict

FIELDSET = re.compile(r'<fieldset class="question[^"]*" id="q-([a-z0-9_]+)"(.*?)>', re.S)
HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def visible_questions(html: str) -> list[str]:
    """Question ids shown on the page (fieldsets without the ``hidden`` attribute)."""
    return [qid for qid, attrs in FIELDSET.findall(html) if not re.search(r"\bhidden\b", attrs)]


def all_questions(html: str) -> list[str]:
    return [qid for qid, _ in FIELDSET.findall(html)]


def interview_form(html: str) -> str:
    """The interview form's HTML (not the header's language and logout forms)."""
    start = html.index('class="interview')
    return html[start : html.index("</form>", start)]


def hidden_fields(html: str) -> list[tuple[str, str]]:
    """The hidden state and carried answers of the interview form."""
    return [(name, unescape(value)) for name, value in HIDDEN_INPUT.findall(interview_form(html))]


def current_group(html: str) -> str | None:
    m = re.search(r'name="_group" value="([^"]+)"', html)
    return m.group(1) if m else None


def default_answer(qid: str, html: str):
    """The first choice offered, or a plausible value for boxes."""
    m = re.search(rf'name="{qid}" type="(radio|checkbox)" value="([^"]+)"', html)
    if m:
        return [m.group(2)] if m.group(1) == "checkbox" else m.group(2)
    if re.search(rf'<textarea[^>]*name="{qid}"', html):
        return ""
    return "3"


class Interviewer:
    def __init__(self, client, assignment_id: int):
        self.client = client
        self.assignment_id = assignment_id
        self.pages: list[tuple[str | None, list[str]]] = []

    def start(self, lang: str = "zh_CN", mode: str = "door", locality: str | None = None):
        # Enumerators interview in the offline app (the start page leads there); the form
        # path is driven here with what the app gets: a new uuid and the assignment's localities.
        assignments = self.client.get("/api/v1/assignments").get_json()["assignments"]
        mine = next(a for a in assignments if a["id"] == self.assignment_id)
        self.uuid = str(uuidlib.uuid4())
        locality = locality or mine["localities"][0]["code"]
        return self.post(
            {
                "_uuid": self.uuid,
                "_lang": lang,
                "_mode": mode,
                "_locality": locality,
                "nav": "start",
            }
        )

    def post(self, data):
        if isinstance(data, list):
            data = MultiDict(data)
        return self.client.post(f"/collect/assignments/{self.assignment_id}/interview", data=data)

    def answer_page(self, response, plan: dict, nav: str = "next"):
        """Answer the questions visible on ``response``'s page from ``plan`` and press nav."""
        html = response.get_data(as_text=True)
        shown = visible_questions(html)
        self.pages.append((current_group(html), shown))
        data: list[tuple[str, str]] = hidden_fields(html)
        for qid in shown:
            value = plan[qid] if qid in plan else default_answer(qid, html)
            if isinstance(value, list):
                data.extend((qid, v) for v in value)
            elif value != "":
                data.append((qid, str(value)))
            if f"{qid}.other" in plan:
                data.append((f"{qid}__other", plan[f"{qid}.other"]))
        data.append(("nav", nav))
        return self.post(data)

    def run(self, plan: dict, max_pages: int = 60, **start):
        """Answer page after page until the review page; return it."""
        response = self.start(**start)
        for _ in range(max_pages):
            assert response.status_code == 200, response.get_data(as_text=True)[:2000]
            html = response.get_data(as_text=True)
            if 'value="submit"' in html:
                return response
            response = self.answer_page(response, plan)
        raise AssertionError("the interview did not reach the review page")

    def submit(self, review_response):
        html = review_response.get_data(as_text=True)
        return self.post(hidden_fields(html) + [("nav", "submit")])
