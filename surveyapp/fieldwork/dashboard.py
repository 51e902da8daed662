"""The managers' dashboard figures of a wave, as plain data (JSON for the polling page).

Completed interviews count every response except rejected ones (the estimates' rule).

The page asks for these figures every 15 seconds, from every manager, all day: they are counted
by the database, one aggregate query per kind of figure, so a request costs the same whether
the wave has 30 interviews or 30,000 and 5 enumerators or 2,000 (no row per interview,
assignment or enumerator comes back to Python; tests/web/test_query_counts.py keeps the
number of statements fixed). The rules are those of the per-interview functions the review
pages use (``quality.wave_quality``, ``cati.quota_progress``, ``cati.wave_rates``); the test
``tests/fieldwork/test_dashboard_figures.py`` checks the figures against them.

Times: a local day or time of day is computed in SQL from the stored UTC time plus the survey
zone's UTC offset, which Python works out for the span of the wave's times (one offset for a
zone without daylight saving such as Asia/Shanghai, one per period otherwise). Durations are
whole microseconds in SQL, so medians and the speeding threshold compare exactly as Python's
``timedelta.total_seconds()`` does.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, time, timedelta, tzinfo

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Float,
    Integer,
    String,
    Time,
    and_,
    bindparam,
    case,
    cast,
    exists,
    extract,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import aliased, load_only

from ..caching import BoundedCache
from ..extensions import db
from ..models import Answer, Assignment, Locality, Response, User, Wave
from ..models.fieldwork import CallAttempt, CatiCase, Quota, ResponseParadata
from ..services.responses import counted_response_filter
from .dispositions import closing_code
from .quality import ELIGIBILITY_QUESTIONS, FLAGS, MIN_POINTS, scales
from .rates import DispositionCounts, aapor_rates
from .settings import FieldworkSettings, settings_for

#: What the figures read of a locality: not its outline (a GeoJSON geometry, parsed on load).
_NAMES_ONLY = load_only(
    Locality.id,
    Locality.code,
    Locality.parent_id,
    Locality.level,
    Locality.name_zh,
    Locality.name_en,
)

#: Statements one request runs at most, with the login and the wave (14, and one more for
#: the quota cells when the wave has quotas); tests/web/test_query_counts.py checks it.
MAX_STATEMENTS = 15


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def dashboard_data(wave: Wave, lang: str = "zh_CN") -> dict:
    """Completed vs target per street, community and quota cell; interviews per enumerator
    per day; median duration by mode; flags; AAPOR rates."""
    settings = settings_for(wave.survey)
    dialect = db.session.get_bind().dialect.name
    counted = counted_response_filter()

    # Completed and rejected by street and community, with the span of the wave's times.
    by_street: dict[int | None, int] = {}
    by_community: dict[int | None, int] = {}
    rejected = 0
    moments: list[datetime] = []
    ok_label = case((counted, 1), else_=0).label("ok")
    for street, community, ok, n, *span in db.session.execute(
        select(
            Response.street_id,
            Response.community_id,
            ok_label,
            func.count(Response.id),
            func.min(Response.started_at),
            func.max(Response.started_at),
            func.min(Response.submitted_at),
            func.max(Response.submitted_at),
        )
        .where(Response.wave_id == wave.id)
        .group_by(Response.street_id, Response.community_id, ok_label)
    ):
        if ok:
            by_street[street] = by_street.get(street, 0) + n
            by_community[community] = by_community.get(community, 0) + n
        else:
            rejected += n
        moments += [m for m in span if m is not None]
    local = _LocalTime(dialect, settings.zone, min(moments), max(moments)) if moments else None

    # Targets: the assignments' targets summed per locality, then up the tree; a street quota
    # wins. Every locality needed (those targets' ancestors, the communities interviewed in)
    # comes in one query, so ``parent`` is found in the session without another.
    targets = db.session.execute(
        select(Assignment.locality_id, func.sum(Assignment.target))
        .where(Assignment.wave_id == wave.id)
        .group_by(Assignment.locality_id)
    ).all()
    community_ids = {c for c in by_community if c is not None}
    tree = _load_with_ancestors({loc for loc, _ in targets} | community_ids)
    street_targets: dict[int, int] = {}
    community_targets: dict[int, int] = {}
    for locality_id, total in targets:
        path = tree[locality_id].path_by_level()
        if "community" in path:
            cid = path["community"].id
            community_targets[cid] = community_targets.get(cid, 0) + int(total or 0)
        if "street" in path:
            sid = path["street"].id
            street_targets[sid] = street_targets.get(sid, 0) + int(total or 0)
    # The district's streets first: the quotas' streets are among them (no query each).
    streets = db.session.scalars(
        select(Locality)
        .options(_NAMES_ONLY)
        .where(Locality.parent_id == wave.survey.district_id, Locality.level == "street")
        .order_by(Locality.code)
    ).all()
    quotas = _quota_progress(wave)
    for q in quotas:
        if not q["sex"] and not q["age_group"]:
            street_targets[q["street"].id] = q["target"]
    street_rows = [
        {
            "code": s.code,
            "name": s.name(lang),
            "completed": by_street.get(s.id, 0),
            "target": street_targets.get(s.id, 0),
        }
        for s in streets
    ]
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
            for c in (tree[i] for i in community_ids | set(community_targets))
        ),
        key=lambda r: r["code"],
    )

    enumerator_rows = _per_enumerator_day(wave, local) if local else []
    medians = _medians(wave, dialect)
    rates = _rates(wave)
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
        "median_minutes": {mode: round(m / 60, 1) for mode, m in sorted(medians["all"].items())},
        "flags": _flags(wave, settings, dialect, medians["eligible"], local),
        "rates": {
            "cases": rates.counts.total,
            "e": _round(rates.e),
            "e_method": rates.e_method,
            **{k: _round(v) for k, v in rates.rates().items()},
        },
    }


# --- statements made once ------------------------------------------------------------------
#
# The queries below are the same for every request but for their values: each is built once
# per shape (dialect, number of zone offsets, modes, answer scales) and kept, and a request
# passes its values as bound parameters (building them took ~6 ms a request).

_STATEMENTS: BoundedCache = BoundedCache(64)


def _statement(key: tuple, make):
    return _STATEMENTS.get_or_make(key, make)


def _wave():
    return bindparam("wave_id", type_=Integer)


# --- time ---------------------------------------------------------------------------------


class _LocalTime:
    """SQL for the local day and time of day of a stored (naive UTC) time, in ``zone``, for
    times between ``lo`` and ``hi``: the zone's offsets in force over that span are bound
    parameters (``shape`` of them), the statements' shape depends only on their number."""

    #: The zone's offset is checked this often; daylight saving periods are months long.
    STEP = timedelta(days=7)

    def __init__(self, dialect: str, zone: tzinfo, lo: datetime, hi: datetime):
        self.dialect = dialect
        pieces = _offsets(zone, lo, hi, self.STEP)
        self.shape = len(pieces)
        self.params: dict = {f"offset_{i}": offset for i, (_, offset) in enumerate(pieces)}
        self.params.update({f"since_{i}": since for i, (since, _) in enumerate(pieces) if i})

    def _offset(self, column):
        """The zone's offset (seconds) at ``column``: one value, or a CASE over periods."""
        last = bindparam(f"offset_{self.shape - 1}", type_=Integer)
        if self.shape == 1:
            return last
        return case(
            *(
                (
                    column < bindparam(f"since_{i}", type_=DateTime),
                    bindparam(f"offset_{i - 1}", type_=Integer),
                )
                for i in range(1, self.shape)
            ),
            else_=last,
        )

    def day(self, column):
        """The local date as text, ``YYYY-MM-DD``."""
        if self.dialect == "sqlite":
            return func.date(column, self._offset(column).op("||")(" seconds"))
        shifted = column + self._offset(column) * literal_column("interval '1 second'")
        return func.to_char(cast(shifted, Date), "YYYY-MM-DD")

    def within(self, column):
        """Whether the local time of day of ``column`` lies in the calling hours (inclusive;
        their values from :meth:`hours`)."""
        if self.dialect != "sqlite":
            shifted = column + self._offset(column) * literal_column("interval '1 second'")
            local = cast(shifted, Time)
            return and_(
                local >= bindparam("start", type_=Time), local <= bindparam("end", type_=Time)
            )
        # SQLite keeps times as text, 'YYYY-MM-DD HH:MM:SS.ffffff': the whole seconds are
        # shifted (offsets are whole seconds) and the microseconds compared as they are.
        seconds = func.strftime(
            "%H:%M:%S", func.substr(column, 1, 19), self._offset(column).op("||")(" seconds")
        )
        micro = cast(func.substr(column, 21), Integer)
        start, start_us = bindparam("start", type_=String), bindparam("start_us", type_=Integer)
        end, end_us = bindparam("end", type_=String), bindparam("end_us", type_=Integer)
        return and_(
            or_(seconds > start, and_(seconds == start, micro >= start_us)),
            or_(seconds < end, and_(seconds == end, micro <= end_us)),
        )

    def hours(self, start: time, end: time) -> dict:
        """The values of :meth:`within`'s parameters."""
        if self.dialect != "sqlite":
            return {"start": start, "end": end}
        return {
            "start": start.strftime("%H:%M:%S"),
            "start_us": start.microsecond,
            "end": end.strftime("%H:%M:%S"),
            "end_us": end.microsecond,
        }


def _offsets(zone: tzinfo, lo: datetime, hi: datetime, step: timedelta) -> list:
    """[(since, offset seconds)] of ``zone`` from ``lo`` to ``hi`` (naive UTC); the first
    ``since`` is None (every time before the first change)."""

    def offset(moment: datetime) -> int:
        return int(moment.replace(tzinfo=UTC).astimezone(zone).utcoffset().total_seconds())

    lo = lo.replace(microsecond=0)
    current = offset(lo)
    pieces: list = [(None, current)]
    moment = lo
    while moment < hi:
        later = min(moment + step, hi + timedelta(seconds=1))
        if offset(later) == current:
            moment = later
            continue
        # The first whole second with the new offset (zones change on whole seconds).
        below, above = moment, later
        while above - below > timedelta(seconds=1):
            middle = below + timedelta(seconds=(above - below).total_seconds() // 2)
            below, above = (middle, above) if offset(middle) == current else (below, middle)
        current = offset(above)
        pieces.append((above, current))
        moment = above
    return pieces


def _per_enumerator_day(wave: Wave, local: _LocalTime) -> list[dict]:
    """Completed interviews per enumerator and local day (of starting, else of submitting)."""

    def make():
        day = local.day(func.coalesce(Response.started_at, Response.submitted_at)).label("day")
        return (
            select(User.username, day, func.count(Response.id))
            .join(User, User.id == Response.enumerator_id)
            .where(Response.wave_id == _wave(), counted_response_filter())
            .group_by(Response.enumerator_id, User.username, day)
        )

    rows = db.session.execute(
        _statement(("per day", local.dialect, local.shape), make),
        {"wave_id": wave.id, **local.params},
    ).all()
    return [
        {"enumerator": name, "day": d, "interviews": n}
        for name, d, n in sorted(rows, key=lambda r: (r[1], r[0]))
    ]


# --- durations and flags ------------------------------------------------------------------


def _micros(dialect: str):
    """An interview's duration in whole microseconds, in SQL (None when a time is missing;
    negative when it ended before it started, which Python's rule also leaves out)."""
    s, e = Response.started_at, Response.ended_at
    if dialect == "sqlite":
        whole = func.round(
            (func.julianday(func.substr(e, 1, 19)) - func.julianday(func.substr(s, 1, 19))) * 86400
        )
        micro = cast(func.substr(e, 21), Integer) - cast(func.substr(s, 21), Integer)
        return cast(whole, Integer) * 1_000_000 + micro
    return cast(extract("epoch", e - s) * 1_000_000, BigInteger)


def _timed(dialect: str):
    """Responses with a duration (both times, not ending before starting)."""
    return and_(
        Response.started_at.is_not(None),
        Response.ended_at.is_not(None),
        _micros(dialect) >= 0,
    )


def _medians(wave: Wave, dialect: str) -> dict[str, dict[str, float]]:
    """The median duration (seconds) per mode of every interview ("all") and of the eligible
    ones ("eligible", the speeding rule's), in one query: the one or two middle values of
    each mode, found by the database."""

    def make():
        micros = _micros(dialect).label("d")
        ours = and_(Response.wave_id == _wave(), _timed(dialect))
        both = (
            select(literal_column("'all'").label("kind"), Response.mode, micros)
            .where(ours)
            .union_all(
                select(literal_column("'eligible'").label("kind"), Response.mode, micros).where(
                    ours, _eligible()
                )
            )
            .subquery()
        )
        ranked = select(
            both.c.kind,
            both.c.mode,
            both.c.d,
            func.row_number()
            .over(partition_by=(both.c.kind, both.c.mode), order_by=both.c.d)
            .label("rn"),
            func.count().over(partition_by=(both.c.kind, both.c.mode)).label("n"),
        ).subquery()
        return (
            select(ranked.c.kind, ranked.c.mode, ranked.c.d)
            .where((ranked.c.rn * 2).in_((ranked.c.n, ranked.c.n + 1, ranked.c.n + 2)))
            .order_by(ranked.c.kind, ranked.c.mode, ranked.c.rn)
        )

    middle: dict[str, dict[str, list[float]]] = {"all": {}, "eligible": {}}
    for kind, mode, d in db.session.execute(
        _statement(("medians", dialect), make), {"wave_id": wave.id}
    ):
        middle[kind].setdefault(mode, []).append(int(d) / 1_000_000)
    # statistics.median's arithmetic: the middle value, or the mean of the two.
    return {
        kind: {m: v[0] if len(v) == 1 else (v[0] + v[1]) / 2 for m, v in by_mode.items()}
        for kind, by_mode in middle.items()
    }


def _eligible():
    """Whether a response answered every eligibility question (quality's rule)."""
    return and_(
        *(
            exists().where(Answer.response_id == Response.id, Answer.question == q)
            for q in ELIGIBILITY_QUESTIONS
        )
    )


def _below(threshold: float) -> int:
    """The smallest whole number of microseconds ``u`` with ``u / 1e6 >= threshold``: a
    duration is under the threshold exactly when its microseconds are under ``u``."""
    u = max(0, math.ceil(threshold * 1_000_000))
    while u > 0 and (u - 1) / 1_000_000 >= threshold:
        u -= 1
    while u / 1_000_000 < threshold:
        u += 1
    return u


def _flags(
    wave: Wave,
    settings: FieldworkSettings,
    dialect: str,
    eligible_medians: dict[str, float],
    local: _LocalTime | None,
) -> dict[str, int]:
    """How many interviews carry each quality flag (``quality.wave_quality``'s rules), in one
    query: each flag is a count over the wave's responses."""
    least = settings.straightlining_min_items
    sets = tuple(
        tuple(qids) for qids in scales(wave.questionnaire_version.schema) if len(qids) >= least
    )
    # speeding: an eligible interview under a share of its mode's median (eligible ones).
    fast = [
        (mode, _below(settings.speeding_share * m)) for mode, m in eligible_medians.items() if m
    ]
    params: dict = {"wave_id": wave.id, "least": least, "far_km": settings.far_from_area_km}
    for i, (mode, below) in enumerate(fast):
        params[f"mode_{i}"], params[f"below_{i}"] = mode, below
    if local:
        params.update(local.params)
        params.update(local.hours(*settings.calling_hours))

    def make():
        micros = _micros(dialect)
        # The eligibility probes last: only the fast interviews need them.
        speeding = and_(
            _timed(dialect),
            or_(
                false(),
                *(
                    and_(
                        Response.mode == bindparam(f"mode_{i}", type_=String),
                        micros < bindparam(f"below_{i}", type_=BigInteger),
                    )
                    for i in range(len(fast))
                ),
            ),
            _eligible(),
        )
        # out_of_hours: started outside the calling hours, local time.
        late = (
            and_(Response.started_at.is_not(None), ~local.within(Response.started_at))
            if local
            else false()
        )
        return (
            select(
                func.coalesce(func.sum(case((speeding, 1), else_=0)), 0) if fast else literal(0),
                _straightlined(sets),
                func.coalesce(func.sum(case((late, 1), else_=0)), 0),
                _far_from_area(),
            )
            .select_from(Response)
            .where(Response.wave_id == _wave())
        )

    key = ("flags", dialect, len(fast), local.shape if local else 0, sets)
    counts = db.session.execute(_statement(key, make), params).one()
    found = dict(
        zip(("speeding", "straightlining", "out_of_hours", "out_of_area"), counts, strict=True)
    )
    return {f: int(found[f] or 0) for f in FLAGS}


def _straightlined(sets: tuple[tuple[str, ...], ...]):
    """A scalar subquery: interviews with at least N (``least``) answers on one answer scale
    of ``sets``, all the same code (``quality.straightlines``). A scale's questions are
    single-choice ones asked once: one answer row each. The answers are read in the index's
    order (by response), so the grouping needs no sort; a scale with fewer than N questions
    can never count (the caller leaves it out)."""
    if not sets:
        return literal(0)
    least = bindparam("least", type_=Integer)
    if len(sets) == 1:
        same = and_(
            func.count(Answer.question) >= least,
            func.min(Answer.value) == func.max(Answer.value),
        )
    else:

        def on(qids: tuple[str, ...], what):
            return case((Answer.question.in_(qids), what))

        same = or_(
            *(
                and_(
                    func.count(on(qids, 1)) >= least,
                    func.min(on(qids, Answer.value)) == func.max(on(qids, Answer.value)),
                )
                for qids in sets
            )
        )
    ours = aliased(Response)  # not the enclosing query's responses
    lines = (
        select(Answer.response_id)
        .where(
            Answer.response_id.in_(select(ours.id).where(ours.wave_id == _wave())),
            Answer.question.in_([q for qids in sets for q in qids]),
        )
        .group_by(Answer.response_id)
        .having(same)
        .subquery()
    )
    return select(func.count(lines.c.response_id)).scalar_subquery()


def _far_from_area():
    """A scalar subquery: GPS points farther than ``far_km`` from the median point of their
    locality's points (localities with at least MIN_POINTS), by ``quality.km_between``'s
    haversine, written out in the same order of operations."""
    located = aliased(Response)  # not the enclosing query's responses
    points = (
        select(
            func.coalesce(located.locality_id, -1).label("loc"),
            ResponseParadata.gps_lat.label("lat"),
            ResponseParadata.gps_lon.label("lon"),
        )
        .select_from(located)
        .join(ResponseParadata, ResponseParadata.response_id == located.id)
        .where(
            located.wave_id == _wave(),
            ResponseParadata.gps_lat.is_not(None),
            ResponseParadata.gps_lon.is_not(None),
        )
        .cte("points")
    )

    def centre(axis: str):
        value = points.c[axis]
        ranked = select(
            points.c.loc,
            value.label("v"),
            func.row_number().over(partition_by=points.c.loc, order_by=value).label("rn"),
            func.count().over(partition_by=points.c.loc).label("n"),
        ).subquery()
        return (
            select(ranked.c.loc, func.avg(ranked.c.v).label("v"))
            .where(
                ranked.c.n >= MIN_POINTS,
                (ranked.c.rn * 2).in_((ranked.c.n, ranked.c.n + 1, ranked.c.n + 2)),
            )
            .group_by(ranked.c.loc)
            .subquery()
        )

    lat_c, lon_c = centre("lat"), centre("lon")
    p1, p2 = func.radians(points.c.lat), func.radians(lat_c.c.v)
    dp, dl = p2 - p1, func.radians(lon_c.c.v - points.c.lon)
    half_dp, half_dl = func.sin(dp / 2), func.sin(dl / 2)
    a = half_dp * half_dp + func.cos(p1) * func.cos(p2) * (half_dl * half_dl)
    root = func.sqrt(a)
    km = 2 * 6371.0 * func.asin(case((root > 1.0, 1.0), else_=root))
    return (
        select(func.count())
        .select_from(points)
        .join(lat_c, lat_c.c.loc == points.c.loc)
        .join(lon_c, lon_c.c.loc == points.c.loc)
        .where(km > bindparam("far_km", type_=Float))
        .scalar_subquery()
    )


# --- quotas, rates, localities --------------------------------------------------------------


def _quota_progress(wave: Wave) -> list[dict]:
    """``cati.quota_progress`` in two queries: the quotas, then every quota's completed
    interviews as one column each of a single count over the wave's responses."""
    quotas = db.session.scalars(
        select(Quota)
        .where(Quota.wave_id == wave.id)
        .order_by(Quota.locality_id, Quota.sex, Quota.age_group)
    ).all()
    if not quotas:
        return []

    def answered(question: str, value: str):
        return exists().where(
            Answer.response_id == Response.id, Answer.question == question, Answer.value == value
        )

    columns = []
    for q in quotas:
        condition = [Response.street_id == q.locality_id]
        if q.sex:
            condition.append(answered("sex", q.sex))
        if q.age_group:
            condition.append(answered("age_group", q.age_group))
        columns.append(func.coalesce(func.sum(case((and_(*condition), 1), else_=0)), 0))
    achieved = db.session.execute(
        select(*columns)
        .select_from(Response)
        .where(Response.wave_id == wave.id, Response.status != "rejected")
    ).one()
    return [
        {
            "quota": q,
            "street": q.locality,
            "sex": q.sex,
            "age_group": q.age_group,
            "target": q.target,
            "achieved": int(n or 0),
            "full": q.target > 0 and int(n or 0) >= q.target,
        }
        for q, n in zip(quotas, achieved, strict=True)
    ]


def _rates(wave: Wave):
    """Overall AAPOR rates of the wave's telephone cases (``cati.wave_rates().overall``):
    closed cases counted by code in SQL; open ones get their interim code from their calls."""
    codes: list[str] = []
    for code, n in db.session.execute(
        select(CatiCase.final_code, func.count(CatiCase.id))
        .where(CatiCase.wave_id == wave.id, CatiCase.final_code != "")
        .group_by(CatiCase.final_code)
    ):
        codes += [code] * n
    calls: dict[int, list[str]] = {}
    for case_id, code in db.session.execute(
        select(CatiCase.id, CallAttempt.code)
        .outerjoin(CallAttempt, CallAttempt.case_id == CatiCase.id)
        .where(CatiCase.wave_id == wave.id, CatiCase.final_code == "")
        .order_by(CatiCase.id, CallAttempt.id)
    ):
        calls.setdefault(case_id, [])
        if code is not None:
            calls[case_id].append(code)
    codes += [closing_code(c) for c in calls.values()]
    return aapor_rates(DispositionCounts.from_codes(codes))


def _load_with_ancestors(ids: set[int]) -> dict[int, Locality]:
    """The localities ``ids`` and all their ancestors in one query (a recursive one): their
    ``parent`` is then found in the session without a query."""
    if not ids:
        return {}
    up = select(Locality.id, Locality.parent_id).where(Locality.id.in_(ids)).cte(recursive=True)
    up = up.union(select(Locality.id, Locality.parent_id).where(Locality.id == up.c.parent_id))
    rows = db.session.scalars(
        select(Locality).options(_NAMES_ONLY).where(Locality.id.in_(select(up.c.id)))
    ).all()
    return {loc.id: loc for loc in rows}
