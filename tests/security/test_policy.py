"""The access rules of :mod:`surveyapp.policy`, asked directly, and their use by the jobs.

The expected answers are written out by hand from the rules (issue 14, item 7): a manager sees
the surveys they run whatever their locality; an official sees the surveys overlapping their
jurisdiction, the whole survey only when its district lies within it.
"""

from __future__ import annotations

import pytest

from surveyapp import policy
from surveyapp.extensions import db
from surveyapp.models import Survey, User

# user key -> (demo survey, other district's survey), each as (see, manage, whole)
EXPECTED = {
    "admin": ((True, True, True), (True, True, True)),
    "manager": ((True, True, True), (False, False, False)),  # locality: the whole city
    "enumerator": ((True, False, False), (False, False, False)),
    "official_district": ((True, False, True), (False, False, False)),
    "official_street": ((True, False, False), (False, False, False)),
}


@pytest.mark.parametrize("user", list(EXPECTED))
def test_who_sees_which_survey(world_app, user):
    with world_app.app_context():
        person = db.session.get(User, world_app.world.users[user])
        for survey_key, expected in zip(("survey", "other_survey"), EXPECTED[user], strict=True):
            survey = db.session.get(Survey, world_app.world.ids[survey_key])
            got = (
                policy.may_see_survey(person, survey),
                policy.may_manage_survey(person, survey),
                policy.may_see_whole_survey(person, survey),
            )
            assert got == expected, (user, survey_key)
            for wave in survey.waves:
                assert policy.may_see_wave(person, wave) == expected[0]
                assert policy.may_manage_wave(person, wave) == expected[1]


def test_a_street_official_sees_their_street_only(world_app):
    with world_app.app_context():
        person = db.session.get(User, world_app.world.users["official_street"])
        survey = db.session.get(Survey, world_app.world.ids["survey"])
        view = policy.visible_streets(person, survey)
        assert [s.code for s in view.streets] == [world_app.world.ids["street"]]
        assert not view.whole and view


def test_nobody_anonymous(world_app):
    from flask_login import AnonymousUserMixin

    with world_app.app_context():
        survey = db.session.get(Survey, world_app.world.ids["survey"])
        for user in (None, AnonymousUserMixin()):
            assert not policy.may_see_survey(user, survey)
            assert not policy.visible_streets(user, survey)


@pytest.mark.parametrize("user", list(EXPECTED))
def test_the_portals_plain_reading_gives_the_same_streets(world_app, user):
    """The officials' portal reads a survey's district chain and streets as plain rows in one
    statement (services.reports.report_scope, issue 20) and asks visible_streets_in: the same
    streets, whole-or-not and wave visibility as the rules asked with the ORM objects."""
    from surveyapp.services.reports import report_scope

    with world_app.app_context():
        person = db.session.get(User, world_app.world.users[user])
        for survey_key in ("survey", "other_survey"):
            survey = db.session.get(Survey, world_app.world.ids[survey_key])
            expected = policy.visible_streets(person, survey)
            for wave in survey.waves:
                scope = report_scope(survey.id, wave.code)
                assert scope.survey is survey and scope.wave is wave
                view = policy.visible_streets_in(
                    person, survey, scope.district_chain, scope.streets
                )
                assert view.whole == expected.whole, (user, survey_key)
                assert [s.code for s in view.streets] == [s.code for s in expected.streets]
                assert policy.may_see_wave_in(person, wave, view) == policy.may_see_wave(
                    person, wave
                )
