"""Read a questionnaire file (YAML) into an immutable :class:`Questionnaire`, or list its problems.

The file is composed into PyYAML nodes rather than loaded into Python objects, so that every
problem can name its line, and so that scalars keep the text the survey manager wrote (``1`` and
``yes`` stay the codes ``"1"`` and ``"yes"``, not an int and a boolean). Every problem is reported,
not just the first: a survey manager fixes a file in one pass. The format is documented for
survey managers in ``questionnaires/README.md`` (also ``docs/questionnaire-format.md``).
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from types import MappingProxyType

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import N_
from ..errors import Text as Message
from . import untrusted
from .conditions import Condition, ConditionSyntaxError, parse_condition
from .model import (
    DEFAULT_LANGUAGE,
    DEFAULT_TEXT_MAX_LENGTH,
    LANGUAGE_NAMES,
    MAX_INSTANCES,
    QUESTION_TYPES,
    RTL_LANGUAGES,
    Choice,
    Composite,
    Group,
    Indicator,
    Language,
    Question,
    Questionnaire,
    Repeat,
    Text,
    language_word,
)
from .problems import Problem, QuestionnaireError
from .types import COMMON_QUESTION_KEYS, GROUP_KINDS, KINDS, REPEAT_KEYS, QuestionKind

__all__ = [
    "load_questionnaire",
    "load_questionnaire_text",
    "validate_file",
    "validate_text",
]

_SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
_IDENTIFIER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}\Z")
_MAX_CODE_LENGTH = 100
_COLUMN_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")
_LANGUAGE_RE = re.compile(r"[a-z]{2,3}(?:_[A-Z][a-z]{3})?(?:_[A-Z]{2})?\Z")

_NULL_TAG = "tag:yaml.org,2002:null"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_STR_TAG = "tag:yaml.org,2002:str"

_TOP_REQUIRED = ("id", "version", "title", "languages", "groups")
_TOP_OPTIONAL = ("description", "choice_lists", "indicators", "composites")
_GROUP_KEYS = ("id", "title", "relevant", "questions")
#: Keys that only some kinds of group have (a repeat group's ``repeat``), from the registry.
_GROUP_KIND_KEYS = tuple(dict.fromkeys(key for kind in GROUP_KINDS.values() for key in kind.keys))
_QUESTION_COMMON = COMMON_QUESTION_KEYS
#: Keys that only some question types use (each type's own, from the registry).
_QUESTION_TYPE_KEYS: Mapping[str, tuple[str, ...]] = {
    name: kind.keys for name, kind in KINDS.items()
}
_QUESTION_ALL = _QUESTION_COMMON + tuple(
    dict.fromkeys(key for kind in KINDS.values() for key in kind.keys)
)


def load_questionnaire(path: str | PathLike[str]) -> Questionnaire:
    """Load and validate a questionnaire file; raise :class:`QuestionnaireError` on problems."""
    text, problems = _read(path)
    if text is None:
        raise QuestionnaireError(problems)
    return load_questionnaire_text(text, source=str(path))


def load_questionnaire_text(
    text: str, source: str = "<text>", required_languages: Collection[str] = ()
) -> Questionnaire:
    """Load and validate questionnaire YAML ``text``; ``source`` names it in problems.

    ``required_languages``: languages the questionnaire must declare besides zh_CN (the
    deployment's publishing languages, ``SURVEYAPP_PUBLISH_LANGUAGES``; none for a version
    already stored).
    """
    questionnaire, problems = _Loader(text, source, required_languages).load()
    if problems or questionnaire is None:
        raise QuestionnaireError(problems)
    return questionnaire


def validate_file(
    path: str | PathLike[str], required_languages: Collection[str] = ()
) -> list[Problem]:
    """Return every problem of a questionnaire file (an empty list if it is valid)."""
    text, problems = _read(path)
    if text is None:
        return problems
    return validate_text(text, source=str(path), required_languages=required_languages)


def validate_text(
    text: str, source: str = "<text>", required_languages: Collection[str] = ()
) -> list[Problem]:
    """Return every problem of questionnaire YAML ``text`` (``required_languages`` as for
    :func:`load_questionnaire_text`)."""
    return _Loader(text, source, required_languages).load()[1]


def _read(path: str | PathLike[str]) -> tuple[str | None, list[Problem]]:
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        text = Message(N_("cannot read the file: %(detail)s"), detail=error.strerror or error)
        return None, [Problem(source, 0, "", str(text), text)]
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        text = Message(N_("the file is not UTF-8 text; save it as UTF-8"))
        return None, [Problem(source, line, "", str(text), text)]


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _kind(node: Node) -> Message:
    if isinstance(node, MappingNode):
        return Message(N_("a mapping"))
    if isinstance(node, SequenceNode):
        return Message(N_("a list"))
    if node.tag == _NULL_TAG:
        return Message(N_("empty"))
    return Message(N_("the value %(value)s"), value=repr(node.value))


def _key_names(node: MappingNode) -> set[str]:
    return {key.value for key, _ in node.value if isinstance(key, ScalarNode)}


def _suggest(word: str, options: Iterable[str]) -> Message | str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return Message(N_(" (did you mean '%(name)s'?)"), name=close[0]) if close else ""


def code_problem(code: str) -> Message | None:
    """Why ``code`` cannot be an answer code, or None.

    As pyxform: any text, with Unicode letters, spaces and ``/`` (``城关/东区``, ``no answer``),
    but not empty, without control characters (tabs, new lines), without spaces at either end,
    and at most 100 characters. (A multiple question's codes cannot have spaces: checked there.)
    """
    if not code.strip():
        return Message(N_("an answer code cannot be empty"))
    if code != code.strip():
        return Message(N_("answer code '%(code)s' cannot start or end with a space"), code=code)
    if any(unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp") for char in code):
        return Message(
            N_("answer code %(code)s cannot contain control characters (tabs, new lines)"),
            code=repr(code),
        )
    if len(code) > _MAX_CODE_LENGTH:
        return Message(
            N_("answer code '%(code)s…' is longer than %(max)s characters"),
            code=code[:20],
            max=_MAX_CODE_LENGTH,
        )
    return None


@dataclass
class _QuestionInfo:
    question: Question
    index: int  # position in the whole questionnaire
    line: int


@dataclass
class _RepeatInfo:
    line: int
    first: int  # the position of its first question
    end: int  # the position after its last question


@dataclass
class _PendingCondition:
    """A parsed condition whose references are checked once every question is known."""

    condition: Condition
    node: Node
    path: str
    scope: str  # "relevant", "constraint", "required", "group", "base"
    before: int | None  # questions at positions < before may be referenced; None: any
    owner: str | None  # the question the condition belongs to (for "." and self-reference)


class _Loader:
    """One pass over the node tree collecting problems, then the cross-reference checks."""

    def __init__(self, text: str, source: str, required_languages: Collection[str] = ()) -> None:
        self.required_languages = tuple(required_languages)
        self.source_text = text
        self.source = source
        self.problems: list[Problem] = []
        self.constructor = SafeConstructor()
        self.languages: tuple[str, ...] | None = None  # None: unknown, texts are not checked
        self.choice_lists: dict[str, tuple[Choice, ...]] = {}
        self.choice_cache: dict[int, tuple[Choice, ...]] = {}
        self.questions: dict[str, _QuestionInfo] = {}
        self.pending: list[_PendingCondition] = []
        self.indicator_ids: dict[str, int] = {}
        self.group_ids: dict[str, int] = {}
        self.repeats: dict[str, _RepeatInfo] = {}

    # --- entry point ---------------------------------------------------------------------

    def load(self) -> tuple[Questionnaire | None, list[Problem]]:
        try:
            root = untrusted.compose(self.source_text)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = mark.line + 1 if mark is not None else 1
            message = error.problem or error.context or "invalid YAML"
            if "\t" in message or "'\\t'" in message:
                message += "; indent with spaces, not tabs"
            elif "expected ',' or '}'" in message or "expected ',' or ']'" in message:
                message += "; inside { } or [ ], put a text containing , : ? [ ] { } in quotes"
            self.report(line, "", Message(N_("YAML syntax error: %(detail)s"), detail=message))
            return None, self.problems
        except yaml.YAMLError as error:
            self.report(
                1,
                "",
                Message(N_("YAML syntax error: %(detail)s"), detail=" ".join(str(error).split())),
            )
            return None, self.problems
        except RecursionError:
            self.report(1, "", Message(N_("the file is nested too deeply to be a questionnaire")))
            return None, self.problems
        if root is None:
            self.report(1, "", Message(N_("the file is empty")))
            return None, self.problems
        questionnaire = self.questionnaire(root)
        unique = list(dict.fromkeys(self.problems))  # a YAML alias can repeat a problem
        unique.sort(key=lambda problem: problem.line)
        return (None if unique else questionnaire), unique

    # --- reporting and scalar helpers ----------------------------------------------------

    def report(self, where: Node | int, path: str, message: Message) -> None:
        """Record a problem: ``message`` is worded as a Text, English in ``str()`` and
        translated where it is shown (the designer, the import command)."""
        line = where if isinstance(where, int) else _line(where)
        self.problems.append(Problem(self.source, line, path, str(message), message))

    def mapping(
        self, node: Node, path: str, required: Collection[str], optional: Collection[str] = ()
    ) -> dict[str, Node] | None:
        if not isinstance(node, MappingNode):
            expected = ", ".join(required)
            self.report(
                node,
                path,
                Message(
                    N_("must be a mapping with keys such as %(keys)s, not %(kind)s"),
                    keys=expected,
                    kind=_kind(node),
                ),
            )
            return None
        allowed = (*required, *optional)
        entries = self.entries(node, path)
        result: dict[str, Node] = {}
        for key, (key_node, value) in entries.items():
            if key not in allowed:
                self.report(
                    key_node,
                    _join(path, key),
                    Message(
                        N_("unknown key '%(key)s'%(suggestion)s"),
                        key=key,
                        suggestion=_suggest(key, allowed),
                    ),
                )
                continue
            result[key] = value
        for key in required:
            if key not in entries:
                self.report(node, path, Message(N_("missing key '%(key)s'"), key=key))
        return result

    def entries(self, node: MappingNode, path: str) -> dict[str, tuple[Node, Node]]:
        """Return key -> (key node, value node), reporting odd and duplicate keys."""
        entries: dict[str, tuple[Node, Node]] = {}
        for key_node, value in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _NULL_TAG:
                self.report(key_node, path, Message(N_("keys must be plain names")))
                continue
            key = key_node.value
            if key in entries:
                first = _line(entries[key][0])
                self.report(
                    key_node,
                    _join(path, key),
                    Message(
                        N_("duplicate key '%(key)s' (first on line %(line)s)"), key=key, line=first
                    ),
                )
                continue
            entries[key] = (key_node, value)
        return entries

    def sequence(self, node: Node, path: str) -> list[Node] | None:
        if not isinstance(node, SequenceNode):
            self.report(
                node,
                path,
                Message(
                    N_("must be a list (lines starting with '- '), not %(kind)s"), kind=_kind(node)
                ),
            )
            return None
        return list(node.value)

    def string(self, node: Node, path: str) -> str | None:
        if not isinstance(node, ScalarNode) or node.tag == _NULL_TAG:
            self.report(node, path, Message(N_("must be a text, not %(kind)s"), kind=_kind(node)))
            return None
        text: str = node.value
        if not text.strip():
            self.report(node, path, Message(N_("must not be blank")))
            return None
        return text

    def identifier(self, node: Node, path: str, what: Message) -> str | None:
        value = self.string(node, path)
        if value is not None and not _IDENTIFIER_RE.match(value):
            self.report(
                node,
                path,
                Message(
                    N_(
                        "%(what)s '%(value)s' must be a name of letters, digits and "
                        "underscores, not starting with a digit (at most 64)"
                    ),
                    what=what,
                    value=value,
                ),
            )
            return None
        return value

    def code(self, node: Node, path: str) -> str | None:
        value = self.string(node, path)
        if value is None:
            return None
        problem = code_problem(value)
        if problem is not None:
            self.report(node, path, problem)
            return None
        return value

    def integer(self, node: Node, path: str) -> int | None:
        if isinstance(node, ScalarNode) and node.tag == _INT_TAG:
            try:
                return int(self.constructor.construct_yaml_int(node))
            except ValueError:
                pass
        self.report(
            node, path, Message(N_("must be a whole number, not %(kind)s"), kind=_kind(node))
        )
        return None

    def number(self, node: Node, path: str) -> float | None:
        if isinstance(node, ScalarNode) and node.tag in (_INT_TAG, _FLOAT_TAG):
            try:
                if node.tag == _INT_TAG:
                    value = float(self.constructor.construct_yaml_int(node))
                else:
                    value = float(self.constructor.construct_yaml_float(node))
            except (ValueError, OverflowError):
                value = math.nan
            if math.isfinite(value):
                return value
        self.report(node, path, Message(N_("must be a number, not %(kind)s"), kind=_kind(node)))
        return None

    def boolean(self, node: Node, path: str) -> bool | None:
        if isinstance(node, ScalarNode) and node.tag == _BOOL_TAG:
            return bool(self.constructor.construct_yaml_bool(node))
        self.report(
            node, path, Message(N_("must be true or false, not %(kind)s"), kind=_kind(node))
        )
        return None

    def text(self, node: Node, path: str) -> Text:
        """A translated text: {language: text}, every declared language present."""
        if not isinstance(node, MappingNode):
            example = ", ".join(f"{code}: ..." for code in (self.languages or ("zh_CN", "en")))
            self.report(
                node,
                path,
                Message(
                    N_("must give the text in each language, like {%(example)s}, not %(kind)s"),
                    example=example,
                    kind=_kind(node),
                ),
            )
            return MappingProxyType({})
        texts: dict[str, str] = {}
        for lang, (key_node, value) in self.entries(node, path).items():
            if self.languages is not None and lang not in self.languages:
                message = Message(
                    N_("'%(lang)s' is not a declared language%(suggestion)s"),
                    lang=lang,
                    suggestion=_suggest(lang, self.languages),
                )
                if not _LANGUAGE_RE.match(lang) or value.tag == _NULL_TAG:
                    message = Message(
                        N_("%(problem)s; if a text contains a comma, put the text in quotes"),
                        problem=message,
                    )
                self.report(key_node, _join(path, lang), message)
                continue
            if (
                not isinstance(value, ScalarNode)
                or value.tag == _NULL_TAG
                or not value.value.strip()
            ):
                self.report(
                    value, _join(path, lang), Message(N_("missing %(lang)s translation"), lang=lang)
                )
                continue
            texts[lang] = value.value
        for lang in self.languages or ():
            if lang not in texts and lang not in _key_names(node):
                self.report(node, path, Message(N_("missing %(lang)s translation"), lang=lang))
        return MappingProxyType(texts)

    def condition(self, node: Node, path: str, choice_filter: bool = False) -> Condition | None:
        source = self.string(node, path)
        if source is None:
            return None
        try:
            return parse_condition(source, choice_filter=choice_filter)
        except ConditionSyntaxError as error:
            self.report(
                node,
                path,
                Message(
                    N_("condition syntax error: %(detail)s (column %(column)s of %(source)s)"),
                    detail=error.message,
                    column=error.column,
                    source=repr(source),
                ),
            )
            return None

    # --- the document --------------------------------------------------------------------

    def questionnaire(self, root: Node) -> Questionnaire | None:
        top = self.mapping(root, "", _TOP_REQUIRED, _TOP_OPTIONAL)
        if top is None:
            return None
        languages = self.parse_languages(top["languages"]) if "languages" in top else ()

        slug = ""
        if "id" in top:
            value = self.string(top["id"], "id")
            if value is not None and not _SLUG_RE.match(value):
                self.report(
                    top["id"],
                    "id",
                    Message(
                        N_(
                            "'%(value)s' must be a slug: lower-case letters, "
                            "digits and hyphens, like public-security-2024"
                        ),
                        value=value,
                    ),
                )
            slug = value or ""
        version = 0
        if "version" in top:
            number = self.integer(top["version"], "version")
            if number is not None and number < 1:
                self.report(top["version"], "version", Message(N_("must be 1 or more")))
            version = number or 0
        title = self.text(top["title"], "title") if "title" in top else MappingProxyType({})
        description = self.text(top["description"], "description") if "description" in top else None
        if "choice_lists" in top:
            self.parse_choice_lists(top["choice_lists"])

        groups: list[Group] = []
        if "groups" in top:
            group_nodes = self.sequence(top["groups"], "groups") or []
            if isinstance(top["groups"], SequenceNode) and not group_nodes:
                self.report(top["groups"], "groups", Message(N_("must list at least one group")))
            for index, node in enumerate(group_nodes):
                group = self.parse_group(node, f"groups[{index}]")
                if group is not None:
                    groups.append(group)
        for repeat_id, repeat_info in self.repeats.items():
            if repeat_id in self.questions:
                self.report(
                    repeat_info.line,
                    "groups",
                    Message(
                        N_(
                            "repeat group '%(id)s' has the id of a question (line "
                            "%(line)s): its answers are stored under its id"
                        ),
                        id=repeat_id,
                        line=self.questions[repeat_id].line,
                    ),
                )
        self.check_conditions()

        indicators: list[Indicator] = []
        composites: list[Composite] = []
        if "indicators" in top:
            for index, node in enumerate(self.sequence(top["indicators"], "indicators") or []):
                indicator = self.parse_indicator(node, f"indicators[{index}]")
                if indicator is not None:
                    indicators.append(indicator)
        if "composites" in top:
            for index, node in enumerate(self.sequence(top["composites"], "composites") or []):
                composite = self.parse_composite(node, f"composites[{index}]")
                if composite is not None:
                    composites.append(composite)
        self.check_conditions()

        return Questionnaire(
            id=slug,
            version=version,
            title=title,
            languages=languages,
            groups=tuple(groups),
            questions=MappingProxyType(
                {qid: info.question for qid, info in self.questions.items()}
            ),
            indicators=tuple(indicators),
            composites=tuple(composites),
            source_text=self.source_text,
            sha256=hashlib.sha256(self.source_text.encode("utf-8", "surrogatepass")).hexdigest(),
            description=description,
        )

    def parse_languages(self, node: Node) -> tuple[Language, ...]:
        items = self.sequence(node, "languages")
        if items is None:
            return ()
        languages: list[Language] = []
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            path = f"languages[{index}]"
            name: str | None = None
            rtl: bool | None = None
            if isinstance(item, MappingNode):
                entries = self.mapping(item, path, ("code",), ("name", "rtl"))
                if entries is None or "code" not in entries:
                    continue
                code_node = entries["code"]
                code = self.string(code_node, _join(path, "code"))
                if "name" in entries:
                    name = self.string(entries["name"], _join(path, "name"))
                if "rtl" in entries:
                    rtl = self.boolean(entries["rtl"], _join(path, "rtl"))
            else:
                code_node = item
                code = self.string(item, path)
            if code is None:
                continue
            if not _LANGUAGE_RE.match(code):
                self.report(
                    code_node,
                    path,
                    Message(
                        N_("'%(code)s' is not a language code like zh_CN, en or ug"), code=code
                    ),
                )
                continue
            if code in seen:
                self.report(
                    code_node,
                    path,
                    Message(
                        N_("language '%(code)s' is declared twice (first on line %(line)s)"),
                        code=code,
                        line=seen[code],
                    ),
                )
                continue
            seen[code] = _line(code_node)
            if name is None:
                name = LANGUAGE_NAMES.get(code)
                if name is None:
                    self.report(
                        item,
                        path,
                        Message(
                            N_("give the name of language '%(code)s' (code: %(code)s, name: ...)"),
                            code=code,
                        ),
                    )
                    name = code
            languages.append(Language(code, name, code in RTL_LANGUAGES if rtl is None else rtl))
        if not languages:
            if not items:
                self.report(
                    node,
                    "languages",
                    Message(
                        N_("must list the languages, %(default)s first"), default=DEFAULT_LANGUAGE
                    ),
                )
            return ()
        if languages[0].code != DEFAULT_LANGUAGE:
            self.report(
                items[0],
                "languages[0]",
                Message(
                    N_("the first (default) language must be %(default)s, not '%(code)s'"),
                    default=DEFAULT_LANGUAGE,
                    code=languages[0].code,
                ),
            )
        for code in self.required_languages:
            if code not in seen:
                word = language_word(code)
                self.report(
                    node,
                    "languages",
                    Message(
                        N_(
                            "%(name)s (%(code)s) must be one of the languages: publishing requires "
                            "%(required)s (SURVEYAPP_PUBLISH_LANGUAGES)"
                        ),
                        name=word,
                        code=code,
                        required=", ".join(self.required_languages),
                    ),
                )
        self.languages = tuple(language.code for language in languages)
        return tuple(languages)

    def parse_choice_lists(self, node: Node) -> None:
        if not isinstance(node, MappingNode):
            self.report(
                node,
                "choice_lists",
                Message(
                    N_("must be a mapping of list names to choices, not %(kind)s"), kind=_kind(node)
                ),
            )
            return
        for name, (key_node, value) in self.entries(node, "choice_lists").items():
            path = _join("choice_lists", name)
            if not _IDENTIFIER_RE.match(name):
                self.report(
                    key_node,
                    path,
                    Message(
                        N_(
                            "choice list name '%(name)s' must be a name of letters, digits and "
                            "underscores"
                        ),
                        name=name,
                    ),
                )
                continue
            self.choice_lists[name] = self.parse_choices(value, path)

    def parse_choices(self, node: Node, path: str) -> tuple[Choice, ...]:
        cached = self.choice_cache.get(id(node))
        if cached is not None:
            return cached
        items = self.sequence(node, path)
        if items is None:
            return ()
        choices: list[Choice] = []
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            item_path = f"{path}[{index}]"
            entries = self.mapping(item, item_path, ("code", "label"), ("exclusive", "properties"))
            if entries is None:
                continue
            code = (
                self.code(entries["code"], _join(item_path, "code")) if "code" in entries else None
            )
            label = (
                self.text(entries["label"], _join(item_path, "label"))
                if "label" in entries
                else MappingProxyType({})
            )
            exclusive = False
            if "exclusive" in entries:
                exclusive = bool(self.boolean(entries["exclusive"], _join(item_path, "exclusive")))
            properties: tuple[tuple[str, str], ...] = ()
            if "properties" in entries:
                properties = self.choice_properties(
                    entries["properties"], _join(item_path, "properties")
                )
            if code is None:
                continue
            if code in seen:
                self.report(
                    entries["code"],
                    _join(item_path, "code"),
                    Message(
                        N_("duplicate answer code '%(code)s' (first on line %(line)s)"),
                        code=code,
                        line=seen[code],
                    ),
                )
                continue
            seen[code] = _line(entries["code"])
            choices.append(Choice(code, label, exclusive, properties))
        if not items:
            self.report(node, path, Message(N_("must list at least one choice")))
        result = tuple(choices)
        self.choice_cache[id(node)] = result
        return result

    def parse_group(self, node: Node, path: str) -> Group | None:
        entries = self.mapping(
            node, path, ("id", "title", "questions"), ("relevant", *_GROUP_KIND_KEYS)
        )
        if entries is None:
            return None
        group_id = (
            self.identifier(entries["id"], _join(path, "id"), Message(N_("group id")))
            if "id" in entries
            else None
        )
        if group_id is not None and group_id in self.group_ids:
            self.report(
                entries["id"],
                _join(path, "id"),
                Message(
                    N_("duplicate group id '%(id)s' (first on line %(line)s)"),
                    id=group_id,
                    line=self.group_ids[group_id],
                ),
            )
            group_id = None
        elif group_id is not None:
            self.group_ids[group_id] = _line(entries["id"])
        title = (
            self.text(entries["title"], _join(path, "title"))
            if "title" in entries
            else MappingProxyType({})
        )
        first_index = len(self.questions)
        relevant = None
        if "relevant" in entries:
            relevant = self.condition(entries["relevant"], _join(path, "relevant"))
            if relevant is not None:
                self.pending.append(
                    _PendingCondition(
                        relevant,
                        entries["relevant"],
                        _join(path, "relevant"),
                        "group",
                        first_index,
                        None,
                    )
                )
        repeat = None
        if "repeat" in entries:
            repeat = self.parse_repeat(entries["repeat"], _join(path, "repeat"), first_index)
        repeat_id = group_id if repeat is not None else None
        questions: list[Question] = []
        if "questions" in entries:
            items = self.sequence(entries["questions"], _join(path, "questions")) or []
            if isinstance(entries["questions"], SequenceNode) and not items:
                self.report(
                    entries["questions"],
                    _join(path, "questions"),
                    Message(N_("must list at least one question")),
                )
            for index, item in enumerate(items):
                question = self.parse_question(
                    item, f"{path}.questions[{index}]", group_id or "", repeat_id
                )
                if question is not None:
                    questions.append(question)
        if group_id is None:
            return None
        if repeat is not None:
            self.repeats[group_id] = _RepeatInfo(
                _line(entries["id"]), first_index, len(self.questions)
            )
        return Group(group_id, title, relevant, tuple(questions), repeat)

    def parse_repeat(self, node: Node, path: str, first_index: int) -> Repeat | None:
        """A repeat group's ``repeat``: ``true``, or ``{count, min, max}``."""
        if isinstance(node, ScalarNode) and node.tag == _BOOL_TAG:
            if not self.constructor.construct_yaml_bool(node):
                self.report(node, path, Message(N_("leave 'repeat' out for a group asked once")))
                return None
            return Repeat()
        if not isinstance(node, MappingNode):
            self.report(
                node,
                path,
                Message(
                    N_("must be true or a mapping with count, min or max, not %(kind)s"),
                    kind=_kind(node),
                ),
            )
            return None
        entries = self.mapping(node, path, (), REPEAT_KEYS)
        if entries is None:
            return None
        count: Condition | None = None
        if "count" in entries:
            count_node, field = entries["count"], _join(path, "count")
            if isinstance(count_node, ScalarNode) and count_node.tag == _INT_TAG:
                number = self.integer(count_node, field)
                if number is not None and number < 0:
                    self.report(count_node, field, Message(N_("must be 0 or more")))
                elif number is not None and number > MAX_INSTANCES:
                    self.report(
                        count_node,
                        field,
                        Message(N_("must be at most %(max)s"), max=MAX_INSTANCES),
                    )
                elif number is not None:
                    count = parse_condition(str(number))
            else:
                count = self.condition(count_node, field)
                if count is not None:
                    self.pending.append(
                        _PendingCondition(count, count_node, field, "group", first_index, None)
                    )
        bounds: dict[str, int | None] = {"min": None, "max": None}
        for key in bounds:
            if key in entries:
                value = self.integer(entries[key], _join(path, key))
                if value is not None and value < (1 if key == "max" else 0):
                    self.report(
                        entries[key],
                        _join(path, key),
                        Message(N_("must be %(min)s or more"), min=1 if key == "max" else 0),
                    )
                    value = None
                elif value is not None and value > MAX_INSTANCES:
                    message = Message(
                        N_("must be at most %(max)s (a repeat's most instances)"), max=MAX_INSTANCES
                    )
                    self.report(entries[key], _join(path, key), message)
                    value = None
                bounds[key] = value
        low, high = bounds["min"], bounds["max"]
        if low is not None and high is not None and low > high:
            message = Message(N_("min (%(min)s) is greater than max (%(max)s)"), min=low, max=high)
            self.report(entries["min"], _join(path, "min"), message)
        return Repeat(count, low, high)

    def parse_question(
        self, node: Node, path: str, group_id: str, repeat: str | None = None
    ) -> Question | None:
        entries = self.mapping(node, path, ("id", "type", "label"), _QUESTION_ALL[3:])
        if entries is None:
            return None
        qid = (
            self.identifier(entries["id"], _join(path, "id"), Message(N_("question id")))
            if "id" in entries
            else None
        )
        if qid is not None and qid in self.questions:
            self.report(
                entries["id"],
                _join(path, "id"),
                Message(
                    N_("duplicate question id '%(id)s' (first on line %(line)s)"),
                    id=qid,
                    line=self.questions[qid].line,
                ),
            )
            qid = None

        qtype: str | None = None
        if "type" in entries:
            qtype = self.string(entries["type"], _join(path, "type"))
            if qtype is not None and qtype not in QUESTION_TYPES:
                self.report(
                    entries["type"],
                    _join(path, "type"),
                    Message(
                        N_("unknown question type '%(type)s' (one of: %(types)s)%(suggestion)s"),
                        type=qtype,
                        types=", ".join(QUESTION_TYPES),
                        suggestion=_suggest(qtype, QUESTION_TYPES),
                    ),
                )
                qtype = None
        if qtype is not None:
            for key in entries:
                if key not in _QUESTION_COMMON and key not in _QUESTION_TYPE_KEYS[qtype]:
                    self.report(
                        entries[key],
                        _join(path, key),
                        Message(
                            N_("'%(key)s' does not apply to %(type)s questions"),
                            key=key,
                            type=qtype,
                        ),
                    )

        label = (
            self.text(entries["label"], _join(path, "label"))
            if "label" in entries
            else MappingProxyType({})
        )
        hint = self.text(entries["hint"], _join(path, "hint")) if "hint" in entries else None
        required = True
        required_if: Condition | None = None
        index = len(self.questions)
        if "required" in entries:
            required_node = entries["required"]
            if (
                isinstance(required_node, ScalarNode)
                and required_node.tag == _STR_TAG
                and ("${" in required_node.value or "(" in required_node.value)
            ):  # a condition (it reads an answer or calls a function); "maybe" is a mistake
                required_if = self.question_condition(entries, path, "required", index, qid)
            else:
                value = self.boolean(required_node, _join(path, "required"))
                required = True if value is None else value

        relevant = self.question_condition(entries, path, "relevant", index, qid)
        constraint = self.question_condition(entries, path, "constraint", index, qid)
        constraint_message = None
        if "constraint_message" in entries:
            constraint_message = self.text(
                entries["constraint_message"], _join(path, "constraint_message")
            )
            if "constraint" not in entries:
                self.report(
                    entries["constraint_message"],
                    _join(path, "constraint_message"),
                    Message(N_("constraint_message without a constraint")),
                )

        choices: tuple[Choice, ...] = ()
        other_code: str | None = None
        choice_filter: Condition | None = None
        kind = KINDS[qtype] if qtype is not None else None
        if kind is not None and kind.listed:
            choices = self.question_choices(entries, node, path)
            spaced = [c.code for c in choices if kind.multiple and len(c.code.split()) > 1]
            if spaced:
                self.report(
                    entries["choices"],
                    _join(path, "choices"),
                    Message(
                        N_(
                            "answer code '%(code)s' has a space, which a multiple question cannot "
                            "have (its answer is stored as codes separated by spaces, as in ODK)"
                        ),
                        code=spaced[0],
                    ),
                )
            other_code = self.other_code(entries, path, choices)
            choice_filter = self.choice_filter(entries, path, choices, index, qid)
        elif kind is not None and kind.builtin_labels:
            choices = self.builtin_choices(kind, entries, path)

        minimum: int | float | None = None
        maximum: int | float | None = None
        max_length = None
        if kind is not None and "min" in kind.keys:
            # integer bounds are whole numbers, decimal bounds any number
            bound = self.integer if kind.whole_numbers else self.number
            if "min" in entries:
                minimum = bound(entries["min"], _join(path, "min"))
            if "max" in entries:
                maximum = bound(entries["max"], _join(path, "max"))
            if minimum is not None and maximum is not None and minimum > maximum:
                self.report(
                    entries["min"],
                    _join(path, "min"),
                    Message(
                        N_("min (%(min)s) is greater than max (%(max)s)"), min=minimum, max=maximum
                    ),
                )
        calculation = None
        if kind is not None and "calculation" in kind.keys:
            if "calculation" not in entries:
                self.report(node, path, Message(N_("missing key '%(key)s'"), key="calculation"))
            calculation = self.question_condition(entries, path, "calculation", index, qid)
        if kind is not None and not kind.stored:
            for key in ("required", "constraint"):
                if key in entries:
                    self.report(
                        entries[key],
                        _join(path, key),
                        Message(
                            N_(
                                "'%(key)s' does not apply to %(type)s questions (nothing is stored)"
                            ),
                            key=key,
                            type=qtype,
                        ),
                    )
        if kind is not None and (not kind.stored or not kind.entered):
            required = False  # shown only, or computed: never answered by the interviewer
        if kind is not None and "max_length" in kind.keys:
            max_length = DEFAULT_TEXT_MAX_LENGTH
            if "max_length" in entries:
                length = self.integer(entries["max_length"], _join(path, "max_length"))
                if length is not None and length < 1:
                    self.report(
                        entries["max_length"],
                        _join(path, "max_length"),
                        Message(N_("must be 1 or more")),
                    )
                elif length is not None:
                    max_length = length

        if qid is None or qtype is None:
            return None
        question = Question(
            id=qid,
            type=qtype,  # type: ignore[arg-type]  # checked against QUESTION_TYPES above
            label=label,
            hint=hint,
            choices=choices,
            required=required,
            relevant=relevant,
            constraint=constraint,
            constraint_message=constraint_message,
            required_if=required_if,
            choice_filter=choice_filter,
            minimum=minimum,
            maximum=maximum,
            max_length=max_length,
            other_code=other_code,
            group_id=group_id,
            calculation=calculation,
            repeat=repeat,
        )
        self.questions[qid] = _QuestionInfo(question, index, _line(entries["id"]))
        return question

    def choice_properties(self, node: Node, path: str) -> tuple[tuple[str, str], ...]:
        if not isinstance(node, MappingNode):
            self.report(
                node,
                path,
                Message(
                    N_("must be a mapping of column names to texts, not %(kind)s"), kind=_kind(node)
                ),
            )
            return ()
        result: list[tuple[str, str]] = []
        for key_node, value in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else ""
            if not _COLUMN_RE.match(key) or key in ("name", "label"):
                self.report(
                    key_node,
                    path,
                    Message(N_("'%(key)s' is not a choice column name like street"), key=key),
                )
                continue
            if not isinstance(value, ScalarNode) or value.tag == _NULL_TAG:
                self.report(
                    value,
                    _join(path, key),
                    Message(N_("must be a text, not %(kind)s"), kind=_kind(value)),
                )
                continue
            result.append((key, value.value))
        return tuple(result)

    def choice_filter(
        self,
        entries: dict[str, Node],
        path: str,
        choices: tuple[Choice, ...],
        index: int,
        qid: str | None,
    ) -> Condition | None:
        if "choice_filter" not in entries:
            return None
        node, field = entries["choice_filter"], _join(path, "choice_filter")
        condition = self.condition(node, field, choice_filter=True)
        if condition is None:
            return None
        columns = {"name"} | {key for choice in choices for key, _value in choice.properties}
        for column in sorted(condition.choice_columns() - columns):
            self.report(
                node,
                field,
                Message(
                    N_(
                        "'%(column)s' is no column of the choices (their columns: "
                        "%(columns)s)%(suggestion)s"
                    ),
                    column=column,
                    columns=", ".join(sorted(columns)),
                    suggestion=_suggest(column, columns),
                ),
            )
        self.pending.append(_PendingCondition(condition, node, field, "choice_filter", index, qid))
        return condition

    def question_condition(
        self, entries: dict[str, Node], path: str, key: str, index: int, qid: str | None
    ) -> Condition | None:
        if key not in entries:
            return None
        field = _join(path, key)
        condition = self.condition(entries[key], field)
        if condition is not None:
            self.pending.append(_PendingCondition(condition, entries[key], field, key, index, qid))
        return condition

    def question_choices(
        self, entries: dict[str, Node], node: Node, path: str
    ) -> tuple[Choice, ...]:
        if "choices" not in entries:
            self.report(node, path, Message(N_("missing key '%(key)s'"), key="choices"))
            return ()
        choices_node = entries["choices"]
        field = _join(path, "choices")
        if isinstance(choices_node, ScalarNode) and choices_node.tag != _NULL_TAG:
            name = choices_node.value
            if name not in self.choice_lists:
                self.report(
                    choices_node,
                    field,
                    Message(
                        N_("unknown choice list '%(name)s'%(suggestion)s"),
                        name=name,
                        suggestion=_suggest(name, self.choice_lists),
                    ),
                )
                return ()
            return self.choice_lists[name]
        return self.parse_choices(choices_node, field)

    def other_code(
        self, entries: dict[str, Node], path: str, choices: tuple[Choice, ...]
    ) -> str | None:
        if "other" not in entries:
            return None
        field = _join(path, "other")
        code = self.code(entries["other"], field)
        if code is None or not choices:
            return None
        choice = next((c for c in choices if c.code == code), None)
        if choice is None:
            self.report(
                entries["other"],
                field,
                Message(
                    N_("'%(code)s' is not one of the codes (%(codes)s)"),
                    code=code,
                    codes=", ".join(c.code for c in choices),
                ),
            )
            return None
        if choice.exclusive:
            self.report(
                entries["other"],
                field,
                Message(N_("the 'other' choice '%(code)s' cannot be exclusive"), code=code),
            )
            return None
        return code

    def builtin_choices(
        self, kind: QuestionKind, entries: dict[str, Node], path: str
    ) -> tuple[Choice, ...]:
        """The choices of a type with built-in ones (yes/no): the file's relabelling of the
        same codes, or the built-in labels in the file's languages."""
        codes = kind.builtin_codes
        if "choices" in entries:
            choices = self.question_choices(entries, entries["choices"], path)
            if choices and sorted(c.code for c in choices) != sorted(codes):
                count = Message(N_("two")) if len(codes) == 2 else str(len(codes))
                self.report(
                    entries["choices"],
                    _join(path, "choices"),
                    Message(
                        N_(
                            "%(type)s choices relabel the codes %(codes)s: "
                            "give exactly those %(count)s"
                        ),
                        type=kind.name,
                        codes=" and ".join(codes),
                        count=count,
                    ),
                )
            return choices
        known = kind.builtin_labels[codes[0]]
        for lang in self.languages or ():
            if lang not in known:
                self.report(
                    entries["type"],
                    _join(path, "type"),
                    Message(
                        N_(
                            "no built-in %(labels)s labels in '%(lang)s': "
                            "give choices with codes %(codes)s"
                        ),
                        labels="/".join(codes),
                        lang=lang,
                        codes=" and ".join(codes),
                    ),
                )
        languages = self.languages or tuple(known)
        return tuple(
            Choice(
                code,
                MappingProxyType(
                    {
                        lang: text
                        for lang, text in kind.builtin_labels[code].items()
                        if lang in languages
                    }
                ),
            )
            for code in codes
        )

    # --- indicators and composites -------------------------------------------------------

    def unique_result_id(self, node: Node, path: str) -> str | None:
        result_id = self.identifier(node, path, Message(N_("id")))
        if result_id is None:
            return None
        if result_id in self.indicator_ids:
            self.report(
                node,
                path,
                Message(
                    N_("duplicate id '%(id)s' (first on line %(line)s)"),
                    id=result_id,
                    line=self.indicator_ids[result_id],
                ),
            )
            return None
        self.indicator_ids[result_id] = _line(node)
        return result_id

    def choice_question(
        self, node: Node, path: str, accepts: Callable[[QuestionKind], bool], what: Message
    ) -> Question | None:
        qid = self.string(node, path)
        if qid is None:
            return None
        info = self.questions.get(qid)
        if info is None:
            self.report(
                node,
                path,
                Message(
                    N_("unknown question '%(id)s'%(suggestion)s"),
                    id=qid,
                    suggestion=_suggest(qid, self.questions),
                ),
            )
            return None
        if not accepts(info.question.kind):
            self.report(
                node,
                path,
                Message(
                    N_("%(problem)s; '%(id)s' is a %(type)s question"),
                    problem=what,
                    id=qid,
                    type=info.question.type,
                ),
            )
            return None
        if info.question.repeat is not None:
            self.report(
                node,
                path,
                Message(
                    N_(
                        "'%(id)s' is asked in repeat group '%(repeat)s' (once per instance): "
                        "results are computed from questions asked once per interview"
                    ),
                    id=qid,
                    repeat=info.question.repeat,
                ),
            )
            return None
        return info.question

    def codes_of(
        self, node: Node, path: str, question: Question | None, allow_empty: bool
    ) -> tuple[tuple[str, ...], list[Node]]:
        items = self.sequence(node, path)
        if items is None:
            return (), []
        if not items and not allow_empty:
            self.report(node, path, Message(N_("must list at least one code")))
        codes: list[str] = []
        nodes: list[Node] = []
        for index, item in enumerate(items):
            code = self.code(item, f"{path}[{index}]")
            if code is None:
                continue
            if question is not None and code not in question.codes:
                self.report(item, f"{path}[{index}]", self.unknown_code(code, question))
                continue
            codes.append(code)
            nodes.append(item)
        return tuple(codes), nodes

    @staticmethod
    def unknown_code(code: str, question: Question) -> Message:
        return Message(
            N_("unknown code '%(code)s' for question '%(id)s' (its codes: %(codes)s)"),
            code=code,
            id=question.id,
            codes=", ".join(question.codes),
        )

    def parse_indicator(self, node: Node, path: str) -> Indicator | None:
        entries = self.mapping(
            node,
            path,
            ("id", "label", "question", "positive"),
            ("excluded", "base", "target", "description"),
        )
        if entries is None:
            return None
        indicator_id = (
            self.unique_result_id(entries["id"], _join(path, "id")) if "id" in entries else None
        )
        label = (
            self.text(entries["label"], _join(path, "label"))
            if "label" in entries
            else MappingProxyType({})
        )
        description = (
            self.text(entries["description"], _join(path, "description"))
            if "description" in entries
            else None
        )
        question = None
        if "question" in entries:
            question = self.choice_question(
                entries["question"],
                _join(path, "question"),
                lambda kind: kind.choices,
                Message(N_("an indicator needs a choice question")),
            )
        positive: tuple[str, ...] = ()
        excluded: tuple[str, ...] = ()
        if "positive" in entries:
            positive, _ = self.codes_of(
                entries["positive"], _join(path, "positive"), question, allow_empty=False
            )
        if "excluded" in entries:
            excluded, nodes = self.codes_of(
                entries["excluded"], _join(path, "excluded"), question, allow_empty=True
            )
            for code, code_node in zip(excluded, nodes, strict=True):
                if code in positive:
                    self.report(
                        code_node,
                        _join(path, "excluded"),
                        Message(
                            N_("code '%(code)s' cannot be both positive and excluded"), code=code
                        ),
                    )
        target = None
        if "target" in entries:
            target = self.number(entries["target"], _join(path, "target"))
            if target is not None and not 0 < target <= 1:
                self.report(
                    entries["target"],
                    _join(path, "target"),
                    Message(
                        N_("must be a share above 0 and at most 1 (0.9 for 90%%), not %(value)s"),
                        value=f"{target:g}",
                    ),
                )
                target = None
        base = None
        if "base" in entries:
            base = self.condition(entries["base"], _join(path, "base"))
            if base is not None:
                self.pending.append(
                    _PendingCondition(
                        base, entries["base"], _join(path, "base"), "base", None, None
                    )
                )
        if indicator_id is None or question is None:
            return None
        return Indicator(
            indicator_id, label, question.id, positive, excluded, base, target, description
        )

    def parse_composite(self, node: Node, path: str) -> Composite | None:
        entries = self.mapping(
            node, path, ("id", "label", "question", "points"), ("excluded", "description")
        )
        if entries is None:
            return None
        composite_id = (
            self.unique_result_id(entries["id"], _join(path, "id")) if "id" in entries else None
        )
        label = (
            self.text(entries["label"], _join(path, "label"))
            if "label" in entries
            else MappingProxyType({})
        )
        description = (
            self.text(entries["description"], _join(path, "description"))
            if "description" in entries
            else None
        )
        question = None
        if "question" in entries:
            question = self.choice_question(
                entries["question"],
                _join(path, "question"),
                lambda kind: kind.choices and not kind.multiple,
                Message(N_("a composite needs a single-choice question")),
            )
        excluded: tuple[str, ...] = ()
        if "excluded" in entries:
            excluded, _ = self.codes_of(
                entries["excluded"], _join(path, "excluded"), question, allow_empty=True
            )
        points: dict[str, float] = {}
        if "points" in entries:
            points = self.parse_points(entries["points"], _join(path, "points"), question, excluded)
        if composite_id is None or question is None:
            return None
        return Composite(
            composite_id, label, question.id, MappingProxyType(points), excluded, description
        )

    def parse_points(
        self, node: Node, path: str, question: Question | None, excluded: tuple[str, ...]
    ) -> dict[str, float]:
        if not isinstance(node, MappingNode):
            self.report(
                node,
                path,
                Message(
                    N_("must map answer codes to points (1: 100), not %(kind)s"), kind=_kind(node)
                ),
            )
            return {}
        points: dict[str, float] = {}
        for code, (key_node, value) in self.entries(node, path).items():
            field = _join(path, code)
            if question is not None and code not in question.codes:
                self.report(
                    key_node,
                    field,
                    Message(
                        N_("points for %(problem)s"), problem=self.unknown_code(code, question)
                    ),
                )
                continue
            if code in excluded:
                self.report(
                    key_node,
                    field,
                    Message(N_("code '%(code)s' is excluded and cannot have points"), code=code),
                )
                continue
            number = self.number(value, field)
            if number is not None:
                points[code] = number
        if question is not None:
            entries = _key_names(node)
            for code in question.codes:
                if code not in entries and code not in excluded:
                    self.report(
                        node,
                        path,
                        Message(
                            N_(
                                "code '%(code)s' of question '%(id)s' has no "
                                "points and is not excluded"
                            ),
                            code=code,
                            id=question.id,
                        ),
                    )
        return points

    # --- cross references ----------------------------------------------------------------

    def check_conditions(self) -> None:
        pending, self.pending = self.pending, []
        for item in pending:
            self.check_condition(item)

    def check_condition(self, item: _PendingCondition) -> None:
        condition, node, path = item.condition, item.node, item.path
        if condition.uses_current and item.scope != "constraint":
            self.report(
                node,
                path,
                Message(N_("'.' (this question's answer) can only be used in a constraint")),
            )
        owner_info = self.questions.get(item.owner) if item.owner else None
        owner_repeat = owner_info.question.repeat if owner_info is not None else None
        counted = {qid for function, qid in condition.choice_functions() if function == "count"}
        for ref in sorted(condition.refs):
            info = self.questions.get(ref)
            roster = self.repeats.get(ref)
            if info is None and roster is not None:
                if item.scope == "base":
                    self.report(
                        node,
                        path,
                        Message(
                            N_(
                                "'%(ref)s' is a repeat group: an indicator's base uses questions "
                                "asked once per interview"
                            ),
                            ref=ref,
                        ),
                    )
                elif ref not in counted:
                    self.report(
                        node,
                        path,
                        Message(
                            N_(
                                "'%(ref)s' is a repeat group: "
                                "count its instances with count(${%(ref)s})"
                            ),
                            ref=ref,
                        ),
                    )
                elif owner_repeat == ref or (item.before is not None and roster.end > item.before):
                    self.report(
                        node,
                        path,
                        Message(
                            N_(
                                "refers to repeat group '%(ref)s' (line %(line)s), which is asked "
                                "later: questions can only depend on questions asked before"
                            ),
                            ref=ref,
                            line=roster.line,
                        ),
                    )
                continue
            if info is not None and info.question.repeat not in (None, owner_repeat):
                repeat_id = info.question.repeat
                self.report(
                    node,
                    path,
                    Message(
                        N_(
                            "refers to '%(ref)s', which is asked in repeat group '%(repeat)s' "
                            "(once per instance): outside it, use count(${%(repeat)s})"
                        ),
                        ref=ref,
                        repeat=repeat_id,
                    ),
                )
                continue
            if info is None:
                self.report(
                    node,
                    path,
                    Message(
                        N_("unknown question '%(id)s'%(suggestion)s"),
                        id=ref,
                        suggestion=_suggest(ref, self.questions),
                    ),
                )
            elif ref == item.owner:
                message = (
                    N_("refers to the question itself ('%(ref)s'); write '.' for its own answer")
                    if item.scope == "constraint"
                    else N_("refers to the question itself ('%(ref)s')")
                )
                self.report(node, path, Message(message, ref=ref))
            elif item.before is not None and info.index >= item.before:
                message = (
                    N_(
                        "refers to '%(ref)s' (line %(line)s), which is asked later: "
                        "this group's questions can only depend on questions asked before"
                    )
                    if item.scope == "group"
                    else N_(
                        "refers to '%(ref)s' (line %(line)s), which is asked later: "
                        "questions can only depend on questions asked before"
                    )
                )
                self.report(node, path, Message(message, ref=ref, line=info.line))
        owner = self.questions.get(item.owner) if item.owner else None
        for qid, code in condition.compared_codes():
            info = self.questions.get(qid) if qid is not None else owner
            if info is None or not info.question.kind.choices:
                continue
            if code not in info.question.codes:
                self.report(node, path, self.unknown_code(code, info.question))
        for function, qid in condition.choice_functions():
            if function == "count":
                if qid not in self.repeats:
                    what = f"'{qid}'" if qid is not None else "'.'"
                    self.report(
                        node,
                        path,
                        Message(N_("count() needs a repeat group, not %(what)s"), what=what),
                    )
                continue
            info = self.questions.get(qid) if qid is not None else owner
            if info is None:
                continue
            qtype = info.question.type
            if function == "selected" and not info.question.kind.choices:
                self.report(
                    node,
                    path,
                    Message(
                        N_("selected() needs a choice question; '%(id)s' is a %(type)s question"),
                        id=info.question.id,
                        type=qtype,
                    ),
                )
            elif function == "count-selected" and not info.question.kind.multiple:
                self.report(
                    node,
                    path,
                    Message(
                        N_(
                            "count-selected() needs a multiple question; "
                            "'%(id)s' is a %(type)s question"
                        ),
                        id=info.question.id,
                        type=qtype,
                    ),
                )
