"""Bounds for reading files that users upload: YAML without aliases, XLSX by its real rows.

A questionnaire is small; its files are bounded by what they really hold, never by what they
declare. YAML anchors and aliases are refused (a 4.5 KB file of nested aliases expands to
millions of nodes). An ``.xlsx`` workbook is checked before any spreadsheet library reads it:
its decompressed size, its number of rows, cells and columns. The ``<dimension>`` each sheet
declares and its rows without any value are removed: LibreOffice declares ``A1:AMJ1048576``
and writes styled empty rows down to row 1048576, and readers then walk 10⁹ empty cells (every
row of the gap padded to the declared width). Readers go by the rows that hold something.
:func:`time_budget` stops long work in the main thread of a process (gunicorn's sync
workers) with :class:`BudgetExceeded`.
"""

from __future__ import annotations

import contextlib
import io
import re
import signal
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NoReturn

# The alias-refusing YAML loaders live in surveyapp.yaml_limits (the safety index uses them too).
from ..yaml_limits import NoAliasBaseLoader as NoAliasBaseLoader
from ..yaml_limits import NoAliasLoader as NoAliasLoader
from ..yaml_limits import compose as compose

# ----------------------------------------------------------------------------- XLSX


@dataclass(frozen=True)
class XlsxLimits:
    """What a questionnaire workbook may hold (a large questionnaire has a few hundred rows)."""

    max_bytes: int = 50 * 1024 * 1024  # all members, decompressed
    max_members: int = 500
    max_rows: int = 20_000  # per sheet, counting the highest row number used
    max_columns: int = 256  # per sheet, the highest column used (IV)
    max_cells: int = 500_000  # all sheets


#: Tables of data (localities, monthly index values): many rows, few columns. Their readers
#: keep their own row limits and messages; the dimension and empty rows are removed all the same.
TABLE_LIMITS = XlsxLimits(max_rows=1_048_576, max_cells=5_000_000, max_bytes=200 * 1024 * 1024)


class WorkbookTooLarge(ValueError):
    """The workbook holds (or claims) more than a questionnaire can; the message says what."""


_SHEET = re.compile(r"^xl/worksheets/[^/]+\.xml$")
_DIMENSION = re.compile(
    rb"<(?:\w+:)?dimension\b[^>]*/>|<(?:\w+:)?dimension\b[^>]*>\s*</(?:\w+:)?dimension>"
)
_ROW_ELEMENT = re.compile(rb"<(?:\w+:)?row\b[^>]*?(?:/>|>.*?</(?:\w+:)?row>)", re.S)
_VALUE = re.compile(rb"<(?:\w+:)?(?:v|is|f)\b")
_ROW = re.compile(rb"<(?:\w+:)?row\b[^>]*?\br=\"(\d+)\"")
_ROW_TAG = re.compile(rb"<(?:\w+:)?row\b")
_CELL = re.compile(rb"<(?:\w+:)?c\b")
_CELL_REF = re.compile(rb"<(?:\w+:)?c\b[^>]*?\br=\"([A-Z]+)(\d+)\"")


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + (letter - 64)
    return number


def bounded_xlsx(data: bytes, limits: XlsxLimits = XlsxLimits()) -> bytes:
    """Return the workbook ``data`` with every sheet's ``<dimension>`` removed, after checking
    that it stays within ``limits``; raise :class:`WorkbookTooLarge` otherwise (or
    :class:`zipfile.BadZipFile` for a file that is not a ZIP archive)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    members = source.infolist()
    if len(members) > limits.max_members:
        raise WorkbookTooLarge(
            f"the workbook has {len(members)} parts (at most {limits.max_members})"
        )
    declared = sum(m.file_size for m in members)
    if declared > limits.max_bytes:
        raise WorkbookTooLarge(
            f"the workbook unpacks to {declared // 2**20} MB "
            f"(at most {limits.max_bytes // 2**20} MB)"
        )
    out = io.BytesIO()
    total = 0
    cells = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in members:
            with source.open(member) as handle:
                # zipfile stops at the declared size (a longer stream fails its CRC check);
                # the budget counts what was really read.
                content = handle.read(limits.max_bytes - total + 1)
            total += len(content)
            if total > limits.max_bytes:
                raise WorkbookTooLarge(
                    f"the workbook unpacks to more than {limits.max_bytes // 2**20} MB"
                )
            if _SHEET.match(member.filename):
                content = _DIMENSION.sub(b"", content)
                # Rows without a value (LibreOffice writes styled empty rows down to 1048576):
                # readers would fill the gap up to them with empty rows.
                content = _ROW_ELEMENT.sub(
                    lambda m: m.group(0) if _VALUE.search(m.group(0)) else b"", content
                )
                name = member.filename.rsplit("/", 1)[-1]
                rows = max((int(n) for n in _ROW.findall(content)), default=0)
                rows = max(rows, len(_ROW_TAG.findall(content)))
                if rows > limits.max_rows:
                    raise WorkbookTooLarge(
                        f"sheet {name} uses row {rows} (at most {limits.max_rows} rows)"
                    )
                columns = max(
                    (_column_number(c) for c, _r in _CELL_REF.findall(content)), default=0
                )
                if columns > limits.max_columns:
                    raise WorkbookTooLarge(
                        f"sheet {name} uses column {columns} (at most {limits.max_columns})"
                    )
                cells += len(_CELL.findall(content))
                if cells > limits.max_cells:
                    raise WorkbookTooLarge(f"the workbook has over {limits.max_cells} cells")
            target.writestr(member, content)
    return out.getvalue()


# ----------------------------------------------------------------------------- time


class BudgetExceeded(Exception):
    """Work ran longer than its time budget and was stopped."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"stopped after {seconds:g} s")
        self.seconds = seconds


@contextlib.contextmanager
def time_budget(seconds: float | None) -> Iterator[None]:
    """Raise :class:`BudgetExceeded` in the block after ``seconds`` of wall-clock time.

    Uses a real-time interval timer, so it works in the main thread of a process on POSIX
    (gunicorn's sync workers, the command line); elsewhere (threads of the development server)
    the block runs unbounded, protected by the size limits alone. Nested budgets keep the
    outer one's timer.
    """
    if (
        not seconds
        or threading.current_thread() is not threading.main_thread()
        or not hasattr(signal, "setitimer")
        or signal.getitimer(signal.ITIMER_REAL)[0] > 0
    ):
        yield
        return

    def expired(_signum: int, _frame: object) -> NoReturn:
        raise BudgetExceeded(seconds)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
