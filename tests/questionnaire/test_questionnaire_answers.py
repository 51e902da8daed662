"""``clean_answers``: normalisation and every kind of answer error, on the small test file."""

from __future__ import annotations

import pytest

from surveyapp.questionnaire import ANSWER_ERROR_KINDS, AnswerError, Questionnaire, clean_answers

ELIGIBLE = {"eligible": "yes", "safety": "1", "age": "40", "years_here": "10"}


def errors_of(minimal: Questionnaire, raw: dict) -> list[tuple[str, str, dict]]:
    return [(e.question, e.kind, e.params) for e in clean_answers(minimal, raw)[1]]


def test_a_complete_valid_interview(minimal: Questionnaire) -> None:
    raw = {
        "eligible": "yes",
        "safety": "3",
        "factors": ["other", "theft", ""],
        "factors.other": "  高空抛物 ",
        "age": " 40 ",
        "years_here": "10",
        "visit_date": "2025-03-01",
        "comment": "很好\r\n谢谢",
    }
    cleaned, errors = clean_answers(minimal, raw)
    assert errors == []
    assert cleaned == {
        "eligible": "yes",
        "safety": "3",
        "factors": ["theft", "other"],  # questionnaire order
        "factors.other": "高空抛物",
        "age": 40,
        "years_here": 10,
        "visit_date": "2025-03-01",
        "comment": "很好\n谢谢",
    }


def test_empty_answers_are_left_out(minimal: Questionnaire) -> None:
    cleaned, errors = clean_answers(minimal, {**ELIGIBLE, "visit_date": "", "comment": "  "})
    assert errors == []
    assert cleaned == {"eligible": "yes", "safety": "1", "age": 40, "years_here": 10}


def test_full_width_digits_are_accepted(minimal: Questionnaire) -> None:
    cleaned, errors = clean_answers(minimal, {**ELIGIBLE, "age": "４０"})
    assert errors == []
    assert cleaned["age"] == 40


def test_screened_out_respondent(minimal: Questionnaire) -> None:
    cleaned, errors = clean_answers(minimal, {"eligible": "no"})
    assert (cleaned, errors) == ({"eligible": "no"}, [])


def test_required(minimal: Questionnaire) -> None:
    assert errors_of(minimal, {"eligible": "yes", "age": "40", "years_here": "1"}) == [
        ("safety", "required", {}),
    ]
    assert errors_of(minimal, {}) == [("eligible", "required", {})]


def test_not_relevant(minimal: Questionnaire) -> None:
    # factors is asked only if safety = 3
    assert errors_of(minimal, {**ELIGIBLE, "factors": ["theft"]}) == [
        ("factors", "not_relevant", {}),
    ]
    # a whole group skipped
    assert errors_of(minimal, {"eligible": "no", "safety": "1"}) == [
        ("safety", "not_relevant", {}),
    ]


def test_unknown_code(minimal: Questionnaire) -> None:
    assert errors_of(minimal, {**ELIGIBLE, "safety": "7"}) == [
        ("safety", "unknown_code", {"code": "7"}),
    ]
    assert errors_of(minimal, {**ELIGIBLE, "safety": "3", "factors": ["theft", "zz"]}) == [
        ("factors", "unknown_code", {"code": "zz"}),
    ]
    assert errors_of(minimal, {**ELIGIBLE, "eligible": "maybe"})[0] == (
        "eligible",
        "unknown_code",
        {"code": "maybe"},
    )


def test_two_values_for_a_single_choice(minimal: Questionnaire) -> None:
    assert errors_of(minimal, {**ELIGIBLE, "safety": ["1", "2"]}) == [
        ("safety", "unknown_code", {"code": "1 2"}),
    ]


def test_not_integer(minimal: Questionnaire) -> None:
    for value in ("forty", "40.5", "4 0", "1e3"):
        assert errors_of(minimal, {**ELIGIBLE, "age": value}) == [
            ("age", "not_integer", {}),
        ], value


def test_out_of_range(minimal: Questionnaire) -> None:
    bounds = {"min": 16, "max": 120}
    assert errors_of(minimal, {**ELIGIBLE, "age": "15"}) == [("age", "out_of_range", bounds)]
    assert errors_of(minimal, {**ELIGIBLE, "age": "121"}) == [("age", "out_of_range", bounds)]
    assert errors_of(minimal, {**ELIGIBLE, "age": "9" * 40}) == [("age", "out_of_range", bounds)]
    assert errors_of(minimal, {**ELIGIBLE, "age": "16"}) == []
    assert errors_of(minimal, {**ELIGIBLE, "age": "120", "years_here": "0"}) == []
    assert errors_of(minimal, {**ELIGIBLE, "years_here": "-1"}) == [
        ("years_here", "out_of_range", {"min": 0, "max": None}),
    ]


def test_bad_date(minimal: Questionnaire) -> None:
    for value in ("2025-02-30", "01/03/2025", "20250301", "2025-3-1"):
        assert errors_of(minimal, {**ELIGIBLE, "visit_date": value}) == [
            ("visit_date", "bad_date", {}),
        ], value


def test_too_long(minimal: Questionnaire) -> None:
    assert errors_of(minimal, {**ELIGIBLE, "comment": "一二三四五六七八九十"}) == []
    assert errors_of(minimal, {**ELIGIBLE, "comment": "一二三四五六七八九十一"}) == [
        ("comment", "too_long", {"max_length": 10, "length": 11}),
    ]


def test_constraint(minimal: Questionnaire) -> None:
    [(qid, kind, params)] = errors_of(minimal, {**ELIGIBLE, "age": "20", "years_here": "21"})
    assert (qid, kind) == ("years_here", "constraint")
    assert dict(params["message"]) == {
        "zh_CN": "不能超过年龄",
        "en": "Not more than your age",
        "ug": "يېشىڭىزدىن ئېشىپ كەتمىسۇن",
    }
    assert errors_of(minimal, {**ELIGIBLE, "age": "20", "years_here": "20"}) == []


def test_exclusive(minimal: Questionnaire) -> None:
    assert errors_of(minimal, {**ELIGIBLE, "safety": "3", "factors": ["theft", "none"]}) == [
        ("factors", "exclusive", {"code": "none"}),
    ]
    cleaned, errors = clean_answers(minimal, {**ELIGIBLE, "safety": "3", "factors": "none"})
    assert errors == []
    assert cleaned["factors"] == ["none"]


def test_multiple_given_as_space_separated_text(minimal: Questionnaire) -> None:
    cleaned, errors = clean_answers(minimal, {**ELIGIBLE, "safety": "3", "factors": "fraud theft"})
    assert errors == []
    assert cleaned["factors"] == ["theft", "fraud"]


def test_other_missing(minimal: Questionnaire) -> None:
    raw = {**ELIGIBLE, "safety": "3", "factors": ["other"], "factors.other": " "}
    assert errors_of(minimal, raw) == [
        ("factors", "other_missing", {"field": "factors.other"}),
    ]


def test_other_text_without_the_other_choice(minimal: Questionnaire) -> None:
    raw = {**ELIGIBLE, "safety": "3", "factors": ["theft"], "factors.other": "x"}
    assert errors_of(minimal, raw) == [
        ("factors", "not_relevant", {"field": "factors.other"}),
    ]


def test_other_text_too_long(minimal: Questionnaire) -> None:
    raw = {**ELIGIBLE, "safety": "3", "factors": ["other"], "factors.other": "x" * 501}
    assert errors_of(minimal, raw) == [
        ("factors", "too_long", {"field": "factors.other", "max_length": 500, "length": 501}),
    ]


def test_unknown_question(minimal: Questionnaire) -> None:
    assert errors_of(minimal, {**ELIGIBLE, "shoe_size": "42", "age.other": "x"}) == [
        ("shoe_size", "unknown_question", {}),
        ("age.other", "unknown_question", {}),
    ]


def test_relevance_uses_only_valid_answers(minimal: Questionnaire) -> None:
    # An invalid safety answer cannot make factors relevant.
    assert errors_of(minimal, {**ELIGIBLE, "safety": "x", "factors": ["theft"]}) == [
        ("safety", "unknown_code", {"code": "x"}),
        ("factors", "not_relevant", {}),
    ]


def test_numbers_in_raw_data_are_accepted(minimal: Questionnaire) -> None:
    cleaned, errors = clean_answers(
        minimal, {"eligible": "yes", "safety": 1, "age": 40, "years_here": 3}
    )
    assert errors == []
    assert cleaned == {"eligible": "yes", "safety": "1", "age": 40, "years_here": 3}


class TestGroups:
    def test_only_the_listed_groups_are_checked(self, minimal: Questionnaire) -> None:
        # page 2: the screening answer decides relevance but is neither checked nor returned
        cleaned, errors = clean_answers(minimal, {**ELIGIBLE, "safety": "3"}, groups=["main"])
        assert errors == [AnswerError("factors", "required", {})]
        assert cleaned == {"safety": "3", "age": 40, "years_here": 10}

    def test_first_page_ignores_later_pages(self, minimal: Questionnaire) -> None:
        cleaned, errors = clean_answers(minimal, {"eligible": "yes"}, groups=["screening"])
        assert (cleaned, errors) == ({"eligible": "yes"}, [])

    def test_skipped_group(self, minimal: Questionnaire) -> None:
        cleaned, errors = clean_answers(minimal, {"eligible": "no"}, groups=["main"])
        assert (cleaned, errors) == ({}, [])

    def test_unknown_group(self, minimal: Questionnaire) -> None:
        with pytest.raises(KeyError):
            clean_answers(minimal, {}, groups=["nope"])


def test_every_kind_is_documented_and_tested() -> None:
    assert ANSWER_ERROR_KINDS == {
        "required",
        "not_relevant",
        "unknown_code",
        "not_integer",
        "out_of_range",
        "bad_date",
        "not_number",  # the new types: tests/questionnaire/test_more_question_types.py
        "bad_time",
        "bad_datetime",
        "bad_geopoint",
        "too_long",
        "constraint",
        "exclusive",
        "other_missing",
        "unknown_question",
        "not_instances",  # repeat groups: tests/questionnaire/test_repeat.py
        "repeat_count",
        "repeat_too_many",  # above MAX_INSTANCES: tests/fieldwork/test_repeat_sync.py
    }
