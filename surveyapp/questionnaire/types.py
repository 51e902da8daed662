"""The question types: one object per type, the one place that says what a type is.

A :class:`QuestionKind` owns what the questionnaire file allows for its type (its own YAML
keys, in the order the exporter writes them, and their JSON Schema), whether it is answered
with codes from a list of choices, and how XLSForm spells it. The loader, the exporter and the
XLSForm reader and writer read these objects instead of listing types themselves;
:func:`questionnaire_json_schema` builds the JSON Schema of the whole file format from them,
for editors (``questionnaires/questionnaire.schema.json``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = [
    "COMMON_QUESTION_KEYS",
    "GROUP_KINDS",
    "KINDS",
    "GroupKind",
    "REPEAT_KEYS",
    "QuestionKind",
    "group_kind_for_xlsform",
    "kind_for_xlsform",
    "kind_with_builtin_choices",
    "questionnaire_json_schema",
]

#: Keys every question may have, in the order the exporter writes them.
COMMON_QUESTION_KEYS = (
    "id",
    "type",
    "label",
    "hint",
    "required",
    "relevant",
    "constraint",
    "constraint_message",
)

_TEXT: Mapping[str, Any] = MappingProxyType(
    {
        "type": "object",
        "description": "A text in each language of the questionnaire: {zh_CN: ..., en: ...}.",
        "additionalProperties": {"type": "string", "minLength": 1},
        "minProperties": 1,
    }
)
_CODE: Mapping[str, Any] = MappingProxyType(
    {
        "type": ["string", "integer"],
        "description": "An answer code as written (as pyxform: any text without spaces at "
        "the ends, tabs or new lines).",
        "pattern": r"^[^\s](?:[^\t\n\r]*[^\s])?$",
    }
)
_CHOICE: Mapping[str, Any] = MappingProxyType(
    {
        "type": "object",
        "required": ["code", "label"],
        "additionalProperties": False,
        "properties": {
            "code": dict(_CODE),
            "label": dict(_TEXT),
            "exclusive": {"type": "boolean", "description": "Chosen alone (multiple choice)."},
            "properties": {
                "type": "object",
                "description": "Columns a choice_filter reads: {street: s1}.",
                "additionalProperties": {"type": ["string", "integer"]},
            },
        },
    }
)
_CHOICE_FILTER: Mapping[str, Any] = MappingProxyType(
    {
        "type": "string",
        "description": "Which choices are offered: a condition on each choice's properties "
        "(bare names; name is the code) and earlier answers: street = ${street}.",
    }
)
_CHOICES: Mapping[str, Any] = MappingProxyType(
    {
        "description": "The choices, or the name of a list under choice_lists.",
        "oneOf": [
            {"type": "array", "items": dict(_CHOICE), "minItems": 1},
            {"type": "string"},
        ],
    }
)
_CONDITION: Mapping[str, Any] = MappingProxyType(
    {"type": "string", "description": "A condition (skip logic or check), XLSForm-like."}
)


@dataclass(frozen=True)
class QuestionKind:
    """One question type.

    ``keys`` are the YAML keys only this type has (beyond :data:`COMMON_QUESTION_KEYS`), in the
    order the exporter writes them; ``key_schemas`` their JSON Schemas. ``choices`` says whether the
    answers are codes from a list of choices (``multiple``: several of them). ``xlsform`` is the
    XLSForm type the writer uses and ``pyxform`` the name pyxform's reader gives it (None when
    the type travels in the ``surveyapp_type`` column, as yes/no does).
    """

    name: str
    description: str
    keys: tuple[str, ...]
    key_schemas: Mapping[str, Mapping[str, Any]]
    choices: bool
    xlsform: str
    pyxform: str | None
    multiple: bool = False
    required_keys: tuple[str, ...] = field(default=())
    #: How the tablet and the designer show it: ``choice``, ``integer``, ``decimal``, ``text``,
    #: ``date``, ``time``, ``datetime``, ``geopoint``, ``note`` (shown only) or ``calculate``
    #: (not shown: the server computes it).
    input: str = "text"
    #: Whether an answer is stored (a note's is not).
    stored: bool = True
    #: Whether the interviewer enters the answer (a calculation is computed from others).
    entered: bool = True
    #: The suffixes of its export columns: ``("",)`` is one column named by the question id;
    #: a geopoint has ``lat``, ``lon``, ``alt`` and ``accuracy`` (``<id>_lat`` ...).
    columns: tuple[str, ...] = ("",)
    #: Whether its exported answers are numbers (or codes, for choices).
    numeric: bool = False
    #: Other names pyxform gives it (``int`` for integer, ``string`` for text).
    aliases: tuple[str, ...] = ()
    #: Whether its answers can identify a respondent (free text, dates and times, places):
    #: the anonymised responses export leaves them out unless asked for them.
    identifying: bool = False
    #: Whether its answers are compared with < and > (numbers, dates and times), as the
    #: designer's condition builder offers.
    ordered: bool = False
    #: What the designer's form calls it.
    word: str = ""
    #: Whether its answers (and its ``min`` and ``max``) are whole numbers.
    whole_numbers: bool = False
    #: The choices it has without a list in the file, code -> label in each language (yes/no);
    #: a file may relabel them with its own choices of the same codes.
    builtin_labels: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    @property
    def builtin_codes(self) -> tuple[str, ...]:
        """The codes of its built-in choices, in order (empty for most types)."""
        return tuple(self.builtin_labels)

    @property
    def listed(self) -> bool:
        """Whether it is answered with codes from the file's own list of choices (single and
        multiple choice; yes/no has built-in codes)."""
        return self.choices and not self.builtin_labels

    def question_schema(self) -> dict[str, Any]:
        """Return the JSON Schema of a question of this type (its keys, nothing else)."""
        properties: dict[str, Any] = {
            "id": {
                "type": "string",
                "pattern": r"^[A-Za-z][A-Za-z0-9_]*$",
                "description": "The question id: a letter, then letters, digits or '_'.",
            },
            "type": {"const": self.name, "description": self.description},
            "label": dict(_TEXT),
            "hint": dict(_TEXT),
            "required": {
                "type": ["boolean", "string"],
                "description": "Must be answered (default true), or a condition saying when.",
            },
            "relevant": dict(_CONDITION),
            "constraint": dict(_CONDITION),
            "constraint_message": dict(_TEXT),
        }
        properties.update({key: dict(self.key_schemas[key]) for key in self.keys})
        return {
            "type": "object",
            "required": ["id", "type", "label", *self.required_keys],
            "additionalProperties": False,
            "properties": properties,
        }


def N_(text: str) -> str:  # noqa: N802 - Babel's marker for a text translated where it is shown
    """Mark ``text`` for the message catalogs (the web layer translates it)."""
    return text


def _kinds(*kinds: QuestionKind) -> Mapping[str, QuestionKind]:
    return MappingProxyType({kind.name: kind for kind in kinds})


#: Every question type, by name, in the order the designer offers them.
KINDS: Mapping[str, QuestionKind] = _kinds(
    QuestionKind(
        name="single",
        description="One answer from a list of choices.",
        keys=("other", "choice_filter", "choices"),
        key_schemas={
            "choices": _CHOICES,
            "other": {**_CODE, "description": "The code of the 'other, please specify' choice."},
            "choice_filter": _CHOICE_FILTER,
        },
        choices=True,
        input="choice",
        xlsform="select_one",
        pyxform="select one",
        required_keys=("choices",),
        word=N_("one answer"),
    ),
    QuestionKind(
        name="multiple",
        description="Any number of answers from a list of choices.",
        keys=("other", "choice_filter", "choices"),
        key_schemas={
            "choices": _CHOICES,
            "other": {**_CODE, "description": "The code of the 'other, please specify' choice."},
            "choice_filter": _CHOICE_FILTER,
        },
        choices=True,
        multiple=True,
        input="choice",
        xlsform="select_multiple",
        pyxform="select all that apply",
        required_keys=("choices",),
        word=N_("several answers"),
    ),
    QuestionKind(
        name="yesno",
        description="Yes or no (codes yes/no; labels built in unless given).",
        keys=("choices",),
        key_schemas={"choices": _CHOICES},
        choices=True,
        input="choice",
        xlsform="select_one",
        pyxform=None,
        word=N_("yes / no"),
        builtin_labels=MappingProxyType(
            {
                "yes": MappingProxyType({"zh_CN": "是", "en": "Yes", "ug": "ھەئە"}),
                "no": MappingProxyType({"zh_CN": "否", "en": "No", "ug": "ياق"}),
            }
        ),
    ),
    QuestionKind(
        name="integer",
        description="A whole number, optionally between min and max.",
        keys=("min", "max"),
        key_schemas={
            "min": {"type": "integer", "description": "The smallest answer allowed."},
            "max": {"type": "integer", "description": "The largest answer allowed."},
        },
        choices=False,
        xlsform="integer",
        pyxform="integer",
        aliases=("int",),
        input="integer",
        numeric=True,
        whole_numbers=True,
        word=N_("whole number"),
        ordered=True,
    ),
    QuestionKind(
        name="text",
        description="A free text answer.",
        keys=("max_length",),
        key_schemas={
            "max_length": {"type": "integer", "minimum": 1, "description": "Default 500."}
        },
        choices=False,
        xlsform="text",
        pyxform="text",
        aliases=("string",),
        identifying=True,
        word=N_("text"),
    ),
    QuestionKind(
        name="date",
        description="A date, YYYY-MM-DD.",
        keys=(),
        key_schemas={},
        choices=False,
        xlsform="date",
        pyxform="date",
        input="date",
        identifying=True,
        word=N_("date"),
        ordered=True,
    ),
    QuestionKind(
        name="decimal",
        description="A number with decimals, optionally between min and max.",
        keys=("min", "max"),
        key_schemas={
            "min": {"type": "number", "description": "The smallest answer allowed."},
            "max": {"type": "number", "description": "The largest answer allowed."},
        },
        choices=False,
        xlsform="decimal",
        pyxform="decimal",
        input="decimal",
        numeric=True,
        word=N_("number with decimals"),
        ordered=True,
    ),
    QuestionKind(
        name="time",
        description="A time of day, HH:MM.",
        keys=(),
        key_schemas={},
        choices=False,
        xlsform="time",
        pyxform="time",
        input="time",
        identifying=True,
        word=N_("time of day"),
        ordered=True,
    ),
    QuestionKind(
        name="datetime",
        description="A date and time, YYYY-MM-DDTHH:MM (local time where it was answered).",
        keys=(),
        key_schemas={},
        choices=False,
        xlsform="dateTime",
        pyxform="dateTime",
        input="datetime",
        identifying=True,
        word=N_("date and time"),
        ordered=True,
    ),
    QuestionKind(
        name="geopoint",
        description=(
            "A location captured by the tablet (after the interviewer presses the button): "
            "latitude, longitude, altitude and accuracy in metres."
        ),
        keys=(),
        key_schemas={},
        choices=False,
        xlsform="geopoint",
        pyxform="geopoint",
        input="geopoint",
        columns=("lat", "lon", "alt", "accuracy"),
        numeric=True,
        identifying=True,
        word=N_("location (GPS)"),
    ),
    QuestionKind(
        name="note",
        description="A text shown to the interviewer; nothing is stored.",
        keys=(),
        key_schemas={},
        choices=False,
        xlsform="note",
        pyxform="note",
        input="note",
        stored=False,
        columns=(),
        word=N_("note (shown, not asked)"),
    ),
    QuestionKind(
        name="calculate",
        description=(
            "A value computed from earlier answers (calculation, in the condition language) "
            "and stored; not shown."
        ),
        keys=("calculation",),
        key_schemas={
            "calculation": {
                "type": "string",
                "description": "The expression, e.g. count-selected(${q1}) or ${age}.",
            }
        },
        choices=False,
        xlsform="calculate",
        pyxform="calculate",
        input="calculate",
        entered=False,
        required_keys=("calculation",),
        word=N_("calculation"),
    ),
)


@dataclass(frozen=True)
class GroupKind:
    """One kind of group: a plain group (a page of questions asked once) or a ``repeat``
    group (its questions asked once per instance: a household roster), as XLSForm's
    ``begin group`` and ``begin repeat``.

    ``keys`` are the YAML keys only this kind has (beyond ``id``, ``title``, ``relevant`` and
    ``questions``), in the order the exporter writes them, with their JSON Schemas;
    ``xlsform`` is the word of its ``begin``/``end`` rows and ``pyxform`` the type pyxform's
    reader gives it.
    """

    name: str
    description: str
    keys: tuple[str, ...]
    key_schemas: Mapping[str, Mapping[str, Any]]
    xlsform: str
    pyxform: str
    #: Whether its questions are asked once per instance (answers: a list of instances).
    repeated: bool = False


#: The keys of a ``repeat`` group's ``repeat`` mapping, in the order the exporter writes them.
REPEAT_KEYS = ("count", "min", "max")

#: Every kind of group, by name; a group with a ``repeat`` key is a repeat group.
GROUP_KINDS: Mapping[str, GroupKind] = MappingProxyType(
    {
        "group": GroupKind(
            name="group",
            description="Questions asked once, together (a page).",
            keys=(),
            key_schemas={},
            xlsform="group",
            pyxform="group",
        ),
        "repeat": GroupKind(
            name="repeat",
            description="Questions asked once per instance (a household roster).",
            keys=("repeat",),
            key_schemas={
                "repeat": {
                    "description": "Asked once per instance: true (as many as the interviewer "
                    "adds), or {count: a number or an expression such as ${household_size}, "
                    "min: ..., max: ...}.",
                    "oneOf": [
                        {"const": True},
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "count": {"type": ["integer", "string"]},
                                "min": {"type": "integer", "minimum": 0},
                                "max": {"type": "integer", "minimum": 1},
                            },
                        },
                    ],
                }
            },
            xlsform="repeat",
            pyxform="repeat",
            repeated=True,
        ),
    }
)


def group_kind_for_xlsform(pyxform_type: str) -> GroupKind | None:
    """Return the kind of group pyxform's JSON type name stands for (None if it is none)."""
    for kind in GROUP_KINDS.values():
        if kind.pyxform == pyxform_type:
            return kind
    return None


def kind_for_xlsform(pyxform_type: str) -> QuestionKind | None:
    """Return the question type pyxform's JSON type name stands for (None if there is none)."""
    for kind in KINDS.values():
        if kind.pyxform == pyxform_type or pyxform_type in kind.aliases:
            return kind
    return None


def kind_with_builtin_choices(xlsform: str, marker: str, codes: list[str]) -> QuestionKind | None:
    """Return the type with built-in choices that an XLSForm question stands for, or None.

    ``xlsform`` is the question's XLSForm type (``select_one``), ``marker`` what its
    ``surveyapp_type`` column says and ``codes`` its choices' codes: a type with built-in
    choices and the same XLSForm type is meant when the column names it or when the codes are
    exactly its built-in ones (a list of yes and no is a yes/no question).
    """
    for kind in KINDS.values():
        if kind.builtin_labels and kind.xlsform == xlsform:
            if marker == kind.name or codes == list(kind.builtin_codes):
                return kind
    return None


def questionnaire_json_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of a questionnaire file, built from :data:`KINDS`.

    It checks the shape (keys, their types, question types and their own keys); the
    questionnaire check (``surveyapp questionnaire validate``) checks the rest (translations,
    codes, conditions, ids used before they are asked).
    """
    language = {
        "oneOf": [
            {"type": "string", "description": "A language code, e.g. zh_CN, en, ug."},
            {
                "type": "object",
                "required": ["code"],
                "additionalProperties": False,
                "properties": {
                    "code": {"type": "string"},
                    "name": {"type": "string"},
                    "rtl": {"type": "boolean"},
                },
            },
        ]
    }
    codes = {"type": "array", "items": dict(_CODE)}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "surveyapp questionnaire",
        "description": "A questionnaire file (questionnaires/README.md describes the format).",
        "type": "object",
        "required": ["id", "version", "title", "languages", "groups"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_-]*$"},
            "version": {"type": "integer", "minimum": 1},
            "title": dict(_TEXT),
            "description": dict(_TEXT),
            "languages": {"type": "array", "items": language, "minItems": 1},
            "choice_lists": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": dict(_CHOICE), "minItems": 1},
            },
            "groups": {"type": "array", "items": {"$ref": "#/$defs/group"}, "minItems": 1},
            "indicators": {"type": "array", "items": {"$ref": "#/$defs/indicator"}},
            "composites": {"type": "array", "items": {"$ref": "#/$defs/composite"}},
        },
        "$defs": {
            "group": {
                "type": "object",
                "required": ["id", "title", "questions"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string"},
                    "title": dict(_TEXT),
                    "relevant": dict(_CONDITION),
                    **{
                        key: dict(schema)
                        for kind in GROUP_KINDS.values()
                        for key, schema in kind.key_schemas.items()
                    },
                    "questions": {
                        "type": "array",
                        "items": {"$ref": "#/$defs/question"},
                        "minItems": 1,
                    },
                },
            },
            "question": {
                "oneOf": [{"$ref": f"#/$defs/question_{name}"} for name in KINDS],
            },
            **{f"question_{name}": kind.question_schema() for name, kind in KINDS.items()},
            "indicator": {
                "type": "object",
                "required": ["id", "label", "question", "positive"],
                "properties": {
                    "id": {"type": "string"},
                    "label": dict(_TEXT),
                    "description": dict(_TEXT),
                    "question": {"type": "string"},
                    "positive": codes,
                    "excluded": codes,
                    "base": dict(_CONDITION),
                    "target": {"type": "number", "minimum": 0, "maximum": 1},
                },
            },
            "composite": {
                "type": "object",
                "required": ["id", "label", "question", "points"],
                "properties": {
                    "id": {"type": "string"},
                    "label": dict(_TEXT),
                    "description": dict(_TEXT),
                    "question": {"type": "string"},
                    "points": {"type": "object", "additionalProperties": {"type": "number"}},
                    "excluded": codes,
                },
            },
        },
    }
