"""A household roster through ODK Collect's protocol: the served XForm (pyxform's) has the
repeat with its count, and a submission written by hand as Collect writes one (an element per
instance, named by the repeat, skipped fields left empty) is stored exactly as the same
interview sent through the sync API."""

from __future__ import annotations

import shutil
import uuid as uuidlib

import pytest

from ..conftest import use_questionnaire
from ..fieldwork.conftest import token as token  # noqa: F401  (the fixture)
from ..rosters import MEMBERS, STORED_MEMBERS, roster_text, roster_with_one_to_three_visitors
from .conftest import basic, through_the_sync_api
from .test_openrosa import door_form, fields, local, send, stored

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


def collect_xml(form: dict, f: dict, uuid: str) -> str:
    """The roster's interview (COLLECT_XML) for the served ``form`` and fieldwork fields ``f``."""
    return COLLECT_XML.format(
        form_id=form["formID"],
        version=form["version"],
        assignment=f["surveyapp_assignment"],
        locality=f["surveyapp_locality"],
        uuid=uuid,
    )


def test_the_xform_has_the_repeat_and_collects_instances_are_stored_as_the_sync_api_does(
    demo, client, odk, token, roster_survey
):
    form = door_form(demo, client, odk)
    xform = client.get(local(form["downloadUrl"]), headers=basic(odk)).get_data(as_text=True)
    assert '<repeat nodeset="/data/members" jr:count=" /data/household/household_size ">' in xform
    assert '<repeat nodeset="/data/visitors">' in xform
    assert 'relevant=" ../member_age  &gt;= 16"' in xform  # the instance's own answer
    f = fields(demo)
    door = f.pop("_door")
    odk_uuid = str(uuidlib.uuid4())
    xml = collect_xml(form, f, odk_uuid)
    sent = send(client, odk, xml.encode())
    assert sent.status_code == 201, sent.text
    answers = {
        "household_size": "3",
        "members": MEMBERS,
        "visitors": [{"visitor_relation": "friend"}],
        "crowded": "yes",
    }
    api_uuid = through_the_sync_api(client, token, door, answers, f)
    via_odk, via_api = stored(demo, odk_uuid), stored(demo, api_uuid)
    assert via_odk == via_api
    assert via_odk["answers"]["members"][1] == {"member_name": "李四", "member_age": 9}


def test_an_invalid_instance_is_refused_naming_it(demo, client, odk, roster_survey):
    form = door_form(demo, client, odk)
    f = fields(demo)
    f.pop("_door")
    xml = collect_xml(form, f, str(uuidlib.uuid4())).replace(
        "<member_age>9</member_age>", "<member_age>900</member_age>"
    )
    refused = send(client, odk, xml.encode())
    assert refused.status_code in (400, 422), refused.text
    assert "members[2].member_age" in refused.text


def test_the_bounds_of_an_open_repeat_are_in_the_xform():
    """ODK has no least or most number of instances: as ODK forms do, a required field after
    the repeat, relevant only while ``count()`` is out of bounds, refuses every value (checked
    in Enketo by tests/openrosa/test_enketo_browser.py); a fixed number is pyxform's jr:count."""
    import re

    from surveyapp.questionnaire.loader import load_questionnaire_text
    from surveyapp.services.openrosa import _Place, _Task, build_xform

    schema = load_questionnaire_text(bounded_roster())
    grid = _Place("g1", (("zh_CN", "网格"), ("en", "Grid")))
    xform = build_xform(schema, "w1", "1", "T", (_Task(5, "door", grid, (grid,)),))
    binds = dict(re.findall(r'<bind nodeset="/data/(\w+)"([^>]*)/>', xform))
    assert binds["surveyapp_visitors_bounds"] == (
        ' type="string" required="true()"'
        ' relevant="count( /data/visitors ) &lt; 1 or count( /data/visitors ) &gt; 3"'
        ' constraint="false()"'
    )
    assert "surveyapp_members_bounds" not in binds  # counted by household_size, no bounds
    # pyxform's own count field would be <pets_count>: the form names it, the server skips it.
    assert '<repeat nodeset="/data/pets" jr:count=" /data/surveyapp_pets_count ">' in xform
    assert 'calculate="2"' in binds["surveyapp_pets_count"]
    assert "pets_count" not in binds
    assert "surveyapp_pets_bounds" not in binds  # the client makes exactly 2
    # The guard sits after the repeat, outside it; the labels say the bounds.
    assert xform.index('</repeat></group><input ref="/data/surveyapp_visitors_bounds"') > 0
    assert "来访者应填 1 至 3 个" in xform and '"Visitors" takes from 1 to 3' in xform


def test_the_guard_follows_the_relevance_of_its_repeat():
    from surveyapp.questionnaire.loader import load_questionnaire_text
    from surveyapp.services.openrosa import _Place, _Task, build_xform

    text = roster_text().replace(
        "    repeat:\n      max: 3",
        "    relevant: ${household_size} > 1\n    repeat:\n      max: 3",
    )
    schema = load_questionnaire_text(text)
    grid = _Place("g1", (("zh_CN", "网格"), ("en", "Grid")))
    xform = build_xform(schema, "w1", "1", "T", (_Task(5, "door", grid, (grid,)),))
    assert (
        'relevant="( /data/household/household_size  &gt; 1) and (count( /data/visitors ) &gt; 3)"'
        in xform
    )


def bounded_roster() -> str:
    """The roster with 1 to 3 visitors and exactly 2 pets (no count question)."""
    return roster_with_one_to_three_visitors().replace(
        "  - id: closing",
        "  - id: pets\n    title: {zh_CN: 宠物, en: Pets}\n    repeat: {min: 2, max: 2}\n"
        "    questions:\n      - id: pet\n        type: text\n"
        "        label: {zh_CN: 宠物, en: Pet}\n\n  - id: closing",
    )


def test_a_submission_with_the_forms_count_and_bounds_fields_is_stored(demo, client, odk, token):
    """What a client sends for the fields the form adds (the calculated count, the empty
    guard) is no answer: stored as the same interview through the sync API."""
    import re

    use_questionnaire(demo, bounded_roster(), "roster.yaml")
    form = door_form(demo, client, odk)
    xform = client.get(local(form["downloadUrl"]), headers=basic(odk)).get_data(as_text=True)
    primary = re.search(r"<instance><data [^>]*>(.*?)</data></instance>", xform).group(1)
    # The fields of the form's primary instance, in order: what a client fills in and sends.
    assert re.findall(r"<(\w+)(?: jr:template=\"\")?/?>", primary.split("<closing>")[0])[-6:] == [
        "surveyapp_visitors_bounds",
        "surveyapp_pets_count",
        "pets",
        "pet",
        "pets",
        "pet",
    ]
    f = fields(demo)
    door = f.pop("_door")
    odk_uuid = str(uuidlib.uuid4())
    xml = collect_xml(form, f, odk_uuid).replace(
        "<closing>",
        "<surveyapp_visitors_bounds/><surveyapp_pets_count>2</surveyapp_pets_count>"
        "<pets><pet>猫</pet></pets><pets><pet>狗</pet></pets><closing>",
    )
    sent = send(client, odk, xml.encode())
    assert sent.status_code == 201, sent.text
    answers = {
        "household_size": 3,
        "members": STORED_MEMBERS,
        "visitors": [{"visitor_relation": "friend"}],
        "pets": [{"pet": "猫"}, {"pet": "狗"}],
        "crowded": "yes",
    }
    api_uuid = through_the_sync_api(client, token, door, answers, f)
    via_odk = stored(demo, odk_uuid)
    assert via_odk == stored(demo, api_uuid)
    assert via_odk["answers"] == answers


@pytest.mark.skipif(shutil.which("java") is None, reason="ODK Validate needs Java")
def test_odk_validate_takes_the_form_with_its_count_and_bounds_fields(tmp_path):
    """JavaRosa (pyxform's ODK Validate) loads the form: the guard, the count calculate."""
    from pyxform.validators import odk_validate

    from surveyapp.questionnaire.loader import load_questionnaire_text
    from surveyapp.services.openrosa import _Place, _Task, build_xform

    grid = _Place("g1", (("zh_CN", "网格"), ("en", "Grid")))
    schema = load_questionnaire_text(bounded_roster())
    form = tmp_path / "form.xml"
    form.write_text(build_xform(schema, "w1", "1", "T", (_Task(5, "door", grid, (grid,)),)))
    assert odk_validate.check_xform(str(form)) == []
