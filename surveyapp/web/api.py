"""The JSON API for tablets and the offline app: assignments, questionnaires, submissions.

Authentication is a per-user token (``Authorization: Bearer …``) or, for the app's own pages,
the login session. The blueprint is exempt from CSRF tokens: a token is not sent by browsers on
their own, and session requests must be JSON from this origin (see ``_authenticate``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, g, jsonify, request, send_file
from flask_babel import gettext as _
from flask_login import current_user

from ..caching import BoundedCache
from ..errors import Text, UserError
from ..extensions import csrf
from ..fieldwork import offline, sync
from ..fieldwork.cati import cati_item_hook
from ..fieldwork.review import sent_back_for, submission_status
from ..i18n import select_locale, translate
from ..models import QuestionnaireVersion
from ..policy import may_read_questionnaire
from ..services import records
from .answer_messages import answer_error_message
from .errors import user_error

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

OPENAPI_FILE = Path(__file__).resolve().parent.parent / "static" / "openapi.yaml"


def _error(status: int, message: str, **extra):
    body = {"error": status, "message": message, **extra}
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="surveyapp"'
    return response


@bp.before_request
def _authenticate():
    """Find the caller: a bearer token, else the session of a logged-in user."""
    if request.endpoint == "api.openapi":
        return None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _error(
                401,
                _("use 'Authorization: Bearer <token>' (surveyapp users token NAME)"),
                code="unauthenticated",
            )
        from ..fieldwork.tokens import user_for_token

        user = user_for_token(token.strip())
        if user is None:
            return _error(401, _("the API token is unknown or revoked"), code="bad_token")
        g.api_user, g.api_auth = user, "token"
        return None
    if not current_user.is_authenticated:
        return _error(
            401, _("log in or send 'Authorization: Bearer <token>'"), code="unauthenticated"
        )
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        # A browser sends a cross-site request with the session cookie only as a "simple"
        # request (form or text body) and always with Origin; both are refused here.
        origin = request.headers.get("Origin")
        if origin and _origin(origin) != _origin(request.host_url):
            return _error(403, _("cross-origin requests need a token"), code="cross_origin")
    g.api_user, g.api_auth = current_user._get_current_object(), "session"
    return None


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _require_role(*roles: str) -> None:
    if g.api_user.role not in roles:
        abort(
            _error(
                403,
                _(
                    "this needs the role %(roles)s, not %(role)s",
                    roles=" / ".join(roles),
                    role=g.api_user.role,
                ),
                code="forbidden",
            )
        )


@bp.errorhandler(Exception)
def _unexpected(error: Exception):
    # The API answers JSON even for what should never happen; the log keeps the trace.
    from werkzeug.exceptions import HTTPException

    if isinstance(error, HTTPException):
        if error.response is not None:  # abort(_error(...)) carries its own response
            return error.response
        return _error(error.code or 500, error.description or error.name)
    if isinstance(error, UserError):
        return user_error(error)
    current_app.logger.exception("unhandled error on %s", request.path)
    records.discard_changes()
    return _error(
        500, _("unexpected error; nothing was stored for the failing request"), code="internal"
    )


@bp.get("/openapi.yaml")
def openapi():
    """Send the OpenAPI description of this API."""
    return send_file(OPENAPI_FILE, mimetype="application/yaml", max_age=300)


@bp.get("/me")
def me():
    """Describe the authenticated user."""
    user = g.api_user
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "auth": g.api_auth,
    }


@bp.get("/assignments")
def assignments():
    """List the enumerator's assignments with their localities and questionnaires."""
    _require_role("enumerator")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    json = app.json
    document = offline.assignments_document(
        g.api_user, select_locale(), lambda obj: json.dumps(obj, separators=(",", ":")), "\n"
    )
    # A strong validator of the document's bytes: a tablet (or the browser's cache under the
    # offline app) that holds them gets a 304 without the document.
    etag = document.etag
    if request.if_none_match.contains_weak(etag):
        response = app.response_class(status=304)
    else:
        response = app.response_class(document.body, mimetype=json.mimetype)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/questionnaires/<int:version_id>")
def questionnaire(version_id: int):
    """Send a questionnaire version as JSON for interviewing offline."""
    if not may_read_questionnaire(g.api_user, version_id):
        return _error(
            403,
            _("questionnaire %(id)s is not used by your assignments", id=version_id),
            code="forbidden",
        )
    version = records.get(QuestionnaireVersion, version_id)
    if version is None:
        return _error(404, _("no questionnaire version %(id)s", id=version_id), code="not_found")
    response = jsonify(offline.questionnaire_document(version))
    response.headers["Cache-Control"] = "private, max-age=0, must-revalidate"
    return response


def _json_params(params: Mapping) -> dict:
    return {k: dict(v) if isinstance(v, Mapping) else v for k, v in (params or {}).items()}


#: The wording of a message without parameters ("stored") by interface language and msgid:
#: the catalogs do not change while the process runs, and looking up the request's locale
#: and catalog through Flask-Babel cost more than the rest of an interview's answer.
_WORDINGS: BoundedCache[str] = BoundedCache(256)


def _message(message: str | Text) -> str:
    if not isinstance(message, Text) or message.params:
        return translate(message)
    key = (select_locale(), message.template)
    wording = _WORDINGS.get(key)
    if wording is None:
        wording = _WORDINGS.put(key, translate(message))
    return wording


def _result_json(result: sync.ItemResult, schemas: dict) -> dict:
    body = {
        "index": result.index,
        "uuid": result.uuid,
        "status": result.status,
        "outcome": result.outcome,
        "message": _message(result.message),
    }
    if result.response is not None:
        body["submitted_at"] = result.response.submitted_at.isoformat(timespec="seconds") + "Z"
    if result.answer_errors:
        schema, lang = schemas.get(result.index, (None, "zh_CN"))
        body["errors"] = [
            {
                "question": e.question,
                **({"repeat": e.repeat, "instance": e.instance} if e.repeat else {}),
                "field": e.where,
                "kind": e.kind,
                "params": _json_params(e.params),
                "message": answer_error_message(schema, e, lang) if schema else e.kind,
            }
            for e in result.answer_errors
        ]
    return body


@bp.post("/submissions")
def submissions():
    """Store one interview or a batch; every item gets its own status."""
    _require_role("enumerator")
    if not request.is_json:
        return _error(
            415,
            _("send the submissions as JSON (Content-Type: application/json)"),
            code="unsupported_media_type",
        )
    try:
        items, batch = sync.read_body(request.get_data(cache=False))
    except sync.BodyError as exc:
        return _error(exc.status, exc.translated(), code=exc.code)
    results = sync.submit_items(g.api_user, items, hooks=[cati_item_hook])
    schemas = _answer_schemas(items, results)
    bodies = [_result_json(r, schemas) for r in results]
    if not batch:
        response = jsonify(bodies[0])
        response.status_code = bodies[0]["status"]
        return response
    counts: dict[str, int] = {}
    for body in bodies:
        counts[body["outcome"]] = counts.get(body["outcome"], 0) + 1
    return {"results": bodies, "counts": counts}


def _answer_schemas(items: list, results: list[sync.ItemResult]) -> dict:
    """The questionnaire and language to word each item's answer errors with."""
    out = {}
    wanted = [r for r in results if r.answer_errors]
    if not wanted:
        return out
    from ..models import Wave

    for r in wanted:
        item = items[r.index]
        wave_id = item.get("wave")
        if wave_id is None and item.get("assignment") is not None:
            from ..models import Assignment

            assignment = records.get(Assignment, item["assignment"])
            wave_id = assignment.wave_id if assignment else None
        wave = records.get(Wave, wave_id) if isinstance(wave_id, int) else None
        if wave is not None:
            schema = wave.questionnaire_version.schema
            lang = item.get("language") or schema.default_language
            out[r.index] = (schema, lang)
    return out


@bp.get("/sent-back")
def sent_back():
    """List the enumerator's interviews a supervisor sent back, with reasons, to correct."""
    _require_role("enumerator")
    return {"interviews": sent_back_for(g.api_user)}


# The API checks roles inside its views (token or session); declared for the access matrix.
sent_back.allowed_roles = ("enumerator",)  # type: ignore[attr-defined]


@bp.get("/submissions/<uuid>")
def submission(uuid: str):
    """Tell the enumerator whether the server holds an interview, and its review state."""
    _require_role("enumerator")
    status = submission_status(g.api_user, uuid)
    if status is None:
        return _error(404, _("No interview of yours with this identifier."))
    return status


@bp.after_request
def _no_sniff(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    return response
