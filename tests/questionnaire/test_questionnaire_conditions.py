"""The condition language: parsing, precedence, functions and evaluation semantics."""

from __future__ import annotations

import pytest

from surveyapp.questionnaire import ConditionSyntaxError, QuestionnaireError, parse_condition


def holds(source: str, answers: dict | None = None, current: object = None) -> bool:
    return parse_condition(source).evaluate(answers or {}, current)


class TestPrecedence:
    def test_and_binds_tighter_than_or(self) -> None:
        # true or (false and false) = true; (true or false) and false would be false
        assert holds("1 = 1 or 1 = 2 and 1 = 2")

    def test_parentheses_override_precedence(self) -> None:
        assert not holds("(1 = 1 or 1 = 2) and 1 = 2")

    def test_and_chain_is_left_to_right_and_all_must_hold(self) -> None:
        assert holds("1 = 1 and 2 = 2 and 3 = 3")
        assert not holds("1 = 1 and 2 = 2 and 3 = 4")

    def test_comparison_binds_tighter_than_and(self) -> None:
        answers = {"a": "x", "b": "y"}
        assert holds("${a} = 'x' and ${b} = 'y'", answers)
        assert not holds("${a} = 'x' and ${b} = 'x'", answers)

    def test_not(self) -> None:
        assert holds("not(1 = 2)")
        assert not holds("not(1 = 1)")
        assert holds("not(not(1 = 1))")
        assert holds("not(${a} = 'x' or ${a} = 'y')", {"a": "z"})
        assert not holds("not(${a} = 'x' or ${a} = 'y')", {"a": "y"})


class TestComparisons:
    def test_equality_of_codes(self) -> None:
        assert holds("${q} = 'yes'", {"q": "yes"})
        assert not holds("${q} = 'yes'", {"q": "no"})
        assert holds("${q} != 'yes'", {"q": "no"})
        assert holds('${q} = "yes"', {"q": "yes"})  # double quotes, as XLSForm allows

    def test_literal_may_be_on_the_left(self) -> None:
        assert holds("'yes' = ${q}", {"q": "yes"})

    def test_number_coerces_the_text_answer(self) -> None:
        assert holds("${q} = 1", {"q": "1"})
        assert holds("${q} = 1", {"q": "1.0"})
        assert holds("${q} < 4", {"q": "3"})
        assert not holds("${q} < 4", {"q": "4"})
        assert holds("${q} >= 4", {"q": "4"})

    def test_int_answer_against_text_literal(self) -> None:
        assert holds("${age} = '30'", {"age": 30})
        assert holds("${age} > 17", {"age": 18})
        assert not holds("${age} > 17", {"age": 17})

    def test_numeric_texts_compare_as_numbers(self) -> None:
        # as text, "10" < "9"; as numbers it is not
        assert not holds("${q} < '9'", {"q": "10"})
        assert holds("${q} > '9'", {"q": "10"})

    def test_non_numeric_text_against_number_is_false_not_an_error(self) -> None:
        assert not holds("${q} = 1", {"q": "abc"})
        assert not holds("${q} < 1", {"q": "abc"})
        assert not holds("${q} >= 1", {"q": "abc"})
        assert holds("${q} != 1", {"q": "abc"})

    def test_dates_compare_as_text(self) -> None:
        assert holds(". <= '2025-12-31'", current="2025-06-01")
        assert not holds(". <= '2025-12-31'", current="2026-01-01")

    def test_negative_numbers(self) -> None:
        assert holds(". >= -5", current=-5)
        assert not holds(". >= -5", current=-6)

    def test_decimal_numbers(self) -> None:
        assert holds(". < 2.5", current="2.25")
        assert holds(". > .5", current="0.75")


class TestUnanswered:
    def test_unanswered_is_empty_text(self) -> None:
        assert holds("${q} = ''", {})
        assert holds("${q} = ''", {"q": None})
        assert not holds("${q} = 'yes'", {})
        assert holds("${q} != 'yes'", {})

    def test_unanswered_never_satisfies_an_ordering(self) -> None:
        for op in ("<", "<=", ">", ">="):
            assert not holds(f"${{q}} {op} 5", {}), op
            assert not holds(f"${{q}} {op} 'm'", {}), op

    def test_unanswered_is_not_equal_to_zero(self) -> None:
        assert not holds("${q} = 0", {})


class TestFunctions:
    def test_selected_on_a_list(self) -> None:
        answers = {"f": ["theft", "fraud"]}
        assert holds("selected(${f}, 'fraud')", answers)
        assert not holds("selected(${f}, 'noise')", answers)

    def test_selected_on_space_separated_text_and_single_answers(self) -> None:
        assert holds("selected(${f}, 'b')", {"f": "a b"})
        assert holds("selected(${s}, 'x')", {"s": "x"})
        assert not holds("selected(${s}, 'x')", {})

    def test_selected_with_a_number_code(self) -> None:
        assert holds("selected(${f}, 9)", {"f": ["1", "9"]})

    def test_count_selected(self) -> None:
        assert holds("count-selected(${f}) = 2", {"f": ["a", "b"]})
        assert holds("count-selected(${f}) = 0", {})
        assert holds("count-selected(.) <= 3", current=["a", "b", "c"])
        assert not holds("count-selected(.) <= 3", current=["a", "b", "c", "d"])

    def test_string_length(self) -> None:
        assert holds("string-length(.) = 3", current="安全感")
        assert holds("string-length(${t}) = 0", {})
        assert holds("string-length(${n}) = 2", {"n": 42})

    def test_current_value(self) -> None:
        assert holds(". >= 16 and . <= 120", current=16)
        assert not holds(". >= 16 and . <= 120", current=15)
        assert not holds(". >= 16", current=None)


class TestParsedObject:
    def test_refs_and_source(self) -> None:
        condition = parse_condition("${a} = 'x' or selected(${b}, 'y') and not(${c} = 1)")
        assert condition.refs == frozenset({"a", "b", "c"})
        assert condition.source == "${a} = 'x' or selected(${b}, 'y') and not(${c} = 1)"
        assert not condition.uses_current
        assert parse_condition(". > 1").uses_current

    def test_compared_codes(self) -> None:
        condition = parse_condition("${a} = 'x' or 9 != ${b} or selected(., 'z') or ${c} < 3")
        assert set(condition.compared_codes()) == {("a", "x"), ("b", "9"), (None, "z")}

    def test_reference_names_may_have_spaces_inside_braces(self) -> None:
        assert parse_condition("${ a } = 1").refs == frozenset({"a"})

    def test_evaluate_returns_bool(self) -> None:
        assert holds("count-selected(${f})", {"f": ["a"]}) is True
        assert holds("${t}", {}) is False


@pytest.mark.parametrize(
    ("source", "column", "fragment"),
    [
        ("", 1, "ends too early"),
        ("${a} =", 7, "ends too early"),
        ("${a} = 'x' and", 15, "ends too early"),
        ("a = 1", 1, "unknown name 'a'"),
        ("${a} == 1", 7, "unexpected '='"),
        ("1 < 2 < 3", 7, "cannot be chained"),
        ("foo(1)", 1, "unknown function 'foo()'"),
        ("not(1, 2)", 1, "not() takes 1 argument, not 2"),
        ("selected(${a})", 1, "selected() takes 2 arguments, not 1"),
        ("'abc", 1, "never closed"),
        ("${a", 1, "'${' is never closed"),
        ("${1a} = 1", 1, "does not name a question"),
        ("(1 = 1", 7, "expected ')'"),
        ("1 = 1)", 6, "unexpected ')'"),
        ("${a} / 2", 6, "divide with 'div'"),
        ("${a} + ", 8, "ends too early"),
        ("${a} div", 9, "ends too early"),
        ("div 2", 1, "'div' needs something before it"),
        ("regex(., ${b})", 1, "pattern written as a text in quotes"),
        ("regex(., '(a+)+')", 1, "cannot contain another repetition"),
        ("regex(., '(?=a)')", 1, "only supported as '(?:'"),
        ("regex(., '" + "a" * 201 + "')", 1, "longer than 200 characters"),
        ("if(1, 2)", 1, "if() takes 3 arguments, not 2"),
        ("today(1)", 1, "today() takes 0 arguments, not 1"),
        ("${a} = 'x' && 1", 12, "'&' is not supported"),
        ("and 1", 1, "'and' needs something before it"),
        ("${a} = 1 ${b}", 10, "unexpected '${b}'"),
        ("1 = 1 # comment", 7, "unexpected character '#'"),
        ("(" * 60 + "1" + ")" * 60, 51, "nested too deeply"),
    ],
)
def test_syntax_errors(source: str, column: int, fragment: str) -> None:
    with pytest.raises(ConditionSyntaxError) as caught:
        parse_condition(source)
    assert fragment in caught.value.message
    assert caught.value.column == column
    assert isinstance(caught.value, QuestionnaireError)
    assert caught.value.problems[0].message.endswith(f"(column {column})")


# --- the compiled closures compute what walking the tree computes ----------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from surveyapp.questionnaire.conditions import _evaluate, _truth  # noqa: E402
from tests.properties import examples  # noqa: E402

_OPERANDS = st.sampled_from(["${a}", "${m}", ".", "'x'", "' x '", "'1'", "''", "1", "2.5"])


def _conditions() -> st.SearchStrategy[str]:
    comparison = st.builds(
        lambda left, op, right: f"{left} {op} {right}",
        _OPERANDS,
        st.sampled_from(["=", "!=", "<", ">="]),
        _OPERANDS,
    )
    selected = st.builds(
        lambda q, c: f"selected({q}, {c})",
        st.sampled_from(["${m}", "${a}", "."]),
        st.sampled_from(["'x'", "' x'", "'1'", "1", "${a}"]),
    )
    arithmetic = st.builds(
        lambda left, op, right: f"({left} {op} {right}) > 1",
        _OPERANDS,
        st.sampled_from(["+", "-", "*", "div", "mod"]),
        _OPERANDS,
    )
    regex = st.builds(lambda q: f"regex({q}, '^x|1$')", st.sampled_from(["${m}", "${a}", "."]))
    leaf = comparison | selected | arithmetic | regex
    connectives = st.sampled_from(["and", "or"])
    return st.recursive(
        leaf,
        lambda inner: (
            st.builds(lambda left, op, right: f"({left}) {op} ({right})", inner, connectives, inner)
            | inner.map(lambda c: f"not({c})")
        ),
        max_leaves=4,
    )


_TEXTS = st.sampled_from(["x", "1", "", " x", "y"])
_ANSWER = st.one_of(
    _TEXTS,
    st.none(),
    st.integers(-1, 2),
    st.floats(allow_nan=False, width=32),
    st.lists(_TEXTS, max_size=3),
    st.lists(st.integers(0, 2), max_size=2),
)


@settings(max_examples=examples(1000), deadline=None)
@given(_conditions(), st.fixed_dictionaries({}, optional={"a": _ANSWER, "m": _ANSWER}), _ANSWER)
def test_compiled_conditions_agree_with_the_tree(source, answers, current) -> None:
    try:
        condition = parse_condition(source)
    except QuestionnaireError:
        return
    expected = _truth(_evaluate(condition._tree, answers, current))
    assert condition.evaluate(answers, current) is expected
