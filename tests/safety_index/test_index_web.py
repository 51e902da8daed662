"""The safety index on screen: jurisdictions, exports, the upload and the definition editor."""

from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models.safety_index import SafetyIndexDefinition, SafetyIndexValue

DISTRICT, OWN, OTHER = "320106", "320106001", "320106002"
PASSWORDS = {
    "official": "official-demo-2026",
    "official-street": "official-demo-2026",
    "clerk": "clerk-demo-2026",
    "manager": "manager-demo-2026",
    "enumerator": "enumerator-demo-2026",
    "admin": "admin-demo-2026",
}


def login(client, username: str) -> None:
    response = client.post(
        "/auth/login", data={"username": username, "password": PASSWORDS[username]}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def street_rows(html: str) -> list[str]:
    return re.findall(r'<tr data-street="(\d+)"', html)


def test_district_official_sees_every_street(demo) -> None:
    client = demo.test_client()
    login(client, "official")
    response = client.get("/safety-index/")
    assert response.status_code == 302 and response.location.endswith(f"/safety-index/{DISTRICT}")
    html = client.get(f"/safety-index/{DISTRICT}").get_data(as_text=True)
    assert len(street_rows(html)) == 13
    assert client.get(f"/safety-index/{DISTRICT}/street/{OTHER}").status_code == 200
    pdf = client.get(f"/safety-index/{DISTRICT}/bulletin.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get(f"/safety-index/{DISTRICT}?month=2026-13").status_code == 400
    assert client.get(f"/safety-index/{DISTRICT}?month=1990-01").status_code == 404
    assert client.get("/safety-index/999999").status_code == 404


def test_street_official_sees_only_their_street(demo) -> None:
    client = demo.test_client()
    login(client, "official-street")
    response = client.get("/safety-index/")
    assert response.status_code == 302
    assert response.location.endswith(f"/safety-index/{DISTRICT}/street/{OWN}")
    assert client.get(f"/safety-index/{DISTRICT}/street/{OWN}").status_code == 200
    assert client.get(f"/safety-index/{DISTRICT}/street/{OTHER}").status_code == 404
    assert client.get(f"/safety-index/{DISTRICT}/street/{OTHER}.pdf").status_code == 404
    assert client.get(f"/safety-index/{DISTRICT}").status_code == 403
    assert client.get(f"/safety-index/{DISTRICT}/bulletin.pdf").status_code == 403
    own_pdf = client.get(f"/safety-index/{DISTRICT}/street/{OWN}.pdf")
    assert own_pdf.status_code == 200 and own_pdf.data.startswith(b"%PDF")
    rows = list(csv.DictReader(io.StringIO(
        client.get(f"/safety-index/{DISTRICT}/export.csv").data.decode("utf-8-sig"))))  # fmt: skip
    assert rows and {r["street_code"] for r in rows} == {OWN}


def test_enumerators_see_nothing(demo) -> None:
    client = demo.test_client()
    login(client, "enumerator")
    for url in ("/safety-index/", f"/safety-index/{DISTRICT}", "/safety-index/upload"):
        assert client.get(url).status_code == 403


def test_exports_match_the_computation(demo) -> None:
    client = demo.test_client()
    login(client, "official")
    runner = demo.test_cli_runner()
    import json

    out = json.loads(runner.invoke(args=["index", "compute", "--district", DISTRICT,
                                         "--format", "json"]).output)  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(
        client.get(f"/safety-index/{DISTRICT}/export.csv").data.decode("utf-8-sig"))))  # fmt: skip
    assert len(rows) == 13 * 24
    first = out["streets"][0]
    mine = [r for r in rows if r["street_code"] == first["code"]]
    assert abs(float(mine[0]["index"]) - first["index"]) < 0.006
    assert int(mine[0]["rank_low"]) == first["rank_low"]
    book = load_workbook(io.BytesIO(client.get(f"/safety-index/{DISTRICT}/export.xlsx").data))
    sheet = book.worksheets[0]
    assert sheet.max_row == 13 * 24 + 1
    assert client.get(f"/safety-index/{DISTRICT}/export.pdf").status_code == 404


def test_upload_preview_refuses_and_stores_nothing_then_stores(demo) -> None:
    client = demo.test_client()
    login(client, "clerk")
    page = client.get("/safety-index/upload")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # the demo leaves out one street's fire count of the last month: 12 of 13
    assert re.search(
        r"<code>fire_accidents</code></td><td><span translate=\"no\">起</span></td>"
        r"<td class=\"num\">12 / 13",
        html,
    )
    with demo.app_context():
        before = db.session.scalar(select(func.count(SafetyIndexValue.id)))
    bad = "street,month,series,value,unit\n320106001,2031-03,theft_alerts,3,件\n"
    response = client.post(
        "/safety-index/upload",
        data={"action": "preview", "file": (io.BytesIO(bad.encode()), "bad.csv")},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    # worded in the interface language (Chinese here); the command line keeps English
    assert response.status_code == 422
    assert "bad.csv：第2行：单位“件”与指标 theft_alerts 的单位“起”不符" in html
    good = "street,month,series,value,unit\n320106001,2031-03,theft_alerts,3,起\n"
    response = client.post(
        "/safety-index/upload",
        data={"action": "preview", "file": (io.BytesIO(good.encode()), "good.csv")},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'name="payload"' in html
    with demo.app_context():
        assert db.session.scalar(select(func.count(SafetyIndexValue.id))) == before
    payload = re.search(r'name="payload" value="([^"]+)"', html).group(1)
    response = client.post(
        "/safety-index/upload",
        data={"action": "store", "filename": "good.csv", "payload": payload},
    )
    assert response.status_code == 302
    with demo.app_context():
        assert db.session.scalar(select(func.count(SafetyIndexValue.id))) == before + 1
    response = client.post("/safety-index/upload", data={"action": "store", "payload": "!!"})
    assert response.status_code == 400


def test_definition_editor(demo) -> None:
    client = demo.test_client()
    login(client, "clerk")
    assert client.get("/safety-index/definition").status_code == 403
    client = demo.test_client()
    login(client, "manager")
    html = client.get("/safety-index/definition").get_data(as_text=True)
    assert "id: safety-index" in html
    with demo.app_context():
        text = db.session.scalars(select(SafetyIndexDefinition)).first().source_text
    broken = text.replace("    weight: 30\n", "    weight: 20\n")
    response = client.post("/safety-index/definition", data={"text": broken, "action": "save"})
    assert response.status_code == 422 and "definition:" in response.get_data(as_text=True)
    changed = text.replace("version: 1", "version: 2")
    changed = changed.replace("effective_from: 2025-01", "effective_from: 2031-01")
    changed = changed.replace("target: 0.9, caps: [0.8, 1.0]}\n        weight: 2",
                              "target: 0.92, caps: [0.8, 1.0]}\n        weight: 2")  # fmt: skip
    response = client.post("/safety-index/definition", data={"text": changed, "action": "check"})
    assert response.status_code == 200 and "群众安全感" in response.get_data(as_text=True)
    response = client.post("/safety-index/definition", data={"text": changed, "action": "save"})
    assert response.status_code == 302
    with demo.app_context():
        versions = db.session.scalars(select(SafetyIndexDefinition.version)).all()
        assert sorted(versions) == [1, 2]
