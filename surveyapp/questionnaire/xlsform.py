"""XLSForm (ODK, KoboToolbox) import and export.

Import reads and checks an ``.xlsx`` XLSForm with :mod:`pyxform` (the reference implementation:
we never interpret XLSForm semantics by hand), converts pyxform's JSON to a questionnaire
document, and says clearly what our format cannot represent. Export writes any questionnaire as
an XLSForm workbook with :mod:`openpyxl`: ``label::简体中文 (zh-CN)`` columns, ``relevant``,
``constraint``, ``required``, ``select_one``/``select_multiple`` lists and groups, which ODK
Collect and KoboToolbox accept. What XLSForm has no column for (``yesno`` questions, the "other"
choice, exclusive choices, ``min``/``max``, indicators, composites, translated titles) travels in
extra ``surveyapp_*`` columns and sheets that pyxform passes through, so exporting and importing
again gives the same questionnaire.

Stages over plain data, as pyxform does: workbook bytes → pyxform JSON → document → YAML text.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from ..errors import N_, Worded
from ..errors import Text as Message
from .export import dump_document, to_document, uses_builtin_labels
from .model import (
    DEFAULT_LANGUAGE,
    DEFAULT_TEXT_MAX_LENGTH,
    LANGUAGE_NAMES,
    Questionnaire,
    Text,
    language_word,
)
from .problems import Problem
from .types import (
    KINDS,
    QuestionKind,
    group_kind_for_xlsform,
    kind_for_xlsform,
    kind_with_builtin_choices,
)
from .untrusted import WorkbookTooLarge, bounded_xlsx

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

    from .model import Question

__all__ = [
    "XLSFormImport",
    "language_code",
    "map_problems",
    "xlsform_to_document",
    "xlsform_to_yaml",
    "to_xlsform",
]

#: pyxform's JSON type names (and aliases: int, string) for the question types we have
#: (yes/no travels as select one).
_TYPE_MAP = {
    alias: name
    for name, kind in KINDS.items()
    for alias in (kind.pyxform, *kind.aliases)
    if alias is not None
}
#: Metadata kept as the interview's paradata: surveyapp records start and end times (today is
#: the start's date) and the device of every interview itself, and its XForms ask ODK for them.
_PARADATA = frozenset({"start", "end", "today", "deviceid"})
#: Media questions: left out (with a warning naming the row); questionnaires store no files.
_MEDIA = frozenset({"photo", "image", "audio", "video", "file", "background-audio"})
#: Other metadata that ODK records by itself; surveyapp does not keep it.
_METADATA = frozenset(
    {
        "imei",
        "username",
        "email",
        "phonenumber",
        "simserial",
        "subscriberid",
        "audit",
        "start-geopoint",
    }
)
#: Columns of a question that change nothing about what is asked or stored.
_HARMLESS = frozenset(
    {
        "type",
        "name",
        "label",
        "hint",
        "bind",
        "parameters",
        "itemset",
        "list_name",
        "choices",
        "choice_filter",
    }
)
#: Keys of a pyxform choice that are not columns a choice filter reads.
_CHOICE_OWN_KEYS = frozenset({"name", "label", "media", "image", "audio", "video", "big-image"})
_LANGUAGE_CODE = re.compile(r"\(([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)*)\)\s*$")
_CHINESE = re.compile(r"[\u4e00-\u9fff]")
_NUMBER = r"-?\d+(?:\.\d+)?"
_LIMITS = re.compile(rf"^\s*\.\s*>=\s*({_NUMBER})\s+and\s+\.\s*<=\s*({_NUMBER})\s*$")
_MAX_INT = 2**31 - 1

#: The label of or_other's "other" choice (pyxform writes "Other" in every language).
_OTHER_LABELS = {DEFAULT_LANGUAGE: "其他", "en": "Other"}

#: Extra columns and sheets written by :func:`to_xlsform` (pyxform passes them through).
EXTRA_SHEET = "surveyapp"
RESULTS_SHEET = "surveyapp_indicators"


@dataclass
class XLSFormImport:
    """The result of reading an XLSForm: the document, and what could not be represented.

    ``problems`` make the import impossible (a repeat, an unsupported question type, a file
    pyxform refuses); ``warnings`` name what was left out (notes, calculations, metadata,
    appearances). ``rows`` maps question and group names to their survey-sheet rows;
    ``choice_rows`` maps (question name, choice code) to the choices-sheet row.
    """

    document: dict[str, Any] | None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    choice_rows: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def text(self) -> str | None:
        """The YAML text of the document (None when it could not be built)."""
        return dump_document(self.document) if self.document is not None else None


# --- import -----------------------------------------------------------------------------------


def language_code(name: str) -> str:
    """Map an XLSForm language name (``English (en)``, ``中文 (zh-CN)``) to our code.

    Chinese in any regional or script form (``zh``, ``zh-CN``, ``zh-Hans``) is ``zh_CN``;
    ``xx-YY`` becomes ``xx_YY``. A name without a code in parentheses (``French``,
    ``Kiswahili``, ``العربية``) is matched against the known language names, then against the
    English and native names of every language in the CLDR (Babel); a name found nowhere is
    kept lower-cased (and reported by :func:`is_language_code`'s check).
    """
    match = _LANGUAGE_CODE.search(name)
    if match is None:
        lowered = name.strip().lower()
        for code, known in LANGUAGE_NAMES.items():
            if known.lower() == lowered:
                return code
        aliases = {"english": "en", "chinese": "zh_CN", "uyghur": "ug", "uighur": "ug"}
        if lowered in aliases:
            return aliases[lowered]
        found = _cldr_language_names().get(lowered) or _cldr_language_names(native=True).get(
            lowered
        )
        if found is not None:
            return DEFAULT_LANGUAGE if found == "zh" else found
        return lowered
    code = match.group(1).replace("-", "_")
    parts = code.split("_")
    if parts[0].lower() == "zh" and (len(parts) == 1 or parts[1] in ("CN", "Hans", "cn", "hans")):
        return DEFAULT_LANGUAGE
    parts[0] = parts[0].lower()
    if len(parts) > 1 and len(parts[1]) == 2:
        parts[1] = parts[1].upper()
    return "_".join(parts)


_LANGUAGE_CODE_FORM = re.compile(r"^[a-z]{2,3}(?:_[A-Za-z0-9]{2,8})*$")


def is_language_code(code: str) -> bool:
    """Whether ``code`` reads as a language code (``fr``, ``zh_CN``), not a leftover name."""
    return bool(_LANGUAGE_CODE_FORM.match(code))


_CLDR_NAMES: dict[str, dict[str, str]] = {}


def _cldr_language_names(native: bool = False) -> dict[str, str]:
    """Lower-cased English names (``native``: each language's own name) of the CLDR's
    languages -> their code. The native names need every locale's data (seconds): they are
    read only when a name is not an English one."""
    key = "native" if native else "english"
    if key not in _CLDR_NAMES:
        from babel import Locale, localedata

        names: dict[str, str] = {}
        if not native:
            for code, name in Locale("en").languages.items():
                if "_" not in code:
                    names.setdefault(name.strip().lower(), code)
        else:
            for identifier in localedata.locale_identifiers():
                if "_" in identifier:
                    continue
                try:
                    name = Locale.parse(identifier).get_display_name(identifier)
                except (ValueError, LookupError):
                    continue
                if name:
                    names.setdefault(name.strip().lower(), identifier)
        _CLDR_NAMES[key] = names
    return _CLDR_NAMES[key]


def _language_display(name: str) -> str:
    return _LANGUAGE_CODE.sub("", name).strip() or name


class _Reader:
    def __init__(self, source: str, data: dict[str, Any], rows: dict[str, int]) -> None:
        self.source = source
        self.data = data
        self.rows = rows
        self.problems: list[Problem] = []
        self.warnings: list[str] = []
        self.default_name = str(data.get("default_language") or "default")
        self.languages: dict[str, str] = {}  # XLSForm name -> our code
        self.dropped: set[str] = set()
        self.raw_survey: dict[str, dict[str, str]] = {}
        self.loose_groups: list[dict[str, Any]] = []
        self.has_form_id = True
        self.raw_choices: dict[tuple[str, str], dict[str, str]] = {}
        self.draft = False
        self.required_languages: tuple[str, ...] = ()
        #: The calculations pyxform adds for a constant repeat_count (``pets_count``: "2").
        self.repeat_counts: dict[str, str] = {}
        #: pyxform's "specify other" texts of or_other lists (``<name>_other``).
        self.or_other_texts: set[str] = set()

    def raw_text(self, raw: Mapping[str, str] | None, column: str, value: Any) -> dict[str, str]:
        """Texts of ``column`` as written in the sheet (pyxform rewrites curly quotes and
        spacing), falling back to pyxform's value."""
        parsed = self.text(value)
        if not raw:
            return parsed
        texts: dict[str, str] = {}
        for header, text in raw.items():
            head, _, language = header.partition("::")
            if head.strip().lower() != column or not text.strip():
                continue
            texts[self.language(language.strip() or "default")] = text
        return texts if set(texts) == set(parsed) else parsed

    def where(self, name: str) -> str | Message:
        row = self.rows.get(name)
        return (
            Message(N_("survey row %(row)s ('%(name)s')"), row=row, name=name)
            if row
            else f"'{name}'"
        )

    def problem(self, name: str, message: Message) -> None:
        self.problems.append(
            Problem(self.source, self.rows.get(name, 1), name, str(message), message)
        )

    def warn(self, name: str, message: Message) -> None:
        where = Message(N_("%(where)s: %(place)s"), where=self.source, place=self.where(name))
        self.warnings.append(_worded(where, message))

    def language(self, name: str) -> str:
        if name not in self.languages:
            if name == "default":
                code = language_code(self.default_name) if self.default_name != "default" else ""
                self.languages[name] = code or "default"
            else:
                self.languages[name] = language_code(name)
        return self.languages[name]

    def text(self, value: Any) -> dict[str, str]:
        if value is None:
            return {}
        if isinstance(value, str):
            return {self.language("default"): value}
        return {
            self.language(str(name)): str(text)
            for name, text in value.items()
            if text is not None and str(text).strip()
        }


def _cell(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _sheet_rows(workbook: Workbook, sheet_name: str) -> list[tuple[int, dict[str, str]]]:
    """Return (row number, {header: text}) for the non-empty rows of a sheet, as written."""
    if sheet_name not in workbook.sheetnames:
        return []
    rows = workbook[sheet_name].iter_rows(values_only=True)
    try:
        header = [_cell(value).strip() for value in next(rows)]
    except StopIteration:
        return []
    result = []
    for index, row in enumerate(rows, start=2):
        values = {
            header[i]: _cell(value)
            for i, value in enumerate(row)
            if i < len(header) and header[i] and _cell(value).strip()
        }
        if values:
            result.append((index, values))
    return result


def _survey_rows(workbook: Workbook) -> tuple[dict[str, int], dict[str, dict[str, str]]]:
    rows: dict[str, int] = {}
    raw: dict[str, dict[str, str]] = {}
    for index, values in _sheet_rows(workbook, "survey"):
        name = values.get("name", "").strip()
        if name and name not in rows:
            rows[name] = index
            raw[name] = values
    return rows, raw


def _choice_rows(workbook: Workbook) -> dict[tuple[str, str], dict[str, str]]:
    raw: dict[tuple[str, str], dict[str, str]] = {}
    for index, values in _sheet_rows(workbook, "choices"):
        key = (values.get("list_name", "").strip(), values.get("name", "").strip())
        raw.setdefault(key, {**values, "__row": str(index)})
    return raw


def _question_choice_rows(
    raw_survey: Mapping[str, Mapping[str, str]],
    raw_choices: Mapping[tuple[str, str], Mapping[str, str]],
) -> dict[tuple[str, str], int]:
    """(question name, choice code) → choices-sheet row, through the question's list name."""
    rows: dict[tuple[str, str], int] = {}
    for name, values in raw_survey.items():
        words = str(values.get("type", "")).split()
        if len(words) < 2:
            continue
        for (list_name, code), choice in raw_choices.items():
            if list_name == words[1] and choice.get("__row"):
                rows[(name, code)] = int(choice["__row"])
    return rows


def _extra_sheets(workbook: Workbook) -> tuple[dict[str, dict[str, str]], list[dict[str, Any]]]:
    texts: dict[str, dict[str, str]] = {}
    results: list[dict[str, Any]] = []
    if EXTRA_SHEET in workbook.sheetnames:
        rows = list(workbook[EXTRA_SHEET].iter_rows(values_only=True))
        if rows:
            header = [str(value or "") for value in rows[0]]
            for row in rows[1:]:
                key = str(row[0] or "").strip()
                for name, value in zip(header[1:], row[1:], strict=False):
                    if key and value not in (None, ""):
                        texts.setdefault(key, {})[name] = str(value)
    if RESULTS_SHEET in workbook.sheetnames:
        rows = list(workbook[RESULTS_SHEET].iter_rows(values_only=True))
        if rows:
            header = [str(value or "") for value in rows[0]]
            for row in rows[1:]:
                entry = {
                    name: value
                    for name, value in zip(header, row, strict=False)
                    if value not in (None, "")
                }
                if entry:
                    results.append(entry)
    return texts, results


def xlsform_to_document(
    data: bytes,
    source: str = "form.xlsx",
    draft: bool = False,
    required_languages: Collection[str] = (),
) -> XLSFormImport:
    """Read an XLSForm workbook (``.xlsx`` or ``.xls`` bytes) into a questionnaire document.

    ``draft``: the document may lack the languages publishing needs (Chinese is declared
    with its texts missing); otherwise a form without Chinese labels, or without one of the
    ``required_languages`` (the deployment's publishing languages), is refused.

    pyxform reads and checks the form; its errors become problems. The document still has to
    pass the questionnaire check (``load_questionnaire_text``), which reports, for example,
    names that are not valid ids or conditions that use functions we do not evaluate.
    """
    import openpyxl
    from pyxform import xls2xform
    from pyxform.errors import PyXFormError

    from .xls import NotAWorkbook, is_xls, xls_to_xlsx

    if is_xls(data):
        try:
            data = xls_to_xlsx(data)
        except WorkbookTooLarge as error:
            return XLSFormImport(None, [_file_problem(source, _too_large(error))])
        except NotAWorkbook as error:
            return XLSFormImport(None, [_file_problem(source, error.text)])
    try:
        # Every reader (openpyxl here, pyxform below) gets the bounded workbook.
        data = bounded_xlsx(data)
    except WorkbookTooLarge as error:
        return XLSFormImport(None, [_file_problem(source, _too_large(error))])
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as error:
        return XLSFormImport(None, [_file_problem(source, _not_xlsx(error))])
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        return XLSFormImport(None, [_file_problem(source, _not_xlsx(error))])
    rows, raw_survey = _survey_rows(workbook)
    raw_choices = _choice_rows(workbook)
    has_form_id = any(values.get("form_id") for _, values in _sheet_rows(workbook, "settings"))
    texts, results = _extra_sheets(workbook)
    workbook.close()
    warnings: list[str] = []
    try:
        converted = xls2xform.convert(
            xlsform=data, warnings=warnings, validate=False, file_type=".xlsx"
        )
    except PyXFormError as error:
        problem = _pyxform_problem(source, str(error), rows, raw_survey)
        return XLSFormImport(None, [problem], rows=rows)
    except Exception as error:  # noqa: BLE001 - pyxform lets some internal errors through
        return XLSFormImport(
            None,
            [
                _file_problem(
                    source,
                    Message(
                        N_("pyxform cannot read the form (%(error)s)"),
                        error=error.__class__.__name__,
                    ),
                )
            ],
            rows=rows,
        )
    reader = _Reader(source, converted._pyxform, rows)
    reader.raw_survey, reader.raw_choices = raw_survey, raw_choices
    reader.has_form_id = has_form_id
    reader.draft = draft
    reader.required_languages = tuple(required_languages)
    reader.warnings.extend(_worded(source, _pyxform_warning(warning)) for warning in warnings)
    document = _document(reader, texts, results)
    return XLSFormImport(
        document,
        reader.problems,
        reader.warnings,
        rows,
        _question_choice_rows(raw_survey, raw_choices),
    )


def _worded(where: str | Message, message: Message) -> Worded:
    """A warning: English as a ``str`` (what callers read), translated where it is shown."""
    return Worded(Message(N_("%(where)s: %(message)s"), where=where, message=message))


#: pyxform's frequent warnings, worded by msgids of ours; any other stays pyxform's English.
_PYXFORM_WARNINGS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"^The following language declarations do not contain valid machine-readable "
            r"codes: (?P<languages>.*?)\.(?: Learn more: \S+)?$",
            re.S,
        ),
        N_(
            "The following language declarations do not contain valid machine-readable codes: "
            "%(languages)s."
        ),
    ),
    (
        re.compile(
            r"^This form uses or_other and translations, which is not recommended\..*$", re.S
        ),
        N_(
            "This form uses or_other and translations, which is not recommended: the label of "
            "the 'other' choice and of its question is not translated."
        ),
    ),
    (
        re.compile(
            r"^On the 'choices' sheet, the 'label' value is invalid\. Choices should have a "
            r"label\..*$",
            re.S,
        ),
        N_("On the 'choices' sheet, the 'label' value is invalid. Choices should have a label."),
    ),
    (
        re.compile(
            r"^On the '(?P<sheet>\w+)' sheet, the 'name' value '(?P<name>[^']*)' is "
            r"problematic\. The name is a case-insensitive match to another name\..*$",
            re.S,
        ),
        N_(
            "On the '%(sheet)s' sheet, the 'name' value '%(name)s' is problematic: it differs "
            "from another name only in upper or lower case, which some data tools do not tell "
            "apart."
        ),
    ),
)


def _pyxform_warning(text: str) -> Message:
    """pyxform's warning with its sheet and row (when it names one), worded by us when it is
    one of the frequent ones, else pyxform's English after our lead-in."""
    text = text.strip()
    match = _PYXFORM_ROW.match(text)
    rest = text[match.end() :] if match else text
    reason: str | Message = rest
    for pattern, template in _PYXFORM_WARNINGS:
        found = pattern.match(rest)
        if found is not None:
            reason = Message(template, **found.groupdict())
            break
    message = Message(N_("pyxform: %(warning)s"), warning=reason)
    if match is None:
        return message
    sheet = _PYXFORM_SHEET.search(rest)
    place = Message(
        N_("%(sheet)s sheet, row %(row)s"),
        sheet=sheet.group(1) if sheet else "survey",
        row=int(match.group(1)),
    )
    return Message(N_("%(where)s: %(message)s"), where=place, message=message)


def _left_out(key: str, value: Any) -> Message:
    return Message(N_("'%(key)s' is left out (%(value)s)"), key=key, value=_describe(value))


_PYXFORM_ROW = re.compile(r"^\s*\[row\s*:\s*(\d+)\]\s*")
_PYXFORM_SHEET = re.compile(r"[Oo]n the '(\w+)' sheet")


def _file_problem(source: str, message: Message) -> Problem:
    return Problem(source, 1, "", str(message), message)


def _too_large(error: WorkbookTooLarge) -> Message:
    reason = getattr(error, "text", None) or str(error)
    return Message(N_("the workbook is too large: %(reason)s"), reason=reason)


def _not_xlsx(error: BaseException) -> Message:
    return Message(N_("not an .xlsx workbook (%(error)s)"), error=error.__class__.__name__)


#: pyxform's refusals we word ourselves (translated where shown); any other stays pyxform's.
_PYXFORM_REASONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"^List name not in choices sheet: (?P<name>.+)$"),
        N_("List name not in choices sheet: %(name)s"),
    ),
    (
        re.compile(
            r"^On the '(?P<sheet>\w+)' sheet, the '(?P<column>[\w:]+)' value is invalid\. "
            r"Reference variables must contain a name from the 'survey' sheet\. "
            r"Could not find the name '(?P<name>[^']*)'\.$"
        ),
        N_(
            "On the '%(sheet)s' sheet, the '%(column)s' value is invalid. Reference variables "
            "must contain a name from the 'survey' sheet. Could not find the name '%(name)s'."
        ),
    ),
    (
        re.compile(r"^Unknown question type '(?P<type>[^']*)'\.$"),
        N_("Unknown question type '%(type)s'."),
    ),
    # The frequent families (pyxform 4): a name missing, twice or malformed; a group or repeat
    # not closed (or closed twice); choice names; the sheets and columns a form needs.
    (re.compile(r"^Question or group with no name\.$"), N_("Question or group with no name.")),
    (
        re.compile(r"^Question with no type\.(?:\n.*)?$", re.S),
        N_("Question with no type."),
    ),
    (
        re.compile(
            r"^On the '(?P<sheet>\w+)' sheet, the 'name' value '(?P<name>[^']*)' is invalid\. "
            r"Questions, groups, and repeats must be unique within their nearest parent group "
            r"or repeat, or the survey if not inside a group or repeat\.$"
        ),
        N_(
            "On the '%(sheet)s' sheet, the 'name' value '%(name)s' is invalid. Questions, "
            "groups, and repeats must be unique within their nearest parent group or repeat, "
            "or the survey if not inside a group or repeat."
        ),
    ),
    (
        re.compile(
            r"^On the '(?P<sheet>\w+)' sheet, the 'name' value is invalid\. Names must begin "
            r"with a letter or underscore\. After the first character, names may contain "
            r"letters, digits, underscores, hyphens, or periods\.$"
        ),
        N_(
            "On the '%(sheet)s' sheet, the 'name' value is invalid. Names must begin with a "
            "letter or underscore. After the first character, names may contain letters, "
            "digits, underscores, hyphens, or periods."
        ),
    ),
    (
        re.compile(
            r"^Unmatched '(?P<kind>begin_group|begin_repeat|end_group|end_repeat)'\. "
            r"No matching '(?P<other>\w+)' was found for the name '(?P<name>[^']*)'\.$"
        ),
        N_("Unmatched '%(kind)s'. No matching '%(other)s' was found for the name '%(name)s'."),
    ),
    (
        re.compile(
            r"^On the 'choices' sheet, the 'name' value is invalid\. Choice names must be "
            r"unique for each choice list\..*$",
            re.S,
        ),
        N_(
            "On the 'choices' sheet, the 'name' value is invalid. Choice names must be unique "
            "for each choice list. If this is intentional, use the setting "
            "'allow_choice_duplicates'."
        ),
    ),
    (
        re.compile(
            r"^On the 'choices' sheet, the 'name' value is invalid\. Choices must have a "
            r"name\..*$",
            re.S,
        ),
        N_("On the 'choices' sheet, the 'name' value is invalid. Choices must have a name."),
    ),
    (
        re.compile(r"^The survey element named '(?P<name>[^']*)' has no label or hint\.$"),
        N_("The survey element named '%(name)s' has no label or hint."),
    ),
    (
        re.compile(r"^There should be a choices sheet in this xlsform\..*$", re.S),
        N_("There should be a choices sheet in this xlsform."),
    ),
    (
        re.compile(r"^You must have a sheet named 'survey'\.\s*$"),
        N_("You must have a sheet named 'survey'."),
    ),
    (
        re.compile(
            r"^Invalid headers provided for sheet: '(?P<sheet>\w+)'\. One or more required "
            r"column headers were not found: (?P<columns>.*?)\.(?: Learn more: \S+)?$"
        ),
        N_(
            "Invalid headers provided for sheet: '%(sheet)s'. One or more required column "
            "headers were not found: %(columns)s."
        ),
    ),
)


def _pyxform_reason(text: str) -> str | Message:
    """pyxform's refusal worded by a msgid of ours (translated where shown), when it is one of
    the families above; else pyxform's own English, as it is."""
    for pattern, template in _PYXFORM_REASONS:
        match = pattern.match(text.strip())
        if match is not None:
            return Message(template, **match.groupdict())
    return text


_PYXFORM_UNKNOWN_TYPE = re.compile(r"^Unknown question type '([^']*)'\.$")
_PYXFORM_UNLABELLED = re.compile(r"^The survey element named '([^']*)' has no label or hint\.$")


def _pyxform_problem(
    source: str,
    message: str,
    rows: Mapping[str, int] | None = None,
    raw_survey: Mapping[str, Mapping[str, str]] | None = None,
) -> Problem:
    """pyxform's refusal as a problem naming the sheet and row (pyxform writes ``[row : 4]``;
    the sheet is the survey sheet unless the message names another). pyxform names no row
    for an unknown question type: it is the first survey row of that type."""
    unknown = _PYXFORM_UNKNOWN_TYPE.match(message.strip())
    if unknown is not None and rows and raw_survey:
        found = [
            rows[name]
            for name, values in raw_survey.items()
            if name in rows and values.get("type", "").strip() == unknown.group(1)
        ]
        if found:
            message = f"[row : {min(found)}] {message.strip()}"
    unlabelled = _PYXFORM_UNLABELLED.match(message.strip())
    if unlabelled is not None and rows and unlabelled.group(1) in rows:
        message = f"[row : {rows[unlabelled.group(1)]}] {message.strip()}"
    match = _PYXFORM_ROW.match(message)
    if match is None:
        text = Message(N_("pyxform refuses the form: %(reason)s"), reason=_pyxform_reason(message))
        return Problem(source, 1, "", str(text), text)
    row = int(match.group(1))
    rest = message[match.end() :]
    sheet = _PYXFORM_SHEET.search(rest)
    place = Message(
        N_("%(sheet)s sheet, row %(row)s"), sheet=sheet.group(1) if sheet else "survey", row=row
    )
    reason = _pyxform_reason(rest) if rest.strip() == rest else rest
    text = Message(N_("pyxform refuses it: %(reason)s"), reason=reason)
    return Problem(source, row, str(place), str(text), text, place)


def _slug(form_id: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", form_id.lower()).strip("-")
    return slug or "xlsform"


def _document(
    reader: _Reader, texts: Mapping[str, dict[str, str]], results: list[dict[str, Any]]
) -> dict[str, Any]:
    data = reader.data
    # Languages: in the order of the columns, ours first.
    for child in _walk(data.get("children") or []):
        for key in ("label", "hint"):
            value = child.get(key)
            if isinstance(value, dict):
                for name in value:
                    reader.language(str(name))
    groups: list[dict[str, Any]] = []
    loose: list[dict[str, Any]] = []
    for child in data.get("children") or []:
        _child(reader, child, groups, loose, None)
    for group in groups:
        if group.get("_loose"):
            del group["_loose"]
            group["title"] = {}
            reader.loose_groups.append(group)
            reader.warn(
                group["questions"][0]["id"],
                Message(
                    N_("questions outside any group are put in a group '%(group)s' (one page)"),
                    group=group["id"],
                ),
            )
    codes = [code for code in reader.languages.values() if code != "default"]
    if "default" in reader.languages.values():
        # Labels without a language: Chinese text is taken as zh_CN, anything else as English.
        sample = " ".join(str(value) for value in _all_texts(groups))
        guess = DEFAULT_LANGUAGE if _CHINESE.search(sample) else "en"
        for name, code in reader.languages.items():
            if code == "default":
                reader.languages[name] = guess
        _rename_language(groups, "default", guess)
        codes.append(guess)
    ordered = [DEFAULT_LANGUAGE] if DEFAULT_LANGUAGE in codes else []
    ordered += ["en"] if "en" in codes else []
    ordered += [code for code in dict.fromkeys(codes) if code not in ordered]
    for name, code in reader.languages.items():
        if code in ordered and not is_language_code(code):
            place = Message(N_("survey sheet, columns ::%(name)s"), name=name)
            text = Message(
                N_(
                    "'%(name)s' is no language name known here: write its code in "
                    "parentheses, as in label::%(name)s (xx)"
                ),
                name=name,
            )
            reader.problems.append(Problem(reader.source, 1, str(place), str(text), text, place))
    if reader.draft:
        # A draft takes whatever languages the form has: Chinese, the default language, is
        # declared with its texts missing (marked in the designer); publishing needs them.
        if DEFAULT_LANGUAGE not in ordered:
            ordered.insert(0, DEFAULT_LANGUAGE)
            reader.warnings.append(
                _worded(
                    reader.source,
                    Message(
                        N_(
                            "the form has no Chinese labels: translate every text into "
                            "简体中文 (zh_CN) in the designer before publishing"
                        )
                    ),
                )
            )
    elif DEFAULT_LANGUAGE not in ordered:
        text = Message(
            N_(
                "the form has no Chinese labels: add label::简体中文 (zh) columns "
                "(Chinese is the default language of every questionnaire), or import it as "
                "a draft (--draft) and translate it in the designer"
            )
        )
        reader.problems.append(Problem(reader.source, 1, "languages", str(text), text))
    for code in reader.required_languages:
        if code not in ordered and not reader.draft:
            name = language_word(code)
            text = Message(
                N_(
                    "the form has no %(name)s (%(code)s) labels: publishing requires "
                    "%(required)s (SURVEYAPP_PUBLISH_LANGUAGES); or import it as a draft "
                    "(--draft) and translate it in the designer"
                ),
                name=name,
                code=code,
                required=", ".join(reader.required_languages),
            )
            reader.problems.append(Problem(reader.source, 1, "languages", str(text), text))
    words = {DEFAULT_LANGUAGE: "问题", "en": "Questions"}
    for loose_group in reader.loose_groups:
        loose_group["title"] = {code: words.get(code, words["en"]) for code in ordered}
    for group in groups:
        for question in group["questions"]:
            if not question["label"] and not KINDS[question["type"]].entered:
                # a calculation has no label in XLSForm: its name labels its export column
                question["label"] = {code: question["id"] for code in ordered}
    languages: list[Any] = []
    names = {code: name for name, code in reader.languages.items()}
    for code in ordered:
        name = names.get(code, code)
        display = _language_display(name)
        if LANGUAGE_NAMES.get(code) or display in (code, "default"):
            languages.append(code if code in LANGUAGE_NAMES else {"code": code, "name": code})
        else:
            languages.append({"code": code, "name": display})
    form_title = str(data.get("title") or "") if reader.has_form_id else ""
    form_title = form_title or _slug(_form_id(reader, data))
    title = {language_code(k): v for k, v in texts.get("title", {}).items()}
    if DEFAULT_LANGUAGE in ordered:
        title.setdefault(DEFAULT_LANGUAGE, form_title)
    untitled = [code for code in ordered if code not in title]
    for code in untitled:
        title[code] = form_title
    if untitled:
        reader.warnings.append(
            _worded(
                reader.source,
                Message(
                    N_(
                        "settings: form_title '%(title)s' is used as the title in %(languages)s "
                        "too: translate it in the designer"
                    ),
                    title=form_title,
                    languages=", ".join(untitled),
                ),
            )
        )
    version_text = str(data.get("version") or "1").strip()
    version = (
        int(version_text) if version_text.isdigit() and 0 < int(version_text) <= _MAX_INT else 1
    )
    if version_text != str(version):
        reader.warnings.append(
            _worded(
                reader.source,
                Message(
                    N_(
                        "settings: version '%(version)s' is not a whole number from 1 to "
                        "%(max)s: the questionnaire is version 1"
                    ),
                    version=version_text,
                    max=_MAX_INT,
                ),
            )
        )
    document: dict[str, Any] = {
        "id": _slug(_form_id(reader, data)),
        "version": version,
        "title": title,
    }
    if texts.get("description"):
        document["description"] = {language_code(k): v for k, v in texts["description"].items()}
    document["languages"] = languages
    document["groups"] = groups
    _results(reader, document, results)
    return document


def _form_id(reader: _Reader, data: Mapping[str, Any]) -> str:
    if reader.has_form_id:
        return str(data.get("id_string") or "")
    # Without a settings sheet pyxform names every form "data": use the file's name.
    name = reader.source.replace("\\", "/").rsplit("/", 1)[-1]
    return re.sub(r"\.xls[xm]?$", "", name)


def _walk(children: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    for child in children:
        yield child
        yield from _walk(child.get("children") or [])


def _all_texts(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _all_texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _all_texts(item)
    elif isinstance(value, str):
        yield value


def _rename_language(value: Any, old: str, new: str) -> None:
    if isinstance(value, dict):
        if old in value and key_is_text(value):
            value[new] = value.pop(old)
        for item in value.values():
            _rename_language(item, old, new)
    elif isinstance(value, list):
        for item in value:
            _rename_language(item, old, new)


def key_is_text(value: Mapping[str, Any]) -> bool:
    """Return whether every value of ``value`` is a text (a translated text, not a node)."""
    return all(isinstance(item, str) for item in value.values())


def _and(*conditions: str | None) -> str | None:
    parts = [condition.strip() for condition in conditions if condition and condition.strip()]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return " and ".join(f"({part})" for part in parts)


def _child(
    reader: _Reader,
    child: Mapping[str, Any],
    groups: list[dict[str, Any]],
    loose: list[dict[str, Any]],
    parent: dict[str, Any] | None,
) -> None:
    kind = str(child.get("type") or "")
    name = str(child.get("name") or "")
    bind = child.get("bind") or {}
    group_kind = group_kind_for_xlsform(kind)
    if group_kind is not None:  # begin group, begin repeat
        if name == "meta" and (child.get("control") or {}).get("bodyless"):
            return  # pyxform's own instanceID
        if parent is not None and "repeat" in parent:
            reader.problem(
                name,
                Message(
                    N_(
                        "repeat '%(name)s' is inside repeat '%(parent)s': repeats cannot hold "
                        "groups or repeats (put its questions in the repeat itself)"
                    )
                    if group_kind.repeated
                    else N_(
                        "group '%(name)s' is inside repeat '%(parent)s': repeats cannot hold "
                        "groups or repeats (put its questions in the repeat itself)"
                    ),
                    name=name,
                    parent=parent["id"],
                ),
            )
            return
        if parent is not None:
            reader.warn(
                name,
                Message(
                    N_(
                        "group '%(name)s' is inside group '%(parent)s': it becomes a page of "
                        "its own"
                    ),
                    name=name,
                    parent=parent["id"],
                ),
            )
        title = reader.raw_text(reader.raw_survey.get(name), "label", child.get("label"))
        group: dict[str, Any] = {"id": name, "title": title}
        if not group["title"] and parent is not None:
            group["title"] = dict(parent["title"])
        relevant = _and(parent.get("relevant") if parent else None, bind.get("relevant"))
        if relevant:
            group["relevant"] = relevant
        if group_kind.repeated:
            group["repeat"] = _repeat(reader, name, child)
        group["questions"] = []
        groups.append(group)
        for item in child.get("children") or []:
            _child(reader, item, groups, loose, group)
        if not group["questions"]:
            groups.remove(group)
            reader.warn(
                name,
                Message(N_("group '%(name)s' has no question we can ask: left out"), name=name),
            )
        return
    if kind in _PARADATA:
        reader.warn(
            name,
            Message(
                N_(
                    "'%(kind)s' metadata is kept as the interview's paradata, not as a question "
                    "(surveyapp records start and end times and the device of every interview)"
                ),
                kind=kind,
            ),
        )
        return
    if kind in _METADATA:
        reader.warn(
            name,
            Message(
                N_("'%(kind)s' metadata is left out (surveyapp does not record it)"), kind=kind
            ),
        )
        return
    if kind in _MEDIA:
        word = "image" if kind == "photo" else kind  # pyxform's name for image
        reader.warn(
            name,
            Message(
                N_("%(kind)s question '%(name)s' is left out (questionnaires store no files)"),
                kind=word,
                name=name,
            ),
        )
        reader.dropped.add(name)
        return
    if name in reader.or_other_texts:
        return  # pyxform's "specify other" text of an or_other list: the question's own
    calculation = str(bind.get("calculate") or "").strip()
    if calculation.isdigit() and name.endswith("_count") and name not in reader.raw_survey:
        reader.repeat_counts[name] = calculation  # pyxform's own, for a repeat_count of 2
        return
    computed = kind_for_xlsform(kind)
    if computed is not None and not computed.entered and not _parses(calculation):
        reader.warn(
            name,
            Message(
                N_(
                    "calculation '%(name)s' is left out (its expression '%(expression)s' uses "
                    "what the condition language has not; conditions that use it are reported)"
                ),
                name=name,
                expression=_describe(calculation),
            ),
        )
        reader.dropped.add(name)
        return
    our_type = _TYPE_MAP.get(kind)
    if our_type is None:
        reader.problem(
            name,
            Message(
                N_("question type '%(type)s' cannot be represented (supported: %(supported)s)"),
                type=kind,
                supported=", ".join(sorted({k.xlsform for k in KINDS.values()})),
            ),
        )
        return
    our_kind = KINDS[our_type]
    raw = reader.raw_survey.get(name)
    question: dict[str, Any] = {
        "id": name,
        "type": our_type,
        "label": reader.raw_text(raw, "label", child.get("label")),
    }
    hint = reader.raw_text(raw, "hint", child.get("hint"))
    if hint:
        question["hint"] = hint
    required = str(bind.get("required") or "").strip()
    if our_kind.stored and our_kind.entered:
        if required.lower() in ("", "no", "false", "false()"):
            question["required"] = False
        elif required.lower() not in ("yes", "true", "true()"):
            question["required"] = required  # a condition: checked (refused by row) by the loader
    if calculation:
        question["calculation"] = calculation
    if bind.get("relevant"):
        question["relevant"] = str(bind["relevant"]).strip()
    constraint = str(bind.get("constraint") or "").strip()
    message = reader.raw_text(raw, "constraint_message", bind.get("jr:constraintMsg"))
    if any(
        key in child
        for key in (
            "surveyapp_constraint",
            "surveyapp_min",
            "surveyapp_max",
            "surveyapp_max_length",
        )
    ):
        constraint = str(child.get("surveyapp_constraint") or "").strip()
        for key, target in (("surveyapp_min", "min"), ("surveyapp_max", "max")):
            if str(child.get(key) or "").strip():
                question[target] = _bound(child[key], our_kind)
    elif "min" in our_kind.keys and not message:
        match = _LIMITS.match(constraint)
        if match:  # ". >= 16 and . <= 120" is what min and max say
            low, high = _bound(match.group(1), our_kind), _bound(match.group(2), our_kind)
            if isinstance(low, int | float) and isinstance(high, int | float):
                question["min"], question["max"] = low, high
                constraint = ""
    if constraint:
        question["constraint"] = constraint
        if message:
            question["constraint_message"] = message
    elif message:
        reader.warn(name, Message(N_("constraint_message without a constraint is left out")))
    if str(child.get("surveyapp_max_length") or "").strip():
        question["max_length"] = _int(child["surveyapp_max_length"])
    for key in sorted(set(child) - _HARMLESS):
        if key.startswith("surveyapp_"):
            continue
        if key == "control" and not child[key]:
            continue  # pyxform's empty control of a geopoint
        if key == "control" and isinstance(child[key], Mapping) and "appearance" in child[key]:
            reader.warn(
                name,
                Message(
                    N_("appearance '%(appearance)s' is left out"),
                    appearance=child[key]["appearance"],
                ),
            )
            continue
        reader.warn(name, _left_out(key, child[key]))
    handled = {"required", "relevant", "constraint", "jr:constraintMsg", "calculate"}
    for key in sorted(set(bind) - handled):
        reader.warn(name, _left_out(key, bind[key]))
    if our_kind.listed:
        _choices(reader, child, question)
    codes = [choice["code"] for choice in question.get("choices", [])]
    builtin = kind_with_builtin_choices(
        our_kind.xlsform, str(child.get("surveyapp_type") or ""), codes
    )
    if builtin is not None:
        # A list of exactly yes and no is a yes/no question (relabelled unless built-in).
        question["type"] = builtin.name
        if child.get("surveyapp_builtin_labels"):
            question.pop("choices", None)
    if parent is None:
        # Questions between groups form a page of their own, where they are in the form.
        if not groups or not groups[-1].get("_loose"):
            taken = {group["id"] for group in groups}
            gid, number = "questions", 2
            while gid in taken:
                gid, number = f"questions_{number}", number + 1
            groups.append({"id": gid, "title": {}, "questions": [], "_loose": True})
        parent = groups[-1]
    parent["questions"].append(question)


def _repeat(reader: _Reader, name: str, child: Mapping[str, Any]) -> Any:
    """A repeat's ``repeat``: its ``repeat_count`` (pyxform's ``jr:count``) and the bounds our
    export writes (``surveyapp_repeat_min``/``_max``); ``True`` when it has none."""
    repeat: dict[str, Any] = {}
    count = str((child.get("control") or {}).get("jr:count") or "").strip()
    generated = re.fullmatch(r"\$\{(\w+)\}", count)
    if generated and generated.group(1) in reader.repeat_counts:
        count = reader.repeat_counts[generated.group(1)]
    if count:
        repeat["count"] = int(count) if count.isdigit() else count
    for key in ("min", "max"):
        value = str(child.get(f"surveyapp_repeat_{key}") or "").strip()
        if value.isdigit():
            repeat[key] = int(value)
        elif value:
            reader.problem(
                name,
                Message(
                    N_("%(column)s '%(value)s' is not a whole number"),
                    column=f"surveyapp_repeat_{key}",
                    value=value,
                ),
            )
    return repeat or True


def _parses(expression: str) -> bool:
    from .conditions import ConditionSyntaxError, parse_condition

    try:
        parse_condition(expression)
    except ConditionSyntaxError:
        return False
    return True


def _bound(value: Any, our_kind: QuestionKind) -> Any:
    """A min or max as written: a whole number for integer questions, any number for decimal."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if number.is_integer():
        return int(number)
    return number if not our_kind.whole_numbers else str(value)


def _int(value: Any) -> Any:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return str(value)


def _describe(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _choices(reader: _Reader, child: Mapping[str, Any], question: dict[str, Any]) -> None:
    choices = child.get("choices")
    if not choices and child.get("itemset"):
        choices = (reader.data.get("choices") or {}).get(child["itemset"])
    if not choices:
        reader.problem(
            question["id"],
            Message(
                N_(
                    "the choices of '%(name)s' cannot be represented "
                    "(choices from a file or another question)"
                ),
                name=question["id"],
            ),
        )
        return
    items: list[dict[str, Any]] = []
    list_name = str(child.get("itemset") or child.get("list_name") or "")
    for choice in choices:
        raw = reader.raw_choices.get((list_name, str(choice.get("name"))))
        label = reader.raw_text(raw, "label", choice.get("label"))
        item: dict[str, Any] = {"code": str(choice.get("name")), "label": label}
        if _truthy(choice.get("surveyapp_exclusive")):
            item["exclusive"] = True
        if _truthy(choice.get("surveyapp_other")):
            question["other"] = item["code"]
        properties = {
            str(key): str(value)
            for key, value in choice.items()
            if key not in _CHOICE_OWN_KEYS
            and not str(key).startswith("surveyapp_")
            and isinstance(value, str | int | float)
            and str(value).strip()
        }
        if properties and child.get("choice_filter"):
            item["properties"] = properties  # the columns the cascade reads
        items.append(item)
    raw_type = (reader.raw_survey.get(question["id"]) or {}).get("type", "")
    if raw_type.split()[-1:] == ["or_other"] and items and items[-1]["code"] == "other":
        # pyxform's or_other: an "other" choice and a "<name>_other" text, which is the
        # product's own "other, please specify" (the answer key "<name>.other").
        question["other"] = "other"
        items[-1]["label"] = {
            code: _OTHER_LABELS.get(code, text) for code, text in items[-1]["label"].items()
        }
        reader.or_other_texts.add(f"{question['id']}_other")
    if child.get("choice_filter"):
        question["choice_filter"] = str(child["choice_filter"]).strip()
    question["choices"] = items


def _truthy(value: Any) -> bool:
    return str(value or "").strip().lower() in ("yes", "true", "1")


def _results(reader: _Reader, document: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    for row in rows:
        kind = str(row.get("kind") or "indicator").strip()
        entry: dict[str, Any] = {"id": str(row.get("id") or "").strip()}
        label = {language_code(k[7:]): str(v) for k, v in row.items() if k.startswith("label::")}
        entry["label"] = label
        description = {
            language_code(k[13:]): str(v) for k, v in row.items() if k.startswith("description::")
        }
        if description:
            entry["description"] = description
        entry["question"] = str(row.get("question") or "")
        if kind == "composite":
            points: dict[str, Any] = {}
            for pair in str(row.get("points") or "").split():
                code, _, value = pair.partition(":")
                number = float(value) if value else value
                points[code] = (
                    int(number) if isinstance(number, float) and number.is_integer() else number
                )
            entry["points"] = points
        else:
            entry["positive"] = str(row.get("positive") or "").split()
        excluded = str(row.get("excluded") or "").split()
        if excluded:
            entry["excluded"] = excluded
        if kind != "composite":
            if row.get("base"):
                entry["base"] = str(row["base"])
            if row.get("target") not in (None, ""):
                entry["target"] = float(row["target"])
        document.setdefault("composites" if kind == "composite" else "indicators", []).append(entry)


def map_problems(result: XLSFormImport, problems: Iterable[Problem]) -> list[Problem]:
    """Return questionnaire-check ``problems`` of an imported document, pointing at survey rows.

    The check speaks of ``groups[1].questions[2].label``; an XLSForm user looks for the row of
    question ``age``: the problem keeps its message, the field names the question.
    """
    document = result.document or {}
    mapped: list[Problem] = []
    for problem in problems:
        field_name = problem.field
        match = re.match(r"groups\[(\d+)\](?:\.questions\[(\d+)\])?(.*)", field_name)
        name, rest = "", field_name
        if match:
            try:
                group = document["groups"][int(match.group(1))]
                if match.group(2) is not None:
                    name = group["questions"][int(match.group(2))]["id"]
                else:
                    name = group["id"]
                rest = match.group(3).lstrip(".")
            except (KeyError, IndexError, TypeError):
                name = ""
        line = result.rows.get(name, 1) if name else 1
        label: str | Message = (
            Message(N_("survey row %(row)s ('%(name)s')"), row=line, name=name)
            if name and name in result.rows
            else name
        )
        choice = re.match(r"choices\[(\d+)\]\.?(.*)", rest)
        if choice and name:
            try:
                question = document["groups"][int(match.group(1))]["questions"]  # type: ignore[union-attr]
                code = str(question[int(match.group(2))]["choices"][int(choice.group(1))]["code"])  # type: ignore[union-attr]
            except (KeyError, IndexError, TypeError, ValueError):
                code = ""
            row = result.choice_rows.get((name, code))
            if row:
                label = Message(N_("choices sheet, row %(row)s ('%(code)s')"), row=row, code=code)
                line, rest = row, choice.group(2)
        where = (
            Message(N_("%(where)s: %(place)s"), where=label, place=rest)
            if label and rest
            else (label or rest)
        )
        place = where if isinstance(where, Message) else None
        mapped.append(Problem(problem.file, line, str(where), problem.message, problem.text, place))
    return mapped


# --- export -----------------------------------------------------------------------------------


def _append(sheet: Worksheet, cells: list[Any]) -> None:
    """Append a row of plain values: a text starting with "=" (or reading like an error code,
    "#N/A") stays a text, never a formula, so it reads back as written."""
    sheet.append(cells)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str) and cell.data_type in ("f", "e"):
            cell.data_type = "s"


def _column_language(code: str, names: Mapping[str, str]) -> str:
    # pyxform checks the code against the IANA language subtags: zh_CN is written "zh".
    bcp = "zh" if code == DEFAULT_LANGUAGE else code.replace("_", "-")
    return f"{names.get(code, code)} ({bcp})"


def to_xlsform(questionnaire: Questionnaire) -> bytes:
    """Return ``questionnaire`` as an XLSForm workbook (``.xlsx`` bytes).

    The survey, choices and settings sheets are plain XLSForm; the ``surveyapp`` and
    ``surveyapp_indicators`` sheets and the ``surveyapp_*`` columns keep what XLSForm has no
    place for, so that :func:`xlsform_to_document` gives the questionnaire back.
    """
    import openpyxl

    doc = to_document(questionnaire)
    languages = [language.code for language in questionnaire.languages]
    names = {language.code: language.name for language in questionnaire.languages}
    columns = {code: _column_language(code, names) for code in languages}

    workbook = openpyxl.Workbook()
    survey = cast("Worksheet", workbook.active)  # a new workbook's one sheet
    survey.title = "survey"
    header = ["type", "name"]
    header += [f"label::{columns[c]}" for c in languages]
    header += [f"hint::{columns[c]}" for c in languages]
    header += ["required", "relevant", "constraint", "calculation", "choice_filter", "repeat_count"]
    header += [f"constraint_message::{columns[c]}" for c in languages]
    header += [
        "surveyapp_type",
        "surveyapp_builtin_labels",
        "surveyapp_constraint",
        "surveyapp_min",
        "surveyapp_max",
        "surveyapp_max_length",
        "surveyapp_repeat_min",
        "surveyapp_repeat_max",
    ]
    _append(survey, header)
    position = {name: index for index, name in enumerate(header)}

    choices_sheet = workbook.create_sheet("choices")
    choices_header = ["list_name", "name"] + [f"label::{columns[c]}" for c in languages]
    choices_header += ["surveyapp_exclusive", "surveyapp_other"]
    property_columns = sorted(
        {
            key
            for group in questionnaire.groups
            for question in group.questions
            for choice in question.choices
            for key, _value in choice.properties
        }
    )
    choices_header += property_columns
    _append(choices_sheet, choices_header)
    lists: dict[tuple[Any, ...], str] = {}

    def row(**values: Any) -> list[Any]:
        cells: list[Any] = [None] * len(header)
        for key, value in values.items():
            cells[position[key]] = value
        return cells

    def texts(cells: list[Any], column: str, text: Text | None) -> None:
        for code in languages:
            if text and text.get(code):
                cells[position[f"{column}::{columns[code]}"]] = text[code]

    for group_doc, group in zip(doc["groups"], questionnaire.groups, strict=True):
        word = group.kind.xlsform  # begin group, begin repeat
        cells = row(type=f"begin {word}", name=group.id, relevant=group_doc.get("relevant"))
        if group.repeat is not None:
            repeat = group.repeat
            cells[position["repeat_count"]] = repeat.count.source if repeat.count else None
            cells[position["surveyapp_repeat_min"]] = repeat.minimum
            cells[position["surveyapp_repeat_max"]] = repeat.maximum
        texts(cells, "label", group.title)
        _append(survey, cells)
        for question in group.questions:
            _append(
                survey,
                _question_row(
                    question, row, texts, choices_sheet, lists, languages, property_columns
                ),
            )
        _append(survey, row(type=f"end {word}"))

    settings = workbook.create_sheet("settings")
    _append(settings, ["form_title", "form_id", "version", "default_language"])
    _append(
        settings,
        [
            questionnaire.title.get(DEFAULT_LANGUAGE, questionnaire.id),
            questionnaire.id,
            str(questionnaire.version),
            columns[languages[0]],
        ],
    )

    extra = workbook.create_sheet(EXTRA_SHEET)
    _append(extra, ["key"] + [columns[c] for c in languages])
    _append(extra, ["title"] + [questionnaire.title.get(c) for c in languages])
    if questionnaire.description:
        _append(extra, ["description"] + [questionnaire.description.get(c) for c in languages])

    results = workbook.create_sheet(RESULTS_SHEET)
    results_header = ["kind", "id", "question", "positive", "excluded", "base", "target", "points"]
    results_header += [f"label::{columns[c]}" for c in languages]
    results_header += [f"description::{columns[c]}" for c in languages]
    _append(results, results_header)
    for entry in doc.get("indicators", []):
        _append(results, _result_row("indicator", entry, results_header, columns, languages))
    for entry in doc.get("composites", []):
        _append(results, _result_row("composite", entry, results_header, columns, languages))

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _question_row(
    question: Question,
    row: Callable[..., list[Any]],
    texts: Callable[[list[Any], str, Text | None], None],
    choices_sheet: Worksheet,
    lists: dict[tuple[Any, ...], str],
    languages: list[str],
    property_columns: list[str] | None = None,
) -> list[Any]:
    kind = KINDS[question.type].xlsform
    limits: list[str] = []
    if question.minimum is not None:
        limits.append(f". >= {question.minimum}")
    if question.maximum is not None:
        limits.append(f". <= {question.maximum}")
    own = question.constraint.source if question.constraint is not None else None
    max_length = question.max_length if "max_length" in question.kind.keys else None
    if max_length is not None and max_length != DEFAULT_TEXT_MAX_LENGTH:
        limits.append(f"string-length(.) <= {max_length}")
    else:
        max_length = None
    constraint = _and(" and ".join(limits) if limits else None, own)
    values: dict[str, Any] = {
        "name": question.id,
        "required": (
            question.required_if.source
            if question.required_if is not None
            else "yes"
            if question.required
            else None
        ),
        "relevant": question.relevant.source if question.relevant is not None else None,
        "constraint": constraint,
        "calculation": question.calculation.source if question.calculation is not None else None,
        "choice_filter": (
            question.choice_filter.source if question.choice_filter is not None else None
        ),
    }
    if limits:
        values["surveyapp_constraint"] = own or ""
        values["surveyapp_min"] = question.minimum
        values["surveyapp_max"] = question.maximum
        values["surveyapp_max_length"] = max_length
    if question.kind.pyxform is None:  # a type of ours XLSForm has not: named in a column
        values["surveyapp_type"] = question.type
        if uses_builtin_labels(question, tuple(languages)):
            values["surveyapp_builtin_labels"] = "yes"
    if question.kind.choices:
        key = tuple(
            (
                c.code,
                tuple(sorted(c.label.items())),
                c.exclusive,
                c.code == question.other_code,
                c.properties,
            )
            for c in question.choices
        )
        list_name = lists.get(key)
        if list_name is None:
            list_name = question.id if question.id not in lists.values() else f"{question.id}_list"
            lists[key] = list_name
            for choice in question.choices:
                cells = [list_name, choice.code] + [choice.label.get(c) for c in languages]
                cells += [
                    "yes" if choice.exclusive else None,
                    "yes" if choice.code == question.other_code else None,
                ]
                properties = dict(choice.properties)
                cells += [properties.get(column) for column in property_columns or ()]
                _append(choices_sheet, cells)
        kind = f"{kind} {list_name}"
    values["type"] = kind
    cells = row(**values)
    texts(cells, "label", question.label)
    texts(cells, "hint", question.hint)
    if own:
        texts(cells, "constraint_message", question.constraint_message)
    return cells


def _result_row(
    kind: str,
    entry: Mapping[str, Any],
    header: list[str],
    columns: Mapping[str, str],
    languages: list[str],
) -> list[Any]:
    values: dict[str, Any] = {
        "kind": kind,
        "id": entry["id"],
        "question": entry["question"],
        "positive": " ".join(entry.get("positive", [])) or None,
        "excluded": " ".join(entry.get("excluded", [])) or None,
        "base": entry.get("base"),
        "target": entry.get("target"),
        "points": " ".join(f"{code}:{value}" for code, value in entry.get("points", {}).items())
        or None,
    }
    for code in languages:
        values[f"label::{columns[code]}"] = entry["label"].get(code)
        if entry.get("description"):
            values[f"description::{columns[code]}"] = entry["description"].get(code)
    return [values.get(name) for name in header]


def xlsform_to_yaml(
    data: bytes, source: str = "form.xlsx", required_languages: Collection[str] = ()
) -> tuple[str, list[str]]:
    """Return ``(yaml_text, warnings)`` for an XLSForm; raise QuestionnaireError otherwise.

    The problems name the survey row and question (``survey row 5 ('age')``) when they can.
    ``required_languages``: the languages publishing requires besides Chinese.
    """
    from .loader import validate_text
    from .problems import QuestionnaireError

    result = xlsform_to_document(data, source, required_languages=required_languages)
    if result.problems or result.text is None:
        raise QuestionnaireError(result.problems)
    text = result.text
    problems = validate_text(text, source=source, required_languages=required_languages)
    if problems:
        raise QuestionnaireError(map_problems(result, problems))
    return text, result.warnings


def xlsform_to_draft_yaml(data: bytes, source: str = "form.xlsx") -> tuple[str, list[str]]:
    """Return ``(yaml_text, warnings)`` of an XLSForm for a draft: whatever its languages.

    Raise QuestionnaireError only for what a draft cannot hold either (a file pyxform refuses,
    repeats, unsupported question types); the questionnaire check's problems (missing
    translations, for example) are left to the designer and to publishing.
    """
    from .problems import QuestionnaireError

    result = xlsform_to_document(data, source, draft=True)
    if result.problems or result.text is None:
        raise QuestionnaireError(result.problems)
    return result.text, result.warnings
