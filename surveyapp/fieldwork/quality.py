"""Quality control of interviews: durations and the flags a supervisor looks at.

Flags: ``speeding`` (duration under a configurable share of the median of the same mode,
among eligible respondents: a screened-out interview is short by design, so it is neither flagged
nor part of the median),
``straightlining`` (at least N answers on one answer scale, all the same code),
``out_of_hours`` (started outside the calling hours, local time) and ``out_of_area`` (a GPS
point farther than a configured distance from the median point of its locality's interviews).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from ..extensions import db
from ..models import Answer, Response, Wave
from ..models.fieldwork import ResponseParadata
from ..questionnaire import Questionnaire
from .cati import local_time
from .settings import FieldworkSettings, settings_for

FLAGS = ("speeding", "straightlining", "out_of_hours", "out_of_area")
#: The demographic questions asked of eligible respondents only: a response without them was
#: screened out (the estimates leave it out by the same rule, ``services.wave_data.read_wave``).
ELIGIBILITY_QUESTIONS = ("sex", "age_group")
#: Points needed in a locality before its median point is trusted for ``out_of_area``.
MIN_POINTS = 3


@dataclass
class InterviewQuality:
    response_id: int
    enumerator_id: int | None
    mode: str
    duration_s: float | None
    flags: list[str] = field(default_factory=list)


def duration_seconds(started: datetime | None, ended: datetime | None) -> float | None:
    if started is None or ended is None or ended < started:
        return None
    return (ended - started).total_seconds()


def scales(schema: Questionnaire) -> list[list[str]]:
    """Groups of single-choice questions sharing the same list of at least three codes."""
    by_codes: dict[tuple, list[str]] = defaultdict(list)
    for qid, q in schema.questions_once.items():
        codes = tuple(c.code for c in q.choices)
        if q.kind.listed and not q.kind.multiple and len(codes) >= 3:
            by_codes[codes].append(qid)
    return [qids for qids in by_codes.values() if len(qids) >= 2]


def straightlines(answers: dict[str, str], scale_sets: list[list[str]], min_items: int) -> bool:
    for qids in scale_sets:
        given = [answers[q] for q in qids if q in answers]
        if len(given) >= min_items and len(set(given)) == 1:
            return True
    return False


def km_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, Earth radius 6371 km)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


def _eligible_responses(wave: Wave) -> set[int]:
    """Ids of the responses of ``wave`` that answered every eligibility question."""
    rows = db.session.execute(
        select(Answer.response_id)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.wave_id == wave.id, Answer.question.in_(ELIGIBILITY_QUESTIONS))
        .group_by(Answer.response_id)
        .having(func.count(func.distinct(Answer.question)) == len(ELIGIBILITY_QUESTIONS))
    )
    return {rid for (rid,) in rows}


def wave_quality(
    wave: Wave, settings: FieldworkSettings | None = None
) -> dict[int, InterviewQuality]:
    """Return the duration and flags of every response of ``wave``, by response id."""
    settings = settings or settings_for(wave.survey)
    rows = db.session.execute(
        select(
            Response.id,
            Response.enumerator_id,
            Response.mode,
            Response.started_at,
            Response.ended_at,
            Response.locality_id,
            ResponseParadata.gps_lat,
            ResponseParadata.gps_lon,
        )
        .outerjoin(ResponseParadata, ResponseParadata.response_id == Response.id)
        .where(Response.wave_id == wave.id)
    ).all()
    eligible = _eligible_responses(wave)
    out: dict[int, InterviewQuality] = {}
    durations: dict[str, list[float]] = defaultdict(list)
    points: dict[int, list[tuple[float, float]]] = defaultdict(list)
    start, end = settings.calling_hours
    for rid, enumerator, mode, started, ended, locality, lat, lon in rows:
        q = InterviewQuality(rid, enumerator, mode, duration_seconds(started, ended))
        out[rid] = q
        if q.duration_s is not None and rid in eligible:
            durations[mode].append(q.duration_s)
        if started is not None:
            if not start <= local_time(started, settings).time() <= end:
                q.flags.append("out_of_hours")
        if lat is not None and lon is not None:
            points[locality].append((lat, lon))
    medians = {mode: statistics.median(v) for mode, v in durations.items() if v}
    for q in out.values():
        median = medians.get(q.mode)
        if q.response_id not in eligible:
            continue
        if q.duration_s is not None and median and q.duration_s < settings.speeding_share * median:
            q.flags.insert(0, "speeding")
    schema = wave.questionnaire_version.schema
    scale_sets = scales(schema)
    if scale_sets:
        wanted = {qid for qids in scale_sets for qid in qids}
        answers: dict[int, dict[str, str]] = defaultdict(dict)
        for rid, question, value in db.session.execute(
            select(Answer.response_id, Answer.question, Answer.value)
            .join(Response, Response.id == Answer.response_id)
            .where(Response.wave_id == wave.id, Answer.question.in_(wanted))
        ):
            answers[rid][question] = value
        for rid, given in answers.items():
            if straightlines(given, scale_sets, settings.straightlining_min_items):
                out[rid].flags.append("straightlining")
    centres = {
        loc: (statistics.median(p[0] for p in pts), statistics.median(p[1] for p in pts))
        for loc, pts in points.items()
        if len(pts) >= MIN_POINTS
    }
    for rid, _e, _m, _s, _en, locality, lat, lon in rows:
        if lat is None or lon is None or locality not in centres:
            continue
        clat, clon = centres[locality]
        if km_between(lat, lon, clat, clon) > settings.far_from_area_km:
            out[rid].flags.append("out_of_area")
    return out
