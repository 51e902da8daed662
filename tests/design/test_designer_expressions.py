"""The designer keeps what the question form does not show in full: a choice filter, the
options' columns it reads, and required with an expression."""

from __future__ import annotations

from surveyapp.extensions import db
from surveyapp.models import QuestionnaireVersion
from surveyapp.services import design
from tests.design.test_design_web import _new_questionnaire, manager  # noqa: F401


def _question(version_id: int, qid: str) -> dict:
    version = db.session.get(QuestionnaireVersion, version_id)
    db.session.refresh(version)
    group, index = design.find_question(design.document(version), qid)
    return group["questions"][index]


def test_choice_filter_properties_and_required_condition_survive_the_form(manager):  # noqa: F811
    client = manager
    version_id = _new_questionnaire(client)  # main: safe (codes 1, 2), why
    version = db.session.get(QuestionnaireVersion, version_id)
    doc = design.document(version)
    design.set_question(
        doc,
        "main",
        None,
        {
            "id": "place",
            "type": "single",
            "label": {"zh_CN": "地点", "en": "Place"},
            "choice_filter": "level = ${safe}",
            "choices": [
                {"code": "a", "label": {"zh_CN": "甲", "en": "A"}, "properties": {"level": "1"}},
                {"code": "b", "label": {"zh_CN": "乙", "en": "B"}, "properties": {"level": "2"}},
            ],
        },
    )
    assert design.save_document(version, doc) == []
    page = client.get(f"/design/v/{version_id}/question?qid=place").get_data(as_text=True)
    assert 'value="level = ${safe}"' in page
    form = {
        "group": "main",
        "id": "place",
        "type": "single",
        "required": "1",
        "required_condition": "${safe} = '1'",
        "label-zh_CN": "地点？",
        "label-en": "Place?",
        "choice_filter": "level = ${safe}",
        "choice-0-code": "a",
        "choice-0-label-zh_CN": "甲",
        "choice-0-label-en": "A",
        "choice-1-code": "b",
        "choice-1-label-zh_CN": "乙",
        "choice-1-label-en": "B",
        "qid": "place",
    }
    response = client.post(f"/design/v/{version_id}/question", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    saved = _question(version_id, "place")
    assert saved["label"]["zh_CN"] == "地点？"
    assert saved["choice_filter"] == "level = ${safe}"
    assert saved["required"] == "${safe} = '1'"
    assert [c.get("properties") for c in saved["choices"]] == [{"level": "1"}, {"level": "2"}]
    page = client.get(f"/design/v/{version_id}/question?qid=place").get_data(as_text=True)
    assert 'value="${safe} = &#39;1&#39;"' in page
    version = db.session.get(QuestionnaireVersion, version_id)
    db.session.refresh(version)
    assert design.draft_problems(version) == []
