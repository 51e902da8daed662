"""Uploaded questionnaires are bounded by what they hold (issue 14, item 3).

The attack files of the review: a small YAML of nested aliases (one question aliased 300 times
in a group aliased 300 times), an XLSForm whose sheets declare ``A1:AMJ1048576`` (as LibreOffice
writes), a zip bomb and a cell at row 1,048,576. Each is answered in bounded time with a message
naming what is wrong; the attacks took 34 s, hung, or killed workers before.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path

import pytest

from surveyapp.questionnaire import QuestionnaireError, load_questionnaire_text, validate_text
from surveyapp.questionnaire.untrusted import (
    BudgetExceeded,
    time_budget,
)
from surveyapp.questionnaire.xlsform import xlsform_to_document

ROOT = Path(__file__).resolve().parents[2]
XLSFORM = ROOT / "tests" / "design" / "data" / "odk_community_safety.xlsx"


def alias_bomb(width: int = 300) -> str:
    """One question aliased ``width`` times in a group aliased ``width`` times (4.5 KB)."""
    lines = [
        "id: bomb",
        "version: 1",
        "title: {zh_CN: 炸弹, en: Bomb}",
        "languages: [zh_CN, en]",
        "question: &q {id: q, type: text, label: {zh_CN: 问, en: Q}}",
        "group: &g",
        "  id: g",
        "  title: {zh_CN: 组, en: G}",
        "  questions: [" + ", ".join(["*q"] * width) + "]",
        "groups: [" + ", ".join(["*g"] * width) + "]",
    ]
    return "\n".join(lines) + "\n"


def test_yaml_aliases_are_refused_with_the_line():
    started = time.monotonic()
    problems = validate_text(alias_bomb(), source="bomb.yaml")
    assert time.monotonic() - started < 2
    assert len(problems) == 1
    assert problems[0].line == 5 and "anchors and aliases" in problems[0].message
    assert str(problems[0]).startswith("bomb.yaml:5")
    with pytest.raises(QuestionnaireError):
        load_questionnaire_text(alias_bomb(3), source="small.yaml")


def test_the_designer_check_answers_the_alias_bomb_quickly(demo, client, auth):
    auth.login("manager", "manager-demo-2026")
    response = client.post(
        "/design/new", data={"slug": "bomb", "title_zh": "炸弹", "title_en": "Bomb"}
    )
    version_id = int(re.search(r"/design/v/(\d+)", response.headers["Location"]).group(1))
    started = time.monotonic()
    response = client.post(f"/design/v/{version_id}/check", data={"source": alias_bomb()})
    assert time.monotonic() - started < 5
    assert response.status_code == 200
    (problem,) = response.get_json()["problems"]
    assert "bomb.yaml:5" in problem and "aliases" in problem


def _patched(data: bytes, change) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for member in source.infolist():
            content = source.read(member)
            if member.filename.startswith("xl/worksheets/sheet"):
                content = change(content)
            target.writestr(member, content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _huge_dimension(content: bytes) -> bytes:
    """What LibreOffice writes: the whole sheet declared, a styled empty row at the bottom."""
    content = re.sub(rb'<dimension ref="[^"]*" ?/>', b'<dimension ref="A1:AMJ1048576"/>', content)
    return content.replace(
        b"</sheetData>",
        b'<row r="1048576" s="1" customFormat="1"><c r="A1048576" s="1"/></row></sheetData>',
    )


def test_a_declared_huge_sheet_is_read_by_its_real_rows():
    data = _patched(XLSFORM.read_bytes(), _huge_dimension)
    started = time.monotonic()
    result = xlsform_to_document(data, "libreoffice.xlsx")
    assert time.monotonic() - started < 10
    reference = xlsform_to_document(XLSFORM.read_bytes(), "libreoffice.xlsx")
    assert result.problems == reference.problems
    assert result.text == reference.text and result.text


def test_the_designer_imports_the_libreoffice_workbook(demo, client, auth):
    auth.login("manager", "manager-demo-2026")
    data = _patched(XLSFORM.read_bytes(), _huge_dimension)
    started = time.monotonic()
    response = client.post(
        "/design/import",
        data={"file": (io.BytesIO(data), "libreoffice.xlsx")},
        content_type="multipart/form-data",
    )
    assert time.monotonic() - started < 15
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def test_a_zip_bomb_is_refused():
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target:
        target.writestr("[Content_Types].xml", "<Types/>")
        target.writestr("xl/worksheets/sheet1.xml", b"<worksheet>" + b" " * (80 * 2**20))
    assert len(bomb.getvalue()) < 200_000
    result = xlsform_to_document(bomb.getvalue(), "bomb.xlsx")
    (problem,) = result.problems
    assert "too large" in problem.message and "MB" in problem.message


def test_a_cell_far_down_is_refused():
    def far(content: bytes) -> bytes:
        return content.replace(
            b"</sheetData>",
            b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
            b"</sheetData>",
        )

    result = xlsform_to_document(_patched(XLSFORM.read_bytes(), far), "far.xlsx")
    (problem,) = result.problems
    assert "row 1048576" in problem.message and problem.file == "far.xlsx"


def test_time_budget_stops_work_in_the_main_thread():
    started = time.monotonic()
    with pytest.raises(BudgetExceeded), time_budget(0.2):
        while True:
            sum(range(1000))
    assert time.monotonic() - started < 2


def test_data_tables_are_read_by_their_real_rows(tmp_path):
    """The localities and safety-index uploads go through the same bounds."""
    import openpyxl

    from surveyapp.services.localities import _xlsx_text

    book = openpyxl.Workbook()
    book.active.append(["code", "parent_code", "level", "name_zh"])
    book.active.append(["32", "", "province", "江苏省"])
    buf = io.BytesIO()
    book.save(buf)
    data = _patched(buf.getvalue(), _huge_dimension)
    started = time.monotonic()
    text = _xlsx_text("localities.xlsx", data)
    assert time.monotonic() - started < 5
    assert text.splitlines()[1].startswith("32,,province,江苏省")
