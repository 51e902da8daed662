"""`surveyapp assignments create|import|list`: the same service as the pages; errors name the
problem and exit 1 with nothing stored."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import Assignment, Wave


def _ids(app) -> tuple[int, str, list[str]]:
    with app.app_context():
        wave = db.session.scalar(select(Wave).where(Wave.code == "2026-Q4"))
        street = next(c for c in wave.survey.district.children if c.level == "street")
        return wave.survey_id, street.code, [c.code for c in street.children[:3]]


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Assignment.id)))


def test_create_then_list(demo, runner):
    survey, street, communities = _ids(demo)
    args = ["assignments", "create", "--survey", str(survey), "--wave", "2026-Q4"]
    result = runner.invoke(
        args=[*args, "--user", "field02", "--locality", communities[0], "--mode", "door"]
        + ["--target", "35", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert created["created"] is True and created["target"] == 35
    assert created["enumerator"] == "field02" and created["locality"] == communities[0]
    with demo.app_context():
        stored = db.session.get(Assignment, created["id"])
        assert stored.mode == "door" and stored.target == 35 and stored.locality_editable
    # The same again changes the target.
    again = runner.invoke(
        args=[*args, "--user", "field02", "--locality", communities[0], "--mode", "door"]
        + ["--target", "40"]
    )
    assert again.exit_code == 0 and again.stdout.startswith("已修改")
    # A street by telephone.
    phone = runner.invoke(
        args=[*args, "--user", "field03", "--locality", street, "--mode", "phone", "--target", "9"]
    )
    assert phone.exit_code == 0, phone.output
    listed = runner.invoke(
        args=["assignments", "list", "--survey", str(survey), "--wave", "2026-Q4", "--format"]
        + ["json"]
    )
    assert listed.exit_code == 0
    records = {r["id"]: r for r in json.loads(listed.stdout)}
    assert records[created["id"]]["target"] == 40 and records[created["id"]]["completed"] == 0
    assert any(r["enumerator"] == "field03" and r["mode"] == "phone" for r in records.values())
    text = runner.invoke(args=["assignments", "list", "--survey", str(survey), "--wave", "2026-Q4"])
    assert "field02" in text.stdout and communities[0] in text.stdout


def test_create_errors_name_the_problem(demo, runner):
    survey, street, communities = _ids(demo)
    before = _count(demo)
    base = ["assignments", "create", "--mode", "door", "--target", "5"]
    cases = [
        (
            ["--survey", "999", "--wave", "2026-Q4", "--user", "field02", "--locality", street],
            "999",
        ),
        (
            [
                "--survey",
                str(survey),
                "--wave",
                "1999-Q1",
                "--user",
                "field02",
                "--locality",
                street,
            ],
            "1999-Q1",
        ),
        (
            ["--survey", str(survey), "--wave", "2026-Q4", "--user", "ghost", "--locality", street],
            "ghost",
        ),
        (
            ["--survey", str(survey), "--wave", "2026-Q4", "--user", "field02", "--locality", "77"],
            "77",
        ),
    ]
    for extra, word in cases:
        result = runner.invoke(args=[*base, *extra])
        assert result.exit_code == 1, (extra, result.output)
        assert word in result.output, (extra, result.output)
    bad_target = runner.invoke(
        args=["assignments", "create", "--survey", str(survey), "--wave", "2026-Q4", "--user"]
        + ["field02", "--locality", communities[0], "--mode", "door", "--target", "x1"]
    )
    assert bad_target.exit_code == 1 and "x1" in bad_target.output
    assert _count(demo) == before


def test_import_all_or_nothing(demo, runner, tmp_path):
    survey, street, communities = _ids(demo)
    before = _count(demo)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "enumerator,locality,mode,target\n"
        f"field02,{communities[0]},door,10\n"
        f"ghost,{communities[1]},door,10\n"
        f"field03,{communities[2]},door,ten\n",
        encoding="utf-8",
    )
    args = ["--survey", str(survey), "--wave", "2026-Q4"]
    result = runner.invoke(args=["assignments", "import", str(bad), *args])
    assert result.exit_code == 1
    assert "第 3 行" in result.output and "ghost" in result.output
    assert "第 4 行" in result.output and "ten" in result.output
    assert _count(demo) == before
    good = tmp_path / "good.csv"
    good.write_text(
        "enumerator,locality,mode,target\n"
        f"field02,{communities[0]},door,10\n"
        f"field03,{communities[1]},door,12\n",
        encoding="utf-8",
    )
    dry = runner.invoke(args=["assignments", "import", str(good), *args, "--dry-run"])
    assert dry.exit_code == 0 and "将创建 2 个任务" in dry.stdout
    assert _count(demo) == before
    done = runner.invoke(args=["assignments", "import", str(good), *args, "--format", "json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["created"] == 2 and len(report["assignments"]) == 2
    assert all(isinstance(a["id"], int) for a in report["assignments"])
    assert _count(demo) == before + 2
    missing = runner.invoke(args=["assignments", "import", str(tmp_path / "none.csv"), *args])
    assert missing.exit_code == 1 and "none.csv" in missing.output
