"""The annual assessment (issue 18): a year's waves pooled, against R; the command.

pooled_2026.csv is the demo's two 2026 waves (600 responses, seed 5) stacked as surveyapp
pools them (wave x street strata, wave x community PSUs, each wave's final weights / 2);
pooled_reference.R estimates on that design with R's survey package.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Survey
from surveyapp.services.assessment import pooled_year

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "survey"
REFERENCE = json.loads((FIXTURES / "pooled_reference.json").read_text(encoding="utf-8"))


@pytest.fixture
def demo600(app, load_demo_copy):
    load_demo_copy(600, 5)
    with app.app_context():
        yield app


def test_pooled_year_agrees_with_r(demo600):
    survey = db.session.scalar(select(Survey))
    figures = pooled_year(survey, list(survey.waves), ("security", "security_score"))
    pooled = figures["pooled"]
    with (FIXTURES / "pooled_2026.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    # The data R was given are the pooled design's rows.
    assert [r["stratum"] for r in rows] == pooled.strata.tolist()
    assert [r["psu"] for r in rows] == pooled.clusters.tolist()
    np.testing.assert_allclose([float(r["w"]) for r in rows], pooled.design.weights, rtol=1e-12)
    # Each wave is weighted to the population; pooled, the weights hold it once.
    assert math.isclose(float(np.sum(pooled.design.weights)), REFERENCE["weights_sum"])
    assert pooled.design.degf() == REFERENCE["degf"]
    for code, ref in REFERENCE["security"].items():
        if code == "ALL":
            continue
        est = figures["rate"][code]
        assert est.df == ref["df"]
        if est.value in (0.0, 1.0):  # R's zero-width logit interval: Korn-Graubard instead
            assert est.fallback == "beta" and est.ci_high - est.ci_low > 0.1
            assert math.isclose(est.value, ref["estimate"], abs_tol=1e-9)
            continue
        assert not est.fallback
        for key, value in (("estimate", est.value), ("se", est.se), ("ci_low", est.ci_low),
                           ("ci_high", est.ci_high)):  # fmt: skip
            assert math.isclose(value, ref[key], rel_tol=1e-7), (code, key)
    for code, ref in REFERENCE["security_score"].items():
        est = figures["score"][code]
        assert math.isclose(est.value, ref["estimate"], rel_tol=1e-10)
        assert math.isclose(est.se, ref["se"], rel_tol=1e-8) and est.df == ref["df"]


def test_the_assessment_command(demo600):
    runner = demo600.test_cli_runner()
    result = runner.invoke(args=["assessment", "--district", "320106", "--year", "2026",
                                 "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["quarters"] == {"2026-Q3": "2026-Q3", "2026-Q4": "2026-Q4"}
    assert doc["annual_waves"] == {"2026": ["2026-Q3", "2026-Q4"]}
    assert len(doc["streets"]) == 13
    rates = {s["code"]: s["annual_rate"]["value"] for s in doc["streets"]}
    assert math.isclose(rates["320106001"], REFERENCE["security"]["320106001"]["estimate"],
                        rel_tol=1e-7)  # fmt: skip
    for s in doc["streets"]:
        # 单项安全感 under 80% -> disqualified; no 2025 waves: no veto by the two-year rules.
        assert s["disqualified"] == (s["annual_rate"]["value"] < 0.8)
        assert not s["veto"]
        assert set(s["quarters"]) == {"2026-Q3", "2026-Q4"}
    table = runner.invoke(args=["assessment", "--district", "320106", "--year", "2026"])
    assert table.exit_code == 0 and "宁海路街道" in table.output
    for args, message in [
        (["--district", "999", "--year", "2026"], "没有代码为 999 的地区"),
        (["--district", "320106", "--year", "2019"], "区 320106 没有在 2019 年开始的调查期"),
    ]:
        bad = runner.invoke(args=["assessment", *args])
        assert bad.exit_code == 1 and message in bad.output
