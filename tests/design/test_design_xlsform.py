"""XLSForm import (through pyxform) and export (openpyxl), round trips both ways."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from pyxform import xls2xform

from surveyapp.questionnaire import QuestionnaireError, load_questionnaire, load_questionnaire_text
from surveyapp.questionnaire.diff import diff_questionnaires
from surveyapp.questionnaire.export import to_document
from surveyapp.questionnaire.xlsform import (
    language_code,
    to_xlsform,
    xlsform_to_document,
    xlsform_to_yaml,
)

DATA = Path(__file__).resolve().parent / "data"
ROOT = Path(__file__).resolve().parents[2]
STANDARD = ROOT / "questionnaires" / "public-security-satisfaction.yaml"
MINIMAL = ROOT / "tests" / "questionnaire" / "data" / "minimal.yaml"


def _import(name: str):
    text, warnings = xlsform_to_yaml((DATA / name).read_bytes(), name)
    return load_questionnaire_text(text), warnings


def test_odk_form_is_converted_as_written():
    q, warnings = _import("odk_community_safety.xlsx")
    assert (q.id, q.version) == ("community-safety", 3)
    assert [lang.code for lang in q.languages] == ["zh_CN", "en"]
    assert [g.id for g in q.groups] == ["screening", "safety", "questions"]
    resident = q.questions["resident"]
    # select_one from a yes/no list is a yes/no question; "required: yes" is kept.
    assert resident.type == "yesno" and resident.required
    assert dict(resident.hint) == {
        "zh_CN": "包括外来人员。",
        "en": "Include people from elsewhere.",
    }
    age = q.questions["age"]
    assert age.relevant.source == "${resident} = 'yes'"
    # A constraint with its own message stays a constraint (the message is what users see).
    assert age.constraint.source == ". >= 16 and . <= 99"
    assert age.constraint_message["en"] == "Age must be between 16 and 99."
    assert q.group("safety").relevant.source == "${resident} = 'yes' and ${age} >= 16"
    reasons = q.questions["reasons"]
    assert reasons.type == "multiple" and reasons.codes == ("theft", "fraud", "lighting", "other")
    assert reasons.constraint.source == "count-selected(.) <= 3"
    assert q.questions["safe_night"].codes == ("1", "2", "3", "4", "5", "9")
    assert q.questions["safe_night"].choice("9").label["en"] == "Don't know"
    # Not required in XLSForm unless it says so.
    assert not q.questions["comment"].required and q.questions["comment"].type == "text"
    assert q.questions["last_incident"].type == "date"
    # What was left out is named with its row.
    joined = "\n".join(warnings)
    for expected in (
        "survey row 2 ('start'): 'start' metadata is kept as the interview's paradata",
        "form_title '社区安全调查' is used as the title in en too",
    ):
        assert expected in joined
    # a calculation is a question type, evaluated by the server's expression engine
    age_band = q.questions["age_band"]
    assert age_band.type == "calculate"
    assert age_band.calculation.value({"age": 30}) == "young"
    assert age_band.calculation.value({"age": 40}) == "older"
    assert q.questions["intro"].type == "note"
    # Skip logic works on the imported questionnaire.
    # Skip logic works on the imported questionnaire: a non-resident skips the safety group.
    assert q.relevant_questions({"resident": "no"}) == ["resident", "age_band", "comment"]


def test_kobo_form_with_uyghur_is_right_to_left():
    q, warnings = _import("kobo_police_uyghur.xlsx")
    assert (q.id, q.version) == ("police-satisfaction-ug", 2026031501)
    assert [(lang.code, lang.rtl) for lang in q.languages] == [
        ("zh_CN", False),
        ("en", False),
        ("ug", True),
    ]
    why = q.questions["why"]
    assert why.relevant.source == "${police_sat} = '4' or ${police_sat} = '5'"
    assert why.label["ug"] == "نېمىشقا رازى ئەمەس؟"
    # Curly quotes are kept as written (pyxform would straighten them).
    assert why.constraint_message["zh_CN"] == "“没有”不能和其他选项同选。"
    contacts = q.questions["contacts"]
    assert not contacts.required and contacts.constraint.source == ". >= 0 and . <= 50"
    assert "appearance 'minimal' is left out" in "\n".join(warnings)
    assert "'today' metadata is kept as the interview's paradata" in "\n".join(warnings)


def test_unrepresentable_forms_are_refused_with_every_reason():
    with pytest.raises(QuestionnaireError) as error:
        xlsform_to_yaml((DATA / "unsupported.xlsx").read_bytes(), "unsupported.xlsx")
    assert [str(p) for p in error.value.problems] == [
        "unsupported.xlsx:4: jobs: repeat 'jobs' is inside repeat 'members': repeats cannot "
        "hold groups or repeats (put its questions in the repeat itself)",
    ]  # its geopoint and decimal are question types now, a repeat is a repeat group
    with pytest.raises(QuestionnaireError, match="the form has no Chinese labels"):
        xlsform_to_yaml((DATA / "english_only.xlsx").read_bytes(), "english_only.xlsx")


def test_questionnaire_problems_point_at_survey_rows():
    workbook = openpyxl.load_workbook(DATA / "odk_community_safety.xlsx")
    sheet = workbook["survey"]
    # relevant of last_incident uses a calculation that is left out (pulldata is not ours)
    sheet["H16"] = "${age_band} = 'young'"
    column = [cell.value for cell in sheet[1]].index("calculation") + 1
    sheet.cell(row=8, column=column, value="pulldata('bands', 'band', 'age', ${age})")
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(QuestionnaireError) as error:
        xlsform_to_yaml(buffer.getvalue(), "edited.xlsx")
    assert [str(p) for p in error.value.problems] == [
        "edited.xlsx:16: survey row 16 ('last_incident'): relevant: unknown question 'age_band'"
    ]


def test_broken_workbook_is_a_problem_not_a_crash():
    result = xlsform_to_document(b"not a workbook", "junk.xlsx")
    assert result.document is None
    assert str(result.problems[0]) == "junk.xlsx:1: not an .xlsx workbook (BadZipFile)"


@pytest.mark.parametrize("name", ["odk_community_safety.xlsx", "kobo_police_uyghur.xlsx"])
def test_xlsform_round_trip(name):
    first, _ = _import(name)
    exported = to_xlsform(first)
    second = load_questionnaire_text(xlsform_to_yaml(exported, name)[0])
    assert diff_questionnaires(first, second) == []
    assert to_document(first) == to_document(second)


@pytest.mark.parametrize("path", [STANDARD, MINIMAL])
def test_our_questionnaires_survive_xlsform(path):
    original = load_questionnaire(path)
    exported = to_xlsform(original)
    back = load_questionnaire_text(xlsform_to_yaml(exported, "export.xlsx")[0])
    assert diff_questionnaires(original, back) == []
    assert to_document(original) == to_document(back)


def test_export_is_a_valid_xlsform_for_odk():
    original = load_questionnaire(STANDARD)
    warnings: list[str] = []
    result = xls2xform.convert(
        xlsform=to_xlsform(original), warnings=warnings, validate=False, file_type=".xlsx"
    )
    xml = result.xform
    assert warnings == []
    # pyxform turns our conditions into XPath binds, as ODK Collect evaluates them.
    assert (
        '<bind nodeset="/data/law_enforcement/dissatisfaction_reasons" type="string" '
        'required="true()" relevant=" /data/law_enforcement/law_enforcement_satisfaction  = 4 '
        'or  /data/law_enforcement/law_enforcement_satisfaction  = 5"/>'
    ) in xml
    assert (
        '<bind nodeset="/data/security" relevant=" /data/screening/resident_6m  = \'yes\' and '
        " /data/screening/age_16plus  = 'yes'\"/>"
    ) in xml
    workbook = openpyxl.load_workbook(io.BytesIO(to_xlsform(original)))
    header = [cell.value for cell in workbook["survey"][1]]
    assert header[:4] == ["type", "name", "label::简体中文 (zh)", "label::English (en)"]
    rows = {row[1]: row for row in workbook["survey"].iter_rows(min_row=2, values_only=True)}
    assert rows["security_overall"][0] == "select_one security_overall"
    assert rows["security_neighbourhood"][0] == "select_one security_overall"  # shared list
    assert rows["resident_6m"][0] == "select_one resident_6m"
    # min and max become an ODK constraint too, with the question's own constraint.
    assert rows["years_here"][header.index("constraint")] == (
        "(. >= 0 and . <= 100) and (not(${age_group} = '16_24') or . <= 24)"
    )
    assert rows["years_here"][header.index("surveyapp_constraint")] == (
        "not(${age_group} = '16_24') or . <= 24"
    )


def test_language_codes():
    assert language_code("English (en)") == "en"
    assert language_code("中文 (zh-CN)") == "zh_CN"
    assert language_code("Chinese (zh)") == "zh_CN"
    assert language_code("Uyghur (ug)") == "ug"
    assert language_code("Français (fr-CA)") == "fr_CA"
    assert language_code("English") == "en"


def test_texts_that_look_like_formulas_stay_texts():
    # Found by the round-trip property test: openpyxl writes "=..." as a formula and "#N/A"
    # as an error unless told otherwise, and a formula has no value when read back.
    text = """
id: formulas
version: 1
title: {zh_CN: "=1+1", en: "#N/A"}
languages: [zh_CN, en]
groups:
  - id: g
    title: {zh_CN: "=SUM(A1)", en: x}
    questions:
      - id: q
        type: single
        label: {zh_CN: "=q", en: "#REF!"}
        choices:
          - {code: 1, label: {zh_CN: "=a", en: "=b"}}
          - {code: 2, label: {zh_CN: b, en: c}}
indicators:
  - {id: r, label: {zh_CN: "=x", en: "=y"}, question: q, positive: [1]}
"""
    original = load_questionnaire_text(text)
    back = load_questionnaire_text(xlsform_to_yaml(to_xlsform(original), "f.xlsx")[0])
    assert to_document(back) == to_document(original)
    assert back.questions["q"].label["en"] == "#REF!"
