"""A real browser (CSRF on): an admin creates an account in 账号管理, the new user logs in with
the temporary password, must change it, and logging out ends a copied session."""

from __future__ import annotations

import pytest

from ..browser import MARKS, log_in

pytestmark = [*MARKS, pytest.mark.slow]


def test_admin_creates_an_account_that_changes_its_password(live_server, browser):
    admin = browser.new_context().new_page()
    log_in(admin, live_server, "admin")
    admin.click("text=账号管理")
    admin.click("text=新建账号")
    admin.fill("#username", "zhou")
    admin.fill("#display_name", "调查员 周敏")
    admin.select_option("#role", "enumerator")
    admin.click("button[type=submit].primary")
    assert admin.locator("h1").inner_text() == "账号已创建"
    temporary = admin.locator("#temporary-password").inner_text()

    context = browser.new_context(viewport={"width": 768, "height": 1024}, has_touch=True)
    tablet = context.new_page()
    log_in(tablet, live_server, "zhou", temporary)
    assert tablet.url.endswith("/account/password")
    assert "管理员重置" in tablet.content()
    tablet.goto(live_server + "/collect/")
    assert tablet.url.endswith("/account/password")  # nothing else opens
    tablet.fill("#current", temporary)
    tablet.fill("#new", "password123")
    tablet.fill("#confirm", "password123")
    tablet.click("button[type=submit].primary")
    assert "常用" in tablet.locator(".error-text").inner_text()
    tablet.fill("#current", temporary)
    tablet.fill("#new", "Plum-Blossom-Street-8")
    tablet.fill("#confirm", "Plum-Blossom-Street-8")
    tablet.click("button[type=submit].primary")
    assert "密码已修改" in tablet.content()
    assert not tablet.url.endswith("/account/password")

    # A copy of the tablet's cookie stops working when the tablet logs out.
    thief = browser.new_context()
    thief.add_cookies(context.cookies())
    copied = thief.new_page()
    assert copied.goto(live_server + "/api/v1/me").status == 200
    tablet.click("text=退出")
    assert copied.goto(live_server + "/api/v1/me").status == 401

    # The admin disables the account: the next login is refused as disabled.
    admin.goto(live_server + "/admin/users")
    admin.click("text=zhou")
    admin.click("button:has-text('停用')")
    assert "已停用" in admin.content()
    log_in(tablet, live_server, "zhou", "Plum-Blossom-Street-8")
    assert "此账号已停用" in tablet.content()
