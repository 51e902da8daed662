"""`surveyapp surveys` and `surveyapp waves`: through click's runner, and the real binary."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import AuditEvent, Response, Survey
from surveyapp.services.questionnaires import store_questionnaire

from .conftest import PG_URL
from .services.test_waves import version_two_text

ROOT = Path(__file__).resolve().parent.parent
QUESTIONNAIRE = ROOT / "questionnaires" / "public-security-satisfaction.yaml"
LOCALITIES = ROOT / "surveyapp" / "data" / "demo-localities.csv"


@pytest.fixture(autouse=True)
def _english(monkeypatch):
    """These tests read the English wording (SURVEYAPP_LANGUAGE=en); the Chinese, the default,
    is checked in tests/test_cli_language.py."""
    monkeypatch.setenv("SURVEYAPP_LANGUAGE", "en")


def run_json(runner, *args):
    result = runner.invoke(args=[*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_create_survey_and_run_a_wave(demo, runner):
    with demo.app_context():
        store_questionnaire(version_two_text(), source="v2.yaml")
    made = run_json(
        runner,
        "surveys", "create", "--name", "玄武区安全感调查", "--questionnaire",
        "public-security-satisfaction@1", "--district", "320106", "--modes", "door",
        "--owner", "manager",
    )  # fmt: skip
    assert made["name"] == "玄武区安全感调查" and made["modes"] == ["door"]
    assert made["questionnaire"] == "public-security-satisfaction v1"
    assert made["owner"] == "manager" and made["waves"] == []
    sid = str(made["id"])
    wave = run_json(
        runner, "waves", "create", "--survey", sid, "--code", "2027-Q1",
        "--start", "2027-01-01", "--end", "2027-03-31",
    )  # fmt: skip
    assert (wave["state"], wave["released"]) == ("planned", False)
    assert wave["questionnaire"] == "public-security-satisfaction@2"  # the latest published
    pinned = run_json(
        runner, "waves", "create", "--survey", sid, "--code", "2027-Q2",
        "--start", "2027-04-01", "--end", "2027-06-30",
        "--questionnaire", "public-security-satisfaction@1",
    )  # fmt: skip
    assert pinned["questionnaire"] == "public-security-satisfaction@1"
    for step, state, released in (
        ("open", "open", False),
        ("close", "closed", False),
        ("reopen", "open", False),
        ("close", "closed", False),
        ("release", "closed", True),
    ):
        doc = run_json(runner, "waves", step, "--survey", sid, "--code", "2027-Q1")
        assert (doc["state"], doc["released"]) == (state, released), step
    listed = run_json(runner, "waves", "list", "--survey", sid)
    assert [(w["code"], w["state"], w["released"]) for w in listed] == [
        ("2027-Q1", "closed", True),
        ("2027-Q2", "planned", False),
    ]
    table = runner.invoke(args=["waves", "list", "--survey", sid])
    assert "2027-Q1" in table.output and "not released" in table.output
    with demo.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.target.like(f"survey {sid}%"))
        ).all()
        assert actions.count("wave_closed") == 2 and "survey_created" in actions
        assert all(
            e.username == "(command line)"
            for e in db.session.scalars(
                select(AuditEvent).where(AuditEvent.target.like(f"survey {sid}%"))
            )
        )


def test_surveys_list_counts_exclude_rejected_responses(demo, runner):
    before = run_json(runner, "surveys", "list")[0]
    q4 = next(w for w in before["waves"] if w["code"] == "2026-Q4")
    assert q4["counted_responses"] == q4["responses"] > 2
    assert set(q4) >= {"code", "state", "released", "questionnaire", "counted_responses"}
    with demo.app_context():
        survey = db.session.get(Survey, 1)
        rejected = db.session.scalars(
            select(Response).where(Response.wave_id == survey.waves[-1].id).limit(2)
        ).all()
        for response in rejected:
            response.status = "rejected"
        db.session.commit()
    after = run_json(runner, "surveys", "list")[0]
    q4_after = next(w for w in after["waves"] if w["code"] == "2026-Q4")
    assert q4_after["responses"] == q4["responses"]
    assert q4_after["counted_responses"] == q4["counted_responses"] - 2
    assert after["counted_responses"] == before["counted_responses"] - 2


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["surveys", "create", "--name", "x", "--questionnaire", "nope", "--district", "320106",
          "--owner", "manager"], "--questionnaire: no published questionnaire 'nope'"),
        (["surveys", "create", "--name", "x", "--questionnaire", "public-security-satisfaction",
          "--district", "999", "--owner", "manager"], "--district: no locality with code '999'"),
        (["surveys", "create", "--name", "x", "--questionnaire", "public-security-satisfaction",
          "--district", "320106001", "--owner", "manager"], "is a street, not a district"),
        (["surveys", "create", "--name", "x", "--questionnaire", "public-security-satisfaction",
          "--district", "320106", "--owner", "enumerator"], "--owner: no manager named"),
        (["surveys", "create", "--name", "x", "--questionnaire", "public-security-satisfaction",
          "--district", "320106", "--owner", "manager", "--modes", "door,fax"], "--modes:"),
        (["surveys", "create", "--name", "鼓楼区群众安全感满意度调查", "--questionnaire",
          "public-security-satisfaction", "--district", "320106", "--owner", "manager"],
         "exists already"),
        (["waves", "create", "--survey", "99", "--code", "A", "--start", "2027-01-01",
          "--end", "2027-01-02"], "--survey: there is no survey 99"),
        (["waves", "create", "--survey", "1", "--code", "A", "--start", "2027-01-01",
          "--end", "2026-01-02"], "--end: the wave ends (2026-01-02) before it starts"),
        (["waves", "create", "--survey", "1", "--code", "2026-Q4", "--start", "2027-01-01",
          "--end", "2027-01-02"], "--code: survey 1 already has a wave '2026-Q4'"),
        (["waves", "open", "--survey", "1", "--code", "2026-Q4"], "wave 2026-Q4 is already open"),
        (["waves", "reopen", "--survey", "1", "--code", "2026-Q3"], "cannot be reopened"),
        (["waves", "release", "--survey", "1", "--code", "2026-Q3"], "already released"),
        (["waves", "close", "--survey", "1", "--code", "2099"], "--code: survey 1 has no wave"),
        (["waves", "list", "--survey", "abc"], "--survey: there is no survey abc"),
    ],
)  # fmt: skip
def test_errors_exit_1_naming_the_problem(demo, runner, args, words):
    with demo.app_context():
        before = (db.session.query(Survey).count(), len(db.session.get(Survey, 1).waves))
    result = runner.invoke(args=args)
    assert result.exit_code == 1, result.output
    assert words in result.output
    with demo.app_context():
        assert (db.session.query(Survey).count(), len(db.session.get(Survey, 1).waves)) == before


def test_survey_settings_from_a_file(demo, runner, tmp_path):
    good = tmp_path / "settings.json"
    good.write_text(
        json.dumps({"design": {"strata": "street", "cluster": ""}, "ci_method": "beta",
                    "level": 0.9, "weighting": {"method": "rake", "margins": ["street"]}})
    )  # fmt: skip
    doc = run_json(runner, "surveys", "edit", "--survey", "1", "--settings", str(good))
    assert doc["settings"]["ci_method"] == "beta" and doc["settings_version"] == 2
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"level": 1.5}))
    result = runner.invoke(args=["surveys", "edit", "--survey", "1", "--settings", str(bad)])
    assert result.exit_code == 1 and "--settings: level: 1.5 is not a confidence level" in (
        result.output
    )
    broken = tmp_path / "broken.json"
    broken.write_text("{\n  'level': 1\n}")
    result = runner.invoke(args=["surveys", "edit", "--survey", "1", "--settings", str(broken)])
    assert result.exit_code == 1 and "line 2" in result.output


# ----------------------------------------------------------------------------- the real binary

SCRIPT = r"""
set -eu
sa() { "$SURVEYAPP" "$@"; }
sa localities import "$LOCALITIES"
sa questionnaire import "$QUESTIONNAIRE"
sa users create boss --role manager --password 'long-enough-pass-1' --locality 320106
sa surveys create --name 'Gulou 2027' --questionnaire public-security-satisfaction \
   --district 320106 --modes door,phone --owner boss --format json > survey.json
SID=$(python3 -c 'import json; print(json.load(open("survey.json"))["id"])')
sa waves create --survey "$SID" --code 2027-Q1 --start 2027-01-01 --end 2027-03-31
sa waves open --survey "$SID" --code 2027-Q1
sa waves close --survey "$SID" --code 2027-Q1
sa waves release --survey "$SID" --code 2027-Q1 --format json > released.json
sa surveys list --format json > list.json
if sa waves reopen --survey "$SID" --code 2027-Q1 2> refused.txt; then exit 9; fi
"""


@pytest.mark.slow
def test_the_surveyapp_binary_runs_a_wave(migrated_database, tmp_path):
    if PG_URL:
        pytest.skip("the shell-level test runs the binary on a SQLite file of its own")
    binary = shutil.which("surveyapp", path=str(Path(os.sys.executable).parent))
    assert binary, "the console script is installed with the package"
    database = tmp_path / "shell.sqlite"
    shutil.copy(migrated_database, database)
    env = {
        **os.environ,
        "SURVEYAPP": binary,
        "LOCALITIES": str(LOCALITIES),
        "QUESTIONNAIRE": str(QUESTIONNAIRE),
        "SURVEYAPP_DATABASE_URL": f"sqlite:///{database}",
        "SURVEYAPP_SECRET_KEY": "shell-test",
        "SURVEYAPP_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    done = subprocess.run(
        ["bash", "-c", SCRIPT], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    released = json.loads((tmp_path / "released.json").read_text())
    assert (released["state"], released["released"]) == ("closed", True)
    listed = json.loads((tmp_path / "list.json").read_text())
    assert [(w["code"], w["state"], w["released"], w["counted_responses"])
            for w in listed[0]["waves"]] == [("2027-Q1", "closed", True, 0)]  # fmt: skip
    assert listed[0]["owner"] == "boss"
    assert "cannot be reopened" in (tmp_path / "refused.txt").read_text()


def test_waves_edit_changes_dates_and_the_version_only_before_interviews(demo, runner):
    with demo.app_context():
        store_questionnaire(version_two_text(), source="v2.yaml")
    run_json(
        runner, "waves", "create", "--survey", "1", "--code", "2027-Q1",
        "--start", "2027-01-01", "--end", "2027-03-31",
    )  # fmt: skip
    doc = run_json(
        runner, "waves", "edit", "--survey", "1", "--code", "2027-Q1", "--end", "2027-04-15",
        "--questionnaire", "public-security-satisfaction@1",
    )  # fmt: skip
    assert (doc["ends_on"], doc["questionnaire"]) == (
        "2027-04-15",
        "public-security-satisfaction@1",
    )
    refused = runner.invoke(
        args=["waves", "edit", "--survey", "1", "--code", "2026-Q4",
              "--questionnaire", "public-security-satisfaction@2"]
    )  # fmt: skip
    assert refused.exit_code == 1 and "already has interviews" in refused.output
    bad = runner.invoke(
        args=["waves", "edit", "--survey", "1", "--code", "2027-Q1", "--start", "2027-05-01"]
    )
    assert bad.exit_code == 1 and "--end: the wave ends (2027-04-15) before it starts" in bad.output
