"""The exports' columns and the tablet's JSON come from the question-type registry: checked on
a questionnaire with every new type (expected columns written by hand)."""

from __future__ import annotations

from types import SimpleNamespace

from surveyapp.fieldwork.offline import questionnaire_document
from surveyapp.questionnaire import load_questionnaire_text
from surveyapp.services.exports import answer_columns

QUESTIONNAIRE = """\
id: types
version: 1
title: {zh_CN: 题型, en: Types}
languages: [zh_CN, en]
groups:
- id: g
  title: {zh_CN: 组, en: Group}
  questions:
  - {id: intro, type: note, label: {zh_CN: 说明, en: Intro}}
  - {id: sat, type: single, label: {zh_CN: 满意, en: Satisfied}, other: '9',
     choices: [{code: '1', label: {zh_CN: 是, en: 'Yes'}},
               {code: '9', label: {zh_CN: 其他, en: Other}}]}
  - {id: height, type: decimal, label: {zh_CN: 身高, en: Height}}
  - {id: t, type: time, label: {zh_CN: 时间, en: Time}}
  - {id: dt, type: datetime, label: {zh_CN: 时刻, en: When}}
  - {id: loc, type: geopoint, label: {zh_CN: 位置, en: Location}}
  - {id: tall, type: calculate, label: {zh_CN: 高, en: Tall}, calculation: "${height} > 1.8"}
  - {id: late, type: calculate, label: {zh_CN: 晚, en: Late}, calculation: "${t} > '18:00'"}
"""


def test_export_columns_per_type() -> None:
    schema = load_questionnaire_text(QUESTIONNAIRE)
    plain = answer_columns([schema], "en")
    assert [(c.name, c.label, c.numeric) for c in plain] == [
        ("sat", "Satisfied", True),
        ("height", "Height", True),
        ("tall", "Tall", False),
    ]  # no note; times, places and what is computed from them only when asked for
    full = {c.name: c for c in answer_columns([schema], "zh_CN", identifying=True)}
    assert list(full) == [
        "sat",
        "height",
        "t",
        "dt",
        "loc_lat",
        "loc_lon",
        "loc_alt",
        "loc_accuracy",
        "tall",
        "late",
    ]
    assert full["loc_lat"].label == "位置: 纬度"
    assert full["loc_accuracy"].label == "位置: 精度（米）"
    stored = "31.2304 121.4737 0 8"
    assert [full[f"loc_{p}"].read(stored) for p in ("lat", "lon", "alt", "accuracy")] == [
        31.2304,
        121.4737,
        0.0,
        8.0,
    ]
    assert full["height"].read("1.75") == 1.75 and full["t"].read("14:05") == "14:05"


def test_the_tablet_json_says_how_each_question_is_shown() -> None:
    schema = load_questionnaire_text(QUESTIONNAIRE)
    version = SimpleNamespace(id=7, schema=schema, sha256=schema.sha256)
    questions = {q["id"]: q for q in questionnaire_document(version)["groups"][0]["questions"]}
    assert {qid: (q["type"], q["input"]) for qid, q in questions.items()} == {
        "intro": ("note", "note"),
        "sat": ("single", "choice"),
        "height": ("decimal", "decimal"),
        "t": ("time", "time"),
        "dt": ("datetime", "datetime"),
        "loc": ("geopoint", "geopoint"),
        "tall": ("calculate", "calculate"),
        "late": ("calculate", "calculate"),
    }
    assert questions["tall"]["calculation"]["source"] == "${height} > 1.8"
    assert questions["sat"]["other_code"] == "9" and questions["sat"]["multiple"] is False
    assert questions["intro"]["required"] is False and questions["tall"]["required"] is False


def test_the_xform_served_to_odk_has_the_new_types() -> None:
    import re

    from surveyapp.services.openrosa import _Place, _Task, build_xform

    schema = load_questionnaire_text(QUESTIONNAIRE)
    grid = _Place("g1", (("zh_CN", "网格"), ("en", "Grid")))
    xform = build_xform(schema, "w1", "1", "T", (_Task(5, "door", grid, (grid,)),))
    binds = dict(re.findall(r'<bind nodeset="/data/g/(\w+)"([^>]*)/>', xform))
    assert 'type="decimal"' in binds["height"]
    assert 'type="time"' in binds["t"] and 'type="dateTime"' in binds["dt"]
    assert 'type="geopoint"' in binds["loc"]
    assert 'readonly="true()"' in binds["intro"]  # a note
    assert 'calculate=" /data/g/height  &gt; 1.8"' in binds["tall"]
    assert "sat_other" in binds  # the product's "other, please specify" as ODK's text


def test_the_demo_generator_draws_valid_answers_for_the_new_types() -> None:
    import random

    from surveyapp.questionnaire import clean_answers
    from surveyapp.services.demo import _DRAWS

    schema = load_questionnaire_text(QUESTIONNAIRE)
    rng = random.Random(3)
    raw = {"sat": "1"}
    for q in schema.questions.values():
        if q.kind.input in _DRAWS:
            raw[q.id] = _DRAWS[q.kind.input](q, rng)
    cleaned, errors = clean_answers(schema, raw)
    assert errors == [] and {"height", "t", "dt", "loc", "tall"} <= set(cleaned)
