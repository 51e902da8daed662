"""The application factory: configuration, extensions, blueprints and commands, assembled.

It is the top of the package's layers: it imports the web layer and the command table, and
nothing below imports it (an RQ worker builds its app through :mod:`surveyapp.worker`, the
console script through :mod:`surveyapp.cli`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints and CLI commands."""
    # Flask is imported here, not at module level, so that the pure packages
    # (surveyapp.questionnaire, surveyapp.estimation) load without it.
    from flask import Flask

    from . import auth, config, database, i18n, web
    from .commands import register_commands

    app = Flask(
        "surveyapp",  # the package: its templates, static files, instance folder and logger
        instance_path=os.environ.get("SURVEYAPP_INSTANCE_PATH") or None,
        instance_relative_config=True,
    )
    app.config.from_mapping(config.from_environment(app.instance_path))
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    if app.config.get("PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        # The proxy sets For, Proto and Host (deploy/nginx.conf); Port and Prefix are not
        # trusted, since a proxy that does not set them passes on what the client sent.
        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    database.init_app(app)
    auth.init_app(app)
    i18n.init_app(app)
    web.init_app(app)
    register_commands(app)
    return app
