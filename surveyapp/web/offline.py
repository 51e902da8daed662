"""The installable offline interview: its page, the web app manifest and the service worker.

The service worker is served from the site root so that its scope covers every page; the
interviews themselves run in the browser (``static/js/offline.js``) and reach the server only
through the sync API.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request, session, url_for
from flask_babel import get_translations
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import escape

from ..auth import roles_required
from ..caching import BoundedCache
from ..i18n import select_locale

bp = Blueprint("offline", __name__)

STATIC = Path(__file__).resolve().parent.parent / "static"
#: What the service worker keeps so the interview opens without a network.
SHELL_STATIC = (
    "css/app.css",
    "css/fieldwork.css",
    "js/conditions.js",
    "js/sync.js",
    "js/offline.js",
    "js/pages.js",
    "icons/icon-192.png",
    "icons/icon-512.png",
)


@lru_cache(maxsize=4)
def _shell_version(mtimes: tuple) -> str:  # noqa: ARG001  (cache key only)
    digest = hashlib.sha256()
    for name in (*SHELL_STATIC, "sw.js"):
        digest.update((STATIC / name).read_bytes())
    return digest.hexdigest()[:12]


def shell_version() -> str:
    """A hash of the app shell: a new one makes browsers install the new service worker."""
    mtimes = tuple((STATIC / n).stat().st_mtime_ns for n in (*SHELL_STATIC, "sw.js"))
    return _shell_version(mtimes)


@bp.route("/offline/")
@roles_required("enumerator")
def index():
    """Show the offline interview app: assignments, interviews waiting to be sent, sync."""
    if "_flashes" in session:  # a message to show once: this page is not the usual one
        return render_template("offline/index.html", messages=_translated_messages())
    return _shell_page()


#: Stand-ins rendered into the cached page where each request's own values go.
_MARK = secrets.token_hex(8)
_CSRF, _USERNAME, _NAME = (f"{slot}-{_MARK}" for slot in ("csrf", "username", "name"))
_SLOTS = re.compile(f"({_CSRF}|{_USERNAME}|{_NAME})")


class _ShownUser:
    """What the offline page shows of the logged-in user: its role, and stand-ins for its
    names. Reading anything else is an error, so that a template change that shows more of
    the user cannot serve one user's page to another."""

    is_authenticated = True
    username = _USERNAME
    display_name = _NAME

    def __init__(self, role: str) -> None:
        self.role = role

    def __getattr__(self, name: str):
        raise RuntimeError(
            f"the cached offline page does not know current_user.{name}: add it to its key "
            "(web/offline.py _shell_page)"
        )


def _shell_page() -> str:
    """The offline page, rendered once per everything it is made from (language, role,
    address) with stand-ins for the user's names and the CSRF token, filled in here.

    Rendering the page (two templates, fifty translated texts, twenty addresses) was most of
    the CPU time of an enumerator's visit; it is the same for every enumerator but for the
    names, and the CSRF token of each session."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    pages = app.extensions.get("offline_pages")
    if pages is None:
        pages = app.extensions.setdefault("offline_pages", BoundedCache(32))
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    req = request._get_current_object()  # type: ignore[attr-defined]
    # The language is what Babel's locale and catalogue follow (i18n.select_locale).
    key = (select_locale(), user.role, req.method, req.script_root, req.full_path)
    parts = pages.get(key)
    if parts is None:
        page = render_template(
            "offline/index.html",
            messages=_translated_messages(),
            current_user=_ShownUser(user.role),
            csrf_token=lambda: _CSRF,
        )
        parts = pages.put(key, _SLOTS.split(page))
    values = {
        _CSRF: escape(_csrf_token(app)),
        _USERNAME: escape(user.username),
        _NAME: escape(user.display_name or user.username),
    }
    # the stand-ins at the odd places of the split page
    return "".join([values[part] if i % 2 else part for i, part in enumerate(parts)])


#: Signed CSRF tokens by the session's own token. Without a time limit (WTF_CSRF_TIME_LIMIT
#: None, config.py) the time stamp in a signed token is never checked, so the token signed
#: once for a session's token stays valid as long as the session's token: signing it again
#: for every visit was the largest part of this view once the page was cached.
_SIGNED: BoundedCache[str] = BoundedCache(4096)


def _csrf_token(app) -> str:
    """:func:`flask_wtf.csrf.generate_csrf`, signed once per session token and process."""
    config = app.config
    field = config.get("WTF_CSRF_FIELD_NAME") or "csrf_token"
    current = session._get_current_object()  # type: ignore[attr-defined]
    if config.get("WTF_CSRF_TIME_LIMIT", 3600) is not None or field not in current:
        return generate_csrf()
    key = (config.get("WTF_CSRF_SECRET_KEY") or app.secret_key, field, current[field])
    token = _SIGNED.get(key)
    if token is None:
        token = _SIGNED.put(key, generate_csrf())
    return token


#: :func:`_messages` per catalogue (one per language): the same for every request, and asking
#: Babel for each of its fifty texts was most of the page's CPU time.
_MESSAGES: BoundedCache[dict[str, str]] = BoundedCache(8)


def _translated_messages() -> dict[str, str]:
    return _MESSAGES.get_or_make(get_translations(), _messages)


@bp.route("/sw.js")
def service_worker():
    """Send the service worker, stamped with the version of the app shell."""
    shell = [url_for("offline.index"), url_for("offline.manifest")] + [
        url_for("static", filename=name) for name in SHELL_STATIC
    ]
    text = (STATIC / "sw.js").read_text(encoding="utf-8")
    pages = [url_for("cati.desk"), url_for("review.mine")]
    text = (
        text.replace("__VERSION__", shell_version())
        .replace("__SHELL__", ",".join(f'"{u}"' for u in shell))
        .replace("__PAGES__", ",".join(f'"{u}"' for u in pages))
    )
    response = Response(text, mimetype="application/javascript")
    # Browsers check for a new worker on navigation; never let a cache answer for it.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/manifest.webmanifest")
def manifest():
    """Describe the installable app (name, icons, start page)."""
    lang = request.accept_languages.best_match(["zh", "en"]) or "zh"
    body = {
        "name": "群众安全感满意度调查 · 离线访问" if lang == "zh" else "Safety survey · offline",
        "short_name": "安全感调查" if lang == "zh" else "Safety survey",
        "start_url": url_for("offline.index"),
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "background_color": "#f4f6f9",
        "theme_color": "#1d4f91",
        "lang": "zh-CN",
        "icons": [
            {
                "src": url_for("static", filename=f"icons/icon-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "any maskable",
            }
            for size in (192, 512)
        ],
    }
    response = current_app.json.response(body)
    response.mimetype = "application/manifest+json"
    return response


def _messages() -> dict[str, str]:
    """The interface wording of the offline app, translated here because the page is static."""
    return {
        "assignments": _("My assignments"),
        "new": _("Start an interview"),
        "closed": _("This wave is closed."),
        "noAssignments": _("You have no door-to-door assignments."),
        "waiting": _("Interviews waiting to be sent"),
        "attention": _("Interviews that need attention"),
        "syncNow": _("Send now"),
        "syncing": _("Sending…"),
        "offline": _(
            "Offline: interviews are kept on this device and sent when the network is back."
        ),
        "online": _("Online"),
        "synced": _("All interviews are on the server."),
        "sent": _("%(n)s sent."),
        "loginAgain": _("Your session has ended: log in again to send the waiting interviews."),
        "serverError": _("The server could not be reached; the interviews stay on this device."),
        "language": _("Questionnaire language"),
        "locality": _("Locality"),
        "gpsConsent": _("The respondent agrees that the location of the interview is recorded"),
        "begin": _("Begin"),
        "back": _("Back"),
        "next": _("Next"),
        "cancel": _("Cancel the interview"),
        "cancelConfirm": _("Cancel this interview? Its answers are discarded."),
        "review": _("Review the answers"),
        "change": _("Change"),
        "noAnswer": _("(no answer)"),
        "save": _("Save the interview"),
        "savedLocally": _("Interview saved on this device."),
        "section": _("Section %(n)s of %(total)s"),
        "optional": _("optional"),
        "instance": _("No. %(n)s"),
        "addInstance": _("Add one more"),
        "removeInstance": _("Remove this one"),
        "tooManyInstances": _(
            "The count %(count)s is too many: at most %(max)s are allowed. "
            "Go back and correct the answer."
        ),
        "specify": _("Please specify"),
        "required": _("Please answer this question."),
        "notInteger": _("Please enter a whole number."),
        "range": _("Please enter a number from %(min)s to %(max)s."),
        "badDate": _("Please enter a date as YYYY-MM-DD."),
        "notNumber": _("Please enter a number."),
        "badTime": _("Please enter a time as HH:MM."),
        "badDatetime": _("Please enter a date and time as YYYY-MM-DD HH:MM."),
        "captureLocation": _("Record the location"),
        "locationConsent": _("Press only if the respondent agrees that this location is recorded."),
        "locationFailed": _("The location could not be found: try again outside or later."),
        "locationAccuracy": _("accurate to %(m)s m"),
        "tooLong": _("This answer is too long (at most %(max)s characters)."),
        "constraint": _("This answer does not fit the other answers."),
        "otherMissing": _("Please specify the other answer."),
        "edit": _("Correct the answers"),
        "discard": _("Discard"),
        "discardConfirm": _("Discard this interview from the device? It cannot be recovered."),
        "refused": _("Refused by the server"),
        "conflict": _("A different interview is already stored under this reference."),
        "forbidden": _("This locality or wave is not part of your assignments."),
        "waveClosed": _("The wave is closed."),
        "invalid": _("Some answers are not valid."),
        "loadFailed": _(
            "The assignments could not be loaded and none are saved on this device "
            "yet: connect to the network once."
        ),
        "ref": _("Reference"),
        "started": _("Started"),
        "casePhone": _("Telephone interview for case %(id)s"),
        "sentBack": _("Sent back by the supervisor"),
    }
