"""Read-only views of surveys: overview with response counts, counts per street."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import func, select

from ..extensions import db
from ..models import Locality, Response, Survey, Wave


def survey_overview(visible: Mapping[int, Collection[int] | None] | None = None) -> list[dict]:
    """Return the surveys with their waves and their response counts.

    ``visible`` (survey id -> the street ids whose responses count, or None for the whole
    survey) limits the list and the counts, as :func:`surveyapp.policy.visible_streets`
    says; without it every survey is listed whole (the command line).
    """
    by_street: dict[int, dict[int, int]] = {}
    for wave_id, street_id, n in db.session.execute(
        select(Response.wave_id, Response.street_id, func.count(Response.id)).group_by(
            Response.wave_id, Response.street_id
        )
    ):
        by_street.setdefault(wave_id, {})[street_id] = n
    out = []
    for survey in db.session.scalars(select(Survey).order_by(Survey.id)):
        if visible is not None and survey.id not in visible:
            continue
        streets = visible.get(survey.id) if visible is not None else None
        counts = {
            wave_id: sum(n for street, n in per.items() if streets is None or street in streets)
            for wave_id, per in by_street.items()
        }
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
