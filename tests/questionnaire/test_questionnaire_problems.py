"""Validation: every kind of problem is found, on the right line, with the right field path.

Each fixture is small and written out in full so that the expected line numbers can be counted
by eye; ``at(text, line)`` double-checks that the line holds what the test claims.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from surveyapp.questionnaire import (
    Problem,
    QuestionnaireError,
    load_questionnaire,
    load_questionnaire_text,
    validate_file,
    validate_text,
)

DATA = Path(__file__).resolve().parent / "data"

HEADER = """\
id: t
version: 1
title: {zh_CN: 标题, en: Title}
languages: [zh_CN, en]
groups:
  - id: g
    title: {zh_CN: 组, en: Group}
    questions:
"""  # 8 lines: questions start on line 9


def doc(questions: str, tail: str = "") -> str:
    """The header, then ``questions`` indented under the one group, then top-level ``tail``."""
    body = textwrap.indent(textwrap.dedent(questions), " " * 6)
    return HEADER + body + textwrap.dedent(tail)


def at(text: str, line: int) -> str:
    return text.splitlines()[line - 1].strip()


def problems_of(text: str) -> list[tuple[int, str, str]]:
    return [(p.line, p.field, p.message) for p in validate_text(text, "t.yaml")]


def only(text: str) -> tuple[int, str, str]:
    found = problems_of(text)
    assert len(found) == 1, found
    return found[0]


YESNO = """\
- id: q1
  type: yesno
  label: {zh_CN: 问题一, en: Question one}
"""  # lines 9-11


def test_a_valid_document_has_no_problems() -> None:
    text = doc(YESNO)
    assert problems_of(text) == []
    assert load_questionnaire_text(text).questions["q1"].type == "yesno"


class TestFileLevel:
    def test_yaml_syntax_error_reports_its_line(self) -> None:
        text = doc(YESNO + "- id: q2\n   type: yesno\n")
        line, field, message = only(text)
        assert (line, field) == (13, "")
        assert at(text, 13) == "type: yesno"
        assert message.startswith("YAML syntax error:")

    def test_tab_indentation_is_explained(self) -> None:
        text = "id: t\nversion: 1\n\ttitle: x\n"
        line, _, message = only(text)
        assert line == 3
        assert message.endswith("indent with spaces, not tabs")

    def test_question_mark_in_a_flow_text_is_explained(self) -> None:
        text = doc(YESNO.replace("en: Question one", "en: Question one?"))
        line, _, message = only(text)
        assert line == 11
        assert message == (
            "YAML syntax error: expected ',' or '}', but got '?'; "
            "inside { } or [ ], put a text containing , : ? [ ] { } in quotes"
        )

    def test_empty_file(self) -> None:
        assert only("") == (1, "", "the file is empty")
        assert only("# only a comment\n") == (1, "", "the file is empty")

    def test_two_documents(self) -> None:
        line, _, message = only(doc(YESNO) + "---\nid: other\n")
        assert line == 12
        assert "YAML syntax error" in message

    def test_top_level_not_a_mapping(self) -> None:
        line, field, message = only("- a\n- b\n")
        assert (line, field) == (1, "")
        assert message.startswith("must be a mapping")

    def test_unreadable_and_non_utf8_files(self, tmp_path: Path) -> None:
        missing = tmp_path / "missing.yaml"
        [problem] = validate_file(missing)
        assert (problem.file, problem.line) == (str(missing), 0)
        assert str(problem).startswith(f"{missing}: cannot read the file")
        latin1 = tmp_path / "latin1.yaml"
        latin1.write_bytes(b"id: t\ntitle: caf\xe9\n")
        [problem] = validate_file(latin1)
        assert problem.line == 2
        assert "UTF-8" in problem.message
        with pytest.raises(QuestionnaireError):
            load_questionnaire(missing)

    def test_utf8_bom_is_accepted(self, tmp_path: Path) -> None:
        path = tmp_path / "bom.yaml"
        path.write_bytes(b"\xef\xbb\xbf" + doc(YESNO).encode())
        assert validate_file(path) == []


class TestKeys:
    def test_missing_key_is_reported_on_the_mapping(self) -> None:
        text = doc("""\
            - id: q1
              type: yesno
            """)
        assert only(text) == (9, "groups[0].questions[0]", "missing key 'label'")

    def test_missing_top_level_keys(self) -> None:
        found = problems_of("id: t\nversion: 1\n")
        assert found == [
            (1, "", "missing key 'title'"),
            (1, "", "missing key 'languages'"),
            (1, "", "missing key 'groups'"),
        ]

    def test_unknown_key_with_suggestion(self) -> None:
        text = doc(YESNO + "  relevent: ${q0} = 'yes'\n")
        assert at(text, 12).startswith("relevent")
        assert only(text) == (
            12,
            "groups[0].questions[0].relevent",
            "unknown key 'relevent' (did you mean 'relevant'?)",
        )

    def test_duplicate_yaml_key(self) -> None:
        text = doc(YESNO + "  type: single\n")
        assert only(text) == (
            12,
            "groups[0].questions[0].type",
            "duplicate key 'type' (first on line 10)",
        )

    def test_key_that_does_not_apply_to_the_type(self) -> None:
        text = doc(YESNO + "  min: 1\n")
        assert only(text) == (
            12,
            "groups[0].questions[0].min",
            "'min' does not apply to yesno questions",
        )


class TestTypes:
    def test_version_must_be_a_whole_number(self) -> None:
        text = doc(YESNO).replace("version: 1", "version: one")
        assert only(text) == (2, "version", "must be a whole number, not the value 'one'")
        text = doc(YESNO).replace("version: 1", "version: 1.5")
        assert only(text)[:2] == (2, "version")

    def test_required_must_be_a_boolean(self) -> None:
        text = doc(YESNO + "  required: maybe\n")
        assert only(text) == (
            12,
            "groups[0].questions[0].required",
            "must be true or false, not the value 'maybe'",
        )

    def test_groups_must_be_a_list(self) -> None:
        text = (
            "id: t\nversion: 1\ntitle: {zh_CN: 标题, en: Title}\nlanguages: [zh_CN, en]\n"
            "groups: {id: g}\n"
        )
        line, field, message = only(text)
        assert (line, field) == (5, "groups")
        assert message.startswith("must be a list")

    def test_unknown_question_type(self) -> None:
        text = doc(YESNO.replace("type: yesno", "type: singel"))
        line, field, message = only(text)
        assert (line, field) == (10, "groups[0].questions[0].type")
        assert message.startswith("unknown question type 'singel'")
        assert "did you mean 'single'" in message

    def test_bad_slug_and_bad_question_id(self) -> None:
        text = doc(YESNO.replace("id: q1", "id: 1q")).replace("id: t", "id: T T")
        assert [(line, field) for line, field, _ in problems_of(text)] == [
            (1, "id"),
            (9, "groups[0].questions[0].id"),
        ]

    def test_min_greater_than_max(self) -> None:
        text = doc("""\
            - id: n
              type: integer
              min: 10
              max: 5
              label: {zh_CN: 数字, en: Number}
            """)
        assert at(text, 11) == "min: 10"
        assert only(text) == (11, "groups[0].questions[0].min", "min (10) is greater than max (5)")

    def test_max_length_must_be_positive(self) -> None:
        text = doc("""\
            - id: t1
              type: text
              max_length: 0
              label: {zh_CN: 文字, en: Text}
            """)
        assert only(text) == (11, "groups[0].questions[0].max_length", "must be 1 or more")


CHOICES = """\
- id: s
  type: single
  label: {zh_CN: 单选, en: Single}
  choices:
    - code: a
      label: {zh_CN: 甲, en: A}
    - code: b
      label: {zh_CN: 乙, en: B}
"""  # lines 9-16


class TestChoices:
    def test_duplicate_answer_code(self) -> None:
        text = doc(CHOICES + "    - code: a\n      label: {zh_CN: 丙, en: C}\n")
        assert at(text, 17) == "- code: a"
        assert only(text) == (
            17,
            "groups[0].questions[0].choices[2].code",
            "duplicate answer code 'a' (first on line 13)",
        )

    def test_bad_answer_code(self) -> None:
        text = doc(CHOICES.replace("code: b", 'code: "b\\tc"'))
        assert only(text) == (
            15,
            "groups[0].questions[0].choices[1].code",
            "answer code 'b\\tc' cannot contain control characters (tabs, new lines)",
        )
        text = doc(CHOICES.replace("code: b", 'code: " b"'))
        assert only(text)[2] == "answer code ' b' cannot start or end with a space"

    def test_codes_as_pyxform_accepts_them(self) -> None:
        """Unicode letters, spaces and '/' (pyxform's rule: anything but a duplicate)."""
        text = doc(
            CHOICES.replace("code: a", "code: 城关/东区").replace("code: b", "code: no answer")
        )
        assert load_questionnaire_text(text).questions["s"].codes == ("城关/东区", "no answer")
        multiple = CHOICES.replace("type: single", "type: multiple")
        text = doc(multiple.replace("code: b", "code: no answer"))
        assert only(text) == (
            13,
            "groups[0].questions[0].choices",
            "answer code 'no answer' has a space, which a multiple question cannot have "
            "(its answer is stored as codes separated by spaces, as in ODK)",
        )

    def test_numbers_and_yes_are_codes_as_written(self) -> None:
        text = doc(CHOICES.replace("code: a", "code: 01").replace("code: b", "code: yes"))
        assert load_questionnaire_text(text).questions["s"].codes == ("01", "yes")

    def test_missing_choices(self) -> None:
        text = doc(CHOICES.split("  choices:")[0])
        assert only(text) == (9, "groups[0].questions[0]", "missing key 'choices'")

    def test_other_must_be_a_code(self) -> None:
        text = doc(CHOICES.replace("  choices:", "  other: z\n  choices:"))
        assert only(text) == (
            12,
            "groups[0].questions[0].other",
            "'z' is not one of the codes (a, b)",
        )

    def test_other_cannot_be_exclusive(self) -> None:
        text = doc(
            CHOICES.replace("type: single", "type: multiple").replace(
                "  choices:", "  other: b\n  choices:"
            )
            + "      exclusive: true\n"
        )
        assert only(text) == (
            12,
            "groups[0].questions[0].other",
            "the 'other' choice 'b' cannot be exclusive",
        )

    def test_unknown_choice_list(self) -> None:
        text = doc(
            """\
            - id: s
              type: single
              choices: scales
              label: {zh_CN: 单选, en: Single}
            """,
            tail="""\
            choice_lists:
              scale:
                - {code: a, label: {zh_CN: 甲, en: A}}
            """,
        )
        assert only(text) == (
            11,
            "groups[0].questions[0].choices",
            "unknown choice list 'scales' (did you mean 'scale'?)",
        )

    def test_yesno_relabelled_with_wrong_codes(self) -> None:
        text = doc(
            YESNO + "  choices:\n    - {code: y, label: {zh_CN: 对, en: Right}}\n"
            "    - {code: n, label: {zh_CN: 错, en: Wrong}}\n"
        )
        assert only(text) == (
            13,
            "groups[0].questions[0].choices",
            "yesno choices relabel the codes yes and no: give exactly those two",
        )


class TestTranslations:
    def test_missing_translation(self) -> None:
        text = doc(YESNO.replace(", en: Question one", ""))
        assert only(text) == (11, "groups[0].questions[0].label", "missing en translation")

    def test_blank_translation(self) -> None:
        text = doc(YESNO.replace("en: Question one", "en: ''"))
        assert only(text) == (11, "groups[0].questions[0].label.en", "missing en translation")

    def test_label_must_be_translated(self) -> None:
        text = doc(YESNO.replace("{zh_CN: 问题一, en: Question one}", "问题一"))
        line, field, message = only(text)
        assert (line, field) == (11, "groups[0].questions[0].label")
        assert message.startswith("must give the text in each language, like {zh_CN: ..., en:")

    def test_undeclared_language(self) -> None:
        text = doc(YESNO.replace("en: Question one}", "en: Question one, fr: Question un}"))
        assert only(text) == (
            11,
            "groups[0].questions[0].label.fr",
            "'fr' is not a declared language",
        )

    def test_unquoted_comma_in_a_flow_text_is_explained(self) -> None:
        text = doc(YESNO.replace("en: Question one", "en: Question, one"))
        line, field, message = only(text)
        assert (line, field) == (11, "groups[0].questions[0].label.one")
        assert "put the text in quotes" in message

    def test_every_declared_language_is_required(self) -> None:
        text = doc(YESNO).replace("[zh_CN, en]", "[zh_CN, en, {code: ug, rtl: true}]")
        assert problems_of(text) == [
            (3, "title", "missing ug translation"),
            (7, "groups[0].title", "missing ug translation"),
            (11, "groups[0].questions[0].label", "missing ug translation"),
        ]


class TestLanguages:
    def test_default_language_must_be_zh_cn(self) -> None:
        text = doc(YESNO).replace("[zh_CN, en]", "[en, zh_CN]")
        assert only(text) == (
            4,
            "languages[0]",
            "the first (default) language must be zh_CN, not 'en'",
        )

    def test_publishing_languages_are_required_when_asked(self) -> None:
        """Chinese alone is a complete questionnaire; publishing may require more languages
        (SURVEYAPP_PUBLISH_LANGUAGES), which the check then asks for."""
        text = doc(YESNO).replace("[zh_CN, en]", "[zh_CN]").replace(", en: Question one", "")
        text = text.replace(", en: Title", "").replace(", en: Group", "")
        assert problems_of(text) == []
        found = validate_text(text, "t.yaml", required_languages=("zh_CN", "en", "ug"))
        assert [(p.line, p.field, p.message) for p in found] == [
            (
                4,
                "languages",
                f"{name} must be one of the languages: publishing requires zh_CN, en, ug "
                "(SURVEYAPP_PUBLISH_LANGUAGES)",
            )
            for name in ("English (en)", "Uyghur (ug)")
        ]

    def test_duplicate_and_malformed_languages(self) -> None:
        text = doc(YESNO).replace("[zh_CN, en]", "[zh_CN, en, en, english]")
        assert problems_of(text) == [
            (4, "languages[2]", "language 'en' is declared twice (first on line 4)"),
            (4, "languages[3]", "'english' is not a language code like zh_CN, en or ug"),
        ]

    def test_unknown_language_needs_a_name(self) -> None:
        text = doc(YESNO).replace("[zh_CN, en]", "[zh_CN, en, ii]")
        text = text.replace("Title}", "Title, ii: ꀀ}").replace("Group}", "Group, ii: ꀀ}")
        text = text.replace("Question one}", "Question one, ii: ꀀ}")
        found = problems_of(text)
        assert (4, "languages[2]", "give the name of language 'ii' (code: ii, name: ...)") in found

    def test_yesno_without_built_in_labels_in_a_language(self) -> None:
        text = doc(YESNO).replace("[zh_CN, en]", "[zh_CN, en, {code: ii, name: ꆈꌠꉙ}]")
        text = text.replace("Title}", "Title, ii: ꀀ}").replace("Group}", "Group, ii: ꀀ}")
        text = text.replace("Question one}", "Question one, ii: ꀀ}")
        assert only(text) == (
            10,
            "groups[0].questions[0].type",
            "no built-in yes/no labels in 'ii': give choices with codes yes and no",
        )


class TestIds:
    def test_duplicate_question_id_across_groups(self) -> None:
        text = doc(YESNO) + (
            "  - id: g2\n"
            "    title: {zh_CN: 组二, en: Group two}\n"
            "    questions:\n"
            "      - id: q1\n"
            "        type: yesno\n"
            "        label: {zh_CN: 重复, en: Again}\n"
        )
        assert at(text, 15) == "- id: q1"
        assert only(text) == (
            15,
            "groups[1].questions[0].id",
            "duplicate question id 'q1' (first on line 9)",
        )

    def test_duplicate_group_id(self) -> None:
        text = doc(YESNO) + (
            "  - id: g\n"
            "    title: {zh_CN: 组二, en: Group two}\n"
            "    questions:\n"
            "      - {id: q2, type: yesno, label: {zh_CN: 二, en: Two}}\n"
        )
        assert only(text) == (12, "groups[1].id", "duplicate group id 'g' (first on line 6)")

    def test_empty_group_and_no_groups(self) -> None:
        text = HEADER.replace("    questions:\n", "    questions: []\n")
        assert only(text) == (8, "groups[0].questions", "must list at least one question")


TWO = """\
- id: q1
  type: yesno
  label: {zh_CN: 问题一, en: Question one}
- id: q2
  type: yesno
  label: {zh_CN: 问题二, en: Question two}
"""  # lines 9-14


class TestConditions:
    def test_unknown_question(self) -> None:
        text = doc(TWO + "  relevant: ${q3} = 'yes'\n")
        assert only(text) == (15, "groups[0].questions[1].relevant", "unknown question 'q3'")

    def test_unknown_question_with_suggestion(self) -> None:
        text = doc(TWO + "  relevant: ${q_1} = 'yes'\n")
        assert only(text)[2] == "unknown question 'q_1' (did you mean 'q1'?)"

    def test_unknown_code(self) -> None:
        text = doc(TWO + "  relevant: ${q1} = 'zz'\n")
        assert only(text) == (
            15,
            "groups[0].questions[1].relevant",
            "unknown code 'zz' for question 'q1' (its codes: yes, no)",
        )

    def test_unknown_code_in_selected(self) -> None:
        text = doc(TWO + "  relevant: selected(${q1}, 'maybe')\n")
        assert only(text)[2] == "unknown code 'maybe' for question 'q1' (its codes: yes, no)"

    def test_forward_reference(self) -> None:
        text = doc(
            TWO.replace(
                "  label: {zh_CN: 问题一", "  relevant: ${q2} = 'yes'\n  label: {zh_CN: 问题一"
            )
        )
        assert at(text, 11).startswith("relevant:")
        assert only(text) == (
            11,
            "groups[0].questions[0].relevant",
            "refers to 'q2' (line 13), which is asked later: questions can only depend on "
            "questions asked before",
        )

    def test_self_reference(self) -> None:
        text = doc(TWO + "  relevant: ${q2} = 'yes'\n")
        assert only(text) == (
            15,
            "groups[0].questions[1].relevant",
            "refers to the question itself ('q2')",
        )

    def test_self_reference_in_constraint_suggests_dot(self) -> None:
        text = doc(TWO + "  constraint: ${q2} != 'no'\n")
        assert only(text)[2] == "refers to the question itself ('q2'); write '.' for its own answer"

    def test_group_condition_on_its_own_question(self) -> None:
        text = HEADER.replace("    questions:\n", "    relevant: ${q1} = 'yes'\n    questions:\n")
        text += textwrap.indent(YESNO, " " * 6)
        assert only(text) == (
            8,
            "groups[0].relevant",
            "refers to 'q1' (line 10), which is asked later: this group's questions can only "
            "depend on questions asked before",
        )

    def test_syntax_error(self) -> None:
        text = doc(TWO + "  relevant: ${q1} = 'yes' and\n")
        assert only(text) == (
            15,
            "groups[0].questions[1].relevant",
            "condition syntax error: the condition ends too early "
            "(column 18 of \"${q1} = 'yes' and\")",
        )

    def test_dot_outside_a_constraint(self) -> None:
        text = doc(TWO + "  relevant: . = 'yes'\n")
        assert only(text) == (
            15,
            "groups[0].questions[1].relevant",
            "'.' (this question's answer) can only be used in a constraint",
        )

    def test_dot_code_is_checked_against_the_question_itself(self) -> None:
        text = doc(TWO + "  constraint: . != 'maybe'\n")
        assert only(text)[2] == "unknown code 'maybe' for question 'q2' (its codes: yes, no)"

    def test_selected_on_a_non_choice_question(self) -> None:
        text = doc("""\
            - id: n
              type: integer
              label: {zh_CN: 数字, en: Number}
            - id: q2
              type: yesno
              relevant: selected(${n}, '1') or count-selected(${n}) > 0
              label: {zh_CN: 问题二, en: Question two}
            """)
        assert problems_of(text) == [
            (
                14,
                "groups[0].questions[1].relevant",
                "selected() needs a choice question; 'n' is a integer question",
            ),
            (
                14,
                "groups[0].questions[1].relevant",
                "count-selected() needs a multiple question; 'n' is a integer question",
            ),
        ]

    def test_constraint_message_without_constraint(self) -> None:
        text = doc(YESNO + "  constraint_message: {zh_CN: 错, en: Wrong}\n")
        assert only(text) == (
            12,
            "groups[0].questions[0].constraint_message",
            "constraint_message without a constraint",
        )

    def test_empty_condition(self) -> None:
        text = doc(TWO + "  relevant:\n")
        assert only(text) == (15, "groups[0].questions[1].relevant", "must be a text, not empty")


SCALE = """\
- id: s
  type: single
  label: {zh_CN: 安全吗, en: Safe}
  choices:
    - {code: 1, label: {zh_CN: 安全, en: Safe}}
    - {code: 2, label: {zh_CN: 不安全, en: Unsafe}}
    - {code: 9, label: {zh_CN: 不清楚, en: Don't know}}
"""  # lines 9-15; indicators start on line 16


class TestIndicators:
    def test_valid_indicator_and_composite(self) -> None:
        text = doc(
            SCALE,
            tail="""\
            indicators:
              - id: security
                label: {zh_CN: 安全感, en: Security}
                question: s
                positive: [1]
                excluded: [9]
                target: 0.9
            composites:
              - id: score
                label: {zh_CN: 得分, en: Score}
                question: s
                points: {1: 100, 2: 0}
                excluded: [9]
            """,
        )
        questionnaire = load_questionnaire_text(text)
        assert questionnaire.indicators[0].positive == ("1",)
        assert dict(questionnaire.composites[0].points) == {"1": 100.0, "2": 0.0}

    def test_indicator_on_unknown_question(self) -> None:
        text = doc(
            SCALE,
            tail="""\
            indicators:
              - id: security
                label: {zh_CN: 安全感, en: Security}
                question: safety
                positive: [1]
            """,
        )
        assert at(text, 19) == "question: safety"
        assert only(text) == (19, "indicators[0].question", "unknown question 'safety'")

    def test_indicator_with_unknown_codes(self) -> None:
        text = doc(
            SCALE,
            tail="""\
            indicators:
              - id: security
                label: {zh_CN: 安全感, en: Security}
                question: s
                positive: [1, 3]
                excluded:
                  - 8
            """,
        )
        assert problems_of(text) == [
            (
                20,
                "indicators[0].positive[1]",
                "unknown code '3' for question 's' (its codes: 1, 2, 9)",
            ),
            (
                22,
                "indicators[0].excluded[0]",
                "unknown code '8' for question 's' (its codes: 1, 2, 9)",
            ),
        ]

    def test_indicator_code_both_positive_and_excluded(self) -> None:
        text = doc(
            SCALE,
            tail="""\
            indicators:
              - id: security
                label: {zh_CN: 安全感, en: Security}
                question: s
                positive: [1, 9]
                excluded: [9]
            """,
        )
        assert only(text) == (
            21,
            "indicators[0].excluded",
            "code '9' cannot be both positive and excluded",
        )

    def test_indicator_target_and_base(self) -> None:
        text = doc(
            SCALE,
            tail="""\
            indicators:
              - id: security
                label: {zh_CN: 安全感, en: Security}
                question: s
                positive: [1]
                target: 90
                base: ${s} = 'x' or ${t} = 1
            """,
        )
        assert problems_of(text) == [
            (
                21,
                "indicators[0].target",
                "must be a share above 0 and at most 1 (0.9 for 90%), not 90",
            ),
            (22, "indicators[0].base", "unknown question 't'"),
            (22, "indicators[0].base", "unknown code 'x' for question 's' (its codes: 1, 2, 9)"),
        ]

    def test_indicator_on_a_non_choice_question(self) -> None:
        text = doc(
            """\
            - id: n
              type: integer
              label: {zh_CN: 数字, en: Number}
            """,
            tail="""\
            indicators:
              - id: x
                label: {zh_CN: 指标, en: Indicator}
                question: n
                positive: [1]
            """,
        )
        assert only(text) == (
            15,
            "indicators[0].question",
            "an indicator needs a choice question; 'n' is a integer question",
        )

    def test_composite_points_for_unknown_code(self) -> None:
        text = doc(
            SCALE,
            tail="""\
            composites:
              - id: score
                label: {zh_CN: 得分, en: Score}
                question: s
                points:
                  1: 100
                  2: 0
                  3: 50
                excluded: [9]
            """,
        )
        assert at(text, 23) == "3: 50"
        assert only(text) == (
            23,
            "composites[0].points.3",
            "points for unknown code '3' for question 's' (its codes: 1, 2, 9)",
        )

    def test_composite_code_without_points(self) -> None:
        text = doc(
            SCALE,
            tail="""\
            composites:
              - id: score
                label: {zh_CN: 得分, en: Score}
                question: s
                points: {1: 100, 9: 50}
            """,
        )
        assert problems_of(text) == [
            (
                20,
                "composites[0].points",
                "code '2' of question 's' has no points and is not excluded",
            ),
        ]

    def test_composite_excluded_code_with_points_and_bad_number(self) -> None:
        text = doc(
            SCALE,
            tail="""\
            composites:
              - id: score
                label: {zh_CN: 得分, en: Score}
                question: s
                points: {1: 100, 2: lots, 9: 0}
                excluded: [9]
            """,
        )
        assert problems_of(text) == [
            (20, "composites[0].points.2", "must be a number, not the value 'lots'"),
            (20, "composites[0].points.9", "code '9' is excluded and cannot have points"),
        ]

    def test_duplicate_result_ids(self) -> None:
        text = doc(
            SCALE,
            tail="""\
            indicators:
              - {id: security, label: {zh_CN: 甲, en: A}, question: s, positive: [1]}
            composites:
              - {id: security, label: {zh_CN: 乙, en: B}, question: s, points: {1: 1, 2: 0, 9: 0}}
            """,
        )
        assert only(text) == (19, "composites[0].id", "duplicate id 'security' (first on line 17)")


def test_every_problem_is_reported_in_line_order() -> None:
    path = DATA / "broken.yaml"
    found = [(p.line, p.field) for p in validate_file(path)]
    assert found == [
        (4, "languages[0]"),  # en first
        (9, "groups[0].questions[0].type"),  # unknown type
        (12, "groups[0].questions[1].label"),  # missing zh_CN translation
        (15, "groups[0].questions[1].choices[1].code"),  # duplicate code
        (16, "groups[0].questions[1].relevant"),  # forward reference
        (19, "groups[0].questions[2].min"),  # min > max
        (22, "groups[0].questions[2].constraint"),  # syntax error
        (23, "groups[0].questions[3].id"),  # duplicate id
        (29, "indicators[0].question"),  # unknown question
        (35, "composites[0].points.y"),  # points for an unknown code
    ]
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(path)
    assert len(caught.value.problems) == len(found)


def test_problem_str() -> None:
    assert str(Problem("a.yaml", 3, "groups[0].id", "bad")) == "a.yaml:3: groups[0].id: bad"
    assert str(Problem("a.yaml", 3, "", "bad")) == "a.yaml:3: bad"
    assert str(Problem("a.yaml", 0, "", "gone")) == "a.yaml: gone"


def test_error_message_lists_every_problem() -> None:
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire_text("id: t\nversion: 1\n", source="x.yaml")
    assert str(caught.value).splitlines() == [
        "x.yaml:1: missing key 'title'",
        "x.yaml:1: missing key 'languages'",
        "x.yaml:1: missing key 'groups'",
    ]
