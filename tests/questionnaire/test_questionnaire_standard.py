"""The standard questionnaire: valid, complete, and its indicators follow the real skip logic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveyapp.questionnaire import (
    Question,
    Questionnaire,
    load_questionnaire,
    translate,
    validate_file,
)
from tests.properties import examples

ROOT = Path(__file__).resolve().parents[2]
STANDARD = ROOT / "questionnaires" / "public-security-satisfaction.yaml"
ELIGIBLE = {"resident_6m": "yes", "age_16plus": "yes"}

INDICATOR_IDS = [
    "security",
    "law_enforcement_satisfaction",
    "grid_awareness",
    "dispute_mediation",
    "dispute_resolution",
    "problem_solved",
    "night_patrol",
    "safety_participation",
    "antigang_awareness",
    "antigang_evaluation",
]


def test_validates_with_zero_problems() -> None:
    assert validate_file(STANDARD) == []


def test_identity(standard: Questionnaire) -> None:
    assert standard.id == "public-security-satisfaction"
    assert standard.version >= 1
    assert [language.code for language in standard.languages] == ["zh_CN", "en"]
    assert standard.title["zh_CN"] == "群众安全感和满意度调查"


def test_length_fits_a_seven_minute_interview(standard: Questionnaire) -> None:
    assert 40 <= len(standard.questions) <= 50


def test_every_text_is_in_chinese_and_english(standard: Questionnaire) -> None:
    texts: list[Any] = [standard.title, standard.description]
    for group in standard.groups:
        texts.append(group.title)
        for question in group.questions:
            texts += [question.label, *(choice.label for choice in question.choices)]
            texts += [t for t in (question.hint, question.constraint_message) if t is not None]
    texts += [i.label for i in standard.indicators] + [c.label for c in standard.composites]
    for text in texts:
        assert set(text) == {"zh_CN", "en"}
        assert all(value.strip() for value in text.values())


def test_weighting_variables_have_the_agreed_codes(standard: Questionnaire) -> None:
    assert standard.questions["sex"].codes == ("m", "f")
    assert standard.questions["age_group"].codes == (
        "16_24",
        "25_34",
        "35_44",
        "45_54",
        "55_64",
        "65p",
    )


def test_security_and_satisfaction_scales(standard: Questionnaire) -> None:
    security = standard.questions["security_overall"]
    assert security.codes == ("1", "2", "3", "4", "5", "9")
    assert [c.label["zh_CN"] for c in security.choices] == [
        "很安全",
        "安全",
        "基本安全",
        "不太安全",
        "不安全",
        "不清楚",
    ]
    for qid in (
        "law_enforcement_satisfaction",
        "urban_management_satisfaction",
        "environment_satisfaction",
        "market_regulation_satisfaction",
    ):
        assert [c.label["zh_CN"] for c in standard.questions[qid].choices] == [
            "很满意",
            "满意",
            "基本满意",
            "不太满意",
            "不满意",
            "不清楚",
        ], qid


def test_unsafe_factors(standard: Questionnaire) -> None:
    question = standard.questions["unsafe_factors"]
    assert question.type == "multiple"
    labels = {c.label["zh_CN"] for c in question.choices}
    for expected in (
        "电信网络诈骗",
        "黄赌毒",
        "交通安全",
        "食品药品安全",
        "邻里纠纷",
        "黑恶势力",
        "流动人口管理",
        "校园周边治安",
        "消防安全隐患",
        "噪音扰民",
    ):
        assert expected in labels
    assert any(label.startswith("两抢一盗") for label in labels)
    assert 20 <= len(question.choices) - 2 <= 25
    assert question.other_code == "other"
    assert [c.code for c in question.choices if c.exclusive] == ["none"]
    assert question.choices[-1].label["zh_CN"] == "没有"


def test_suggestion_is_optional_text(standard: Questionnaire) -> None:
    suggestion = standard.questions["suggestion"]
    assert (suggestion.type, suggestion.required) == ("text", False)


def test_screening_ends_the_interview_for_the_ineligible(standard: Questionnaire) -> None:
    for answers in (
        {"resident_6m": "no", "age_16plus": "yes"},
        {"resident_6m": "yes", "age_16plus": "no"},
    ):
        assert standard.relevant_questions(answers) == ["resident_6m", "age_16plus"]
    assert len(standard.relevant_questions(ELIGIBLE)) > 30


def test_indicator_definitions(standard: Questionnaire) -> None:
    indicators = {i.id: i for i in standard.indicators}
    assert list(indicators) == INDICATOR_IDS
    security = indicators["security"]
    assert (security.question, security.positive, security.excluded, security.target) == (
        "security_overall",
        ("1", "2", "3"),
        ("9",),
        0.9,
    )
    assert indicators["dispute_mediation"].base.source == "${had_dispute} = 'yes'"
    assert indicators["dispute_resolution"].base.source == "${dispute_mediated} = 'yes'"
    assert indicators["problem_solved"].base.source == "${reported_problem} = 'yes'"
    assert indicators["antigang_evaluation"].base.source == "${antigang_aware} = 'yes'"
    for indicator_id in (
        "security",
        "law_enforcement_satisfaction",
        "grid_awareness",
        "night_patrol",
        "safety_participation",
        "antigang_awareness",
    ):
        assert indicators[indicator_id].base is None  # everyone who is interviewed


def test_security_score_points(standard: Questionnaire) -> None:
    [score] = [c for c in standard.composites if c.id == "security_score"]
    assert score.question == "security_overall"
    assert dict(score.points) == {"1": 100, "2": 80, "3": 60, "4": 40, "5": 0}
    assert score.excluded == ("9",)
    assert score.value({"security_overall": "2"}) == 80
    assert score.value({"security_overall": "9"}) is None


def test_dispute_chain_by_hand(standard: Questionnaire) -> None:
    indicators = {i.id: i for i in standard.indicators}
    mediation, resolution = indicators["dispute_mediation"], indicators["dispute_resolution"]

    no_dispute = {**ELIGIBLE, "had_dispute": "no"}
    assert not standard.is_relevant("dispute_mediated", no_dispute)
    assert (mediation.value(no_dispute), resolution.value(no_dispute)) == (None, None)

    not_mediated = {**ELIGIBLE, "had_dispute": "yes", "dispute_mediated": "no"}
    assert standard.is_relevant("dispute_mediated", not_mediated)
    assert not standard.is_relevant("dispute_resolved", not_mediated)
    assert (mediation.value(not_mediated), resolution.value(not_mediated)) == (0.0, None)

    resolved = {
        **ELIGIBLE,
        "had_dispute": "yes",
        "dispute_mediated": "yes",
        "dispute_resolved": "1",
    }
    assert standard.is_relevant("dispute_resolved", resolved)
    assert (mediation.value(resolved), resolution.value(resolved)) == (1.0, 1.0)
    partly = {**resolved, "dispute_resolved": "2"}
    assert resolution.value(partly) == 0.0
    unknown = {**resolved, "dispute_resolved": "9"}
    assert resolution.value(unknown) is None


def test_dissatisfaction_reasons_only_for_the_dissatisfied(standard: Questionnaire) -> None:
    for code, asked in (("1", False), ("3", False), ("4", True), ("5", True), ("9", False)):
        answers = {**ELIGIBLE, "law_enforcement_satisfaction": code}
        assert standard.is_relevant("dissatisfaction_reasons", answers) is asked, code


def _answer_strategy(question: Question) -> st.SearchStrategy[Any]:
    if question.id in ELIGIBLE:
        return st.sampled_from(["yes", "yes", "yes", "no"])
    if question.type in ("single", "yesno"):
        return st.sampled_from(question.codes)
    if question.type == "multiple":
        return st.lists(st.sampled_from(question.codes), min_size=1, unique=True)
    if question.type == "integer":
        return st.integers(question.minimum or 0, question.maximum or 100)
    if question.type == "date":
        return st.dates().map(lambda d: d.isoformat())
    return st.text(min_size=1, max_size=20)


@st.composite
def interviews(draw: st.DrawFn, questionnaire: Questionnaire) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for qid, question in questionnaire.questions.items():
        if draw(st.integers(0, 9)) > 0:  # now and then a question is left unanswered
            answers[qid] = draw(_answer_strategy(question))
    return answers


STANDARD_QUESTIONNAIRE = load_questionnaire(STANDARD)  # hypothesis needs it when decorating


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(interviews(STANDARD_QUESTIONNAIRE))
def test_indicator_bases_follow_the_skip_logic(raw: dict[str, Any]) -> None:
    standard = STANDARD_QUESTIONNAIRE
    answers = standard.relevant_answers(raw)  # what a clean interview would hold
    eligible = answers.get("resident_6m") == "yes" and answers.get("age_16plus") == "yes"
    for indicator in standard.indicators:
        asked = standard.is_relevant(indicator.question, answers)
        if indicator.base is None:
            assert asked == eligible, indicator.id
        else:
            assert indicator.base.evaluate(answers) == asked, indicator.id
        value = indicator.value(answers)
        if not asked:
            assert value is None, indicator.id


def test_translation_fallback_on_the_standard_file(standard: Questionnaire) -> None:
    label = standard.questions["security_overall"].label
    assert translate(label, "en") == (label["en"], False)
    assert translate(label, "ug") == (label["zh_CN"], True)
