"""`surveyapp estimate --data` through main_data(), against R, and its error messages."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
from r_reference import FIXTURES, close, reference

from surveyapp.estimate_command import main_data
from surveyapp.estimation.estimates import t_quantile

GENERATED = FIXTURES / "design_generated.csv"
ONE_STAGE = ["--strata", "street", "--cluster", "community", "--weight", "w"]
TWO_STAGE = [
    "--strata", "street", "--cluster", "community,household", "--fpc", "N_comm,N_hh",
    "--weight", "w",
]  # fmt: skip
KEYS = ["domain", "n", "estimate", "se", "ci_low", "ci_high", "df", "deff", "fallback"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main_data([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    code, out, err = run(capsys, *args, "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert all(list(r) == KEYS for r in rows)
    return rows


def r_rows(case_id: str) -> dict[str, dict]:
    case = next(c for c in reference("domain_reference.json") if c["id"] == case_id)
    return {r["key"][0]: r for r in case["rows"]}


def r_all(case_id: str) -> dict:
    return next(c for c in reference("ciprop_reference.json") if c["id"] == case_id)["result"]


@pytest.mark.parametrize("method", ["logit", "asin", "beta", "mean", "xlogit"])
def test_proportions_by_street_match_r(capsys, method: str) -> None:
    rows = run_json(
        capsys, "--data", GENERATED, "--var", "y", "--positive", "1", "--by", "street",
        *ONE_STAGE, "--method", method,
    )  # fmt: skip
    expected = r_rows(f"gen_1stage/y/street/svyciprop/{method}/0.95")
    assert [r["domain"] for r in rows][-1] == "ALL"
    assert {r["domain"] for r in rows[:-1]} == set(expected)
    for row in rows[:-1]:
        ref = expected[row["domain"]]
        assert row["n"] == ref["n"] and row["df"] == ref["df"]
        assert close(row["se"], ref["se"], atol=1e-12)
        if row["estimate"] in (0.0, 1.0):  # the 100% street: see test_ciprop_r.py
            continue
        assert close(row["estimate"], ref["value"])
        for key in ("ci_low", "ci_high"):
            if ref.get(key) is None:  # R's expit overflow (NaN) at df = 1
                assert row[key] == 1.0
            elif method == "asin" and row[key] in (0.0, 1.0):
                continue  # R's sin()^2 wraps round past pi/2; ours is clipped
            else:
                assert close(row[key], ref[key], atol=1e-300), (row["domain"], key)
    whole = r_all(f"gen_1stage/y/all/{method}/0.95")
    overall = rows[-1]
    assert overall["n"] == whole["n"] and overall["df"] == whole["df"]
    for key, ref_key in (("estimate", "value"), ("se", "se"), ("ci_low", "ci_low"),
                         ("ci_high", "ci_high"), ("deff", "deff")):  # fmt: skip
        assert close(overall[key], whole[ref_key]), key


def test_two_stage_fpc_and_missing_answers_match_r(capsys) -> None:
    rows = run_json(
        capsys, "--data", GENERATED, "--var", "y_missing", "--positive", "1", "--by", "sex",
        *TWO_STAGE,
    )  # fmt: skip
    overall = rows[-1]
    # y_missing has empty fields: they are left out of n and of the estimate.
    with GENERATED.open(encoding="utf-8") as f:
        answered = sum(1 for r in csv.DictReader(f) if r["y_missing"] != "")
    assert overall["n"] == answered
    whole = r_all("gen_2stage_fpc/y/all/logit/0.95")  # y without missing values
    assert overall["n"] < whole["n"]
    full = run_json(capsys, "--data", GENERATED, "--var", "y", "--positive", "1", *TWO_STAGE)
    assert len(full) == 1
    for key, ref_key in (("estimate", "value"), ("se", "se"), ("ci_low", "ci_low"),
                         ("ci_high", "ci_high"), ("df", "df"), ("deff", "deff")):  # fmt: skip
        assert close(full[0][key], whole[ref_key]), key


def test_numeric_mean_by_street_matches_r(capsys) -> None:
    rows = run_json(capsys, "--data", GENERATED, "--var", "score", "--by", "street", *ONE_STAGE)
    expected = r_rows("gen_1stage/score/street/svymean//0.95")
    for row in rows[:-1]:
        ref = expected[row["domain"]]
        assert close(row["estimate"], ref["value"]) and close(row["se"], ref["se"])
        assert close(row["deff"], ref["deff"]) and row["df"] == ref["df"]
        t = t_quantile(0.975, row["df"])
        assert close(row["ci_low"], row["estimate"] - t * row["se"])
    design_case = next(
        c["result"]
        for c in reference("design_reference.json")
        if c["id"] == "gen_1stage/mean/score/all/fail/0.95"
    )
    overall = rows[-1]
    for key, ref_key in (("estimate", "value"), ("se", "se"), ("ci_low", "ci_low"),
                         ("ci_high", "ci_high"), ("deff", "deff")):  # fmt: skip
        assert close(overall[key], design_case[ref_key]), key


def test_rake_matches_r(capsys) -> None:
    rows = run_json(
        capsys, "--data", GENERATED, "--var", "y", "--positive", "1", "--by", "street",
        *ONE_STAGE, "--rake", FIXTURES / "design_rake_margins.csv",
    )  # fmt: skip
    expected = {r["domain"]: r for r in reference("design_rake_cli.json")}
    assert {r["domain"] for r in rows} == set(expected)
    for row in rows:
        ref = expected[row["domain"]]
        assert row["n"] == ref["n"] and row["df"] == ref["df"]
        if row["estimate"] in (0.0, 1.0):
            continue
        for key in ("estimate", "se", "ci_low", "ci_high"):
            if ref[key] is None:  # R's expit overflow (NaN) at df = 1
                assert key == "ci_high" and row[key] == 1.0
            else:
                assert close(row[key], ref[key]), (row["domain"], key)


def test_level_and_positive_codes(capsys) -> None:
    narrow = run_json(capsys, "--data", GENERATED, "--var", "y", "--positive", "1", *ONE_STAGE,
                      "--level", "0.9")  # fmt: skip
    ref = r_all("gen_1stage/y/all/logit/0.9")
    assert close(narrow[0]["ci_low"], ref["ci_low"])
    # Codes match as text or as numbers: "1.0" is the code 1; several codes are allowed.
    same = run_json(capsys, "--data", GENERATED, "--var", "y", "--positive", "1.0", *ONE_STAGE)
    assert close(same[0]["estimate"], ref["value"])
    both = run_json(capsys, "--data", GENERATED, "--var", "y", "--positive", "0,1", *ONE_STAGE)
    assert both[0]["estimate"] == 1.0


def test_csv_and_table_formats(capsys) -> None:
    args = ["--data", GENERATED, "--var", "y", "--positive", "1", "--by", "street", *ONE_STAGE]
    code, out, _ = run(capsys, *args, "--format", "csv")
    assert code == 0
    table = list(csv.DictReader(io.StringIO(out)))
    assert list(table[0]) == KEYS and table[-1]["domain"] == "ALL"
    code, out, _ = run(capsys, *args, "--format", "table")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == KEYS and lines[-1].startswith("ALL")
    assert any(line.startswith("鼓楼") for line in lines)


def test_domain_without_interval_keeps_its_row(capsys, tmp_path: Path) -> None:
    data = tmp_path / "one.csv"
    data.write_text(
        "street,community,w,y\nA,a1,1,1\nA,a2,2,0\nA,a3,1,1\nB,b1,3,1\n", encoding="utf-8"
    )
    code, out, err = run(capsys, "--data", data, "--var", "y", "--positive", "1", "--by",
                         "community", "--weight", "w", "--format", "json")  # fmt: skip
    assert code == 0
    rows = json.loads(out)
    by_domain = {r["domain"]: r for r in rows}
    # A single respondent (R gives NaN): no interval of zero width is published (issue 18),
    # but the Clopper-Pearson interval of one trial, [0.025, 1], marked as a fallback.
    b1 = by_domain["b1"]
    assert b1["n"] == 1 and b1["estimate"] == 1.0 and b1["fallback"] == "beta"
    assert math.isclose(b1["ci_low"], 0.025, rel_tol=1e-12) and b1["ci_high"] == 1.0
    assert "警告：b1" in err and "Korn-Graubard" in err
    assert by_domain["ALL"]["ci_low"] is not None


# ---------------------------------------------------------------------- errors
def error_of(capsys, *args: str) -> str:
    code, out, err = run(capsys, *args)
    assert code == 2, (out, err)
    assert "Traceback" not in err and out == ""
    return err


def test_missing_file(capsys, tmp_path: Path) -> None:
    err = error_of(capsys, "--data", tmp_path / "nope.csv", "--var", "y")
    assert "nope.csv：文件不存在" in err  # the command line's language: Chinese by default


def test_unknown_column_is_named(capsys) -> None:
    err = error_of(
        capsys, "--data", GENERATED, "--var", "y", "--weight", "weight", "--positive", "1"
    )
    assert "'weight'" in err and "street" in err  # lists the columns there are


def test_non_numeric_weight_names_the_row(capsys, tmp_path: Path) -> None:
    data = tmp_path / "w.csv"
    data.write_text("y,w\n1,2\n0,1.5\n1,abc\n", encoding="utf-8")
    err = error_of(capsys, "--data", data, "--var", "y", "--positive", "1", "--weight", "w")
    assert "第 3 条记录（第 4 行）：列“w”的值“abc”不是数字" in err


def test_empty_weight_names_the_row(capsys, tmp_path: Path) -> None:
    data = tmp_path / "w.csv"
    data.write_text("y,w\n1,2\n0,\n", encoding="utf-8")
    err = error_of(capsys, "--data", data, "--var", "y", "--positive", "1", "--weight", "w")
    assert "第 2 条记录（第 3 行）：权重列“w”为空" in err


def test_non_numeric_variable_without_positive(capsys, tmp_path: Path) -> None:
    data = tmp_path / "v.csv"
    data.write_text("y\n1\nyes\n", encoding="utf-8")
    err = error_of(capsys, "--data", data, "--var", "y")
    assert "第 2 条记录（第 3 行）：列“y”的值“yes”不是数字；如要估计某些答案代码的比例" in err


def test_bad_row_length(capsys, tmp_path: Path) -> None:
    data = tmp_path / "r.csv"
    data.write_text("y,w\n1,2\n0,1,7\n1,1\n", encoding="utf-8")
    err = error_of(capsys, "--data", data, "--var", "y", "--positive", "1")
    assert "第 2 条记录（第 3 行）有 3 个字段" in err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("variable,total\nsex,3\n", "variable,category,total"),
        ("variable,category,total\nsex,F,many\n", "'many' is not a number"),
        ("variable,category,total\nsex,F,-4\n", "positive"),
        ("variable,category,total\n", "no rows"),
        ("variable,category,total\nnosuch,F,4\n", "'nosuch'"),
    ],
)
def test_bad_margins_file(capsys, tmp_path: Path, content: str, expected: str) -> None:
    margins = tmp_path / "m.csv"
    margins.write_text(content, encoding="utf-8")
    err = error_of(capsys, "--data", GENERATED, "--var", "y", "--positive", "1", *ONE_STAGE,
                   "--rake", margins)  # fmt: skip
    assert expected in err


def test_margins_that_do_not_fit_the_data(capsys, tmp_path: Path) -> None:
    margins = tmp_path / "m.csv"
    margins.write_text("variable,category,total\nsex,F,10\n", encoding="utf-8")  # no M
    err = error_of(capsys, "--data", GENERATED, "--var", "y", "--positive", "1", *ONE_STAGE,
                   "--rake", margins)  # fmt: skip
    assert "M" in err


def test_lonely_psu_names_the_stratum(capsys) -> None:
    lonely = FIXTURES / "design_generated_lonely.csv"
    err = error_of(capsys, "--data", lonely, "--var", "score", *ONE_STAGE)
    assert "宁海路" in err and "only one PSU" in err
    code, out, _ = run(capsys, "--data", lonely, "--var", "score", *ONE_STAGE,
                       "--lonely-psu", "remove", "--format", "json")  # fmt: skip
    assert code == 0 and json.loads(out)[0]["ci_low"] is not None


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "或 --survey 编号，二者选一"),
        (["--data", "x.csv", "--survey", "1"], "或 --survey 编号，二者选一"),
        (["--data", str(GENERATED)], "--var"),
        (["--data", str(GENERATED), "--var", "y", "--method", "exact"], "exact"),
        (["--data", str(GENERATED), "--var", "y", "--level", "1.5"], "level"),
        (
            [
                "--data",
                str(GENERATED),
                "--var",
                "y",
                "--cluster",
                "community,household",
                "--fpc",
                "N_comm",
            ],
            "--fpc",
        ),  # fmt: skip
    ],
)
def test_usage_errors(capsys, args: list[str], expected: str) -> None:
    assert expected in error_of(capsys, *args)


def test_help_exits_zero(capsys) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "--positive" in out


def test_values_are_finite_json(capsys) -> None:
    rows = run_json(capsys, "--data", GENERATED, "--var", "y", "--positive", "1", "--by",
                    "street", *ONE_STAGE, "--method", "likelihood")  # fmt: skip
    for row in rows:
        for key in KEYS[2:-1]:
            assert row[key] is None or math.isfinite(row[key])


def test_method_without_positive_is_refused(capsys) -> None:
    # Issue 18, defect 5: --method used to be ignored silently for a numeric mean.
    code, out, err = run(capsys, "--data", GENERATED, "--var", "score", *ONE_STAGE,
                         "--method", "beta")  # fmt: skip
    assert code == 2 and out == ""
    assert "--method beta" in err and "--positive" in err and "“score”" in err
    # Without --method the mean is estimated; with --positive the method applies.
    assert run(capsys, "--data", GENERATED, "--var", "score", *ONE_STAGE)[0] == 0
    rows = run_json(capsys, "--data", GENERATED, "--var", "y", "--positive", "1", *ONE_STAGE,
                    "--method", "beta")  # fmt: skip
    assert close(rows[0]["ci_low"], r_all("gen_1stage/y/all/beta/0.95")["ci_low"])
