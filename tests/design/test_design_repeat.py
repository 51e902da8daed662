"""The designer keeps a repeat group a repeat group when its title or condition is edited."""

from __future__ import annotations

from surveyapp.questionnaire import load_questionnaire
from surveyapp.questionnaire.export import read_document
from surveyapp.services import design

from ..rosters import ROSTER, roster_with_one_to_three_visitors
from .test_design_web import _new_questionnaire
from .test_design_web import manager as manager  # noqa: F401  (the fixture)


def test_the_designer_keeps_a_repeat_when_a_group_is_edited() -> None:
    roster = load_questionnaire(ROSTER)
    doc = read_document(roster.source_text)
    design.set_group(doc, "members", "members", {"zh_CN": "成员", "en": "People"}, "")
    members = next(g for g in doc["groups"] if g["id"] == "members")
    assert members["repeat"] == {"count": "${household_size}"}
    assert list(members) == ["id", "title", "repeat", "questions"]


def test_the_group_form_makes_and_unmakes_a_repeat_group(manager):
    from surveyapp.extensions import db
    from surveyapp.models import QuestionnaireVersion
    from surveyapp.questionnaire import load_questionnaire_text

    client = manager
    version_id = _new_questionnaire(client)
    url = f"/design/v/{version_id}/group"
    base = {"gid": "main", "id": "main", "title-zh_CN": "成员", "title-en": "Members"}
    bad = client.post(url, data={**base, "repeat": "1", "repeat_max": "many"})
    assert bad.status_code == 400 and "最多重复次数必须是整数" in bad.get_data(as_text=True)
    made = client.post(url, data={**base, "repeat": "1", "repeat_min": "1", "repeat_max": "8"})
    assert made.status_code == 302

    def stored():
        db.session.expire_all()
        version = db.session.get(QuestionnaireVersion, version_id)
        return load_questionnaire_text(version.source_text).group("main").repeat

    repeat = stored()
    assert repeat is not None and (repeat.count, repeat.minimum, repeat.maximum) == (None, 1, 8)
    page = client.get(url + "?gid=main").get_data(as_text=True)
    assert 'name="repeat" value="1" checked' in page and 'value="8"' in page
    assert client.post(url, data=base).status_code == 302  # the box unticked: asked once
    assert stored() is None


def test_the_preview_shows_one_instance_of_a_roster_with_how_many_are_asked(manager):
    """The preview shows a repeat group's questions once, and says under its title how many
    instances the interview asks: by the count question's label, or the bounds."""
    import html
    import re

    from surveyapp.services.questionnaires import store_questionnaire

    version, _ = store_questionnaire(roster_with_one_to_three_visitors(), "roster.yaml")

    def notes(url: str) -> dict[str, str]:
        page = manager.get(url)
        assert page.status_code == 200
        found = re.findall(
            r'<p class="hint repeat-note" data-repeat="(\w+)">([^<]*)</p>',
            page.get_data(as_text=True),
        )
        return {group: html.unescape(note) for group, note in found}

    preview = f"/design/v/{version.id}/preview"
    assert notes(preview) == {
        "members": "重复组：按“家里有几口人？”逐条询问。预览只显示一条。",
        "visitors": "重复组：由访员逐条添加，1 至 3 条。预览只显示一条。",
    }
    assert manager.post("/auth/language/en").status_code in (200, 302)
    from flask_babel import refresh

    refresh()  # the test's app context keeps the locale Flask-Babel chose first
    assert notes(preview + "?language=en") == {
        "members": "Repeated: once for each of “How many people live here?”."
        " The preview shows one.",
        "visitors": "Repeated as many times as the interviewer adds, from 1 to 3."
        " The preview shows one.",
    }
    page = manager.get(preview).get_data(as_text=True)
    assert page.count('data-question="member_name"') == 1  # one instance
