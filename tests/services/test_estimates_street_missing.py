"""A street with no counted responses (issue 18, defect 4) is named, not silently left out.

Every response of 宁海路街道 in the latest wave is rejected by review: the district figure then
describes the other twelve streets only (their weights sum to their populations). The district
report's league table says so on the district row and in a note, the warnings table lists the
street, and the command line's notes name it.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import select, update

from surveyapp.estimate_command import estimate_survey
from surveyapp.extensions import db
from surveyapp.models import Locality, Response, Survey
from surveyapp.reports import build_district_pdf
from surveyapp.services.wave_design import build_design, survey_settings
from surveyapp.services.wave_snapshot import extract_wave
from tests.reports.conftest import pdf_lines

STREET = "320106001"  # 宁海路街道


@pytest.fixture
def rejected(app, load_demo_copy):
    load_demo_copy(600, 5)
    with app.app_context():
        survey = db.session.scalar(select(Survey))
        wave = survey.waves[-1]
        street = db.session.scalar(select(Locality).where(Locality.code == STREET))
        db.session.execute(
            update(Response)
            .where(Response.wave_id == wave.id, Response.street_id == street.id)
            .values(status="rejected")
        )
        db.session.commit()
        yield app, survey, wave


def test_the_weights_cover_the_other_streets_only(rejected):
    _app, survey, wave = rejected
    data = extract_wave(wave, survey.questionnaire_version.schema)
    assert STREET not in set(data.columns["street"].tolist())
    streets = [s for s in survey.district.children if s.level == "street"]
    design, _ = build_design(data, streets, survey_settings(survey))
    covered = sum(p.count for s in streets if s.code != STREET for p in s.populations)
    assert np.isclose(np.sum(design.weights), covered)


def test_the_cli_names_the_street(rejected):
    _app, _survey, _wave = rejected
    out = json.loads(estimate_survey(1, fmt="json", indicators=("security",)))
    assert any("ALL covers 12 of 13 streets" in n and STREET in n for n in out["notes"])


def test_the_district_report_says_which_streets_it_covers(rejected):
    app, _survey, _wave = rejected
    from surveyapp.services.reports import find_survey_wave, gather

    survey, wave = find_survey_wave(1)
    bundle = gather(survey, wave)
    assert bundle.results.n_by_street[STREET] == 0
    text = "".join(pdf_lines(build_district_pdf(bundle.results, bundle.meta, "zh_CN")))
    assert "区县（13个街道中的12个）" in text
    assert "全区数据只涵盖13个街道中的12个：宁海路街道本轮没有计入的问卷" in text
    assert "无计入问卷" in text
    english = "".join(pdf_lines(build_district_pdf(bundle.results, bundle.meta, "en")))
    # (a table cell wraps: compare without spaces)
    assert "District(12of13streets)" in "".join(english.split())
