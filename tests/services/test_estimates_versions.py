"""A wave collected with a new questionnaire version is not compared on changed indicators."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select, update

from surveyapp.estimate_command import estimate_survey
from surveyapp.extensions import db
from surveyapp.models import Answer, Response, Survey
from surveyapp.services.comparisons import not_comparable
from surveyapp.services.estimates import wave_results
from surveyapp.services.questionnaires import store_questionnaire
from surveyapp.services.wave_selection import wave_version
from surveyapp.services.wave_snapshot import extract_wave

QUESTIONNAIRE = (
    Path(__file__).resolve().parents[2] / "questionnaires" / "public-security-satisfaction.yaml"
)


def _version_two() -> str:
    """Version 2: 'security' counts only very safe and safe (1, 2) as positive."""
    text = QUESTIONNAIRE.read_text(encoding="utf-8")
    assert "\nversion: 1\n" in text
    text = text.replace("\nversion: 1\n", "\nversion: 2\n", 1)
    old = "    question: security_overall\n    positive: [1, 2, 3]\n"
    assert text.count(old) == 1
    return text.replace(old, "    question: security_overall\n    positive: [1, 2]\n")


@pytest.fixture
def two_versions(demo):
    """The demo survey whose latest wave was collected with questionnaire version 2."""
    with demo.app_context():
        survey = db.session.get(Survey, 1)
        v2, created = store_questionnaire(_version_two(), source="v2.yaml")
        assert created
        db.session.execute(
            update(Response)
            .where(Response.wave_id == survey.waves[-1].id)
            .values(questionnaire_version_id=v2.id)
        )
        db.session.commit()
    return demo


def test_each_wave_is_read_with_its_own_version(two_versions):
    with two_versions.app_context():
        survey = db.session.get(Survey, 1)
        before, now = survey.waves[-2], survey.waves[-1]
        assert wave_version(survey, before).version == 1
        assert wave_version(survey, now).version == 2
        data = extract_wave(now, wave_version(survey, now).schema)
        # Recount the indicator from the stored answers with version 2's definition.
        answers = dict(
            db.session.execute(
                select(Answer.response_id, Answer.value).where(
                    Answer.question == "security_overall",
                    Answer.response_id.in_(data.response_ids.tolist()),
                )
            ).all()
        )
        expected = np.array(
            [
                np.nan
                if rid not in answers or answers[rid] == "9"
                else (1.0 if answers[rid] in ("1", "2") else 0.0)
                for rid in data.response_ids.tolist()
            ]
        )
        np.testing.assert_array_equal(data.values["security"], expected)


def test_changed_indicator_is_not_compared_with_the_previous_wave(two_versions):
    with two_versions.app_context():
        survey = db.session.get(Survey, 1)
        results = wave_results(survey, survey.waves[-1])
    security = results.item("security")
    assert security.overall is not None
    assert set(security.vs_previous) == {"ALL", *security.by_street}
    assert all(c is None for c in security.vs_previous.values())
    assert "positive codes changed from [1, 2, 3] to [1, 2]" in security.vs_previous_note
    # An unchanged indicator is still compared.
    same = results.item("law_enforcement_satisfaction")
    assert same.vs_previous_note == ""
    assert same.vs_previous["ALL"] is not None


def test_estimate_command_says_why(two_versions):
    with two_versions.app_context():
        out = json.loads(
            estimate_survey(1, fmt="json", indicators=("security", "law_enforcement_satisfaction"))
        )
        table = estimate_survey(1, indicators=("security",))
        csv_text = estimate_survey(1, fmt="csv", indicators=("security",))
    expected = (
        "security: not comparable with the previous wave 2026-Q3: indicator 'security' "
        "is not comparable: positive codes changed from [1, 2, 3] to [1, 2]"
    )
    assert expected in out["notes"]
    assert not any(n.startswith("law_enforcement_satisfaction") for n in out["notes"])
    assert f"注：{expected}" in table
    assert f"# note: {expected}" in csv_text


def test_cli_prints_the_message(two_versions):
    result = two_versions.test_cli_runner().invoke(
        args=["estimate", "--survey", "1", "--indicator", "security"]
    )
    assert result.exit_code == 0, result.output
    assert "not comparable with the previous wave 2026-Q3" in result.output


def test_same_version_is_comparable(demo):
    with demo.app_context():
        survey = db.session.get(Survey, 1)
        schema = survey.questionnaire_version.schema
        assert not_comparable(schema, schema) == {}
        results = wave_results(survey, survey.waves[-1])
    assert all(item.vs_previous_note == "" for item in results.items)
