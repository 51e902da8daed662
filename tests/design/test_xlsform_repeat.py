"""Repeat groups in XLSForm: ``begin repeat``/``end repeat`` with ``repeat_count`` read as a
real form writes them, refused by row where they cannot be represented (nested), and written
back so that pyxform builds the XForm repeat (pyxform is the reference) and the questionnaire
comes back byte for byte."""

from __future__ import annotations

import io

import openpyxl
import pytest
from pyxform import xls2xform

from surveyapp.questionnaire import QuestionnaireError, load_questionnaire, load_questionnaire_text
from surveyapp.questionnaire.export import export_yaml
from surveyapp.questionnaire.xlsform import to_xlsform, xlsform_to_yaml

from ..rosters import ROSTER


def _form(rows: list[list[str]]) -> bytes:
    workbook = openpyxl.Workbook()
    survey = workbook.active
    survey.title = "survey"
    survey.append(["type", "name", "label::中文 (zh)", "relevant", "repeat_count"])
    for row in rows:
        survey.append(row)
    settings = workbook.create_sheet("settings")
    settings.append(["form_id", "form_title"])
    settings.append(["hh", "住户"])
    data = io.BytesIO()
    workbook.save(data)
    return data.getvalue()


HOUSEHOLD = [
    ["integer", "hh_size", "几口人", "", ""],
    ["begin repeat", "person", "成员", "${hh_size} > 0", "${hh_size}"],
    ["text", "pname", "姓名", "", ""],
    ["integer", "page", "年龄", "", ""],
    ["select_one yn", "school", "上学吗", "${page} < 18", ""],
    ["end repeat", "", "", "", ""],
    ["begin repeat", "pets", "宠物", "", "2"],
    ["text", "pet", "名字", "", ""],
    ["end repeat", "", "", "", ""],
    ["note", "bye", "谢谢，共${hh_size}人", "count(${person}) > 0", ""],
]


def _with_choices(data: bytes) -> bytes:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    choices = workbook.create_sheet("choices")
    choices.append(["list_name", "name", "label::中文 (zh)"])
    choices.append(["yn", "y", "是"])
    choices.append(["yn", "n", "否"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_a_roster_as_odk_forms_write_it_is_imported():
    text, _warnings = xlsform_to_yaml(_with_choices(_form(HOUSEHOLD)), "hh.xlsx")
    q = load_questionnaire_text(text)
    person, pets = q.group("person"), q.group("pets")
    assert person.repeat is not None and person.repeat.count is not None
    assert person.repeat.count.source == "${hh_size}"
    assert person.relevant is not None and person.relevant.source == "${hh_size} > 0"
    assert [question.id for question in person.questions] == ["pname", "page", "school"]
    assert pets.repeat is not None and pets.repeat.count is not None
    assert pets.repeat.count.source == "2"
    assert "repeat: {count: 2}" in text
    assert q.questions["school"].repeat == "person"
    # inside an instance ${page} is that person's age
    people = [{"pname": "a", "page": 30, "school": "y"}, {"pname": "b", "page": 9, "school": "y"}]
    _answers, errors = _clean(q, people)
    assert [(e.where, e.kind) for e in errors] == [("person[1].school", "not_relevant")]


def _clean(q, people):
    from surveyapp.questionnaire import clean_answers

    return clean_answers(q, {"hh_size": len(people), "person": people, "pets": [{}, {}]})


@pytest.mark.parametrize(
    ("rows", "row", "fragment"),
    [
        (
            [
                ["begin repeat", "a", "甲", "", ""],
                ["begin repeat", "b", "乙", "", ""],
                ["text", "t", "文", "", ""],
                ["end repeat", "", "", "", ""],
                ["end repeat", "", "", "", ""],
            ],
            3,
            "repeat 'b' is inside repeat 'a'",
        ),
        (
            [
                ["begin repeat", "a", "甲", "", ""],
                ["begin group", "g", "组", "", ""],
                ["text", "t", "文", "", ""],
                ["end group", "", "", "", ""],
                ["end repeat", "", "", "", ""],
            ],
            3,
            "group 'g' is inside repeat 'a'",
        ),
    ],
)
def test_nested_repeats_are_refused_by_row(rows, row, fragment):
    with pytest.raises(QuestionnaireError) as caught:
        xlsform_to_yaml(_form(rows), "nested.xlsx")
    problems = [(p.line, p.message) for p in caught.value.problems]
    assert any(line == row and fragment in message for line, message in problems), problems


def test_exported_back_pyxform_builds_the_repeat_and_the_yaml_comes_back_byte_for_byte():
    roster = load_questionnaire(ROSTER)
    exported = to_xlsform(roster)
    warnings: list[str] = []
    converted = xls2xform.convert(
        xlsform=exported, warnings=warnings, validate=False, file_type=".xlsx"
    )
    # pyxform's own reading of the exported form: two repeats, one with its count
    children = {child["name"]: child for child in converted._pyxform["children"]}
    assert children["members"]["type"] == "repeat"
    assert children["members"]["control"] == {"jr:count": "${household_size}"}
    assert children["visitors"]["type"] == "repeat"
    assert [c["name"] for c in children["members"]["children"]] == [
        "member_name",
        "member_age",
        "member_works",
        "member_job",
    ]
    xform = converted.xform
    assert '<repeat nodeset="/data/members" jr:count=" /data/household/household_size ">' in xform
    assert '<repeat nodeset="/data/visitors">' in xform
    # ODK's relative reference inside the repeat
    assert 'relevant=" ../member_age  &gt;= 16"' in xform
    text, _warnings = xlsform_to_yaml(exported, "roster.xlsx")
    assert text == export_yaml(roster)
    assert load_questionnaire_text(text).groups == roster.groups
