"""Property tests: any valid questionnaire survives YAML export and XLSForm export unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from surveyapp.questionnaire import QuestionnaireError, load_questionnaire_text
from surveyapp.questionnaire.export import dump_document, export_yaml, read_document, to_document
from surveyapp.questionnaire.xlsform import to_xlsform, xlsform_to_yaml
from tests.properties import examples

# Texts as managers type them: Chinese, Latin, Uyghur, YAML's special words and signs, spaces.
TEXT_ALPHABET = st.characters(
    blacklist_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp"), blacklist_characters="\ufeff"
)
texts = st.one_of(
    st.sampled_from(
        [
            "yes",
            "no",
            "null",
            "~",
            "true",
            "1",
            "0.5",
            "# not a comment",
            "a: b",
            "'quoted'",
            '"double"',
            "“弯引号”",
            "- dash",
            "[list]",
            "{map}",
            "很安全",
            "ناھايىتى",
            "Don't know",
            " leading space",
            "trailing space ",
            "two  spaces",
            "多行\n文字",
        ]
    ),
    st.text(TEXT_ALPHABET, min_size=1, max_size=30),
).filter(lambda text: text.strip() != "")
# XLSForm reads "${" in any text as a reference to an answer (and pyxform refuses one that does
# not name a question), so such a text has no XLSForm spelling: see
# test_xlsform_text_with_a_reference_sign_is_refused_clearly below.
xlsform_texts = texts.filter(lambda text: "${" not in text)
codes = st.one_of(
    st.sampled_from(["1", "2", "9", "01", "yes", "no", "65p", "16_24", "other", "none", "true"]),
    st.from_regex(r"[A-Za-z0-9_]{1,8}", fullmatch=True),
)


def _condition_on(question: dict[str, Any]) -> str:
    qid, qtype = question["id"], question["type"]
    if qtype == "multiple":
        return f"selected(${{{qid}}}, '{question['choices'][0]['code']}')"
    if qtype == "single":
        return f"${{{qid}}} = '{question['choices'][0]['code']}'"
    if qtype == "yesno":
        return f"${{{qid}}} = 'yes'"
    if qtype == "integer":
        return f"${{{qid}}} >= 0"
    return f"${{{qid}}} != ''"


@st.composite
def questionnaires(draw, texts=texts) -> dict[str, Any]:
    languages = ["zh_CN", "en"] + (["ug"] if draw(st.booleans()) else [])

    def text() -> dict[str, str]:
        return {lang: draw(texts) for lang in languages}

    groups, asked = [], []
    number = 0
    for g in range(draw(st.integers(1, 3))):
        questions = []
        for _ in range(draw(st.integers(1, 4))):
            number += 1
            qtype = draw(
                st.sampled_from(["single", "multiple", "yesno", "integer", "text", "date"])
            )
            question: dict[str, Any] = {"id": f"q{number}", "type": qtype, "label": text()}
            if draw(st.booleans()):
                question["hint"] = text()
            if draw(st.booleans()):
                question["required"] = False
            if qtype in ("single", "multiple"):
                choice_codes = draw(st.lists(codes, min_size=2, max_size=5, unique=True))
                question["choices"] = [{"code": c, "label": text()} for c in choice_codes]
                if draw(st.booleans()):
                    question["other"] = choice_codes[0]
                if qtype == "multiple" and draw(st.booleans()):
                    question["choices"][-1]["exclusive"] = True
                    if question.get("other") == choice_codes[-1]:
                        del question["other"]
            if qtype == "yesno" and draw(st.booleans()):
                question["choices"] = [
                    {"code": "yes", "label": text()},
                    {"code": "no", "label": text()},
                ]
            if qtype == "integer":
                low = draw(st.integers(-5, 50))
                if draw(st.booleans()):
                    question["min"] = low
                if draw(st.booleans()):
                    question["max"] = low + draw(st.integers(0, 100))
            if qtype == "text" and draw(st.booleans()):
                question["max_length"] = draw(st.integers(1, 2000))
            if qtype == "integer" and draw(st.booleans()):
                question["constraint"] = ". != 13"
                question["constraint_message"] = text()
            if asked and draw(st.booleans()):
                question["relevant"] = _condition_on(draw(st.sampled_from(asked)))
            questions.append(question)
        groups.append({"id": f"g{g}", "title": text(), "questions": questions})
        asked += questions
    doc: dict[str, Any] = {
        "id": "prop-test",
        "version": draw(st.integers(1, 99)),
        "title": text(),
        "languages": languages,
        "groups": groups,
    }
    if draw(st.booleans()):
        doc["description"] = text()
    rated = [q for g in groups for q in g["questions"] if q["type"] in ("single", "multiple")]
    if rated:
        question = draw(st.sampled_from(rated))
        question_codes = [c["code"] for c in question["choices"]]
        doc["indicators"] = [
            {
                "id": "rate",
                "label": text(),
                "question": question["id"],
                "positive": question_codes[:1],
                "excluded": question_codes[-1:],
                "target": 0.9,
            }
        ]
    singles = [q for g in groups for q in g["questions"] if q["type"] == "single"]
    if singles:
        question = draw(st.sampled_from(singles))
        question_codes = [c["code"] for c in question["choices"]]
        doc["composites"] = [
            {
                "id": "score",
                "label": text(),
                "question": question["id"],
                "points": {c: 100 - 10 * i for i, c in enumerate(question_codes[:-1])},
                "excluded": question_codes[-1:],
            }
        ]
    return doc


def _settings(count: int) -> settings:
    return settings(
        max_examples=examples(count), deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )


@_settings(60)
@given(questionnaires())
def test_yaml_round_trip(doc: dict[str, Any]) -> None:
    first = load_questionnaire_text(dump_document(doc))
    second = load_questionnaire_text(export_yaml(first))
    assert to_document(second) == to_document(first)
    # The designer's documents read back what was written, scalars as written.
    assert to_document(
        load_questionnaire_text(dump_document(read_document(export_yaml(first))))
    ) == to_document(first)


def _minimal(title: str) -> dict[str, Any]:
    label = {"zh_CN": title, "en": "A question"}
    return {
        "id": "prop-test",
        "version": 1,
        "title": {"zh_CN": title, "en": "Title"},
        "languages": ["zh_CN", "en"],
        "groups": [
            {
                "id": "g0",
                "title": label,
                "questions": [{"id": "q1", "type": "text", "label": label}],
            }
        ],
    }


@_settings(25)
@given(questionnaires(texts=xlsform_texts))
@example(_minimal("${q1}"))  # a reference to a question of the form reads back as written
def test_xlsform_round_trip(doc: dict[str, Any]) -> None:
    first = load_questionnaire_text(dump_document(doc))
    text, _warnings = xlsform_to_yaml(to_xlsform(first), "prop.xlsx")
    assert to_document(load_questionnaire_text(text)) == to_document(first)


@pytest.mark.parametrize("title", ["a ${b", "${zz}", "x ${"])
def test_xlsform_text_with_a_reference_sign_is_refused_clearly(title: str) -> None:
    """A text with "${" that names no question has no XLSForm spelling: pyxform refuses the
    exported form, and the import says where, instead of failing later or changing the text."""
    first = load_questionnaire_text(dump_document(_minimal(title)))
    with pytest.raises(QuestionnaireError) as caught:
        xlsform_to_yaml(to_xlsform(first), "prop.xlsx")
    message = str(caught.value)
    assert "prop.xlsx" in message and "Reference variables" in message
