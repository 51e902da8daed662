"""Read-only views of surveys: overview with response counts, counts per street."""

from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..models import Locality, Response, Survey, Wave


def survey_overview() -> list[dict]:
    """Return every survey with its waves and their response counts."""
    counts = dict(
        db.session.execute(
            select(Response.wave_id, func.count(Response.id)).group_by(Response.wave_id)
        ).all()
    )
    out = []
    for survey in db.session.scalars(select(Survey).order_by(Survey.id)):
        qv = survey.questionnaire_version
        out.append(
            {
                "id": survey.id,
                "name": survey.name,
                "questionnaire": f"{qv.slug} v{qv.version}",
                "district": survey.district.code,
                "modes": survey.mode_list,
                "waves": [
                    {
                        "id": w.id,
                        "code": w.code,
                        "name": w.name,
                        "responses": counts.get(w.id, 0),
                    }
                    for w in survey.waves
                ],
                "responses": sum(counts.get(w.id, 0) for w in survey.waves),
            }
        )
    return out


def counts_by_street(wave: Wave) -> list[tuple[Locality, int]]:
    """Return each street of the survey's district with the wave's response count."""
    counts = dict(
        db.session.execute(
            select(Response.street_id, func.count(Response.id))
            .where(Response.wave_id == wave.id)
            .group_by(Response.street_id)
        ).all()
    )
    streets = db.session.scalars(
        select(Locality)
        .where(Locality.parent_id == wave.survey.district_id, Locality.level == "street")
        .order_by(Locality.code)
    )
    return [(street, counts.get(street.id, 0)) for street in streets]
