"""pyxform's frequent refusals reach the operator in Chinese, with the sheet and the row, through
``surveyapp questionnaire validate`` (no web app); any other stays pyxform's English after
our Chinese lead-in; English with SURVEYAPP_LANGUAGE=en."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from surveyapp.cli import cli
from surveyapp.cli_text import cli_gettext
from surveyapp.questionnaire.xlsform import _pyxform_problem

HEADER = ["type", "name", "label::简体中文 (zh)", "relevant", "constraint"]
CHOICES = [["list_name", "name", "label::简体中文 (zh)"], ["yn", "1", "是"], ["yn", "2", "否"]]


def _workbook(path: Path, survey: list[list[str]], choices: list[list[str]] = CHOICES) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "survey"
    for row in [HEADER, *survey]:
        sheet.append(row)
    other = book.create_sheet("choices")
    for row in choices:
        other.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(buffer.getvalue())
    return path


BROKEN = {
    "unknown_type": (
        [["integer", "age", "年龄"], ["integr", "height", "身高"]],
        CHOICES,
        "3: survey 工作表第 3 行: pyxform 拒绝此行：未知的问题类型“integr”。",
    ),
    "missing_name": (
        [["text", "a", "甲"], ["select_one yn", "", "乙"]],
        CHOICES,
        "3: survey 工作表第 3 行: pyxform 拒绝此行：题目或分组没有名称（name 列为空）。",
    ),
    "duplicate_name": (
        [["integer", "age", "年龄"], ["integer", "age", "年龄2"]],
        CHOICES,
        "3: survey 工作表第 3 行: pyxform 拒绝此行：“survey”工作表中的名称“age”重复",
    ),
    "bad_name": (
        [["integer", "1age", "年龄"]],
        CHOICES,
        "2: survey 工作表第 2 行: pyxform 拒绝此行："
        "“survey”工作表中的名称无效：名称必须以字母或下划线开头",
    ),
    "missing_list": (
        [["select_one nowhere", "q", "问"]],
        CHOICES,
        "2: survey 工作表第 2 行: pyxform 拒绝此行：choices 工作表中没有选项列表 nowhere",
    ),
    "duplicate_choice": (
        [["select_one yn", "q", "问"]],
        [*CHOICES, ["yn", "1", "也是"]],
        "4: choices 工作表第 4 行: pyxform 拒绝此行：“choices”工作表中的选项名称重复",
    ),
    "unnamed_choice": (
        [["select_one yn", "q", "问"]],
        [CHOICES[0], ["yn", "", "是"]],
        "2: choices 工作表第 2 行: pyxform 拒绝此行："
        "“choices”工作表中的选项名称无效：每个选项都必须有名称。",
    ),
    "unclosed_group": (
        [["begin group", "g", "组"], ["integer", "age", "年龄"]],
        CHOICES,
        "2: survey 工作表第 2 行: pyxform 拒绝此行："
        "“begin_group”没有配对：找不到名称为“g”的对应“end_group”。",
    ),
    "unopened_group": (
        [["integer", "age", "年龄"], ["end group", "", ""]],
        CHOICES,
        "3: survey 工作表第 3 行: pyxform 拒绝此行：“end_group”没有配对",
    ),
    "unclosed_repeat": (
        [["begin repeat", "r", "重复"], ["integer", "age", "年龄"]],
        CHOICES,
        "2: survey 工作表第 2 行: pyxform 拒绝此行："
        "“begin_repeat”没有配对：找不到名称为“r”的对应“end_repeat”。",
    ),
    "no_label": (
        [["integer", "a", "甲"], ["integer", "age", ""]],
        CHOICES,
        "3: survey 工作表第 3 行: pyxform 拒绝此行："
        "名为“age”的题目既没有标签（label）也没有提示（hint）。",
    ),
    "bad_relevant": (
        [["integer", "age", "年龄"], ["integer", "b", "乙", "${age} >"]],
        CHOICES,
        "3: survey 工作表第 3 行（“b”）: relevant: 条件语法错误：条件过早结束",
    ),
    "bad_constraint": (
        [["integer", "age", "年龄", "", ". > 3 and"]],
        CHOICES,
        "2: survey 工作表第 2 行（“age”）: constraint: 条件语法错误：条件过早结束",
    ),
    "bad_reference": (
        [["integer", "age", "年龄", "${nope} > 1"]],
        CHOICES,
        "2: survey 工作表第 2 行: pyxform 拒绝此行：“survey”工作表中“relevant”的值无效",
    ),
}


@pytest.fixture
def chinese(monkeypatch):
    monkeypatch.delenv("SURVEYAPP_LANGUAGE", raising=False)


def test_every_family_in_chinese_with_sheet_and_row(tmp_path, chinese):
    files = {
        name: _workbook(tmp_path / f"{name}.xlsx", survey, choices)
        for name, (survey, choices, _expected) in BROKEN.items()
    }
    result = CliRunner().invoke(cli, ["questionnaire", "validate", *map(str, files.values())])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    for name, (_survey, _choices, expected) in BROKEN.items():
        found = [line for line in lines if line.startswith(f"{files[name]}:")]
        assert found, f"{name}: no problem printed in {result.stdout}"
        assert found[0].startswith(f"{files[name]}:{expected}"), (name, found)
        assert "pyxform refuses" not in found[0] and "Unmatched" not in found[0]


def test_in_english_when_asked(tmp_path):
    survey, choices, _expected = BROKEN["unopened_group"]
    file = _workbook(tmp_path / "f.xlsx", survey, choices)
    result = CliRunner().invoke(
        cli, ["questionnaire", "validate", str(file)], env={"SURVEYAPP_LANGUAGE": "en"}
    )
    assert result.exit_code == 1
    assert (
        f"{file}:3: survey sheet, row 3: pyxform refuses it: Unmatched 'end_group'. "
        "No matching 'begin_group' was found for the name 'unknown'." in result.stdout
    )


def test_an_unmapped_refusal_keeps_pyxform_s_text_after_the_chinese(chinese):
    problem = _pyxform_problem("f.xlsx", "[row : 7] On the 'survey' sheet, something new.")
    assert problem.line == 7
    shown = problem.as_text().translated(cli_gettext)
    assert shown == (
        "f.xlsx:7: survey 工作表第 7 行: pyxform 拒绝此行：On the 'survey' sheet, something new."
    )
    whole = _pyxform_problem("f.xlsx", "A new kind of refusal.")
    assert whole.as_text().translated(cli_gettext) == (
        "f.xlsx:1: pyxform 拒绝此表单：A new kind of refusal."
    )


def test_pyxform_s_warnings_in_chinese_with_sheet_and_row(chinese):
    from surveyapp.questionnaire.xlsform import _pyxform_warning

    data = Path(__file__).parent / "data" / "kobo_police_uyghur.xlsx"
    result = CliRunner().invoke(cli, ["questionnaire", "validate", str(data)])
    assert (
        f"警告：{data}: pyxform：以下语言声明没有有效的机器可读代码：中文 (zh-CN)。"
        in result.stderr
    )
    label = _pyxform_warning(
        "[row : 5] On the 'choices' sheet, the 'label' value is invalid. Choices should have "
        "a label. Learn more: https://xlsform.org/en/#setting-up-your-worksheets"
    )
    assert label.translated(cli_gettext) == (
        "choices 工作表第 5 行: pyxform：“choices”工作表中的标签无效：选项应有标签（label）。"
    )
    other = _pyxform_warning("Something pyxform says now.")
    assert other.translated(cli_gettext) == "pyxform：Something pyxform says now."
