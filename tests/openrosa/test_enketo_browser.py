"""Enketo, a real OpenRosa client, against the server in Debian's chromium.

The browser authenticates with the enumerator's app password (chromium answers the server's
challenge itself), downloads the form list and the XForm, transforms it with
``enketo-transformer`` (its web build: Enketo's XSL stylesheets run by the browser's
XSLTProcessor; its Node build needs the native ``libxslt`` module, which does not build for
Node 20), renders it with ``enketo-core``, fills in an interview, and posts Enketo's own instance
to ``/submission``. The stored response must equal the same interview sent through the sync
API; a resend is accepted once and a changed resend refused. A household roster too: Enketo
makes the counted instances itself (``jr:count``), its "+" button adds an instance of the open
repeat, and the stored response equals the sync API's.

The npm packages are in ``tests/enketo`` (``make test`` runs ``npm ci`` there); esbuild bundles
them once per test session.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Assignment, User, Wave

from ..browser import MARKS
from ..fieldwork.conftest import full_answers
from ..fieldwork.conftest import token as token  # noqa: F401  (the fixture)
from ..rosters import STORED_MEMBERS
from .conftest import through_the_sync_api
from .test_openrosa import stored

pytestmark = [*MARKS, pytest.mark.slow]

ENKETO = Path(__file__).resolve().parent.parent / "enketo"
PAGE = "/enketo-test/"


@pytest.fixture(scope="session")
def enketo_bundle(tmp_path_factory) -> str:
    """enketo-core and enketo-transformer bundled for the browser by esbuild."""
    esbuild = ENKETO / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists() or shutil.which("node") is None:
        pytest.skip(
            "Enketo's npm packages are not installed: make test runs npm ci in tests/enketo"
        )
    out = tmp_path_factory.mktemp("enketo") / "enketo.js"
    subprocess.run(
        [
            str(esbuild),
            "entry.js",
            "--bundle",
            "--format=iife",
            "--external:libxslt",  # only for XForm preprocessing in Node, unused here
            f"--outfile={out}",
            "--log-level=warning",
        ],
        cwd=ENKETO,
        check=True,
        timeout=120,
    )
    return out.read_text()


LOAD = """async () => {
  const listed = await fetch('/formList');
  const list = new DOMParser().parseFromString(await listed.text(), 'text/xml');
  const xform = await (await fetch(list.querySelector('downloadUrl').textContent)).text();
  const result = await window.enketoTransform({ xform });
  document.getElementById('host').innerHTML = result.form;
  window.enketo = new EnketoForm(document.querySelector('#host form'), { modelStr: result.model });
  return {
    status: listed.status,
    formId: list.querySelector('formID').textContent,
    errors: window.enketo.init(),
  };
}"""

SUBMIT = """async ([data]) => {
  const body = new FormData();
  body.append('xml_submission_file', new Blob([data], { type: 'text/xml' }), 'submission.xml');
  const response = await fetch('/submission', { method: 'POST', body });
  return { status: response.status, text: await response.text() };
}"""


def door(demo) -> dict:
    with demo.app_context():
        user = db.session.scalar(select(User).where(User.username == "enumerator"))
        a = db.session.scalar(
            select(Assignment)
            .where(Assignment.enumerator_id == user.id, Assignment.mode == "door")
            .order_by(Assignment.id)
        )
        wave = db.session.get(Wave, a.wave_id)
        schema = wave.questionnaire_version.schema
        return {
            "id": a.id,
            "wave": a.wave_id,
            "grid": a.locality.children[1].code,
            "schema": schema,
        }


def open_enketo(demo, browser, live_server: str, bundle: str):
    """A page of the server's origin that loads the Enketo bundle, logged in with a new app
    password of the demo enumerator, the served form loaded (``LOAD``: its answer); the page's
    errors collected."""
    from surveyapp.fieldwork.odk_credentials import issue_app_password

    with demo.app_context():
        password, _user = issue_app_password("enumerator")
    context = browser.new_context(
        http_credentials={"username": "enumerator", "password": password},
        viewport={"width": 768, "height": 1024},
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route(
        f"{live_server}{PAGE}",
        lambda route: route.fulfill(
            content_type="text/html; charset=utf-8",
            body='<!doctype html><meta charset="utf-8"><div id="host"></div>'
            f'<script src="{PAGE}enketo.js"></script>',
        ),
    )
    page.route(
        f"{live_server}{PAGE}enketo.js",
        lambda route: route.fulfill(content_type="text/javascript", body=bundle),
    )
    page.goto(f"{live_server}{PAGE}")
    loaded = page.evaluate(LOAD)
    assert loaded["status"] == 200 and loaded["errors"] == [], loaded
    return context, page, errors, loaded


def file_under(page, d: dict) -> None:
    """Choose the assignment and the grid of ``d`` (``door()``) in the form's fieldwork fields."""
    page.locator(f'input[name="/data/surveyapp_assignment"][value="{d["id"]}"]').check()
    page.locator(f'input[name="/data/surveyapp_locality"][value="{d["grid"]}"]').check()


def fill(page, schema, answers: dict) -> None:
    """Answer in Enketo as an enumerator would: click the choices, type numbers and texts."""
    from surveyapp.services.openrosa import other_fields

    others = {key: name for name, key in other_fields(schema).items()}
    for group in schema.groups:
        for question in group.questions:
            value = answers.get(question.id)
            if value is None:
                continue
            path = f"/data/{group.id}/{question.id}"
            if question.type in ("single", "yesno"):
                page.locator(f'input[name="{path}"][value="{value}"]').check()
            elif question.type == "multiple":
                for code in value:
                    page.locator(f'input[name="{path}"][value="{code}"]').check()
            else:
                type_in(page.locator(f'[name="{path}"]'), str(value))
            key = f"{question.id}.other"
            if key in answers:
                type_in(page.locator(f'[name="/data/{group.id}/{others[key]}"]'), answers[key])


def type_in(box, text: str) -> None:
    # Enketo takes a typed value on "change", which the browser fires when the box loses focus.
    box.fill(text)
    box.blur()


def field(data: str, name: str) -> str:
    return re.search(rf"<{name}>([^<]*)</{name}>", data).group(1)


def client_fields(data: str) -> dict:
    """The times and device Enketo wrote in its instance ``data``."""
    return {name: field(data, name) for name in CLIENT_FIELDS}


CLIENT_FIELDS = ("surveyapp_start", "surveyapp_end", "surveyapp_deviceid")


def test_enketo_renders_fills_in_and_submits(
    demo, live_server, browser, enketo_bundle, client, token, monkeypatch
):
    from surveyapp.web import openrosa as openrosa_web

    digests: list[str] = []
    check_digest = openrosa_web._digest_user

    def counted(auth):
        digests.append(auth.parameters.get("uri", ""))
        return check_digest(auth)

    monkeypatch.setattr(openrosa_web, "_digest_user", counted)

    d = door(demo)
    answers = full_answers(demo, seed=11)
    # A multiple choice with "other, please specify", and the open question, typed in Chinese.
    answers["unsafe_factors"] = ["theft_robbery", "other"]
    answers["unsafe_factors.other"] = "高空抛物"
    answers["suggestion"] = "希望夜间多巡逻"
    context, page, errors, loaded = open_enketo(demo, browser, live_server, enketo_bundle)
    assert loaded["formId"] == f"surveyapp-w{d['wave']}"
    # The locality offers only the chosen assignment's localities (Enketo evaluates the filter).
    page.locator(f'input[name="/data/surveyapp_assignment"][value="{d["id"]}"]').check()
    offered = page.locator('input[name="/data/surveyapp_locality"]').evaluate_all(
        "inputs => inputs.filter(i => !i.closest('.itemset-template')).map(i => i.value)"
    )
    with demo.app_context():
        from surveyapp.fieldwork.assignments import filing_localities

        expected = [loc.code for loc in filing_localities(db.session.get(Assignment, d["id"]))]
    assert sorted(offered) == sorted(expected)
    file_under(page, d)
    fill(page, d["schema"], answers)
    assert page.evaluate("async () => await window.enketo.validate()") is True
    data = page.evaluate("() => window.enketo.getDataStr()")
    uuid = field(data, "instanceID").removeprefix("uuid:")

    sent = page.evaluate(SUBMIT, [data])
    assert sent["status"] == 201, sent
    again = page.evaluate(SUBMIT, [data])
    assert again["status"] == 202 and "已保存过" in again["text"]
    # The same instanceID with another answer is a conflict; nothing changes.
    other = "m" if answers["sex"] != "m" else "f"
    changed = data.replace(f"<sex>{answers['sex']}</sex>", f"<sex>{other}</sex>")
    assert changed != data
    conflict = page.evaluate(SUBMIT, [changed])
    assert conflict["status"] == 409, conflict
    assert not errors, errors
    context.close()
    # Chromium answered the server's challenge itself, choosing HTTP Digest over Basic.
    assert "/formList" in digests and "/submission" in digests

    # The same interview through the sync API, with Enketo's times and device.
    api_uuid = through_the_sync_api(client, token, d, answers, client_fields(data))
    via_enketo, via_api = stored(demo, uuid), stored(demo, api_uuid)
    assert via_enketo == via_api
    integers = {q.id for q in d["schema"].questions.values() if q.type == "integer"}
    assert via_enketo["answers"] == {k: int(v) if k in integers else v for k, v in answers.items()}
    assert via_enketo["locality"] == d["grid"] and via_enketo["mode"] == "door"
    assert via_enketo["started_at"] <= datetime.now(UTC).replace(tzinfo=None)


def in_repeat(page, group: str, index: int, question: str):
    """The field ``question`` of instance ``index`` (from 0) of repeat ``group`` as Enketo
    renders it (radio buttons in a repeat keep their path in ``data-name``)."""
    path = f"/data/{group}/{question}"
    return (
        page.locator(f'.or-repeat[name="/data/{group}"]')
        .nth(index)
        .locator(f'[name="{path}"], [data-name="{path}"]')
    )


def test_enketo_fills_in_a_roster_adding_an_instance_with_its_own_button(
    demo, live_server, browser, enketo_bundle, client, token, roster_survey
):
    d = door(demo)
    context, page, errors, _loaded = open_enketo(demo, browser, live_server, enketo_bundle)
    file_under(page, d)
    type_in(page.locator('[name="/data/household/household_size"]'), "3")
    members = page.locator('.or-repeat[name="/data/members"]')
    assert members.count() == 3  # jr:count: Enketo makes one instance per household member
    for index, (name, age) in enumerate([("张三", "40"), ("李四", "9"), ("王五", "70")]):
        type_in(in_repeat(page, "members", index, "member_name"), name)
        type_in(in_repeat(page, "members", index, "member_age"), age)
    in_repeat(page, "members", 0, "member_works").and_(page.locator('[value="yes"]')).check()
    in_repeat(page, "members", 0, "member_job").and_(page.locator('[value="farmer"]')).check()
    in_repeat(page, "members", 2, "member_works").and_(page.locator('[value="no"]')).check()
    # The open repeat starts with one instance; Enketo's "+" adds the second.
    in_repeat(page, "visitors", 0, "visitor_relation").and_(
        page.locator('[value="friend"]')
    ).check()
    add = page.locator('.or-group[name="/data/visitors"] .add-repeat-btn')
    add.click()
    assert page.locator('.or-repeat[name="/data/visitors"]').count() == 2
    in_repeat(page, "visitors", 1, "visitor_relation").and_(
        page.locator('[value="family"]')
    ).check()
    page.locator('input[name="/data/closing/crowded"][value="yes"]').check()
    # At most 3 visitors: with a fourth the form's guard field shows and refuses to finish.
    visitors = page.locator('.or-repeat[name="/data/visitors"]')
    guard = page.locator('.or-branch:has([name="/data/surveyapp_visitors_bounds"])')

    def shown() -> bool:  # Enketo marks a question that is not relevant "disabled"
        return "disabled" not in guard.get_attribute("class").split()

    assert not shown()
    add.click()
    add.click()
    assert visitors.count() == 4 and shown()
    assert page.evaluate("async () => await window.enketo.validate()") is False
    page.on("dialog", lambda dialog: dialog.accept())  # Enketo asks before removing one
    for _ in range(2):
        visitors.last.locator("button.remove").click()
    assert visitors.count() == 2 and not shown()
    assert page.evaluate("async () => await window.enketo.validate()") is True
    data = page.evaluate("() => window.enketo.getDataStr()")
    uuid = field(data, "instanceID").removeprefix("uuid:")
    sent = page.evaluate(SUBMIT, [data])
    assert sent["status"] == 201, sent
    assert not errors, errors
    context.close()

    answers = {
        "household_size": 3,
        "members": STORED_MEMBERS,
        "visitors": [{"visitor_relation": "friend"}, {"visitor_relation": "family"}],
        "crowded": "yes",
    }
    api_uuid = through_the_sync_api(client, token, d, answers, client_fields(data))
    via_enketo, via_api = stored(demo, uuid), stored(demo, api_uuid)
    assert via_enketo == via_api
    assert via_enketo["answers"] == answers
