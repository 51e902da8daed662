"""The managers' dashboard figures (``GET /dashboard/waves/<id>/data.json``) against a
reference computed here, independently: plain ORM objects walked in Python for the counts,
targets and interviews per enumerator and day, and the per-interview quality flags
(``quality.wave_quality``), quotas (``cati.quota_progress``) and AAPOR rates
(``cati.wave_rates``) of their own modules, which the dashboard no longer calls.

The world is the demo's current wave made varied: interviews on several days and at night,
with and without times, some fast, some rejected or approved, some without an enumerator,
GPS points near and far, several enumerators' assignments at every level of the tree, street
and cell quotas, telephone cases closed and open.
"""

from __future__ import annotations

import math
import random
import sqlite3
import statistics
from collections import Counter, defaultdict
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, select

from surveyapp import database
from surveyapp.extensions import db
from surveyapp.fieldwork.cati import quota_progress, wave_rates
from surveyapp.fieldwork.dashboard import MAX_STATEMENTS, dashboard_data
from surveyapp.fieldwork.quality import FLAGS, scales, wave_quality
from surveyapp.fieldwork.settings import settings_for
from surveyapp.localtime import to_local
from surveyapp.models import Answer, Assignment, Locality, Response, User, Wave
from surveyapp.models.fieldwork import CallAttempt, CatiCase, Quota, ResponseParadata

from .test_cati import MANAGER, login

WAVE = "2026-Q4"


def _vary(wave: Wave) -> None:
    """Make the demo's current wave hold every case the figures distinguish."""
    rng = random.Random(20)
    rows = db.session.scalars(
        select(Response).where(Response.wave_id == wave.id).order_by(Response.id)
    ).all()
    users = db.session.scalars(
        select(User).where(User.role == "enumerator").order_by(User.id)
    ).all()
    assert len(rows) >= 25 and len(users) >= 3
    schema = wave.questionnaire_version.schema
    scale, small = max(scales(schema), key=len), min(scales(schema), key=len)
    base = datetime(2026, 11, 20, 1, 0, 0)  # 09:00 in Shanghai
    for i, r in enumerate(rows):
        r.enumerator_id = None if i % 17 == 0 else users[i % len(users)].id
        r.status = ("submitted", "submitted", "approved", "rejected")[i % 4]
        # Several local days; a few just before local midnight and just after (UTC day differs).
        r.started_at = base + timedelta(days=i % 3, minutes=37 * i % 600, microseconds=1000 * i)
        r.ended_at = r.started_at + timedelta(seconds=240 + 60 * (i % 9))
        if i % 11 == 0:
            r.ended_at = r.started_at + timedelta(seconds=60)  # fast
        if i % 13 == 0:
            r.started_at = datetime(2026, 11, 21, 15, 59, 59)  # 23:59:59 local
            r.ended_at = r.started_at + timedelta(minutes=9)
        if i % 19 == 0:
            r.started_at = datetime(2026, 11, 21, 16, 0, 1)  # 00:00:01 local, next day
            r.status = "submitted"
        if i % 23 == 0:
            r.started_at = None  # its day comes from submitted_at
            r.submitted_at = datetime(2026, 11, 22, 17, 30)  # 01:30 local on the 23rd
            r.status = "submitted"
        if i % 29 == 0:
            r.ended_at = r.started_at - timedelta(minutes=1) if r.started_at else None
        if i == 5:
            r.started_at = datetime(2026, 11, 20, 13, 0, 0)  # 21:00:00 local: the last minute
        if i == 6:
            r.started_at = datetime(2026, 11, 20, 13, 0, 0, 1)  # 21:00:00.000001: out of hours
        if i == 7:
            r.started_at = datetime(2026, 11, 20, 0, 59, 59, 999999)  # before 09:00
    # Straightlined answers on one scale for a few interviews.
    for r in rows[3:12:2]:
        for a in r.answers:
            if a.question in scale:
                a.value = "3"
    # ... and on the smallest scale (counted once N is lowered to its size).
    for r in rows[4:24:3]:
        given = [a for a in r.answers if a.question in small]
        for a in given:
            a.value = given[0].value
    # GPS points: most near their locality's centre, two far, one locality with too few points.
    localities = Counter(r.locality_id for r in rows).most_common(3)
    for j, r in enumerate(rows):
        if j % 5 == 4:
            continue
        lat = 32.06 + rng.uniform(-0.005, 0.005) + (0.2 if j in (8, 21) else 0.0)
        lon = 118.78 + rng.uniform(-0.005, 0.005)
        db.session.add(
            ResponseParadata(response_id=r.id, gps_lat=lat, gps_lon=lon, gps_accuracy_m=10)
        )
        if j < 30:
            r.locality_id = localities[j % 2][0]
    # Assignments at the street, community and grid levels, several per enumerator.
    district = wave.survey.district
    streets = sorted((c for c in district.children if c.level == "street"), key=lambda s: s.code)
    taken = set(
        db.session.execute(
            select(Assignment.enumerator_id, Assignment.locality_id).where(
                Assignment.wave_id == wave.id
            )
        ).all()
    )
    for k, user in enumerate(users[:6]):
        street = streets[k % len(streets)]
        community = street.children[k % len(street.children)]
        place = (street, community, community.children[0] if community.children else community)
        for n, target in ((k, None), (k + 1, 5 + k)):
            if (user.id, place[n % 3].id) in taken:
                continue
            taken.add((user.id, place[n % 3].id))
            db.session.add(
                Assignment(
                    wave_id=wave.id,
                    enumerator_id=user.id,
                    locality_id=place[n % 3].id,
                    mode="phone" if n % 2 else "door",
                    **({} if target is None else {"target": target}),
                )
            )
    # Quotas: a street's overall quota (its target wins), cells by sex and by sex and age.
    db.session.add(Quota(wave_id=wave.id, locality_id=streets[0].id, target=7))
    db.session.add(Quota(wave_id=wave.id, locality_id=streets[0].id, sex="f", target=4))
    db.session.add(
        Quota(wave_id=wave.id, locality_id=streets[1].id, sex="m", age_group="30-44", target=2)
    )
    db.session.add(Quota(wave_id=wave.id, locality_id=streets[1].id, age_group="60+", target=3))
    # Telephone cases: closed, open after calls, never called.
    community = streets[0].children[0]
    for n, (final, codes) in enumerate(
        [("1.1", ["3.13"]), ("4.30", []), ("", ["3.13", "2.12"]), ("", []), ("", ["3.13"])]
    ):
        case = CatiCase(
            wave_id=wave.id,
            locality_id=(community if n % 2 else streets[1]).id,
            phone=f"1380000000{n}",
            final_code=final,
            status="closed" if final else "available",
        )
        db.session.add(case)
        db.session.flush()
        for code in codes:
            db.session.add(CallAttempt(case_id=case.id, code=code))
    db.session.commit()


def _reference(wave: Wave, lang: str) -> dict:
    settings = settings_for(wave.survey)
    responses = db.session.scalars(select(Response).where(Response.wave_id == wave.id)).all()
    counted = [r for r in responses if r.status != "rejected"]
    localities = {loc.id: loc for loc in db.session.scalars(select(Locality))}
    quotas = quota_progress(wave)

    def path(locality_id: int) -> dict[str, Locality]:
        return localities[locality_id].path_by_level()

    street_targets: Counter = Counter()
    community_targets: Counter = Counter()
    for a in db.session.scalars(select(Assignment).where(Assignment.wave_id == wave.id)):
        p = path(a.locality_id)
        if "street" in p:
            street_targets[p["street"].id] += a.target
        if "community" in p:
            community_targets[p["community"].id] += a.target
    for q in quotas:
        if not q["sex"] and not q["age_group"]:
            street_targets[q["street"].id] = q["target"]
    streets = sorted(
        (c for c in wave.survey.district.children if c.level == "street"), key=lambda s: s.code
    )
    street_rows = [
        {
            "code": s.code,
            "name": s.name(lang),
            "completed": sum(1 for r in counted if r.street_id == s.id),
            "target": street_targets[s.id],
        }
        for s in streets
    ]
    community_ids = {r.community_id for r in counted} | set(community_targets)
    community_ids.discard(None)
    community_rows = []
    for cid in community_ids:
        c = localities[cid]
        community_rows.append(
            {
                "code": c.code,
                "name": c.name(lang),
                "street": c.parent.code if c.parent else "",
                "street_name": c.parent.name(lang) if c.parent else "",
                "completed": sum(1 for r in counted if r.community_id == cid),
                "target": community_targets[cid],
            }
        )
    community_rows.sort(key=lambda r: r["code"])

    per_day: Counter = Counter()
    for r in counted:
        if r.enumerator_id is not None:
            day = to_local(r.started_at or r.submitted_at, settings.zone).date().isoformat()
            per_day[(r.enumerator.username, day)] += 1

    quality = wave_quality(wave, settings)
    durations = defaultdict(list)
    for q in quality.values():
        if q.duration_s is not None:
            durations[q.mode].append(q.duration_s)
    flags = Counter(f for q in quality.values() for f in q.flags)
    rates = wave_rates(wave).overall
    return {
        "wave": {"id": wave.id, "code": wave.code, "name": wave.name},
        "totals": {
            "completed": len(counted),
            "rejected": len(responses) - len(counted),
            "target": sum(r["target"] for r in street_rows),
        },
        "streets": street_rows,
        "communities": community_rows,
        "quota_cells": [
            {
                "street": q["street"].code,
                "sex": q["sex"],
                "age_group": q["age_group"],
                "completed": q["achieved"],
                "target": q["target"],
            }
            for q in quotas
        ],
        "per_enumerator_day": [
            {"enumerator": name, "day": day, "interviews": n}
            for (name, day), n in sorted(per_day.items(), key=lambda kv: (kv[0][1], kv[0][0]))
        ],
        "median_minutes": {
            mode: round(statistics.median(v) / 60, 1) for mode, v in sorted(durations.items())
        },
        "flags": {f: flags[f] for f in FLAGS},
        "rates": {
            "cases": rates.counts.total,
            "e": None if rates.e is None else round(rates.e, 4),
            "e_method": rates.e_method,
            **{k: None if v is None else round(v, 4) for k, v in rates.rates().items()},
        },
    }


def test_dashboard_figures_match_an_independent_reference(demo, client):
    with demo.app_context():
        wave = db.session.scalar(select(Wave).where(Wave.code == WAVE))
        _vary(wave)
        wave_id = wave.id
        expected = {lang: _reference(wave, lang) for lang in ("zh_CN", "en")}
        db.session.remove()
    # The world holds what the figures must tell apart.
    zh = expected["zh_CN"]
    assert all(zh["flags"][f] > 0 for f in FLAGS), zh["flags"]
    assert zh["totals"]["rejected"] > 0 and len(zh["quota_cells"]) == 4
    assert len({row["day"] for row in zh["per_enumerator_day"]}) >= 4
    assert zh["rates"]["cases"] == 5
    assert any(c["target"] and not c["completed"] for c in zh["communities"])
    assert zh["streets"][0]["target"] == 7

    with demo.app_context():
        for lang in ("zh_CN", "en"):
            got = dashboard_data(db.session.get(Wave, wave_id), lang)
            assert got.pop("generated_at").endswith("Z")
            assert got == expected[lang], lang
            db.session.remove()
    assert expected["en"]["streets"] != expected["zh_CN"]["streets"]  # names in English

    # The endpoint sends the same, in the reader's language, in a fixed number of statements
    # (with quotas and telephone cases: the most it runs).
    login(client, *MANAGER)
    with demo.app_context():
        engine = db.engine
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    for lang in ("zh_CN", "en"):
        assert client.post(f"/auth/language/{lang}").status_code in (302, 303)
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            got = client.get(f"/dashboard/waves/{wave_id}/data.json").get_json()
        finally:
            event.remove(engine, "before_cursor_execute", count)
        got.pop("generated_at")
        assert got == expected[lang], lang
        assert len(statements) <= MAX_STATEMENTS, statements

    # Straightlining with N lowered to 3: every scale counts (each its own group).
    with demo.app_context():
        wave = db.session.get(Wave, wave_id)
        assert len(scales(wave.questionnaire_version.schema)) >= 2
        wave.survey.settings = {
            **(wave.survey.settings or {}),
            "fieldwork": {"straightlining_min_items": 3},
        }
        db.session.commit()
        lowered = _reference(wave, "zh_CN")
        assert lowered["flags"]["straightlining"] > zh["flags"]["straightlining"]
        got = dashboard_data(wave, "zh_CN")
        got.pop("generated_at")
        assert got == lowered

    # A zone with daylight saving, interviews on both sides of its change (Berlin: CEST until
    # 2026-10-25 01:00 UTC, then CET): local days and calling hours follow the offset in force.
    with demo.app_context():
        wave = db.session.get(Wave, wave_id)
        rows = db.session.scalars(
            select(Response).where(Response.wave_id == wave.id).order_by(Response.id)
        ).all()
        moments = [
            datetime(2026, 10, 24, 22, 30),  # 00:30 on the 25th (CEST), 23:30 on the 24th in CET
            datetime(2026, 10, 25, 0, 59, 59),  # 02:59:59 CEST
            datetime(2026, 10, 25, 1, 0, 0),  # 02:00:00 CET
            datetime(2026, 10, 25, 7, 0, 0),  # 08:00 CET: before 09:00
            datetime(2026, 10, 24, 7, 0, 0),  # 09:00 CEST: in hours
            datetime(2026, 10, 25, 20, 0, 0),  # 21:00 CET: the last minute
        ]
        for r, moment in zip(rows[1:], moments * 3, strict=False):
            r.started_at, r.ended_at = moment, moment + timedelta(minutes=8)
            r.status = "submitted"
        wave.survey.settings = {
            **(wave.survey.settings or {}),
            "fieldwork": {"timezone": "Europe/Berlin"},
        }
        db.session.commit()
        berlin = _reference(wave, "zh_CN")
        assert {"2026-10-24", "2026-10-25"} <= {r["day"] for r in berlin["per_enumerator_day"]}
        got = dashboard_data(wave, "zh_CN")
        got.pop("generated_at")
        assert got == berlin


def test_dashboard_figures_of_an_empty_wave(demo):
    """No interviews, assignments, quotas or cases: zeros and empty lists, no error."""
    with demo.app_context():
        wave = db.session.scalar(select(Wave).where(Wave.code == WAVE))
        for model in (Answer, ResponseParadata):
            ids = select(Response.id).where(Response.wave_id == wave.id)
            db.session.query(model).filter(model.response_id.in_(ids)).delete(
                synchronize_session=False
            )
        for model in (Response, Assignment, Quota):
            db.session.query(model).filter(model.wave_id == wave.id).delete(
                synchronize_session=False
            )
        db.session.commit()
        got = dashboard_data(wave, "zh_CN")
        expected = _reference(wave, "zh_CN")
        got.pop("generated_at")
        assert got == expected
        assert got["totals"] == {"completed": 0, "rejected": 0, "target": 0}
        assert got["per_enumerator_day"] == [] and got["median_minutes"] == {}


def test_dashboard_figures_on_a_sqlite_without_maths_functions(demo, monkeypatch):
    """A SQLite built without its maths functions (some Python builds bundle one) gets them
    from Python at connect: the out-of-area flag (a distance in SQL) is counted the same."""
    with demo.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's connections only")
    added = []
    real = database.add_math_functions
    monkeypatch.setattr(database, "add_math_functions", lambda c: added.append(real(c, force=True)))
    with demo.app_context():
        db.engine.dispose()  # new connections, through the forced fallback
        wave = db.session.scalar(select(Wave).where(Wave.code == WAVE))
        _vary(wave)
        expected = _reference(wave, "zh_CN")
        got = dashboard_data(wave, "zh_CN")
        got.pop("generated_at")
        assert added and all(added)
        assert got == expected
        assert got["flags"]["out_of_area"] > 0
        db.session.remove()
        db.engine.dispose()

    # The fallback behaves as SQLite's own: NULL in, NULL out, NULL outside the domain.
    plain = sqlite3.connect(":memory:")
    real(plain, force=True)
    row = plain.execute(
        "SELECT sin(0.5), cos(0.5), asin(1), sqrt(2.25), radians(180), power(2, 10),"
        " sqrt(-1), asin(2), sin(NULL), atan2(1, 1), sqrt('9')"
    ).fetchone()
    assert row[:6] == (math.sin(0.5), math.cos(0.5), math.pi / 2, 1.5, math.pi, 1024.0)
    assert row[6:9] == (None, None, None) and row[9] == math.atan2(1, 1) and row[10] == 3.0
    plain.close()
