"""choice_filter (cascading selects: street → community → grid): imported from XLSForm, stored,
checked by the server, sent to the tablet, exported back (pyxform as the reference)."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from pyxform import xls2xform

from surveyapp.fieldwork.offline import _question as tablet_question
from surveyapp.questionnaire import QuestionnaireError, clean_answers, load_questionnaire_text
from surveyapp.questionnaire.conditions import parse_condition
from surveyapp.questionnaire.export import export_yaml
from surveyapp.questionnaire.xlsform import to_xlsform, xlsform_to_yaml


def _form(grid_filter: str = "community=${community} and name != 'g9'") -> bytes:
    workbook = openpyxl.Workbook()
    survey = workbook.active
    survey.title = "survey"
    survey.append(["type", "name", "label::中文 (zh_CN)", "choice_filter"])
    survey.append(["select_one street", "street", "街道", ""])
    survey.append(["select_one community", "community", "社区", "street=${street}"])
    survey.append(["select_multiple grid", "grid", "网格", grid_filter])
    choices = workbook.create_sheet("choices")
    choices.append(["list_name", "name", "label::中文 (zh_CN)", "street", "community"])
    for row in (
        ["street", "s1", "一街", "", ""],
        ["street", "s2", "二街", "", ""],
        ["community", "c1", "甲社区", "s1", ""],
        ["community", "c2", "乙社区", "s2", ""],
        ["community", "c3", "丙社区", "s1", ""],
        ["grid", "g1", "一网格", "", "c1"],
        ["grid", "g2", "二网格", "", "c2"],
        ["grid", "g9", "九网格", "", "c1"],
    ):
        choices.append(row)
    settings = workbook.create_sheet("settings")
    settings.append(["form_id", "form_title"])
    settings.append(["cascade", "级联"])
    data = io.BytesIO()
    workbook.save(data)
    return data.getvalue()


def _questions(questionnaire):
    return {q.id: q for g in questionnaire.groups for q in g.questions}


def test_imported_and_checked_by_the_server():
    questionnaire = load_questionnaire_text(xlsform_to_yaml(_form(), "cascade.xlsx")[0])
    questions = _questions(questionnaire)
    assert questions["community"].allowed_codes({"street": "s1"}) == ("c1", "c3")
    assert questions["community"].allowed_codes({"street": "s2"}) == ("c2",)
    assert questions["community"].allowed_codes({}) == ()
    assert questions["grid"].allowed_codes({"community": "c1"}) == ("g1",)  # g9 by name
    answers, errors = clean_answers(questionnaire, {"street": "s1", "community": "c3", "grid": []})
    assert errors == [] and answers == {"street": "s1", "community": "c3"}
    _answers, errors = clean_answers(questionnaire, {"street": "s1", "community": "c2"})
    assert [(e.question, e.kind, e.params["code"]) for e in errors] == [
        ("community", "unknown_code", "c2")
    ]
    _answers, errors = clean_answers(
        questionnaire, {"street": "s1", "community": "c1", "grid": ["g1", "g9"]}
    )
    assert [(e.question, e.params["code"]) for e in errors] == [("grid", "g9")]


def test_exported_back_and_pyxform_builds_the_cascade():
    questionnaire = load_questionnaire_text(xlsform_to_yaml(_form(), "cascade.xlsx")[0])
    assert "choice_filter: street=${street}" in export_yaml(questionnaire)
    assert "properties: {street: s1}" in export_yaml(questionnaire)
    exported = to_xlsform(questionnaire)
    warnings: list[str] = []
    xml = xls2xform.convert(
        xlsform=exported, warnings=warnings, validate=False, file_type=".xlsx"
    ).xform
    assert "instance('community')/root/item[street= /data/questions/street ]" in xml
    assert "<street>s1</street>" in xml
    back = load_questionnaire_text(xlsform_to_yaml(exported, "back.xlsx")[0])
    assert back == questionnaire
    assert _questions(back)["grid"].choice_filter.source == (
        "community=${community} and name != 'g9'"
    )


def test_the_tablet_gets_the_filter_and_the_columns():
    questionnaire = load_questionnaire_text(xlsform_to_yaml(_form(), "cascade.xlsx")[0])
    sent = json.loads(json.dumps(tablet_question(_questions(questionnaire)["community"])))
    assert sent["choice_filter"]["tree"] == ["=", ["prop", "street"], ["ref", "street"]]
    assert [c["properties"] for c in sent["choices"]] == [
        {"street": "s1", "name": "c1"},
        {"street": "s2", "name": "c2"},
        {"street": "s1", "name": "c3"},
    ]


@pytest.mark.parametrize(
    ("grid_filter", "fragment"),
    [
        ("commune=${community}", "'commune' is no column of the choices"),
        ("community=${later}", "refers to 'later'"),
        ("community=.", "'.' cannot be used in a choice filter"),
    ],
)
def test_bad_filters_are_refused_by_row(grid_filter, fragment):
    data = _form(grid_filter)
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    workbook["survey"].append(["text", "later", "后"])
    out = io.BytesIO()
    workbook.save(out)
    with pytest.raises(QuestionnaireError) as caught:
        xlsform_to_yaml(out.getvalue(), "bad.xlsx")
    problems = [str(p) for p in caught.value.problems]
    assert any("survey row 4 ('grid')" in p and fragment in p for p in problems), problems


def test_bare_names_only_in_choice_filters():
    condition = parse_condition("street = ${s} and name != 'x'", choice_filter=True)
    assert condition.evaluate({"s": "s1"}, {"street": "s1", "name": "y"}) is True
    assert condition.evaluate({"s": "s1"}, {"street": "s2", "name": "y"}) is False
    assert condition.choice_columns() == {"street", "name"}
    with pytest.raises(QuestionnaireError):
        parse_condition("street = ${s}")


def test_a_bad_choice_is_refused_by_its_choices_sheet_row():
    workbook = openpyxl.load_workbook(io.BytesIO(_form()))
    workbook["choices"].cell(row=4, column=2).value = "c\u20281"  # community c1, with U+2028
    out = io.BytesIO()
    workbook.save(out)
    with pytest.raises(QuestionnaireError) as caught:
        xlsform_to_yaml(out.getvalue(), "bad.xlsx")
    assert [(p.line, p.field) for p in caught.value.problems] == [
        (4, "choices sheet, row 4 ('c\u20281'): code")
    ]
    assert "cannot contain control characters" in caught.value.problems[0].message


def test_the_version_diff_names_a_changed_filter():
    from surveyapp.questionnaire.diff import diff_questionnaires

    old = load_questionnaire_text(xlsform_to_yaml(_form(), "a.xlsx")[0])
    new = load_questionnaire_text(xlsform_to_yaml(_form("community=${community}"), "b.xlsx")[0])
    changes = [(c.where, c.detail) for c in diff_questionnaires(old, new)]
    assert changes == [
        (
            "question grid choice_filter",
            '((community = ${community}) and (name != "g9")) → (community = ${community})',
        )
    ]


def test_the_stored_document_fits_the_published_json_schema():
    import jsonschema

    from surveyapp.questionnaire.export import read_document
    from surveyapp.questionnaire.types import questionnaire_json_schema

    questionnaire = load_questionnaire_text(xlsform_to_yaml(_form(), "cascade.xlsx")[0])
    document = read_document(export_yaml(questionnaire))
    jsonschema.validate(document, questionnaire_json_schema())
    document["groups"][0]["questions"][1]["choices"][0]["code"] = "城关/东区"
    jsonschema.validate(document, questionnaire_json_schema())
    document["groups"][0]["questions"][1]["choices"][0]["code"] = " x"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, questionnaire_json_schema())
