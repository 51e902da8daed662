"""The access-control matrix: every route of the URL map × every role × own/other jurisdiction.

Generated from ``app.url_map``, so a route added anywhere enters the matrix by itself:

* every endpoint must declare the roles it admits (``surveyapp.auth.roles_required`` sets
  ``view.allowed_roles``), or be in the explicit lists below (public pages; the JSON API, whose
  views check the role of the token's user in their body);
* for each role (anonymous, enumerator, manager, admin, an official of the district, an official
  of one street) every route is requested with every method it accepts: a role that is not
  admitted gets 302 to the login page (anonymous) or 401 (anonymous, API) or 403; an admitted
  role never gets a 5xx;
* URL arguments take real ids from the demo (plus a second district, survey, manager and
  enumerator made by ``tests/security/conftest.py``), chosen by argument name from ``ARGUMENTS``
  (unknown names fall back to a value by converter). An argument that names something inside
  or outside a user's jurisdiction is tried both ways: outside gives 403 or 404 (404 when the
  application hides that the object exists), never the page.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from werkzeug.routing import IntegerConverter, Rule

from surveyapp.models import ROLES

#: Pages anyone may request, logged in or not.
PUBLIC = {
    "static",  # CSS, JavaScript, icons
    "index",  # redirects to the login page or the role's home page
    "auth.login",
    "auth.logout",
    "auth.set_language",
    "offline.service_worker",  # must be served from the site root, without a session
    "offline.manifest",
    "api.openapi",
}

#: The JSON API authenticates by token (or session) in a before_request hook and checks the
#: role inside each view, so it does not use roles_required; its rules are stated here and
#: checked by the matrix like the others. A view that sets ``allowed_roles`` itself wins.
ALL_ROLES = tuple(ROLES)
API_ROLES = {
    "api.me": ALL_ROLES,
    "api.assignments": ("enumerator",),
    "api.questionnaire": ALL_ROLES,
    "api.submissions": ("enumerator",),
    "api.submission": ("enumerator",),
}

#: The OpenRosa endpoints (ODK Collect, Enketo) take only HTTP Basic or Digest with an app
#: password: without one, every role gets 401 and a challenge (the login session means nothing
#: there). With an app password they are tested in tests/openrosa.
OPENROSA_PREFIX = "openrosa."

#: Test users: key -> the role name the application knows.
USERS = {
    "anonymous": None,
    "enumerator": "enumerator",
    "manager": "manager",
    "admin": "admin",
    "official_district": "official",
    "official_street": "official",
}


@dataclass(frozen=True)
class Value:
    own: object
    other: object | None = None  # outside the user's jurisdiction; None: nothing to try


def _per_role(**by_role: tuple[str, str | None]) -> Callable[[dict, str], Value]:
    """Pick (own key, other key) of ``world.ids`` by user; ``default`` for unnamed users."""

    def pick(ids: dict, user: str) -> Value:
        own, other = by_role.get(user, by_role["default"])
        return Value(ids[own], ids[other] if other else None)

    return pick


def _locality_ids(pick: Callable[[dict, str], Value]) -> Callable[[dict, str], Value]:
    def by_id(ids: dict, user: str) -> Value:
        value = pick(ids, user)
        table = ids["locality_ids"]
        return Value(table[value.own], table[value.other] if value.other else None)

    return by_id


_survey = _per_role(default=("survey", "other_survey"), admin=("survey", None))
_wave = _per_role(default=("wave", "other_wave"), admin=("wave", None))
# Questionnaires are not data about anyone: managers and officials may read any version; an
# enumerator only those of their assignments (the offline app downloads them).
_version = _per_role(default=("version", None), enumerator=("version", "other_version"))
_assignment = _per_role(
    default=("assignment", "other_assignment"),
    enumerator=("assignment", "colleague_assignment"),
    official_street=("assignment", "colleague_assignment"),
    admin=("assignment", None),
)
_response = _per_role(
    default=("response", "other_response"),
    enumerator=("response", "colleague_response"),
    official_street=("response", "colleague_response"),
    admin=("response", None),
)
_response_id = _per_role(
    default=("response_id", "other_response_id"),
    enumerator=("response_id", "colleague_response_id"),
    official_street=("response_id", "colleague_response_id"),
    admin=("response_id", None),
)
# A locality argument of no particular level: the user's own jurisdiction, or a neighbour's.
_locality = _per_role(
    default=("district", None),
    enumerator=("community", "sibling_community"),
    official_street=("street", "sibling_street"),
    official_district=("district", "other_district"),
)
_street = _per_role(
    default=("street", None),
    enumerator=("street", "sibling_street"),
    official_street=("street", "sibling_street"),
    official_district=("street", "other_street"),
)
_district = _per_role(
    default=("district", None),
    official_district=("district", "other_district"),
    official_street=("district", "other_district"),
)
_community = _per_role(
    default=("community", None),
    enumerator=("community", "sibling_community"),
    official_street=("community", "sibling_community"),
    official_district=("community", "other_community"),
)

_cati_case = _per_role(
    default=("cati_case", "other_cati_case"),
    enumerator=("cati_case", "colleague_cati_case"),
    admin=("cati_case", None),
)
_backcheck = _per_role(default=("backcheck", "other_backcheck"), admin=("backcheck", None))


def _fixed(value: object) -> Callable[[dict, str], Value]:
    return lambda ids, user: Value(value)


#: URL argument name -> how to choose its values. Add a line here for a new kind of argument.
ARGUMENTS: dict[str, Callable[[dict, str], Value]] = {
    "survey_id": _survey,
    "wave_id": _wave,
    "version_id": _version,
    "assignment_id": _assignment,
    "response_uuid": _response,
    "uuid": _response,
    "response_id": _response_id,
    "locality_code": _locality,
    "code": _locality,
    "locality": _locality,
    "locality_id": _locality_ids(_locality),
    "street_code": _street,
    "street": _street,
    "street_id": _locality_ids(_street),
    "district_code": _district,
    "district": _district,
    "district_id": _locality_ids(_district),
    "community_code": _community,
    "community_id": _locality_ids(_community),
    "case_id": _cati_case,
    "check_id": _backcheck,
    # The survey in the same URL carries the jurisdiction; the wave code only names a wave.
    "wave_code": _fixed("2026-Q4"),
    # A step of a wave's life (调查管理): its GET is the confirmation page, which changes nothing.
    "action": _fixed("open"),
    "fmt": _fixed("csv"),
    # Report jobs are made by the officials' portal in the background; the matrix checks the
    # roles only (an unknown job), the portal's own tests check whose job is whose.
    "job_id": _fixed("0" * 32),
    # Accounts: the admin's pages act on a spare account (the matrix may disable or reset
    # it); a token is the user's own, or someone else's (404 on both revocation pages).
    "user_id": lambda ids, user: Value(ids["spare_user"]),
    "token_id": lambda ids, user: Value(
        ids["tokens"].get(user, ids["tokens"]["enumerator"]), ids["tokens"]["other"]
    ),
    "lang": _fixed("en"),
    "filename": _fixed("css/app.css"),
    "form_id": _fixed("surveyapp-w2"),  # OpenRosa: 401 without an app password
}

#: Fallback by converter for argument names not in ARGUMENTS (the role checks still run).
CONVERTERS = {
    "IntegerConverter": 1,
    "UUIDConverter": uuidlib.UUID(int=1),
    "PathConverter": "x",
    "UnicodeConverter": "x",
    "AnyConverter": None,  # its first allowed value, below
}


OVERFLOW = "<overflow>"


def declared_roles(app, endpoint: str) -> tuple[str, ...] | None:
    view = app.view_functions[endpoint]
    roles = getattr(view, "allowed_roles", None)
    if roles is None:
        roles = API_ROLES.get(endpoint)
    return tuple(roles) if roles is not None else None


def _values(rule: Rule, ids: dict, user: str) -> dict[str, Value]:
    values = {}
    for name, converter in rule._converters.items():
        if name in ARGUMENTS:
            values[name] = ARGUMENTS[name](ids, user)
        elif type(converter).__name__ == "AnyConverter":
            values[name] = Value(
                sorted(converter.items)[0]
                if hasattr(converter, "items")
                else converter.regex.split("|")[0]
            )
        else:
            names = [cls.__name__ for cls in type(converter).__mro__]
            fallback = next((CONVERTERS[n] for n in names if n in CONVERTERS), "x")
            values[name] = Value(fallback)
    return values


def _requests(app, rule: Rule, ids: dict, user: str):
    """Yield (method, url, foreign argument or None) for one rule and one user."""
    values = _values(rule, ids, user)
    methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
    own = {name: v.own for name, v in values.items()}
    variants = [(None, own)]
    for name, v in values.items():
        if v.other is not None:
            variants.append((name, {**own, name: v.other}))
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            # Larger than any database integer: a 404, never an overflow in the driver.
            variants.append((OVERFLOW, {**own, name: 2**63}))
    with app.test_request_context():
        from flask import url_for

        for foreign, args in variants:
            url = url_for(rule.endpoint, **args)
            for method in methods:
                yield method, url, foreign


def _client(app, user_id: int | None):
    client = app.test_client()
    if user_id is not None:
        from surveyapp import sessions
        from surveyapp.extensions import db
        from surveyapp.models import User

        with app.app_context():
            stamp = sessions.fields(db.session.get(User, user_id))
        with client.session_transaction() as session:
            session["_user_id"] = str(user_id)
            session["_fresh"] = True
            session.update(stamp)
    return client


def _rules(app) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))


def undeclared_endpoints(app) -> tuple[list[str], list[str]]:
    """Endpoints that declare no roles and are not public; roles that do not exist."""
    undeclared, unknown = [], []
    for rule in _rules(app):
        roles = declared_roles(app, rule.endpoint)
        if roles is None and rule.endpoint not in PUBLIC:
            undeclared.append(f"{rule.endpoint} ({rule.rule})")
        for role in roles or ():
            if role not in ROLES:
                unknown.append(f"{rule.endpoint}: {role}")
    return undeclared, unknown


def test_a_new_route_without_roles_is_caught(tmp_path, monkeypatch):
    from surveyapp import create_app
    from surveyapp.auth import roles_required

    monkeypatch.setenv("SURVEYAPP_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})

    @app.route("/forgotten/<int:survey_id>")
    def forgotten(survey_id):
        return "open to all"

    @app.route("/typo")
    @roles_required("admin", "offical")
    def typo():
        return "nobody"

    undeclared, unknown = undeclared_endpoints(app)
    assert "forgotten (/forgotten/<int:survey_id>)" in undeclared
    assert "typo (/typo)" not in undeclared
    assert "typo: offical" in unknown


def test_every_endpoint_declares_its_roles(world_app):
    undeclared, unknown = undeclared_endpoints(world_app)
    assert not undeclared, (
        "these endpoints declare no roles: protect them with surveyapp.auth.roles_required(...)"
        " (or, if they are public on purpose, add them to PUBLIC in this file): "
        + "; ".join(undeclared)
    )
    assert not unknown, "unknown roles declared: " + "; ".join(unknown)


def test_public_list_names_only_existing_endpoints(world_app):
    assert PUBLIC <= set(world_app.view_functions), PUBLIC - set(world_app.view_functions)


@pytest.mark.parametrize("user", list(USERS))
def test_access_matrix(world_app, user):
    ids = world_app.world.ids
    role = USERS[user]
    user_id = world_app.world.users.get(user)
    failures: list[str] = []
    admitted_ok = 0
    for rule in _rules(world_app):
        if rule.endpoint == "auth.logout":
            continue  # would end the session; it is public and tested in tests/web
        roles = declared_roles(world_app, rule.endpoint)
        public = rule.endpoint in PUBLIC
        admitted = public or (role is not None and role in (roles or ()))
        is_api = rule.rule.startswith("/api/") or rule.endpoint.startswith(OPENROSA_PREFIX)
        for method, url, foreign in _requests(world_app, rule, ids, user):
            client = _client(world_app, user_id)
            response = client.open(url, method=method)
            status = response.status_code
            where = f"{user}: {method} {url} [{rule.endpoint}]"
            if response.status_code >= 500:
                failures.append(f"{where} -> {status} (server error)")
            elif foreign == OVERFLOW:
                if status not in (302, 401, 403, 404, 405):
                    failures.append(f"{where} -> {status}, expected 404 (id out of range)")
            elif not admitted:
                if role is None:
                    if is_api:
                        expected_ok = status == 401
                        expected = "401"
                    else:
                        location = response.headers.get("Location", "")
                        expected_ok = status == 302 and "/auth/login" in location
                        expected = "302 to the login page"
                elif rule.endpoint.startswith(OPENROSA_PREFIX):
                    expected_ok = status == 401
                    expected = "401 (no app password)"
                else:
                    expected_ok = status == 403
                    expected = "403"
                if not expected_ok:
                    failures.append(f"{where} -> {status}, expected {expected}")
            elif foreign is not None:
                if status not in (403, 404):
                    failures.append(
                        f"{where} -> {status}, expected 403/404: '{foreign}' is outside the "
                        "user's jurisdiction"
                    )
            elif status < 400:
                admitted_ok += 1
            response.close()
    assert not failures, f"{len(failures)} access-control failures:\n" + "\n".join(failures)
    if role is not None:
        # The matrix is not vacuous: each role reaches some of its pages.
        assert admitted_ok > 0


def test_argument_table_covers_the_url_map(world_app):
    """Arguments without an entry are only role-checked; name them so someone adds one."""
    unknown = sorted(
        {
            f"{name} ({rule.endpoint})"
            for rule in world_app.url_map.iter_rules()
            for name in rule.arguments
            if name not in ARGUMENTS and rule.endpoint not in PUBLIC
        }
    )
    assert not unknown, (
        "add these URL arguments to ARGUMENTS in tests/security/test_access_matrix.py so the "
        "matrix tries values inside and outside each jurisdiction: " + ", ".join(unknown)
    )


def _numbers(html: str) -> list[int]:
    import re

    return [int(n) for n in re.findall(r'<td class="num"[^>]*>(\d+)</td>', html)]


def test_a_street_official_sees_no_district_totals(world_app):
    """An official of one street sees their street's counts on the managers' pages, never the
    district's (the survey list showed every wave's district total)."""
    from sqlalchemy import func, select

    from surveyapp.extensions import db
    from surveyapp.models import Locality, Response, Survey

    world = world_app.world
    with world_app.app_context():
        street = db.session.scalar(select(Locality).where(Locality.code == world.ids["street"]))
        survey = db.session.get(Survey, world.ids["survey"])

        def count(wave, street_id=None):
            query = select(func.count(Response.id)).where(Response.wave_id == wave.id)
            if street_id is not None:
                query = query.where(Response.street_id == street_id)
            return db.session.scalar(query)

        own = [count(w, street.id) for w in survey.waves]
        whole = [count(w) for w in survey.waves]
        wave_id = survey.waves[-1].id
    assert own != whole  # the demo has interviews in other streets

    client = _client(world_app, world.users["official_street"])
    assert _numbers(client.get("/manage/").get_data(as_text=True)) == own
    page = client.get(f"/manage/waves/{wave_id}").get_data(as_text=True)
    assert _numbers(page) == [own[-1]]
    assert f'data-street="{world.ids["sibling_street"]}"' not in page

    client = _client(world_app, world.users["official_district"])
    assert _numbers(client.get("/manage/").get_data(as_text=True)) == whole


def test_account_administration_is_admin_only(world_app):
    """账号管理 is for administrators; every role has its own account page and password."""
    own = {"accounts.own", "accounts.change_password", "accounts.revoke_own_token"}
    endpoints = {r.endpoint for r in world_app.url_map.iter_rules()}
    administration = {e for e in endpoints if e.startswith("accounts.")} - own
    assert {"accounts.users", "accounts.create", "accounts.disable"} <= administration
    for endpoint in administration:
        assert declared_roles(world_app, endpoint) == ("admin",), endpoint
    for endpoint in own:
        assert set(declared_roles(world_app, endpoint)) == set(ROLES), endpoint
