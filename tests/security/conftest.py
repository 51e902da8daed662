"""Fixtures for the security tests: the demo with a second district, survey and team.

The access-control matrix needs, for every kind of object a URL can name, one that lies inside
each test user's jurisdiction and one that lies outside it. The demo has one district; this adds
a second one (玄武区 with a street, a community and a grid), a second manager's survey there
with its own questionnaire version and wave, and assignments and responses of another
enumerator, so that "someone else's" object exists for every role. The demo manager's
locality becomes the city, which contains both districts: managers see the surveys they
run, whatever their locality.
"""

from __future__ import annotations

import shutil
import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import datetime

import pytest
from sqlalchemy import select

from surveyapp import create_app
from surveyapp.extensions import db

from ..conftest import (
    PG_DEMO_SCHEMA,
    PG_URL,
    ROOT,
    _config,
    _pg_copy_template,
    wipe_postgres,
)

OTHER_LOCALITIES = """code,parent_code,level,name_zh,name_en,population
320102,3201,district,玄武区,Xuanwu District,500000
320102001,320102,street,梅园新村街道,Meiyuan Xincun,60000
320102001001,320102001,community,长江路社区,Changjianglu,8000
320102001001001,320102001001,grid,长江路第一网格,Grid 1,2000
"""


@dataclass
class World:
    """Ids and codes of the objects the matrix requests, inside and outside jurisdictions."""

    users: dict[str, int] = field(default_factory=dict)  # role key -> user id
    ids: dict[str, object] = field(default_factory=dict)


def _populate(app) -> World:
    from surveyapp.models import Assignment, Locality, Response, Survey, User, Wave
    from surveyapp.services.localities import import_localities
    from surveyapp.services.questionnaires import store_questionnaire
    from surveyapp.services.responses import Submission, submit_response
    from surveyapp.services.users import create_user

    world = World()
    with app.app_context():
        import_localities(OTHER_LOCALITIES, source="other-district.csv")

        def user(name: str) -> User:
            return db.session.scalar(select(User).where(User.username == name))

        def loc(code: str) -> Locality:
            return db.session.scalar(select(Locality).where(Locality.code == code))

        manager2 = create_user("manager-xuanwu", "manager", "Xuanwu-Manager-2026!")
        # The demo manager's locality is the whole city, so that the other manager's survey
        # (in 玄武区) lies within it: a locality must grant a manager nothing (issue 14, 7).
        user("manager").locality = loc("3201")
        enumerator2 = create_user("enumerator-xuanwu", "enumerator", "Xuanwu-Enum-2026!")
        other_district = loc("320102")
        source = (ROOT / "questionnaires" / "public-security-satisfaction.yaml").read_text(
            encoding="utf-8"
        )
        version2, _created = store_questionnaire(
            source.replace("\nversion: 1\n", "\nversion: 99\n", 1), source="v99.yaml"
        )
        demo_survey = db.session.scalar(select(Survey).order_by(Survey.id))
        survey2 = Survey(
            name="玄武区 survey",
            questionnaire_version=version2,
            district=other_district,
            modes="phone,door",
            created_by=manager2,
            settings=dict(demo_survey.settings),
        )
        survey2.waves.append(Wave(code="2026-Q4", name="2026 Q4", position=0, is_open=True))
        db.session.add(survey2)
        db.session.flush()
        wave2 = survey2.waves[0]
        demo_wave = demo_survey.waves[-1]
        enumerator = user("enumerator")
        own_assignment = db.session.scalar(
            select(Assignment)
            .where(Assignment.enumerator_id == enumerator.id, Assignment.mode == "door")
            .order_by(Assignment.id)
        )
        street = loc("320106001")
        sibling_street = next(
            s for s in street.parent.children if s.level == "street" and s.id != street.id
        )
        sibling_community = sibling_street.children[0]
        # Another enumerator in the same wave (in another street), and one in the other survey.
        colleague = user("field01")
        same_wave_other = Assignment(
            wave=demo_wave, enumerator=colleague, locality=sibling_community, mode="door", target=5
        )
        other_survey_assignment = Assignment(
            wave=wave2, enumerator=enumerator2, locality=loc("320102001001"), mode="door", target=5
        )
        db.session.add_all([same_wave_other, other_survey_assignment])
        db.session.commit()

        # One response of the demo enumerator (the demo's synthetic ones are the field team's).
        grid = own_assignment.locality.children[0]
        answers = {"resident_6m": "no", "age_16plus": "yes"}
        own_response, _ = submit_response(
            Submission(
                wave=demo_wave,
                locality=grid,
                mode="door",
                language="zh_CN",
                uuid=str(uuidlib.uuid4()),
                answers=answers,
                enumerator=enumerator,
                started_at=datetime(2026, 11, 23, 9),
                ended_at=datetime(2026, 11, 23, 9, 7),
            )
        )
        other_response, _ = submit_response(
            Submission(
                wave=wave2,
                locality=loc("320102001001001"),
                mode="door",
                language="zh_CN",
                uuid=str(uuidlib.uuid4()),
                answers=answers,
                enumerator=enumerator2,
                started_at=datetime(2026, 11, 23, 9),
                ended_at=datetime(2026, 11, 23, 9, 7),
            )
        )
        colleague_response = db.session.scalar(
            select(Response)
            .where(Response.wave_id == demo_wave.id, Response.enumerator_id != enumerator.id)
            .order_by(Response.id)
        )

        colleague_response = (
            db.session.scalar(
                select(Response)
                .where(Response.wave_id == demo_wave.id, Response.street_id == sibling_street.id)
                .order_by(Response.id)
            )
            or colleague_response
        )
        # CATI cases held by the enumerator, by a colleague, and in the other survey; back-checks
        # of an interview in each survey.
        from surveyapp.models.fieldwork import BackCheck, CatiCase

        now = datetime.utcnow()
        cases = [
            CatiCase(
                wave_id=w.id,
                locality_id=loc.id,
                phone=phone,
                status="claimed",
                claimed_by_id=u.id,
                claimed_at=now,
                source="import",
            )
            for w, loc, phone, u in (
                (demo_wave, own_assignment.locality, "13800000001", enumerator),
                (demo_wave, sibling_community, "13800000002", colleague),
                (wave2, loc("320102001001"), "13800000003", enumerator2),
            )
        ]
        checks = [
            BackCheck(response_id=r.id, wave_id=r.wave_id, enumerator_id=r.enumerator_id)
            for r in (colleague_response, other_response)
        ]
        db.session.add_all(cases + checks)
        db.session.commit()

        # Accounts: one the admin's matrix requests may disable, reset and revoke; an API token
        # of each test user, and one of someone else.
        from surveyapp.fieldwork.tokens import issue_token
        from surveyapp.models.fieldwork import ApiToken

        spare = create_user("spare-account", "enumerator", "Spare-Account-2026!")
        tokens = {}
        for key, name in (
            ("admin", "admin"),
            ("manager", "manager"),
            ("enumerator", "enumerator"),
            ("official_district", "official"),
            ("official_street", "official-street"),
            ("other", "enumerator-xuanwu"),
        ):
            issue_token(name, label=f"matrix {key}")
            tokens[key] = db.session.scalar(
                select(ApiToken.id).where(ApiToken.label == f"matrix {key}")
            )

        world.users = {
            "admin": user("admin").id,
            "manager": user("manager").id,
            "enumerator": enumerator.id,
            "official_district": user("official").id,
            "official_street": user("official-street").id,
        }
        world.ids = {
            "district": "320106",
            "other_district": "320102",
            "street": street.code,
            "sibling_street": sibling_street.code,
            "other_street": "320102001",
            "community": own_assignment.locality.code,
            "sibling_community": sibling_community.code,
            "other_community": "320102001001",
            "grid": grid.code,
            "other_grid": "320102001001001",
            "locality_ids": {
                c: loc(c).id
                for c in (
                    "320106",
                    "320102",
                    street.code,
                    sibling_street.code,
                    "320102001",
                    own_assignment.locality.code,
                    sibling_community.code,
                    "320102001001",
                    grid.code,
                    "320102001001001",
                )
            },
            "survey": demo_survey.id,
            "other_survey": survey2.id,
            "wave": demo_wave.id,
            "other_wave": wave2.id,
            "version": demo_survey.questionnaire_version_id,
            "other_version": version2.id,
            "assignment": own_assignment.id,
            "colleague_assignment": same_wave_other.id,
            "other_assignment": other_survey_assignment.id,
            "response": own_response.uuid,
            "response_id": own_response.id,
            "colleague_response": colleague_response.uuid,
            "colleague_response_id": colleague_response.id,
            "other_response": other_response.uuid,
            "other_response_id": other_response.id,
            "cati_case": cases[0].id,
            "colleague_cati_case": cases[1].id,
            "other_cati_case": cases[2].id,
            "spare_user": spare.id,
            "tokens": tokens,
            "backcheck": checks[0].id,
            "other_backcheck": checks[1].id,
        }
    return world


@pytest.fixture(scope="module")
def world_app(request, migrated_database, tmp_path_factory):
    """An app on the demo plus a second district and survey, shared by a module's tests.

    Module-scoped because the matrix makes hundreds of requests; the tests must not change
    what the others see (they only read, or send requests that are refused).
    """

    tmp = tmp_path_factory.mktemp("world")
    mp = pytest.MonkeyPatch()
    mp.setenv("SURVEYAPP_INSTANCE_PATH", str(tmp / "instance"))
    if PG_URL:
        url = PG_URL
    else:
        copy = tmp / "world.sqlite"
        shutil.copy(request.getfixturevalue("demo_database"), copy)
        url = f"sqlite:///{copy}"
    app = create_app(_config(url))
    if PG_URL:
        request.getfixturevalue("demo_database")
        _pg_copy_template(app, PG_DEMO_SCHEMA)
    app.world = _populate(app)
    yield app
    with app.app_context():
        db.session.remove()
        if PG_URL:
            wipe_postgres()
        db.engine.dispose()
    mp.undo()
