"""The persisted wave snapshot gives exactly what a fresh extraction gives, or is rebuilt.

References: a fresh extraction (``read_wave``) and, independently, every indicator computed
response by response from ``Response.answer_dict()`` with the questionnaire's own
``Indicator.value`` (no arrays, no snapshot).
"""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from sqlalchemy import select

from surveyapp.estimation.estimates import svyciprop
from surveyapp.extensions import db
from surveyapp.models import Answer, Response, Survey
from surveyapp.services import wave_design
from surveyapp.services import wave_snapshot as ws
from surveyapp.services.wave_data import read_wave
from surveyapp.services.wave_selection import wave_version
from surveyapp.services.wave_snapshot import extract_wave


def _wave():
    survey = db.session.scalar(select(Survey).order_by(Survey.id))
    wave = survey.waves[-1]
    return wave, wave_version(survey, wave).schema


def _forget() -> None:
    ws._SNAPSHOTS.clear()
    wave_design.DESIGN_CACHE.clear()


def assert_same(a, b) -> None:
    np.testing.assert_array_equal(a.response_ids, b.response_ids)
    assert set(a.columns) == set(b.columns)
    for name in a.columns:
        assert a.columns[name].tolist() == b.columns[name].tolist(), name
    assert set(a.codes) == set(b.codes)
    for name in a.codes:
        assert a.codes[name].as_array().tolist() == b.codes[name].as_array().tolist(), name
    assert list(a.values) == list(b.values)
    for key in a.values:
        np.testing.assert_array_equal(a.values[key], b.values[key], err_msg=key)
    assert set(a.shares) == set(b.shares)
    for qid, per in a.shares.items():
        assert list(per) == list(b.shares[qid])
        for code, v in per.items():
            np.testing.assert_array_equal(v, b.shares[qid][code], err_msg=f"{qid}={code}")


def by_hand(wave, schema) -> tuple[list[int], dict[str, list[float]]]:
    """Indicator values response by response, from the stored answers, without arrays."""
    ids: list[int] = []
    values: dict[str, list[float]] = {i.id: [] for i in [*schema.indicators, *schema.composites]}
    for r in db.session.scalars(
        select(Response)
        .where(Response.wave_id == wave.id, Response.status != "rejected")
        .order_by(Response.id)
    ):
        answers = r.answer_dict()
        if not (answers.get("sex") and answers.get("age_group")):
            continue
        ids.append(r.id)
        for item in [*schema.indicators, *schema.composites]:
            v = item.value(answers)
            values[item.id].append(np.nan if v is None else float(v))
    return ids, values


def assert_matches_by_hand(data, wave, schema) -> None:
    ids, values = by_hand(wave, schema)
    assert data.response_ids.tolist() == ids
    for key, expected in values.items():
        np.testing.assert_array_equal(data.values[key], np.array(expected), err_msg=key)


@pytest.fixture
def wave_app(app, load_demo_copy):
    load_demo_copy(400, 5)
    return app


@pytest.fixture
def reads(monkeypatch):
    """Every extraction from the database, as (after_id, upto_id)."""
    calls: list[tuple[int, int | None]] = []

    def spy(wave, schema, after_id=0, upto_id=None):
        calls.append((after_id, upto_id))
        return read_wave(wave, schema, after_id=after_id, upto_id=upto_id)

    monkeypatch.setattr(ws, "read_wave", spy)
    _forget()
    yield calls
    _forget()


def _copy_responses(wave, k: int) -> list[int]:
    """Add ``k`` new responses to the wave: copies of its first eligible ones."""
    new_ids = []
    sources = db.session.scalars(
        select(Response)
        .where(Response.wave_id == wave.id, Response.status == "submitted")
        .order_by(Response.id)
        .limit(k)
    ).all()
    for src in sources:
        copy = Response(
            **{
                c.name: getattr(src, c.name)
                for c in Response.__table__.columns
                if c.name not in ("id", "uuid")
            },
            uuid=str(uuid.uuid4()),
        )
        copy.answers = [
            Answer(question=a.question, value=a.value, number=a.number, multiple=a.multiple)
            for a in src.answers
        ]
        db.session.add(copy)
        db.session.flush()
        new_ids.append(copy.id)
    db.session.commit()
    return new_ids


def test_snapshot_is_the_fresh_extraction(wave_app, reads):
    with wave_app.app_context():
        wave, schema = _wave()
        built = extract_wave(wave, schema)
        assert reads == [(0, int(built.response_ids.max()))]
        path = ws.snapshot_path(wave, schema)
        assert path.exists() and str(path).startswith(wave_app.instance_path)
        _forget()
        loaded = extract_wave(wave, schema)  # a new process: from the file, nothing read
        assert len(reads) == 1 and loaded is not built
        fresh = read_wave(wave, schema)
        assert_same(loaded, fresh)
        assert_same(built, fresh)
        assert_matches_by_hand(loaded, wave, schema)
        assert loaded.n > 100


def test_new_responses_are_appended(wave_app, reads):
    with wave_app.app_context():
        wave, schema = _wave()
        before = extract_wave(wave, schema)
        max_id = int(
            db.session.scalar(
                select(Response.id)
                .where(Response.wave_id == wave.id)
                .order_by(Response.id.desc())
                .limit(1)
            )
        )
        new_ids = _copy_responses(wave, 25)
        _forget()
        after = extract_wave(wave, schema)
        assert reads[1] == (max_id, max(new_ids))  # only the new responses were read
        assert before.n < after.n <= before.n + 25  # screened-out copies are not counted
        assert_same(after, read_wave(wave, schema))
        assert_matches_by_hand(after, wave, schema)
        _forget()
        assert_same(extract_wave(wave, schema), after)  # the extended snapshot was saved
        assert len(reads) == 2


def test_rejected_response_rebuilds(wave_app, reads):
    with wave_app.app_context():
        wave, schema = _wave()
        before = extract_wave(wave, schema)
        victim = db.session.get(Response, int(before.response_ids[3]))
        victim.status = "rejected"
        db.session.commit()
        _forget()
        after = extract_wave(wave, schema)
        assert reads[-1][0] == 0  # a full extraction
        assert after.n == before.n - 1 and victim.id not in after.response_ids.tolist()
        assert_same(after, read_wave(wave, schema))
        assert_matches_by_hand(after, wave, schema)


def test_changed_answers_rebuild(wave_app, reads):
    """As a sent-back interview's resubmission does: its answer rows are replaced."""
    with wave_app.app_context():
        wave, schema = _wave()
        before = extract_wave(wave, schema)
        security = next(i for i in schema.indicators if i.id == "security")
        j = int(np.flatnonzero(before.values["security"] == 1.0)[0])
        target = db.session.get(Response, int(before.response_ids[j]))
        answers = target.answer_dict()
        replaced = [
            Answer(question=a.question, value=a.value, number=a.number, multiple=a.multiple)
            for a in target.answers
        ]
        for a in replaced:
            if a.question == security.question:
                a.value = next(
                    c.code
                    for c in schema.questions[security.question].choices
                    if security.value({**answers, security.question: c.code}) == 0
                )
                a.number = None
        target.answers = []
        db.session.flush()
        target.answers = replaced
        db.session.commit()
        _forget()
        after = extract_wave(wave, schema)
        assert reads[-1][0] == 0
        assert after.values["security"][j] == 0.0
        assert_same(after, read_wave(wave, schema))
        assert_matches_by_hand(after, wave, schema)


def test_deleted_response_rebuilds(wave_app, reads):
    with wave_app.app_context():
        wave, schema = _wave()
        before = extract_wave(wave, schema)
        gone = int(before.response_ids[0])
        db.session.delete(db.session.get(Response, gone))
        db.session.commit()
        _forget()
        after = extract_wave(wave, schema)
        assert reads[-1][0] == 0
        assert gone not in after.response_ids.tolist() and after.n == before.n - 1
        assert_same(after, read_wave(wave, schema))


def test_moved_response_rebuilds(wave_app, reads):
    """A response moved to another community of its street: the by-community estimates change."""
    with wave_app.app_context():
        wave, schema = _wave()
        before = extract_wave(wave, schema)
        moved = db.session.get(Response, int(before.response_ids[5]))
        other = next(c for c in moved.street.children if c.id != moved.community_id)
        moved.community_id, moved.grid_id, moved.locality_id = other.id, None, other.id
        db.session.commit()
        _forget()
        after = extract_wave(wave, schema)
        assert reads[-1][0] == 0 and len(reads) == 2
        assert after.columns["community"][5] == other.code != before.columns["community"][5]
        assert_same(after, read_wave(wave, schema))


def test_approval_keeps_the_snapshot(wave_app, reads):
    """Approving or sending back leaves the extracted values as they are: nothing is re-read."""
    with wave_app.app_context():
        wave, schema = _wave()
        before = extract_wave(wave, schema)
        for rid, status in (
            (before.response_ids[0], "approved"),
            (before.response_ids[1], "sent_back"),
        ):
            db.session.get(Response, int(rid)).status = status
        db.session.commit()
        _forget()
        after = extract_wave(wave, schema)
        assert len(reads) == 1  # the snapshot, not the database
        assert_same(after, before)


def test_reports_questionnaire_has_its_own_snapshot(wave_app, reads):
    """The reports extract the wave with department indicators added to the questionnaire (its
    content hash with a suffix). Both extractions are kept on disk side by side: alternating
    them reads the database once each, not at every call (they used to share one file)."""
    from surveyapp.services.reports import ReportOptions, _with_departments

    with wave_app.app_context():
        wave, schema = _wave()
        options = ReportOptions.from_settings(wave.survey.settings)
        departments, extended = _with_departments(schema, options)
        assert departments and extended.sha256.startswith(schema.sha256)
        assert ws.snapshot_path(wave, extended) != ws.snapshot_path(wave, schema)
        first = [extract_wave(wave, schema), extract_wave(wave, extended)]
        for _ in range(2):
            _forget()
            again = [extract_wave(wave, schema), extract_wave(wave, extended)]
            for a, b in zip(first, again, strict=True):
                assert_same(a, b)
        assert len(reads) == 2
        assert set(extended_values := again[1].values) > set(again[0].values)
        assert all(d.id in extended_values for d in departments)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "flipped", "empty"])
def test_corrupt_snapshot_is_rebuilt(wave_app, reads, damage):
    with wave_app.app_context():
        wave, schema = _wave()
        extract_wave(wave, schema)
        path = ws.snapshot_path(wave, schema)
        raw = bytearray(path.read_bytes())
        if damage == "garbage":
            raw = bytearray(b"not a snapshot at all")
        elif damage == "truncated":
            raw = raw[: len(raw) // 2]
        elif damage == "flipped":
            raw[-100] ^= 0x55  # in the data: only the checksum notices
        else:
            raw = bytearray()
        path.write_bytes(bytes(raw))
        assert ws.read_snapshot(path) is None
        _forget()
        again = extract_wave(wave, schema)
        assert reads[-1] == (0, int(again.response_ids.max()))
        assert_same(again, read_wave(wave, schema))
        assert ws.read_snapshot(path) is not None  # written again


def test_snapshot_dir_setting_and_unwritable_dir(wave_app, reads, tmp_path, monkeypatch):
    with wave_app.app_context():
        wave, schema = _wave()
        monkeypatch.setenv("SURVEYAPP_SNAPSHOT_DIR", str(tmp_path / "snaps"))
        extract_wave(wave, schema)
        assert list((tmp_path / "snaps").glob("wave-*.snap"))
        blocked = tmp_path / "file"
        blocked.write_text("x")
        monkeypatch.setenv("SURVEYAPP_SNAPSHOT_DIR", str(blocked / "sub"))
        _forget()
        data = extract_wave(wave, schema)  # cannot write: still estimates
        assert_same(data, read_wave(wave, schema))


# -- the weighted design is persisted next to the snapshot ------------------------------------


@pytest.fixture
def rakings(monkeypatch):
    """Every time the design is weighted (raked) rather than loaded."""
    calls: list[int] = []
    real = wave_design.weight_wave

    def spy(data, streets, settings):
        calls.append(data.n)
        return real(data, streets, settings)

    monkeypatch.setattr(wave_design, "weight_wave", spy)
    return calls


def _design(wave, schema):
    survey = wave.survey
    streets = [s for s in survey.district.children if s.level == "street"]
    data = extract_wave(wave, schema)
    return data, wave_design.build_design(data, streets, wave_design.survey_settings(survey))


def _designs(wave, schema) -> list:
    return sorted(ws.snapshot_dir().glob(ws.snapshot_path(wave, schema).name + ".design-*"))


def test_new_process_loads_the_weighted_design(wave_app, reads, rakings):
    with wave_app.app_context():
        wave, schema = _wave()
        data, (design, report) = _design(wave, schema)
        assert rakings == [data.n] and len(_designs(wave, schema)) == 1
        assert report.method == "rake"
        _forget()  # a new process: snapshot and design from their files
        again, (loaded, loaded_report) = _design(wave, schema)
        assert rakings == [data.n] and len(reads) == 1
        np.testing.assert_array_equal(loaded.weights, design.weights)
        assert loaded_report == report
        # The estimates from the loaded design equal those of a design raked afresh.
        y = again.values["security"]
        fresh, _ = wave_design.weight_wave(
            again,
            [s for s in wave.survey.district.children if s.level == "street"],
            wave_design.survey_settings(wave.survey),
        )
        a = svyciprop(y, loaded)
        b = svyciprop(y, fresh)
        assert (a.value, a.se, a.ci_low, a.ci_high) == (b.value, b.se, b.ci_low, b.ci_high)


def test_design_not_signed_by_the_app_is_rebuilt(wave_app, reads, rakings):
    with wave_app.app_context():
        wave, schema = _wave()
        data, (design, _report) = _design(wave, schema)
        (path,) = _designs(wave, schema)
        blob = bytearray(path.read_bytes())
        blob[-1] ^= 0xFF  # any change to the pickled body breaks the signature
        path.write_bytes(bytes(blob))
        _forget()
        _again, (rebuilt, _report) = _design(wave, schema)
        assert rakings == [data.n, data.n]
        np.testing.assert_array_equal(rebuilt.weights, design.weights)
        wave_app.config["SECRET_KEY"] = "another key"  # another application's file
        _forget()
        _design(wave, schema)
        assert len(rakings) == 3


def test_designs_of_older_content_are_removed(wave_app, reads, rakings):
    with wave_app.app_context():
        wave, schema = _wave()
        _design(wave, schema)
        (first,) = _designs(wave, schema)
        _copy_responses(wave, 3)
        _forget()
        data, (design, _report) = _design(wave, schema)
        (second,) = _designs(wave, schema)
        assert second != first and len(design.weights) == data.n
        assert len(rakings) == 2
