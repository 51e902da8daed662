"""The patterns of ``regex(., 'pattern')``: a safe subset, matched without backtracking.

A pattern is parsed into a small tree and then

* matched on the server by simulating its automaton (Thompson's construction): the time is
  proportional to the length of the text times the size of the pattern, whatever the pattern,
  so no pattern can make the server backtrack for ever;
* written out again for the browser as a JavaScript ``RegExp`` source (flag ``u``) that accepts
  exactly the same texts: every character set is spelled out as ``[\\u{..}-\\u{..}]`` ranges,
  so the differences between the engines (what ``\\d``, ``\\s`` and ``.`` mean, ``$`` before a
  final newline) cannot show.

The subset: literal characters; ``.`` (any character but a newline); ``\\d \\D \\w \\W \\s \\S``
(ASCII, as in Java and ODK: ``\\d`` is ``[0-9]``, ``\\w`` ``[A-Za-z0-9_]``, ``\\s``
``[ \\t\\n\\x0b\\f\\r]``); escaped punctuation (``\\.``, ``\\-``...) and ``\\t \\n \\r``;
character classes ``[a-z0-9_]``, ``[^@]``; anchors ``^`` and ``$``; groups ``( )`` and
``(?: )``; alternation ``|``; quantifiers ``? * + {n} {n,} {n,m}`` (a lazy ``?`` after them is
accepted and changes nothing: only whether the text matches counts). Refused: back-references,
look-arounds, flags, ``\\b``, ``\\p{..}``, a repeated group that itself contains a repetition
or a ``|`` (``(a+)+``, ``(a|ab)*``), more than :data:`MAX_VARIABLE` repetitions of varying
length (``*``, ``+``, ``{n,}``, ``{n,m}``; ``?`` does not count), patterns over
:data:`MAX_PATTERN` characters or automata over :data:`MAX_STATES` states. A text longer than
:data:`MAX_TEXT` characters never matches.

Matching is a search, as in ODK: ``regex('ab12', '[0-9]+')`` is true; anchor with ``^...$`` to
match the whole answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import N_, Text

__all__ = [
    "MAX_PATTERN",
    "MAX_STATES",
    "MAX_TEXT",
    "MAX_VARIABLE",
    "Pattern",
    "PatternError",
    "compile_pattern",
]

MAX_PATTERN = 200
MAX_STATES = 1000
MAX_TEXT = 1000
MAX_VARIABLE = 3
_MAX_COUNT = 100  # the largest n or m of {n,m}
_MAX_CODE = 0x10FFFF

_Ranges = tuple[tuple[int, int], ...]


class PatternError(ValueError):
    """The pattern is outside the supported subset; the message says why and where (``text``:
    the message to translate where it is shown; ``str()`` is the English)."""

    def __init__(self, text: Text) -> None:
        super().__init__(str(text))
        self.text = text


def _span(*chars: str) -> _Ranges:
    return tuple((ord(c), ord(c)) for c in chars)


_DIGIT: _Ranges = ((0x30, 0x39),)
_WORD: _Ranges = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
_SPACE: _Ranges = ((0x09, 0x0D), (0x20, 0x20))
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f", "v": "\v"}
_PUNCTUATION = frozenset("\\^$.|?*+()[]{}/-'\"!@#%&,:;<=>_`~ ")


def _normalise(ranges: _Ranges) -> _Ranges:
    merged: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return tuple(merged)


def _negate(ranges: _Ranges) -> _Ranges:
    result: list[tuple[int, int]] = []
    start = 0
    for low, high in _normalise(ranges):
        if low > start:
            result.append((start, low - 1))
        start = high + 1
    if start <= _MAX_CODE:
        result.append((start, _MAX_CODE))
    return tuple(result)


_CLASSES: dict[str, _Ranges] = {
    "d": _DIGIT,
    "D": _negate(_DIGIT),
    "w": _WORD,
    "W": _negate(_WORD),
    "s": _SPACE,
    "S": _negate(_SPACE),
}

# --- the tree ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Set:
    ranges: _Ranges


@dataclass(frozen=True)
class _Seq:
    items: tuple[_Re, ...]


@dataclass(frozen=True)
class _Alt:
    options: tuple[_Re, ...]


@dataclass(frozen=True)
class _Repeat:
    item: _Re
    low: int
    high: int | None


@dataclass(frozen=True)
class _Anchor:
    end: bool


_Re = _Set | _Seq | _Alt | _Repeat | _Anchor


def _repeats(node: _Re) -> bool:
    if isinstance(node, _Repeat):
        return node.high != node.low or _repeats(node.item)
    if isinstance(node, _Seq):
        return any(_repeats(item) for item in node.items)
    if isinstance(node, _Alt):
        return any(_repeats(option) for option in node.options)
    return False


def _alternates(node: _Re) -> bool:
    if isinstance(node, _Alt):
        return True
    if isinstance(node, _Repeat):
        return _alternates(node.item)
    if isinstance(node, _Seq):
        return any(_alternates(item) for item in node.items)
    return False


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0
        self.depth = 0
        self.variable = 0

    def error(self, message: Text, pos: int | None = None) -> PatternError:
        where = (self.pos if pos is None else pos) + 1
        template = N_("%(message)s (character %(where)s of the pattern)")
        return PatternError(Text(template, message=message, where=where))

    def peek(self) -> str:
        return self.source[self.pos] if self.pos < len(self.source) else ""

    def parse(self) -> _Re:
        node = self.alternation()
        if self.pos < len(self.source):
            raise self.error(Text(N_("unexpected %(char)s"), char=repr(self.peek())))
        return node

    def alternation(self) -> _Re:
        options = [self.sequence()]
        while self.peek() == "|":
            self.pos += 1
            options.append(self.sequence())
        return options[0] if len(options) == 1 else _Alt(tuple(options))

    def sequence(self) -> _Re:
        items: list[_Re] = []
        while self.peek() not in ("", "|", ")"):
            items.append(self.quantified())
        return items[0] if len(items) == 1 else _Seq(tuple(items))

    def quantified(self) -> _Re:
        start = self.pos
        atom = self.atom()
        char = self.peek()
        if char not in ("?", "*", "+", "{"):
            return atom
        low, high = self.quantifier()
        if self.peek() == "?":
            self.pos += 1  # lazy: the same texts match
        if self.peek() in ("?", "*", "+", "{"):
            raise self.error(Text(N_("a quantifier cannot follow another quantifier")))
        if isinstance(atom, _Anchor):
            raise self.error(Text(N_("an anchor cannot be repeated")), start)
        if high != 1 and (_repeats(atom) or _alternates(atom)):
            raise self.error(
                Text(
                    N_(
                        "a repeated group cannot contain another repetition or a '|' (such as "
                        "(a+)+ or (a|ab)*): it could take for ever to check"
                    )
                ),
                start,
            )
        if high != low and high != 1:
            self.variable += 1
            if self.variable > MAX_VARIABLE:
                raise self.error(
                    Text(
                        N_(
                            "at most %(n)s repetitions of varying length (*, +, {n,m}) are "
                            "supported"
                        ),
                        n=MAX_VARIABLE,
                    ),
                    start,
                )
        return _Repeat(atom, low, high)

    def quantifier(self) -> tuple[int, int | None]:
        char = self.peek()
        self.pos += 1
        if char == "?":
            return 0, 1
        if char == "*":
            return 0, None
        if char == "+":
            return 1, None
        start = self.pos - 1
        end = self.source.find("}", self.pos)
        if end < 0:
            raise self.error(Text(N_("'{' is never closed")), start)
        body = self.source[self.pos : end]
        self.pos = end + 1
        low_text, comma, high_text = body.partition(",")
        if not low_text.isascii() or not low_text.isdigit():
            raise self.error(Text(N_("'{n,m}' needs whole numbers")), start)
        if high_text and (not high_text.isascii() or not high_text.isdigit()):
            raise self.error(Text(N_("'{n,m}' needs whole numbers")), start)
        low = int(low_text)
        high = None if comma and not high_text else int(high_text) if high_text else low
        if low > _MAX_COUNT or (high is not None and high > _MAX_COUNT):
            raise self.error(Text(N_("counts in '{n,m}' are at most %(n)s"), n=_MAX_COUNT), start)
        if high is not None and high < low:
            raise self.error(Text(N_("'{n,m}' needs n <= m")), start)
        return low, high

    def atom(self) -> _Re:
        char = self.peek()
        start = self.pos
        if char == "(":
            self.pos += 1
            if self.source.startswith("?:", self.pos):
                self.pos += 2
            elif self.peek() == "?":
                raise self.error(Text(N_("'(?' is only supported as '(?:'")), start)
            self.depth += 1
            if self.depth > 20:
                raise self.error(Text(N_("groups are nested too deeply")), start)
            node = self.alternation()
            if self.peek() != ")":
                raise self.error(Text(N_("'(' is never closed")), start)
            self.pos += 1
            self.depth -= 1
            return node
        if char in ("*", "+", "?", "{"):
            raise self.error(Text(N_("%(char)s has nothing to repeat"), char=repr(char)))
        self.pos += 1
        if char == "^":
            return _Anchor(end=False)
        if char == "$":
            return _Anchor(end=True)
        if char == ".":
            return _Set(_negate(_span("\n")))
        if char == "[":
            return self.char_class(start)
        if char == "\\":
            return _Set(self.escape(in_class=False))
        if char in ("]", "}"):
            return _Set(_span(char))
        return _Set(_span(char))

    def escape(self, in_class: bool) -> _Ranges:
        start = self.pos - 1
        char = self.peek()
        if not char:
            raise self.error(Text(N_("the pattern ends with '\\'")), start)
        self.pos += 1
        if char in _CLASSES:
            return _CLASSES[char]
        if char in _ESCAPES:
            return _span(_ESCAPES[char])
        if char in _PUNCTUATION:
            return _span(char)
        if char.isdigit():
            raise self.error(Text(N_("back-references ('\\1') are not supported")), start)
        raise self.error(Text(N_("'\\%(char)s' is not supported"), char=char), start)

    def class_char(self) -> tuple[str | None, _Ranges]:
        """One member of a class: (the character, its ranges); character None for \\d etc."""
        char = self.peek()
        self.pos += 1
        if char == "\\":
            escaped = self.peek()
            ranges = self.escape(in_class=True)
            return (None if escaped in _CLASSES else chr(ranges[0][0])), ranges
        if char == "[":
            raise self.error(Text(N_("'[' inside a class must be written '\\['")), self.pos - 1)
        return char, _span(char)

    def char_class(self, start: int) -> _Set:
        negated = self.peek() == "^"
        if negated:
            self.pos += 1
        ranges: list[tuple[int, int]] = []
        first = True
        while True:
            char = self.peek()
            if not char:
                raise self.error(Text(N_("'[' is never closed")), start)
            if char == "]" and not first:
                self.pos += 1
                break
            first = False
            low_char, low_ranges = self.class_char()
            if self.peek() == "-" and self.source[self.pos + 1 : self.pos + 2] not in ("]", ""):
                dash = self.pos
                self.pos += 1
                high_char, _ = self.class_char()
                if low_char is None or high_char is None:
                    raise self.error(
                        Text(N_("a range cannot start or end with '\\d', '\\w' or '\\s'")), dash
                    )
                if ord(high_char) < ord(low_char):
                    raise self.error(
                        Text(
                            N_("the range %(low)s-%(high)s is backwards"),
                            low=low_char,
                            high=high_char,
                        ),
                        dash,
                    )
                ranges.append((ord(low_char), ord(high_char)))
            else:
                ranges.extend(low_ranges)
        result = _normalise(tuple(ranges))
        return _Set(_negate(result) if negated else result)


# --- the automaton -------------------------------------------------------------------------

# A state: ("set", ranges, next) | ("split", next1, next2) | ("bol", next) | ("eol", next)
#          | ("match",). States are list indexes; a None next is patched later.


class _Builder:
    def __init__(self) -> None:
        self.states: list[list[object]] = []

    def add(self, *state: object) -> int:
        if len(self.states) >= MAX_STATES:
            raise PatternError(
                Text(N_("the pattern is too complex (over %(n)s steps)"), n=MAX_STATES)
            )
        self.states.append(list(state))
        return len(self.states) - 1

    def build(self, node: _Re, then: int) -> int:
        """Add states matching ``node`` and continuing at ``then``; return the entry state."""
        if isinstance(node, _Set):
            return self.add("set", node.ranges, then)
        if isinstance(node, _Anchor):
            return self.add("eol" if node.end else "bol", then)
        if isinstance(node, _Seq):
            entry = then
            for item in reversed(node.items):
                entry = self.build(item, entry)
            return entry
        if isinstance(node, _Alt):
            entries = [self.build(option, then) for option in node.options]
            entry = entries[-1]
            for other in reversed(entries[:-1]):
                entry = self.add("split", other, entry)
            return entry
        entry = then
        if node.high is None:
            loop = self.add("split", -1, then)
            self.states[loop][1] = self.build(node.item, loop)
            entry = loop
        else:
            for _ in range(node.high - node.low):
                entry = self.add("split", self.build(node.item, entry), then)
                then = entry
        for _ in range(node.low):
            entry = self.build(node.item, entry)
        return entry


def _js_char(code: int) -> str:
    return f"\\u{{{code:x}}}"


def _js(node: _Re) -> str:
    if isinstance(node, _Set):
        if not node.ranges:
            return "[]"
        parts = "".join(
            _js_char(low) if low == high else f"{_js_char(low)}-{_js_char(high)}"
            for low, high in node.ranges
        )
        return f"[{parts}]"
    if isinstance(node, _Anchor):
        return "$" if node.end else "^"
    if isinstance(node, _Seq):
        return "".join(_js(item) for item in node.items)
    if isinstance(node, _Alt):
        return "(?:" + "|".join(_js(option) for option in node.options) + ")"
    count = (
        "*"
        if node.low == 0 and node.high is None
        else "+"
        if node.low == 1 and node.high is None
        else f"{{{node.low},}}"
        if node.high is None
        else f"{{{node.low},{node.high}}}"
    )
    return f"(?:{_js(node.item)}){count}"


def _contains(ranges: _Ranges, code: int) -> bool:
    for low, high in ranges:
        if code < low:
            return False
        if code <= high:
            return True
    return False


@dataclass(frozen=True)
class Pattern:
    """A compiled pattern: :meth:`search` on the server, :attr:`javascript` for the browser."""

    source: str
    javascript: str
    _states: tuple[tuple[object, ...], ...]
    _start: int

    def search(self, text: str) -> bool:
        """Whether the pattern matches somewhere in ``text`` (never for texts over MAX_TEXT)."""
        if len(text) > MAX_TEXT:
            return False
        states = self._states
        length = len(text)
        current: set[int] = set()
        for pos in range(length + 1):
            current = self._closure(current | {self._start}, pos, length)
            if any(states[s][0] == "match" for s in current):
                return True
            if pos == length:
                return False
            code = ord(text[pos])
            following: set[int] = set()
            for index in current:
                state = states[index]
                if state[0] == "set" and _contains(state[1], code):  # type: ignore[arg-type]
                    following.add(state[2])  # type: ignore[arg-type]
            current = following
        return False

    def _closure(self, start: set[int], pos: int, length: int) -> set[int]:
        seen: set[int] = set()
        stack = list(start)
        while stack:
            index = stack.pop()
            if index in seen:
                continue
            seen.add(index)
            state = self._states[index]
            kind = state[0]
            if kind == "split":
                stack.append(state[1])  # type: ignore[arg-type]
                stack.append(state[2])  # type: ignore[arg-type]
            elif kind == "bol" and pos == 0 or kind == "eol" and pos == length:
                stack.append(state[1])  # type: ignore[arg-type]
        return seen


def compile_pattern(source: str) -> Pattern:
    """Parse ``source``; raise :class:`PatternError` if it is outside the safe subset."""
    if len(source) > MAX_PATTERN:
        raise PatternError(Text(N_("the pattern is longer than %(n)s characters"), n=MAX_PATTERN))
    tree = _Parser(source).parse()
    builder = _Builder()
    match = builder.add("match")
    start = builder.build(tree, match)
    states = tuple(tuple(state) for state in builder.states)
    return Pattern(source, _js(tree), states, start)
