"""A street interviewed in one community (issue 18, defect 3) stays in every table.

With communities as PSUs such a street has one PSU, 0 degrees of freedom, and R gives no
interval; it used to vanish from the estimates, the PDFs' sample column and the league
table, so it could never be among the bottom five. Now its point estimate is the design's,
and its interval comes from its respondents taken as PSUs within the street (weights fixed,
n - 1 degrees of freedom), marked ``fallback`` "respondents" and ‡ in the PDFs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from sqlalchemy import select, update

from surveyapp.estimation.estimates import t_quantile
from surveyapp.extensions import db
from surveyapp.models import Locality, Response, Survey
from surveyapp.reports import build_district_pdf
from surveyapp.services.estimates import wave_results
from surveyapp.services.wave_design import build_design, survey_settings
from surveyapp.services.wave_snapshot import extract_wave
from tests.reports.conftest import pdf_tokens

STREET = "320106007"  # 凤凰街道


@pytest.fixture
def one_community(app, load_demo_copy):
    """The 600-response demo, the latest wave's 凤凰街道 interviews all in its first community."""
    load_demo_copy(600, 5)
    with app.app_context():
        survey = db.session.scalar(select(Survey))
        wave = survey.waves[-1]
        street = db.session.scalar(select(Locality).where(Locality.code == STREET))
        community = street.children[0]
        grid = community.children[0] if community.children else None
        db.session.execute(
            update(Response)
            .where(Response.wave_id == wave.id, Response.street_id == street.id)
            .values(
                community_id=community.id,
                grid_id=grid.id if grid else None,
                locality_id=(grid or community).id,
            )
        )
        db.session.commit()
        results = wave_results(survey, wave)
        data = extract_wave(wave, survey.questionnaire_version.schema)
        streets = [s for s in survey.district.children if s.level == "street"]
        design, _ = build_design(data, streets, survey_settings(survey))
        yield app, results, data, design


def test_the_street_keeps_its_estimate_and_a_marked_interval(one_community):
    _app, results, data, design = one_community
    mine = data.columns["street"] == STREET
    assert len(set(data.columns["community"][mine].tolist())) == 1
    w_all = np.asarray(design.weights)
    for item in results.items:
        if item.kind != "rate":
            continue
        est = item.by_street[STREET]
        y = data.values[item.id][mine]
        w = w_all[mine]
        ok = ~np.isnan(y)
        y, w = y[ok], w[ok]
        n = int(ok.sum())
        if n == 0:
            assert est is None
            continue
        assert est is not None, item.id
        p = float(np.sum(w * y) / np.sum(w))
        assert est.n == n and math.isclose(est.value, p, rel_tol=1e-7, abs_tol=1e-12)
        if n < 2:  # one respondent: Clopper-Pearson of one trial, no degrees of freedom
            assert est.fallback == "beta"
            assert math.isclose(est.ci_high - est.ci_low, 0.975)
            continue
        assert "respondents" in est.fallback
        assert est.df == n - 1
        # With-replacement variance of a ratio, respondents as PSUs (by hand).
        z = w * (y - p) / np.sum(w)
        var = n / (n - 1) * float(np.sum((z - z.mean()) ** 2))
        assert math.isclose(est.se, math.sqrt(var), rel_tol=1e-9, abs_tol=1e-15)
        assert est.ci_low < est.value < est.ci_high or est.fallback == "beta+respondents"
        if est.fallback == "respondents" and item.id == "security":
            t = t_quantile(0.975, n - 1)
            eta = math.log(p / (1 - p))
            half = t * math.sqrt(var) / (p * (1 - p))
            assert math.isclose(est.ci_low, 1 / (1 + math.exp(-(eta - half))), rel_tol=1e-6)


def test_the_street_is_ranked_compared_and_counted(one_community):
    _app, results, _data, _design = one_community
    security = results.item("security")
    assert STREET in security.ranks and len(security.ranks) == 13
    assert security.vs_district[STREET] is not None
    assert security.vs_district[STREET].df == security.by_street[STREET].df
    assert results.n_by_street[STREET] >= security.by_street[STREET].n >= 2


def test_the_district_report_lists_the_street(one_community):
    app, results, _data, _design = one_community
    from surveyapp.services.reports import find_survey_wave, gather

    with app.app_context():
        survey, wave = find_survey_wave(1)
        bundle = gather(survey, wave)
        pdf = build_district_pdf(bundle.results, bundle.meta, "zh_CN")
    tokens = pdf_tokens(pdf)
    start = tokens.index("状态")  # the league table
    est = bundle.results.item("security").by_street[STREET]
    i = tokens.index("凤凰街道", start)
    row = tokens[i + 1 : i + 4]
    n_text = f"{est.n}†" if est.n < 30 else str(est.n)
    assert row[0] == n_text
    assert row[1] == f"{est.value * 100:.1f}"
    assert row[2].endswith("‡")
