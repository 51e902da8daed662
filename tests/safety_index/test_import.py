"""Uploads of monthly series: every problem by row, and a refused file stores nothing."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import AuditEvent, User
from surveyapp.models.safety_index import SafetyIndexValue
from surveyapp.services.safety_index import check_upload, import_upload

STREET, OTHER = "320106001", "320106002"
HEADER = "street,month,series,value,unit\n"


def counts() -> tuple[int, int]:
    values = db.session.scalar(select(func.count(SafetyIndexValue.id)))
    audits = db.session.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.action == "safety_index.upload")
    )
    return values, audits


def clerk() -> User:
    return db.session.scalar(select(User).where(User.username == "clerk"))


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("999999,2030-01,theft_alerts,3,起\n", "row 2: unknown street '999999'"),
        (
            f"{STREET},2030-01,theft_alerts,3,起\n{STREET},2030-01,theft_alerts,4,起\n",
            "row 3: duplicate month: theft_alerts of 320106001 for 2030-01 is already on row 2",
        ),
        (f"{STREET},2030-01,theft_alerts,three,起\n", "row 2: value 'three' is not a number"),
        (
            f"{STREET},2030-01,theft_alerts,3,件\n",
            "row 2: unit '件' does not match series theft_alerts, which is counted in '起'",
        ),
        (f"{STREET},2030-13,theft_alerts,3,起\n", "row 2: month '2030-13' is not YYYY-MM"),
        (f"{STREET},2030-01,thefts,3,起\n", "row 2: unknown series 'thefts'"),
        (f"{STREET},2030-01,theft_alerts,,起\n", "row 2: the value is empty"),
    ],
)
def test_refusals_name_the_row_and_store_nothing(demo, rows, expected) -> None:
    with demo.app_context():
        before = counts()
        # a good row too: it is not stored either
        text = HEADER + rows + f"{OTHER},2030-01,mediation_success,99,%\n"
        preview = check_upload("upload.csv", text.encode(), clerk())
        assert any(p.startswith("upload.csv: ") and expected in p for p in preview.problems), (
            preview.problems
        )
        with pytest.raises(Exception, match="nothing was stored"):
            import_upload(preview, clerk())
        db.session.rollback()
        assert counts() == before


def test_every_problem_is_listed_at_once(demo) -> None:
    with demo.app_context():
        text = HEADER + "x,2030-01,theft_alerts,3,起\n" + f"{STREET},2030-1,theft_alerts,-1,件\n"
        problems = check_upload("u.csv", text.encode(), clerk()).problems
        assert len(problems) == 3
        assert "row 2" in problems[0] and "row 3" in problems[1] and "row 3" in problems[2]


def test_a_value_already_stored_is_a_duplicate_unless_corrected(demo) -> None:
    with demo.app_context():
        row = db.session.scalars(select(SafetyIndexValue).limit(1)).one()
        code, month, series, unit = row.locality.code, row.month, row.series, row.unit
        text = HEADER + f"{code},{month},{series},{row.value + 1:g},{unit}\n"
        before = counts()
        preview = check_upload("fix.csv", text.encode(), clerk())
        assert "duplicate month" in preview.problems[0] and "already stored" in preview.problems[0]
        assert counts() == before
        preview = check_upload("fix.csv", text.encode(), clerk(), replace=True)
        assert not preview.problems and len(preview.replaced) == 1
        summary = import_upload(preview, clerk())
        assert summary["stored"] == 1
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "safety_index.upload")
            .order_by(AuditEvent.id.desc())
        ).first()  # fmt: skip
        assert event.username == "clerk" and event.target == "fix.csv"
        assert event.detail["corrections"][0]["old"] == row.value


def test_xlsx_upload_with_chinese_headers_is_stored_with_who_and_when(demo) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["街道", "月份", "指标", "数值", "单位"])
    sheet.append(["宁海路街道", "2030-02", "theft_alerts", 7, "起"])
    sheet.append([OTHER, "2030-02", "mediation_success", 99.5, "%"])
    buf = io.BytesIO()
    book.save(buf)
    with demo.app_context():
        preview = check_upload("values.xlsx", buf.getvalue(), clerk())
        assert preview.problems == []
        assert import_upload(preview, clerk())["stored"] == 2
        stored = db.session.scalars(
            select(SafetyIndexValue).where(SafetyIndexValue.month == "2030-02")
        ).all()
        assert {(v.locality.code, v.series, v.value) for v in stored} == {
            (STREET, "theft_alerts", 7.0),
            (OTHER, "mediation_success", 99.5),
        }
        assert all(v.uploaded_by.username == "clerk" and v.upload == "values.xlsx" for v in stored)


def test_a_street_outside_the_uploaders_jurisdiction_is_unknown(demo) -> None:
    with demo.app_context():
        official = db.session.scalar(select(User).where(User.username == "official-street"))
        text = HEADER + f"{OTHER},2030-01,theft_alerts,3,起\n"
        problems = check_upload("u.csv", text.encode(), official).problems
        assert "unknown street '320106002'" in problems[0]


def _zip_without_a_workbook() -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("notes.txt", "not a workbook")
    return buf.getvalue()


@pytest.mark.parametrize(
    "data", [b"street,month\n", _zip_without_a_workbook()], ids=["not-a-zip", "zip-no-sheets"]
)
def test_a_file_that_is_no_workbook_is_refused_naming_it(demo, data) -> None:
    """Refused by the size check (not a zip) or by openpyxl (no workbook in the zip): one
    message naming the file, nothing stored."""
    from surveyapp.services.safety_index import SafetyIndexError

    with demo.app_context():
        before = counts()
        with pytest.raises(SafetyIndexError, match="^values.xlsx: not a readable XLSX workbook"):
            check_upload("values.xlsx", data, clerk())
        assert counts() == before
