"""The long export of a repeat group (a household roster): one row per instance, numbered as
the respondents of the responses table it joins; the responses table itself unchanged (one row
per respondent, no column of the roster). Expected rows written by hand."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Response, Survey, Wave
from surveyapp.services.exports import ExportError, export_responses

from ..fieldwork.conftest import bearer, submission
from ..fieldwork.conftest import door as door  # noqa: F401  (the fixture)
from ..fieldwork.conftest import token as token  # noqa: F401  (the fixture)

FIRST = {
    "household_size": "2",
    "members": [
        {"member_name": "张三", "member_age": "40", "member_works": "yes", "member_job": "farmer"},
        {"member_name": "李四", "member_age": "9"},
    ],
    "visitors": [{}, {"visitor_relation": "friend"}],
}
SECOND = {
    "household_size": "3",
    "members": [
        {"member_name": "王五", "member_age": "70", "member_works": "no"},
        {"member_name": "赵六", "member_age": "35", "member_works": "yes", "member_job": "worker"},
        {"member_name": "钱七", "member_age": "12"},
    ],
    "crowded": "no",
}


@pytest.fixture
def exported(demo, client, token, door, roster_survey):  # noqa: F811
    with demo.app_context():
        wave_code = db.session.get(Wave, door["wave"]).code
        survey_id = db.session.get(Wave, door["wave"]).survey_id
    uuids = []
    for answers in (FIRST, SECOND):
        body = submission(door, answers)
        uuids.append(body["uuid"])
        sent = client.post("/api/v1/submissions", json=body, headers=bearer(token))
        assert sent.status_code == 201, sent.get_json()
    with demo.app_context():
        survey = db.session.get(Survey, survey_id)
        # the respondents' numbers in the responses table: counted in its order here
        order = db.session.scalars(
            select(Response.uuid)
            .where(Response.survey_id == survey_id, Response.status != "rejected")
            .order_by(Response.wave_id, Response.id)
        ).all()
        yield {
            "numbers": [order.index(uuid) + 1 for uuid in uuids],
            "wide": _csv(export_responses(survey, "csv")),
            "members": _csv(export_responses(survey, "csv", repeat="members")),
            "visitors": _csv(export_responses(survey, "csv", repeat="visitors")),
            "xlsx": export_responses(survey, "xlsx"),
            "wave": wave_code,
            "survey": survey,
        }


def _csv(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_one_row_per_instance_joined_to_the_respondents(exported):
    wide = exported["wide"]
    first, second = exported["numbers"]
    assert [row["respondent"] for row in wide[first - 1 : second]][:: second - first] == [
        str(first),
        str(second),
    ]
    assert not any(key.startswith(("member", "visitor")) for key in wide[0])  # wide unchanged
    w = exported["wave"]
    assert [tuple(row.values()) for row in exported["members"]] == [
        (str(first), w, "1", "40", "yes", "farmer"),
        (str(first), w, "2", "9", "", ""),
        (str(second), w, "1", "70", "no", ""),
        (str(second), w, "2", "35", "yes", "worker"),
        (str(second), w, "3", "12", "", ""),
    ]
    assert list(exported["members"][0]) == [
        "respondent",
        "wave",
        "instance",
        "member_age",
        "member_works",
        "member_job",
    ]  # the name is free text: only with --identifying
    assert [tuple(row.values()) for row in exported["visitors"]] == [
        (str(first), w, "1", ""),
        (str(first), w, "2", "friend"),
    ]


def test_the_workbook_has_a_sheet_per_roster_with_its_labels(exported):
    book = load_workbook(io.BytesIO(exported["xlsx"]), read_only=True)
    assert book.sheetnames[:3] == ["responses", "members", "visitors"]
    members = list(book["members"].iter_rows(values_only=True))
    assert members[0][:4] == ("respondent", "wave", "instance", "member_age")
    assert len(members) == 1 + 5 and members[1][3] == 40
    variables = dict(book["variables"].iter_rows(min_row=2, values_only=True))
    assert variables["members.member_age"] == "年龄"
    values = {(v, k): lab for v, k, lab in book["values"].iter_rows(min_row=2, values_only=True)}
    assert values[("members.member_job", "farmer")] == "农民"


def test_an_unknown_roster_is_refused(exported):
    with pytest.raises(ExportError, match="its repeat groups: members, visitors"):
        export_responses(exported["survey"], "csv", repeat="people")


def test_the_export_command_writes_a_roster(exported, runner, tmp_path):
    out = tmp_path / "members.csv"
    args = ["export", "--survey", str(exported["survey"].id), "--format", "csv"]
    result = runner.invoke(args=[*args, "--repeat", "members", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert _csv(out.read_bytes()) == exported["members"]
    result = runner.invoke(args=[*args, "--repeat", "nobody", "-o", str(out)])
    assert result.exit_code == 1 and "「nobody」不是本调查问卷中的重复组" in result.output
