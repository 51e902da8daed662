"""The sample deployment's limits agree (issue 14, item 8): nginx waits a little longer than
gunicorn lets a request run, uploads are checked in less time than either, and the server
creates its files for its own user only."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_nginx_waits_for_what_gunicorn_allows(tmp_path):
    gunicorn = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    timeouts = {
        name: int(value)
        for name, value in re.findall(r"^\s*(proxy_\w+_timeout)\s+(\d+)s;", nginx, re.M)
    }
    assert timeouts["proxy_read_timeout"] >= gunicorn["timeout"]
    assert timeouts["proxy_read_timeout"] - gunicorn["timeout"] <= 10
    assert timeouts["proxy_send_timeout"] == timeouts["proxy_read_timeout"]
    from surveyapp.config import from_environment

    budget = from_environment(str(tmp_path))["UPLOAD_TIME_BUDGET"]
    assert budget < gunicorn["timeout"]
    assert gunicorn["umask"] == 0o077


def test_job_results_are_owner_only(demo, tmp_path):
    import os
    import stat

    from sqlalchemy import select

    from surveyapp.extensions import db
    from surveyapp.models import Survey, User
    from surveyapp.services import jobs

    demo.config["JOB_BACKEND"] = "inline"
    demo.config["REPORT_CACHE_DIR"] = str(tmp_path / "cache")
    with demo.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        survey = db.session.scalar(select(Survey).order_by(Survey.id))
        job = jobs.submit("responses", admin, survey, survey.waves[-1], format="csv", lang="en")
        assert job.status == "done", job.message
        assert stat.S_IMODE(os.stat(jobs.job_file(job)).st_mode) == 0o600
