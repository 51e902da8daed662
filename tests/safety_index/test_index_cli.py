"""The `surveyapp index` commands on the demo: JSON as the issue gives it, the bulletin PDF read
back against it, and definition check/import."""

from __future__ import annotations

import json
from pathlib import Path

from tests.reports.conftest import pdf_lines

ROOT = Path(__file__).resolve().parents[2]
DISTRICT = "320106"


def compute_json(runner, *args: str) -> dict:
    result = runner.invoke(
        args=["index", "compute", "--district", DISTRICT, "--format", "json", *args]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_compute_json_shape_and_consistency(demo) -> None:
    runner = demo.test_cli_runner()
    out = compute_json(runner)
    assert list(out) == ["district", "month", "definition_version", "streets"]
    assert out["district"] == DISTRICT and out["definition_version"] == 1
    assert len(out["streets"]) == 13
    keys = ["code", "name", "index", "index_low", "index_high", "rank", "rank_low",
            "rank_high", "change", "components"]  # fmt: skip
    for s in out["streets"]:
        assert list(s) == keys
        assert s["index_low"] <= s["index"] <= s["index_high"]
        assert s["rank_low"] <= s["rank"] <= s["rank_high"]
        assert len(s["components"]) == 24
        assert abs(sum(c["points"] for c in s["components"]) - s["index"]) < 0.05
    assert [s["rank"] for s in out["streets"]] == sorted(s["rank"] for s in out["streets"])
    # The demo leaves out one street's fire count of the last month: carried, and said so.
    notes = [c["note"] for s in out["streets"] for c in s["components"] if c["indicator"] ==
             "fire_accidents" and c["note"]]  # fmt: skip
    assert len(notes) == 1 and "沿用" in notes[0]

    earlier = compute_json(runner, "--month", "2026-01") if out["month"] > "2026-01" else None
    if earlier:
        assert earlier["month"] == "2026-01"


def test_bad_month_and_district_are_errors(demo) -> None:
    runner = demo.test_cli_runner()
    result = runner.invoke(args=["index", "compute", "--district", "nope"])
    # a Chinese operator (the default language) reads the refusals in Chinese
    assert result.exit_code != 0 and "没有代码为「nope」的区县" in result.output
    result = runner.invoke(args=["index", "compute", "--district", DISTRICT, "--month", "2026-13"])
    assert result.exit_code != 0 and "月份「2026-13」不是 YYYY-MM 格式" in result.output


def test_bulletin_pdf_reads_back_as_the_json(demo, tmp_path) -> None:
    runner = demo.test_cli_runner()
    out = compute_json(runner)
    pdf = tmp_path / "bulletin.pdf"
    result = runner.invoke(args=["index", "report", "--district", DISTRICT, "-o", str(pdf)])
    assert result.exit_code == 0, result.output
    lines = pdf_lines(pdf.read_bytes())
    text = "\n".join(lines)
    assert "平安指数月报" in text and out["month"] in text
    for s in out["streets"]:
        # The league table reads back one cell per line: rank, interval, name, index, ...
        i = next(
            i for i in range(2, len(lines) - 3)
            if lines[i] == s["name"] and lines[i - 2] == str(s["rank"])
            and lines[i - 1] == f"{s['rank_low']}-{s['rank_high']}"
        )  # fmt: skip
        figures = lines[i - 2 : i + 4]
        # the JSON has two decimals, the PDF one: equal to within the rounding
        low, high = map(float, figures[4].split("-"))
        for shown, exact in ((figures[3], s["index"]), (low, s["index_low"]),
                             (high, s["index_high"]), (figures[5], s["change"])):  # fmt: skip
            assert abs(float(shown) - exact) <= 0.051, (s["name"], shown, exact)


def test_street_page(demo, tmp_path) -> None:
    runner = demo.test_cli_runner()
    out = compute_json(runner)
    first = out["streets"][0]
    pdf = tmp_path / "street.pdf"
    result = runner.invoke(
        args=["index", "report", "--district", DISTRICT, "--street", first["code"], "-o", str(pdf)]
    )
    assert result.exit_code == 0, result.output
    text = "\n".join(pdf_lines(pdf.read_bytes()))
    assert first["name"] in text and f"{first['index']:.1f}" in text
    result = runner.invoke(
        args=["index", "report", "--district", DISTRICT, "--street", "x", "-o", str(pdf)]
    )
    assert result.exit_code != 0 and "street x" in result.output


def test_definition_check_and_import(demo, tmp_path) -> None:
    runner = demo.test_cli_runner()
    shipped = ROOT / "questionnaires" / "safety-index.yaml"
    result = runner.invoke(args=["index", "definition", "check", str(shipped)])
    assert result.exit_code == 0 and result.output.strip().endswith("：没有问题")
    bad = tmp_path / "bad.yaml"
    bad.write_text(shipped.read_text(encoding="utf-8").replace("weight: 30", "weight: 31"))
    result = runner.invoke(args=["index", "definition", "check", str(bad)])
    assert (
        result.exit_code == 1
        and f"{bad}:" in result.output
        and "各分组权重之和必须为 100" in result.output
    )
    result = runner.invoke(args=["index", "definition", "import", str(shipped)])
    assert result.exit_code == 0 and "已经保存过" in result.output
    # the same version number with other content is refused; the next version is stored
    changed = shipped.read_text(encoding="utf-8").replace("weight: 30", "weight: 30.0")
    bad.write_text(changed)
    result = runner.invoke(args=["index", "definition", "import", str(bad)])
    assert result.exit_code != 0 and "请给修改后的定义下一个版本号（2）" in result.output
    bad.write_text(changed.replace("version: 1", "version: 2").replace(
        "effective_from: 2025-01", "effective_from: 2030-01"))  # fmt: skip
    result = runner.invoke(args=["index", "definition", "import", str(bad)])
    assert result.exit_code == 0 and "safety-index 第 2 版（自 2030-01 起）已保存" in result.output
    # months before 2030 still use version 1
    assert compute_json(runner)["definition_version"] == 1


def test_data_import_command(demo, tmp_path) -> None:
    runner = demo.test_cli_runner()
    good = tmp_path / "good.csv"
    good.write_text("street,month,series,value,unit\n320106001,2031-01,theft_alerts,4,起\n",
                    encoding="utf-8")  # fmt: skip
    result = runner.invoke(args=["index", "data", "import", str(good), "--dry-run"])
    assert result.exit_code == 0 and "未保存任何内容" in result.output
    result = runner.invoke(args=["index", "data", "import", str(good), "--user", "clerk"])
    assert result.exit_code == 0 and "已保存 1 个" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("street,month,series,value,unit\n320106001,2031-02,theft_alerts,x,起\n",
                   encoding="utf-8")  # fmt: skip
    result = runner.invoke(args=["index", "data", "import", str(bad)])
    assert result.exit_code == 1 and "row 2" in result.output and "未保存任何内容" in result.output


def test_the_survey_part_uses_released_waves_only(demo) -> None:
    from datetime import datetime

    from sqlalchemy import select

    from surveyapp.extensions import db
    from surveyapp.models import Wave
    from surveyapp.services.safety_index import compute_index, district_by_code

    with demo.app_context():
        q3, q4 = db.session.scalars(select(Wave).order_by(Wave.position)).all()
        assert q3.is_released and q4.is_released  # the demo releases both
        # November: the latest released wave that ended by the end of the month (Q3)
        out = compute_index(district_by_code(DISTRICT))
        note = "; ".join(part.translated() for part in out.result.survey_note)
        assert "2026-Q3" in note and "2026-Q4" not in note
        q3.released_at = q4.released_at = None
        db.session.commit()
        out = compute_index(district_by_code(DISTRICT))
        # worded where it is shown: Chinese by default, English in an English report
        (part,) = out.result.survey_note
        assert part.translated() == "public-security-satisfaction：无可用调查轮次"
        assert str(part) == "public-security-satisfaction: no survey wave available"
        public = {s.code: s.group_points["public"] for s in out.result.streets}
        assert set(public.values()) == {0.0}
        q4.released_at = datetime(2026, 12, 1)
        db.session.commit()
        out = compute_index(district_by_code(DISTRICT), "2026-11")
        note = "; ".join(part.translated() for part in out.result.survey_note)
        assert "2026-Q4" in note and "最早发布" in note
        assert "earliest published" in str(out.result.survey_note[0])


def test_english_bulletin_translates_the_missing_value_notes(demo, tmp_path) -> None:
    runner = demo.test_cli_runner()
    pdf = tmp_path / "en.pdf"
    result = runner.invoke(
        args=["index", "report", "--district", DISTRICT, "--lang", "en", "-o", str(pdf)]
    )
    assert result.exit_code == 0, result.output
    text = " ".join(pdf_lines(pdf.read_bytes()))
    assert "safety index bulletin" in text and "League table" in text
    assert "no value this month; the value of 20" in text and "沿用" not in text


def test_a_survey_source_must_name_a_stored_questionnaire_item(demo, tmp_path) -> None:
    runner = demo.test_cli_runner()
    text = (ROOT / "questionnaires" / "safety-index.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "typo.yaml"
    bad.write_text(
        text.replace("version: 1", "version: 5").replace("item: security}", "item: securty}")
    )
    result = runner.invoke(args=["index", "definition", "import", str(bad)])
    assert result.exit_code == 1
    assert "没有指标或综合得分“securty”" in result.output and f"{bad}:" in result.output
    nosuch = text.replace("version: 1", "version: 5")
    nosuch = nosuch.replace("survey: public-security-satisfaction, item: security}",
                            "survey: nosuch, item: security}")  # fmt: skip
    bad.write_text(nosuch)
    result = runner.invoke(args=["index", "definition", "import", str(bad)])
    assert result.exit_code == 1 and "没有保存名为“nosuch”的问卷" in result.output


def test_each_month_uses_the_version_in_force_and_says_what_changed(demo, tmp_path) -> None:
    runner = demo.test_cli_runner()
    latest = compute_json(runner)["month"]
    text = (ROOT / "questionnaires" / "safety-index.yaml").read_text(encoding="utf-8")
    v2 = text.replace("version: 1", "version: 2").replace(
        "effective_from: 2025-01", f"effective_from: {latest}"
    )
    v2 = v2.replace("target: 0.9, caps: [0.8, 1.0]}\n        weight: 2",
                    "target: 0.92, caps: [0.8, 1.0]}\n        weight: 3")  # fmt: skip
    file = tmp_path / "v2.yaml"
    file.write_text(v2, encoding="utf-8")
    result = runner.invoke(args=["index", "definition", "import", str(file)])
    assert result.exit_code == 0, result.output
    now = compute_json(runner)
    assert now["definition_version"] == 2
    from surveyapp.safety_index import month_add

    assert compute_json(runner, "--month", month_add(latest, -1))["definition_version"] == 1
    table = runner.invoke(args=["index", "compute", "--district", DISTRICT])
    assert "定义变更：指标 群众安全感 权重：2 → 3" in table.output
    assert "指标 群众安全感 标准化：target 0.9 [0.8, 1] → target 0.92 [0.8, 1]" in table.output
    pdf = tmp_path / "b.pdf"
    runner.invoke(args=["index", "report", "--district", DISTRICT, "-o", str(pdf)])
    assert "指标体系较上月有调整" in "".join(pdf_lines(pdf.read_bytes()))
