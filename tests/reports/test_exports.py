"""Exports read back: the estimates table against the estimates, the anonymised responses
against the database (counted with SQL here), the SPSS file with its labels."""

from __future__ import annotations

import csv
import io
import math
import re

import pyreadstat
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import Answer, Locality, LocalityPopulation, Response, Survey
from surveyapp.services.exports import (
    ExportError,
    export_estimates,
    export_responses,
)

PHONE = re.compile(r"(?<![\d.])1[3-9]\d{9}(?!\d)")


@pytest.fixture
def ctx_wave(report_wave):
    with report_wave.app.app_context():
        yield report_wave.bundle


def _csv(data: bytes) -> list[dict]:
    assert data.startswith("\ufeff".encode())  # BOM: spreadsheets read the Chinese right
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_estimates_csv_and_xlsx_hold_every_estimate(ctx_wave):
    b = ctx_wave
    r = b.results
    rows = _csv(export_estimates(b, "csv"))
    index = {(row["indicator"], row["level"], row["code"]): row for row in rows}
    expected = 0
    for item in (*r.items, *b.meta.departments):
        domains = [("district", b.meta.district_code, item.overall)]
        domains += [("street", c, item.by_street.get(c)) for c, _zh, _en in r.streets]
        domains += [("community", c, e) for c, e in item.by_community.items()]
        for level, code, est in domains:
            row = index[(item.id, level, code)]
            expected += 1
            if est is None:
                assert row["estimate"] == ""
                continue
            assert float(row["estimate"]) == est.value  # exact: written with repr
            assert float(row["ci_low"]) == est.ci_low and float(row["ci_high"]) == est.ci_high
            assert int(row["n"]) == est.n
            if level == "street":
                cmp = item.vs_district.get(code)
                if cmp is not None:
                    assert float(row["vs_district"]) == cmp.difference
                    assert row["vs_district_significant"] == str(int(cmp.significant))
                rank = item.ranks.get(code)
                if rank is not None:
                    assert float(row["rank_low"]) == rank.low
    assert len(rows) == expected
    book = load_workbook(io.BytesIO(export_estimates(b, "xlsx")), read_only=True)
    sheet = list(book["estimates"].iter_rows(values_only=True))
    assert list(sheet[0]) == list(rows[0].keys())
    assert len(sheet) - 1 == len(rows)
    security = r.item("security")
    row = next(x for x in sheet if x[1] == "security" and x[4] == "district")
    assert row[8] == security.overall.value
    about = dict(book["about"].iter_rows(values_only=True))
    assert about["respondents"] == str(r.n)


def _non_rejected(survey_id: int) -> int:
    return db.session.scalar(
        select(func.count(Response.id)).where(
            Response.survey_id == survey_id, Response.status != "rejected"
        )
    )


def test_responses_csv_is_anonymised_and_complete(ctx_wave):
    survey = db.session.get(Survey, 1)
    rows = _csv(export_responses(survey, "csv"))
    assert len(rows) == _non_rejected(1)
    columns = set(rows[0])
    assert not {"phone", "suggestion", "enumerator", "uuid", "started_at"} & columns
    assert not any(c.endswith(".other") or c.endswith("_other_text") for c in columns)
    assert [int(r["respondent"]) for r in rows] == list(range(1, len(rows) + 1))
    for row in rows:
        for value in row.values():
            assert not PHONE.search(value)
    # multiple choice: one 0/1 column per code, matching the stored answers (SQL count here)
    selected = db.session.scalar(
        select(func.count(Answer.id))
        .join(Response, Response.id == Answer.response_id)
        .where(
            Response.survey_id == 1,
            Response.status != "rejected",
            Answer.question == "unsafe_factors",
            Answer.value == "theft_robbery",
        )
    )
    assert sum(r["unsafe_factors_theft_robbery"] == "1" for r in rows) == selected
    # weights: raked to the census, so each wave's weights add up to the streets' population
    population = db.session.scalar(
        select(func.sum(LocalityPopulation.count))
        .join(Locality, Locality.id == LocalityPopulation.locality_id)
        .where(Locality.level == "street")
    )
    for wave in ("2026-Q3", "2026-Q4"):
        total = sum(float(r["weight"]) for r in rows if r["wave"] == wave and r["weight"])
        assert math.isclose(total, population, rel_tol=1e-6), wave


def test_responses_sav_keeps_variable_and_value_labels(ctx_wave, tmp_path):
    survey = db.session.get(Survey, 1)
    schema = survey.questionnaire_version.schema
    path = tmp_path / "responses.sav"
    path.write_bytes(export_responses(survey, "sav"))
    frame, meta = pyreadstat.read_sav(str(path))
    assert len(frame) == _non_rejected(1)
    labels = meta.column_names_to_labels
    question = schema.questions["security_overall"]
    assert labels["security_overall"] == question.label["zh_CN"]
    assert meta.variable_value_labels["security_overall"] == {
        float(c.code): c.label["zh_CN"] for c in question.choices
    }
    assert meta.variable_value_labels["street"]["320106001"] == "宁海路街道"
    assert labels["unsafe_factors_theft_robbery"].startswith(
        schema.questions["unsafe_factors"].label["zh_CN"]
    )
    # the same data as the CSV
    rows = _csv(export_responses(survey, "csv"))
    for k in (0, len(rows) // 2, len(rows) - 1):
        for column in ("security_overall", "street", "mode", "weight"):
            got, want = frame[column].iloc[k], rows[k][column]
            if want == "":
                assert got == "" or (isinstance(got, float) and math.isnan(got))
            elif isinstance(got, float):
                assert got == pytest.approx(float(want), rel=1e-12)
            else:
                assert got == want
    english = tmp_path / "en.sav"
    english.write_bytes(export_responses(survey, "sav", lang="en"))
    _frame, meta_en = pyreadstat.read_sav(str(english), metadataonly=True)
    assert meta_en.column_names_to_labels["security_overall"] == question.label["en"]


def test_responses_xlsx_has_the_dictionary(ctx_wave):
    survey = db.session.get(Survey, 1)
    book = load_workbook(io.BytesIO(export_responses(survey, "xlsx")), read_only=True)
    data = list(book["responses"].iter_rows(values_only=True))
    assert len(data) - 1 == _non_rejected(1)
    variables = dict(book["variables"].iter_rows(min_row=2, values_only=True))
    assert variables["street"] == "街道"
    values = {(v, k): lab for v, k, lab in book["values"].iter_rows(min_row=2, values_only=True)}
    assert values[("mode", "phone")] == "电话"


def test_bad_formats_are_refused(ctx_wave):
    survey = db.session.get(Survey, 1)
    with pytest.raises(ExportError, match="not 'sav'"):
        export_estimates(ctx_wave, "sav")
    with pytest.raises(ExportError, match="not 'pdf'"):
        export_responses(survey, "pdf")
