"""The browser's condition evaluator (``static/js/conditions.js``, run in node) and the server's
(``questionnaire/conditions.py``) give the same answer for every condition and every answer.

The server parses the condition once and the browser only evaluates the JSON tree it receives,
so these tests drive the JavaScript with exactly what a tablet gets: ``Condition.to_json()``
after a trip through JSON. Anything the browser cannot evaluate counts as false (the question
is hidden), never as true.
"""

from __future__ import annotations

import datetime
import json
import math
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from surveyapp.questionnaire import conditions
from surveyapp.questionnaire.conditions import FORMAT, parse_condition
from surveyapp.questionnaire.model import MAX_INSTANCES
from surveyapp.questionnaire.problems import QuestionnaireError
from tests.properties import examples

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "tests" / "js" / "evaluate_conditions.js"
SCRIPT = ROOT / "surveyapp" / "static" / "js" / "conditions.js"
NODE = shutil.which("node")
TODAY = datetime.date(2026, 12, 3)  # today() on both sides

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


class Browser:
    """One node process evaluating conditions with conditions.js, a JSON line per request."""

    def __init__(self) -> None:
        assert NODE is not None
        self.process = subprocess.Popen(
            [NODE, str(HARNESS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def _ask(self, request: dict[str, Any]) -> Any:
        """Send one request line to the node process and read its result line."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request, allow_nan=False) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, "node stopped"
        return json.loads(line)["result"]

    def evaluate(self, condition: Any, answers: dict[str, Any], current: Any = None) -> bool:
        request = {
            "condition": condition,
            "answers": answers,
            "current": current,
            "today": TODAY.isoformat(),
        }
        return self._ask(request)

    def repeat_count(self, expression: Any, answers: dict[str, Any]) -> int:
        """The number of instances the tablet makes for a repeat count (offline.js)."""
        request = {"condition": expression, "answers": answers, "repeat_count": True}
        request["today"] = TODAY.isoformat()
        return self._ask(request)

    def too_many(self, repeat: dict[str, Any], answers: dict[str, Any]) -> bool:
        """Whether the tablet finds a repeat group's count above its limit (``repeat``: the
        group's ``repeat`` in the questionnaire document)."""
        request = {"repeat": repeat, "answers": answers, "today": TODAY.isoformat()}
        return self._ask(request)

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(10)
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(conditions, "today", lambda: TODAY)


@pytest.fixture(scope="module")
def browser_conditions():
    browser = Browser()
    yield browser
    browser.close()


def both(browser: Browser, source: str, answers: dict[str, Any], current: Any = None):
    """Return (server, browser) for ``source`` over ``answers``, as a tablet receives it."""
    condition = parse_condition(source)
    sent = json.loads(json.dumps(condition.to_json(), allow_nan=False))
    return condition.evaluate(answers, current), browser.evaluate(sent, answers, current)


# --- the defect: conditions the old browser parser refused, and then showed the question -----


@pytest.mark.parametrize(
    ("source", "answer", "expected"),
    [
        ("${q1} != -1", "-1", False),
        ("${q1} != -1", "3", True),
        ("${q1} != -1", -1, False),
        ("${q1} > -1", "-5", False),
        ("${q1} > -1", "0", True),
        ("${q1} > -1", "", False),
        ("${q1} < .5", "0.25", True),
        ("${q1} < .5", "2", False),
        ("${q1} < .5", "", False),
        ("${q1} >= -0.5 and ${q1} <= .5", "-0.5", True),
    ],
)
def test_negative_and_leading_dot_numbers(browser_conditions, source, answer, expected):
    server, browser = both(browser_conditions, source, {"q1": answer})
    assert server is expected
    assert browser is expected


def test_the_browser_has_no_parser():
    text = SCRIPT.read_text(encoding="utf-8")
    assert "tokenize" not in text and "parse(" not in text.replace("JSON.parse(", "")
    assert re.search(r"var FORMAT = (\d+);", text).group(1) == str(FORMAT)


@pytest.mark.parametrize(
    "condition",
    [
        None,
        "${q1} = 'yes'",  # text, as the old tablet documents carried: not evaluated any more
        {"format": FORMAT + 1, "tree": ["str", "x"]},
        {"format": FORMAT, "tree": ["unknown", ["str", "x"]]},
        {"format": FORMAT, "tree": ["not"]},
        {"format": FORMAT, "tree": ["num", "12"]},
        {"format": FORMAT, "tree": "yes"},
    ],
)
def test_what_cannot_be_evaluated_is_false(browser_conditions, condition):
    """Fail closed: a condition the browser cannot evaluate hides its question."""
    assert browser_conditions.evaluate(condition, {"q1": "yes"}) is False


@pytest.mark.parametrize(
    ("source", "answers", "current", "expected"),
    [
        ("${a} + 2 * 3 = 7", {"a": "1"}, None, True),  # precedence: 1 + 6
        ("(${a} + 2) * 3 = 9", {"a": "1"}, None, True),
        ("${a} - 1 = 0", {"a": ""}, None, False),  # unanswered: NaN
        ("-${a} = -4", {"a": 4}, None, True),
        ("10 div 4 = 2.5", {}, None, True),
        ("1 div 0 > 1000000", {}, None, True),  # Infinity
        ("0 div 0 = 0 div 0", {}, None, False),  # NaN
        ("-7 mod 3 = -1 and 7 mod -3 = 1", {}, None, True),
        ("today() = '2026-12-03'", {}, None, True),
        ("today() - ${d} = 33", {"d": "2026-10-31"}, None, True),  # 31 - 31 + 30 + 3 days
        ("int((today() - ${dob}) div 365.25) = 26", {"dob": "2000-01-01"}, None, True),
        ("int((today() - ${dob}) div 365.25) >= 18", {"dob": "2009-01-01"}, None, False),
        ("if(${a} >= 60, 'old', 'young') = 'old'", {"a": 61}, None, True),
        ("if(${a} >= 60, 'old', 'young') = 'old'", {"a": ""}, None, False),
        ("coalesce(${a}, ${b}) = 5", {"b": 5}, None, True),
        ("coalesce(${a}, ${b}) = 5", {"a": "4", "b": 5}, None, False),
        ("string-length(.) = 2", {}, "北京", True),
        ("regex(., '^1[3-9][0-9]{9}$')", {}, "13912345678", True),
        ("regex(., '^1[3-9][0-9]{9}$')", {}, "1391234567", False),
        ("regex(., '^1[3-9][0-9]{9}$')", {}, "13912345678\n", False),  # $ is the very end
        ("regex(., '[0-9]')", {}, "ab1", True),  # a search, as in ODK
        ("regex(., '\\d')", {}, "\u0663", False),  # \d is ASCII, as in Java
        ("regex(., '^.$')", {}, "\U0001f600", True),  # one character, not two halves
        ("selected(${m}, 'a b') or selected(${m}, 'c')", {"m": ["c"]}, None, True),
    ],
)
def test_expressions_by_hand(browser_conditions, source, answers, current, expected):
    server, browser = both(browser_conditions, source, answers, current)
    assert server is expected
    assert browser is expected


def test_tree_json():
    tree = parse_condition("selected(${m}, 'a') and not(. > -1.5) or ${m} = 'x'").to_json()
    assert tree == {
        "format": FORMAT,
        "source": "selected(${m}, 'a') and not(. > -1.5) or ${m} = 'x'",
        "tree": [
            "or",
            [
                "and",
                ["selected", ["ref", "m"], ["str", "a"]],
                ["not", [">", ["current"], ["num", -1.5]]],
            ],
            ["=", ["ref", "m"], ["str", "x"]],
        ],
    }
    huge = parse_condition("${a} < " + "9" * 400).to_json()
    assert huge["tree"] == ["<", ["ref", "a"], ["num", "Infinity"]]


# --- any condition, any answers: the two evaluators agree -----------------------------------

# Texts chosen for the rules that differ between naive JavaScript and Python: numbers as text
# with signs, dots and Python's whitespace (\x1c, \x85, U+3000), code-point order (an astral
# character against U+FFFF), and codes separated by several spaces.
_TEXTS = st.one_of(
    st.sampled_from(
        [
            "",
            "x",
            "yes",
            "a b",
            " a  b ",
            "1",
            "-1",
            "-0",
            "+.5",
            "1.",
            " 2.5 ",
            ".5",
            "0.25",
            "\x1c3\x85",
            "\u30003",
            "\ufeff3",
            "1e5",
            "\uffff",
            "\U0001f600",
            "é",
            "NaN",
            "Infinity",
            "true",
        ]
    ),
    st.text(max_size=6),
)
_NUMBERS = st.one_of(
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.1, 1e-05, -1.5e-07, 1e16, 1e300, 123456.789, -0.0, 0.5, -1.0]),
)
_ANSWERS = st.one_of(
    st.none(),
    _TEXTS,
    _NUMBERS,
    st.booleans(),
    st.lists(_TEXTS, max_size=3),
)


def _quote(text: str) -> str:
    return f"'{text}'" if "'" not in text else f'"{text}"'


_STRING_LITERALS = _TEXTS.filter(lambda t: not ("'" in t and '"' in t)).map(_quote)
_NUMBER_LITERALS = st.one_of(
    st.sampled_from(["-1", ".5", "0", "-0", "1", "2.50", "-0.5", "1" + "0" * 400]),
    st.integers(-1000, 1000).map(str),
    st.decimals(-1000, 1000, places=3, allow_nan=False, allow_infinity=False).map(str),
)
_REFS = st.sampled_from(["${a}", "${b}", "${q1}", "."])
# Patterns of the safe subset, with what distinguishes Python's and JavaScript's engines
# (\d and \s beyond ASCII, $ before a final newline, . against \r and U+2028, astral characters).
_PATTERNS = st.sampled_from(
    [
        "^[0-9]{3}$",
        "\\d+",
        "^\\s*$",
        "\\w",
        "^.$",
        "a$",
        "^1[3-9]\\d{9}$",
        "^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$",
        "(ab|cd)?x",
        "[\\u4e00-\\u9fff]",
        "^$",
        "é|\U0001f600",
        "[a-c-]{0,2}z?",
        "^(?:x[0-9]){1,2}$",
    ]
)


def _expressions() -> st.SearchStrategy[str]:
    operand = st.one_of(_REFS, _STRING_LITERALS, _NUMBER_LITERALS)
    call = st.one_of(
        st.builds(lambda x, y: f"selected({x}, {y})", operand, operand),
        st.builds(lambda x: f"count-selected({x})", operand),
        st.builds(lambda x: f"count({x})", operand),  # a roster's instances
        st.builds(lambda x: f"string-length({x})", operand),
        st.builds(lambda x, p: f"regex({x}, '{p}')", operand, _PATTERNS),
        st.just("today()"),
        st.builds(lambda x: f"int({x})", operand),
        st.builds(lambda x, y: f"coalesce({x}, {y})", operand, operand),
        st.builds(lambda x, y: f"{x} - {y}", st.sampled_from(["today()", "${a}"]), operand),
    )
    leaf = st.one_of(operand, call)
    comparison = st.builds(
        lambda left, op, right: f"{left} {op} {right}",
        leaf,
        st.sampled_from(["=", "!=", "<", "<=", ">", ">="]),
        leaf,
    )
    return st.recursive(
        comparison | leaf,
        lambda inner: st.one_of(
            st.builds(
                lambda x, op, y: f"({x}) {op} ({y})", inner, st.sampled_from(["and", "or"]), inner
            ),
            inner.map(lambda x: f"not({x})"),
            st.builds(lambda x: f"count-selected({x})", inner),
            st.builds(lambda x: f"string-length({x})", inner),
            st.builds(lambda x, y: f"selected({x}, {y})", inner, inner),
            st.builds(lambda x, y: f"({x}) = ({y})", inner, inner),
            st.builds(lambda x, y: f"({x}) < ({y})", inner, inner),
            st.builds(
                lambda x, op, y: f"({x}) {op} ({y})",
                inner,
                st.sampled_from(["+", "-", "*", "div", "mod"]),
                inner,
            ),
            inner.map(lambda x: f"-({x})"),
            st.builds(lambda c, x, y: f"if({c}, {x}, {y})", inner, inner, inner),
            st.builds(lambda x, y: f"coalesce({x}, {y})", inner, inner),
            st.builds(lambda x: f"int({x})", inner),
            st.builds(lambda x, p: f"regex({x}, '{p}')", inner, _PATTERNS),
        ),
        max_leaves=6,
    )


_NAMES = ("a", "b", "q1")


@settings(deadline=None, max_examples=examples(1000))
@given(
    _expressions(),
    st.fixed_dictionaries({}, optional={name: _ANSWERS for name in _NAMES}),
    _ANSWERS,
)
@example("${q1} != -1", {"q1": "-1"}, None)
@example("${q1} > -1", {"q1": -0.5}, None)
@example("${q1} < .5", {"q1": "0.25"}, None)
@example("selected(${a}, 1e-05)", {"a": ["1e-05"]}, None)
@example("selected(${a}, .)", {"a": ["1e-05"]}, 1e-05)
@example("string-length(${a}) = 1", {"a": "\U0001f600"}, None)
@example("${a} < ${b}", {"a": "\uffff", "b": "\U0001f600"}, None)
@example("${a} = 3", {"a": "\x1c3\x85"}, None)
@example("${a} = 3", {"a": "\ufeff3"}, None)
@example("string-length(.) = 301", {}, 1e300)
@example("1 div (${a} * -1) < 0", {"a": 0}, None)
@example("int(-0.5) = 0 and 1 div int(-0.5) < 0", {}, None)
@example("today() - ${a} = 2", {"a": "2026-12-01"}, None)
@example("${a} - 1 = 0", {"a": "2026-02-30"}, None)
@example("regex(., 'a$')", {}, "a\n")
@example("regex(., '^.$')", {}, "\r")
@example("regex(., '\\d')", {}, "\u0663")
@example("regex(., '^.$')", {}, "\U0001f600")
@example("-7 mod 3 = -1 and 7 mod -3 = 1", {}, None)
@example("(${a} + 0.1) * 3 = 0.9000000000000001", {"a": 0.2}, None)
def test_browser_and_server_agree(browser_conditions, source, answers, current):
    try:
        parse_condition(source)
    except QuestionnaireError:
        return
    assert not any(isinstance(v, float) and not math.isfinite(v) for v in answers.values())
    server, browser = both(browser_conditions, source, answers, current)
    assert browser is server, (source, answers, current)


@pytest.mark.parametrize(
    ("columns", "answers", "expected"),
    [
        ({"street": "s1", "name": "c1"}, {"street": "s1"}, True),
        ({"street": "s2", "name": "c2"}, {"street": "s1"}, False),
        ({"street": "s1", "name": "g9"}, {"street": "s1"}, False),  # name is the code
        ({"name": "c4"}, {"street": "s1"}, False),  # no street column: empty
        ({"street": "s1", "name": "c1"}, {}, False),  # street not answered yet
    ],
)
def test_choice_filters_agree(browser_conditions, columns, answers, expected):
    """A cascading select's filter: bare names are the choice's columns (``current``)."""
    condition = parse_condition("street = ${street} and name != 'g9'", choice_filter=True)
    sent = json.loads(json.dumps(condition.to_json()))
    assert condition.evaluate(answers, columns) is expected
    assert browser_conditions.evaluate(sent, answers, columns) is expected


_COLUMN_VALUES = st.one_of(_TEXTS, st.sampled_from(["s1", "s2", "1", " 1 "]))


@settings(deadline=None, max_examples=examples(300))
@given(
    _expressions().map(lambda source: source.replace("${b}", "street").replace("${q1}", "name")),
    st.fixed_dictionaries({}, optional={"a": _ANSWERS}),
    st.fixed_dictionaries({"name": _COLUMN_VALUES}, optional={"street": _COLUMN_VALUES}),
)
def test_choice_filters_agree_on_any_columns(browser_conditions, source, answers, columns):
    """Choice filters: bare names read the choice's columns on both sides."""
    try:
        condition = parse_condition(source, choice_filter=True)
    except QuestionnaireError:
        return
    sent = json.loads(json.dumps(condition.to_json(), allow_nan=False))
    server = condition.evaluate(answers, columns)
    assert browser_conditions.evaluate(sent, answers, columns) is server, (source, answers, columns)


# --- a repeat group's count: the tablet makes as many instances as the server expects -------

_INSTANCES = st.lists(st.fixed_dictionaries({}), max_size=4)  # a roster's answers


def counts(browser: Browser, source: str, answers: dict[str, Any]) -> tuple[int, int]:
    """Return (server, tablet) for the count ``source`` of a repeat group over ``answers``."""
    from surveyapp.questionnaire.model import Repeat

    expression = parse_condition(source)
    sent = json.loads(json.dumps(expression.to_json(), allow_nan=False))
    return Repeat(expression).expected(answers), browser.repeat_count(sent, answers)


# A roster is only ever read through count() (the loader refuses ${r} elsewhere).
_COUNT_EXPRESSIONS = st.one_of(
    _REFS.filter(lambda r: r != "."),
    _NUMBER_LITERALS,
    _expressions(),
    st.just("count(${r})"),
    st.builds(
        lambda op, x: f"count(${{r}}) {op} ({x})",
        st.sampled_from(["+", "-", "*", "div", "mod"]),
        _expressions(),
    ),
)


@settings(deadline=None, max_examples=examples(500))
@given(
    _COUNT_EXPRESSIONS,
    st.fixed_dictionaries({}, optional={**{name: _ANSWERS for name in _NAMES}, "r": _INSTANCES}),
)
@example("${a}", {"a": ["3"]})  # a multiple choice of one code
@example("${a}", {"a": "\x1c3"})  # white space to Python's re, not to JavaScript's
@example("${a}", {"a": "\ufeff3"})  # the other way round
@example("${a}", {"a": True})
@example("count(${r}) + 1", {"r": [{}, {}]})
def test_the_tablet_and_the_server_read_a_repeat_count_alike(browser_conditions, source, answers):
    try:
        parse_condition(source)
    except QuestionnaireError:
        return
    server, tablet = counts(browser_conditions, source, answers)
    # As doubles: past 2**53 JavaScript writes a whole number with its shortest digits.
    assert float(tablet) == float(server), (source, answers)
    assert too_many(browser_conditions, source, answers, None) == (server > MAX_INSTANCES,) * 2


def too_many(
    browser: Browser, source: str, answers: dict[str, Any], maximum: int | None
) -> tuple[bool, bool]:
    """Return (server, tablet): whether the count ``source`` is above the group's limit."""
    from surveyapp.fieldwork.offline import _repeat
    from surveyapp.questionnaire.model import Repeat

    repeat = Repeat(parse_condition(source), None, maximum)
    sent = json.loads(json.dumps(_repeat(repeat), allow_nan=False))  # as the tablet gets it
    return repeat.too_many(answers), browser.too_many(sent, answers)


@pytest.mark.parametrize(
    ("answer", "maximum", "expected"),
    [
        (100, None, False),
        (101, None, True),
        ("101", None, True),
        (5e16, None, True),  # "how many people live here": 5e16
        ("50000000000000000", None, True),
        (1e300, None, True),
        (3, 3, False),
        (4, 3, True),
        (-5e16, None, False),  # none, as ODK reads it
    ],
)
def test_a_count_above_the_limit_alike(browser_conditions, answer, maximum, expected):
    """A count above MAX_INSTANCES (100) or the group's max: refused by the server, no
    instances built on the tablet; the same on both sides, by hand."""
    answers = {"household_size": answer}
    assert too_many(browser_conditions, "${household_size}", answers, maximum) == (
        expected,
        expected,
    )


@pytest.mark.parametrize(
    ("size", "instances", "crowded"),
    [("3", 3, True), (" 2.9 ", 2, False), ("4", 4, True), ("0", 0, False), ("x", 0, False)],
)
def test_count_shows_a_question_alike(browser_conditions, size, instances, crowded):
    """The roster's members made from ``household_size`` (tests/questionnaire/data/roster.yaml),
    then ``count(${members}) >= 3`` shows "crowded": the same on both sides, by hand."""
    assert counts(browser_conditions, "${household_size}", {"household_size": size}) == (
        instances,
        instances,
    )
    answers = {"household_size": size, "members": [{} for _ in range(instances)]}
    assert both(browser_conditions, "count(${members}) >= 3", answers) == (crowded, crowded)
