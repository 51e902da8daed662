"""Property tests: whatever text arrives, loading and parsing fail only with QuestionnaireError;
evaluating conditions and checking answers never raise."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveyapp.questionnaire import (
    Questionnaire,
    QuestionnaireError,
    clean_answers,
    load_questionnaire,
    load_questionnaire_text,
    parse_condition,
)
from tests.properties import examples

ROOT = Path(__file__).resolve().parents[2]
STANDARD = ROOT / "questionnaires" / "public-security-satisfaction.yaml"
STANDARD_TEXT = STANDARD.read_text(encoding="utf-8")
MINIMAL = load_questionnaire(Path(__file__).resolve().parent / "data" / "minimal.yaml")

SETTINGS = settings(
    max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

KEYS = [
    "id",
    "version",
    "title",
    "languages",
    "groups",
    "questions",
    "type",
    "label",
    "choices",
    "code",
    "relevant",
    "constraint",
    "min",
    "max",
    "other",
    "exclusive",
    "indicators",
    "composites",
    "question",
    "positive",
    "excluded",
    "base",
    "points",
    "target",
    "zh_CN",
    "en",
    "rtl",
    "name",
    "required",
    "max_length",
    "hint",
    "choice_lists",
    "constraint_message",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(
        [
            "single",
            "multiple",
            "yesno",
            "integer",
            "text",
            "date",
            "zh_CN",
            "en",
            "${a} = 'x'",
            ". > 1",
            "a",
            "1",
        ]
    ),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), children, max_size=6
        ),
    ),
    max_leaves=40,
)


def load_or_problems(text: str) -> None:
    try:
        load_questionnaire_text(text, "random.yaml")
    except QuestionnaireError as error:
        assert error.problems
        for problem in error.problems:
            assert str(problem).startswith("random.yaml")


@SETTINGS
@given(st.text())
def test_random_text(text: str) -> None:
    load_or_problems(text)


@SETTINGS
@given(documents)
def test_random_yaml_documents(document: Any) -> None:
    load_or_problems(yaml.safe_dump(document, allow_unicode=True))


@SETTINGS
@given(st.randoms(use_true_random=False), st.integers(1, 5))
def test_mutated_standard_questionnaire(rng: random.Random, edits: int) -> None:
    lines = STANDARD_TEXT.splitlines()
    for _ in range(edits):
        index = rng.randrange(len(lines))
        action = rng.choice(["delete", "duplicate", "truncate", "dedent", "swap", "garble"])
        if action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, lines[index])
        elif action == "truncate":
            lines[index] = lines[index][: rng.randrange(len(lines[index]) + 1)]
        elif action == "dedent":
            lines[index] = lines[index][2:]
        elif action == "swap":
            other = rng.randrange(len(lines))
            lines[index], lines[other] = lines[other], lines[index]
        else:
            lines[index] += rng.choice([" ${", " '", "{", ": x", " [", "\t", " ${zz} = 1"])
    load_or_problems("\n".join(lines))


TOKENS = [
    "${a}",
    "${b}",
    "${c}",
    ".",
    "'x'",
    "'1'",
    '"y"',
    "1",
    "2.5",
    "-3",
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "and",
    "or",
    "not(",
    "selected(",
    "count-selected(",
    "string-length(",
    "(",
    ")",
    ",",
    "${",
    "'",
    "+",
    "foo(",
    "$",
    "}",
]
conditions = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(TOKENS), max_size=15).map(" ".join),
    st.lists(st.sampled_from(TOKENS), max_size=15).map("".join),
)
answer_values = st.one_of(
    st.none(),
    st.text(max_size=10),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.lists(st.text(max_size=5), max_size=3),
    st.dates(),
    st.just(10**400),
    st.just(math.inf),
    st.just(math.nan),
)


@SETTINGS
@given(conditions, st.dictionaries(st.sampled_from(["a", "b", "c"]), answer_values), answer_values)
def test_random_conditions(source: str, answers: dict[str, Any], current: Any) -> None:
    try:
        condition = parse_condition(source)
    except QuestionnaireError:
        return
    assert isinstance(condition.evaluate(answers, current), bool)


raw_values = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(),
    st.floats(),
    st.lists(
        st.one_of(
            st.text(max_size=8), st.sampled_from(["1", "3", "theft", "none", "other", "yes"])
        ),
        max_size=4,
    ),
    st.sampled_from(["yes", "no", "1", "3", "9", "40", "2025-01-01", "theft other"]),
)


def raw_answers(questionnaire: Questionnaire) -> st.SearchStrategy[dict[str, Any]]:
    keys = [*questionnaire.questions, *(f"{q}.other" for q in questionnaire.questions), "zz"]
    return st.dictionaries(st.sampled_from(keys), raw_values)


@SETTINGS
@given(raw_answers(MINIMAL))
def test_clean_answers_never_raises(raw: dict[str, Any]) -> None:
    cleaned, _ = clean_answers(MINIMAL, raw)
    for key in cleaned:
        assert MINIMAL.is_relevant(key.removesuffix(".other"), cleaned)
    # Cleaning again changes nothing, except that answers dropped as invalid are now missing
    # (required) and a constraint skipped because of them is now checked.
    again, errors = clean_answers(MINIMAL, cleaned)
    assert again.items() <= cleaned.items()
    assert {error.kind for error in errors} <= {"required", "constraint"}
