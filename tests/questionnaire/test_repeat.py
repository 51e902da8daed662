"""Repeat groups (household rosters): the format, its checks, and answers per instance.

Expected values are written by hand from ODK's rules: a repeat's questions are asked once per
instance, a condition inside an instance reads that instance's earlier answers (XLSForm's
relative ``${q}``), and outside the group only ``count(${group})`` may be used.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from surveyapp.questionnaire import AnswerError, clean_answers, load_questionnaire, validate_text
from surveyapp.questionnaire.types import GROUP_KINDS

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def roster():
    return load_questionnaire(DATA / "roster.yaml")


def test_repeat_groups_are_read(roster) -> None:
    members, visitors = roster.group("members"), roster.group("visitors")
    assert members.kind is GROUP_KINDS["repeat"] and roster.group("household").kind.name == "group"
    assert members.repeat is not None and members.repeat.count is not None
    assert members.repeat.count.source == "${household_size}"
    assert visitors.repeat is not None
    assert (visitors.repeat.count, visitors.repeat.minimum, visitors.repeat.maximum) == (
        None,
        None,
        3,
    )
    assert roster.questions["member_age"].repeat == "members"
    assert roster.questions["household_size"].repeat is None
    assert list(roster.repeats) == ["members", "visitors"]
    assert "member_age" not in roster.questions_once and "crowded" in roster.questions_once
    assert {"members", "visitors", "household_size"} <= roster.answer_keys
    assert "member_age" not in roster.answer_keys


TWO = {
    "household_size": 2,
    "members": [
        {"member_name": "张三", "member_age": "40", "member_works": "yes", "member_job": "farmer"},
        {"member_name": "李四", "member_age": 9},
    ],
}


def test_instances_are_cleaned_each_with_its_own_skip_logic(roster) -> None:
    cleaned, errors = clean_answers(roster, TWO)
    assert errors == []
    assert cleaned == {
        "household_size": 2,
        "members": [
            {
                "member_name": "张三",
                "member_age": 40,
                "member_works": "yes",
                "member_job": "farmer",
            },  # noqa: E501
            {"member_name": "李四", "member_age": 9},
        ],
    }


def test_errors_name_the_group_the_instance_and_the_question(roster) -> None:
    answers = {
        "household_size": 2,
        "members": [
            {"member_name": "a", "member_age": 40, "member_works": "no", "member_job": "worker"},
            {"member_name": "b", "member_age": 200, "member_works": "yes"},
        ],
    }
    _, errors = clean_answers(roster, answers)
    assert errors == [
        AnswerError("member_job", "not_relevant", {}, "members", 1),
        AnswerError("member_age", "out_of_range", {"min": 0, "max": 120}, "members", 2),
        # with no valid age, instance 2 is not asked whether it works
        AnswerError("member_works", "not_relevant", {}, "members", 2),
    ]
    assert errors[1].where == "members[2].member_age"


def test_a_sibling_of_another_instance_does_not_count(roster) -> None:
    # instance 2's member_job is asked only if instance 2 works, whatever instance 1 said
    answers = {
        "household_size": 2,
        "members": [
            {"member_name": "a", "member_age": 40, "member_works": "yes", "member_job": "worker"},
            {"member_name": "b", "member_age": 30, "member_works": "no", "member_job": "worker"},
        ],
    }
    _, errors = clean_answers(roster, answers)
    assert errors == [AnswerError("member_job", "not_relevant", {}, "members", 2)]


def test_a_constraint_inside_an_instance_reads_earlier_answers_outside(roster) -> None:
    alone = {
        "household_size": 1,
        "members": [
            {"member_name": "a", "member_age": 17, "member_works": "yes", "member_job": "student"}
        ],
    }
    _, errors = clean_answers(roster, alone)
    assert [(e.where, e.kind) for e in errors] == [("members[1].member_job", "constraint")]


@pytest.mark.parametrize(
    ("answers", "params"),
    [
        (
            {"household_size": 3, "members": TWO["members"]},
            {"count": 2, "expected": 3, "min": None, "max": None},
        ),
        (
            {**TWO, "visitors": [{"visitor_relation": "family"}] * 4},
            {"count": 4, "expected": None, "min": None, "max": 3},
        ),
    ],
)
def test_the_number_of_instances_is_checked(roster, answers, params) -> None:
    _, errors = clean_answers(roster, answers)
    assert len(errors) == 1
    assert (errors[0].question, errors[0].kind, errors[0].params) == (
        list(answers)[-1],
        "repeat_count",
        params,
    )


def test_bad_shapes_and_skipped_groups(roster) -> None:
    _, errors = clean_answers(roster, {"household_size": 0, "members": "x"})
    assert errors == [AnswerError("members", "not_instances", {})]
    _, errors = clean_answers(roster, {"household_size": 0, "members": [{"member_name": "a"}]})
    assert errors == [AnswerError("members", "not_relevant", {})]
    _, errors = clean_answers(
        roster, {"household_size": 1, "members": [{"member_name": "a", "member_age": 3, "x": 1}]}
    )
    assert errors == [AnswerError("x", "unknown_question", {}, "members", 1)]
    # a question of the group is no top-level answer
    _, errors = clean_answers(roster, {"household_size": 0, "member_age": 3})
    assert errors == [AnswerError("member_age", "unknown_question", {})]


def test_count_of_instances_outside_the_group(roster) -> None:
    three = {
        "household_size": 3,
        "members": [{"member_name": n, "member_age": 5} for n in "abc"],
        "crowded": "yes",
    }
    cleaned, errors = clean_answers(roster, three)
    assert errors == [] and cleaned["crowded"] == "yes"
    _, errors = clean_answers(roster, {**TWO, "crowded": "yes"})
    assert errors == [AnswerError("crowded", "not_relevant", {})]


def test_relevant_answers_keeps_the_instances(roster) -> None:
    assert roster.relevant_answers(TWO)["members"] == TWO["members"]
    assert "members" not in roster.relevant_answers({**TWO, "household_size": 0})


HEAD = """\
id: t
version: 1
title: {zh_CN: 标题}
languages: [zh_CN]
groups:
  - id: first
    title: {zh_CN: 一}
    questions:
      - {id: n, type: integer, label: {zh_CN: 人数}}
"""


def problems(tail: str) -> list[tuple[int, str, str]]:
    text = HEAD + tail
    return [(p.line, p.field, p.message) for p in validate_text(text, "t.yaml")]


def test_a_valid_repeat_has_no_problems() -> None:
    assert (
        problems("""\
  - id: people
    title: {zh_CN: 成员}
    repeat: {min: 1, max: 5}
    questions:
      - {id: age, type: integer, label: {zh_CN: 年龄}}
      - {id: old, type: yesno, relevant: "${age} > 60 and ${n} > 1", label: {zh_CN: 老人}}
  - id: last
    title: {zh_CN: 末}
    relevant: count(${people}) > 1
    questions:
      - {id: z, type: yesno, label: {zh_CN: 是否}}
""")
        == []
    )


def test_repeat_problems_name_line_and_field() -> None:
    found = problems("""\
  - id: people
    title: {zh_CN: 成员}
    repeat: {count: -1, min: 4, max: 2, every: 3}
    questions:
      - {id: age, type: integer, relevant: "count(${people}) > 0", label: {zh_CN: 年龄}}
  - id: last
    title: {zh_CN: 末}
    relevant: ${age} > 1
    questions:
      - {id: z, type: yesno, relevant: "${people} = 1", label: {zh_CN: 是否}}
      - {id: w, type: integer, relevant: "count(${n}) = 1", label: {zh_CN: 是否}}
""")
    assert found == [
        (12, "groups[1].repeat.every", "unknown key 'every'"),
        (12, "groups[1].repeat.count", "must be 0 or more"),
        (12, "groups[1].repeat.min", "min (4) is greater than max (2)"),
        (
            14,
            "groups[1].questions[0].relevant",
            "refers to repeat group 'people' (line 10), which is asked later: questions can "
            "only depend on questions asked before",
        ),
        (
            17,
            "groups[2].relevant",
            "refers to 'age', which is asked in repeat group 'people' (once per instance): "
            "outside it, use count(${people})",
        ),
        (
            19,
            "groups[2].questions[0].relevant",
            "'people' is a repeat group: count its instances with count(${people})",
        ),
        (20, "groups[2].questions[1].relevant", "count() needs a repeat group, not 'n'"),
    ]


def test_a_repeat_cannot_share_a_question_id_nor_feed_an_indicator() -> None:
    found = problems("""\
  - id: p
    title: {zh_CN: 人}
    repeat: true
    questions:
      - {id: z, type: yesno, label: {zh_CN: 是否}}
  - id: n2
    title: {zh_CN: 成员}
    repeat: true
    questions:
      - {id: n2, type: yesno, label: {zh_CN: 年龄}}
indicators:
  - {id: i, label: {zh_CN: 率}, question: n2, positive: ['yes']}
  - {id: j, label: {zh_CN: 率}, question: z, positive: ['yes'], base: "count(${p}) > 1"}
""")
    assert [(line, message.split(":")[0]) for line, _f, message in found] == [
        (15, "repeat group 'n2' has the id of a question (line 19)"),
        (21, "'n2' is asked in repeat group 'n2' (once per instance)"),
        (22, "'z' is asked in repeat group 'p' (once per instance)"),
        (22, "'p' is a repeat group"),
    ]


def test_yaml_export_keeps_the_repeats(roster) -> None:
    from surveyapp.questionnaire import load_questionnaire_text
    from surveyapp.questionnaire.export import export_yaml

    text = export_yaml(roster)
    assert "  repeat: {count: '${household_size}'}\n" in text
    assert "  repeat: {max: 3}\n" in text
    again = load_questionnaire_text(text)
    assert [(g.id, g.repeat) for g in again.groups] == [(g.id, g.repeat) for g in roster.groups]
    assert export_yaml(again) == text


def test_version_comparison_reports_a_repeat_change(roster) -> None:
    from surveyapp.questionnaire import load_questionnaire_text
    from surveyapp.questionnaire.diff import diff_questionnaires

    text = roster.source_text.replace("    repeat:\n      max: 3\n", "    repeat:\n      max: 5\n")
    assert text != roster.source_text
    changes = diff_questionnaires(roster, load_questionnaire_text(text))
    assert [(c.kind, c.where, c.detail) for c in changes] == [
        ("changed", "group visitors repeat", "{max: 3} → {max: 5}")
    ]


@pytest.mark.parametrize(
    ("expression", "answers", "expected"),
    [
        ("${n}", {"n": 3}, 3),
        ("${n}", {"n": "2"}, 2),
        ("${n}", {"n": " 2.9 "}, 2),
        ("${n}", {"n": -1}, 0),
        ("${n}", {}, 0),
        ("${n}", {"n": "1_000"}, 0),  # Python's float() would take it; the tablet does not
        ("${n}", {"n": "0x10"}, 0),
        ("${n} > 1", {"n": 5}, 0),  # a truth value is no number of instances
        ("${n} div 0", {"n": 5}, 0),
        ("4", {}, 4),
    ],
)
def test_the_count_is_read_as_the_tablet_reads_it(expression, answers, expected) -> None:
    from surveyapp.questionnaire.conditions import parse_condition
    from surveyapp.questionnaire.model import Repeat

    assert Repeat(parse_condition(expression)).expected(answers) == expected


def test_a_repeat_above_the_most_instances_is_refused_naming_the_line() -> None:
    """A repeat has at most MAX_INSTANCES (100) instances: a max, min or fixed count above
    it is refused where it is written."""
    found = problems("""\
  - id: people
    title: {zh_CN: 成员}
    repeat: {max: 101}
    questions:
      - {id: age, type: integer, label: {zh_CN: 年龄}}
  - id: pets
    title: {zh_CN: 宠物}
    repeat:
      count: 50000000000000000
    questions:
      - {id: pet, type: text, label: {zh_CN: 名}}
  - id: cars
    title: {zh_CN: 车}
    repeat: {min: 200, max: 100}
    questions:
      - {id: car, type: text, label: {zh_CN: 车}}
""")
    assert found == [
        (12, "groups[1].repeat.max", "must be at most 100 (a repeat's most instances)"),
        (18, "groups[2].repeat.count", "must be at most 100"),
        (23, "groups[3].repeat.min", "must be at most 100 (a repeat's most instances)"),
    ]
