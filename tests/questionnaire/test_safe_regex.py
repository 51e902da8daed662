"""regex() patterns: the safe subset, matched without backtracking (questionnaire/safe_regex.py).

Agreement with the browser's RegExp is checked in test_conditions_js.py."""

from __future__ import annotations

import time

import pytest

from surveyapp.questionnaire.safe_regex import MAX_TEXT, PatternError, compile_pattern


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("^[0-9]{11}$", "13800138000", True),
        ("^[0-9]{11}$", "1380013800", False),
        ("^[0-9]{11}$", "138001380000", False),
        ("[0-9]+", "ab12", True),  # a search
        ("^\\d{6}(\\d{2})?$", "12345678", True),
        ("^\\d{6}(\\d{2})?$", "1234567", False),
        ("^[1-9]\\d{16}[0-9Xx]$", "11010519491231002X", True),  # 身份证号
        ("^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$", "li@example.cn", True),
        ("^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$", "li @example.cn", False),
        ("^(ab|cd)?x$", "cdx", True),
        ("^(ab|cd)?x$", "abcdx", False),
        ("^[\u4e00-\u9fff]{2,4}$", "王小明", True),
        ("^[\u4e00-\u9fff]{2,4}$", "Wang", False),
        ("a.c", "a\nc", False),  # . is not a newline
        ("a$", "a\n", False),  # $ is the very end, not before a final newline
        ("\\d", "\u0663", False),  # ASCII, as Java's and ODK's
        ("\\w", "é", False),
        ("\\s", "\u3000", False),
        ("^[a-c-]+$", "a-c", True),
        ("^\\.\\*$", ".*", True),
        ("^$", "", True),
        ("x*", "", True),
    ],
)
def test_matches_by_hand(pattern, text, expected):
    assert compile_pattern(pattern).search(text) is expected


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [
        ("(a+)+", "cannot contain another repetition"),
        ("(a|ab)*c", "cannot contain another repetition or a '|'"),
        ("(\\d*)*", "cannot contain another repetition"),
        ("a*b*c*d*", "at most 3 repetitions"),
        ("(a)\\1", "back-references"),
        ("(?i)a", "only supported as '(?:'"),
        ("\\bword", "'\\b' is not supported"),
        ("\\p{L}", "'\\p' is not supported"),
        ("[z-a]", "backwards"),
        ("[abc", "never closed"),
        ("a{2,1}", "n <= m"),
        ("a{1000}", "at most 100"),
        ("*a", "nothing to repeat"),
        ("a**", "cannot follow another quantifier"),
        ("x" * 201, "longer than 200"),
    ],
)
def test_refusals(pattern, fragment):
    with pytest.raises(PatternError) as caught:
        compile_pattern(pattern)
    assert fragment in str(caught.value)


def test_time_is_linear_in_the_text():
    """What makes a backtracking engine take for ever is quick here (and long texts never match)."""
    pattern = compile_pattern("^(?:a|aa){0,1}a*a*a*b$")
    started = time.perf_counter()
    assert pattern.search("a" * MAX_TEXT) is False
    assert time.perf_counter() - started < 2.0
    assert compile_pattern("a").search("a" * (MAX_TEXT + 1)) is False


def test_javascript_spells_every_set_out():
    assert compile_pattern("^\\d+$").javascript == "^(?:[\\u{30}-\\u{39}])+$"
    assert compile_pattern("a|b").javascript == "(?:[\\u{61}]|[\\u{62}])"
