"""A district official opens 平安指数 from the menu, changes the month and opens a street (real
browser: Playwright driving Debian's chromium)."""

from __future__ import annotations

from ..browser import MARKS, log_in

pytestmark = MARKS


def test_official_reads_the_league_table_and_a_street(live_server, browser) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, live_server, "official")
    page.click("nav >> text=平安指数")
    assert page.locator("#league tbody tr").count() == 13
    months = page.locator("select[name=month] option").all_inner_texts()
    assert len(months) >= 12
    page.select_option("select[name=month]", months[1])  # the month before
    page.click("form.month-choice button")
    page.wait_for_url(f"**month={months[1]}")
    assert months[1] in page.locator("h1").inner_text()
    first = page.locator("#league tbody tr").first
    name = first.locator("td a").inner_text()
    first.locator("td a").click()
    assert name in page.locator("h1").inner_text()
    assert "得分构成" in page.content()
    page.close()
