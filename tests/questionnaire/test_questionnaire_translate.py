"""Translations: fallback to Chinese, language variants, declared languages and right-to-left."""

from __future__ import annotations

from types import MappingProxyType

from surveyapp.questionnaire import Questionnaire, translate

TEXT = MappingProxyType({"zh_CN": "安全", "en": "Safe"})


def test_exact_language() -> None:
    assert translate(TEXT, "en") == ("Safe", False)
    assert translate(TEXT, "zh_CN") == ("安全", False)


def test_missing_language_falls_back_to_chinese() -> None:
    assert translate(TEXT, "ug") == ("安全", True)
    assert translate(TEXT, "fr") == ("安全", True)


def test_regional_and_plain_variants_are_not_fallbacks() -> None:
    assert translate(TEXT, "en_GB") == ("Safe", False)
    assert translate(TEXT, "en-US") == ("Safe", False)
    assert translate(TEXT, "zh") == ("安全", False)
    assert translate(TEXT, "zh_Hans_CN") == ("安全", False)  # how Babel spells it
    assert translate(TEXT, "EN") == ("Safe", False)


def test_traditional_chinese_is_a_fallback() -> None:
    assert translate(TEXT, "zh_TW") == ("安全", True)


def test_blank_translation_falls_back() -> None:
    assert translate({"zh_CN": "安全", "en": "  "}, "en") == ("安全", True)


def test_other_default() -> None:
    assert translate(TEXT, "ug", default="en") == ("Safe", True)


def test_any_translation_rather_than_blank() -> None:
    assert translate({"en": "Safe"}, "ug") == ("Safe", True)


def test_nothing_to_translate() -> None:
    assert translate(None, "en") == ("", True)
    assert translate({}, "en") == ("", True)


def test_declared_languages_and_right_to_left(minimal: Questionnaire) -> None:
    assert [(lang.code, lang.rtl) for lang in minimal.languages] == [
        ("zh_CN", False),
        ("en", False),
        ("ug", True),
    ]
    assert minimal.language("ug").name == "ئۇيغۇرچە"
    assert minimal.language("fr") is None
    assert minimal.default_language == "zh_CN"


def test_yesno_labels_are_built_in_for_declared_languages(minimal: Questionnaire) -> None:
    eligible = minimal.questions["eligible"]
    assert eligible.codes == ("yes", "no")
    assert dict(eligible.choices[0].label) == {"zh_CN": "是", "en": "Yes", "ug": "ھەئە"}
    assert dict(eligible.choices[1].label) == {"zh_CN": "否", "en": "No", "ug": "ياق"}


def test_minimal_fixture_values(minimal: Questionnaire) -> None:
    assert minimal.id == "minimal-test"
    assert minimal.version == 3
    assert minimal.questions["comment"].max_length == 10
    assert minimal.questions["safety"].codes == ("1", "2", "3", "9")
    assert minimal.questions["factors"].other_key == "factors.other"
    assert minimal.questions["age"].minimum == 16
    assert minimal.questions["age"].maximum == 120
    assert minimal.questions["years_here"].constraint.source == ". <= ${age}"


def test_indicator_and_composite_values(minimal: Questionnaire) -> None:
    security, theft = minimal.indicators
    assert security.value({"safety": "1"}) == 1.0
    assert security.value({"safety": "3"}) == 0.0
    assert security.value({"safety": "9"}) is None
    assert security.value({}) is None
    # multiple choice: positive if any positive code is selected; base is safety = 3
    assert theft.value({"safety": "3", "factors": ["fraud", "theft"]}) == 1.0
    assert theft.value({"safety": "3", "factors": ["fraud"]}) == 0.0
    assert theft.value({"safety": "1", "factors": ["theft"]}) is None
    [score] = minimal.composites
    assert score.value({"safety": "2"}) == 60.0
    assert score.value({"safety": "9"}) is None
    assert score.value({}) is None
