"""What an RQ worker runs (``rq worker surveyapp``): build the app, then do the job.

An entry point like ``wsgi.py``: it imports the app factory, and :mod:`surveyapp.services.jobs`
enqueues these functions by their path (``surveyapp.worker.run``), so nothing below the
factory imports it. A worker started inside an app context (as in the tests) uses that app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import has_app_context

from .app import create_app
from .services.jobs import prepare_reports, run_job

__all__ = ["prepare", "run"]


def _in_app(work: Callable[..., Any], *args: Any) -> None:
    if has_app_context():
        work(*args)
        return
    with create_app().app_context():
        work(*args)


def run(job_id: str) -> None:
    """Run the background job ``job_id`` (:func:`~surveyapp.services.jobs.run_job`)."""
    _in_app(run_job, job_id)


def prepare(survey_id: int, wave_id: int) -> None:
    """Prepare a released wave's reports (:func:`~surveyapp.services.jobs.prepare_reports`)."""
    _in_app(prepare_reports, survey_id, wave_id)
