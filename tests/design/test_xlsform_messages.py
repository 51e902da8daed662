"""An XLSForm refused by row reaches a Chinese manager in Chinese, naming the sheet and the row
(questionnaire/xlsform.py words its refusals as Text, translated where they are shown)."""

from __future__ import annotations

import html
import io
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import QuestionnaireVersion
from surveyapp.questionnaire import QuestionnaireError
from surveyapp.questionnaire.xlsform import xlsform_to_draft_yaml

MINIMAL = Path(__file__).resolve().parents[1] / "questionnaire" / "data" / "minimal.yaml"


def _workbook(*rows: list[str]) -> bytes:
    book = openpyxl.Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(["type", "name", "label::简体中文 (zh)", "relevant"])
    survey.append(["begin group", "main", "主要问题", ""])
    for row in rows:
        survey.append(row)
    survey.append(["end group", "", "", ""])
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", "label::简体中文 (zh)"])
    choices.append(["yes_no", "1", "是"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


#: (the form's rows, the English problem as today, the Chinese a manager reads)
FAULTS = [
    (
        [["integer", "age", "年龄", ""], ["rating", "stars", "星级", ""]],
        "form.xlsx:4: survey sheet, row 4: pyxform refuses it: Unknown question type 'rating'.",
        "form.xlsx:4: survey 工作表第 4 行: pyxform 拒绝此行：未知的问题类型“rating”。",
    ),
    (
        [["select_one colours", "colour", "颜色", ""]],
        "form.xlsx:3: survey sheet, row 3: pyxform refuses it: List name not in choices sheet: "
        "colours",
        "form.xlsx:3: survey 工作表第 3 行: pyxform 拒绝此行：choices 工作表中没有选项列表 colours",
    ),
    (
        [["integer", "age", "年龄", ""], ["text", "why", "为什么", "${agee} > 3"]],
        "form.xlsx:4: survey sheet, row 4: pyxform refuses it: On the 'survey' sheet, the "
        "'relevant' value is invalid. Reference variables must contain a name from the 'survey' "
        "sheet. Could not find the name 'agee'.",
        "form.xlsx:4: survey 工作表第 4 行: pyxform 拒绝此行：“survey”工作表中“relevant”的值无效："
        "引用的变量必须是“survey”工作表中的名称，找不到名称“agee”。",
    ),
    (
        [["geotrace", "route", "路线", ""]],
        "form.xlsx:3: route: question type 'geotrace' cannot be represented (supported: "
        "calculate, date, dateTime, decimal, geopoint, integer, note, select_multiple, "
        "select_one, text, time)",
        "form.xlsx:3: route: 无法表示问题类型“geotrace”（支持的类型：calculate, date, dateTime, "
        "decimal, geopoint, integer, note, select_multiple, select_one, text, time）",
    ),
]

ENGLISH = ["refuses", "sheet, row", "Unknown", "List name", "invalid", "cannot be", "supported"]


@pytest.mark.parametrize(("rows", "english", "chinese"), FAULTS)
def test_the_problem_stays_english_outside_the_app(rows, english, chinese):
    with pytest.raises(QuestionnaireError) as error:
        xlsform_to_draft_yaml(_workbook(*rows), source="form.xlsx")
    assert [str(problem) for problem in error.value.problems] == [english]


@pytest.mark.parametrize(("rows", "english", "chinese"), FAULTS)
def test_designer_import_shows_the_problem_in_chinese(
    demo, ctx, client, auth, rows, english, chinese
):
    assert auth.login("manager", "manager-demo-2026").status_code in (200, 302)
    before = db.session.scalar(select(func.count()).select_from(QuestionnaireVersion))
    response = client.post(
        "/design/import",
        data={"file": (io.BytesIO(_workbook(*rows)), "form.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert chinese in page, page
    for word in ENGLISH:
        assert word not in page, word
    assert db.session.scalar(select(func.count()).select_from(QuestionnaireVersion)) == before


#: (a condition that does not parse, the English detail as today, the Chinese detail)
BAD_CONDITIONS = [
    ("${safety} = 3 )", "unexpected ')'", "意外的 ')'"),
    ("${safety} =", "the condition ends too early", "条件过早结束"),
    ("${safety} = 1 = 2", "comparisons cannot be chained", "比较不能连写"),
    ("${safety} / 2", "operator '/' is not supported: divide with 'div'", "不支持运算符“/”"),
    ("foo(${safety})", "unknown function 'foo()'", "未知函数“foo()”"),
    ("count(${safety}", "expected ')' but found the end of the condition", "却是 条件的结尾"),
    ("regex(${safety}, 'a{3')", "regex(): '{' is never closed", "regex()：“{”没有结束（模式的第"),
    ("regex(${safety}, '(a+)+')", "a repeated group cannot", "重复的分组不能包含另一个重复"),
]


@pytest.mark.parametrize(("condition", "english", "chinese"), BAD_CONDITIONS)
def test_condition_syntax_errors_are_shown_in_chinese(app, condition, english, chinese):
    """conditions.py words its syntax errors as Text: the loader's problem quotes them, English
    as str(), Chinese where the problem is shown (the designer's lists)."""
    from surveyapp.questionnaire import validate_text

    text = MINIMAL.read_text(encoding="utf-8").replace(
        "relevant: ${safety} = 3", f'relevant: "{condition}"'
    )
    problems = validate_text(text, source="bad.yaml")
    assert len(problems) == 1 and english in str(problems[0]), problems
    with app.test_request_context():
        shown = problems[0].as_text().translated()
    assert chinese in shown and "条件语法错误" in shown, shown
    assert english not in shown and "condition syntax error" not in shown, shown
