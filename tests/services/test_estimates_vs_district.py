"""Street vs district (issue 18, defect 2): the test uses the street's degrees of freedom.

The street's interval on the same line uses the street's degrees of freedom (PSUs minus
strata among its respondents: 1 to 6 here); the test used the district's (dozens), so
differences were called significant that the street's own precision does not support. R's
numbers (tests/fixtures/survey/vs_district.json, survey_wave_vs_district.R): the difference
and its standard error from the joint linearisation, and the p-value with either df.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Survey
from surveyapp.services.estimates import wave_results

REFERENCE = json.loads(
    (Path(__file__).parent.parent / "fixtures" / "survey" / "vs_district.json").read_text()
)


@pytest.fixture
def results(app, load_demo_copy):
    load_demo_copy(600, 5)
    with app.app_context():
        survey = db.session.scalar(select(Survey))
        return wave_results(survey, survey.waves[-1])


def test_street_vs_district_uses_the_streets_degrees_of_freedom(results):
    flips = 0
    for item_id, rows in REFERENCE.items():
        item = results.item(item_id)
        for code, ref in rows.items():
            cmp, est = item.vs_district[code], item.by_street[code]
            if ref["df_street"] <= 0:
                assert cmp is None  # one respondent: nothing to test with
                continue
            assert cmp.df == est.df == ref["df_street"], (item_id, code)
            assert math.isclose(cmp.difference, ref["difference"], rel_tol=1e-7, abs_tol=1e-10)
            assert math.isclose(cmp.se, ref["se"], rel_tol=1e-7)
            if ref["p_street"] is None:
                continue
            assert math.isclose(cmp.p_value, ref["p_street"], rel_tol=1e-6, abs_tol=1e-12)
            r_significant = ref["p_street"] < 0.05
            if cmp.note:  # withdrawn: the street's own interval holds the district's value
                assert r_significant and not cmp.significant
            else:
                assert cmp.significant == r_significant, (item_id, code)
            if (ref["p_district"] < 0.05) != r_significant:
                flips += 1
                assert cmp.significant == r_significant
    # Comparisons whose verdict the district's degrees of freedom got wrong.
    assert flips >= 5


def test_a_significant_difference_lies_outside_the_streets_interval(results):
    for item in results.items:
        for code, cmp in item.vs_district.items():
            est = item.by_street.get(code)
            if cmp is not None and cmp.significant:
                district = est.value - cmp.difference
                assert not est.ci_low <= district <= est.ci_high, (item.id, code)
