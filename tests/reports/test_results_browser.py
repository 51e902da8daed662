"""An official in a real browser (Debian's chromium): the wave's results on screen, a street's
page from the map, and the same numbers as the PDFs read back with pdftotext."""

from __future__ import annotations

import re

import pytest

from ..browser import log_in
from .conftest import pdftotext

BASE = "/officials/surveys/1/waves/2026-Q4"


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.slow
def test_an_official_reads_the_results_on_screen(live_server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, live_server, "official")
    page.goto(live_server + BASE)
    page.click("#results-link")
    page.wait_for_selector("#league-table")
    rows = page.locator("#league-table tr[data-street]")
    assert rows.count() == 14
    district = pdftotext(page.request.get(live_server + BASE + "/district.pdf").body())
    for i in range(rows.count()):
        cells = [c.strip() for c in rows.nth(i).locator("td").all_inner_texts()]
        figures = [c for c in cells[:6] if c]
        assert _squash(" ".join(figures)) in _squash(district), figures
    # The map: every street drawn, coloured, with its value in a tooltip; a click opens it.
    paths = page.locator("#map svg path")
    assert paths.count() == 13
    assert page.locator("#map svg").is_visible()
    target = page.locator('#map svg path[data-street="320106007"]')
    value = target.get_attribute("data-value")
    target.click()
    page.wait_for_selector("table.indicators")
    assert "凤凰街道" in page.locator("h1").inner_text()
    street = pdftotext(page.request.get(live_server + BASE + "/streets/320106007.pdf").body())
    for row in page.locator("tr[data-indicator]").all():
        figures = [c.strip() for c in row.locator("td").all_inner_texts()[1:] if c.strip()]
        assert _squash(" ".join(figures)) in _squash(street), figures
    assert value and value.rstrip("%") in street
    assert errors == []
    context.close()
