"""Rates of 0% or 100% (issue 18, defect 1): no interval of zero width, no contradictory ▲.

R's logit interval is [1, 1] at 100% (and NaN for method="beta"): the database path and the
``--data`` path both publish the Korn-Graubard interval with design effect 1 instead, marked
``fallback="beta"``; the R numbers are in tests/fixtures/survey/boundary.json
(test_estimates_r.py). Here: the same cells on both paths, and the comparisons on the line.
"""

from __future__ import annotations

import csv
import math
import shutil

import numpy as np
import pytest
from sqlalchemy import select

from surveyapp.estimate_command import estimate_survey
from surveyapp.estimation.tabular import EstimateRequest, estimate_csv
from surveyapp.extensions import db
from surveyapp.models import Survey
from surveyapp.services.estimates import wave_results
from surveyapp.services.wave_design import build_design, survey_settings
from surveyapp.services.wave_snapshot import extract_wave

RATES = ("security", "dispute_mediation", "dispute_resolution", "problem_solved")


@pytest.fixture(scope="module")
def wave(larger_demos, tmp_path_factory):
    """The 600-response demo's latest wave: results and the same data as a CSV file."""
    from surveyapp import create_app
    from tests.conftest import PG_URL, _close, _config, _pg_copy_template, wipe_postgres

    path = tmp_path_factory.mktemp("boundary") / "db.sqlite"
    template = larger_demos.template(600, 5)
    if not PG_URL:
        shutil.copy(template, path)
    app = create_app(_config(PG_URL or f"sqlite:///{path}"))
    if PG_URL:
        _pg_copy_template(app, larger_demos.schema(600, 5))
    with app.app_context():
        survey = db.session.scalar(select(Survey))
        wave = survey.waves[-1]
        results = wave_results(survey, wave)
        data = extract_wave(wave, survey.questionnaire_version.schema)
        streets = [s for s in survey.district.children if s.level == "street"]
        design, _ = build_design(data, streets, survey_settings(survey))
        rows = {
            "street": data.columns["street"],
            "community": data.columns["community"],
            "w": np.asarray(design.weights),
        }
        csv_path = path.parent / "wave.csv"
        with csv_path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["street", "community", "w", *RATES])
            for i in range(data.n):
                values = [data.values[r][i] for r in RATES]
                writer.writerow(
                    [rows["street"][i], rows["community"][i], repr(float(rows["w"][i]))]
                    + ["" if math.isnan(v) else str(int(v)) for v in values]
                )
        cli = estimate_survey(1, by="street", fmt="json", indicators=RATES)
        if PG_URL:
            wipe_postgres()
        _close(app)
    return results, csv_path, cli


def boundary_cells(results):
    return [
        (item.id, code, est)
        for item in results.items
        if item.id in RATES
        for code, est in item.by_street.items()
        if est is not None and est.value in (0.0, 1.0)
    ]


def test_no_published_interval_has_zero_width(wave):
    results, _, _ = wave
    cells = boundary_cells(results)
    assert len(cells) >= 3
    for item, code, est in cells:
        assert est.n >= 1
        assert est.ci_high - est.ci_low > 0.05, (item, code, est)
        assert est.ci_low <= est.value <= est.ci_high
        assert est.method == "beta" and est.fallback == "beta" and "Korn-Graubard" in est.note
    for item in results.items:
        for code, est in item.by_street.items():
            if est is not None and est.n >= 1:
                assert est.ci_high > est.ci_low, (item.id, code)


def test_no_difference_significant_inside_the_streets_own_interval(wave):
    results, _, _ = wave
    overruled = 0
    for item in results.items:
        district = item.overall
        for code, cmp in item.vs_district.items():
            est = item.by_street.get(code)
            if cmp is None or est is None:
                continue
            if est.ci_low <= district.value <= est.ci_high:
                assert not cmp.significant, (item.id, code, cmp)
            if cmp.note:
                overruled += 1
                assert cmp.p_value < 0.05 and not cmp.significant
        for code, cmp in item.vs_previous.items():
            est = item.overall if code == "ALL" else item.by_street.get(code)
            if cmp is None or est is None:
                continue
            previous = est.value - cmp.difference
            if est.ci_low <= previous <= est.ci_high:
                assert not cmp.significant, (item.id, code, cmp)
    # A 100% street with standard error 0: the old Wald test said p < 1e-6 (a ▲).
    assert overruled >= 1


def test_data_path_and_database_path_agree_at_the_boundary(wave):
    results, csv_path, _ = wave
    cells = boundary_cells(results)
    for item in {c[0] for c in cells}:
        rows = estimate_csv(
            EstimateRequest(
                data=csv_path,
                var=item,
                positive=("1",),
                weight="w",
                strata="street",
                clusters=("community",),
                by="street",
                lonely_psu="adjust",
            )
        )
        by_street = {r["domain"]: r for r in rows}
        for cell_item, code, est in cells:
            if cell_item != item:
                continue
            row = by_street[code]
            assert row["n"] == est.n and row["estimate"] == est.value
            assert row["fallback"] == "beta" and row["df"] == est.df
            for key in ("ci_low", "ci_high"):
                assert math.isclose(row[key], getattr(est, key), rel_tol=1e-12), (item, code)


def test_the_cli_marks_the_fallback(wave):
    import json

    _, _, cli = wave
    rows = json.loads(cli)["estimates"]
    marked = [r for r in rows if r["fallback"]]
    assert marked and all(r["estimate"] in (0.0, 1.0) for r in marked)
    assert all(r["ci_high"] - r["ci_low"] > 0.05 for r in marked)
