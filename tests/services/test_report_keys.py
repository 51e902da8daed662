"""A wave's report keys follow every part of the localities and responses they depend on
(issue 20).

The officials' downloads check on every request that the cached estimates still match the
localities and the responses; that check is one aggregate statement of plain rows for the
localities, and for the responses one index look-up of each wave's change stamp (which the
database replaces whenever one of the wave's responses changes: migration 0019). Each change
below must give a new key (a stale report is never served), and an unchanged database the same
key.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, insert, select

from surveyapp.extensions import db
from surveyapp.models import (
    AuditEvent,
    ChangeStamp,
    Locality,
    LocalityPopulation,
    Response,
    Survey,
    Wave,
    responses_stamp,
)
from surveyapp.services import audit, reports


def _street(code: str = "320106001") -> Locality:
    return db.session.scalar(select(Locality).where(Locality.code == code))


def _community() -> Locality:
    return _street().children[0]


def _population() -> LocalityPopulation:
    return db.session.scalar(
        select(LocalityPopulation)
        .where(LocalityPopulation.locality_id == _street().id)
        .order_by(LocalityPopulation.id)
    )


CHANGES = {
    "street renamed": lambda: setattr(_street(), "name_zh", "新街道"),
    "street's English name": lambda: setattr(_street(), "name_en", "New Street"),
    "street's population": lambda: setattr(_street(), "population", 12345),
    "community renamed": lambda: setattr(_community(), "name_zh", "新社区"),
    "community recoded": lambda: setattr(_community(), "code", "320106001999"),
    "community added": lambda: db.session.add(
        Locality(code="320106001998", name_zh="又一社区", level="community", parent=_street())
    ),
    "population count": lambda: setattr(_population(), "count", _population().count + 1),
    "population cell": lambda: db.session.add(
        LocalityPopulation(locality=_street(), sex="X", age_group="99+", count=1)
    ),
    "counts swapped": lambda: _swap_counts(),
    "district renamed": lambda: setattr(_street().parent, "name_en", "Another District"),
    "street moved away": lambda: setattr(_street("320106002"), "parent_id", None),
}


def _swap_counts() -> None:
    cells = db.session.scalars(
        select(LocalityPopulation)
        .where(LocalityPopulation.locality_id == _street().id)
        .order_by(LocalityPopulation.id)
    ).all()
    a, b = next((a, b) for a in cells for b in cells if a.count != b.count)
    a.count, b.count = b.count, a.count


def _keys(code: str = "2026-Q4") -> tuple[str, str]:
    survey, wave = reports.find_survey_wave(1, code)
    parts = reports._key_parts(survey, wave)
    return reports.bundle_key(survey, wave, parts), reports._setting_key(survey, wave, parts)


def test_every_change_of_the_localities_gives_new_report_keys(demo):
    with demo.app_context():
        first = _keys()
        db.session.rollback()
        assert _keys() == first  # nothing changed: the same keys
        seen = {first}
        for name, change in CHANGES.items():
            change()
            db.session.commit()
            keys = _keys()
            assert keys[0] not in {k[0] for k in seen}, name
            assert keys[1] not in {k[1] for k in seen}, name
            seen.add(keys)


def test_the_portal_reads_the_localities_once(demo):
    """report_scope(content=True) gives the key the same localities and waves' stamps as
    reading them alone."""
    with demo.app_context():
        survey, wave = reports.find_survey_wave(1, "2026-Q4")
        scope = reports.report_scope(1, "2026-Q4", content=True)
        assert scope.localities == reports._localities_fingerprint(survey)
        assert [s.code for s in scope.streets] == [s.code for s in reports.survey_streets(survey)]
        assert scope.responses == reports.wave_fingerprints(
            survey.waves[: survey.waves.index(wave) + 1], wave.questionnaire_version_id, wave.id
        )
        parts = reports._key_parts(survey, wave, scope.localities, scope.responses)
        assert reports.bundle_key(survey, wave, parts) == reports.bundle_key(survey, wave)


# --- the responses: each wave's change stamp (migration 0019) -------------------------------


def _wave(code: str) -> Wave:
    return db.session.scalar(select(Wave).where(Wave.code == code))


def _response(code: str = "2026-Q4") -> Response:
    return db.session.scalar(
        select(Response)
        .where(Response.wave_id == _wave(code).id, Response.status != "rejected")
        .order_by(Response.id)
    )


def _submit(code: str) -> None:
    """A copy of one of the wave's interviews, as a new one (its row only: the stamp follows
    the response table)."""
    table = Response.__table__
    row = db.session.execute(select(table).where(table.c.id == _response(code).id)).mappings()
    values = {k: v for k, v in next(iter(row)).items() if k != "id"}
    db.session.execute(insert(table).values({**values, "uuid": str(uuid.uuid4())}))


def _all_keys() -> dict[str, tuple[str, str]]:
    return {code: _keys(code) for code in ("2026-Q3", "2026-Q4")}


#: change -> the waves whose reports show it (the earlier wave's show in the later one's too)
RESPONSE_CHANGES = {
    "interview submitted": (lambda: _submit("2026-Q4"), {"2026-Q4"}),
    "interview rejected": (lambda: setattr(_response(), "status", "rejected"), {"2026-Q4"}),
    "answers corrected": (
        lambda: setattr(_response(), "revised_at", datetime(2026, 12, 1, 10, 0)),
        {"2026-Q4"},
    ),
    "interview deleted": (lambda: db.session.delete(_response()), {"2026-Q4"}),
    "earlier wave's interview": (lambda: _submit("2026-Q3"), {"2026-Q3", "2026-Q4"}),
    "moved to the earlier wave": (
        lambda: setattr(_response(), "wave_id", _wave("2026-Q3").id),
        {"2026-Q3", "2026-Q4"},
    ),
    "deleted in bulk": (
        lambda: db.session.execute(
            delete(Response)
            .where(Response.id == _response().id)
            .execution_options(synchronize_session=False)
        ),
        {"2026-Q4"},
    ),
}


def test_every_change_of_the_responses_gives_new_report_keys(demo):
    """Insert, review, correction, delete, move to another wave: the keys of the waves whose
    reports show it change (the bundle's; for an earlier wave the later one's setting key
    too), the others stay; what does not touch a response changes no key."""
    with demo.app_context():
        keys = _all_keys()
        seen = {code: {k} for code, k in keys.items()}
        # Not a response: no key changes (an audit row, another table's row, a read).
        audit.record("export", "estimates:1:2026-Q4", commit=True)
        db.session.add(AuditEvent(at=datetime(2026, 12, 1), action="x", target="y", detail={}))
        db.session.commit()
        assert _all_keys() == keys
        for name, (change, shown_in) in RESPONSE_CHANGES.items():
            change()
            db.session.commit()
            db.session.expire_all()
            now = _all_keys()
            for code in keys:
                if code in shown_in:
                    assert now[code][0] not in {k[0] for k in seen[code]}, (name, code)
                else:
                    assert now[code] == keys[code], (name, code)
                seen[code].add(now[code])
            # the setting key holds the earlier waves only
            assert (now["2026-Q4"][1] != keys["2026-Q4"][1]) == ("2026-Q3" in shown_in), name
            keys = now


def test_a_rolled_back_change_leaves_the_keys(demo):
    with demo.app_context():
        keys = _all_keys()
        _submit("2026-Q4")
        db.session.flush()
        db.session.rollback()
        assert _all_keys() == keys


def test_a_wave_without_a_stamp_is_read_from_its_responses(demo):
    """A stamp row removed by hand: the key falls back to the wave's responses (as before
    the stamps), and the next change of the wave writes a stamp again."""
    with demo.app_context():
        wave = _wave("2026-Q4")
        db.session.execute(delete(ChangeStamp).where(ChangeStamp.name == responses_stamp(wave.id)))
        db.session.commit()
        first = _all_keys()
        assert reports.wave_fingerprint(wave)[-1][0] == "scanned"
        assert _all_keys() == first
        _submit("2026-Q4")
        db.session.commit()
        assert _all_keys()["2026-Q4"] != first["2026-Q4"]
        assert isinstance(reports.wave_fingerprint(wave)[-1], str)


def test_a_new_wave_gets_its_own_stamp(demo):
    """A wave's stamp exists from its creation (SQLite gives a deleted wave's id to the next
    wave: the old stamp is replaced)."""
    with demo.app_context():
        survey = db.session.get(Survey, 1)
        before = dict(db.session.execute(select(ChangeStamp.name, ChangeStamp.stamp)).all())
        wave = Wave(survey=survey, code="2027-Q1", position=99)
        db.session.add(wave)
        db.session.commit()
        stamp = db.session.get(ChangeStamp, responses_stamp(wave.id))
        assert stamp is not None and stamp.stamp != before.get(stamp.name)


def test_a_restored_backup_changes_every_key(demo, runner, tmp_path, migrated_database):
    """Restored into an emptied database, the waves' keys are new: a report cached on the
    database before the restore (or after the backup was made) is never served for it."""
    from tests.services.test_backup import _empty_target

    with demo.app_context():
        backed_up = _all_keys()
    file = tmp_path / "backup.jsonl.gz"
    assert runner.invoke(args=["backup", "-o", str(file)]).exit_code == 0
    with demo.app_context():
        db.session.delete(_response())
        db.session.commit()
        changed = _all_keys()
    target = _empty_target(demo, migrated_database, tmp_path)
    restored = target.test_cli_runner().invoke(args=["restore", str(file)])
    assert restored.exit_code == 0, restored.output
    with target.app_context():
        after = _all_keys()
    for code, keys in after.items():
        assert keys[0] not in (backed_up[code][0], changed[code][0]), code
