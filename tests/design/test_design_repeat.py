"""The designer keeps a repeat group a repeat group when its title or condition is edited."""

from __future__ import annotations

from pathlib import Path

from surveyapp.questionnaire import load_questionnaire
from surveyapp.questionnaire.export import read_document
from surveyapp.services import design

ROSTER = Path(__file__).resolve().parents[1] / "questionnaire" / "data" / "roster.yaml"


def test_the_designer_keeps_a_repeat_when_a_group_is_edited() -> None:
    roster = load_questionnaire(ROSTER)
    doc = read_document(roster.source_text)
    design.set_group(doc, "members", "members", {"zh_CN": "成员", "en": "People"}, "")
    members = next(g for g in doc["groups"] if g["id"] == "members")
    assert members["repeat"] == {"count": "${household_size}"}
    assert list(members) == ["id", "title", "repeat", "questions"]
