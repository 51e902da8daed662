"""The safety index (平安指数) in the database: definition versions, monthly series, results.

Monthly administrative values are uploaded per street as CSV or XLSX (columns street, month,
series, value, unit; Chinese headers 街道, 月份, 指标, 数值, 单位 also work). A file is checked
completely first: every problem is listed with its row, and nothing is stored unless there is
none. The survey part comes from the latest usable wave of the district's survey (see
:func:`usable_wave`), the computation from :mod:`surveyapp.safety_index`.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select

from ..errors import N_, Text, UserError, Worded
from ..extensions import db
from ..models import Locality, Survey, User, Wave
from ..models.safety_index import SafetyIndexDefinition, SafetyIndexValue
from ..reports.cells import CsvWriter, append_row
from ..safety_index import (
    Definition,
    DefinitionError,
    DefinitionProblem,
    MonthIndex,
    Street,
    SurveyValue,
    compute_month,
    definition_changes,
    load_definition_text,
    month_add,
    with_changes,
)
from . import audit

MONTH_RE = re.compile(r"(\d{4})-(0[1-9]|1[0-2])\Z")
#: Accepted column headers -> column.
HEADERS = {
    "street": "street",
    "街道": "street",
    "街道代码": "street",
    "month": "month",
    "月份": "month",
    "series": "series",
    "indicator": "series",
    "指标": "series",
    "指标代码": "series",
    "value": "value",
    "数值": "value",
    "值": "value",
    "unit": "unit",
    "单位": "unit",
}
COLUMNS = ("street", "month", "series", "value", "unit")
MAX_ROWS = 100_000


class SafetyIndexError(UserError):
    """A request about the index cannot be served; the message (a :class:`Text`, translated
    where it is shown: ``translated()``) says why (a user's error)."""

    def __init__(self, message: str | Text, status: int = 400) -> None:
        super().__init__(message, status)


# ------------------------------------------------------------------------- definitions


def store_definition(
    text: str, source: str = "<text>", user: User | None = None
) -> tuple[SafetyIndexDefinition, bool]:
    """Store a definition version; return it and whether it is new.

    Raise :class:`~surveyapp.safety_index.DefinitionError` if the text has problems, and
    :class:`SafetyIndexError` if its version number is taken by a different text.
    """
    definition = load_definition_text(text, source)
    problems = survey_source_problems(definition, source)
    if problems:
        raise DefinitionError(problems)
    row = db.session.scalar(
        select(SafetyIndexDefinition).where(
            SafetyIndexDefinition.slug == definition.id,
            SafetyIndexDefinition.version == definition.version,
        )
    )
    if row is not None:
        if row.sha256 == definition.sha256:
            return row, False
        raise SafetyIndexError(
            Text(
                N_(
                    "%(source)s: %(id)s version %(version)s is already stored with different "
                    "content; give the changed definition the next version number (%(next)s)"
                ),
                source=source,
                id=definition.id,
                version=definition.version,
                next=latest_version_number(definition.id) + 1,
            ),
            409,
        )
    row = SafetyIndexDefinition(
        slug=definition.id,
        version=definition.version,
        effective_from=definition.effective_from,
        sha256=definition.sha256,
        source_text=text,
        created_by=user,
    )
    db.session.add(row)
    db.session.flush()
    previous = version_in_force(month_add(definition.effective_from, -1), slug=definition.id)
    changes = definition_changes(previous.definition, definition) if previous else []
    audit.record(
        "safety_index.definition",
        f"{definition.id} v{definition.version}",
        user=user,
        effective_from=definition.effective_from,
        changes=changes,
    )
    db.session.commit()
    return row, True


def survey_source_problems(definition: Definition, source: str) -> list[DefinitionProblem]:
    """Survey sources that name no stored questionnaire, or an item it does not have."""
    from ..models import QuestionnaireVersion

    problems = []
    items: dict[str, set[str] | None] = {}
    for ind in definition.indicators:
        if ind.source.kind != "survey":
            continue
        slug = ind.source.questionnaire
        if slug not in items:
            versions = db.session.scalars(
                select(QuestionnaireVersion).where(
                    QuestionnaireVersion.slug == slug, QuestionnaireVersion.status == "published"
                )
            ).all()
            items[slug] = (
                {i.id for v in versions for i in (*v.schema.indicators, *v.schema.composites)}
                if versions
                else None
            )
        known = items[slug]
        where = Worded(Text(N_("indicator %(id)s: source"), id=ind.id))
        if known is None:
            text = Text(N_("no questionnaire '%(slug)s' is stored"), slug=slug)
            problems.append(DefinitionProblem(source, ind.line, where, Worded(text)))
        elif ind.source.item not in known:
            text = Text(
                N_(
                    "questionnaire '%(slug)s' has no indicator or composite '%(item)s' "
                    "(it has: %(items)s)"
                ),
                slug=slug,
                item=ind.source.item,
                items=", ".join(sorted(known)),
            )
            problems.append(DefinitionProblem(source, ind.line, where, Worded(text)))
    return problems


def latest_version_number(slug: str) -> int:
    return (
        db.session.scalar(
            select(func.max(SafetyIndexDefinition.version)).where(
                SafetyIndexDefinition.slug == slug
            )
        )
        or 0
    )


def definition_versions() -> list[SafetyIndexDefinition]:
    return list(
        db.session.scalars(
            select(SafetyIndexDefinition).order_by(
                SafetyIndexDefinition.slug, SafetyIndexDefinition.version
            )
        )
    )


def current_slug() -> str | None:
    """The index this installation publishes: the slug of the newest stored version."""
    return db.session.scalar(
        select(SafetyIndexDefinition.slug).order_by(SafetyIndexDefinition.id.desc()).limit(1)
    )


def version_in_force(month: str, slug: str | None = None) -> SafetyIndexDefinition | None:
    """The version a month is computed with: the highest version in force by that month."""
    slug = slug or current_slug()
    if slug is None:
        return None
    return db.session.scalar(
        select(SafetyIndexDefinition)
        .where(
            SafetyIndexDefinition.slug == slug,
            SafetyIndexDefinition.effective_from <= month,
        )
        .order_by(SafetyIndexDefinition.effective_from.desc(), SafetyIndexDefinition.version.desc())
        .limit(1)
    )


def latest_definition() -> SafetyIndexDefinition | None:
    slug = current_slug()
    if slug is None:
        return None
    return db.session.scalar(
        select(SafetyIndexDefinition)
        .where(SafetyIndexDefinition.slug == slug)
        .order_by(SafetyIndexDefinition.version.desc())
        .limit(1)
    )


def known_series() -> dict[str, str]:
    """Every administrative series of any stored version, with its unit (newest wins)."""
    out: dict[str, str] = {}
    for row in definition_versions():
        out.update(row.definition.series_units)
    return out


# ------------------------------------------------------------------------------ uploads


@dataclass(frozen=True)
class UploadRow:
    row: int
    street: Locality
    month: str
    series: str
    value: float
    unit: str


@dataclass
class UploadPreview:
    """A checked file: its rows, or every problem by row (then nothing may be stored)."""

    filename: str
    rows: list[UploadRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    replaced: list[tuple[UploadRow, float]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)

    def summary(self) -> dict:
        return {
            "rows": len(self.rows),
            "streets": len({r.street.code for r in self.rows}),
            "series": sorted({r.series for r in self.rows}),
            "months": sorted({r.month for r in self.rows}),
            "replaced": len(self.replaced),
        }


def _table(filename: str, data: bytes) -> list[list[str]]:
    """The file's cells as text rows (the header first)."""
    if filename.lower().endswith((".xlsx", ".xlsm")):
        from openpyxl import load_workbook

        from ..questionnaire.untrusted import TABLE_LIMITS, WorkbookTooLarge, bounded_xlsx

        try:
            data = bounded_xlsx(data, TABLE_LIMITS)
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            sheet = book.worksheets[0]
            rows = []
            for cells in sheet.iter_rows(values_only=True):
                rows.append(["" if c is None else _cell_text(c) for c in cells])
                if len(rows) > MAX_ROWS + 1:
                    break
            book.close()
        except WorkbookTooLarge as exc:
            raise SafetyIndexError(
                Text(
                    N_("%(file)s: the workbook is too large: %(reason)s"),
                    file=filename,
                    reason=exc,
                )
            ) from exc
        except Exception as exc:  # noqa: BLE001 - zipfile and openpyxl raise many types
            raise SafetyIndexError(
                Text(
                    N_("%(file)s: not a readable XLSX workbook (%(reason)s)"),
                    file=filename,
                    reason=exc,
                )
            ) from exc
        return rows
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SafetyIndexError(
            Text(N_("%(file)s: not UTF-8 text; save the CSV as UTF-8"), file=filename)
        ) from exc
    if "\x00" in text:
        raise SafetyIndexError(
            Text(N_("%(file)s: the file contains NUL characters; not a CSV file"), file=filename)
        )
    try:
        return list(csv.reader(io.StringIO(text)))[: MAX_ROWS + 1]
    except csv.Error as exc:  # e.g. a field longer than the csv module's limit
        raise SafetyIndexError(
            Text(N_("%(file)s: not a readable CSV file (%(reason)s)"), file=filename, reason=exc)
        ) from exc


def _cell_text(value: object) -> str:
    if isinstance(value, datetime | date):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _street_lookup(user: User | None) -> dict[str, Locality]:
    streets = db.session.scalars(select(Locality).where(Locality.level == "street")).all()
    place = user.locality if user is not None and user.role != "admin" else None
    if place is not None:
        streets = [s for s in streets if s.is_within(place) or place.is_within(s)]
    out: dict[str, Locality] = {}
    names: dict[str, list[Locality]] = {}
    for s in streets:
        out[s.code] = s
        names.setdefault(s.name_zh, []).append(s)
    for name, found in names.items():
        if len(found) == 1:
            out.setdefault(name, found[0])
    return out


def _untranslated(message: str) -> str:
    return message


def check_upload(
    filename: str,
    data: bytes,
    user: User | None = None,
    *,
    replace: bool = False,
    translate: Callable[[str], str] = _untranslated,
) -> UploadPreview:
    """Read and check an upload of monthly values; store nothing.

    A street is a code (or a unique name) of a street in the uploader's jurisdiction; a
    month is YYYY-MM; a series is one named by a stored definition, with its unit; a value
    is a number (empty cells are refused: a month without data is left out of the file and
    the definition's missing-value rule applies). A value already stored is refused unless
    ``replace`` (a correction, audited with the old value). ``translate`` words the problems
    (the web passes the interface's gettext; the command line keeps English).
    """
    t = translate
    preview = UploadPreview(filename)
    problems = preview.problems
    table = _table(filename, data)
    if not table or not any(cell.strip() for cell in table[0]):
        problems.append(
            t("%(file)s: the file is empty; its first row names the columns (%(columns)s)")
            % {"file": filename, "columns": ", ".join(COLUMNS)}
        )
        return preview
    if len(table) > MAX_ROWS + 1:
        problems.append(
            t("%(file)s: more than %(n)s rows; split the file") % {"file": filename, "n": MAX_ROWS}
        )
        return preview
    header = [HEADERS.get(h.strip().lower(), HEADERS.get(h.strip(), "")) for h in table[0]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        problems.append(
            t(
                "%(file)s: row 1: missing column(s) %(missing)s (the columns are %(columns)s; "
                "found %(found)s)"
            )
            % {
                "file": filename,
                "missing": ", ".join(missing),
                "columns": ", ".join(COLUMNS),
                "found": ", ".join(h.strip() for h in table[0]),
            }
        )
        return preview
    position = {name: header.index(name) for name in COLUMNS}
    series_units = known_series()
    if not series_units:
        problems.append(
            t(
                "%(file)s: no index definition is stored yet; import one first "
                "(surveyapp index definition import FILE)"
            )
            % {"file": filename}
        )
        return preview
    streets = _street_lookup(user)
    seen: dict[tuple[str, str, str], int] = {}
    candidates: list[UploadRow] = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        cells = cells + [""] * (len(header) - len(cells))
        get = {name: cells[i].strip() for name, i in position.items()}
        where = t("%(file)s: row %(row)s") % {"file": filename, "row": number}
        row_problems = []

        def problem(message: str, **args) -> None:
            row_problems.append(t(message) % {"where": where, **args})  # noqa: B023

        street = streets.get(get["street"])
        if street is None:
            problem(
                "%(where)s: unknown street '%(street)s' (a street code or name of your "
                "jurisdiction)",
                street=get["street"],
            )
        month = get["month"].replace("/", "-")
        if len(month) == 6 and month[4] == "-":  # 2026-1
            month = f"{month[:5]}0{month[5]}"
        if not MONTH_RE.match(month):
            problem("%(where)s: month '%(month)s' is not YYYY-MM", month=get["month"])
        series = get["series"]
        unit = get["unit"]
        if series not in series_units:
            problem(
                "%(where)s: unknown series '%(series)s' (the definition's series: %(known)s)",
                series=series,
                known=", ".join(sorted(series_units)),
            )
        elif unit != series_units[series]:
            problem(
                "%(where)s: unit '%(unit)s' does not match series %(series)s, which is "
                "counted in '%(expected)s'",
                unit=unit,
                series=series,
                expected=series_units[series],
            )
        text = get["value"].replace(",", "")
        value = math.nan
        if not text:
            problem(
                "%(where)s: the value is empty; leave the row out when there is no data (the "
                "definition's missing-value rule applies)"
            )
        else:
            try:
                value = float(text)
            except ValueError:
                problem("%(where)s: value '%(value)s' is not a number", value=get["value"])
            else:
                if not math.isfinite(value) or value < 0:
                    problem("%(where)s: value '%(value)s' must be a number ≥ 0", value=get["value"])
                elif unit == "%" and value > 100:
                    problem("%(where)s: value %(value)s %% is above 100", value=get["value"])
        if street is not None and MONTH_RE.match(month) and series:
            key = (street.code, month, series)
            if key in seen:
                problem(
                    "%(where)s: duplicate month: %(series)s of %(street)s for %(month)s is "
                    "already on row %(other)s",
                    series=series,
                    street=street.code,
                    month=month,
                    other=seen[key],
                )
            else:
                seen[key] = number
        if row_problems:
            problems.extend(row_problems)
            continue
        candidates.append(UploadRow(number, street, month, series, value, unit))
    if not candidates and not problems:
        problems.append(t("%(file)s: no data rows") % {"file": filename})
    stored = _stored({(r.series, r.street.id, r.month) for r in candidates})
    for r in candidates:
        old = stored.get((r.series, r.street.id, r.month))
        if old is not None and old.value != r.value:
            if not replace:
                problems.append(
                    t(
                        "%(where)s: duplicate month: %(series)s of %(street)s for %(month)s is "
                        "already stored (%(value)s, uploaded by %(user)s on %(date)s); upload it "
                        "as a correction to replace it"
                    )
                    % {
                        "where": t("%(file)s: row %(row)s") % {"file": filename, "row": r.row},
                        "series": r.series,
                        "street": r.street.code,
                        "month": r.month,
                        "value": f"{old.value:g}",
                        "user": old.uploaded_by.username if old.uploaded_by else "?",
                        "date": f"{old.uploaded_at:%Y-%m-%d}",
                    }
                )
            else:
                preview.replaced.append((r, old.value))
    preview.rows = candidates
    return preview


def _stored(keys: set[tuple[str, int, str]]) -> dict[tuple[str, int, str], SafetyIndexValue]:
    if not keys:
        return {}
    months = {k[2] for k in keys}
    rows = db.session.scalars(
        select(SafetyIndexValue).where(SafetyIndexValue.month.in_(months))
    ).all()
    return {
        (r.series, r.locality_id, r.month): r
        for r in rows
        if (r.series, r.locality_id, r.month) in keys
    }


def import_upload(preview: UploadPreview, user: User | None = None) -> dict:
    """Store a checked upload (all rows or none) and record it in the audit log."""
    if preview.problems:
        raise SafetyIndexError(
            Text(
                N_("%(file)s: %(n)s problem(s); nothing was stored"),
                file=preview.filename,
                n=len(preview.problems),
            )
        )
    stored = _stored({(r.series, r.street.id, r.month) for r in preview.rows})
    replaced = {(r.series, r.street.id, r.month) for r, _old in preview.replaced}
    now = datetime.utcnow()
    created = unchanged = 0
    for r in preview.rows:
        key = (r.series, r.street.id, r.month)
        old = stored.get(key)
        if old is not None and (old.value == r.value or key not in replaced):
            unchanged += 1
            continue
        if old is not None:
            db.session.delete(old)
            db.session.flush()
        db.session.add(
            SafetyIndexValue(
                series=r.series,
                locality_id=r.street.id,
                month=r.month,
                value=r.value,
                unit=r.unit,
                uploaded_by=user,
                uploaded_at=now,
                upload=preview.filename[:200],
            )
        )
        created += 1
    summary = preview.summary() | {"stored": created, "unchanged": unchanged}
    audit.record(
        "safety_index.upload",
        preview.filename,
        user=user,
        **summary,
        corrections=[
            {
                "series": r.series,
                "street": r.street.code,
                "month": r.month,
                "old": old,
                "new": r.value,
            }
            for r, old in preview.replaced[:200]
        ],
    )
    db.session.commit()
    return summary


# ------------------------------------------------------------------------- computation


def district_by_code(code: str) -> Locality:
    district = db.session.scalar(select(Locality).where(Locality.code == code))
    if district is None or district.level != "district":
        raise SafetyIndexError(Text(N_("no district with code '%(code)s'"), code=code), 404)
    return district


def district_streets(district: Locality) -> list[Locality]:
    return [s for s in district.children if s.level == "street"]


def months_with_data(district: Locality) -> list[str]:
    ids = [s.id for s in district_streets(district)]
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(SafetyIndexValue.month)
            .where(SafetyIndexValue.locality_id.in_(ids))
            .distinct()
            .order_by(SafetyIndexValue.month)
        )
    )


def latest_month(district: Locality) -> str:
    months = months_with_data(district)
    if not months:
        raise SafetyIndexError(
            Text(
                N_(
                    "no monthly data for district %(code)s yet; upload the series first "
                    "(surveyapp index data import FILE)"
                ),
                code=district.code,
            ),
            404,
        )
    return months[-1]


def _series(district: Locality, first: str, last: str) -> dict:
    streets = {s.id: s.code for s in district_streets(district)}
    out: dict[str, dict[str, dict[str, float]]] = {}
    rows = db.session.execute(
        select(
            SafetyIndexValue.series,
            SafetyIndexValue.locality_id,
            SafetyIndexValue.month,
            SafetyIndexValue.value,
        ).where(
            SafetyIndexValue.locality_id.in_(list(streets)),
            SafetyIndexValue.month >= first,
            SafetyIndexValue.month <= last,
        )
    )
    for series, locality_id, month, value in rows:
        out.setdefault(series, {}).setdefault(streets[locality_id], {})[month] = value
    return out


def usable_wave(wave: Wave) -> bool:
    """Whether a wave's results may feed the index: once released (as for officials)."""
    return wave.is_released


def survey_wave_for(survey: Survey, month: str) -> Wave | None:
    """The wave a month's survey part uses: the latest usable wave that ended by the end of
    the month; before the first such wave ended, the first usable wave (said in the output)."""
    waves = [w for w in survey.waves if usable_wave(w)]
    if not waves:
        return None
    end = f"{month_add(month, 1)}-01"
    ended = [w for w in waves if w.ends_on is not None and w.ends_on.isoformat() < end]
    return ended[-1] if ended else waves[0]


class _SurveyPart:
    """The survey estimates per (survey, wave), computed once per request."""

    def __init__(self, district: Locality) -> None:
        self.district = district
        self.results: dict[int, object] = {}

    def survey_for(self, slug: str) -> Survey | None:
        surveys = db.session.scalars(
            select(Survey).where(Survey.district_id == self.district.id).order_by(Survey.id)
        ).all()
        matching = [s for s in surveys if s.questionnaire_version.slug == slug]
        return matching[-1] if matching else None

    def values(self, definition: Definition, month: str) -> tuple[dict, tuple[Text, ...]]:
        from .reports import report_bundle

        out: dict[str, dict[str, SurveyValue]] = {}
        notes: list[Text] = []
        for ind in definition.indicators:
            if ind.source.kind != "survey" or ind.source.key in out:
                continue
            survey = self.survey_for(ind.source.questionnaire)
            wave = survey_wave_for(survey, month) if survey is not None else None
            if wave is None:
                out[ind.source.key] = {}
                notes.append(
                    Text(
                        N_("%(questionnaire)s: no survey wave available"),
                        questionnaire=ind.source.questionnaire,
                    )
                )
                notes = list(dict.fromkeys(notes))
                continue
            if wave.id not in self.results:
                self.results[wave.id] = report_bundle(survey, wave).results
            results = self.results[wave.id]
            try:
                item = results.item(ind.source.item)
            except StopIteration:
                out[ind.source.key] = {}
                notes.append(
                    Text(N_("%(key)s: the survey has no such indicator"), key=ind.source.key)
                )
                continue
            out[ind.source.key] = {
                code: SurveyValue(est.value, est.ci_low, est.ci_high, est.level)
                for code, est in item.by_street.items()
                if est is not None and math.isfinite(est.value)
            }
            note = Text("%(survey)s %(wave)s", survey=survey.name, wave=wave.code)
            if wave.ends_on is None or wave.ends_on.isoformat() >= f"{month_add(month, 1)}-01":
                note = Text(
                    N_(
                        "%(survey)s %(wave)s (no published wave has ended before the end of "
                        "this month yet: the earliest published one is used)"
                    ),
                    survey=survey.name,
                    wave=wave.code,
                )
            if note not in notes:
                notes.append(note)
        return out, tuple(notes)


@dataclass(frozen=True)
class IndexResult:
    district: Locality
    result: MonthIndex
    definition: Definition
    previous: MonthIndex | None


def _streets(district: Locality) -> list[Street]:
    return [
        Street(s.code, s.name_zh, s.name_en, float(s.population) if s.population else None)
        for s in district_streets(district)
    ]


def compute_index(
    district: Locality, month: str | None = None, *, survey_part: _SurveyPart | None = None
) -> IndexResult:
    """The index of ``month`` (default: the latest month with data), with last month's changes."""
    if month is not None and not MONTH_RE.match(month):
        raise SafetyIndexError(Text(N_("month '%(month)s' is not YYYY-MM"), month=month))
    month = month or latest_month(district)
    row = version_in_force(month)
    if row is None:
        raise SafetyIndexError(
            Text(
                N_(
                    "no index definition is in force in %(month)s; import one "
                    "(surveyapp index definition import FILE)"
                ),
                month=month,
            ),
            404,
        )
    survey_part = survey_part or _SurveyPart(district)
    current = _month(district, month, row.definition, survey_part)
    previous_month = month_add(month, -1)
    previous_row = version_in_force(previous_month)
    previous = None
    if previous_row is not None and previous_month in months_with_data(district):
        previous = _month(district, previous_month, previous_row.definition, survey_part)
    changes: tuple[str, ...] = ()
    if previous_row is not None and previous_row.id != row.id:
        changes = tuple(definition_changes(previous_row.definition, row.definition))
    return IndexResult(district, with_changes(current, previous, changes), row.definition, previous)


def _month(district: Locality, month: str, definition: Definition, survey_part) -> MonthIndex:
    series = _series(district, month_add(month, -24), month)
    survey, note = survey_part.values(definition, month)
    return compute_month(definition, month, _streets(district), series, survey, survey_note=note)


def trend(district: Locality, month: str, months: int = 12) -> list[MonthIndex]:
    """The index of the ``months`` months up to ``month`` that have data (oldest first)."""
    available = set(months_with_data(district))
    survey_part = _SurveyPart(district)
    out = []
    for back in range(months - 1, -1, -1):
        m = month_add(month, -back)
        row = version_in_force(m)
        if m in available and row is not None:
            out.append(_month(district, m, row.definition, survey_part))
    return out


def data_status(district: Locality, month: str) -> list[tuple[str, str, int, int]]:
    """Per series of the month's definition: (series, unit, streets with a value, streets)."""
    row = version_in_force(month)
    if row is None:
        return []
    streets = district_streets(district)
    ids = [s.id for s in streets]
    counts = dict(
        db.session.execute(
            select(SafetyIndexValue.series, func.count())
            .where(SafetyIndexValue.locality_id.in_(ids), SafetyIndexValue.month == month)
            .group_by(SafetyIndexValue.series)
        ).all()
    )
    return [
        (series, unit, counts.get(series, 0), len(streets))
        for series, unit in row.definition.series_units.items()
    ]


def definition_problems(text: str, source: str) -> list[str]:
    """Every problem of a definition text, as printable lines (empty if valid)."""
    try:
        definition = load_definition_text(text, source)
    except DefinitionError as exc:
        return [str(p) for p in exc.problems]
    return [str(p) for p in survey_source_problems(definition, source)]


# ------------------------------------------------------------------------ outputs


def bulletin_pdf(
    district: Locality, month: str | None = None, lang: str = "zh_CN", street: str | None = None
) -> bytes:
    """The monthly bulletin of ``district`` (or one street's page) as PDF bytes."""
    from ..reports import ReportError, ReportLanguageError
    from ..reports.safety_index import build_bulletin_pdf, build_street_index_pdf

    out = compute_index(district, month)
    months = trend(district, out.result.month)
    # The trend's last month is the one computed above (with its changes).
    months = [m for m in months if m.month != out.result.month] + [out.result]
    name = district.name(lang)
    try:
        if street:
            return build_street_index_pdf(out.result, out.definition, name, street, months, lang)
        return build_bulletin_pdf(out.result, out.definition, name, months, lang)
    except (ReportError, ReportLanguageError) as exc:
        raise SafetyIndexError(str(exc), 404 if isinstance(exc, ReportError) else 400) from exc


EXPORT_COLUMNS = (
    "month", "definition_version", "rank", "rank_low", "rank_high", "street_code", "street",
    "index", "index_low", "index_high", "change", "group", "indicator_id", "indicator", "unit",
    "value", "normalised", "score", "points", "points_low", "points_high", "max_points",
    "points_change", "note",
)  # fmt: skip


def export_rows(out: IndexResult, codes: set[str] | None = None, lang: str = "zh_CN") -> list:
    """One row per street and indicator (the street's figures repeated), for CSV and XLSX."""
    rows = []
    d = out.definition
    for s in out.result.streets:
        if codes is not None and s.code not in codes:
            continue
        for c in s.components:
            ind = d.indicator(c.indicator)
            rows.append(
                [
                    out.result.month, out.result.definition_version, s.rank, s.rank_low,
                    s.rank_high, s.code, s.name(lang), round(s.index, 3),
                    round(s.index_low, 3), round(s.index_high, 3),
                    None if s.change is None else round(s.change, 3), c.group, c.indicator,
                    ind.name(lang), ind.unit, c.value, c.normalised, c.score,
                    round(c.points, 4), round(c.points_low, 4), round(c.points_high, 4),
                    round(c.max_points, 4), None if c.change is None else round(c.change, 4),
                    c.note,
                ]
            )  # fmt: skip
    return rows


def export_bytes(
    out: IndexResult, fmt: str, codes: set[str] | None = None, lang: str = "zh_CN"
) -> bytes:
    """The month's index as CSV (UTF-8 with BOM) or XLSX."""
    rows = export_rows(out, codes, lang)
    if fmt == "csv":
        buf = io.StringIO()
        writer = CsvWriter(buf)
        writer.writerow(EXPORT_COLUMNS)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
        return ("\ufeff" + buf.getvalue()).encode("utf-8")
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(out.result.month)
        append_row(sheet, EXPORT_COLUMNS)
        for row in rows:
            append_row(sheet, row)
        buf = io.BytesIO()
        book.save(buf)
        return buf.getvalue()
    raise SafetyIndexError(
        Text(N_("unknown export format '%(format)s' (csv or xlsx)"), format=fmt), 404
    )
