"""A household roster through ODK Collect's protocol: the served XForm (pyxform's) has the
repeat with its count, and a submission written by hand as Collect writes one (an element per
instance, named by the repeat, skipped fields left empty) is stored exactly as the same
interview sent through the sync API."""

from __future__ import annotations

import uuid as uuidlib
from pathlib import Path

import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Survey, Wave
from surveyapp.services.questionnaires import store_questionnaire

from ..fieldwork.conftest import submission
from ..fieldwork.conftest import token as token  # noqa: F401  (the fixture)
from .conftest import basic
from .test_openrosa import door_form, fields, local, send, stored

ROSTER = Path(__file__).resolve().parents[1] / "questionnaire" / "data" / "roster.yaml"


@pytest.fixture
def roster_form(demo):
    with demo.app_context():
        version, _ = store_questionnaire(ROSTER.read_text(encoding="utf-8"), "roster.yaml")
        for survey in db.session.scalars(select(Survey)):
            survey.questionnaire_version_id = version.id
        for wave in db.session.scalars(select(Wave)):
            wave.questionnaire_version_id = version.id
        db.session.commit()


COLLECT_XML = """\
<?xml version='1.0' ?><data id="{form_id}" version="{version}" \
xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms">\
<surveyapp_start>2026-11-23T09:30:00.000+08:00</surveyapp_start>\
<surveyapp_end>2026-11-23T09:38:00.000+08:00</surveyapp_end>\
<surveyapp_deviceid>collect:abc123</surveyapp_deviceid>\
<surveyapp_assignment>{assignment}</surveyapp_assignment>\
<surveyapp_locality>{locality}</surveyapp_locality>\
<household><household_size>3</household_size></household>\
<members><member_name>张三</member_name><member_age>40</member_age>\
<member_works>yes</member_works><member_job>farmer</member_job></members>\
<members><member_name>李四</member_name><member_age>9</member_age>\
<member_works/><member_job/></members>\
<members><member_name>王五</member_name><member_age>70</member_age>\
<member_works>no</member_works><member_job/></members>\
<visitors><visitor_relation>friend</visitor_relation></visitors>\
<closing><crowded>yes</crowded></closing>\
<meta><instanceID>uuid:{uuid}</instanceID></meta></data>"""


def test_the_xform_has_the_repeat_and_collects_instances_are_stored_as_the_sync_api_does(
    demo, client, odk, token, roster_form
):
    form = door_form(demo, client, odk)
    xform = client.get(local(form["downloadUrl"]), headers=basic(odk)).get_data(as_text=True)
    assert '<repeat nodeset="/data/members" jr:count=" /data/household/household_size ">' in xform
    assert '<repeat nodeset="/data/visitors">' in xform
    assert 'relevant=" ../member_age  &gt;= 16"' in xform  # the instance's own answer
    f = fields(demo)
    door = f.pop("_door")
    odk_uuid = str(uuidlib.uuid4())
    xml = COLLECT_XML.format(
        form_id=form["formID"],
        version=form["version"],
        assignment=f["surveyapp_assignment"],
        locality=f["surveyapp_locality"],
        uuid=odk_uuid,
    )
    sent = send(client, odk, xml.encode())
    assert sent.status_code == 201, sent.text
    answers = {
        "household_size": "3",
        "members": [
            {
                "member_name": "张三",
                "member_age": "40",
                "member_works": "yes",
                "member_job": "farmer",
            },
            {"member_name": "李四", "member_age": "9"},
            {"member_name": "王五", "member_age": "70", "member_works": "no"},
        ],
        "visitors": [{"visitor_relation": "friend"}],
        "crowded": "yes",
    }
    api_body = submission(
        door,
        answers,
        started_at=f["surveyapp_start"],
        ended_at=f["surveyapp_end"],
        paradata={"device": f["surveyapp_deviceid"]},
    )
    api = client.post(
        "/api/v1/submissions", json=api_body, headers={"Authorization": f"Bearer {token}"}
    )
    assert api.status_code == 201, api.get_json()
    via_odk, via_api = stored(demo, odk_uuid), stored(demo, api_body["uuid"])
    assert via_odk == via_api
    assert via_odk["answers"]["members"][1] == {"member_name": "李四", "member_age": 9}


def test_an_invalid_instance_is_refused_naming_it(demo, client, odk, roster_form):
    form = door_form(demo, client, odk)
    f = fields(demo)
    f.pop("_door")
    xml = COLLECT_XML.format(
        form_id=form["formID"],
        version=form["version"],
        assignment=f["surveyapp_assignment"],
        locality=f["surveyapp_locality"],
        uuid=str(uuidlib.uuid4()),
    ).replace("<member_age>9</member_age>", "<member_age>900</member_age>")
    refused = send(client, odk, xml.encode())
    assert refused.status_code in (400, 422), refused.text
    assert "members[2].member_age" in refused.text
