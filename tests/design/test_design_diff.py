"""Version diff and indicator comparability, on edited copies of the standard questionnaire."""

from __future__ import annotations

from pathlib import Path

import pytest

from surveyapp.questionnaire import load_questionnaire_text
from surveyapp.questionnaire.diff import (
    canonical_condition,
    comparable_indicators,
    diff_questionnaires,
    indicator_comparable,
    indicator_definition,
    indicator_fingerprint,
)

STANDARD = (
    Path(__file__).resolve().parents[2] / "questionnaires" / "public-security-satisfaction.yaml"
)


@pytest.fixture(scope="module")
def text() -> str:
    return STANDARD.read_text(encoding="utf-8")


def _edit(text: str, old: str, new: str, count: int = 1) -> str:
    assert text.count(old) >= count, old
    return text.replace(old, new, count).replace("version: 1\n", "version: 2\n", 1)


def _indicator(questionnaire, iid):
    return next(item for item in questionnaire.indicators if item.id == iid)


def test_unchanged_indicator_is_comparable(text):
    old = load_questionnaire_text(text)
    # Re-spacing the base and changing the English wording do not change the definition.
    new = load_questionnaire_text(
        _edit(
            _edit(text, "base: ${dispute_mediated} = 'yes'", "base: ${dispute_mediated}='yes'"),
            "en: After mediation, was the dispute resolved?",
            "en: Was the dispute resolved after mediation?",
        )
    )
    ok, reason = indicator_comparable(
        indicator_definition("dispute_resolution", old),
        indicator_definition("dispute_resolution", new),
    )
    assert ok, reason
    assert "same definition" in reason
    assert indicator_fingerprint(
        indicator_definition("dispute_resolution", old)
    ) == indicator_fingerprint(indicator_definition("dispute_resolution", new))


def test_positive_codes_change_is_not_comparable(text):
    old = load_questionnaire_text(text)
    block_start = text.index("- id: security\n")
    positive = text.index("positive:", block_start)
    line_end = text.index("\n", positive)
    edited = text[:positive] + "positive: [1, 2]" + text[line_end:]
    new = load_questionnaire_text(edited.replace("version: 1\n", "version: 2\n", 1))
    ok, reason = indicator_comparable(_indicator(old, "security"), _indicator(new, "security"))
    assert not ok
    assert reason == (
        "indicator 'security' is not comparable: positive codes changed from [1, 2, 3] to [1, 2]"
    )


def test_codes_of_question_change_is_not_comparable(text):
    old = load_questionnaire_text(text)
    new = load_questionnaire_text(
        _edit(
            text,
            "      label: {zh_CN: 已经解决, en: Resolved}",
            "      label: {zh_CN: 彻底解决, en: Resolved}",
        )
    )
    # Without the questionnaires only question, codes and base are compared: still the same.
    assert indicator_comparable(
        _indicator(old, "dispute_resolution"), _indicator(new, "dispute_resolution")
    )[0]
    ok, reason = indicator_comparable(
        indicator_definition("dispute_resolution", old),
        indicator_definition("dispute_resolution", new),
    )
    assert not ok
    assert "answer codes of question 'dispute_resolved' changed (codes relabelled: 1)" in reason
    result = comparable_indicators(old, new)
    assert result["security"][0] is True
    assert result["dispute_resolution"][0] is False


def test_base_change_is_not_comparable(text):
    old = load_questionnaire_text(text)
    new = load_questionnaire_text(
        _edit(text, "base: ${dispute_mediated} = 'yes'", "base: ${had_dispute} = 'yes'")
    )
    ok, reason = indicator_comparable(
        _indicator(old, "dispute_resolution"), _indicator(new, "dispute_resolution")
    )
    assert not ok
    assert (
        'base condition changed from (${dispute_mediated} = "yes") to (${had_dispute} = "yes")'
        in reason
    )


def test_canonical_condition_ignores_spacing_and_number_quotes():
    from surveyapp.questionnaire import parse_condition

    a = parse_condition("${q} = 1 and  selected(${m},'x')")
    b = parse_condition("${q}='1' and selected( ${m} , \"x\" )")
    assert canonical_condition(a) == canonical_condition(b)
    assert canonical_condition(parse_condition("${q} = 2")) != canonical_condition(a)
    assert canonical_condition(None) is None


def test_diff_lists_added_question_and_changed_label(text):
    old = load_questionnaire_text(text)
    edited = _edit(
        text,
        "          en: Are you 16 years old or older?\n",
        "          en: Are you at least 16 years old?\n"
        "      - id: phone_owner\n"
        "        type: yesno\n"
        "        label:\n"
        "          zh_CN: 这是您本人的电话吗？\n"
        "          en: Is this your own telephone?\n",
    )
    new = load_questionnaire_text(edited)
    lines = [str(change) for change in diff_questionnaires(old, new)]
    assert (
        "changed question age_16plus label [en]: "
        "'Are you 16 years old or older?' → 'Are you at least 16 years old?'" in lines
    )
    assert "added question phone_owner: yesno in group screening: 这是您本人的电话吗？" in lines
    assert len(lines) == 2
    assert diff_questionnaires(old, old) == []
