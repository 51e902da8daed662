"""`surveyapp questionnaire export` and XLSForm `questionnaire import`."""

from __future__ import annotations

from pathlib import Path

from surveyapp.questionnaire import load_questionnaire, load_questionnaire_text
from surveyapp.questionnaire.diff import diff_questionnaires
from surveyapp.questionnaire.xlsform import xlsform_to_yaml

ROOT = Path(__file__).resolve().parents[2]
STANDARD = ROOT / "questionnaires" / "public-security-satisfaction.yaml"
DATA = Path(__file__).resolve().parent / "data"


def test_yaml_round_trip_is_byte_for_byte(runner, tmp_path):
    result = runner.invoke(args=["questionnaire", "import", str(STANDARD)])
    assert result.exit_code == 0, result.output
    assert "public-security-satisfaction 第 1 版已保存（编号 1）。" in result.output
    out = tmp_path / "out.yaml"
    for reference in ("1", "public-security-satisfaction", "public-security-satisfaction@1"):
        result = runner.invoke(args=["questionnaire", "export", reference, "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert out.read_bytes() == STANDARD.read_bytes()
    # Importing the exported file again changes nothing.
    result = runner.invoke(args=["questionnaire", "import", str(out)])
    assert "public-security-satisfaction 第 1 版已经保存过（编号 1）。" in result.output


def test_export_xlsx_and_import_it_back(runner, tmp_path):
    runner.invoke(args=["questionnaire", "import", str(STANDARD)])
    out = tmp_path / "standard.xlsx"
    result = runner.invoke(args=["questionnaire", "export", "1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text, warnings = xlsform_to_yaml(out.read_bytes(), str(out))
    assert warnings == []
    assert diff_questionnaires(load_questionnaire(STANDARD), load_questionnaire_text(text)) == []


def test_import_xlsform(runner):
    result = runner.invoke(
        args=["questionnaire", "import", str(DATA / "odk_community_safety.xlsx")]
    )
    assert result.exit_code == 0, result.output
    assert "community-safety 第 3 版已保存（编号 1）。" in result.output
    assert "“start”元数据作为访问的过程数据保存" in result.output
    result = runner.invoke(args=["questionnaire", "import", str(DATA / "unsupported.xlsx")])
    assert result.exit_code == 1
    # in the operator's language, Chinese by default
    assert "unsupported.xlsx:4: jobs: 重复组“jobs”位于重复组“members”之内" in result.output
    assert "未导入任何数据。" in result.output


def test_export_errors_are_clear(runner, tmp_path):
    result = runner.invoke(args=["questionnaire", "export", "7", "-o", str(tmp_path / "x.yaml")])
    assert result.exit_code == 1
    assert "没有编号为 7 的问卷版本" in result.output
    runner.invoke(args=["questionnaire", "import", str(STANDARD)])
    result = runner.invoke(args=["questionnaire", "export", "1", "-o", str(tmp_path / "x.txt")])
    assert result.exit_code == 1
    assert "文件名必须以 .yaml、.yml 或 .xlsx 结尾" in result.output
    result = runner.invoke(
        args=["questionnaire", "export", "nope@x", "-o", str(tmp_path / "x.yaml")]
    )
    assert "请写成 名称@N，N 为版本号" in result.output


def test_validate_xlsform(runner):
    result = runner.invoke(
        args=["questionnaire", "validate", str(DATA / "kobo_police_uyghur.xlsx")]
    )
    assert result.exit_code == 0, result.output
    assert "kobo_police_uyghur.xlsx：没有问题" in result.output
    assert "警告：" in result.output and "“today”元数据作为访问的过程数据保存" in result.output
    result = runner.invoke(args=["questionnaire", "validate", str(DATA / "english_only.xlsx")])
    assert result.exit_code == 1
    assert "english_only.xlsx:1: languages: 表单没有中文标签" in result.output
