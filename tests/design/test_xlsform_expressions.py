"""XLSForm ``required`` with an expression, and the new condition functions, through import,
the answer check, the tablet's JSON and export (pyxform as the reference for validity)."""

from __future__ import annotations

import io

import openpyxl
import pytest
from pyxform import xls2xform

from surveyapp.fieldwork.offline import _question as tablet_question
from surveyapp.questionnaire import QuestionnaireError, clean_answers, load_questionnaire_text
from surveyapp.questionnaire.export import export_yaml
from surveyapp.questionnaire.xlsform import to_xlsform, xlsform_to_yaml

HEADER = ["type", "name", "label::中文 (zh_CN)", "label::English (en)", "required", "constraint"]


def _form(rows: list[list[str]]) -> bytes:
    workbook = openpyxl.Workbook()
    survey = workbook.active
    survey.title = "survey"
    survey.append(HEADER)
    for row in rows:
        survey.append(row)
    settings = workbook.create_sheet("settings")
    settings.append(["form_id", "form_title"])
    settings.append(["expr", "Expressions"])
    data = io.BytesIO()
    workbook.save(data)
    return data.getvalue()


ROWS = [
    ["integer", "age", "年龄", "Age", "yes", ""],
    ["text", "job", "职业", "Job", "${age} > 18", ""],
    ["text", "phone", "电话", "Phone", "no", "regex(., '^1[3-9][0-9]{9}$')"],
    ["integer", "children", "子女数", "Children", "no", ". <= if(${age} < 16, 0, 20)"],
]


def _questionnaire():
    text, _warnings = xlsform_to_yaml(_form(ROWS), "expr.xlsx")
    return load_questionnaire_text(text)


def _question(questionnaire, qid):
    return next(q for g in questionnaire.groups for q in g.questions if q.id == qid)


def test_required_expression_is_evaluated_on_the_server():
    questionnaire = _questionnaire()
    job = _question(questionnaire, "job")
    assert job.required_if is not None and job.required_if.source == "${age} > 18"
    _answers, errors = clean_answers(questionnaire, {"age": "30"})
    assert [(e.question, e.kind) for e in errors] == [("job", "required")]
    _answers, errors = clean_answers(questionnaire, {"age": "18"})
    assert errors == []  # 18 is not over 18: the job may be left out
    answers, errors = clean_answers(questionnaire, {"age": "30", "job": "教师"})
    assert errors == [] and answers == {"age": 30, "job": "教师"}


def test_new_functions_in_constraints():
    questionnaire = _questionnaire()
    _a, errors = clean_answers(questionnaire, {"age": "30", "job": "x", "phone": "1391234567"})
    assert [(e.question, e.kind) for e in errors] == [("phone", "constraint")]
    _a, errors = clean_answers(questionnaire, {"age": "30", "job": "x", "phone": "13912345678"})
    assert errors == []
    _a, errors = clean_answers(questionnaire, {"age": "12", "children": "1"})
    assert [(e.question, e.kind) for e in errors] == [("children", "constraint")]
    _a, errors = clean_answers(questionnaire, {"age": "40", "job": "x", "children": "3"})
    assert errors == []


def test_the_tablet_gets_the_required_condition_as_a_tree():
    questionnaire = _questionnaire()
    questions = {qid: tablet_question(_question(questionnaire, qid)) for qid in ("age", "job")}
    assert questions["job"]["required_if"]["tree"] == [">", ["ref", "age"], ["num", 18.0]]
    assert questions["age"]["required_if"] is None


def test_export_keeps_the_expression_and_pyxform_accepts_it():
    questionnaire = _questionnaire()
    assert "required: ${age} > 18" in export_yaml(questionnaire)
    exported = to_xlsform(questionnaire)
    rows = {
        row[1]: row
        for row in openpyxl.load_workbook(io.BytesIO(exported))["survey"].iter_rows(
            min_row=2, values_only=True
        )
    }
    header = [c.value for c in openpyxl.load_workbook(io.BytesIO(exported))["survey"][1]]
    assert rows["job"][header.index("required")] == "${age} > 18"
    warnings: list[str] = []
    xml = xls2xform.convert(
        xlsform=exported, warnings=warnings, validate=False, file_type=".xlsx"
    ).xform
    assert warnings == []
    assert (
        'nodeset="/data/questions/job" type="string" required=" /data/questions/age  &gt; 18"'
        in xml
    )
    assert 'constraint=". &lt;= if( /data/questions/age  &lt; 16, 0, 20)"' in xml
    back = load_questionnaire_text(xlsform_to_yaml(exported, "back.xlsx")[0])
    assert _question(back, "job").required_if.source == "${age} > 18"


@pytest.mark.parametrize(
    ("required", "fragment"),
    [
        ("${age} >", "required: condition syntax error: the condition ends too early"),
        ("${later} = 1", "refers to 'later'"),
        (". > ${age}", "'.' (this question's answer) can only be used in a constraint"),
        ("regex(${age}, '(a+)+')", "cannot contain another repetition"),
    ],
)
def test_bad_required_expressions_are_refused_by_row(required, fragment):
    rows = [
        ROWS[0],
        ["text", "bad", "坏", "Bad", required, ""],
        ["text", "later", "后", "L", "", ""],
    ]
    with pytest.raises(QuestionnaireError) as caught:
        xlsform_to_yaml(_form(rows), "bad.xlsx")
    problems = [str(p) for p in caught.value.problems]
    assert any("survey row 3 ('bad')" in p and fragment in p for p in problems), problems


def test_choice_codes_with_unicode_spaces_and_slashes_round_trip():
    workbook = openpyxl.Workbook()
    survey = workbook.active
    survey.title = "survey"
    survey.append(["type", "name", "label::中文 (zh_CN)", "label::English (en)", "relevant"])
    survey.append(["select_one place", "place", "地点", "Place", ""])
    survey.append(["select_multiple m", "m", "多选", "M", ""])
    survey.append(
        ["text", "why", "为何", "Why", "${place} = '城关/东区' or selected(${m}, 'Émile')"]
    )
    choices = workbook.create_sheet("choices")
    choices.append(["list_name", "name", "label::中文 (zh_CN)", "label::English (en)"])
    for code in ("城关/东区", "no answer", "a/b"):
        choices.append(["place", code, code, code])
    for code in ("Émile", "x/y"):
        choices.append(["m", code, code, code])
    settings = workbook.create_sheet("settings")
    settings.append(["form_id", "form_title"])
    settings.append(["codes", "Codes"])
    data = io.BytesIO()
    workbook.save(data)
    questionnaire = load_questionnaire_text(xlsform_to_yaml(data.getvalue(), "codes.xlsx")[0])
    assert _question(questionnaire, "place").codes == ("城关/东区", "no answer", "a/b")
    answers, errors = clean_answers(
        questionnaire, {"place": "城关/东区", "m": ["x/y", "Émile"], "why": "近"}
    )
    assert errors == [] and answers == {"place": "城关/东区", "m": ["Émile", "x/y"], "why": "近"}
    _answers, errors = clean_answers(questionnaire, {"place": "no answer", "why": "x"})
    assert [(e.question, e.kind) for e in errors] == [("why", "not_relevant")]
    exported = to_xlsform(questionnaire)
    warnings: list[str] = []
    xml = xls2xform.convert(
        xlsform=exported, warnings=warnings, validate=False, file_type=".xlsx"
    ).xform
    assert "<value>城关/东区</value>" in xml and "<value>no answer</value>" in xml
    back = load_questionnaire_text(xlsform_to_yaml(exported, "back.xlsx")[0])
    assert _question(back, "m").codes == ("Émile", "x/y")
