"""On PostgreSQL a wave's answers can be read with COPY … TO STDOUT (issue 20; off by default,
see wave_data.USE_COPY): the extracted wave is the same as the row-by-row path's, texts that
COPY escapes included."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import insert, select

from surveyapp.extensions import db
from surveyapp.models import Answer, Response, Wave
from surveyapp.services import wave_data
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(not PG_URL, reason="PostgreSQL only (scripts/with-postgres)")


def _same(a: wave_data.WaveData, b: wave_data.WaveData) -> None:
    np.testing.assert_array_equal(a.response_ids, b.response_ids)
    assert a.columns.keys() == b.columns.keys()
    for name in a.columns:
        assert a.columns[name].tolist() == b.columns[name].tolist(), name
    assert a.values.keys() == b.values.keys()
    for name in a.values:
        np.testing.assert_array_equal(a.values[name], b.values[name], err_msg=name)
    assert a.shares.keys() == b.shares.keys()
    for q in a.shares:
        assert a.shares[q].keys() == b.shares[q].keys()
        for code in a.shares[q]:
            np.testing.assert_array_equal(a.shares[q][code], b.shares[q][code])
    assert a.codes.keys() == b.codes.keys()
    for name in a.codes:
        np.testing.assert_array_equal(a.codes[name].codes, b.codes[name].codes, err_msg=name)
        assert list(a.codes[name].labels) == list(b.codes[name].labels), name


def test_copy_reads_the_same_wave_as_the_row_path(demo, monkeypatch):
    with demo.app_context():
        wave = db.session.scalar(select(Wave).where(Wave.code == "2026-Q4"))
        schema = wave.questionnaire_version.schema
        multiple = next(q.id for q in schema.questions.values() if q.type == "multiple")
        first, second = db.session.scalars(
            select(Response.id)
            .where(Response.wave_id == wave.id, Response.status != "rejected")
            .order_by(Response.id)
            .limit(2)
        ).all()
        # Codes COPY's text format escapes (tab, newline, backslash, "\N"), and a number
        # written two ways: the row path keys tokens by Python value, so must COPY.
        odd = ["a\tb", "c\nd\\e", "\\N", "中文 選項", "\r\x0b\x08\x0c"]
        db.session.execute(
            insert(Answer),
            [
                {"response_id": first, "question": multiple, "value": v, "multiple": True}
                for v in odd
            ]
            + [
                {"response_id": second, "question": "sex", "value": "1.50", "number": 1.5},
                {"response_id": second, "question": "age_group", "value": "x", "number": -0.0},
            ],
        )
        db.session.commit()
        monkeypatch.setattr(wave_data, "_READ_BLOCK", 7)  # many blocks: tokens across them
        seen: list[list] = []
        original = wave_data._multiple_column

        def multiple_column(pos, codes, labels, n):
            seen[-1].append((pos.tolist(), codes.tolist(), list(labels)))
            return original(pos, codes, labels, n)

        monkeypatch.setattr(wave_data, "_multiple_column", multiple_column)
        monkeypatch.setattr(wave_data, "USE_COPY", True)
        seen.append([])
        copied = wave_data.read_wave(wave, schema)
        monkeypatch.setattr(wave_data, "USE_COPY", False)
        seen.append([])
        rows = wave_data.read_wave(wave, schema)
        assert copied.response_ids.size > 20
        _same(copied, rows)
        # The multiple choices' distinct answers, as read, in the same order with the same
        # tokens (the odd codes among them, unescaped).
        assert seen[0] == seen[1]
        assert set(odd) <= {label for _p, _c, labels in seen[0] for label in labels}
        db.session.rollback()
