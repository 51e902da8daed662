"""The life of a survey in a real browser (Playwright + Debian's chromium), from an empty migrated
database, in Chinese: an admin imports the locality tree with populations (CSV upload) and creates
the accounts; the manager imports the questionnaire through the designer and publishes it,
creates a survey and wave 2027-Q1, assigns the enumerator with the picker and opens the wave; the
enumerator interviews on a tablet-sized screen; the manager reviews, closes and releases the
wave; the official sees nothing before the release (404) and then the district report. Next
quarter the manager publishes questionnaire v2 in the designer's text mode, creates 2027-Q2 on it,
the same tablet's offline app gets v2 without reinstalling and interviews offline on it, and the
released Q2 district report (pdftotext) marks the changed indicator 不可比较."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from surveyapp import create_app
from surveyapp.extensions import db
from surveyapp.services.users import create_user

from .browser import MARKS
from .conftest import PG_URL, _config

pytestmark = [*MARKS, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
QUESTIONNAIRE = ROOT / "questionnaires" / "public-security-satisfaction.yaml"
LOCALITIES = ROOT / "surveyapp" / "data" / "demo-localities.csv"
ADMIN_PASSWORD = "Story-Admin-Pass-2027"
COMMUNITY = "320106001001"


@pytest.fixture(scope="module")
def story_server(migrated_database, tmp_path_factory):
    """An EMPTY migrated database served on a loopback port with CSRF on; only the first admin
    exists (made as `surveyapp users create` makes it: nothing else can make the first one)."""
    from werkzeug.serving import make_server

    if PG_URL:
        pytest.skip("the browser story runs on a SQLite file of its own")
    base = tmp_path_factory.mktemp("story")
    copy = base / "story.sqlite"
    shutil.copy(migrated_database, copy)
    config = {**_config(f"sqlite:///{copy}"), "WTF_CSRF_ENABLED": True}
    import os

    previous = os.environ.get("SURVEYAPP_INSTANCE_PATH")
    os.environ["SURVEYAPP_INSTANCE_PATH"] = str(base / "instance")
    app = create_app(config)
    with app.app_context():
        create_user("root", "admin", ADMIN_PASSWORD, display_name="管理员")
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app, base
    server.shutdown()
    thread.join(5)
    if previous is None:
        os.environ.pop("SURVEYAPP_INSTANCE_PATH", None)
    else:
        os.environ["SURVEYAPP_INSTANCE_PATH"] = previous


def _login(page, base: str, username: str, password: str) -> None:
    page.goto(base + "/auth/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit].primary")


def _first_login(page, base: str, username: str, temporary: str, password: str) -> None:
    """Log in with the temporary password; the product demands a new one first."""
    _login(page, base, username, temporary)
    assert page.url.endswith("/account/password"), page.url
    page.fill("#current", temporary)
    page.fill("#new", password)
    page.fill("#confirm", password)
    page.click("button[type=submit].primary")
    assert "密码已修改" in page.content()


def _create_account(admin, base: str, username: str, name: str, role: str, locality="") -> str:
    admin.goto(base + "/admin/users")
    admin.click("text=新建账号")
    admin.fill("#username", username)
    admin.fill("#display_name", name)
    admin.select_option("#role", role)
    if locality:
        admin.select_option("#locality", locality)
    admin.click("button[type=submit].primary")
    assert admin.locator("h1").inner_text() == "账号已创建", admin.content()[:2000]
    return admin.locator("#temporary-password").inner_text()


def _assign_and_open(manager, survey_url: str, code: str, target: int) -> None:
    """Assign the enumerator to one community with the tree picker, then open the wave."""
    manager.goto(survey_url)
    manager.click(f"#wave-{code} a[href*='/assignments/waves/']")
    manager.locator(f"#locality-tree li[data-code='{COMMUNITY[:9]}'] .picker-toggle").click()
    manager.fill("#locality-search", COMMUNITY)
    manager.locator(f"#locality-tree li[data-code='{COMMUNITY}'] .picker-choose").click()
    manager.select_option("#enumerator", "li")
    manager.fill("input[name=target]", str(target))
    manager.click("#add-assignment button[type=submit]")
    assert "调查员 李" in manager.locator("#assignments").inner_text()
    manager.goto(survey_url)
    manager.click(f"#wave-{code} a[href$='/open']")
    manager.click("button[name=confirm]")
    manager.goto(survey_url)
    assert "进行中" in manager.locator(f"#wave-{code}").inner_text(), manager.content()[:3000]


def _wave_action(manager, survey_url: str, code: str, action: str) -> None:
    manager.goto(survey_url)
    manager.click(f"#wave-{code} a[href$='/{action}']")
    manager.click("button[name=confirm]")
    manager.goto(survey_url)


def _answer_shown(page, scope: str, plan: dict) -> None:
    """Answer what the page shows: from ``plan``, else the first choice (or 5)."""
    for fs in page.locator(f"{scope}fieldset[data-question]:visible").all():
        qid = fs.get_attribute("data-question")
        kind = fs.get_attribute("data-type")
        if qid in plan and kind in ("single", "yesno"):
            page.locator(f'{scope}input[name="{qid}"][value="{plan[qid]}"]').check()
        elif kind in ("single", "yesno", "multiple"):
            if not fs.locator("input:checked").count():
                fs.locator("input").first.check()
        elif kind == "integer":
            fs.locator("input").first.fill("5")


def _plan(security: str) -> dict:
    return {"resident_6m": "yes", "age_16plus": "yes", "security_overall": security}


def _responses(app) -> int:
    from sqlalchemy import func, select

    from surveyapp.models import Response

    with app.app_context():
        count = db.session.scalar(select(func.count(Response.id)))
        db.session.remove()
        return count


def _versions_by_wave(app) -> dict[str, set[int]]:
    """The questionnaire version numbers each wave's interviews were answered with."""
    from sqlalchemy import select

    from surveyapp.models import QuestionnaireVersion, Response, Wave

    with app.app_context():
        rows = db.session.execute(
            select(Wave.code, QuestionnaireVersion.version)
            .join(Response, Response.wave_id == Wave.id)
            .join(
                QuestionnaireVersion, Response.questionnaire_version_id == QuestionnaireVersion.id
            )
        ).all()
        db.session.remove()
    out: dict[str, set[int]] = {}
    for code, version in rows:
        out.setdefault(code, set()).add(version)
    return out


def _wait_for_responses(page, app, n: int) -> None:
    for _ in range(100):
        if _responses(app) >= n:
            break
        page.wait_for_timeout(200)
    assert _responses(app) == n


def _interview_offline(page, security: str) -> None:
    page.click(".start-interview >> nth=0")
    page.click("#start-form button[type=submit]")
    page.wait_for_selector("#interview")
    for _ in range(40):
        if page.locator("#save-interview").count():
            break
        _answer_shown(page, "#screen ", _plan(security))
        page.click("#screen button[value=next]")
    page.click("#save-interview")


def _pdf_text(path: Path) -> str:
    import subprocess

    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_the_whole_story_in_the_browser(story_server, browser, tmp_path):
    base, app, _ = story_server
    desk = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    admin = desk.new_page()
    _login(admin, base, "root", ADMIN_PASSWORD)

    # The admin imports the locality tree with its populations: a preview, then stored.
    admin.goto(base + "/localities/")
    admin.set_input_files("#localities-file", str(LOCALITIES))
    admin.click("#import-localities button[type=submit]")
    summary = admin.locator("#summary").inner_text()
    assert "552" in summary, summary
    admin.click("#confirm")
    assert admin.locator("#localities").count() == 1
    assert "鼓楼区" in admin.content()

    # The accounts: a manager, an enumerator and an official of the district.
    passwords = {}
    for username, name, role, locality in (
        ("wang", "王经理", "manager", "320106"),
        ("li", "调查员 李", "enumerator", ""),
        ("chen", "陈主任", "official", "320106"),
    ):
        passwords[username] = _create_account(admin, base, username, name, role, locality)
    desk.close()

    # The manager: the questionnaire imported through the designer and published.
    office = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    manager = office.new_page()
    _first_login(manager, base, "wang", passwords["wang"], "Wang-Manager-Pass-27")
    manager.goto(base + "/design/")
    manager.set_input_files("form[action$='/design/import'] input[type=file]", str(QUESTIONNAIRE))
    manager.click("form[action$='/design/import'] button[type=submit]")
    manager.wait_for_selector(".status-draft")
    manager.once("dialog", lambda dialog: dialog.accept())
    manager.click("text=发布此版本")
    manager.wait_for_selector(".status-published")
    v1_url = manager.url

    # A survey of the district, and wave 2027-Q1 with its dates on the published version.
    manager.goto(base + "/manage/")
    manager.click("text=新建调查")
    manager.fill("#name", "鼓楼区公众安全感调查 2027")
    manager.select_option("#questionnaire", "public-security-satisfaction@1")
    manager.select_option("#district", "320106")
    manager.check("input[name=modes][value=door]")
    manager.select_option("#owner", "wang")
    manager.click("button[type=submit].primary")
    assert manager.locator("h1").inner_text() == "鼓楼区公众安全感调查 2027", manager.url
    survey_url = manager.url
    manager.click("text=新建轮次")
    manager.fill("#code", "2027-Q1")
    manager.fill("#start", "2027-01-01")
    manager.fill("#end", "2027-03-31")
    manager.click("button[type=submit].primary")
    manager.wait_for_selector("#wave-2027-Q1")
    assert "public-security-satisfaction@1" in manager.locator("#wave-2027-Q1").inner_text()
    _assign_and_open(manager, survey_url, "2027-Q1", target=4)
    survey_id = int(survey_url.rstrip("/").rsplit("/", 1)[1])

    # The official sees nothing of the unreleased wave: no page, no PDF.
    town_hall = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    official = town_hall.new_page()
    _first_login(official, base, "chen", passwords["chen"], "Chen-Official-Pass-27")
    q1 = f"{base}/officials/surveys/{survey_id}/waves/2027-Q1"
    assert official.goto(q1).status == 404
    assert town_hall.request.get(q1 + "/district.pdf").status == 404

    # The enumerator, on a tablet: one interview online, two offline, then synchronised.
    tablet_context = browser.new_context(
        locale="zh-CN", viewport={"width": 800, "height": 1280}, has_touch=True
    )
    tablet = tablet_context.new_page()
    _first_login(tablet, base, "li", passwords["li"], "Li-Enumerator-Pass-27")
    tablet.goto(base + "/collect/")  # the enumerator's home: the offline-first app
    tablet.wait_for_selector("#offline-app[data-ready='1']")
    _interview_offline(tablet, security="2")  # online: sent at once
    _wait_for_responses(tablet, app, 1)
    tablet.wait_for_function("navigator.serviceWorker.ready.then(() => true)")
    tablet.reload()
    tablet.wait_for_function("navigator.serviceWorker.controller !== null", timeout=15000)
    tablet.wait_for_selector("#offline-app[data-ready='1']")
    tablet_context.set_offline(True)
    tablet.reload()
    tablet.wait_for_selector("#offline-app[data-ready='1']")
    for n in (1, 2):
        _interview_offline(tablet, security="1" if n == 1 else "3")
        tablet.wait_for_selector(f"#waiting-count[data-count='{n}']")
    assert _responses(app) == 1  # kept on the tablet
    tablet_context.set_offline(False)
    tablet.wait_for_selector("#waiting-count[data-count='0']", timeout=20000)
    _wait_for_responses(tablet, app, 3)

    # The manager reviews (approves each interview), closes the wave and releases it.
    manager.goto(survey_url)
    manager.click("#wave-2027-Q1 a[href*='/manage/waves/']")
    wave_id = int(manager.url.rstrip("/").rsplit("/", 1)[1])
    manager.goto(f"{base}/review/waves/{wave_id}")
    rows = manager.locator("tr[data-response]")
    assert rows.count() == 3, manager.content()[:3000]
    for rid in [r.get_attribute("data-response") for r in rows.all()]:
        manager.goto(f"{base}/review/responses/{rid}")
        manager.click("button[name=action][value=approve]")
    _wave_action(manager, survey_url, "2027-Q1", "close")
    _wave_action(manager, survey_url, "2027-Q1", "release")
    assert manager.locator("#wave-2027-Q1 .released").count() == 1

    # Released: the official sees the wave and downloads the district and street reports.
    assert official.goto(q1).status == 200
    with official.expect_download() as download:
        official.click("a[href$='/district.pdf']")
    district = tmp_path / "q1-district.pdf"
    download.value.save_as(district)
    text = _pdf_text(district)
    assert "2027-Q1" in text and "未发布" not in text
    street = town_hall.request.get(f"{q1}/streets/{COMMUNITY[:9]}.pdf")
    assert street.status == 200 and street.body().startswith(b"%PDF")

    # Next quarter: version 2 through the designer; 'security' now counts only 1 and 2.
    manager.goto(v1_url)
    manager.click("form[action$='/edit'] button[type=submit]")  # start the next version
    manager.wait_for_selector(".status-draft")
    draft_url = manager.url
    manager.click("a[href$='/text']")
    source = manager.input_value("#source")
    old = "    question: security_overall\n    positive: [1, 2, 3]\n"
    assert source.count(old) == 1
    manager.fill("#source", source.replace(old, old.replace("[1, 2, 3]", "[1, 2]")))
    manager.click("#text-form button[type=submit]")
    manager.goto(draft_url)
    manager.once("dialog", lambda dialog: dialog.accept())
    manager.click("text=发布此版本")
    manager.wait_for_selector(".status-published")
    assert "2" in manager.locator("h1 small").inner_text()

    # Wave 2027-Q2 on the latest published version (the default), assigned and opened.
    manager.goto(survey_url)
    manager.click("text=新建轮次")
    assert manager.input_value("#questionnaire") == "public-security-satisfaction@2"
    manager.fill("#code", "2027-Q2")
    manager.fill("#start", "2027-04-01")
    manager.fill("#end", "2027-06-30")
    manager.click("button[type=submit].primary")
    manager.wait_for_selector("#wave-2027-Q2")
    assert "public-security-satisfaction@2" in manager.locator("#wave-2027-Q2").inner_text()
    _assign_and_open(manager, survey_url, "2027-Q2", target=4)

    # The same tablet, without reinstalling: the app reloads, gets the Q2 assignment with
    # questionnaire v2, and interviews on it offline.
    tablet.reload()
    tablet.wait_for_selector("#offline-app[data-ready='1']")
    assert tablet.locator(".start-interview").count() == 1  # Q1 is closed
    tablet_context.set_offline(True)
    tablet.reload()
    tablet.wait_for_selector("#offline-app[data-ready='1']")
    for n, security in enumerate(("1", "2", "3"), start=1):
        _interview_offline(tablet, security=security)
        tablet.wait_for_selector(f"#waiting-count[data-count='{n}']")
    tablet_context.set_offline(False)
    tablet.wait_for_selector("#waiting-count[data-count='0']", timeout=20000)
    _wait_for_responses(tablet, app, 6)
    assert _versions_by_wave(app) == {"2027-Q1": {1}, "2027-Q2": {2}}

    _wave_action(manager, survey_url, "2027-Q2", "close")
    _wave_action(manager, survey_url, "2027-Q2", "release")
    assert manager.locator("#wave-2027-Q2 .released").count() == 1

    # The Q2 district report compares with Q1 and says the changed indicator is not comparable.
    q2 = f"{base}/officials/surveys/{survey_id}/waves/2027-Q2"
    assert official.goto(q2).status == 200
    with official.expect_download() as download:
        official.click("a[href$='/district.pdf']")
    district = tmp_path / "q2-district.pdf"
    download.value.save_as(district)
    text = _pdf_text(district)
    assert "2027-Q2" in text and "2027-Q1" in text
    assert "不可比较" in text, text[:3000]
    office.close()
    town_hall.close()
    tablet_context.close()
