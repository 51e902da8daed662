"""Fixtures for the OpenRosa tests: the demo enumerator's app password, Basic credentials."""

from __future__ import annotations

import base64
import json

import pytest


@pytest.fixture
def odk(demo, runner):
    """The demo enumerator's ODK Collect settings, made by the CLI: url, username, password."""
    result = runner.invoke(
        args=["users", "odk", "enumerator", "--format", "json", "--url", "http://localhost"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def basic(odk: dict) -> dict:
    pair = f"{odk['username']}:{odk['password']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def instance_xml(
    app, form_id: str, answers: dict, *, uuid: str, fields: dict | None = None
) -> bytes:
    """A filled-in instance as ODK Collect sends it: answers in their groups, the fieldwork
    fields and meta/instanceID. ``answers`` as the sync API takes them (``q.other`` texts)."""
    from xml.sax.saxutils import escape

    from surveyapp.extensions import db
    from surveyapp.models import Wave
    from surveyapp.services.openrosa import other_fields

    with app.app_context():
        wave = db.session.get(Wave, int(form_id.split("-w")[1]))
        schema = wave.questionnaire_version.schema
        others = {key: name for name, key in other_fields(schema).items()}
    parts = [f'<data xmlns:jr="http://openrosa.org/javarosa" id="{form_id}" version="1">']
    for name, value in (fields or {}).items():
        parts.append(f"<{name}>{escape(str(value))}</{name}>")
    for group in schema.groups:
        parts.append(f"<{group.id}>")
        for question in group.questions:
            value = answers.get(question.id)
            if isinstance(value, list):
                value = " ".join(value)
            parts.append(
                f"<{question.id}>{escape(str(value))}</{question.id}>"
                if value is not None
                else f"<{question.id}/>"
            )
            key = f"{question.id}.other"
            if key in others:
                text = answers.get(key)
                tag = others[key]
                parts.append(f"<{tag}>{escape(text)}</{tag}>" if text else f"<{tag}/>")
        parts.append(f"</{group.id}>")
    parts.append(f"<meta><instanceID>uuid:{uuid}</instanceID></meta></data>")
    return "".join(parts).encode()


def through_the_sync_api(client, token: str, door: dict, answers: dict, client_fields: dict) -> str:
    """Send the same interview through the sync API, as the offline app sends it, with the
    OpenRosa client's times and device (``client_fields``: its ``surveyapp_start``,
    ``surveyapp_end`` and ``surveyapp_deviceid``): the reference its submission is compared
    with. The uuid it is stored under."""
    from ..fieldwork.conftest import bearer, submission

    body = submission(
        door,
        answers,
        started_at=client_fields["surveyapp_start"],
        ended_at=client_fields["surveyapp_end"],
        paradata={"device": client_fields["surveyapp_deviceid"]},
    )
    sent = client.post("/api/v1/submissions", json=body, headers=bearer(token))
    assert sent.status_code == 201, sent.get_json()
    return body["uuid"]
