"""OpenRosa by hand-made requests: authentication (Basic, Digest, revocation), the form list,
forms and manifests, and submissions checked exactly as the sync API checks them."""

from __future__ import annotations

import hashlib
import io
import re
import uuid as uuidlib

import pytest
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import Assignment, Locality, Response, User
from surveyapp.models.fieldwork import ResponseParadata
from surveyapp.models.odk import OdkCredential

from ..fieldwork.conftest import ENUMERATOR_PASSWORD, full_answers
from ..fieldwork.conftest import token as token  # noqa: F401  (the fixture)
from .conftest import basic, instance_xml, through_the_sync_api

FORM_LIST_NS = "{http://openrosa.org/xforms/xformsList}"


def form_list(client, odk):
    response = client.get("/formList", headers=basic(odk))
    assert response.status_code == 200, response.data
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert response.mimetype == "text/xml"
    from defusedxml import ElementTree

    root = ElementTree.fromstring(response.data)
    return [
        {child.tag.removeprefix(FORM_LIST_NS): child.text for child in form}
        for form in root.findall(f"{FORM_LIST_NS}xform")
    ]


def local(url: str) -> str:
    return url.removeprefix("http://localhost")


def send(client, odk, xml: bytes, **extra):
    data = {"xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml")}
    data.update(extra)
    headers = basic(odk) if odk else {}
    return client.post(
        "/submission", data=data, headers=headers, content_type="multipart/form-data"
    )


def door_form(demo, client, odk) -> dict:
    forms = form_list(client, odk)
    assert len(forms) == 1
    return forms[0]


def fields(demo) -> dict:
    """The fieldwork fields of an interview in the demo enumerator's first community."""
    with demo.app_context():
        user = db.session.scalar(select(User).where(User.username == "enumerator"))
        a = db.session.scalar(
            select(Assignment)
            .where(Assignment.enumerator_id == user.id, Assignment.mode == "door")
            .order_by(Assignment.id)
        )
        grid = a.locality.children[0]
        return {
            "surveyapp_start": "2026-11-23T09:30:00.000+08:00",
            "surveyapp_end": "2026-11-23T09:38:00.000+08:00",
            "surveyapp_deviceid": "collect:abc123",
            "surveyapp_assignment": a.id,
            "surveyapp_locality": grid.code,
            "_door": {"id": a.id, "wave": a.wave_id, "grid": grid.code},
        }


# --- authentication -------------------------------------------------------------------


def test_no_credentials_get_a_digest_and_basic_challenge(demo, client):
    for method, url in (("GET", "/formList"), ("HEAD", "/submission"), ("POST", "/submission")):
        response = client.open(url, method=method)
        assert response.status_code == 401, url
        challenges = response.headers.getlist("WWW-Authenticate")
        assert (
            challenges[0].startswith('Digest realm="surveyapp"') and 'qop="auth"' in challenges[0]
        )
        assert challenges[1] == 'Basic realm="surveyapp"'
        assert response.headers["X-OpenRosa-Version"] == "1.0"


def test_the_web_password_is_not_an_app_password(demo, client, odk):
    web = dict(odk, password=ENUMERATOR_PASSWORD)
    assert client.get("/formList", headers=basic(web)).status_code == 401
    assert client.get("/formList", headers=basic(odk)).status_code == 200


def test_a_new_app_password_revokes_the_previous(demo, client, runner, odk):
    again = runner.invoke(args=["users", "odk", "enumerator", "--format", "json"])
    assert again.exit_code == 0, again.output
    assert "没有 --url" in again.stderr
    assert client.get("/formList", headers=basic(odk)).status_code == 401
    import json

    fresh = json.loads(again.stdout)
    assert fresh["url"] == "http://127.0.0.1:5000" and fresh["username"] == "enumerator"
    assert client.get("/formList", headers=basic(fresh)).status_code == 200
    revoked = runner.invoke(args=["users", "odk", "enumerator", "--revoke"])
    assert revoked.exit_code == 0 and "已撤销“enumerator”的 1 个应用密码" in revoked.output
    assert client.get("/formList", headers=basic(fresh)).status_code == 401


def test_only_hashes_are_stored(demo, odk):
    with demo.app_context():
        row = db.session.scalar(select(OdkCredential).where(OdkCredential.revoked_at.is_(None)))
        assert odk["password"] not in (row.password_sha256, row.digest_ha1)
        assert row.password_sha256 == hashlib.sha256(odk["password"].encode()).hexdigest()


def test_app_passwords_are_for_enumerators_only(demo, runner):
    result = runner.invoke(args=["users", "odk", "manager"])
    # the command line speaks the default language (Chinese)
    assert result.exit_code != 0 and "只有调查员用 ODK Collect 收集访问" in result.output
    result = runner.invoke(args=["users", "odk", "nobody"])
    assert result.exit_code != 0 and "没有名为「nobody」的用户" in result.output


def test_a_deactivated_enumerator_is_refused(demo, client, odk):
    with demo.app_context():
        user = db.session.scalar(select(User).where(User.username == "enumerator"))
        user.active = False
        db.session.commit()
    assert client.get("/formList", headers=basic(odk)).status_code == 401


def digest_header(challenge: str, odk: dict, method: str, uri: str, **override) -> str:
    """What an HTTP Digest client (RFC 7616, MD5, qop=auth) answers to ``challenge``."""
    params = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge.removeprefix("Digest ")))
    md5 = lambda text: hashlib.md5(text.encode()).hexdigest()  # noqa: E731, S324
    ha1 = md5(f"{odk['username']}:{params['realm']}:{odk['password']}")
    ha2 = md5(f"{method}:{uri}")
    nonce, nc, cnonce = override.get("nonce", params["nonce"]), "00000001", "0a4f113b"
    answer = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
    return (
        f'Digest username="{odk["username"]}", realm="{params["realm"]}", nonce="{nonce}", '
        f'uri="{uri}", qop=auth, nc={nc}, cnonce="{cnonce}", response="{answer}", '
        f'opaque="{params["opaque"]}", algorithm=MD5'
    )


def test_digest_authentication(demo, client, odk):
    challenge = client.get("/formList").headers.getlist("WWW-Authenticate")[0]
    header = digest_header(challenge, odk, "GET", "/formList")
    assert client.get("/formList", headers={"Authorization": header}).status_code == 200
    # The same answer for another address, or with a wrong password, is refused.
    assert client.get("/formList?x=1", headers={"Authorization": header}).status_code == 200
    wrong = digest_header(challenge, dict(odk, password="nope"), "GET", "/formList")
    assert client.get("/formList", headers={"Authorization": wrong}).status_code == 401
    head = digest_header(challenge, odk, "HEAD", "/submission")
    response = client.head("/submission", headers={"Authorization": head})
    assert response.status_code == 204
    assert int(response.headers["X-OpenRosa-Accept-Content-Length"]) > 0
    # A nonce the server did not make, and an old one (stale: the client retries).
    forged = digest_header(challenge, odk, "GET", "/formList", nonce="1.abc")
    assert client.get("/formList", headers={"Authorization": forged}).status_code == 401
    from surveyapp.web.openrosa import _nonce

    with demo.test_request_context():
        old = _nonce(1)
    stale = client.get(
        "/formList",
        headers={"Authorization": digest_header(challenge, odk, "GET", "/formList", nonce=old)},
    )
    assert stale.status_code == 401
    assert "stale=true" in stale.headers.getlist("WWW-Authenticate")[0]


# --- forms ------------------------------------------------------------------------------


def test_form_list_form_and_manifest(demo, client, odk):
    form = door_form(demo, client, odk)
    assert form["formID"].startswith("surveyapp-w")
    assert "2026-Q4" in form["name"]
    xform = client.get(local(form["downloadUrl"]), headers=basic(odk))
    assert xform.status_code == 200 and xform.mimetype == "text/xml"
    assert form["hash"] == "md5:" + hashlib.md5(xform.data).hexdigest()
    assert f'<data id="{form["formID"]}" version="{form["version"]}">' in xform.text
    manifest = client.get(local(form["manifestUrl"]), headers=basic(odk))
    assert manifest.status_code == 200
    assert "http://openrosa.org/xforms/xformsManifest" in manifest.text
    assert form_list(client, odk) == [form]  # stable: the same hash on every request
    only = client.get(f"/formList?formID={form['formID']}", headers=basic(odk))
    assert form["formID"] in only.text
    none = client.get("/formList?formID=other", headers=basic(odk))
    assert "<xform>" not in none.text


def test_the_locality_select_offers_exactly_the_assignments_localities(demo, client, odk):
    from surveyapp.fieldwork.assignments import filing_localities

    form = door_form(demo, client, odk)
    xform = client.get(local(form["downloadUrl"]), headers=basic(odk)).text
    offered = re.findall(
        r"<name>([0-9]+)</name><assignment>([0-9]+)</assignment>",
        xform,
    )
    with demo.app_context():
        user = db.session.scalar(select(User).where(User.username == "enumerator"))
        expected = sorted(
            (loc.code, str(a.id))
            for a in db.session.scalars(
                select(Assignment).where(
                    Assignment.enumerator_id == user.id,
                    Assignment.wave_id == int(form["formID"].split("-w")[1]),
                    Assignment.mode == "door",
                )
            )
            for loc in filing_localities(a)
        )
    assert sorted(offered) == expected
    assert (
        "instance('surveyapp_locality')/root/item[assignment =  /data/surveyapp_assignment ]"
        in (xform)
    )


def test_another_enumerators_or_unknown_form_is_404(demo, client, odk):
    for form_id in ("surveyapp-w999", "surveyapp-w1x", "nothing"):
        response = client.get(f"/forms/{form_id}/form.xml", headers=basic(odk))
        assert response.status_code == 404
        assert "OpenRosaResponse" in response.text


def test_the_served_xform_passes_pyxform_and_odk_validate_where_java_is(demo, client, odk):
    """The served form is what pyxform generated; ODK Validate (Java) checks it when present."""
    import shutil

    form = door_form(demo, client, odk)
    xform = client.get(local(form["downloadUrl"]), headers=basic(odk)).data
    from defusedxml import ElementTree

    ElementTree.fromstring(xform)
    if shutil.which("java") is None:
        pytest.skip("no Java: ODK Validate not run (the XForm is well-formed and from pyxform)")
    from pyxform.validators import odk_validate

    odk_validate.check_xform(_write(xform))


def _write(data: bytes) -> str:
    import tempfile

    handle = tempfile.NamedTemporaryFile(suffix=".xml", delete=False)
    handle.write(data)
    handle.close()
    return handle.name


# --- submissions ----------------------------------------------------------------------


def stored(demo, uuid: str) -> dict | None:
    with demo.app_context():
        r = db.session.scalar(select(Response).where(Response.uuid == uuid))
        if r is None:
            return None
        paradata = db.session.scalar(
            select(ResponseParadata).where(ResponseParadata.response_id == r.id)
        )
        return {
            "answers": r.answer_dict(),
            "locality": r.locality.code,
            "mode": r.mode,
            "language": r.language,
            "enumerator": r.enumerator.username,
            "started_at": r.started_at,
            "ended_at": r.ended_at,
            "questionnaire_version_id": r.questionnaire_version_id,
            "wave_id": r.wave_id,
            "device": paradata.device if paradata else None,
        }


def test_submission_equals_the_same_interview_through_the_sync_api(demo, client, odk, token):
    form = door_form(demo, client, odk)
    answers = full_answers(demo, seed=3)
    answers["unsafe_factors"] = ["theft_robbery", "other"]
    answers["unsafe_factors.other"] = "高空抛物"
    f = fields(demo)
    door = f.pop("_door")
    odk_uuid = str(uuidlib.uuid4())
    xml = instance_xml(demo, form["formID"], answers, uuid=odk_uuid, fields=f)
    first = send(client, odk, xml)
    assert first.status_code == 201, first.text
    assert first.headers["X-OpenRosa-Version"] == "1.0"
    assert 'nature="submit_success"' in first.text
    api_uuid = through_the_sync_api(client, token, door, answers, f)
    via_odk, via_api = stored(demo, odk_uuid), stored(demo, api_uuid)
    assert via_odk == via_api
    assert via_odk["answers"]["unsafe_factors.other"] == "高空抛物"
    assert via_odk["device"] == "collect:abc123"
    assert via_odk["started_at"].hour == 1  # 09:30 in Shanghai is 01:30 UTC


def test_resend_is_accepted_once_and_a_different_body_is_a_conflict(demo, client, odk):
    form = door_form(demo, client, odk)
    f = fields(demo)
    f.pop("_door")
    uuid = str(uuidlib.uuid4())
    answers = {"resident_6m": "no", "age_16plus": "yes"}
    xml = instance_xml(demo, form["formID"], answers, uuid=uuid, fields=f)
    assert send(client, odk, xml).status_code == 201
    again = send(client, odk, xml)
    assert again.status_code == 202 and "已保存过" in again.text
    changed = instance_xml(
        demo, form["formID"], {"resident_6m": "yes", "age_16plus": "no"}, uuid=uuid, fields=f
    )
    conflict = send(client, odk, changed)
    assert conflict.status_code == 409 and 'nature="error"' in conflict.text
    with demo.app_context():
        assert db.session.scalar(select(func.count()).where(Response.uuid == uuid)) == 1
    assert stored(demo, uuid)["answers"] == answers


def test_locality_outside_the_assignment_is_refused(demo, client, odk):
    form = door_form(demo, client, odk)
    f = fields(demo)
    f.pop("_door")
    with demo.app_context():
        elsewhere = (
            db.session.scalar(select(Locality).where(Locality.code == "320106005")).children[0].code
        )
    uuid = str(uuidlib.uuid4())
    xml = instance_xml(
        demo,
        form["formID"],
        {"resident_6m": "no", "age_16plus": "yes"},
        uuid=uuid,
        fields=dict(f, surveyapp_locality=elsewhere),
    )
    response = send(client, odk, xml)
    assert response.status_code == 403 and "不在任务" in response.text
    assert stored(demo, uuid) is None


def test_invalid_answers_are_refused_with_the_questionnaires_messages(demo, client, odk):
    form = door_form(demo, client, odk)
    f = fields(demo)
    f.pop("_door")
    uuid = str(uuidlib.uuid4())
    xml = instance_xml(demo, form["formID"], {"resident_6m": "maybe"}, uuid=uuid, fields=f)
    response = send(client, odk, xml)
    assert response.status_code == 422
    assert "resident_6m" in response.text and "maybe" in response.text
    assert stored(demo, uuid) is None


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"", 400, "为空"),
        (b"<data id='surveyapp-w2'><x>", 400, "格式正确的 XML"),
        (b"<data id='other-form'><meta><instanceID>uuid:x</instanceID></meta></data>", 404, ""),
        (b"<data id='surveyapp-w2'><resident_6m>no</resident_6m></data>", 400, "instanceID"),
        (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            b"<data id='surveyapp-w2'>&b;</data>",
            400,
            "不被接受",
        ),
    ],
)
def test_malformed_submissions_are_4xx(demo, client, odk, body, status, words):
    response = send(client, odk, body)
    assert response.status_code == status, response.text
    assert words in response.text
    assert "OpenRosaResponse" in response.text


def test_an_instance_id_that_is_no_uuid_is_400(demo, client, odk):
    form = door_form(demo, client, odk)
    f = fields(demo)
    f.pop("_door")
    xml = instance_xml(demo, form["formID"], {"resident_6m": "no"}, uuid="not-a-uuid", fields=f)
    response = send(client, odk, xml)
    assert response.status_code == 400 and "不是有效的 UUID" in response.text


def test_submission_without_the_xml_part_is_400(demo, client, odk):
    response = client.post(
        "/submission",
        data={"other": (io.BytesIO(b"x"), "x.jpg")},
        headers=basic(odk),
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and "xml_submission_file" in response.text


def test_no_csrf_token_is_needed_but_only_here(demo, client, odk):
    demo.config["WTF_CSRF_ENABLED"] = True
    form = door_form(demo, client, odk)
    f = fields(demo)
    f.pop("_door")
    xml = instance_xml(
        demo,
        form["formID"],
        {"resident_6m": "no", "age_16plus": "yes"},
        uuid=str(uuidlib.uuid4()),
        fields=f,
    )
    assert send(client, odk, xml).status_code == 201
    # The web forms still need their token.
    assert client.post("/auth/login", data={"username": "x", "password": "y"}).status_code == 400


def test_the_qr_code_carries_collects_settings(demo, runner, tmp_path):
    import base64
    import json
    import zlib

    from PIL import Image

    from surveyapp.fieldwork.odk_credentials import collect_settings, collect_settings_code

    png = tmp_path / "collect.png"
    result = runner.invoke(
        args=["users", "odk", "enumerator", "--url", "https://survey.example", "-o", str(png)]
    )
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert lines["url"] == "https://survey.example" and lines["username"] == "enumerator"
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size[0] > 100
    # ODK Collect's format: zlib-compressed JSON, base64.
    settings = collect_settings("https://survey.example", "enumerator", lines["password"], "s")
    decoded = json.loads(zlib.decompress(base64.b64decode(collect_settings_code(settings))))
    assert decoded["general"] == {
        "server_url": "https://survey.example",
        "username": "enumerator",
        "password": lines["password"],
        "protocol": "odk_default",
    }
    bad = runner.invoke(args=["users", "odk", "enumerator", "-o", str(tmp_path / "x.jpg")])
    assert bad.exit_code != 0 and ".png" in bad.output


def test_the_enumerators_page_issues_an_app_password_with_its_qr_code(demo, client, auth):
    auth.login("enumerator", ENUMERATOR_PASSWORD)
    page = client.get("/odk-collect/")
    assert page.status_code == 200
    assert "当前没有有效的应用密码" in page.text and "http://localhost" in page.text
    issued = client.post("/odk-collect/")
    assert issued.status_code == 200 and issued.headers["Cache-Control"] == "no-store"
    password = re.search(r'id="odk-password"><code>([^<]+)</code>', issued.text).group(1)
    assert 'src="data:image/png;base64,' in issued.text
    odk = {"username": "enumerator", "password": password}
    assert client.get("/formList", headers=basic(odk)).status_code == 200
    # A second one revokes the first.
    client.post("/odk-collect/")
    assert client.get("/formList", headers=basic(odk)).status_code == 401
    assert "当前应用密码自" in client.get("/odk-collect/").text


def test_the_odk_page_is_for_enumerators(demo, client, auth):
    auth.login("manager", "manager-demo-2026")
    assert client.get("/odk-collect/").status_code == 403
    assert client.post("/odk-collect/").status_code == 403


def test_an_edited_form_is_the_same_interview(demo, client, odk):
    """ODK Collect gives an edited, already sent form a new instanceID and names the first one
    in deprecatedID: the same interview, so a changed edit is a conflict (or, once a supervisor
    sent it back, a correction), never a second interview."""
    form = door_form(demo, client, odk)
    f = fields(demo)
    f.pop("_door")
    first = str(uuidlib.uuid4())
    answers = {"resident_6m": "no", "age_16plus": "yes"}
    xml = instance_xml(demo, form["formID"], answers, uuid=first, fields=f)
    assert send(client, odk, xml).status_code == 201
    edited = instance_xml(
        demo,
        form["formID"],
        {"resident_6m": "yes", "age_16plus": "no"},
        uuid=str(uuidlib.uuid4()),
        fields=f,
    ).replace(b"</meta>", f"<deprecatedID>uuid:{first}</deprecatedID></meta>".encode())
    assert send(client, odk, edited).status_code == 409
    with demo.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(Response)
                .where(
                    Response.enumerator.has(User.username == "enumerator"),
                    Response.uuid == first,
                )
            )
            == 1
        )
    same = xml.replace(b"</meta>", f"<deprecatedID>uuid:{first}</deprecatedID></meta>".encode())
    same = same.replace(
        f"uuid:{first}</instanceID>".encode(), f"uuid:{uuidlib.uuid4()}</instanceID>".encode()
    )
    assert send(client, odk, same).status_code == 202
    assert stored(demo, first)["answers"] == answers


def test_an_enumerator_without_assignments_gets_an_empty_list(demo, client, runner):
    import json

    created = runner.invoke(
        args=["users", "create", "idle", "--role", "enumerator", "--password", "idle-pass-2026"]
    )
    assert created.exit_code == 0, created.output
    odk = json.loads(runner.invoke(args=["users", "odk", "idle", "--format", "json"]).stdout)
    assert form_list(client, odk) == []


def test_a_too_large_submission_is_413(demo, client, odk, monkeypatch):
    from surveyapp.web import openrosa as openrosa_web

    monkeypatch.setattr(openrosa_web, "ACCEPT_CONTENT_LENGTH", 100)
    response = send(client, odk, b"<data>" + b"x" * 200 + b"</data>")
    assert response.status_code == 413 and "超过 100 字节" in response.text


def test_an_edited_form_corrects_an_interview_a_supervisor_sent_back(demo, client, odk):
    from surveyapp.fieldwork.review import decide

    form = door_form(demo, client, odk)
    f = fields(demo)
    f.pop("_door")
    first = str(uuidlib.uuid4())
    xml = instance_xml(
        demo, form["formID"], {"resident_6m": "no", "age_16plus": "yes"}, uuid=first, fields=f
    )
    assert send(client, odk, xml).status_code == 201
    with demo.app_context():
        response = db.session.scalar(select(Response).where(Response.uuid == first))
        manager = db.session.scalar(select(User).where(User.username == "manager"))
        decide(response, manager, "send_back", "请核实是否在本地居住满6个月")
    corrected = {"resident_6m": "no", "age_16plus": "no"}
    edited = instance_xml(
        demo, form["formID"], corrected, uuid=str(uuidlib.uuid4()), fields=f
    ).replace(b"</meta>", f"<deprecatedID>uuid:{first}</deprecatedID></meta>".encode())
    answer = send(client, odk, edited)
    assert answer.status_code == 201 and "已保存（更正）" in answer.text
    assert stored(demo, first)["answers"] == corrected
    with demo.app_context():
        assert (
            db.session.scalar(select(func.count()).select_from(Response))
            == db.session.scalar(
                select(func.count()).select_from(Response).where(Response.uuid != first)
            )
            + 1
        )


def test_refusals_follow_the_interface_language(demo, client, odk):
    """ODK Collect shows the server's message: Chinese by default, English for an English
    interface, the refused answer named by its question in both."""
    form = door_form(demo, client, odk)
    f = fields(demo)
    f.pop("_door")
    xml = instance_xml(
        demo, form["formID"], {"resident_6m": "maybe"}, uuid=str(uuidlib.uuid4()), fields=f
    )
    response = send(client, odk, xml)
    assert response.status_code == 422
    assert "部分回答无效：resident_6m：" in response.text
    assert send(client, odk, b"").text.count("xml_submission_file 为空") == 1
    with client.session_transaction() as session:
        session["lang"] = "en"
    response = send(client, odk, xml)
    assert response.status_code == 422
    assert "some answers are not valid: resident_6m: " in response.text
    assert "xml_submission_file is empty" in send(client, odk, b"").text
