"""Real-world-like XLSForms (tests/fixtures/xlsforms, made by make_xlsforms.py): ``.xls``
workbooks, languages named without codes, drafts in any language, refusals by sheet and row."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import QuestionnaireVersion
from surveyapp.questionnaire.xlsform import language_code, xlsform_to_yaml

FORMS = Path(__file__).resolve().parents[1] / "fixtures" / "xlsforms"


def versions(app) -> list[tuple[str, int, str]]:
    with app.app_context():
        return [
            (v.slug, v.version, v.status)
            for v in db.session.scalars(
                select(QuestionnaireVersion).order_by(QuestionnaireVersion.id)
            )
        ]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("French", "fr"),
        ("Kiswahili", "sw"),
        ("Swahili", "sw"),
        ("العربية", "ar"),
        ("Deutsch", "de"),
        ("English", "en"),
        ("中文", "zh_CN"),
        ("Chinese", "zh_CN"),
        ("Français (fr)", "fr"),
    ],
)
def test_language_columns_without_a_code_are_mapped_by_name(name, code):
    assert language_code(name) == code


def test_an_xls_form_is_imported_through_pyxform_and_exported_back(app, runner, tmp_path):
    # Before: an .xls file was read as YAML text and the command ended in UnicodeDecodeError.
    result = runner.invoke(args=["questionnaire", "import", str(FORMS / "safety_zh_en.xls")])
    assert result.exit_code == 0, result.output
    assert "safety-xls 第 1 版已保存" in result.output and "Traceback" not in result.output
    out = tmp_path / "back.xlsx"
    assert (
        runner.invoke(args=["questionnaire", "export", "safety-xls", "-o", str(out)]).exit_code == 0
    )
    from pyxform import xls2xform

    xls2xform.convert(xlsform=out.read_bytes(), validate=False, file_type=".xlsx")
    text, _warnings = xlsform_to_yaml(out.read_bytes(), str(out))
    with app.app_context():
        stored = db.session.scalar(select(QuestionnaireVersion)).schema
    from surveyapp.questionnaire import load_questionnaire_text
    from surveyapp.questionnaire.diff import diff_questionnaires

    assert diff_questionnaires(stored, load_questionnaire_text(text)) == []
    assert stored.questions["age"].type == "integer"


def test_a_form_without_chinese_is_refused_for_publishing_and_imported_as_a_draft(app, runner):
    form = str(FORMS / "water_points_en_fr.xls")
    refused = runner.invoke(args=["questionnaire", "import", form])
    assert refused.exit_code == 1
    # in the operator's language, Chinese by default
    assert "表单没有中文标签" in refused.output and "--draft" in refused.output
    assert "Traceback" not in refused.output and versions(app) == []
    result = runner.invoke(args=["questionnaire", "import", form, "--draft"])
    assert result.exit_code == 0, result.output
    assert "water-points 第 3 版已保存为草稿" in result.output
    assert "警告：发布前需修正：" in result.stderr and "zh_CN" in result.stderr
    assert versions(app) == [("water-points", 3, "draft")]
    with app.app_context():
        from surveyapp.services.design import DesignError, document, publish

        draft = db.session.scalar(select(QuestionnaireVersion))
        doc = document(draft)
        codes = [lang if isinstance(lang, str) else lang["code"] for lang in doc["languages"]]
        assert codes == ["zh_CN", "en", "fr"]
        kind = doc["groups"][0]["questions"][0]
        assert kind["label"] == {"en": "Kind of water point", "fr": "Type de point d'eau"}
        notes = [q for g in doc["groups"] for q in g["questions"] if q["type"] == "note"]
        assert [note["id"] for note in notes] == ["thanks"]  # a note is a question type
        # Publishing asks for the Chinese texts.
        with pytest.raises(DesignError, match="zh_CN"):
            publish(draft)


def test_languages_named_in_their_own_script_go_into_a_draft(app, runner):
    result = runner.invoke(
        args=["questionnaire", "import", str(FORMS / "household_sw_ar.xlsx"), "--draft"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        from surveyapp.services.design import document

        doc = document(db.session.scalar(select(QuestionnaireVersion)))
    assert doc["languages"][1:] == [
        {"code": "sw", "name": "Kiswahili"},
        {"code": "ar", "name": "العربية"},
    ]
    needs = doc["groups"][0]["questions"][1]
    assert needs["type"] == "multiple" and needs["label"]["ar"] == "الاحتياجات"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("unknown_language.xlsx", "survey 工作表中 ::Elvish 的各列: “Elvish”不是已知的语言名称"),
        (
            "missing_list.xls",
            "missing_list.xls:4: survey 工作表第 4 行: pyxform 拒绝此行：choices 工作表中没有"
            "选项列表 nowhere",
        ),
    ],
)
@pytest.mark.parametrize("draft", [False, True])
def test_refusals_name_sheet_row_and_reason(app, runner, name, expected, draft):
    args = ["questionnaire", "import", str(FORMS / name)] + (["--draft"] if draft else [])
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert expected in result.output and "Traceback" not in result.output
    assert "未导入任何数据。" in result.output and versions(app) == []


def test_a_workbook_named_yaml_is_refused_with_a_message(app, runner, tmp_path):
    fake = tmp_path / "form.yaml"
    fake.write_bytes((FORMS / "safety_zh_en.xls").read_bytes())
    for extra in ([], ["--draft"]):
        result = runner.invoke(args=["questionnaire", "import", str(fake), *extra])
        assert result.exit_code == 1
        assert "UTF-8" in result.output and "Traceback" not in result.output


def test_a_yaml_draft_is_imported_with_what_publishing_needs(app, runner, tmp_path):
    text = (
        Path(__file__).resolve().parents[1] / "questionnaire" / "data" / "minimal.yaml"
    ).read_text()
    broken = tmp_path / "draft.yaml"
    broken.write_text(text.replace("en:", "fr:", 1), encoding="utf-8")
    result = runner.invoke(args=["questionnaire", "import", str(broken), "--draft"])
    assert result.exit_code == 0, result.output
    assert "已保存为草稿" in result.output


def test_the_designer_imports_an_xls_form_into_a_draft(demo, client, auth):
    auth.login("manager", "manager-demo-2026")
    with open(FORMS / "water_points_en_fr.xls", "rb") as handle:
        response = client.post(
            "/design/import",
            data={"file": (handle, "water_points_en_fr.xls")},
            content_type="multipart/form-data",
        )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert ("water-points", 3, "draft") in versions(demo)
