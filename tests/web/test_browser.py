"""A real browser (Playwright driving Debian's chromium): the interview page fits the tablet.

The interview itself, skip logic included, runs in the offline app: tests/fieldwork/test_offline_*.
"""

from __future__ import annotations

import pytest

from ..browser import MARKS, log_in

pytestmark = MARKS


@pytest.mark.parametrize(
    "viewport",
    [{"width": 768, "height": 1024}, {"width": 1280, "height": 800}],
    ids=["portrait", "landscape"],
)
def test_interview_page_fits_the_tablet(live_server, browser, viewport):
    """No sideways scrolling, readable type and 44 px touch targets in both orientations."""
    page = browser.new_page(viewport=viewport, has_touch=True)
    log_in(page, live_server)
    page.click("text=开始访问 >> nth=0")
    page.click("button.primary")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= viewport["width"]
    for label in page.locator("label.choice").all():
        box = label.bounding_box()
        assert box["height"] >= 44
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
    for button in page.locator("button:visible").all():
        assert button.bounding_box()["height"] >= 44, button.inner_text()
    size = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('fieldset[data-question] legend, "
        "fieldset[data-question] .question-text') || document.body).fontSize)"
    )
    assert size >= 16
