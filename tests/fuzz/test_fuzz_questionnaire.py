"""Fuzzing the questionnaire parser and the skip-logic evaluator.

* Conditions are generated as trees, printed in the XLSForm syntax, parsed, evaluated, and the
  result compared with a reference evaluator written here from the documented semantics (an
  unanswered question is the empty text; a comparison with a number compares numbers, and a
  text that is not a number is NaN, which satisfies nothing but ``!=``; ``selected`` looks
  for a code among the space-separated codes).
* The standard questionnaire is changed at the level of its YAML tree (a value replaced by one
  of another type, a key removed, a list item duplicated or removed, a question id swapped)
  and loaded: the result is a questionnaire or a QuestionnaireError whose every problem names
  the file and a line inside it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from surveyapp.questionnaire import (
    Questionnaire,
    QuestionnaireError,
    load_questionnaire_text,
    parse_condition,
)
from tests.properties import examples

SETTINGS = settings(
    max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# --- conditions against a reference evaluator -----------------------------------------------


@dataclass(frozen=True)
class Num:  # a number literal
    value: int


@dataclass(frozen=True)
class Ref:  # ${name}
    name: str


@dataclass(frozen=True)
class Count:  # count-selected(${m})
    pass


@dataclass(frozen=True)
class Length:  # string-length(${s})
    pass


@dataclass(frozen=True)
class Cmp:
    left: Any
    op: str
    right: Any


@dataclass(frozen=True)
class Eq:  # ${s} = 'code' or ${s} != 'code'
    negated: bool
    code: str


@dataclass(frozen=True)
class Selected:
    name: str  # m or s
    code: str


@dataclass(frozen=True)
class Not:
    inner: Any


@dataclass(frozen=True)
class Bool:
    op: str  # and, or
    left: Any
    right: Any


CODES = ["a", "b", "c", "1"]
numbers = st.one_of(
    st.integers(-3, 12).map(Num),
    st.sampled_from([Ref("n1"), Ref("n2")]),
    st.just(Count()),
    st.just(Length()),
)
atoms = st.one_of(
    st.builds(Cmp, numbers, st.sampled_from(["=", "!=", "<", "<=", ">", ">="]), numbers),
    st.builds(Eq, st.booleans(), st.sampled_from(CODES)),
    st.builds(Selected, st.sampled_from(["m", "s"]), st.sampled_from(CODES)),
)
trees = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.builds(Not, inner), st.builds(Bool, st.sampled_from(["and", "or"]), inner, inner)
    ),
    max_leaves=8,
)
answers = st.fixed_dictionaries(
    {},
    optional={
        "n1": st.integers(-5, 15),
        "n2": st.integers(-5, 15),
        "m": st.lists(st.sampled_from(CODES), unique=True, max_size=4),
        "s": st.sampled_from(["a", "b", "c", "1", "xyz"]),
    },
)


def render(node: Any) -> str:
    if isinstance(node, Num):
        return str(node.value) if node.value >= 0 else f"-{-node.value}"
    if isinstance(node, Ref):
        return f"${{{node.name}}}"
    if isinstance(node, Count):
        return "count-selected(${m})"
    if isinstance(node, Length):
        return "string-length(${s})"
    if isinstance(node, Cmp):
        return f"{render(node.left)} {node.op} {render(node.right)}"
    if isinstance(node, Eq):
        return f"${{s}} {'!=' if node.negated else '='} '{node.code}'"
    if isinstance(node, Selected):
        return f"selected(${{{node.name}}}, '{node.code}')"
    if isinstance(node, Not):
        return f"not({render(node.inner)})"
    return f"({render(node.left)}) {node.op} ({render(node.right)})"


def value(node: Any, given: dict) -> float | str:
    """A number, or '' for an unanswered number question (the reference's own model)."""
    if isinstance(node, Num):
        return float(node.value)
    if isinstance(node, Ref):
        return float(given[node.name]) if node.name in given else ""
    if isinstance(node, Count):
        return float(len(given.get("m", [])))
    return float(len(given.get("s", "")))


def reference(node: Any, given: dict) -> bool:
    if isinstance(node, Cmp):
        left, right = value(node.left, given), value(node.right, given)
        if left == "" and right == "":  # two unanswered questions: equal empty texts
            return {"=": True, "!=": False}.get(node.op, False)
        a = math.nan if left == "" else left
        b = math.nan if right == "" else right
        if node.op == "!=":
            return not a == b
        if math.isnan(a) or math.isnan(b):
            return False
        return {"=": a == b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[node.op]
    if isinstance(node, Eq):
        return (given.get("s", "") == node.code) != node.negated
    if isinstance(node, Selected):
        held = given.get(node.name, [] if node.name == "m" else "")
        codes = held if isinstance(held, list) else held.split()
        return node.code in codes
    if isinstance(node, Not):
        return not reference(node.inner, given)
    if node.op == "and":
        return reference(node.left, given) and reference(node.right, given)
    return reference(node.left, given) or reference(node.right, given)


@SETTINGS
@given(trees, answers)
def test_conditions_agree_with_the_reference(tree, given):
    source = render(tree)
    condition = parse_condition(source)
    assert condition.refs <= {"n1", "n2", "m", "s"}
    assert condition.evaluate(given) is reference(tree, given), source


# --- the standard questionnaire, changed in its YAML tree --------------------------------

STANDARD_TEXT = (
    Path(__file__).resolve().parents[2] / "questionnaires" / "public-security-satisfaction.yaml"
).read_text(encoding="utf-8")
# Mutations work on the node tree (yaml.compose), not on Python values: a round trip through
# Python would turn codes such as 16_24 or yes into numbers and booleans.
STR, INT, FLOAT, BOOL, NULL = (
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null")
)
REPLACEMENTS = [
    (NULL, "null"),
    (BOOL, "true"),
    (INT, "0"),
    (INT, "-1"),
    (INT, "1000000000000"),
    (FLOAT, "2.5"),
    (STR, ""),
    (STR, "x"),
    (STR, "${nope} = 'a'"),
    (STR, ". >"),
    (STR, "single"),
    (STR, "multiple"),
    (STR, "yesno"),
    (STR, "integer"),
    (STR, "中文"),
    ("seq", ""),
    ("map", ""),
]


def _new_node(kind: tuple[str, str]) -> yaml.Node:
    tag, text = kind
    if tag == "seq":
        return yaml.SequenceNode("tag:yaml.org,2002:seq", [yaml.ScalarNode(STR, "x")])
    if tag == "map":
        return yaml.MappingNode(
            "tag:yaml.org,2002:map", [(yaml.ScalarNode(STR, "en"), yaml.ScalarNode(STR, "only"))]
        )
    return yaml.ScalarNode(tag, text)


def _slots(node: yaml.Node) -> list[tuple[yaml.Node, int]]:
    """(container, index) of every value in the tree, for mappings and sequences."""
    out = []
    if isinstance(node, yaml.MappingNode):
        for i, (_key, child) in enumerate(node.value):
            out.append((node, i))
            out += _slots(child)
    elif isinstance(node, yaml.SequenceNode):
        for i, child in enumerate(node.value):
            out.append((node, i))
            out += _slots(child)
    return out


def _mutate(root: yaml.Node, rng: random.Random) -> None:
    slots = _slots(root)
    container, i = rng.choice(slots)
    action = rng.choice(["replace", "replace", "delete", "duplicate", "copy_id"])
    mapping = isinstance(container, yaml.MappingNode)
    if action == "replace":
        node = _new_node(rng.choice(REPLACEMENTS))
        if mapping:
            container.value[i] = (container.value[i][0], node)
        else:
            container.value[i] = node
    elif action == "delete":
        del container.value[i]
    elif action == "duplicate":
        container.value.insert(i, container.value[i])
    else:  # give this value the text of some id elsewhere (duplicate ids, wrong refs)
        ids = [
            (c, j)
            for c, j in slots
            if isinstance(c, yaml.MappingNode) and c.value[j][0].value == "id"
        ]
        source_container, j = rng.choice(ids)
        node = source_container.value[j][1]
        if mapping:
            container.value[i] = (container.value[i][0], node)
        else:
            container.value[i] = node


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False), st.integers(1, 3))
def test_mutated_questionnaire_tree(rng, edits):
    root = yaml.compose(STANDARD_TEXT)
    for _ in range(edits):
        _mutate(root, rng)
    text = yaml.serialize(root, allow_unicode=True)
    lines = text.count("\n") + 1
    try:
        questionnaire = load_questionnaire_text(text, "mutated.yaml")
    except QuestionnaireError as error:
        event("refused")
        assert error.problems
        for problem in error.problems:
            assert problem.file == "mutated.yaml"
            assert 0 <= problem.line <= lines, problem
            assert problem.message.strip(), problem
        return
    event("loaded")
    assert isinstance(questionnaire, Questionnaire)
    # A loaded questionnaire is usable: its conditions read only questions it declares.
    for question in questionnaire.questions.values():
        for condition in (question.relevant, question.constraint):
            if condition is not None:
                assert condition.refs <= set(questionnaire.questions)


def test_unchanged_tree_loads():
    text = yaml.serialize(yaml.compose(STANDARD_TEXT), allow_unicode=True)
    assert load_questionnaire_text(text, "same.yaml").id == "public-security-satisfaction"
