"""Import the locality tree and its population counts from a CSV or XLSX file (the command and
the administrators' page use the same checks), and edit one locality's names and population."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from flask_babel import gettext
from sqlalchemy import select

from ..errors import UserError
from ..extensions import db
from ..models import LEVELS, Locality, LocalityPopulation

REQUIRED_COLUMNS = ("code", "parent_code", "level", "name_zh")
OPTIONAL_COLUMNS = ("name_en", "population")
SEXES = ("m", "f")
AGE_GROUPS = ("16_24", "25_34", "35_44", "45_54", "55_64", "65p")
# Population by sex and age group: columns such as ``pop_m_16_24`` (optional).
POP_COLUMNS = tuple(f"pop_{s}_{a}" for s in SEXES for a in AGE_GROUPS)


class LocalityImportError(UserError):
    """The file has problems; ``problems`` lists them with row numbers. Nothing was stored."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    codes: list[str] = field(default_factory=list)


def _int_or_none(text: str, row: int, column: str, problems: list[str]) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        problems.append(
            gettext(
                "row %(row)s: column '%(column)s': '%(text)s' is not a whole number",
                row=row,
                column=column,
                text=text,
            )
        )
        return None
    if value < 0:
        problems.append(
            gettext(
                "row %(row)s: column '%(column)s': %(value)s is negative",
                row=row,
                column=column,
                value=value,
            )
        )
        return None
    return value


def import_localities(text: str, source: str = "file", dry_run: bool = False) -> ImportResult:
    """Create or update localities from CSV ``text``; re-importing updates, never duplicates.

    All rows are checked before anything is written: on any problem, nothing is stored and
    :class:`LocalityImportError` lists every problem with its row number (the header is row 1).
    With ``dry_run`` the result says what the import would do and nothing is stored.
    """
    problems: list[str] = []
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise LocalityImportError(
            [
                gettext(
                    "%(source)s: missing column(s) %(missing)s; expected %(expected)s and "
                    "optionally pop_<sex>_<age>",
                    source=source,
                    missing=", ".join(f"'{c}'" for c in missing),
                    expected=", ".join(f"'{c}'" for c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS),
                )
            ]
        )
    known = set(REQUIRED_COLUMNS + OPTIONAL_COLUMNS + POP_COLUMNS)
    unknown = [h for h in header if h not in known]
    if unknown:
        problems.append(
            gettext(
                "%(source)s: unknown column(s) %(columns)s",
                source=source,
                columns=", ".join(f"'{c}'" for c in unknown),
            )
        )

    rows: list[dict] = []
    seen: dict[str, int] = {}
    existing = {loc.code: loc for loc in db.session.scalars(select(Locality))}
    for number, raw in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if None in raw:
            problems.append(gettext("row %(row)s: more fields than columns", row=number))
        code, parent, level = row.get("code", ""), row.get("parent_code", ""), row.get("level", "")
        if not code:
            problems.append(
                gettext("row %(row)s: column '%(column)s' is empty", row=number, column="code")
            )
            continue
        if code in seen:
            problems.append(
                gettext(
                    "row %(row)s: code '%(code)s' already given in row %(first)s",
                    row=number,
                    code=code,
                    first=seen[code],
                )
            )
            continue
        seen[code] = number
        if level not in LEVELS:
            problems.append(
                gettext(
                    "row %(row)s: column 'level': '%(level)s' is not one of %(levels)s",
                    row=number,
                    level=level,
                    levels=", ".join(LEVELS),
                )
            )
        if not row.get("name_zh"):
            problems.append(
                gettext("row %(row)s: column '%(column)s' is empty", row=number, column="name_zh")
            )
        for column in ("code", "parent_code", "name_zh", "name_en"):
            limit = Locality.__table__.c["code" if column == "parent_code" else column].type.length
            if len(row.get(column, "")) > limit:
                problems.append(
                    gettext(
                        "row %(row)s: column '%(column)s' is longer than %(limit)s characters",
                        row=number,
                        column=column,
                        limit=limit,
                    )
                )
        population = _int_or_none(row.get("population", ""), number, "population", problems)
        counts = {}
        for column in POP_COLUMNS:
            if row.get(column):
                value = _int_or_none(row[column], number, column, problems)
                if value is not None:
                    counts[column] = value
        rows.append({**row, "_row": number, "_population": population, "_counts": counts})

    level_of = {code: loc.level for code, loc in existing.items()}
    level_of.update({r["code"]: r["level"] for r in rows})
    for r in rows:
        parent = r["parent_code"]
        if not parent:
            if r["level"] in LEVELS and r["level"] != LEVELS[0] and r["level"] != "district":
                problems.append(
                    gettext(
                        "row %(row)s: a %(level)s needs a parent_code",
                        row=r["_row"],
                        level=r["level"],
                    )
                )
            continue
        if parent == r["code"]:
            problems.append(
                gettext(
                    "row %(row)s: locality '%(code)s' is its own parent",
                    row=r["_row"],
                    code=r["code"],
                )
            )
        elif parent not in level_of:
            problems.append(
                gettext(
                    "row %(row)s: parent_code '%(parent)s' is not a known locality",
                    row=r["_row"],
                    parent=parent,
                )
            )
        elif r["level"] in LEVELS and level_of[parent] in LEVELS:
            if LEVELS.index(level_of[parent]) >= LEVELS.index(r["level"]):
                problems.append(
                    gettext(
                        "row %(row)s: a %(level)s cannot lie below a %(above)s ('%(parent)s')",
                        row=r["_row"],
                        level=r["level"],
                        above=level_of[parent],
                        parent=parent,
                    )
                )
    # A locality already stored keeps the children the file does not mention: it must stay
    # above them when the file changes its level.
    row_by_code = {r["code"]: r for r in rows}
    code_of = {loc.id: code for code, loc in existing.items()}
    for code, loc in existing.items():
        parent_row = row_by_code.get(code_of.get(loc.parent_id)) if loc.parent_id else None
        if code in row_by_code or parent_row is None or parent_row["level"] not in LEVELS:
            continue
        if loc.level in LEVELS and LEVELS.index(parent_row["level"]) >= LEVELS.index(loc.level):
            problems.append(
                gettext(
                    "row %(row)s: '%(code)s' cannot become a %(level)s: the %(below)s "
                    "'%(child)s' lies below it",
                    row=parent_row["_row"],
                    code=parent_row["code"],
                    level=parent_row["level"],
                    below=loc.level,
                    child=code,
                )
            )
    if problems:
        raise LocalityImportError(problems)

    result = ImportResult()
    by_code = dict(existing)
    # Parents before children: rows sorted by level depth.
    for r in sorted(rows, key=lambda r: LEVELS.index(r["level"])):
        loc = by_code.get(r["code"])
        values = {
            "level": r["level"],
            "name_zh": r["name_zh"],
            "name_en": r.get("name_en", ""),
            "population": r["_population"],
        }
        if loc is None:
            loc = Locality(code=r["code"], **values)
            db.session.add(loc)
            by_code[r["code"]] = loc
            result.created += 1
        else:
            changed = any(getattr(loc, k) != v for k, v in values.items())
            for k, v in values.items():
                setattr(loc, k, v)
            result.updated += int(changed)
            result.unchanged += int(not changed)
        loc.parent = by_code[r["parent_code"]] if r["parent_code"] else None
        if r["_counts"]:
            current = {(p.sex, p.age_group): p for p in loc.populations}
            for column, value in r["_counts"].items():
                _, sex, age = column.split("_", 2)
                if (sex, age) in current:
                    current[(sex, age)].count = value
                else:
                    loc.populations.append(LocalityPopulation(sex=sex, age_group=age, count=value))
        result.codes.append(r["code"])
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    return result


MAX_UPLOAD = 10 * 1024 * 1024


def upload_text(filename: str, data: bytes) -> str:
    """The CSV text of an uploaded locality file: UTF-8 CSV as it is, an XLSX workbook's first
    sheet converted (the same columns, the header in its first row)."""
    name = filename or "file"
    if len(data) > MAX_UPLOAD:
        raise LocalityImportError([f"{name}: the file is larger than 10 MB"])
    if name.lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
        return _xlsx_text(name, data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LocalityImportError(
            [f"{name}: not UTF-8 text at byte {exc.start} (save the CSV as UTF-8, or upload XLSX)"]
        ) from None


def _xlsx_text(name: str, data: bytes) -> str:
    import zipfile

    import openpyxl

    from ..questionnaire.untrusted import TABLE_LIMITS, WorkbookTooLarge, bounded_xlsx

    try:
        data = bounded_xlsx(data, TABLE_LIMITS)
    except WorkbookTooLarge as exc:
        raise LocalityImportError([f"{name}: the workbook is too large: {exc}"]) from None
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError) as exc:
        raise LocalityImportError([f"{name}: not an XLSX workbook ({exc})"]) from None
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise LocalityImportError([f"{name}: not an XLSX workbook ({exc})"]) from None
    try:
        sheet = workbook.worksheets[0]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for row in sheet.iter_rows(values_only=True):
            writer.writerow([_cell(v) for v in row])
    finally:
        workbook.close()
    return out.getvalue()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # codes and counts typed as numbers
    return str(value).strip()


class LocalityEditError(UserError):
    """A locality cannot be changed as asked; the message names the field."""


def edit_locality(locality: Locality, name_zh: str, name_en: str, population: str) -> Locality:
    """Change a locality's names and total population (empty: unknown)."""
    name_zh, name_en, population = name_zh.strip(), name_en.strip(), population.strip()
    if not name_zh:
        raise LocalityEditError(gettext("name_zh: the Chinese name is required"))
    for column, value in (("name_zh", name_zh), ("name_en", name_en)):
        limit = Locality.__table__.c[column].type.length
        if len(value) > limit:
            raise LocalityEditError(
                gettext("%(column)s: longer than %(max)s characters", column=column, max=limit)
            )
    try:
        count = int(population) if population else None
    except ValueError:
        raise LocalityEditError(
            gettext("population: '%(text)s' is not a whole number", text=population)
        ) from None
    if count is not None and count < 0:
        raise LocalityEditError(gettext("population: %(value)s is negative", value=count))
    locality.name_zh, locality.name_en, locality.population = name_zh, name_en, count
    db.session.commit()
    return locality


def locality_tree() -> list[tuple[Locality, int]]:
    """Every locality in tree order with its depth (one query)."""
    children: dict[int | None, list[Locality]] = {}
    for loc in db.session.scalars(select(Locality).order_by(Locality.code)):
        children.setdefault(loc.parent_id, []).append(loc)
    out: list[tuple[Locality, int]] = []
    stack = [(loc, 0) for loc in reversed(children.get(None, []))]
    while stack:
        node, depth = stack.pop()
        out.append((node, depth))
        stack.extend((c, depth + 1) for c in reversed(children.get(node.id, [])))
    return out


def districts() -> list[Locality]:
    """Every district, by code."""
    return list(
        db.session.scalars(
            select(Locality).where(Locality.level == "district").order_by(Locality.code)
        )
    )


def jurisdictions() -> list[Locality]:
    """The localities an account can be given as jurisdiction (every level but grids), by code."""
    return list(
        db.session.scalars(select(Locality).where(Locality.level != "grid").order_by(Locality.code))
    )
