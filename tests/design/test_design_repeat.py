"""The designer keeps a repeat group a repeat group when its title or condition is edited."""

from __future__ import annotations

from pathlib import Path

from surveyapp.questionnaire import load_questionnaire
from surveyapp.questionnaire.export import read_document
from surveyapp.services import design

from .test_design_web import _new_questionnaire
from .test_design_web import manager as manager  # noqa: F401  (the fixture)

ROSTER = Path(__file__).resolve().parents[1] / "questionnaire" / "data" / "roster.yaml"


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
