"""The question-type registry (``questionnaire/types.py``) is what the loader, the XLSForm reader
and writer and the JSON Schema of the file format go by."""

from __future__ import annotations

import json
import typing
from pathlib import Path

import jsonschema
import pytest

from surveyapp.questionnaire import QUESTION_TYPES, QuestionnaireError, load_questionnaire_text
from surveyapp.questionnaire.export import dump_document, read_document
from surveyapp.questionnaire.model import CHOICE_TYPES, QuestionType
from surveyapp.questionnaire.types import KINDS, kind_for_xlsform, questionnaire_json_schema

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "questionnaires" / "questionnaire.schema.json"
VALID = [
    ROOT / "questionnaires" / "public-security-satisfaction.yaml",
    ROOT / "tests" / "questionnaire" / "data" / "minimal.yaml",
]


def test_the_registry_is_the_list_of_types() -> None:
    assert QUESTION_TYPES == tuple(KINDS) == typing.get_args(QuestionType)
    assert CHOICE_TYPES == {name for name, kind in KINDS.items() if kind.choices}
    assert kind_for_xlsform("select all that apply") is KINDS["multiple"]
    assert kind_for_xlsform("geopoint") is KINDS["geopoint"]
    assert kind_for_xlsform("image") is None


def test_the_published_schema_is_the_generated_one() -> None:
    """questionnaires/questionnaire.schema.json is regenerated from the registry:
    .venv/bin/python -c 'import json; from surveyapp.questionnaire.types import
    questionnaire_json_schema as s; print(json.dumps(s(), ensure_ascii=False, indent=2))'
    > questionnaires/questionnaire.schema.json"""
    jsonschema.Draft202012Validator.check_schema(questionnaire_json_schema())
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == questionnaire_json_schema()


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_questionnaires_fit_the_schema(path: Path) -> None:
    document = read_document(path.read_text(encoding="utf-8"))
    jsonschema.validate(document, questionnaire_json_schema())


@pytest.mark.parametrize(
    ("name", "key", "value"),
    [(name, key, 1) for name in KINDS for other in KINDS.values() for key in other.keys]
    + [("text", "colour", "red")],
)
def test_a_key_of_another_type_is_refused_by_the_schema_and_the_loader(name, key, value) -> None:
    if key in KINDS[name].keys:
        return
    question = {"id": "q1", "type": name, "label": {"zh_CN": "问", "en": "Q"}, key: value}
    if KINDS[name].choices and name != "yesno":
        question.setdefault("choices", [{"code": "a", "label": {"zh_CN": "甲", "en": "A"}}])
    document = {
        "id": "t",
        "version": 1,
        "title": {"zh_CN": "题", "en": "T"},
        "languages": ["zh_CN", "en"],
        "groups": [{"id": "g", "title": {"zh_CN": "组", "en": "G"}, "questions": [question]}],
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, questionnaire_json_schema())
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire_text(dump_document(document))
    assert f"'{key}' does not apply to {name} questions" in str(caught.value) or key == "colour"


def test_every_type_cleans_its_answers() -> None:
    from surveyapp.questionnaire.answers import NORMALISERS

    assert set(NORMALISERS) == {n for n, k in KINDS.items() if k.stored and k.entered}
