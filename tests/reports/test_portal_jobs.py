"""The officials' portal: background jobs on RQ (fakeredis), translated job failures, and the
wave page's interview counts agreeing with the reports."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime

import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Answer, Locality, Response, Wave

from .test_portal import BASE, PASSWORD, _wait


@pytest.fixture
def fake_redis(demo):
    fakeredis = pytest.importorskip("fakeredis")
    pytest.importorskip("rq")
    connection = fakeredis.FakeStrictRedis()
    demo.config["REDIS_CONNECTION"] = connection
    yield connection
    demo.config.pop("REDIS_CONNECTION", None)
    demo.config.pop("JOB_BACKEND", None)


def _run_rq_worker(demo, connection) -> int:
    """Run every queued job with rq's in-process SimpleWorker; return how many it ran."""
    from rq import Queue, SimpleWorker

    queue = Queue("surveyapp", connection=connection)
    queued = queue.count
    with demo.app_context():  # the worker uses this app (its test database)
        worker = SimpleWorker([queue], connection=connection)
        assert worker.work(burst=True)
    assert queue.count == 0
    return queued


def _download(client, kind: str, fmt: str = "") -> str:
    data = {"kind": kind}
    if fmt:
        data["format"] = fmt
    response = client.post(f"{BASE}/jobs", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.location


def test_rq_backend_runs_jobs_on_redis(demo, client, auth, fake_redis, monkeypatch):
    auth.login("official", PASSWORD)
    monkeypatch.setenv("SURVEYAPP_JOB_BACKEND", "rq")  # as a deployment selects it
    csv_url = _download(client, "responses", "csv")
    zip_url = _download(client, "zip")
    # queued on Redis, nothing runs it yet: the page waits
    for url in (csv_url, zip_url):
        status = client.get(url + ".json").get_json()
        assert status["status"] == "queued" and status["download"] is None
        assert 'http-equiv="refresh"' in client.get(url).get_data(as_text=True)
    assert fake_redis.llen("rq:queue:surveyapp") == 2
    assert _run_rq_worker(demo, fake_redis) == 2

    rq_files = {}
    for url in (csv_url, zip_url):
        status = client.get(url + ".json").get_json()
        assert status["status"] == "done" and status["percent"] == 100, status
        page = client.get(url).get_data(as_text=True)
        assert status["download"] in page and 'http-equiv="refresh"' not in page
        rq_files[url] = client.get(status["download"]).data
    zip_status = client.get(zip_url + ".json").get_json()
    assert zip_status["done"] == zip_status["total"] == 14

    # the same downloads on the thread backend give the same content
    monkeypatch.setenv("SURVEYAPP_JOB_BACKEND", "thread")
    thread_csv = client.get(_wait(client, _download(client, "responses", "csv"))["download"]).data
    thread_zip = client.get(_wait(client, _download(client, "zip"))["download"]).data
    assert rq_files[csv_url] == thread_csv
    assert rq_files[csv_url].decode("utf-8-sig").startswith("respondent,wave,mode")
    rq_zip, th_zip = (zipfile.ZipFile(io.BytesIO(d)) for d in (rq_files[zip_url], thread_zip))
    assert sorted(rq_zip.namelist()) == sorted(th_zip.namelist())
    assert len(rq_zip.namelist()) == 14
    for name in rq_zip.namelist():
        assert rq_zip.read(name) == th_zip.read(name), name
        assert rq_zip.read(name).startswith(b"%PDF")


def test_rq_job_failure_is_recorded(demo, client, auth, fake_redis):
    """A job that fails in the RQ worker is failed on the portal (in Chinese), not lost."""
    wave_code = _empty_wave(demo)
    auth.login("official", PASSWORD)
    demo.config["JOB_BACKEND"] = "rq"
    response = client.post(f"/officials/surveys/1/waves/{wave_code}/jobs", data={"kind": "zip"})
    assert _run_rq_worker(demo, fake_redis) == 1
    status = client.get(response.location + ".json").get_json()
    assert status["status"] == "failed"
    assert status["message"] == "本轮只有 0 份合格问卷：计算估计值至少需要 2 份"


def _empty_wave(demo) -> str:
    with demo.app_context():
        empty = Wave(
            survey_id=1,
            code="2027-Q1",
            name="2027-Q1",
            position=99,
            starts_on=date(2027, 1, 1),
            ends_on=date(2027, 3, 31),
            is_open=True,
            released_at=datetime.utcnow(),  # officials see only released waves
        )
        db.session.add(empty)
        db.session.commit()
        return empty.code


def test_failed_jobs_speak_chinese(demo, client, auth):
    """The failure of a job is shown in the interface language (Chinese by default), English
    with ?lang=en; the stored reason stays English (logs, CLI)."""
    wave_code = _empty_wave(demo)
    auth.login("official", PASSWORD)
    demo.config["JOB_BACKEND"] = "inline"
    base = f"/officials/surveys/1/waves/{wave_code}/jobs"
    zip_url = client.post(base, data={"kind": "zip"}).location
    status = client.get(zip_url + ".json").get_json()
    assert status["status"] == "failed"
    assert status["reason"] == (
        "this wave has 0 eligible response(s): at least 2 are needed to estimate"
    )
    assert status["message"] == "本轮只有 0 份合格问卷：计算估计值至少需要 2 份"
    page = client.get(zip_url).get_data(as_text=True)
    assert "生成失败：本轮只有 0 份合格问卷：计算估计值至少需要 2 份" in page
    assert "eligible" not in page

    csv_url = client.post(base, data={"kind": "responses", "format": "csv"}).location
    status = client.get(csv_url + ".json").get_json()
    assert status["reason"] == "survey 1 has no responses to export yet"
    assert status["message"] == "调查 1 还没有可导出的问卷"
    assert "调查 1 还没有可导出的问卷" in client.get(csv_url).get_data(as_text=True)


def test_failure_texts_in_both_languages(demo):
    from flask_babel import force_locale

    from surveyapp.services.jobs import INTERNAL_ERROR, INTERRUPTED, failure_text

    with demo.test_request_context("/"):
        with force_locale("zh_CN"):
            assert failure_text(INTERNAL_ERROR) == "内部错误（详见服务器日志）"
            assert failure_text(INTERRUPTED) == "已中断（服务器曾重启）：请重新开始"
            assert failure_text(
                "no population count for street(s) 320106001, 320106002: import them with "
                "`surveyapp localities import`"
            ) == ("街道 320106001, 320106002 没有人口数：请用 `surveyapp localities import` 导入")
            # a message of no known form is shown as it is
            assert failure_text("survey settings: reports.warnings must be an object") == (
                "survey settings: reports.warnings must be an object"
            )
        with force_locale("en"):
            assert failure_text(INTERNAL_ERROR) == INTERNAL_ERROR
            assert failure_text("survey 7 has no responses to export yet") == (
                "survey 7 has no responses to export yet"
            )


def _page_counts(client) -> dict[str, int]:
    page = client.get(BASE).get_data(as_text=True)
    found = re.findall(r'<tr data-street-row="(\d+)">.*?<td class="num">(\d+)</td>', page, re.S)
    assert len(found) == 13, page
    return {code: int(n) for code, n in found}


def test_wave_page_counts_what_the_reports_count(demo, client, auth):
    """The "Interviews" column is the reports' n per street: a rejected interview and a
    screened-out one (no sex answer) are not counted, by hand, and the report agrees."""
    from surveyapp.services import reports

    demo.config["REPORT_MAX_AGE"] = 0
    auth.login("official", PASSWORD)
    before = _page_counts(client)
    code = max(before, key=before.get)  # the street with the most interviews
    with demo.app_context():
        street = db.session.scalar(select(Locality).where(Locality.code == code))
        survey, wave = reports.find_survey_wave(1, "2026-Q4")
        all_responses = db.session.scalar(
            select(db.func.count(Response.id)).where(
                Response.wave_id == wave.id, Response.street_id == street.id
            )
        )
        bundle = reports.report_bundle(survey, wave)
        assert before == bundle.results.n_by_street
        counted = db.session.scalars(
            select(Response)
            .where(
                Response.wave_id == wave.id,
                Response.street_id == street.id,
                Response.status != "rejected",
            )
            .order_by(Response.id)
        ).all()
        assert len(counted) >= before[code] >= 2
        counted[0].status = "rejected"
        # a resubmission without the screening answer: the newest "sex" answer is empty
        db.session.add(Answer(response_id=counted[1].id, question="sex", value="", number=None))
        db.session.commit()
        after_bundle = reports.report_bundle(survey, wave)
    after = _page_counts(client)
    assert after[code] == before[code] - 2
    assert {k: v for k, v in after.items() if k != code} == {
        k: v for k, v in before.items() if k != code
    }
    assert after == after_bundle.results.n_by_street
    assert all_responses > after[code]  # counting every response would disagree
