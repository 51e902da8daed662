"""The question types XLSForms use beyond the first six: decimal, time, datetime, geopoint, note,
calculate; the aliases int and string, metadata as paradata, media left out, or_other.

Expected values are written by hand; the XLSForm is generated with openpyxl and checked with
pyxform's own ``xls2xform`` after the export.
"""

from __future__ import annotations

import io

import pytest

from surveyapp.questionnaire import QuestionnaireError, load_questionnaire_text
from surveyapp.questionnaire.answers import AnswerError, clean_answers, geopoint_parts
from surveyapp.questionnaire.export import dump_document, to_document
from surveyapp.questionnaire.xlsform import to_xlsform, xlsform_to_document, xlsform_to_yaml

HEAD = """\
id: types
version: 1
title: {zh_CN: 题型, en: Types}
languages: [zh_CN, en]
groups:
- id: g
  title: {zh_CN: 组, en: Group}
  questions:
"""

QUESTIONS = """\
  - {id: intro, type: note, label: {zh_CN: 说明, en: Intro}}
  - {id: age, type: integer, label: {zh_CN: 年龄, en: Age}, min: 0, max: 120}
  - {id: height, type: decimal, label: {zh_CN: 身高, en: Height}, min: 0.5, max: 2.5}
  - {id: t, type: time, label: {zh_CN: 时间, en: Time}}
  - {id: dt, type: datetime, label: {zh_CN: 时刻, en: When}, required: false}
  - {id: loc, type: geopoint, label: {zh_CN: 位置, en: Location}}
  - {id: adult, type: calculate, label: {zh_CN: 成年, en: Adult}, calculation: "${age} >= 18"}
  - {id: kids, type: calculate, label: {zh_CN: 孩子, en: Kids}, calculation: "${age}"}
"""


@pytest.fixture(scope="module")
def schema():
    return load_questionnaire_text(HEAD + QUESTIONS)


def test_the_new_types_load_and_export_back_byte_for_byte(schema) -> None:
    assert [q.type for q in schema.questions.values()] == [
        "note",
        "integer",
        "decimal",
        "time",
        "datetime",
        "geopoint",
        "calculate",
        "calculate",
    ]
    assert schema.questions["height"].minimum == 0.5
    assert schema.questions["intro"].required is False
    assert schema.questions["adult"].calculation.source == "${age} >= 18"
    text = dump_document(to_document(schema))
    assert load_questionnaire_text(text).sha256 == load_questionnaire_text(text).sha256
    assert dump_document(to_document(load_questionnaire_text(text))) == text


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("{id: n, type: note, label: {zh_CN: 说, en: N}, required: true}", "'required' does not"),
        ("{id: c, type: calculate, label: {zh_CN: 算, en: C}}", "missing key 'calculation'"),
        (
            "{id: c, type: calculate, label: {zh_CN: 算, en: C}, calculation: '${nope} + 1'}",
            "nope",
        ),
        ("{id: d, type: decimal, label: {zh_CN: 数, en: D}, min: 'a'}", "must be a number"),
        ("{id: d, type: time, label: {zh_CN: 时, en: D}, min: 1}", "'min' does not apply"),
    ],
)
def test_refusals(question: str, message: str) -> None:
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire_text(HEAD + "  - " + question + "\n")
    assert message in str(caught.value)


def test_answers_are_cleaned_and_checked_per_type(schema) -> None:
    cleaned, errors = clean_answers(
        schema,
        {
            "age": "30",
            "height": "1.75",
            "t": "14:05:00.000+08:00",  # as ODK Collect sends a time
            "dt": "2026-12-03T09:30:00.000+08:00",
            "loc": "31.2304 121.4737 12.5 4.8",
            "adult": "whatever the client computed",
        },
    )
    assert errors == []
    assert cleaned == {
        "age": 30,
        "height": 1.75,
        "t": "14:05",
        "dt": "2026-12-03T09:30",
        "loc": "31.2304 121.4737 12.5 4.8",
        "adult": "true",  # computed by the server from age
        "kids": 30,
    }
    assert geopoint_parts(cleaned["loc"]) == {
        "lat": 31.2304,
        "lon": 121.4737,
        "alt": 12.5,
        "accuracy": 4.8,
    }
    # stored answers given back are the same answers
    again, errors = clean_answers(schema, {**cleaned, "adult": None, "kids": None})
    assert errors == [] and again == cleaned


@pytest.mark.parametrize(
    ("qid", "raw", "kind"),
    [
        ("height", "abc", "not_number"),
        ("height", "3", "out_of_range"),
        ("height", "0.4", "out_of_range"),
        ("t", "24:00", "bad_time"),
        ("t", "9h", "bad_time"),
        ("dt", "2026-02-30T10:00", "bad_datetime"),
        ("dt", "2026-02-03", "bad_datetime"),
        ("loc", "91 10", "bad_geopoint"),
        ("loc", "30 181", "bad_geopoint"),
        ("loc", "30", "bad_geopoint"),
        ("loc", "30 120 5 -1", "bad_geopoint"),
        ("intro", "read", "unknown_question"),  # a note stores nothing
    ],
)
def test_bad_answers_are_refused(schema, qid: str, raw: str, kind: str) -> None:
    answers = {"age": "30", "height": "1.5", "t": "10:00", "loc": "30 120", qid: raw}
    cleaned, errors = clean_answers(schema, answers)
    assert [(e.question, e.kind) for e in errors] == [(qid, kind)]
    assert qid not in cleaned


def test_a_required_geopoint_must_be_captured(schema) -> None:
    _cleaned, errors = clean_answers(schema, {"age": "3", "height": "1", "t": "10:00"})
    assert errors == [AnswerError("loc", "required", {})]


def _xlsform() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(["type", "name", "label::English (en)", "label::中文 (zh)", "calculation"])
    for row in [
        ["start", "start"],
        ["end", "end"],
        ["today", "today"],
        ["deviceid", "deviceid"],
        ["begin group", "g", "Group", "组"],
        ["note", "intro", "Welcome", "欢迎"],
        ["int", "age", "Age", "年龄"],
        ["decimal", "height", "Height", "身高"],
        ["string", "name", "Name", "姓名"],
        ["time", "t", "Time", "时间"],
        ["dateTime", "dt", "When", "时刻"],
        ["geopoint", "loc", "Location", "位置"],
        ["image", "photo", "Photo", "照片"],
        ["audio", "voice", "Voice", "录音"],
        ["select_one ab or_other", "fav", "Favourite", "最喜欢"],
        ["select_multiple ab or_other", "many", "Many", "多个"],
        ["calculate", "adult", None, None, "${age} >= 18"],
        ["calculate", "double", None, None, "${height} * 2"],
        ["calculate", "size", None, None, "pulldata('households', 'size', 'id', ${age})"],
        ["end group"],
    ]:
        survey.append(row)
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", "label::English (en)", "label::中文 (zh)"])
    choices.append(["ab", "a", "A", "甲"])
    choices.append(["ab", "b", "B", "乙"])
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id", "version"])
    settings.append(["类型", "types_demo", "1"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsform_import_maps_types_aliases_metadata_media_and_or_other() -> None:
    result = xlsform_to_document(_xlsform(), "types.xlsx")
    assert result.problems == []
    questions = {q["id"]: q for q in result.document["groups"][0]["questions"]}
    assert {qid: q["type"] for qid, q in questions.items()} == {
        "intro": "note",
        "age": "integer",  # int
        "height": "decimal",
        "name": "text",  # string
        "t": "time",
        "dt": "datetime",
        "loc": "geopoint",
        "fav": "single",
        "many": "multiple",
        "adult": "calculate",
        "double": "calculate",
    }
    assert questions["adult"]["calculation"] == "${age} >= 18"
    for qid in ("fav", "many"):
        assert questions[qid]["other"] == "other"
        assert questions[qid]["choices"][-1] == {
            "code": "other",
            "label": {"zh_CN": "其他", "en": "Other"},
        }
    warnings = "\n".join(result.warnings)
    for row, name in ((2, "start"), (3, "end"), (4, "today"), (5, "deviceid")):
        assert (
            f"survey row {row} ('{name}'): '{name}' metadata is kept as the interview's paradata"
        ) in warnings
    assert "survey row 14 ('photo'): image question 'photo' is left out" in warnings
    assert "survey row 15 ('voice'): audio question 'voice' is left out" in warnings
    # pulldata() is not in the condition language: that calculation is left out, by row
    assert "survey row 20 ('size'): calculation 'size' is left out" in warnings
    assert "fav_other" not in warnings and "many_other" not in warnings


def test_xlsform_round_trip_passes_xls2xform() -> None:
    from pyxform import xls2xform

    text, _warnings = xlsform_to_yaml(_xlsform(), "types.xlsx")
    schema = load_questionnaire_text(text)
    exported = to_xlsform(schema)
    xform = xls2xform.convert(
        xlsform=exported, validate=False, file_type=".xlsx", warnings=[]
    ).xform
    for fragment in ('type="decimal"', 'type="time"', 'type="dateTime"', 'type="geopoint"'):
        assert fragment in xform
    bind = '<bind nodeset="/data/g/adult" type="string" calculate=" /data/g/age  &gt;= 18"/>'
    assert bind in xform
    again, _ = xlsform_to_yaml(exported, "back.xlsx")
    assert load_questionnaire_text(again).questions.keys() == schema.questions.keys()
    assert to_document(load_questionnaire_text(again)) == to_document(schema)
    other = load_questionnaire_text(again).questions["fav"]
    assert other.other_code == "other" and other.other_key == "fav.other"


def test_the_printed_questionnaire_has_the_new_types(schema) -> None:
    import subprocess

    from surveyapp.reports.questionnaire_pdf import build_questionnaire_pdf

    pdf = build_questionnaire_pdf(schema, "en")
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    text = " ".join(text.split())
    assert "intro Intro" in text and "height Height" in text
    assert "(Write a number; decimals allowed.)" in text
    assert "(Write the time: hours : minutes.)" in text
    assert "on paper write latitude and longitude.)" in text
    assert "adult" not in text and "kids" not in text  # calculations are not asked
