"""OpenRosa endpoints for ODK Collect and Enketo: form list, forms, manifests, submissions.

ODK Collect's server URL is the site's root: it asks ``/formList`` and sends to ``/submission``.
Clients authenticate with the enumerator's app password (``surveyapp users odk NAME``) by HTTP
Digest or Basic, as ODK clients do; the login session and the web password are not used here.
The blueprint is exempt from CSRF tokens: no browser sends these credentials on its own.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from flask import Blueprint, Response, current_app, g, request, url_for
from flask_babel import gettext

from ..errors import UserError
from ..extensions import csrf
from ..fieldwork import odk_credentials
from ..fieldwork.sync import ItemResult
from ..i18n import select_locale, translate
from ..services import openrosa, records
from .answer_messages import answer_error_message

bp = Blueprint("openrosa", __name__)
csrf.exempt(bp)

OPENROSA_VERSION = "1.0"
XML = "text/xml; charset=utf-8"
#: How long a Digest nonce is good for; an older one gets a new challenge (stale=true).
NONCE_SECONDS = 300
#: What a submission may weigh (OpenRosa's X-OpenRosa-Accept-Content-Length).
ACCEPT_CONTENT_LENGTH = 10 * 1024 * 1024


def _xml(body: str, status: int = 200) -> Response:
    response = Response(body, status=status, content_type=XML)
    response.headers["X-OpenRosa-Version"] = OPENROSA_VERSION
    return response


def _message(text: str, status: int, nature: str = "") -> Response:
    """An OpenRosa response document; ODK Collect shows its message to the enumerator."""
    nature_attr = f' nature="{escape(nature)}"' if nature else ""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<OpenRosaResponse xmlns="http://openrosa.org/http/response">'
        f"<message{nature_attr}>{escape(text)}</message></OpenRosaResponse>\n"
    )
    return _xml(body, status)


# --- authentication -----------------------------------------------------------------------


def _nonce(now: int | None = None) -> str:
    stamp = str(int(time.time()) if now is None else now)
    mac = hmac.new(current_app.secret_key.encode(), stamp.encode(), hashlib.sha256).hexdigest()
    return f"{stamp}.{mac[:32]}"


def _nonce_state(nonce: str) -> str:
    """``ok``, ``stale`` (ours but too old) or ``bad``."""
    stamp, _sep, mac = nonce.partition(".")
    if not stamp.isdigit() or not hmac.compare_digest(_nonce(int(stamp)), nonce):
        return "bad"
    age = time.time() - int(stamp)
    return "ok" if -60 <= age <= NONCE_SECONDS else "stale"


def _challenge(message: str, stale: bool = False) -> Response:
    response = _message(message, 401, "error")
    digest = (
        f'Digest realm="{odk_credentials.REALM}", qop="auth", algorithm=MD5, '
        f'nonce="{_nonce()}", opaque="surveyapp"'
    )
    if stale:
        digest += ", stale=true"
    response.headers.add("WWW-Authenticate", digest)
    response.headers.add("WWW-Authenticate", f'Basic realm="{odk_credentials.REALM}"')
    return response


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - HTTP Digest is MD5


def _digest_user(auth):
    """The enumerator a Digest ``Authorization`` proves, or a challenge response."""
    p = auth.parameters
    username, nonce, uri, answer = (p.get(k, "") for k in ("username", "nonce", "uri", "response"))
    if p.get("realm") != odk_credentials.REALM or not (username and nonce and uri and answer):
        return _challenge("incomplete Digest credentials")
    state = _nonce_state(nonce)
    if state != "ok":
        return _challenge("the Digest nonce has expired", stale=state == "stale")
    if urlsplit(uri).path != request.path:
        return _challenge("the Digest uri is not this request's")
    if (p.get("algorithm") or "MD5").upper() != "MD5":
        return _challenge("only the MD5 Digest algorithm is supported")
    row = odk_credentials.active_credential(username)
    if row is None:
        return _challenge("unknown user or revoked app password")
    ha2 = _md5(f"{request.method}:{uri}")
    qop = p.get("qop")
    if qop:
        if qop != "auth":
            return _challenge("only qop=auth is supported")
        expected = _md5(
            f"{row.digest_ha1}:{nonce}:{p.get('nc', '')}:{p.get('cnonce', '')}:auth:{ha2}"
        )
    else:
        expected = _md5(f"{row.digest_ha1}:{nonce}:{ha2}")
    if not hmac.compare_digest(expected, answer.lower()):
        return _challenge("wrong user name or app password")
    return odk_credentials.used(row)


@bp.before_request
def _authenticate():
    """Find the enumerator by HTTP Digest or Basic with an app password; else challenge."""
    auth = request.authorization
    if auth is None:
        return _challenge(
            gettext("log in with the user name and app password (surveyapp users odk NAME)")
        )
    if auth.type == "basic":
        user = odk_credentials.check_password(auth.username or "", auth.password or "")
        if user is None:
            return _challenge(
                gettext("wrong user name or app password, or the app password was revoked")
            )
    elif auth.type == "digest":
        user = _digest_user(auth)
        if isinstance(user, Response):
            return user
    else:
        return _challenge(gettext("use HTTP Digest or Basic authentication"))
    g.odk_user = user
    return None


@bp.errorhandler(Exception)
def _unexpected(error: Exception):
    from werkzeug.exceptions import HTTPException

    if isinstance(error, HTTPException):
        return _message(error.description or error.name, error.code or 500, "error")
    if isinstance(error, UserError):  # the user's to fix: its status, in OpenRosa's XML
        records.discard_changes()
        return _message(error.translated(), error.status, "error")
    current_app.logger.exception("unhandled error on %s", request.path)
    records.discard_changes()
    return _message(gettext("unexpected error; nothing was stored"), 500, "error")


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["X-OpenRosa-Version"] = OPENROSA_VERSION
    response.headers.setdefault("Cache-Control", "no-store")
    return response


# --- forms --------------------------------------------------------------------------------


@bp.get("/formList")
def form_list():
    """List the forms of the enumerator's open assignments (OpenRosa xformsList)."""
    wanted = request.args.get("formID")
    items = []
    for form in openrosa.enumerator_forms(g.odk_user):
        if wanted and form.form_id != wanted:
            continue
        items.append(
            "<xform>"
            f"<formID>{escape(form.form_id)}</formID>"
            f"<name>{escape(form.name)}</name>"
            f"<version>{escape(form.version)}</version>"
            f"<hash>{form.hash}</hash>"
            f"<downloadUrl>{escape(url_for('.form', form_id=form.form_id, _external=True))}"
            "</downloadUrl>"
            f"<manifestUrl>{escape(url_for('.manifest', form_id=form.form_id, _external=True))}"
            "</manifestUrl>"
            "</xform>"
        )
    return _xml(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<xforms xmlns="http://openrosa.org/xforms/xformsList">' + "".join(items) + "</xforms>\n"
    )


def _form_or_404(form_id: str):
    form = openrosa.enumerator_form(g.odk_user, form_id)
    if form is None:
        return None, _message(
            gettext("'%(form)s' is not one of your forms", form=form_id), 404, "error"
        )
    return form, None


@bp.get("/forms/<form_id>/form.xml")
def form(form_id: str):
    """Send the XForm of one of the enumerator's forms."""
    found, missing = _form_or_404(form_id)
    return missing or _xml(found.xform)


@bp.get("/forms/<form_id>/manifest")
def manifest(form_id: str):
    """Send the manifest of one of the enumerator's forms (no media files)."""
    _found, missing = _form_or_404(form_id)
    return missing or _xml(openrosa.manifest_xml())


for _view in (form_list, form, manifest):
    _view.allowed_roles = ("enumerator",)  # type: ignore[attr-defined]


# --- submissions --------------------------------------------------------------------------


@bp.route("/submission", methods=["HEAD", "POST"])
def submission():
    """Store a filled-in form: ``xml_submission_file`` (multipart), checked as the sync API."""
    if request.method == "HEAD":
        response = Response(status=204)
        response.headers["X-OpenRosa-Accept-Content-Length"] = str(ACCEPT_CONTENT_LENGTH)
        return response
    upload = request.files.get("xml_submission_file")
    if upload is None:
        return _message(
            gettext("send the form as multipart/form-data with a part named xml_submission_file"),
            400,
            "error",
        )
    # Attachments (other parts) are accepted and not kept: no question type takes a file.
    xml = upload.read(ACCEPT_CONTENT_LENGTH + 1)
    if len(xml) > ACCEPT_CONTENT_LENGTH:
        return _message(
            gettext(
                "xml_submission_file is larger than %(limit)s bytes", limit=ACCEPT_CONTENT_LENGTH
            ),
            413,
            "error",
        )
    try:
        result, schema = openrosa.submit(g.odk_user, xml)
    except openrosa.FormError as exc:
        return _message(exc.translated(), exc.status, "error")
    return _result(result, schema)


submission.allowed_roles = ("enumerator",)  # type: ignore[attr-defined]


def _result(result: ItemResult, schema) -> Response:
    if result.outcome in ("created", "corrected"):
        text = (
            gettext("stored") if result.outcome == "created" else gettext("stored as a correction")
        )
        return _message(text, 201, "submit_success")
    if result.outcome == "duplicate":
        # ODK Collect counts only 201 and 202 as sent; the interview is stored once.
        return _message(gettext("already stored; nothing changed"), 202, "submit_success")
    message = translate(result.message)
    if result.answer_errors and schema is not None:
        lang = select_locale()
        chinese = lang.startswith("zh")
        colon = "：" if chinese else ": "
        details = ("；" if chinese else "; ").join(
            f"{e.where}{colon}{answer_error_message(schema, e, lang)}" for e in result.answer_errors
        )
        message = f"{message}{colon}{details}"
    return _message(message, result.status, "error")
