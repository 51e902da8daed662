"""The assignment page in a real browser (Debian's chromium): the searchable locality tree
chooses a community, the bulk upload shows every problem by row, then a good file is confirmed."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Assignment, Wave

from ..browser import log_in
from .test_offline_browser import context, pytestmark  # noqa: F401


def test_picker_and_bulk_upload(live_server, context, demo, tmp_path):  # noqa: F811
    with demo.app_context():
        wave = db.session.scalar(select(Wave).where(Wave.code == "2026-Q4"))
        wave_id = wave.id
        street = sorted(
            (c for c in wave.survey.district.children if c.level == "street"),
            key=lambda s: s.code,
        )[1]
        community = street.children[0]
        target_code, target_name = community.code, community.name_zh
        other = street.children[1].code
        street_code = street.code
    page = context.new_page()
    log_in(page, live_server, "manager")
    page.goto(f"{live_server}/assignments/waves/{wave_id}")

    # The picker replaces the select: the tree shows the streets, not yet the communities.
    picker = page.locator("#locality-picker")
    expect(picker).to_be_visible()
    assert not page.locator("select#locality").is_visible()
    expect(page.locator(f"#locality-tree li[data-code='{street_code}']")).to_be_visible()
    assert page.locator(f"#locality-tree li[data-code='{target_code}']").count() == 0
    # Opening the street shows its communities; searching narrows the tree to matches.
    page.locator(f"#locality-tree li[data-code='{street_code}'] .picker-toggle").click()
    expect(page.locator(f"#locality-tree li[data-code='{target_code}']")).to_be_visible()
    page.fill("#locality-search", target_name)
    expect(page.locator(f"#locality-tree li[data-code='{target_code}']")).to_be_visible()
    assert page.locator(f"#locality-tree li[data-code='{other}']").count() == 0
    page.fill("#locality-search", "没有这个地方")
    expect(page.locator("#locality-picker p.hint")).to_be_visible()
    page.fill("#locality-search", target_code)
    page.locator(f"#locality-tree li[data-code='{target_code}'] .picker-choose").click()
    expect(page.locator("#locality-chosen")).to_contain_text(target_code)
    assert page.eval_on_selector("select#locality", "s => s.value") == target_code

    page.select_option("#enumerator", "field05")
    page.fill("input[name=target]", "33")
    page.click("#add-assignment button[type=submit]")
    expect(page.locator("#assignments")).to_contain_text("field05")
    with demo.app_context():
        made = db.session.scalar(
            select(Assignment).where(
                Assignment.wave_id == wave_id, Assignment.locality.has(code=target_code)
            )
        )
        assert made is not None and made.target == 33 and made.enumerator.username == "field05"

    # A bad file: every problem by row, nothing stored, no confirm button.
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"enumerator,locality,mode,target\nghost,{other},door,5\nfield06,{other},door,five\n",
        encoding="utf-8",
    )
    page.set_input_files("#assignments-file", str(bad))
    page.click("#upload-assignments button[type=submit]")
    problems = page.locator("#problems li")
    expect(problems).to_have_count(2)
    expect(problems.nth(0)).to_contain_text("第 2 行")
    expect(problems.nth(1)).to_contain_text("第 3 行")
    assert page.locator("#confirm-upload").count() == 0

    # A good file: previewed, then stored on confirmation.
    page.goto(f"{live_server}/assignments/waves/{wave_id}")
    good = tmp_path / "good.csv"
    good.write_text(f"enumerator,locality,mode,target\nfield06,{other},door,12\n", encoding="utf-8")
    page.set_input_files("#assignments-file", str(good))
    page.click("#upload-assignments button[type=submit]")
    expect(page.locator("#preview")).to_contain_text("field06")
    with demo.app_context():
        assert (
            db.session.scalar(
                select(Assignment).where(
                    Assignment.wave_id == wave_id, Assignment.locality.has(code=other)
                )
            )
            is None
        )
    page.click("#confirm")
    expect(page.locator("#assignments")).to_contain_text("field06")
    with demo.app_context():
        stored = db.session.scalar(
            select(Assignment).where(
                Assignment.wave_id == wave_id, Assignment.locality.has(code=other)
            )
        )
        assert stored is not None and stored.target == 12
