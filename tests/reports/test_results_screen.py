"""Results on screen: the officials' league table, street page and map show the numbers the
PDFs print (read back with pdftotext), for the reader's jurisdiction only."""

from __future__ import annotations

import re
from html import unescape

import pytest

from .conftest import pdf_tokens, pdftotext

BASE = "/officials/surveys/1/waves/2026-Q4"


def _rows(html: str, table_id: str) -> dict[str, list[str]]:
    """data-street (or data-indicator) -> the texts of the row's cells."""
    body = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    rows = {}
    for key, row in re.findall(r'<tr data-[a-z]+="([^"]+)">(.*?)</tr>', body, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        rows[key] = [unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells]
    return rows


def _squash(text: str) -> str:
    """Without white space: the PDF wraps long cells (a street's name) inside their column."""
    return re.sub(r"\s+", "", text)


@pytest.fixture
def official(demo, client, auth):
    auth.login("official", "official-demo-2026")
    return client


def test_league_table_on_screen_equals_the_district_pdf(official):
    page = official.get(f"{BASE}/results")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    rows = _rows(html, "league-table")
    assert len(rows) == 14  # 13 streets and the district
    pdf = _squash(pdftotext(official.get(f"{BASE}/district.pdf").data))
    for code, cells in rows.items():
        place, name, n, value, ci, ranks = cells[:6]
        if code == "ALL":
            name, n, value, ci = cells[1:5]
            ranks = ""
        # The same street, n, value, interval and plausible ranks on one line of the PDF.
        line = " ".join(x for x in (place, name, n, value, ci, ranks) if x)
        assert _squash(line) in pdf, line
    # The map: one outline per street, coloured, each linked to the street's page.
    assert html.count("<path ") == 13
    assert html.count(f'href="{BASE}/results/streets/') >= 13


def test_street_page_on_screen_equals_the_street_pdf(official):
    html = official.get(f"{BASE}/results/streets/320106007").get_data(as_text=True)
    pdf = _squash(pdftotext(official.get(f"{BASE}/streets/320106007.pdf").data))
    rows = _rows(html, "communities") if 'id="communities"' in html else {}
    indicators = re.findall(r'<tr data-indicator="[^"]+">(.*?)</tr>', html, re.S)
    assert len(indicators) >= 5
    for row in indicators:
        cells = [
            unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        label, *figures = cells
        line = " ".join(f for f in figures if f)
        assert _squash(line) in pdf, (label, line)
    # The community table's columns come out of pdftotext in column order: every figure of
    # the screen's communities is among the PDF's figures.
    tokens = set(pdf_tokens(official.get(f"{BASE}/streets/320106007.pdf").data))
    for code, (name, *figures) in rows.items():
        assert _squash(name) in pdf, code
        assert set(figures) <= tokens | {"—"}, (code, figures)


def test_another_indicator_and_bad_input(official):
    html = official.get(f"{BASE}/results?indicator=law_enforcement_satisfaction").get_data(
        as_text=True
    )
    assert 'value="law_enforcement_satisfaction" selected' in html
    bad = official.get(f"{BASE}/results?indicator=nope")
    assert bad.status_code == 400 and "nope" in bad.get_data(as_text=True)
    assert official.get(f"{BASE}/results/streets/999999999").status_code == 404


def test_a_street_official_sees_only_their_street(demo, client, auth):
    auth.login("official-street", "official-demo-2026")
    html = client.get(f"{BASE}/results").get_data(as_text=True)
    rows = _rows(html, "league-table")
    assert set(rows) == {"320106001", "ALL"}
    assert html.count("<path ") == 1
    assert client.get(f"{BASE}/results/streets/320106002").status_code == 403
