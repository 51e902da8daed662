"""The ``report`` and ``export`` commands."""

from __future__ import annotations

import csv

import pyreadstat

from .conftest import pdftotext


def test_report_street_district_and_all(demo, runner, tmp_path):
    out = tmp_path / "street.pdf"
    result = runner.invoke(
        args=["report", "--survey", "1", "--street", "320106001", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "宁海路街道" in pdftotext(out.read_bytes())
    english = tmp_path / "street-en.pdf"
    result = runner.invoke(
        args=[
            "report",
            "--survey",
            "1",
            "--wave",
            "2026-Q3",
            "--street",
            "320106001",
            "--lang",
            "en",
            "-o",
            str(english),
        ]
    )
    assert result.exit_code == 0, result.output
    text = pdftotext(english.read_bytes())
    assert "Sense of security" in text and "2026-Q3" in text
    district = tmp_path / "district.pdf"
    result = runner.invoke(
        args=["report", "--survey", "1", "--district", "320106", "-o", str(district)]
    )
    assert result.exit_code == 0, result.output
    assert "排名表" in pdftotext(district.read_bytes())
    folder = tmp_path / "all"
    result = runner.invoke(args=["report", "--survey", "1", "--all", "-o", str(folder)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == 14 and "320106-district-2026-Q4.pdf" in names
    assert "报告" in result.output  # the progress bar's label


def test_report_errors_name_the_problem(demo, runner, tmp_path):
    out = str(tmp_path / "x.pdf")
    cases = [
        # the command line speaks the default language (Chinese)
        (["--street", "999"], "街道「999」不在调查 1 的区（320106）内"),
        (["--district", "999999"], "“999999”不是调查 1 的区县"),
        (["--street", "320106001", "--all"], "请只给出"),
        (["--street", "320106001", "--lang", "fr"], "not 'fr'"),
        (["--street", "320106001", "--wave", "2030-Q1"], "没有调查期「2030-Q1」"),
    ]
    for extra, message in cases:
        result = runner.invoke(args=["report", "--survey", "1", *extra, "-o", out])
        assert result.exit_code != 0 and message in result.output, (extra, result.output)
    result = runner.invoke(args=["report", "--survey", "7", "--all", "-o", out])
    assert "没有编号为 7 的调查" in result.output


def test_export_responses_and_estimates(demo, runner, tmp_path):
    sav = tmp_path / "r.sav"
    result = runner.invoke(args=["export", "--survey", "1", "--format", "sav", "-o", str(sav)])
    assert result.exit_code == 0, result.output
    _frame, meta = pyreadstat.read_sav(str(sav), metadataonly=True)
    assert meta.variable_value_labels["mode"] == {"phone": "电话", "door": "入户"}
    est = tmp_path / "e.csv"
    result = runner.invoke(
        args=["export", "--survey", "1", "--what", "estimates", "--format", "csv", "-o", str(est)]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(est.read_text(encoding="utf-8-sig").splitlines()))
    assert {r["level"] for r in rows} == {"district", "street", "community"}
    result = runner.invoke(
        args=["export", "--survey", "1", "--what", "estimates", "--format", "sav", "-o", str(est)]
    )
    assert result.exit_code != 0 and "而不是「sav」" in result.output
