"""A wave's report keys follow every part of the localities they depend on (issue 20).

The officials' downloads check on every request that the cached estimates still match the
localities; that check is one aggregate statement of plain rows now. Each change below must
give a new key (a stale report is never served), and an unchanged database the same key.
"""

from __future__ import annotations

from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Locality, LocalityPopulation
from surveyapp.services import reports


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


def _keys() -> tuple[str, str]:
    survey, wave = reports.find_survey_wave(1, "2026-Q4")
    parts = reports._key_parts(survey, wave, with_wave=True)
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
    """report_scope(content=True) gives the key the same localities as reading them alone."""
    with demo.app_context():
        survey, wave = reports.find_survey_wave(1, "2026-Q4")
        scope = reports.report_scope(1, "2026-Q4", content=True)
        assert scope.localities == reports._localities_fingerprint(survey)
        assert [s.code for s in scope.streets] == [s.code for s in reports.survey_streets(survey)]
        parts = reports._key_parts(survey, wave, scope.localities, with_wave=True)
        assert reports.bundle_key(survey, wave, parts) == reports.bundle_key(survey, wave)
