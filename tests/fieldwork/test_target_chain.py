"""One chain of targets, end to end: the plan page's targets per street become, in one step,
the wave's quotas and the targets of the wave's assignments; the dashboard's completed / target
per street and per community (with its street) follows from them."""

from __future__ import annotations

from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Assignment, Locality, User, Wave
from surveyapp.models.fieldwork import Quota

from .conftest import bearer, full_answers, submission
from .test_cati import MANAGER, login


def test_plan_targets_flow_to_quotas_assignments_and_dashboard(demo, client, token, door):
    with demo.app_context():
        wave = db.session.scalar(select(Wave).where(Wave.code == "2026-Q4"))
        wave_id, survey_id = wave.id, wave.survey_id
        streets = sorted(
            (c for c in wave.survey.district.children if c.level == "street"),
            key=lambda s: s.code,
        )
        first, second = streets[0], streets[1]
        # A second enumerator in a community of another street, with a known population.
        community = second.children[0]
        db.session.add(
            Assignment(
                wave_id=wave.id,
                enumerator_id=db.session.scalar(select(User.id).where(User.username == "field02")),
                locality_id=community.id,
                mode="door",
                target=1,
            )
        )
        db.session.commit()
        door_localities = {
            a.locality.code: a.locality.population
            for a in db.session.scalars(
                select(Assignment).where(Assignment.wave_id == wave.id, Assignment.mode == "door")
            )
        }
        first_code, second_code, community_code = first.code, second.code, community.code

    login(client, *MANAGER)
    saved = client.post(
        f"/design/surveys/{survey_id}/plan",
        data={"margin": "0.05", "p": "0.9", "deff": "1.5", "level": "0.95", "method": "logit"}
        | {"wave": str(wave_id)},
    )
    assert saved.status_code == 302

    with demo.app_context():
        wave = db.session.get(Wave, wave_id)
        plan = wave.survey.settings["plan"]["targets"]
        quotas = {
            q.locality.code: q.target
            for q in db.session.scalars(
                select(Quota).where(
                    Quota.wave_id == wave_id, Quota.sex == "", Quota.age_group == ""
                )
            )
        }
        assert quotas == plan  # the plan's targets are the wave's quotas
        targets = {
            (a.locality.code, a.mode): a.target
            for a in db.session.scalars(select(Assignment).where(Assignment.wave_id == wave_id))
        }
        # The first street's target is split over its two door assignments; by population
        # when both communities have one (largest remainders), else equally.
        mine = [code for code in door_localities if code.startswith(first_code)]
        assert len(mine) == 2
        parts = [targets[(code, "door")] for code in mine]
        assert sum(parts) == plan[first_code]
        pops = [door_localities[code] for code in mine]
        if all(pops):
            share = plan[first_code] * pops[0] / sum(pops)
            assert abs(parts[0] - share) < 1
        else:
            assert abs(parts[0] - parts[1]) <= 1
        # The only assignment of the second street takes its whole target.
        assert targets[(community_code, "door")] == plan[second_code]
        # The district-wide telephone assignment takes the streets without assignments.
        rest = sum(t for code, t in plan.items() if code not in (first_code, second_code))
        assert targets[(wave.survey.district.code, "phone")] == rest

    def dashboard() -> dict:
        data = client.get(f"/dashboard/waves/{wave_id}/data.json").get_json()
        return data

    data = dashboard()
    streets = {r["code"]: r for r in data["streets"]}
    assert {code: r["target"] for code, r in streets.items()} == plan
    communities = {r["code"]: r for r in data["communities"]}
    for code in mine:
        assert communities[code]["target"] == targets[(code, "door")]
        assert communities[code]["street"] == first_code
        assert communities[code]["street_name"] == streets[first_code]["name"]
    assert communities[community_code]["target"] == plan[second_code]
    assert communities[community_code]["street"] == second_code
    assert data["totals"]["target"] == sum(plan.values())

    # An interview in the first community counts for its community and its street.
    before_street = streets[first_code]["completed"]
    before_community = communities[door["community"]]["completed"]
    body = submission(door, full_answers(demo, seed=4))
    response = client.post("/api/v1/submissions", json=body, headers=bearer(token))
    assert response.status_code == 201, response.get_json()
    data = dashboard()
    assert {r["code"]: r for r in data["streets"]}[first_code]["completed"] == before_street + 1
    community_row = {r["code"]: r for r in data["communities"]}[door["community"]]
    assert community_row["completed"] == before_community + 1
    with demo.app_context():
        grid = db.session.scalar(select(Locality).where(Locality.code == door["grid"]))
        assert grid.parent.code == door["community"]
