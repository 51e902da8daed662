"""ODK Collect / Enketo with the new question types: the served XForm asks for them and a
submission as Collect writes its values (a time with its zone, a geopoint with altitude and
accuracy, a note left empty, a calculation it computed itself) is stored as the server cleans it."""

from __future__ import annotations

import re
import uuid as uuidlib

import pytest

from ..conftest import use_questionnaire
from .conftest import basic, instance_xml
from .test_openrosa import door_form, fields, local, send, stored

QUESTIONNAIRE = """\
id: odk-types
version: 1
title: {zh_CN: 题型, en: Types}
languages: [zh_CN, en]
groups:
  - id: visit
    title: {zh_CN: 走访, en: Visit}
    questions:
      - {id: intro, type: note, label: {zh_CN: 请说明来意, en: Explain the visit}}
      - {id: height, type: decimal, min: 0.5, max: 2.5, label: {zh_CN: 身高, en: Height}}
      - {id: tall, type: calculate, label: {zh_CN: 高, en: Tall}, calculation: "${height} > 1.8"}
      - {id: visit_time, type: time, label: {zh_CN: 时间, en: Time}}
      - {id: seen_at, type: datetime, required: false, label: {zh_CN: 时刻, en: When}}
      - {id: place, type: geopoint, label: {zh_CN: 位置, en: Location}}
"""


@pytest.fixture
def types_form(demo):
    use_questionnaire(demo, QUESTIONNAIRE, "odk-types.yaml")


def test_collects_values_of_the_new_types_are_stored_as_cleaned(demo, client, odk, types_form):
    form = door_form(demo, client, odk)
    xform = client.get(local(form["downloadUrl"]), headers=basic(odk)).get_data(as_text=True)
    binds = dict(re.findall(r'<bind nodeset="/data/visit/(\w+)"([^>]*)/>', xform))
    assert 'type="decimal"' in binds["height"] and 'type="geopoint"' in binds["place"]
    assert 'type="time"' in binds["visit_time"] and 'type="dateTime"' in binds["seen_at"]
    f = fields(demo)
    f.pop("_door")
    answers = {
        "height": "1.93",
        "tall": "whatever Collect computed",
        "visit_time": "14:05:00.000+08:00",
        "seen_at": "2026-11-23T09:31:12.000+08:00",
        "place": "31.2304 121.4737 12.5 4.8",
    }
    uuid = str(uuidlib.uuid4())
    response = send(client, odk, instance_xml(demo, form["formID"], answers, uuid=uuid, fields=f))
    assert response.status_code == 201, response.text
    assert stored(demo, uuid)["answers"] == {
        "height": 1.93,
        "tall": "true",  # the server's own computation
        "visit_time": "14:05",
        "seen_at": "2026-11-23T09:31",
        "place": "31.2304 121.4737 12.5 4.8",
    }
    bad = {**answers, "place": "91 10"}
    refused = send(
        client, odk, instance_xml(demo, form["formID"], bad, uuid=str(uuidlib.uuid4()), fields=f)
    )
    assert refused.status_code in (400, 422) and "place" in refused.text
