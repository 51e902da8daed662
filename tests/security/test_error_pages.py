"""Bad numbers are the user's error, and every error page renders (issue 14, item 8)."""

from __future__ import annotations

from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Wave


def test_an_oversized_integer_is_a_400_in_chinese(demo, client, auth):
    """target=99999999999999999999 gave a 500 whose error page failed again
    (PendingRollbackError)."""
    auth.login("manager", "manager-demo-2026")
    with demo.app_context():
        wave = db.session.scalar(select(Wave).where(Wave.is_open.is_(True)).order_by(Wave.id))
        street = wave.survey.district.children[0].code
    for target in ("99999999999999999999", str(2**63)):
        response = client.post(
            f"/cati/waves/{wave.id}/quota", data={"street": street, "target": target}
        )
        assert response.status_code == 400, response.status_code
        assert "数字过大" in response.get_data(as_text=True)
    # The session is usable afterwards: the next request works.
    assert client.get(f"/cati/waves/{wave.id}").status_code == 200


def test_the_error_page_renders_after_a_failed_statement(demo, client, auth):
    """An unexpected database failure leaves the session unusable; the 500 page renders."""
    from sqlalchemy import text

    @demo.route("/boom")
    def boom():
        db.session.execute(text("SELECT * FROM no_such_table"))

    auth.login("manager", "manager-demo-2026")
    response = client.get("/boom")
    assert response.status_code == 500
    assert "<html" in response.get_data(as_text=True).lower()


def _bad_xlsform(rows: int) -> bytes:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "survey"
    sheet.append(["type", "name", "label::简体中文 (zh)"])
    for i in range(rows):
        sheet.append(["integer", f"q{i}", f"问题 {i}", "x" * 50])
        sheet.append(["select_one missing_list", f"s{i}", f"问题 {i}"])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_an_import_with_thousands_of_problems_shows_the_first(demo, client, auth):
    """The XLSForm import flashed every problem (21 KB of cookie at 5,000 bad rows)."""
    import io

    auth.login("manager", "manager-demo-2026")
    response = client.post(
        "/design/import",
        data={"file": (io.BytesIO(_bad_xlsform(2500)), "bad.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    cookies = response.headers.getlist("Set-Cookie")
    assert sum(len(c) for c in cookies) < 4096, [len(c) for c in cookies]
    assert len(page) < 60_000
    assert "bad.xlsx" in page
