"""A job checks the access rule again when it runs (its own module: the demo fixture cannot
share a module with test_policy.py's module-scoped world on PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Survey, User


def test_a_job_is_refused_when_its_starter_lost_the_survey(demo):
    """A job checks the rule again when it runs: an official moved to another district
    between the start and the run gets a failed job, not the district's data."""
    from surveyapp.models import Locality
    from surveyapp.services import jobs

    demo.config["JOB_BACKEND"] = "inline"
    with demo.app_context():
        official = db.session.scalar(select(User).where(User.username == "official"))
        survey = db.session.scalar(select(Survey).order_by(Survey.id))
        street = db.session.scalar(select(Locality).where(Locality.code == "320106001"))
        with pytest.raises(jobs.JobError):
            jobs.submit("responses", _as(official, street), survey, survey.waves[-1])
        db.session.rollback()

        job = _queued_job(official, survey)
        official.locality = street  # moved to one street before the job ran
        db.session.commit()
        jobs.run_job(job)
        row = db.session.get(jobs.ReportJob, job)
        assert row.status == "failed" and row.message == jobs.REFUSED
        assert not jobs.job_file(row).exists()


def _as(user: User, locality) -> User:
    user.locality = locality
    return user


def _queued_job(user: User, survey: Survey) -> str:
    """A job row as ``submit`` records it, not yet run."""
    import uuid
    from datetime import datetime

    from surveyapp.models.reports import ReportJob

    job = ReportJob(
        id=uuid.uuid4().hex,
        kind="responses",
        user_id=user.id,
        survey_id=survey.id,
        wave_id=survey.waves[-1].id,
        params={"format": "csv", "lang": "zh_CN"},
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
    return job.id
