"""Web layer: thin blueprints by area, security headers and error pages."""

from __future__ import annotations

from flask import Flask, abort, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from ..database import out_of_range
from ..errors import N_, UserError
from .errors import EXPIRED_FORM, http_message, user_error
from .errors import rollback as _rollback

HOME_BY_ROLE = {
    "enumerator": "offline.index",  # the offline-first interview app
    "manager": "manage.index",
    "admin": "manage.index",
    "official": "officials.index",
    "clerk": "safety_index.upload",  # data clerks upload the safety index series
}


class DatabaseIdConverter(IntegerConverter):
    """``<int:…>`` limited to what the databases' integer ids hold (PostgreSQL: 32 bits), so
    that a huge number in a URL is a 404, not an overflow error in the database driver."""

    def __init__(self, map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _refuse_nul(kind: str, name: str) -> None:
    shown = name.replace("\x00", "\\0")[:60]
    abort(
        400,
        description=_(
            "The %(kind)s “%(name)s” contains a NUL character (0x00), which cannot be stored: "
            "remove it and send again.",
            kind=kind,
            name=shown,
        ),
    )


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = DatabaseIdConverter
    from .terms import code, codes, data, person, separator, term

    for helper in (term, code, codes, data, person, separator):
        app.add_template_global(helper)
    from . import accounts, admin, auth, collect, manage

    app.register_blueprint(accounts.bp)  # accounts: administrators' pages, own password
    app.register_blueprint(admin.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(collect.bp)
    app.register_blueprint(manage.bp)
    from . import officials  # reports: the officials' portal

    app.register_blueprint(officials.bp)
    from . import safety_index  # the monthly safety index (平安指数)

    app.register_blueprint(safety_index.bp)
    from . import design  # questionnaire design

    app.register_blueprint(design.bp)
    from . import localities  # the locality tree

    app.register_blueprint(localities.bp)
    from . import api, assignments, cati, dashboard, offline, review  # fieldwork

    for fieldwork_bp in (api.bp, offline.bp, cati.bp, review.bp, dashboard.bp, assignments.bp):
        app.register_blueprint(fieldwork_bp)
    from . import odk_setup, openrosa  # ODK Collect and Enketo

    app.register_blueprint(openrosa.bp)
    app.register_blueprint(odk_setup.bp)

    @app.route("/")
    def index():
        """Send each user to the home page of their role."""
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login"))
        return redirect(url_for(HOME_BY_ROLE.get(current_user.role, "auth.login")))

    @app.context_processor
    def inject_locale():
        from ..i18n import select_locale
        from ..localtime import format_local, zone_label

        # current_locale is Babel's full name (zh_Hans_CN) for lang attributes; the switcher
        # compares the configured codes (zh_CN, en).
        return {
            "current_locale": str(get_locale()),
            "current_language": select_locale(),
            "languages": app.config["LANGUAGES"],
            # Times in the deployment's zone unless a view passes its survey's (review, CATI).
            "local": lambda moment, seconds=False: format_local(
                moment, app.config["BABEL_DEFAULT_TIMEZONE"], seconds=seconds
            ),
            "time_zone": app.config["BABEL_DEFAULT_TIMEZONE"],
            "zone_label": zone_label,
        }

    @app.before_request
    def refuse_nul_characters():
        """A NUL character (0x00) in a query parameter, form field or path is refused with a
        400 naming the field, before any view reads it: no text column of PostgreSQL can hold
        one (the database would fail with a 500), and no form of this application needs it.
        Uploaded files are not checked (spreadsheets are binary); their importers check
        their own text."""
        # The kinds are translated only for a refusal: every request passes through here.
        fields = ((N_("query parameter"), request.args), (N_("form field"), request.form))
        for kind, values in fields:
            for key, value in values.items(multi=True):
                if "\x00" in key or "\x00" in value:
                    _refuse_nul(_(kind), key)
        for key, value in (request.view_args or {}).items():
            if isinstance(value, str) and "\x00" in value:
                _refuse_nul(_("address part"), key)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'",
        )
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_template("error.html", code=400, message=EXPIRED_FORM), 400

    @app.errorhandler(413)
    def too_large(error: HTTPException):
        limit = app.config.get("MAX_CONTENT_LENGTH") or 0
        message = _(
            "The request is too large: at most %(mb).1f MB can be sent at once.",
            mb=limit / 1024 / 1024,
        )
        if request.path.startswith("/api/"):
            return {"error": 413, "message": message, "max_bytes": limit}, 413
        return render_template("error.html", code=413, message=message), 413

    app.register_error_handler(UserError, user_error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        _rollback()
        if request.path.startswith("/api/"):
            return {"error": error.name, "message": http_message(error)}, error.code
        return (
            render_template("error.html", code=error.code, message=http_message(error)),
            error.code,
        )

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        # The failed statement left the session unusable: the error page (current_user, the
        # menu) must not query through it (PendingRollbackError).
        _rollback()
        if out_of_range(error):
            message = _(
                "A number in the request is too large or not valid for the database; "
                "check the numbers you entered."
            )
            if request.path.startswith("/api/"):
                return {"error": "Bad Request", "message": message}, 400
            return render_template("error.html", code=400, message=message), 400
        # Users never see a stack trace; the log keeps it.
        app.logger.exception("unhandled error on %s", request.path)
        return render_template("error.html", code=500, message=None), 500
