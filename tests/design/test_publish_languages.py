"""The languages publishing requires come from configuration (SURVEYAPP_PUBLISH_LANGUAGES,
zh_CN by default); drafts take any languages."""

from __future__ import annotations

import io

import openpyxl
import pytest

from surveyapp.config import publish_languages_setting
from surveyapp.services import design


def _form(columns: list[str]) -> bytes:
    workbook = openpyxl.Workbook()
    survey = workbook.active
    survey.title = "survey"
    survey.append(["type", "name", *(f"label::{c}" for c in columns)])
    survey.append(["text", "where", *("住址" if "zh" in c else "Address" for c in columns)])
    settings = workbook.create_sheet("settings")
    settings.append(["form_id", "form_title"])
    settings.append(["langs", "Langs"])
    data = io.BytesIO()
    workbook.save(data)
    return data.getvalue()


def test_setting(monkeypatch):
    monkeypatch.delenv("SURVEYAPP_PUBLISH_LANGUAGES", raising=False)
    assert publish_languages_setting() == ("zh_CN",)
    monkeypatch.setenv("SURVEYAPP_PUBLISH_LANGUAGES", "zh_CN, en ug")
    assert publish_languages_setting() == ("zh_CN", "en", "ug")
    monkeypatch.setenv("SURVEYAPP_PUBLISH_LANGUAGES", "zh_CN,English")
    with pytest.raises(ValueError, match="'English' is not one"):
        publish_languages_setting()


def test_chinese_alone_publishes_by_default(app, runner, tmp_path):
    form = tmp_path / "zh.xlsx"
    form.write_bytes(_form(["中文 (zh_CN)"]))
    result = runner.invoke(args=["questionnaire", "import", str(form)])
    assert result.exit_code == 0, result.output
    assert "langs 第 1 版已保存" in result.output


def test_configured_languages_are_required_to_publish(app, runner, tmp_path):
    app.config["PUBLISH_LANGUAGES"] = ("zh_CN", "en")
    form = tmp_path / "zh.xlsx"
    form.write_bytes(_form(["中文 (zh_CN)"]))
    result = runner.invoke(args=["questionnaire", "import", str(form)])
    assert result.exit_code == 1
    assert (
        "languages: 表单没有英语（en）标签：发布需要 zh_CN, en（SURVEYAPP_PUBLISH_LANGUAGES）"
    ) in result.output
    assert "未导入任何数据。" in result.output
    # As a draft it is stored, and the designer and publishing ask for English.
    result = runner.invoke(args=["questionnaire", "import", str(form), "--draft"])
    assert result.exit_code == 0, result.output
    # in the operator's language (the default: Chinese)
    assert "英语（en）必须是问卷语言之一：发布要求包含 zh_CN, en" in result.output
    with app.app_context():
        draft = design.draft_of("langs")
        problems = [p.message for p in design.draft_problems(draft)]
        assert any("English (en) must be one of the languages" in m for m in problems)
        with pytest.raises(design.DesignError, match="English"):
            design.publish(draft)
    form.write_bytes(_form(["中文 (zh_CN)", "English (en)"]))
    result = runner.invoke(args=["questionnaire", "validate", str(form)])
    assert result.exit_code == 0, result.output
