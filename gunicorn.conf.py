"""gunicorn settings, read from the working directory (``make serve``, the benchmarks).

The application is imported once, in the master, and forked into the workers: they start at
once (importing it costs each process about 2 s of CPU) and share its memory. Before forking,
the master parses the questionnaires of the open waves, so that no worker spends its first
submissions on that either, and imports the PDF builders and scipy, which the application
itself imports only when first used. Command-line options (``--workers``, ``--bind``) still apply.
"""

preload_app = True

# A request may take at most this long; deploy/nginx.conf waits a little longer (65 s), so the
# proxy never gives up on a request gunicorn still runs. Long work (the ZIP of every street's
# report, response exports) runs as background jobs, uploads are checked under a 10 s budget
# (SURVEYAPP_UPLOAD_TIME_BUDGET). tests/security/test_deploy_settings.py keeps them in step.
timeout = 60

# Files the server creates (the SQLite database and its WAL, report cache, job results,
# backups) are readable by its own user only.
umask = 0o077


def when_ready(server):
    """Warm the caches the workers inherit; a database that is not there yet is no error."""
    app = server.app.wsgi()
    # The application imports the PDF builders and scipy when first used (so that commands
    # start fast); a server imports them once here, shared by every worker.
    from scipy import special  # noqa: F401

    import surveyapp.estimation.compare  # noqa: F401
    import surveyapp.reports.district  # noqa: F401
    import surveyapp.reports.street  # noqa: F401
    from surveyapp.extensions import db
    from surveyapp.services.questionnaires import parse_open_questionnaires

    try:
        with app.app_context():
            try:
                count = parse_open_questionnaires()
            finally:
                db.session.remove()
                db.engine.dispose()  # no connection of the master's may reach a worker
        server.log.info("parsed %d questionnaire(s) of open waves before forking", count)
    except Exception as exc:  # noqa: BLE001 - the workers parse on first use instead
        server.log.warning("questionnaires not parsed before forking: %s", exc)
