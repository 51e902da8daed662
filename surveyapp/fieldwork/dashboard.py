"""The managers' dashboard figures of a wave, as plain data (JSON for the polling page).

Completed interviews count every response except rejected ones (the estimates' rule).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import datetime

from sqlalchemy import func, select

from ..extensions import db
from ..models import Assignment, Locality, Response, User, Wave
from ..services.responses import counted_response_filter
from .cati import local_time, quota_progress, wave_rates
from .quality import FLAGS, wave_quality
from .settings import settings_for


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def dashboard_data(wave: Wave, lang: str = "zh_CN") -> dict:
    """Completed vs target per street, community and quota cell; interviews per enumerator
    per day; median duration by mode; flags; AAPOR rates."""
    settings = settings_for(wave.survey)
    counted = counted_response_filter()
    by_street = dict(
        db.session.execute(
            select(Response.street_id, func.count(Response.id))
            .where(Response.wave_id == wave.id, counted)
            .group_by(Response.street_id)
        ).all()
    )
    by_community = dict(
        db.session.execute(
            select(Response.community_id, func.count(Response.id))
            .where(Response.wave_id == wave.id, counted)
            .group_by(Response.community_id)
        ).all()
    )
    rejected = (
        db.session.scalar(
            select(func.count(Response.id)).where(Response.wave_id == wave.id, ~counted)
        )
        or 0
    )

    # Targets: the assignments' targets summed up the locality tree; a street quota wins.
    street_targets: dict[int, int] = defaultdict(int)
    community_targets: dict[int, int] = defaultdict(int)
    assignments = db.session.scalars(select(Assignment).where(Assignment.wave_id == wave.id)).all()
    tree = _load_with_ancestors({a.locality_id for a in assignments})
    for a in assignments:
        path = tree[a.locality_id].path_by_level()
        if "community" in path:
            community_targets[path["community"].id] += a.target
        if "street" in path:
            street_targets[path["street"].id] += a.target
    quotas = quota_progress(wave)
    for q in quotas:
        if not q["sex"] and not q["age_group"]:
            street_targets[q["street"].id] = q["target"]

    streets = sorted(
        (loc for loc in wave.survey.district.children if loc.level == "street"),
        key=lambda s: s.code,
    )
    street_rows = [
        {
            "code": s.code,
            "name": s.name(lang),
            "completed": by_street.get(s.id, 0),
            "target": street_targets.get(s.id, 0),
        }
        for s in streets
    ]
    community_ids = set(by_community) | set(community_targets)
    community_ids.discard(None)
    communities = (
        db.session.scalars(select(Locality).where(Locality.id.in_(community_ids))).all()
        if community_ids
        else []
    )
    community_rows = sorted(
        (
            {
                "code": c.code,
                "name": c.name(lang),
                "street": c.parent.code if c.parent else "",
                "street_name": c.parent.name(lang) if c.parent else "",
                "completed": by_community.get(c.id, 0),
                "target": community_targets.get(c.id, 0),
            }
            for c in communities
        ),
        key=lambda r: r["code"],
    )

    quality = wave_quality(wave, settings)
    flags = Counter(f for q in quality.values() for f in q.flags)
    durations: dict[str, list[float]] = defaultdict(list)
    for q in quality.values():
        if q.duration_s is not None:
            durations[q.mode].append(q.duration_s)

    per_day: Counter = Counter()
    users = {}
    for enumerator_id, submitted, started in db.session.execute(
        select(Response.enumerator_id, Response.submitted_at, Response.started_at).where(
            Response.wave_id == wave.id, counted, Response.enumerator_id.is_not(None)
        )
    ):
        day = local_time(started or submitted, settings).date().isoformat()
        per_day[(enumerator_id, day)] += 1
        users[enumerator_id] = None
    names = (
        dict(
            db.session.execute(select(User.id, User.username).where(User.id.in_(list(users)))).all()
        )
        if users
        else {}
    )
    enumerator_rows = [
        {"enumerator": names.get(e, str(e)), "day": d, "interviews": n}
        for (e, d), n in sorted(per_day.items(), key=lambda kv: (kv[0][1], names.get(kv[0][0], "")))
    ]

    rates = wave_rates(wave)
    return {
        "wave": {"id": wave.id, "code": wave.code, "name": wave.name},
        "generated_at": datetime.utcnow().isoformat(timespec="seconds") + "Z",
        "totals": {
            "completed": sum(by_street.values()),
            "rejected": rejected,
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
        "per_enumerator_day": enumerator_rows,
        "median_minutes": {
            mode: round(statistics.median(v) / 60, 1) for mode, v in sorted(durations.items()) if v
        },
        "flags": {f: flags.get(f, 0) for f in FLAGS},
        "rates": {
            "cases": rates.overall.counts.total,
            "e": _round(rates.overall.e),
            "e_method": rates.overall.e_method,
            **{k: _round(v) for k, v in rates.overall.rates().items()},
        },
    }


def _load_with_ancestors(ids: set[int]) -> dict[int, Locality]:
    """The localities ``ids`` and all their ancestors, one query per level of the tree (not
    one per locality): their ``parent`` is then found in the session without a query."""
    found: dict[int, Locality] = {}
    todo = set(ids)
    while todo:
        rows = db.session.scalars(select(Locality).where(Locality.id.in_(todo))).all()
        found.update((loc.id, loc) for loc in rows)
        todo = {loc.parent_id for loc in rows if loc.parent_id is not None} - set(found)
    return found
