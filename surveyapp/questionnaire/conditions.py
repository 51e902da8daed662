"""Skip-logic and constraint conditions: a small subset of XLSForm/XPath, parsed, never eval'd.

The language is deliberately the one XLSForm uses, so that forms written for ODK/KoboToolbox can
be imported by copying their ``relevant`` and ``constraint`` columns::

    ${had_dispute} = 'yes' and not(selected(${dispute_type}, 'family'))
    . >= 16 and . <= 120
    count-selected(${unsafe_factors}) <= 3
    regex(., '^1[3-9][0-9]{9}$')
    if(${age} >= 60, 'old', 'young') = 'old' and (today() - ${visit}) div 7 < 4

Arithmetic (``+ - * div mod`` and unary ``-``) works on numbers as XPath does: a text that is
not a number is NaN, ``1 div 0`` is Infinity, ``mod`` keeps the sign of the dividend; a date
written ``YYYY-MM-DD`` counts as its number of days since 1970-01-01, so ``today() - ${dob}``
is an age in days. ``today()`` is the server's (or the tablet's) date as ``YYYY-MM-DD``; tests
fix it through :data:`today`. ``regex()`` takes its pattern as a literal text and accepts only
the safe subset of :mod:`~surveyapp.questionnaire.safe_regex`.

A hand-written tokenizer and recursive-descent parser build a small tree; evaluation walks the
tree over an answers mapping. Evaluation never raises on user data: an unanswered question is the
empty text ``''``, comparisons with numbers convert the other side to a number (a text that is not
a number becomes NaN, which compares false), and an unanswered question never satisfies an
ordering comparison.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ..errors import N_, Text, Worded
from .problems import Problem, QuestionnaireError
from .safe_regex import Pattern, PatternError, compile_pattern

__all__ = [
    "FORMAT",
    "FUNCTIONS",
    "Condition",
    "ConditionSyntaxError",
    "parse_condition",
    "today",
]

#: Functions the language knows, with their number of arguments.
FUNCTIONS: Mapping[str, int] = {
    "not": 1,
    "selected": 2,
    "count-selected": 1,
    "count": 1,
    "string-length": 1,
    "regex": 2,
    "today": 0,
    "if": 3,
    "coalesce": 2,
    "int": 1,
}

#: The date ``today()`` returns; tests replace it (``monkeypatch.setattr(conditions, "today",
#: lambda: datetime.date(2026, 12, 3))``).
today: Callable[[], datetime.date] = datetime.date.today

_ARITHMETIC = frozenset({"+", "-", "*", "div", "mod"})
_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})\Z")
_EPOCH = datetime.date(1970, 1, 1)

#: Version of the JSON a parsed condition is sent to the browser in (:meth:`Condition.to_json`);
#: ``static/js/conditions.js`` refuses, and so hides the question for, any other version.
FORMAT = 1

_COMPARISONS = frozenset({"=", "!=", "<", "<=", ">", ">="})
_MAX_DEPTH = 50  # parentheses and calls nested deeper than this are surely a mistake
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_NUMBER_TEXT_RE = re.compile(r"\s*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))\s*\Z")
_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
    |(?P<ref>\$\{(?P<refname>[^}]*)\})
    |(?P<string>'[^']*'|"[^"]*")
    |(?P<number>[0-9]+(?:\.[0-9]+)?|\.[0-9]+)
    |(?P<op>!=|<=|>=|=|<|>|\(|\)|,|-|\+|\*)
    |(?P<current>\.)
    |(?P<name>[A-Za-z_][A-Za-z0-9_-]*)
    """,
    re.VERBOSE,
)


class ConditionSyntaxError(QuestionnaireError):
    """A condition's text is not a valid expression; ``column`` is 1-based."""

    def __init__(self, message: str | Text, column: int, source: str = "") -> None:
        #: English (a str); a :class:`Worded` when it was raised as a Text, translated with
        #: the problem that quotes it.
        self.message = Worded(message) if isinstance(message, Text) else message
        self.column = column
        self.source = source
        super().__init__([Problem("<condition>", 1, "", f"{message} (column {column})")])


# --- the tree ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Literal:
    value: str | float
    text: str  # as written, so that ``1`` can be checked against the answer code "1"


@dataclass(frozen=True)
class _Ref:
    qid: str


@dataclass(frozen=True)
class _Current:
    pass


@dataclass(frozen=True)
class _Binary:
    op: str
    left: _Node
    right: _Node


@dataclass(frozen=True)
class _Call:
    name: str
    args: tuple[_Node, ...]


@dataclass(frozen=True)
class _Prop:
    """In a choice filter, a column of the choice being filtered (``name`` is its code)."""

    name: str


@dataclass(frozen=True)
class _Regex:
    subject: _Node
    pattern: Pattern


_Node = _Literal | _Ref | _Current | _Binary | _Call | _Regex | _Prop


def _walk(node: _Node) -> Iterator[_Node]:
    yield node
    if isinstance(node, _Binary):
        yield from _walk(node.left)
        yield from _walk(node.right)
    elif isinstance(node, _Call):
        for arg in node.args:
            yield from _walk(arg)
    elif isinstance(node, _Regex):
        yield from _walk(node.subject)


def _tree_json(node: _Node) -> list[Any]:
    """One node as a JSON array: ``[kind, ...operands]`` (see :meth:`Condition.to_json`)."""
    if isinstance(node, _Literal):
        if isinstance(node.value, str):
            return ["str", node.value]
        if math.isfinite(node.value):
            return ["num", node.value]
        # JSON has no infinity; a literal of 400 digits is one. The browser reads the text back.
        return ["num", "Infinity" if node.value > 0 else "-Infinity"]
    if isinstance(node, _Ref):
        return ["ref", node.qid]
    if isinstance(node, _Current):
        return ["current"]
    if isinstance(node, _Prop):
        return ["prop", node.name]
    if isinstance(node, _Binary):
        return [node.op, _tree_json(node.left), _tree_json(node.right)]
    if isinstance(node, _Regex):
        return ["regex", _tree_json(node.subject), node.pattern.javascript]
    return [node.name, *(_tree_json(arg) for arg in node.args)]


# --- tokenizer and parser ------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # ref, string, number, op, current, name, end
    text: str
    column: int


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN_RE.match(source, pos)
        if match is None:
            char = source[pos]
            if char in "'\"":
                raise ConditionSyntaxError(
                    Text(N_("text starting with %(char)s is never closed"), char=char), pos + 1
                )
            if source.startswith("${", pos):
                raise ConditionSyntaxError(Text(N_("'${' is never closed with '}'")), pos + 1)
            if char == "/":
                message = Text(N_("operator '/' is not supported: divide with 'div'"))
                raise ConditionSyntaxError(message, pos + 1)
            if char in "|&!":
                raise ConditionSyntaxError(
                    Text(N_("operator '%(char)s' is not supported"), char=char), pos + 1
                )
            raise ConditionSyntaxError(
                Text(N_("unexpected character %(char)s"), char=repr(char)), pos + 1
            )
        kind = match.lastgroup
        assert kind is not None
        if kind != "ws":
            text = match.group(kind)
            if kind == "ref":
                name = match.group("refname").strip()
                if not _NAME_RE.match(name):
                    raise ConditionSyntaxError(
                        Text(N_("'%(text)s' does not name a question"), text=text), pos + 1
                    )
                text = name
            tokens.append(_Token(kind, text, pos + 1))
        pos = match.end()
    tokens.append(_Token("end", "", len(source) + 1))
    return tokens


class _Parser:
    """Recursive descent; precedence from loosest: or, and, comparison, + -, * div mod,
    unary -, primary."""

    def __init__(self, source: str, choice_filter: bool = False) -> None:
        self.tokens = _tokenize(source)
        self.index = 0
        self.depth = 0
        self.choice_filter = choice_filter

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def expect(self, text: str) -> _Token:
        token = self.advance()
        if token.kind != "op" or token.text != text:
            raise ConditionSyntaxError(
                Text(
                    N_("expected '%(text)s' but found %(what)s"),
                    text=text,
                    what=_describe(token),
                ),
                token.column,
            )
        return token

    def parse(self) -> _Node:
        node = self.or_expr()
        token = self.peek()
        if token.kind != "end":
            raise ConditionSyntaxError(
                Text(N_("unexpected %(what)s"), what=_describe(token)), token.column
            )
        return node

    def keyword(self, word: str) -> bool:
        token = self.peek()
        return token.kind == "name" and token.text == word

    def or_expr(self) -> _Node:
        node = self.and_expr()
        while self.keyword("or"):
            self.advance()
            node = _Binary("or", node, self.and_expr())
        return node

    def and_expr(self) -> _Node:
        node = self.comparison()
        while self.keyword("and"):
            self.advance()
            node = _Binary("and", node, self.comparison())
        return node

    def comparison(self) -> _Node:
        node = self.additive()
        token = self.peek()
        if token.kind == "op" and token.text in _COMPARISONS:
            self.advance()
            node = _Binary(token.text, node, self.additive())
            following = self.peek()
            if following.kind == "op" and following.text in _COMPARISONS:
                raise ConditionSyntaxError(
                    Text(N_("comparisons cannot be chained; combine them with 'and'")),
                    following.column,
                )
        return node

    def additive(self) -> _Node:
        node = self.multiplicative()
        while self.peek().kind == "op" and self.peek().text in ("+", "-"):
            op = self.advance().text
            node = _Binary(op, node, self.multiplicative())
        return node

    def multiplicative(self) -> _Node:
        node = self.unary()
        while (self.peek().kind == "op" and self.peek().text == "*") or (
            self.keyword("div") or self.keyword("mod")
        ):
            op = self.advance().text
            node = _Binary(op, node, self.unary())
        return node

    def unary(self) -> _Node:
        token = self.peek()
        if token.kind == "op" and token.text == "-":
            following = self.tokens[self.index + 1]
            if following.kind != "number":
                self.advance()
                self.enter(token)
                node = _Call("neg", (self.unary(),))
                self.depth -= 1
                return node
        return self.primary()

    def primary(self) -> _Node:
        token = self.advance()
        if token.kind == "string":
            return _Literal(token.text[1:-1], token.text)
        if token.kind == "number":
            return _Literal(float(token.text), token.text)
        if token.kind == "ref":
            return _Ref(token.text)
        if token.kind == "current":
            return _Current()
        if token.kind == "op" and token.text == "-":  # before a number (see unary)
            number = self.advance()
            return _Literal(-float(number.text), "-" + number.text)
        if token.kind == "op" and token.text == "(":
            self.enter(token)
            node = self.or_expr()
            self.expect(")")
            self.depth -= 1
            return node
        if token.kind == "name":
            return self.name(token)
        if token.kind == "end":
            raise ConditionSyntaxError(Text(N_("the condition ends too early")), token.column)
        raise ConditionSyntaxError(
            Text(N_("unexpected %(what)s"), what=_describe(token)), token.column
        )

    def name(self, token: _Token) -> _Node:
        if token.text in ("and", "or", "div", "mod"):
            raise ConditionSyntaxError(
                Text(N_("'%(word)s' needs something before it"), word=token.text), token.column
            )
        following = self.peek()
        if not (following.kind == "op" and following.text == "(") and self.choice_filter:
            return _Prop(token.text)
        if not (following.kind == "op" and following.text == "("):
            raise ConditionSyntaxError(
                Text(
                    N_(
                        "unknown name '%(name)s': write ${%(name)s} for a question's answer "
                        "or '%(name)s' for a text"
                    ),
                    name=token.text,
                ),
                token.column,
            )
        arity = FUNCTIONS.get(token.text)
        if arity is None:
            known = ", ".join(f"{name}()" for name in FUNCTIONS)
            raise ConditionSyntaxError(
                Text(
                    N_("unknown function '%(name)s()' (known: %(known)s)"),
                    name=token.text,
                    known=known,
                ),
                token.column,
            )
        self.advance()
        self.enter(token)
        args: list[_Node] = []
        if not (self.peek().kind == "op" and self.peek().text == ")"):
            args.append(self.or_expr())
            while self.peek().kind == "op" and self.peek().text == ",":
                self.advance()
                args.append(self.or_expr())
        self.expect(")")
        self.depth -= 1
        if len(args) != arity:
            template = (
                N_("%(name)s() takes %(arity)s argument, not %(n)s")
                if arity == 1
                else N_("%(name)s() takes %(arity)s arguments, not %(n)s")
            )
            raise ConditionSyntaxError(
                Text(template, name=token.text, arity=arity, n=len(args)), token.column
            )
        if token.text == "regex":
            pattern = args[1]
            if not isinstance(pattern, _Literal) or not isinstance(pattern.value, str):
                raise ConditionSyntaxError(
                    Text(N_("regex() needs its pattern written as a text in quotes")),
                    token.column,
                )
            try:
                compiled = compile_pattern(pattern.value)
            except PatternError as error:
                raise ConditionSyntaxError(
                    Text(N_("regex(): %(error)s"), error=error.text), token.column
                ) from None
            return _Regex(args[0], compiled)
        return _Call(token.text, tuple(args))

    def enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise ConditionSyntaxError(Text(N_("the condition is nested too deeply")), token.column)


def _describe(token: _Token) -> str | Text:
    if token.kind == "end":
        return Text(N_("the end of the condition"))
    if token.kind == "ref":
        return f"'${{{token.text}}}'"
    return f"'{token.text}'"


# --- evaluation ----------------------------------------------------------------------------

# A value during evaluation: text, number, truth value, or the codes of a multiple choice.
_Value = str | float | bool | tuple[str, ...]


def _answer_value(answer: Any) -> _Value:
    if answer is None:
        return ""
    if isinstance(answer, bool | str):
        return answer
    if isinstance(answer, int | float):
        try:
            return float(answer)
        except OverflowError:
            return math.inf if answer > 0 else -math.inf
    if isinstance(answer, list | tuple | set | frozenset):
        return tuple(str(item) for item in answer)
    return str(answer)


def _truth(value: _Value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return value != 0 and not math.isnan(value)
    return len(value) > 0


def _looks_numeric(value: _Value) -> bool:
    return isinstance(value, str) and _NUMBER_TEXT_RE.match(value) is not None


def _number(value: _Value) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    text = " ".join(value) if isinstance(value, tuple) else value
    match = _NUMBER_TEXT_RE.match(text)
    if match:
        # float() itself strips fewer kinds of space than \s matches ("\x1c3" would raise).
        return float(match.group(1))
    return math.nan


def _string(value: _Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, tuple):
        return " ".join(value)
    return value


def _codes(value: _Value) -> tuple[str, ...]:
    if isinstance(value, tuple):
        return value
    if isinstance(value, bool):
        return ()
    return tuple(_string(value).split())


def _equal(left: _Value, right: _Value) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return _truth(left) == _truth(right)
    if isinstance(left, float) or isinstance(right, float):
        return _number(left) == _number(right)
    return _string(left) == _string(right)


def _ordered(op: str, left: _Value, right: _Value) -> bool:
    numeric = (
        isinstance(left, float | bool)
        or isinstance(right, float | bool)
        or (_looks_numeric(left) and _looks_numeric(right))
    )
    a: float | str
    b: float | str
    if numeric:
        a, b = _number(left), _number(right)
        if math.isnan(a) or math.isnan(b):
            return False
    else:
        a, b = _string(left), _string(right)
        if a == "" or b == "":
            return False
    if op == "<":
        return a < b  # type: ignore[operator]
    if op == "<=":
        return a <= b  # type: ignore[operator]
    if op == ">":
        return a > b  # type: ignore[operator]
    return a >= b  # type: ignore[operator]


def _arithmetic_number(value: _Value) -> float:
    """A number for arithmetic: a ``YYYY-MM-DD`` date is its days since 1970-01-01."""
    if isinstance(value, str):
        match = _DATE_RE.match(value)
        if match:
            try:
                return float((datetime.date.fromisoformat(value) - _EPOCH).days)
            except ValueError:
                return math.nan
    return _number(value)


def _arithmetic(op: str, left: _Value, right: _Value) -> float:
    a, b = _arithmetic_number(left), _arithmetic_number(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "div":
        if b == 0:
            if a == 0 or math.isnan(a):
                return math.nan
            return math.copysign(math.inf, a) * math.copysign(1.0, b)
        try:
            return a / b
        except OverflowError:  # pragma: no cover - float division gives inf on CPython
            return math.copysign(math.inf, a) * math.copysign(1.0, b)
    try:  # mod: the remainder of truncated division, as JavaScript's %
        return math.fmod(a, b)
    except ValueError:  # b is 0 or a is infinite
        return math.nan


def _integer_part(value: _Value) -> float:
    number = _arithmetic_number(value)
    if math.isnan(number) or math.isinf(number):
        return number
    return math.copysign(float(math.trunc(number)), number)


def _evaluate(node: _Node, answers: Mapping[str, Any], current: Any) -> _Value:
    if isinstance(node, _Literal):
        return node.value
    if isinstance(node, _Ref):
        return _answer_value(answers.get(node.qid))
    if isinstance(node, _Current):
        return _answer_value(current)
    if isinstance(node, _Prop):
        return _answer_value(current.get(node.name) if isinstance(current, Mapping) else None)
    if isinstance(node, _Binary):
        if node.op == "and":
            return _truth(_evaluate(node.left, answers, current)) and _truth(
                _evaluate(node.right, answers, current)
            )
        if node.op == "or":
            return _truth(_evaluate(node.left, answers, current)) or _truth(
                _evaluate(node.right, answers, current)
            )
        left = _evaluate(node.left, answers, current)
        right = _evaluate(node.right, answers, current)
        if node.op in _ARITHMETIC:
            return _arithmetic(node.op, left, right)
        if node.op == "=":
            return _equal(left, right)
        if node.op == "!=":
            return not _equal(left, right)
        return _ordered(node.op, left, right)
    if isinstance(node, _Regex):
        return node.pattern.search(_string(_evaluate(node.subject, answers, current)))
    if node.name == "if":
        condition, then, otherwise = node.args
        chosen = then if _truth(_evaluate(condition, answers, current)) else otherwise
        return _evaluate(chosen, answers, current)
    args = [_evaluate(arg, answers, current) for arg in node.args]
    if node.name == "neg":
        return -_arithmetic_number(args[0])
    if node.name == "today":
        return today().isoformat()
    if node.name == "coalesce":
        return args[0] if _string(args[0]) != "" else args[1]
    if node.name == "int":
        return _integer_part(args[0])
    if node.name == "not":
        return not _truth(args[0])
    if node.name == "selected":
        return _string(args[1]).strip() in _codes(args[0])
    if node.name in ("count-selected", "count"):  # count(${roster}): its instances
        return float(len(_codes(args[0])))
    return float(len(_string(args[0])))  # string-length


def _compile_comparison(node: _Binary) -> Callable[[Mapping[str, Any], Any], _Value] | None:
    """``${q} = 'text'`` and ``${q} != 'text'`` (either side), the commonest conditions, with
    a shortcut for the usual answer, a code as text; None for any other node."""
    if node.op not in ("=", "!="):
        return None
    if isinstance(node.left, _Ref) and isinstance(node.right, _Literal):
        ref, literal = node.left, node.right
    elif isinstance(node.right, _Ref) and isinstance(node.left, _Literal):
        ref, literal = node.right, node.left
    else:
        return None
    if not isinstance(literal.value, str):
        return None
    qid, text = ref.qid, literal.value

    def equal(a: Mapping[str, Any], c: Any) -> bool:
        value = a.get(qid)
        if type(value) is str:
            return value == text  # what _equal does for two texts
        return _equal(_answer_value(value), text)

    if node.op == "=":
        return equal
    return lambda a, c: not equal(a, c)


def _compile(node: _Node) -> Callable[[Mapping[str, Any], Any], _Value]:
    """Turn a tree into nested closures computing what :func:`_evaluate` computes.

    Submissions are checked against the same few conditions thousands of times; closures skip
    the per-node type dispatch of walking the tree.
    """
    if isinstance(node, _Literal):
        value = node.value
        return lambda answers, current: value
    if isinstance(node, _Ref):
        qid = node.qid
        return lambda answers, current: _answer_value(answers.get(qid))
    if isinstance(node, _Current):
        return lambda answers, current: _answer_value(current)
    if isinstance(node, _Prop):
        prop = node
        return lambda a, c: _evaluate(prop, a, c)
    if isinstance(node, _Regex):
        subject, pattern = _compile(node.subject), node.pattern
        return lambda a, c: pattern.search(_string(subject(a, c)))
    if isinstance(node, _Binary):
        fast = _compile_comparison(node)
        if fast is not None:
            return fast
        left, right, op = _compile(node.left), _compile(node.right), node.op
        if op in _ARITHMETIC:
            return lambda a, c: _arithmetic(op, left(a, c), right(a, c))
        if op == "and":
            return lambda a, c: _truth(left(a, c)) and _truth(right(a, c))
        if op == "or":
            return lambda a, c: _truth(left(a, c)) or _truth(right(a, c))
        if op == "=":
            return lambda a, c: _equal(left(a, c), right(a, c))
        if op == "!=":
            return lambda a, c: not _equal(left(a, c), right(a, c))
        return lambda a, c: _ordered(op, left(a, c), right(a, c))
    if node.name not in ("not", "selected", "count-selected", "count", "string-length"):
        call = node
        return lambda a, c: _evaluate(call, a, c)  # the rarer functions: walk the tree
    args = tuple(_compile(arg) for arg in node.args)
    if node.name == "not":
        first = args[0]
        return lambda a, c: not _truth(first(a, c))
    if node.name == "selected":
        first, second = args
        if (
            isinstance(node.args[0], _Ref)
            and isinstance(node.args[1], _Literal)
            and isinstance(node.args[1].value, str)
        ):
            qid, code = node.args[0].qid, node.args[1].value.strip()

            def selected(a: Mapping[str, Any], c: Any) -> bool:
                value = a.get(qid)
                if type(value) is list and all(type(v) is str for v in value):
                    return code in value  # a cleaned multiple choice: a list of codes
                return code in _codes(_answer_value(value))

            return selected
        return lambda a, c: _string(second(a, c)).strip() in _codes(first(a, c))
    if node.name in ("count-selected", "count"):
        first = args[0]
        return lambda a, c: float(len(_codes(first(a, c))))
    first = args[0]
    return lambda a, c: float(len(_string(first(a, c))))  # string-length


# --- the public object ---------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """A parsed condition: ``source`` as written, ``refs`` the question ids it reads."""

    source: str
    refs: frozenset[str] = field(compare=False)
    uses_current: bool = field(compare=False)
    _tree: _Node = field(repr=False, compare=False)

    def evaluate(self, answers: Mapping[str, Any], current: Any = None) -> bool:
        """Return whether the condition holds; ``current`` is the value of ``.``.

        ``answers`` maps question ids to answers as :func:`.answers.clean_answers` returns
        them (text codes, lists of codes, ints, texts); a missing answer is the empty text.
        """
        return _truth(self._compiled(answers, current))

    def value(self, answers: Mapping[str, Any]) -> str | int | float:
        """Return the expression's value (a ``calculate`` question's): a number (an int when
        whole), a text, or ``"true"``/``"false"`` for a condition, as XPath writes them; a
        number that is not finite is the empty text."""
        result = self._compiled(answers, None)
        if isinstance(result, bool):
            return "true" if result else "false"
        if isinstance(result, int | float):
            if not math.isfinite(result):
                return ""
            return int(result) if float(result).is_integer() else float(result)
        if isinstance(result, tuple | list):
            return " ".join(str(item) for item in result)
        return str(result)

    @cached_property
    def _compiled(self) -> Callable[[Mapping[str, Any], Any], _Value]:
        return _compile(self._tree)

    def to_json(self) -> dict[str, Any]:
        """Return the parsed condition as the JSON ``static/js/conditions.js`` evaluates.

        ``{"format": FORMAT, "source": <text>, "tree": <node>}``, where a node is an array whose
        first item says what it is: ``["str", text]``, ``["num", number]`` (or the text
        ``"Infinity"``/``"-Infinity"``), ``["ref", question id]``, ``["current"]`` (``.``),
        ``[op, left, right]`` for ``and or = != < <= > >= + - * div mod``, ``["neg", x]`` for
        unary minus, ``["regex", subject, javascript]`` where ``javascript`` is the pattern
        rewritten for ``new RegExp(javascript, "u")`` (see :mod:`.safe_regex`), and
        ``[function, *arguments]`` for the other :data:`FUNCTIONS`. The browser never parses
        condition text: this tree is the only thing it evaluates, so server and tablet cannot
        disagree about what a condition means.
        """
        return {"format": FORMAT, "source": self.source, "tree": _tree_json(self._tree)}

    def compared_codes(self) -> tuple[tuple[str | None, str], ...]:
        """Return ``(qid, code)`` pairs the condition checks a choice answer against.

        These come from ``${q} = 'code'``, ``${q} != 'code'`` (either side) and
        ``selected(${q}, 'code')``; ``qid`` is None for ``.``. The loader uses them to report
        codes that the question does not have.
        """
        pairs: list[tuple[str | None, str]] = []
        for node in _walk(self._tree):
            subject: _Node | None = None
            literal: _Node | None = None
            if isinstance(node, _Binary) and node.op in ("=", "!="):
                subject, literal = node.left, node.right
                if isinstance(subject, _Literal):
                    subject, literal = literal, subject
            elif isinstance(node, _Call) and node.name == "selected":
                subject, literal = node.args
            if isinstance(literal, _Literal) and isinstance(subject, _Ref | _Current):
                qid = subject.qid if isinstance(subject, _Ref) else None
                code = literal.value if isinstance(literal.value, str) else literal.text
                pairs.append((qid, code.strip()))
        return tuple(pairs)

    def choice_columns(self) -> frozenset[str]:
        """The choice columns a choice filter reads (bare names)."""
        return frozenset(node.name for node in _walk(self._tree) if isinstance(node, _Prop))

    def choice_functions(self) -> tuple[tuple[str, str | None], ...]:
        """Return ``(function, qid)`` for each ``selected``/``count-selected``/``count`` call on a
        question (``count`` counts a repeat group's instances).

        ``qid`` is None for ``.``. Calls on anything else (a literal, a comparison) are left out.
        """
        uses: list[tuple[str, str | None]] = []
        for node in _walk(self._tree):
            if isinstance(node, _Call) and node.name in ("selected", "count-selected", "count"):
                subject = node.args[0]
                if isinstance(subject, _Ref):
                    uses.append((node.name, subject.qid))
                elif isinstance(subject, _Current):
                    uses.append((node.name, None))
        return tuple(uses)


def parse_condition(source: str, choice_filter: bool = False) -> Condition:
    """Parse ``source`` into a :class:`Condition`; raise :class:`ConditionSyntaxError`.

    ``choice_filter``: the condition is a select's ``choice_filter``, where a bare name is a
    column of the choice being filtered (``street = ${street}``; ``name`` is the choice's
    code), given to :meth:`Condition.evaluate` as ``current``, a mapping.
    """
    try:
        tree = _Parser(source, choice_filter).parse()
    except ConditionSyntaxError as error:
        raise ConditionSyntaxError(error.message, error.column, source) from None
    nodes = list(_walk(tree))
    refs = frozenset(node.qid for node in nodes if isinstance(node, _Ref))
    if choice_filter and any(isinstance(node, _Current) for node in nodes):
        raise ConditionSyntaxError(Text(N_("'.' cannot be used in a choice filter")), 1, source)
    uses_current = any(isinstance(node, _Current) for node in nodes)
    return Condition(source, refs, uses_current, tree)
