"""The `surveyapp` commands: questionnaire validation, users, surveys list, demo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import Answer, Locality, Response, Survey, User

ROOT = Path(__file__).resolve().parent.parent
STANDARD = ROOT / "questionnaires" / "public-security-satisfaction.yaml"


def test_validate_accepts_the_standard_questionnaire(runner):
    result = runner.invoke(args=["questionnaire", "validate", str(STANDARD)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("：没有问题")


def test_validate_lists_every_problem_with_line_and_field(runner, tmp_path):
    text = STANDARD.read_text(encoding="utf-8")
    lines = text.splitlines()
    # Break two things: an unknown code in a condition and a duplicate question id.
    target = next(i for i, line in enumerate(lines) if "${had_dispute} = 'yes'" in line)
    lines[target] = lines[target].replace("${had_dispute} = 'yes'", "${had_dispute} = 'maybe'")
    dup = next(i for i, line in enumerate(lines) if line.strip() == "- id: sex")
    lines[dup] = lines[dup].replace("sex", "age_group")
    bad = tmp_path / "bad.yaml"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(args=["questionnaire", "validate", str(bad)])
    assert result.exit_code == 1
    out = result.output
    assert f"{bad}:{target + 1}:" in out and "maybe" in out
    second = next(
        i for i, line in enumerate(lines) if i > dup and line.strip() == "- id: age_group"
    )
    assert (
        f"{bad}:{second + 1}: groups[8].questions[1].id: "
        f"题目编号“age_group”重复（首次出现在第 {dup + 1} 行）" in out
    )


def test_console_script_is_a_flask_group():
    result = subprocess.run(
        [sys.executable, "-c", "from surveyapp.cli import main; main()", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0
    for command in (
        "run",
        "db",
        "localities",
        "questionnaire",
        "surveys",
        "users",
        "demo",
        "estimate",
    ):
        assert f"  {command}" in result.stdout


def test_users_create(runner, app):
    result = runner.invoke(
        args=["users", "create", "wang", "--role", "manager", "--password", "long-enough-1"]
    )
    assert result.exit_code == 0, result.output
    short = runner.invoke(
        args=["users", "create", "li", "--role", "manager", "--password", "short"]
    )
    assert short.exit_code != 0 and "密码至少需要 8 个字符" in short.output
    again = runner.invoke(
        args=["users", "create", "wang", "--role", "admin", "--password", "long-enough-1"]
    )
    assert again.exit_code != 0 and "用户「wang」已存在" in again.output
    official = runner.invoke(
        args=["users", "create", "zhao", "--role", "official", "--password", "long-enough-1"]
    )
    assert official.exit_code != 0 and "领导账号必须指定管辖地区" in official.output
    # the displayed name's limit, as the web's form applies it (the column holds 120)
    long_name = runner.invoke(
        args=["users", "create", "zhou", "--role", "manager", "--password", "long-enough-1"]
        + ["--name", "名" * 121]
    )
    assert long_name.exit_code == 1 and "显示名称最多 120 个字符" in long_name.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "wang"))
        assert user.check_password("long-enough-1") and user.password_hash != "long-enough-1"
        assert db.session.scalar(select(User).where(User.username == "zhou")) is None


def test_demo_is_idempotent_and_listed(runner, app, monkeypatch):
    monkeypatch.setenv("PORT", "5123")  # `PORT=5123 make run` serves there
    first = runner.invoke(args=["demo", "--responses", "40", "--seed", "3"])
    assert first.exit_code == 0, first.output
    assert "enumerator-demo-2026" in first.output  # the passwords are printed
    assert "http://127.0.0.1:5123" in first.output
    with app.app_context():
        counts = (
            db.session.scalar(select(func.count(Locality.id))),
            db.session.scalar(select(func.count(User.id))),
            db.session.scalar(select(func.count(Response.id))),
            db.session.scalar(select(func.count(Answer.id))),
        )
        streets = db.session.scalar(
            select(func.count(Locality.id)).where(
                Locality.level == "street", Locality.parent.has(code="320106")
            )
        )
    assert streets == 13
    assert counts[2] == 40
    second = runner.invoke(args=["demo", "--responses", "40", "--seed", "3"])
    assert second.exit_code == 0
    with app.app_context():
        again = (
            db.session.scalar(select(func.count(Locality.id))),
            db.session.scalar(select(func.count(User.id))),
            db.session.scalar(select(func.count(Response.id))),
            db.session.scalar(select(func.count(Answer.id))),
        )
        survey_id = db.session.scalar(select(Survey.id))
    assert again == counts
    skipped = runner.invoke(args=["demo", "--if-empty"])
    assert "数据库中已有数据" in skipped.output

    listed = runner.invoke(args=["surveys", "list", "--format", "json"])
    data = json.loads(listed.output)
    assert data[0]["id"] == survey_id
    assert [w["code"] for w in data[0]["waves"]] == ["2026-Q3", "2026-Q4"]
    assert sum(w["responses"] for w in data[0]["waves"]) == 40


def test_demo_rates_differ_between_streets(runner, app):
    runner.invoke(args=["demo", "--responses", "1500", "--seed", "11"])
    with app.app_context():
        rows = db.session.execute(
            select(Response.street_id, Answer.value, func.count())
            .join(Answer, Answer.response_id == Response.id)
            .where(Answer.question == "security_overall")
            .group_by(Response.street_id, Answer.value)
        ).all()
    by_street: dict[int, list[int]] = {}
    for street, value, n in rows:
        pos, total = by_street.setdefault(street, [0, 0])
        by_street[street] = [
            pos + (n if value in ("1", "2", "3") else 0),
            total + (n if value != "9" else 0),
        ]
    rates = [pos / total for pos, total in by_street.values()]
    assert len(rates) == 13
    assert 0.7 < min(rates) < max(rates) < 1.0
    assert max(rates) - min(rates) > 0.04
