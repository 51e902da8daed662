"""The administrators' locality pages: import (CSV or XLSX) previewed with every problem by row
before anything is stored, then confirmed; editing names and populations; the command uses
the same service."""

from __future__ import annotations

import io
import re

import openpyxl
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import Locality, LocalityPopulation

ADMIN = ("admin", "admin-demo-2026")


def login(client, username, password):
    client.post("/auth/logout")
    response = client.post("/auth/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def _count() -> int:
    return db.session.scalar(select(func.count(Locality.id)))


def _district(app) -> str:
    with app.app_context():
        return db.session.scalar(select(Locality.code).where(Locality.level == "district"))


def _upload(client, name: str, data: bytes):
    return client.post(
        "/localities/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _xlsx(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_problems_by_row_nothing_stored(demo, client):
    login(client, *ADMIN)
    district = _district(demo)
    with demo.app_context():
        before = _count()
    text = (
        "code,parent_code,level,name_zh,population\n"
        f"S1,{district},street,新街道,1000\n"  # row 2: fine
        f"S2,{district},town,错层级,10\n"  # row 3: unknown level
        "S3,NOPE,street,无上级,10\n"  # row 4: unknown parent
        f"S4,{district},street,,10\n"  # row 5: no name
        f"S5,{district},street,负数,-4\n"  # row 6: negative population
    )
    page = _upload(client, "tree.csv", text.encode())
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    for row, word in [(3, "town"), (4, "NOPE"), (5, "name_zh"), (6, "-4")]:
        # In the interface language (Chinese by default), naming the row.
        line = re.search(rf"<li>第 {row} 行：([^<]*)</li>", html)
        assert line is not None and word in line.group(1), (row, html[-2000:])
    assert "第 2 行" not in html and 'id="confirm-import"' not in html
    with demo.app_context():
        assert _count() == before


def test_xlsx_preview_then_confirm_and_update(demo, client):
    login(client, *ADMIN)
    district = _district(demo)
    with demo.app_context():
        before = _count()
    data = _xlsx(
        [
            ["code", "parent_code", "level", "name_zh", "name_en", "population", "pop_f_16_24"],
            ["X1", district, "street", "新建街道", "New Street", 5000, 300],
            ["X101", "X1", "community", "新建社区", None, 2000, None],
        ]
    )
    page = _upload(client, "tree.xlsx", data)
    assert page.status_code == 200, page.get_data(as_text=True)[-1500:]
    html = page.get_data(as_text=True)
    assert re.search(r'id="summary">[^<]*2[^<]*0[^<]*0', html)
    with demo.app_context():
        assert _count() == before  # the preview stored nothing
    text = re.search(r'<textarea name="text" hidden>(.*?)</textarea>', html, re.S).group(1)
    done = client.post("/localities/import/confirm", data={"text": text})
    assert done.status_code == 303
    with demo.app_context():
        assert _count() == before + 2
        street = db.session.scalar(select(Locality).where(Locality.code == "X1"))
        assert street.population == 5000 and street.name_en == "New Street"
        assert street.parent.code == district
        pop = db.session.scalar(
            select(LocalityPopulation).where(LocalityPopulation.locality_id == street.id)
        )
        assert (pop.sex, pop.age_group, pop.count) == ("f", "16_24", 300)
        assert db.session.scalar(select(Locality).where(Locality.code == "X101")).parent_id == (
            street.id
        )
    # The same file again, with one population changed: an update, no duplicates.
    data = _xlsx(
        [
            ["code", "parent_code", "level", "name_zh", "population"],
            ["X1", district, "street", "新建街道", 5100],
        ]
    )
    html = _upload(client, "tree.xlsx", data).get_data(as_text=True)
    assert re.search(r'id="summary">[^<]*0[^<]*1[^<]*0', html)
    text = re.search(r'<textarea name="text" hidden>(.*?)</textarea>', html, re.S).group(1)
    assert client.post("/localities/import/confirm", data={"text": text}).status_code == 303
    with demo.app_context():
        assert _count() == before + 2
        assert db.session.scalar(select(Locality.population).where(Locality.code == "X1")) == 5100


def test_bad_files_are_400(demo, client):
    login(client, *ADMIN)
    assert _upload(client, "tree.xlsx", b"PK\x03\x04 not a workbook").status_code == 400
    page = _upload(client, "tree.csv", "code,level\n\xff".encode("latin-1"))
    assert page.status_code == 400 and "UTF-8" in page.get_data(as_text=True)
    assert client.post("/localities/import").status_code == 400
    bad = client.post("/localities/import/confirm", data={"text": "code\n"})
    assert bad.status_code == 400


def test_edit_names_and_population(demo, client):
    login(client, *ADMIN)
    with demo.app_context():
        street = db.session.scalar(select(Locality).where(Locality.level == "street"))
        sid, name = street.id, street.name_zh
    bad = client.post(f"/localities/{sid}", data={"name_zh": "", "population": "12"})
    assert bad.status_code == 400 and "name_zh：中文名称必填" in bad.get_data(as_text=True)
    bad = client.post(f"/localities/{sid}", data={"name_zh": name, "population": "many"})
    assert bad.status_code == 400 and "many" in bad.get_data(as_text=True)
    with demo.app_context():
        assert db.session.get(Locality, sid).name_zh == name
    ok = client.post(
        f"/localities/{sid}", data={"name_zh": name + "（新）", "name_en": "N", "population": "777"}
    )
    assert ok.status_code == 303
    with demo.app_context():
        found = db.session.get(Locality, sid)
        assert found.name_zh == name + "（新）" and found.population == 777
    assert client.get("/localities/").status_code == 200
    # Managers and enumerators may not.
    login(client, "manager", "manager-demo-2026")
    assert client.get("/localities/").status_code == 403


def test_command_keeps_working(demo, runner, tmp_path):
    district = _district(demo)
    good = tmp_path / "tree.csv"
    good.write_text(
        f"code,parent_code,level,name_zh,population\nC1,{district},street,命令街道,42\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["localities", "import", str(good)])
    assert result.exit_code == 0 and "新建 1 个" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("code,parent_code,level,name_zh\nC2,NOPE,street,x\n", encoding="utf-8")
    result = runner.invoke(args=["localities", "import", str(bad)])
    assert result.exit_code == 1 and "NOPE" in result.output
