"""Old Excel workbooks (``.xls``, BIFF) as ``.xlsx``: many published XLSForms are ``.xls``.

The workbook is read with xlrd (pyxform's own reader of ``.xls``) by the rows each sheet
really holds, within the same limits as an ``.xlsx`` upload, and written again as ``.xlsx``
with plain values, so that the one XLSForm import reads both.
"""

from __future__ import annotations

import io
from typing import Any

from ..errors import N_, Text
from .untrusted import WorkbookTooLarge, XlsxLimits

#: The first bytes of an OLE2 compound file (what an ``.xls`` workbook is).
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def is_xls(data: bytes) -> bool:
    """Return whether ``data`` starts like an old Excel (OLE2 compound) file."""
    return data[:8] == OLE2_MAGIC


class NotAWorkbook(ValueError):
    """The bytes are not a readable ``.xls`` workbook; the message says why (``text``: to
    translate where it is shown)."""

    def __init__(self, text: Text) -> None:
        super().__init__(str(text))
        self.text = text


_LIMITS = XlsxLimits()


def xls_to_xlsx(data: bytes, limits: XlsxLimits = _LIMITS) -> bytes:
    """Return the ``.xls`` workbook ``data`` as ``.xlsx`` bytes (values only).

    Raise :class:`WorkbookTooLarge` when a sheet holds more than ``limits`` allow and
    :class:`NotAWorkbook` when xlrd cannot read it.
    """
    import openpyxl
    import xlrd

    if len(data) > limits.max_bytes:
        raise WorkbookTooLarge(f"the file has {len(data)} bytes (at most {limits.max_bytes})")
    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
    except Exception as error:  # noqa: BLE001 - xlrd raises many kinds for a bad file
        raise NotAWorkbook(Text(N_("not an .xls workbook (%(error)s)"), error=error)) from error
    try:
        out = openpyxl.Workbook()
        out.remove(out.worksheets[0])  # the new workbook's empty sheet
        cells = 0
        for index in range(book.nsheets):
            sheet = book.get_sheet(index)
            if sheet.nrows > limits.max_rows:
                raise WorkbookTooLarge(
                    f"sheet '{sheet.name}' has {sheet.nrows} rows (at most {limits.max_rows})"
                )
            if sheet.ncols > limits.max_columns:
                raise WorkbookTooLarge(
                    f"sheet '{sheet.name}' has {sheet.ncols} columns (at most {limits.max_columns})"
                )
            cells += sheet.nrows * sheet.ncols
            if cells > limits.max_cells:
                raise WorkbookTooLarge(f"the workbook has more than {limits.max_cells} cells")
            target = out.create_sheet(sheet.name[:31])
            for row in range(sheet.nrows):
                values = [_value(cell) for cell in sheet.row(row)]
                while values and values[-1] is None:
                    values.pop()
                _append(target, values)
            book.unload_sheet(index)
    finally:
        book.release_resources()
    buffer = io.BytesIO()
    out.save(buffer)
    return buffer.getvalue()


def _append(sheet: Any, values: list[Any]) -> None:
    """Append a row as written: a text starting with "=" stays that text (this workbook is
    read by the importer, not opened by people: nothing is prefixed or computed)."""
    sheet.append(values)
    for cell in sheet[sheet.max_row] if values else ():
        if isinstance(cell.value, str) and cell.data_type in ("f", "e"):
            cell.data_type = "s"


def _value(cell: Any) -> str | int | float | None:
    """A cell's value as openpyxl should write it (xlrd's cells are untyped)."""
    import xlrd

    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if cell.ctype == xlrd.XL_CELL_NUMBER:
        number = cell.value
        return int(number) if float(number).is_integer() else number
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if cell.value else "FALSE"
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return None
    value = str(cell.value)
    return value if value.strip() else None
