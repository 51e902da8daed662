"""Estimates from the database agree with R's survey package on the same wave.

The reference (tests/fixtures/survey/reference.json) was made by R from the wave's data
(wave.csv, population.csv; see survey_wave_reference.R and scripts/make_survey_fixture.py).
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from surveyapp.estimate_command import estimate_survey
from surveyapp.extensions import db
from surveyapp.models import Survey
from surveyapp.services.estimates import wave_results
from surveyapp.services.wave_selection import EstimateRequestError
from surveyapp.services.wave_snapshot import extract_wave

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "survey"
REFERENCE = json.loads((FIXTURES / "reference.json").read_text())
# Street x indicator cells at 0% or 100%, where R's logit interval has zero width: the
# Korn-Graubard interval with design effect 1, from R (survey_wave_boundary.R; issue 18).
# (R's logit width is below 1e-9, or NaN where its expit overflows.)
BOUNDARY = {
    (c["item"], c["street"]): c
    for c in json.loads((FIXTURES / "boundary.json").read_text(encoding="utf-8"))
}
ITEMS = ("security", "dispute_resolution", "grid_awareness", "security_score")


@pytest.fixture
def wave_app(app, load_demo_copy):
    load_demo_copy(600, 5)
    return app


def close(a: float, b: float, rel: float = 1e-7, abs_: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def test_extracted_wave_is_the_data_r_was_given(wave_app):
    with wave_app.app_context():
        survey = db.session.scalar(select(Survey))
        data = extract_wave(survey.waves[-1], survey.questionnaire_version.schema)
    with open(FIXTURES / "wave.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert data.n == len(rows)
    for column in ("street", "community", "sex", "age_group"):
        assert data.columns[column].tolist() == [r[column] for r in rows]
    for item in ITEMS:
        expected = np.array([float(r[item]) if r[item] else np.nan for r in rows])
        np.testing.assert_array_equal(data.values[item], expected)


def _expected(ref: dict) -> dict:
    """R's numbers for one domain, where R has some.

    Where R's glm did not converge from its default start (estimate NaN), the reference is
    the same svyglm started at its solution (``converged`` in the fixture). A bound R reports
    as NaN is ``expit(Inf)``: confint.svyglm's Normal level rounds to 1 at one degree of
    freedom or when the estimate is 100%; its limit is 1.
    """
    out = {k: ref[k] for k in ("estimate", "se", "ci_low", "ci_high")}
    if out["estimate"] is None:
        out.update(ref["converged"])
    if out["ci_high"] is None:
        out["ci_high"] = 1.0
    return out


def _compare_with_r(app, small: bool) -> int:
    with app.app_context():
        out = json.loads(estimate_survey(1, by="street", fmt="json", indicators=ITEMS))
    assert out["settings"]["ci_method"] == "logit" and out["weighting"]["method"] == "rake"
    rows = {(r["indicator"], r["domain"]): r for r in out["estimates"]}
    checked = 0
    for item in ITEMS:
        for domain, ref in REFERENCE[item].items():
            if (ref["n"] < 10) != small:
                continue
            got = rows.get((item, domain))
            if ref["df"] == 0 and (item, domain) not in BOUNDARY:
                # R gives no interval (qt with 0 df); we give no estimate and say why.
                assert got is None, (item, domain)
                assert any(
                    n.startswith(f"{item} {domain}:") and "0 degrees of freedom" in n
                    for n in out["notes"]
                ), out["notes"]
                checked += 1
                continue
            assert got is not None, (item, domain, "no estimate")
            assert got["n"] == ref["n"], (item, domain)
            assert got["df"] == ref["df"], (item, domain)
            if (item, domain) in BOUNDARY:
                kg = BOUNDARY[(item, domain)]
                assert (kg["logit_width"] or 0.0) < 1e-9 and got["estimate"] == kg["estimate"]
                assert got["fallback"] == "beta" and got["ci_high"] - got["ci_low"] > 0.1
                for key in ("ci_low", "ci_high"):
                    assert math.isclose(got[key], kg[key], rel_tol=1e-12), (item, domain, key)
                checked += 1
                continue
            assert got["fallback"] == ""
            for key, value in _expected(ref).items():
                assert close(got[key], value), (item, domain, key, got[key], value)
            checked += 1
    return checked


def test_estimates_agree_with_r(wave_app):
    assert _compare_with_r(wave_app, small=False) > 20


def test_tiny_domains_on_raked_designs_agree_with_r(wave_app):
    # 14 domains of fewer than 10 respondents, three where R's glm does not converge.
    assert _compare_with_r(wave_app, small=True) == 15


def test_wave_results_are_consistent_with_the_cli_numbers(wave_app):
    with wave_app.app_context():
        survey = db.session.get(Survey, 1)
        results = wave_results(survey, survey.waves[-1])
    security = results.item("security")
    assert close(security.overall.value, REFERENCE["security"]["ALL"]["estimate"])
    assert set(security.by_street) == {s for s in REFERENCE["security"] if s != "ALL"}
    for code, est in security.by_street.items():
        assert close(est.value, REFERENCE["security"][code]["estimate"])
        assert est.ci_low <= est.value <= est.ci_high
    # Ranks follow the point estimates (ties share the average rank); intervals hold the rank.
    values = {c: e.value for c, e in security.by_street.items()}
    for a in values:
        higher = sum(1 for b in values if values[b] > values[a] + 1e-9)
        tied = sum(1 for b in values if abs(values[b] - values[a]) <= 1e-9)
        assert security.ranks[a].rank == pytest.approx(higher + (tied + 1) / 2)
    assert all(r.low <= r.rank <= r.high for r in security.ranks.values())
    # The previous wave exists, so every street is compared with it.
    assert results.previous_wave_code == "2026-Q3"
    assert "ALL" in security.vs_previous


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"survey_id": 99}, "no survey with id 99"),
        ({"survey_id": 1, "wave": "1999-Q1"}, "has no wave '1999-Q1'"),
        ({"survey_id": 1, "by": "planet"}, "--by must be one of"),
        ({"survey_id": 1, "indicators": ("nope",)}, "unknown indicator(s) nope"),
    ],
)
def test_bad_requests_are_named(demo, kwargs, message):
    with (
        demo.app_context(),
        pytest.raises(EstimateRequestError, match=message.replace("(", r"\(").replace(")", r"\)")),
    ):
        estimate_survey(**kwargs)
