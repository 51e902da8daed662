"""Exports for analysts: the estimates table (CSV, XLSX) and the anonymised responses (CSV,
XLSX, SPSS ``.sav`` with variable and value labels).

Anonymised means: no telephone numbers or addresses (they live only in the fieldwork tables
and are never read here), no free-text answers (a respondent may write a name or a number
into them), no enumerator, no times, and respondents numbered 1…n in this file only.
What remains is what a re-analysis needs: wave, mode, the locality path (the strata and
clusters of the design), the final weight and every closed answer.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from sqlalchemy import select

from ..errors import N_, Text, UserError
from ..extensions import db
from ..models import Answer, Locality, QuestionnaireVersion, Response, Survey, Wave
from ..questionnaire import Questionnaire, translate
from ..questionnaire.answers import geopoint_parts
from ..reports.cells import CsvWriter, append_row
from ..reports.wording import report_language
from .reports import (
    ReportBundle,
    ReportCache,
    code_version,
    survey_streets,
)
from .wave_design import build_design, survey_settings
from .wave_selection import EstimateRequestError, wave_version
from .wave_snapshot import extract_wave

FORMATS = {"estimates": ("csv", "xlsx"), "responses": ("csv", "xlsx", "sav")}
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "sav": "application/x-spss-sav",
}
#: The words of a geopoint's columns (``<id>_lat`` ...), English and Chinese.
_PART_WORDS = {
    "lat": ("latitude", "纬度"),
    "lon": ("longitude", "经度"),
    "alt": ("altitude (m)", "海拔（米）"),
    "accuracy": ("accuracy (m)", "精度（米）"),
}


class ExportError(UserError, ValueError):
    """An export cannot be made as asked (unknown format, no data); the message says why."""


def check_format(what: str, fmt: str) -> str:
    """Return ``fmt`` (lower case) if ``what`` can be exported in it, else raise ExportError."""
    fmt = (fmt or "").lower()
    if what not in FORMATS:
        raise ExportError(
            Text(
                N_("unknown export '%(what)s': choose %(choices)s"),
                what=what,
                choices=" or ".join(FORMATS),
            )
        )
    if fmt not in FORMATS[what]:
        raise ExportError(
            Text(
                N_("%(what)s are exported as %(formats)s, not '%(fmt)s'"),
                what=what,
                formats=", ".join(FORMATS[what]),
                fmt=fmt,
            )
        )
    return fmt


# ----------------------------------------------------------------------------- tables


@dataclass
class Table:
    """Columns of one export with their labels (the SPSS dictionary)."""

    columns: list[str]
    rows: list[list[Any]]
    labels: dict[str, str] = field(default_factory=dict)  # column -> variable label
    value_labels: dict[str, dict[Any, str]] = field(default_factory=dict)
    numeric: set[str] = field(default_factory=set)  # columns stored as numbers
    about: list[tuple[str, str]] = field(default_factory=list)  # file notes

    def column(self, name: str) -> list[Any]:
        i = self.columns.index(name)
        return [r[i] for r in self.rows]


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def estimates_table(bundle: ReportBundle, lang: str = "zh_CN") -> Table:
    """Every estimate of a wave: district, streets and communities, with comparisons and ranks."""
    lang = report_language(lang)
    r = bundle.results
    names = {code: (en if lang == "en" and en else zh) for code, zh, en in r.streets}
    communities = {
        code: (en if lang == "en" and en else zh) for code, (_s, zh, en) in r.communities.items()
    }
    columns = [
        "wave",
        "indicator",
        "indicator_label",
        "kind",
        "level",
        "code",
        "name",
        "n",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "df",
        "deff",
        "target",
        "vs_district",
        "vs_district_p",
        "vs_district_significant",
        "vs_previous",
        "vs_previous_p",
        "vs_previous_significant",
        "rank",
        "rank_low",
        "rank_high",
    ]
    rows: list[list[Any]] = []

    def cmp_cells(cmp) -> list[Any]:
        if cmp is None:
            return [None, None, None]
        return [_num(cmp.difference), _num(cmp.p_value), int(bool(cmp.significant))]

    for item in (*r.items, *bundle.meta.departments):
        name = translate(item.label, lang)[0]
        domains: list[tuple[str, str, str, Any]] = [
            (
                "district",
                bundle.meta.district_code,
                bundle.meta.district_name.get(lang, ""),
                item.overall,
            )
        ]
        domains += [
            ("street", code, names.get(code, code), item.by_street.get(code))
            for code, _zh, _en in r.streets
        ]
        domains += [
            ("community", code, communities.get(code, code), est)
            for code, est in sorted(item.by_community.items())
        ]
        for level, code, place, est in domains:
            key = "ALL" if level == "district" else code
            rank = item.ranks.get(code) if level == "street" else None
            rows.append(
                [
                    r.wave_code,
                    item.id,
                    name,
                    item.kind,
                    level,
                    code,
                    place,
                    est.n if est is not None else None,
                    *(
                        [
                            _num(est.value),
                            _num(est.se),
                            _num(est.ci_low),
                            _num(est.ci_high),
                            _num(est.df),
                            _num(est.deff) if est.deff is not None else None,
                        ]
                        if est is not None
                        else [None] * 6
                    ),
                    item.target,
                    *(cmp_cells(item.vs_district.get(code)) if level == "street" else [None] * 3),
                    *(cmp_cells(item.vs_previous.get(key)) if level != "community" else [None] * 3),
                    *([rank.rank, rank.low, rank.high] if rank is not None else [None] * 3),
                ]
            )
    settings = r.settings
    about = [
        ("survey", r.survey_name),
        ("wave", f"{r.wave_code} {r.wave_name}"),
        ("previous wave", r.previous_wave_code or ""),
        ("respondents", str(r.n)),
        ("settings version", str(settings.get("settings_version", 1))),
        ("CI", f"{settings.get('ci_method')} {float(settings.get('level', 0.95)):g}"),
        (
            "design",
            f"strata={settings.get('design', {}).get('strata')} "
            f"PSU={settings.get('design', {}).get('cluster')}",
        ),
        ("weighting", f"{r.weighting.method} {'+'.join(r.weighting.margins)}"),
        ("units", "rates as shares (0-1), scores in points; differences in the same unit"),
    ]
    numeric = set(columns[columns.index("n") :])  # every column from the sample size on
    return Table(columns=columns, rows=rows, numeric=numeric, about=about)


def _variable_name(text: str, used: set[str]) -> str:
    """An SPSS-safe variable name (letters, digits, underscore; starts with a letter)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", text)
    if not name or not name[0].isalpha():
        name = "v_" + name
    name = name[:60]
    base, i = name, 2
    while name.lower() in used:
        name = f"{base}_{i}"
        i += 1
    used.add(name.lower())
    return name


def _as_number(code: str) -> int | float | None:
    try:
        x = float(code)
    except ValueError:
        return None
    return int(x) if x.is_integer() else x


def _selected(code: str, value: Any) -> int:
    return int(code in value)


def _number_cell(value: Any) -> int | float | None:
    return _as_number(str(value))


def _part(part: str, value: Any) -> float | None:
    return geopoint_parts(value)[part]


@dataclass(frozen=True)
class AnswerColumn:
    """One column of answers: its name, label, value labels, whether it holds numbers, and how
    its cell is read from a stored answer (never called with None)."""

    question: str
    name: str
    label: str
    values: dict[Any, str] | None
    numeric: bool
    read: Callable[[Any], Any]


def answer_columns(
    schemas: list[Questionnaire],
    lang: str = "zh_CN",
    identifying: bool = False,
    repeat: str | None = None,
) -> list[AnswerColumn]:
    """The answer columns of the questionnaires ``schemas`` (newest first; a question id once):
    of the questions asked once, or with ``repeat`` of that repeat group's questions.

    The columns of each question come from its type (the registry, ``questionnaire/types.py``):
    one per choice of a multiple choice (0/1), one per part of a geopoint (``<id>_lat``,
    ``_lon``, ``_alt``, ``_accuracy``), one otherwise; notes have none. Types that can identify
    a respondent (free text, dates, times, places) and calculations that use them are left
    out unless ``identifying`` is asked for.
    """
    english = lang == "en"

    def tr(text) -> str:
        return translate(text or {}, lang)[0]

    columns: list[AnswerColumn] = []
    seen: set[str] = set()
    left_out: set[str] = set()  # identifying answers, and calculations that use them
    # a repeat group's answers (one per instance) have tables of their own: the long export
    groups = (g for sch in schemas for g in sch.groups)
    for group in (g for g in groups if (g.id == repeat if repeat else g.repeat is None)):
        for q in group.questions:
            qid = q.id
            if qid in seen:
                continue
            seen.add(qid)
            kind = q.kind
            uses = q.calculation.refs if q.calculation is not None else frozenset()
            if not identifying and (kind.identifying or uses & left_out):
                left_out.add(qid)
                continue
            if not kind.columns:
                continue  # a note: nothing stored
            label = tr(q.label)
            if kind.multiple:
                selected = {
                    0: "not selected" if english else "未选",
                    1: "selected" if english else "选中",
                }
                for choice in q.choices:
                    columns.append(
                        AnswerColumn(
                            qid,
                            f"{qid}_{choice.code}",
                            f"{label}: {tr(choice.label)}",
                            selected,
                            True,
                            partial(_selected, choice.code),
                        )
                    )
            elif kind.choices:
                all_numeric = all(_as_number(c.code) is not None for c in q.choices)
                values = {
                    (_as_number(c.code) if all_numeric else c.code): tr(c.label) for c in q.choices
                }
                read = _number_cell if all_numeric else str
                columns.append(AnswerColumn(qid, qid, label, values, all_numeric, read))
            elif len(kind.columns) > 1:  # a geopoint: one number per part
                for part in kind.columns:
                    en, zh = _PART_WORDS.get(part, (part, part))
                    columns.append(
                        AnswerColumn(
                            qid,
                            f"{qid}_{part}",
                            f"{label}: {en if english else zh}",
                            None,
                            True,
                            partial(_part, part),
                        )
                    )
            else:
                read = _number_cell if kind.numeric else str
                columns.append(AnswerColumn(qid, qid, label, None, kind.numeric, read))
    return columns


def responses_table(
    survey: Survey, wave: Wave | None = None, lang: str = "zh_CN", identifying: bool = False
) -> Table:
    """The anonymised responses of a survey (one wave, or all), one row per respondent; the
    answer columns are :func:`answer_columns` (``identifying``: with texts, times, places)."""
    lang = report_language(lang)
    waves = [wave] if wave is not None else list(survey.waves)
    # Each wave was collected with its own questionnaire version: the columns are the union of
    # their questions, in the order of the newest version first.
    schemas = {w.id: wave_version(survey, w).schema for w in waves}
    streets = survey_streets(survey)
    settings = survey_settings(survey)
    weights: dict[int, float] = {}
    for w in waves:
        data = extract_wave(w, schemas[w.id])
        try:
            design, _report = build_design(data, streets, settings)
        except EstimateRequestError:
            continue
        weights.update(
            zip(
                data.response_ids.tolist(),
                np.asarray(design.weights, dtype=float).tolist(),
                strict=True,
            )
        )

    used: set[str] = set()
    columns: list[str] = []
    labels: dict[str, str] = {}
    value_labels: dict[str, dict[Any, str]] = {}
    numeric: set[str] = set()

    def add(name: str, label: str, values: dict | None = None, is_numeric: bool = False) -> str:
        col = _variable_name(name, used)
        columns.append(col)
        labels[col] = label
        if values:
            value_labels[col] = values
        if is_numeric:
            numeric.add(col)
        return col

    english = lang == "en"
    add(
        "respondent",
        "Respondent (numbered in this file)" if english else "受访者编号（本文件内）",
        is_numeric=True,
    )
    add(
        "wave",
        "Wave" if english else "调查轮次",
        {w.code: (w.name or w.code) for w in survey.waves},
    )
    add(
        "mode",
        "Mode" if english else "调查方式",
        {
            "phone": "Telephone" if english else "电话",
            "door": "Door to door" if english else "入户",
        },
    )
    place_labels: dict[str, dict[str, str]] = {
        "district": {},
        "street": {},
        "community": {},
        "grid": {},
    }
    district = survey.district
    place_labels["district"][district.code] = (
        district.name_en if english and district.name_en else district.name_zh
    )
    for street in streets:
        place_labels["street"][street.code] = (
            street.name_en if english and street.name_en else street.name_zh
        )
        for community in street.children:
            place_labels["community"][community.code] = (
                community.name_en if english and community.name_en else community.name_zh
            )
            for grid in community.children:
                place_labels["grid"][grid.code] = (
                    grid.name_en if english and grid.name_en else grid.name_zh
                )
    level_names = {
        "district": ("District", "区县"),
        "street": ("Street", "街道"),
        "community": ("Community", "社区"),
        "grid": ("Grid", "网格"),
    }
    for level, (en, zh) in level_names.items():
        add(level, en if english else zh, place_labels[level])
    add(
        "weight",
        "Final weight (base weight, raked)" if english else "最终权重（基础权重经迭代比例调整）",
        is_numeric=True,
    )

    # question columns: (question, column, how the cell is read from the stored answer)
    question_columns: list[tuple[str, str, Callable[[Any], Any]]] = []
    ordered = sorted(set(schemas.values()), key=lambda x: -x.version) or [
        (wave or survey).questionnaire_version.schema
    ]
    for column in answer_columns(ordered, lang, identifying):
        col = add(column.name, column.label, column.values, is_numeric=column.numeric)
        question_columns.append((column.question, col, column.read))
    wanted = sorted({qid for qid, _c, _read in question_columns})

    wave_ids = [w.id for w in waves]
    codes = dict(db.session.execute(select(Locality.id, Locality.code)).all())
    wave_codes = {w.id: w.code for w in waves}
    responses = db.session.execute(
        select(
            Response.id,
            Response.wave_id,
            Response.mode,
            Response.district_id,
            Response.street_id,
            Response.community_id,
            Response.grid_id,
        )
        .where(Response.wave_id.in_(wave_ids), Response.status != "rejected")
        .order_by(Response.wave_id, Response.id)
    ).all()
    answers: dict[int, dict[str, Any]] = {r.id: {} for r in responses}
    for response_id, question, value, multiple in db.session.execute(
        select(Answer.response_id, Answer.question, Answer.value, Answer.multiple)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.wave_id.in_(wave_ids), Answer.question.in_(wanted))
    ):
        store = answers.get(response_id)
        if store is None:
            continue
        if multiple:
            store.setdefault(question, set()).add(value)
        else:
            store[question] = value
    rows = []
    for i, r in enumerate(responses, start=1):
        a = answers[r.id]
        row: list[Any] = [
            i,
            wave_codes[r.wave_id],
            r.mode,
            codes.get(r.district_id, ""),
            codes.get(r.street_id, ""),
            codes.get(r.community_id, ""),
            codes.get(r.grid_id, ""),
            weights.get(r.id),
        ]
        for qid, _col, read in question_columns:
            value = a.get(qid)
            row.append(None if value is None else read(value))
        rows.append(row)
    about = [
        ("survey", survey.name),
        ("waves", ", ".join(w.code for w in waves)),
        ("respondents", str(len(rows))),
        (
            "anonymised",
            "no telephone numbers, addresses, free text, enumerators or times; "
            "respondents numbered in this file only",
        ),
        ("weight", "empty for respondents screened out (not eligible)"),
    ]
    return Table(
        columns=columns,
        rows=rows,
        labels=labels,
        value_labels=value_labels,
        numeric=numeric,
        about=about,
    )


def _collected_schemas(survey: Survey, waves: list[Wave]) -> list[Questionnaire]:
    """Every questionnaire version the waves were collected with (each response's, and each
    wave's own), newest first: a roster may be in a version only some responses used."""
    ids = set(
        db.session.scalars(
            select(Response.questionnaire_version_id)
            .where(Response.wave_id.in_([w.id for w in waves]))
            .distinct()
        )
    )
    ids.update(w.questionnaire_version_id for w in waves)
    versions = db.session.scalars(
        select(QuestionnaireVersion).where(QuestionnaireVersion.id.in_(ids))
    ).all()
    schemas = {version.schema for version in versions} or {survey.questionnaire_version.schema}
    return sorted(schemas, key=lambda x: -x.version)


def repeat_table(
    survey: Survey,
    repeat: str,
    wave: Wave | None = None,
    lang: str = "zh_CN",
    identifying: bool = False,
) -> Table:
    """The long table of repeat group ``repeat`` (a household roster): one row per instance,
    with the respondent's number as in :func:`responses_table` (the same rows, numbered the
    same way, so the tables join on it), the wave, the instance's number (from 1) and the
    group's answer columns (:func:`answer_columns`)."""
    lang = report_language(lang)
    english = lang == "en"
    waves = [wave] if wave is not None else list(survey.waves)
    schemas = _collected_schemas(survey, waves)
    known = sorted({rid for schema in schemas for rid in schema.repeats})
    if repeat not in known:
        raise ExportError(
            Text(
                N_(
                    "'%(repeat)s' is no repeat group of this survey's questionnaires (its "
                    "repeat groups: %(known)s)"
                ),
                repeat=repeat,
                known=", ".join(known) or "none",
            )
        )
    used: set[str] = set()
    table = Table(columns=[], rows=[])

    def add(name: str, label: str, values: dict | None = None, is_numeric: bool = False) -> str:
        col = _variable_name(name, used)
        table.columns.append(col)
        table.labels[col] = label
        if values:
            table.value_labels[col] = values
        if is_numeric:
            table.numeric.add(col)
        return col

    add(
        "respondent",
        "Respondent (numbered as in the responses table)" if english else "受访者编号（同答卷表）",
        is_numeric=True,
    )
    add("wave", "Wave" if english else "调查轮次", {w.code: (w.name or w.code) for w in waves})
    add("instance", "Instance (1, 2, …)" if english else "第几条（1, 2, …）", is_numeric=True)
    columns = answer_columns(schemas, lang, identifying, repeat=repeat)
    for column in columns:
        add(column.name, column.label, column.values, is_numeric=column.numeric)

    wave_ids = [w.id for w in waves]
    wave_codes = {w.id: w.code for w in waves}
    responses = db.session.execute(
        select(Response.id, Response.wave_id)
        .where(Response.wave_id.in_(wave_ids), Response.status != "rejected")
        .order_by(Response.wave_id, Response.id)
    ).all()
    number = {r.id: (i, r.wave_id) for i, r in enumerate(responses, start=1)}
    instances: dict[tuple[int, int], dict[str, Any]] = {}
    for response_id, instance, question, value, multiple in db.session.execute(
        select(Answer.response_id, Answer.instance, Answer.question, Answer.value, Answer.multiple)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.wave_id.in_(wave_ids), Answer.repeat_group == repeat, Answer.instance > 0)
    ):
        if response_id not in number:
            continue
        store = instances.setdefault((number[response_id][0], instance), {})
        if question == repeat:
            continue  # the instance's own row
        if multiple:
            store.setdefault(question, set()).add(value)
        else:
            store[question] = value
    wave_of = {i: wave_id for i, wave_id in number.values()}
    for (respondent, instance), answers in sorted(instances.items()):
        row: list[Any] = [respondent, wave_codes[wave_of[respondent]], instance]
        for column in columns:
            value = answers.get(column.question)
            row.append(None if value is None else column.read(value))
        table.rows.append(row)
    table.about = [
        ("survey", survey.name),
        ("waves", ", ".join(w.code for w in waves)),
        ("repeat group", repeat),
        ("instances", str(len(table.rows))),
        ("respondent", "joins the responses table of the same export (numbered in that file)"),
    ]
    return table


# ----------------------------------------------------------------------------- writers


def _csv_value(x: Any) -> Any:
    # Numbers stay numbers (the writer formats them; only texts are neutralised).
    if x is None:
        return ""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return int(x)
    return x


def to_csv(table: Table) -> bytes:
    """UTF-8 with a byte-order mark (so that Excel reads the Chinese), header row first."""
    buf = io.StringIO()
    writer = CsvWriter(buf, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_csv_value(x) for x in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(table: Table, sheet: str, more: dict[str, Table] | None = None) -> bytes:
    """A workbook: the data, then the variables and value labels (responses) and notes.

    ``more``: further tables by sheet name (a repeat group's long table), each a sheet after
    the first; their variables are listed as ``<sheet>.<variable>``."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    tables = {sheet: table, **(more or {})}
    for name, each in tables.items():
        data = wb.create_sheet(name)
        append_row(data, each.columns)
        for row in each.rows:
            append_row(data, row)
    if table.labels:
        variables = wb.create_sheet("variables")
        append_row(variables, ["variable", "label"])
        for name, each in tables.items():
            prefix = "" if each is table else f"{name}."
            for col in each.columns:
                append_row(variables, [prefix + col, each.labels.get(col, "")])
        values = wb.create_sheet("values")
        append_row(values, ["variable", "value", "label"])
        for name, each in tables.items():
            prefix = "" if each is table else f"{name}."
            for col in each.columns:
                for value, text in each.value_labels.get(col, {}).items():
                    append_row(values, [prefix + col, value, text])
    about = wb.create_sheet("about")
    for key, value in table.about:
        append_row(about, [key, value])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_sav(table: Table) -> bytes:
    """An SPSS file with variable labels and value labels (pyreadstat)."""
    import pandas as pd
    import pyreadstat

    frame = {}
    for i, col in enumerate(table.columns):
        values = [row[i] for row in table.rows]
        if col in table.numeric:
            frame[col] = pd.Series(
                [np.nan if v is None else float(v) for v in values], dtype="float64"
            )
        else:
            frame[col] = pd.Series(["" if v is None else str(v) for v in values], dtype="object")
    df = pd.DataFrame(frame, columns=table.columns)
    fd, path = tempfile.mkstemp(suffix=".sav")
    os.close(fd)
    try:
        pyreadstat.write_sav(
            df,
            path,
            column_labels=[table.labels.get(c, "") for c in table.columns],
            variable_value_labels={
                c: {(float(k) if c in table.numeric else k): v for k, v in labels.items()}
                for c, labels in table.value_labels.items()
            },
            file_label=(dict(table.about).get("survey") or "")[:64],
        )
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(path)


def export_estimates(
    bundle: ReportBundle, fmt: str, lang: str = "zh_CN", cache: ReportCache | None = None
) -> bytes:
    """The estimates table of a wave as CSV or XLSX, written once per bundle, format and
    language into ``cache`` (the report cache; officials download the same file many times)."""
    fmt = check_format("estimates", fmt)
    key = ""
    if cache is not None:
        text = json.dumps([bundle.key, "estimates", fmt, lang, code_version("exports")])
        key = hashlib.sha256(text.encode()).hexdigest()[:32]
        hit = cache.get_file("exports", key, f".{fmt}")
        if hit is not None:
            return hit
    table = estimates_table(bundle, lang)
    data = to_csv(table) if fmt == "csv" else to_xlsx(table, "estimates")
    if cache is not None:
        cache.put_file("exports", key, f".{fmt}", data)
    return data


def export_responses(
    survey: Survey,
    fmt: str,
    wave: Wave | None = None,
    lang: str = "zh_CN",
    identifying: bool = False,
    repeat: str | None = None,
) -> bytes:
    """The anonymised responses of a survey as CSV, XLSX or SPSS (``identifying``: with free
    texts, dates, times and places too), one row per respondent.

    The answers of a repeat group (a roster) are a long table of their own, one row per
    instance: a sheet of the XLSX workbook each, or alone with ``repeat`` (its id)."""
    fmt = check_format("responses", fmt)
    if repeat is not None:
        long = repeat_table(survey, repeat, wave, lang, identifying)
        if fmt == "csv":
            return to_csv(long)
        if fmt == "xlsx":
            return to_xlsx(long, repeat)
        return to_sav(long)
    table = responses_table(survey, wave, lang, identifying)
    if not table.rows:
        raise ExportError(Text(N_("survey %(id)s has no responses to export yet"), id=survey.id))
    if fmt == "csv":
        return to_csv(table)
    if fmt == "xlsx":
        waves = [wave] if wave is not None else list(survey.waves)
        schemas = _collected_schemas(survey, waves)
        repeats = sorted({rid for schema in schemas for rid in schema.repeats})
        more = {rid: repeat_table(survey, rid, wave, lang, identifying) for rid in repeats}
        return to_xlsx(table, "responses", more)
    return to_sav(table)


def export_filename(survey: Survey, what: str, fmt: str, wave: Wave | None = None) -> str:
    """``survey-1-responses-2026-Q4.sav``, ``survey-1-estimates-2026-Q4.xlsx``."""
    part = f"-{wave.code}" if wave is not None else ""
    return f"survey-{survey.id}-{what}{part}.{fmt}"
