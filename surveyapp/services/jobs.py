"""Background jobs for long work started from the web: the ZIP of every street's report and
the exports of the responses.

A job is a row of ``report_job`` (status, progress, result file), so any process can report
and read its progress. Where it runs is configuration (``SURVEYAPP_JOB_BACKEND``):

- ``thread`` (default): a thread of the web process itself, nothing to install or run;
- ``rq``: an existing RQ queue on Redis (``SURVEYAPP_REDIS_URL``; ``pip install
  'surveyapp[rq]'`` and run ``rq worker surveyapp`` with the same environment); the worker
  builds its own app with ``create_app()`` (:mod:`surveyapp.worker`, named here by path: the
  worker is an entry point above the app, like ``wsgi.py``). Result files go to the report
  cache directory, which several servers must then share (``SURVEYAPP_REPORT_CACHE_DIR``);
- ``inline``: in the request itself (for debugging).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask, current_app, has_request_context
from flask_babel import gettext as _
from sqlalchemy import select

from ..errors import N_, Text, UserError
from ..extensions import db
from ..models import Survey, User, Wave
from ..models.reports import ReportJob
from ..policy import may_run_job, may_see_job
from . import disk_cache
from . import reports as reports_service
from .exports import export_filename, export_responses
from .reports import (
    build_many,
    report_bundle,
    report_cache,
    survey_streets,
    zip_reports,
)

log = logging.getLogger(__name__)
BACKENDS = ("thread", "rq", "inline")
KINDS = ("zip", "responses")
QUEUE_NAME = "surveyapp"
#: What an RQ worker runs (by path: :mod:`surveyapp.worker` builds the app, which imports this).
WORKER_RUN = "surveyapp.worker.run"
WORKER_PREPARE = "surveyapp.worker.prepare"
#: The longest a job may run (RQ's job timeout too); an older unfinished job was lost.
JOB_LIMIT = timedelta(hours=1)


#: Failure messages a job stores (English, for logs and the CLI); :func:`failure_text`
#: translates them for the interface.
INTERNAL_ERROR = "internal error (see the server log)"
INTERRUPTED = "interrupted (the server was restarted): start it again"
REFUSED = "refused: you may no longer download all of this survey"


#: (English message stored by a failed job, its translation with the captured values). The
#: messages come from the services a job calls (estimates, exports); the tests make those
#: failures happen for real, so a change of their wording shows there.
_FAILURE_MESSAGES: list[tuple[re.Pattern, object]] = [
    (
        re.compile(re.escape(INTERNAL_ERROR) + "$"),
        lambda m: _("internal error (see the server log)"),
    ),
    (
        re.compile(re.escape(REFUSED) + "$"),
        lambda m: _("refused: you may no longer download all of this survey"),
    ),
    (
        re.compile(re.escape(INTERRUPTED) + "$"),
        lambda m: _("interrupted (the server was restarted): start it again"),
    ),
    (
        re.compile(
            r"this wave has (\d+) eligible response\(s\): at least 2 are needed "
            r"to estimate$"
        ),
        lambda m: _(
            "this wave has %(n)s eligible response(s): at least 2 are needed to "
            "compute the estimates",
            n=m.group(1),
        ),
    ),
    (
        re.compile(r"survey (\d+) has no responses to export yet$"),
        lambda m: _("survey %(id)s has no responses to export yet", id=m.group(1)),
    ),
    (
        re.compile(
            r"no population count for street\(s\) (.+): import them with "
            r"`surveyapp localities import`$"
        ),
        lambda m: _(
            "no population count for street(s) %(streets)s: import them with "
            "`surveyapp localities import`",
            streets=m.group(1),
        ),
    ),
]


def failure_text(message: str) -> str:
    """The stored failure ``message`` of a job in the interface language; a message of no
    known form (a survey settings error, for the administrator) is shown as it is."""
    for pattern, translate in _FAILURE_MESSAGES:
        match = pattern.match(message or "")
        if match:
            return translate(match)
    return message


class JobError(UserError, ValueError):
    """A job cannot be started as asked (unknown kind or backend); the message says why."""


class JobRefused(UserError):
    """A job whose starter may no longer see what it makes; recorded as failed."""


def backend_name(app: Flask | None = None) -> str:
    app = app or current_app
    name = (
        (app.config.get("JOB_BACKEND") or os.environ.get("SURVEYAPP_JOB_BACKEND") or "thread")
        .strip()
        .lower()
    )
    if name not in BACKENDS:
        raise JobError(
            Text(
                N_("SURVEYAPP_JOB_BACKEND must be one of %(backends)s, not '%(name)s'"),
                backends=", ".join(BACKENDS),
                name=name,
            )
        )
    return name


def submit(kind: str, user: User, survey: Survey, wave: Wave | None, **params) -> ReportJob:
    """Record a job and start it on the configured backend; return it (status ``queued``)."""
    if kind not in KINDS:
        raise JobError(
            Text(N_("unknown job '%(kind)s': one of %(kinds)s"), kind=kind, kinds=", ".join(KINDS))
        )
    if not may_run_job(user, survey, wave):
        raise JobError(
            Text(
                N_("user '%(user)s' may not download all of survey %(id)s"),
                user=user.username,
                id=survey.id,
            )
        )
    backend = backend_name()
    job = ReportJob(
        id=uuid.uuid4().hex,
        kind=kind,
        user_id=user.id,
        survey_id=survey.id,
        wave_id=wave.id if wave is not None else None,
        params=params,
        status="queued",
        done=0,
        total=0,
        message="",
        filename="",
        result_path="",
        created_at=datetime.utcnow(),
    )
    db.session.add(job)
    db.session.commit()
    job_id = job.id
    if backend == "inline":
        run_job(job_id)
    elif backend == "rq":
        _enqueue_rq(job_id)
    else:
        app = current_app._get_current_object()
        threading.Thread(
            target=_thread_main, args=(app, job_id), name=f"job-{job_id[:8]}", daemon=True
        ).start()
    return db.session.get(ReportJob, job_id)


def _thread_main(app: Flask, job_id: str) -> None:
    with app.app_context():
        try:
            run_job(job_id)
        finally:
            db.session.remove()


def _queue():
    try:
        from redis import Redis
        from rq import Queue
    except ImportError as exc:
        raise JobError(
            Text(N_("SURVEYAPP_JOB_BACKEND=rq needs the rq extra: pip install 'surveyapp[rq]'"))
        ) from exc
    # REDIS_CONNECTION: a ready connection object (the tests inject fakeredis); otherwise
    # one is opened from SURVEYAPP_REDIS_URL.
    connection = current_app.config.get("REDIS_CONNECTION")
    if connection is None:
        url = current_app.config.get("REDIS_URL") or os.environ.get(
            "SURVEYAPP_REDIS_URL", "redis://localhost:6379/0"
        )
        connection = Redis.from_url(url)
    return Queue(QUEUE_NAME, connection=connection)


def _enqueue_rq(job_id: str) -> None:
    _queue().enqueue(WORKER_RUN, job_id, job_timeout=int(JOB_LIMIT.total_seconds()), result_ttl=0)


def job_result(job: ReportJob) -> bytes | None:
    """The verified content of a finished job's file; None when it expired or was tampered
    with (see :mod:`surveyapp.services.disk_cache`)."""
    return disk_cache.read(job_file(job), "job-result")


def job_file(job: ReportJob) -> Path:
    return Path(report_cache().root) / "jobs" / f"{job.id}{Path(job.filename).suffix}"


def run_job(job_id: str) -> None:
    """Do the work of job ``job_id``, recording progress; failures are recorded, not raised."""
    job = db.session.get(ReportJob, job_id)
    if job is None:
        log.error("job %s does not exist", job_id)
        return
    job.status = "running"
    db.session.commit()
    try:
        data, filename = _work(job)
        job = db.session.get(ReportJob, job_id)
        job.filename = filename
        path = job_file(job)
        # Sealed like every cached file (the directory may be shared): a replaced file is
        # refused at download, not sent to an official.
        disk_cache.write(path, data, "job-result")
        job.result_path = str(path)
        job.status = "done"
        job.done = job.total or 1
        job.total = job.total or 1
    except UserError as exc:  # the user's to fix: the message is the job's failure
        db.session.rollback()
        job = db.session.get(ReportJob, job_id)
        job.status = "failed"
        job.message = str(exc)
    except Exception:  # noqa: BLE001  (recorded for the user; the log keeps the trace)
        log.exception("job %s failed", job_id)
        db.session.rollback()
        job = db.session.get(ReportJob, job_id)
        job.status = "failed"
        job.message = INTERNAL_ERROR
    job.finished_at = datetime.utcnow()
    db.session.commit()


def _work(job: ReportJob) -> tuple[bytes, str]:
    survey = db.session.get(Survey, job.survey_id)
    starter = db.session.get(User, job.user_id)
    wave = db.session.get(Wave, job.wave_id) if job.wave_id else None
    if starter is None or not may_run_job(starter, survey, wave):
        # The jurisdiction (or the account) changed since the job was started.
        raise JobRefused(REFUSED)
    lang = job.params.get("lang", "zh_CN")
    job_id = job.id
    if job.kind == "zip":
        cache = report_cache()
        bundle = report_bundle(survey, wave, cache)
        streets = job.params.get("streets") or [s.code for s in survey_streets(survey)]
        targets = list(streets) + (["district"] if job.params.get("district", True) else [])
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if done < total and now - last[0] < 0.5:
                return
            last[0] = now
            row = db.session.get(ReportJob, job_id)
            row.done, row.total = done, total
            db.session.commit()

        data = zip_reports(bundle, targets, lang, cache=cache, progress=progress)
        suffix = "" if lang == "zh_CN" else f"-{lang}"
        return data, f"{bundle.meta.district_code}-{bundle.results.wave_code}{suffix}.zip"
    if job.kind == "responses":
        fmt = job.params.get("format", "csv")
        row = db.session.get(ReportJob, job_id)
        row.total = 1
        db.session.commit()
        return (
            export_responses(survey, fmt, wave=wave, lang=lang),
            export_filename(survey, "responses", fmt, wave),
        )
    raise JobError(Text(N_("unknown job kind %(kind)s"), kind=job.kind))


def recent_jobs(user: User, survey: Survey, limit: int = 5) -> list[ReportJob]:
    """The user's latest background jobs for ``survey``, newest first."""
    return list(
        db.session.scalars(
            select(ReportJob)
            .where(ReportJob.user_id == user.id, ReportJob.survey_id == survey.id)
            .order_by(ReportJob.created_at.desc())
            .limit(limit)
        )
    )


def job_for(user: User, job_id: str) -> ReportJob | None:
    """The job ``job_id`` if ``user`` started it (admins see every job), else None.

    A job still unfinished long after its time limit was lost with the process that ran it
    (a restart): it is marked failed, so that its page stops waiting.
    """
    job = db.session.get(ReportJob, job_id)
    if job is None or not may_see_job(user, job):
        return None
    if not job.finished and datetime.utcnow() - job.created_at > JOB_LIMIT:
        job.status = "failed"
        job.message = INTERRUPTED
        job.finished_at = datetime.utcnow()
        db.session.commit()
    return job


def wait(job_id: str, timeout: float = 60.0) -> ReportJob:
    """Poll until the job is finished (for the CLI and tests); return it."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.expire_all()
        job = db.session.get(ReportJob, job_id)
        if job is None or job.finished or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


# ------------------------------------------------------- preparing a released wave's reports

#: Languages whose PDFs are drawn ahead (others are drawn on first download, then cached).
PREPARED_LANGUAGES = ("zh_CN",)


def prepare_reports_soon(wave: Wave) -> None:
    """Start preparing a released wave's report bundle and PDFs on the job backend.

    Called when a wave is released: the estimates behind its reports (seconds to minutes for a
    large wave) and every street's PDF and the district overview are computed once, in the
    background, into the report cache, so that officials' downloads are served from it. Off
    with ``SURVEYAPP_PREPARE_REPORTS=0``. A failure is logged, never raised: the release stands
    and the reports are then computed on first download, as before.
    """
    app = current_app._get_current_object()
    if not app.config.get("PREPARE_REPORTS", True) or not wave.is_released:
        return
    ids = (wave.survey_id, wave.id)
    try:
        backend = backend_name(app)
        if backend == "inline":
            prepare_reports(*ids)
        elif backend == "rq":
            _queue().enqueue(
                WORKER_PREPARE, *ids, job_timeout=int(JOB_LIMIT.total_seconds()), result_ttl=0
            )
        else:
            # In a web request the thread must not hold the worker; a command (no request)
            # waits for it before exiting, so that its preparation is not cut off.
            threading.Thread(
                target=_prepare_thread,
                args=(app, *ids),
                name=f"prepare-{wave.id}",
                daemon=has_request_context(),
            ).start()
    except Exception:  # noqa: BLE001 - the release stands; reports are computed on demand
        log.exception("could not start preparing the reports of wave %s", wave.id)


def _prepare_thread(app: Flask, survey_id: int, wave_id: int) -> None:
    with app.app_context():
        try:
            prepare_reports(survey_id, wave_id)
        finally:
            db.session.remove()


def prepare_reports(survey_id: int, wave_id: int) -> int:
    """Compute a released wave's report bundle and draw its PDFs into the cache.

    Returns the number of PDFs now in the cache (0 when the wave is not released, or when
    its reports cannot be computed, which is logged).
    """
    started = time.perf_counter()
    survey = db.session.get(Survey, survey_id)
    wave = db.session.get(Wave, wave_id)
    if survey is None or wave is None or not wave.is_released:
        return 0
    try:
        cache = report_cache()
        bundle = report_bundle(survey, wave, cache, stale_ok=False)
        targets = [s.code for s in survey_streets(survey)] + ["district"]
        count = 0
        for lang in PREPARED_LANGUAGES:
            count += sum(1 for _ in build_many(bundle, targets, lang, cache=cache))
    except UserError as exc:  # the user's to fix: the message is the job's failure
        log.warning("reports of wave %s not prepared: %s", wave_id, exc)
        return 0
    except Exception:  # noqa: BLE001 - computed on first download instead
        log.exception("reports of wave %s not prepared", wave_id)
        return 0
    finally:
        db.session.rollback()
    log.info(
        "reports of survey %s wave %s prepared: %d PDFs in %.1f s",
        survey_id,
        wave_id,
        count,
        time.perf_counter() - started,
    )
    return count


# The report cache asks for a refresh of a stale released wave through this hook.
reports_service.refresh_hook = prepare_reports_soon
