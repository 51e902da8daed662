"""Cells of every CSV and XLSX file the product writes: no text ever runs as a formula.

OWASP's rule for CSV injection: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is read by spreadsheet programs as a formula (``=HYPERLINK(...)`` in a user
name, a question label, a locality name); it is written with a leading apostrophe instead,
which spreadsheets show as text. Only texts change: numbers (negative ones too) stay numbers.
openpyxl stores a text starting with ``=`` as a formula, so XLSX rows go through the same
rule. The XLSForm export, read back by pyxform rather than by people, keeps its texts as written
and marks them as texts instead (``questionnaire.xlsform._append``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import Any

#: What a spreadsheet program reads as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral(value: Any) -> Any:
    """``value``, with an apostrophe in front if it is a text a spreadsheet would compute."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutral_row(values: Iterable[Any]) -> list[Any]:
    """Return ``values`` with each passed through :func:`neutral` (formulas defused)."""
    return [neutral(v) for v in values]


class CsvWriter:
    """:func:`csv.writer` whose rows pass through :func:`neutral`."""

    def __init__(self, stream: Any, **options: Any) -> None:
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        """Write one row, its values neutralised."""
        return self._writer.writerow(neutral_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write every row, their values neutralised."""
        for row in rows:
            self.writerow(row)


class CsvDictWriter(csv.DictWriter):  # type: ignore[type-arg]  # generic only in stubs
    """:class:`csv.DictWriter` whose values pass through :func:`neutral`."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        """Write one row of named values, neutralised."""
        return super().writerow({k: neutral(v) for k, v in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        """Write every row of named values, neutralised."""
        for row in rowdicts:
            self.writerow(row)


def append_row(sheet: Any, values: Iterable[Any]) -> None:
    """Append a row to an openpyxl sheet (write-only or not), texts neutralised."""
    sheet.append(neutral_row(values))
