"""The officials' portal: the 403 matrix, downloads, background jobs with progress, the cache."""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Locality, Response
from surveyapp.services.users import create_user

PASSWORD = "official-demo-2026"
BASE = "/officials/surveys/1/waves/2026-Q4"
URLS = {
    "index": ("GET", "/officials/"),
    "wave": ("GET", BASE),
    "own street": ("GET", f"{BASE}/streets/320106001.pdf"),
    "other street": ("GET", f"{BASE}/streets/320106002.pdf"),
    "district": ("GET", f"{BASE}/district.pdf"),
    "estimates": ("GET", f"{BASE}/estimates.csv"),
    "zip job": ("POST", f"{BASE}/jobs"),
    "results": ("GET", f"{BASE}/results"),
    "own street results": ("GET", f"{BASE}/results/streets/320106001"),
    "other street results": ("GET", f"{BASE}/results/streets/320106002"),
}
OK = {"GET": 200, "POST": 302}
#: user -> the pages it may open; every other page is 403 for it.
ALLOWED = {
    "admin": set(URLS),
    "manager": set(URLS),
    "official": set(URLS),
    "official-street": {"index", "wave", "own street", "results", "own street results"},
    "official-elsewhere": {"index"},
    "enumerator": set(),
}
LOGINS = {
    "admin": "admin-demo-2026",
    "manager": "manager-demo-2026",
    "enumerator": "enumerator-demo-2026",
}


@pytest.fixture
def elsewhere(demo):
    """An official of another district, outside the demo survey."""
    with demo.app_context():
        city = db.session.scalar(select(Locality).where(Locality.code == "320106")).parent
        other = Locality(
            code="320105", name_zh="建邺区", name_en="Jianye", level="district", parent=city
        )
        db.session.add(other)
        db.session.commit()
        create_user("official-elsewhere", "official", PASSWORD, locality_code="320105")
        db.session.commit()


def _wait(client, job_url: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(job_url + ".json").get_json()
        if status["status"] in ("done", "failed"):
            return status
        time.sleep(0.2)
    raise AssertionError(f"job {job_url} did not finish")


def test_403_matrix(demo, client, auth, elsewhere):
    for method, url in URLS.values():
        response = client.open(url, method=method, data={"kind": "zip"})
        assert response.status_code == 302 and "/auth/login" in response.location, url
    jobs = []
    for user, allowed in ALLOWED.items():
        assert auth.login(user, LOGINS.get(user, PASSWORD)).status_code == 302
        for name, (method, url) in URLS.items():
            response = client.open(url, method=method, data={"kind": "zip"})
            expected = OK[method] if name in allowed else 403
            assert response.status_code == expected, (user, name, response.status_code)
            if name in ("own street", "district") and expected == 200:
                assert response.data.startswith(b"%PDF")
            if name == "zip job" and expected == 302:
                jobs.append((user, response.location))
        auth.logout()
    # a job is seen only by whoever started it
    auth.login("official-street", PASSWORD)
    for _user, url in jobs:
        assert client.get(url).status_code == 404
        assert client.get(url + "/download").status_code == 404
    auth.logout()
    from surveyapp.services.jobs import wait

    with demo.app_context():  # let every job finish before the database goes away
        for _user, url in jobs:
            assert wait(url.rsplit("/", 1)[-1], timeout=120).finished


def test_street_official_sees_only_their_street(demo, client, auth):
    auth.login("official-street", PASSWORD)
    page = client.get(BASE).get_data(as_text=True)
    assert 'data-street="320106001"' in page
    assert 'data-street="320106002"' not in page
    assert "district.pdf" not in page and "/jobs" not in page
    assert client.get("/officials/").status_code == 200


def test_bad_requests_are_4xx(demo, client, auth):
    auth.login("official", PASSWORD)
    assert client.get("/officials/surveys/99/waves/2026-Q4").status_code == 404
    assert client.get("/officials/surveys/1/waves/2030-Q1").status_code == 404
    assert client.get(f"{BASE}/streets/999.pdf").status_code == 404
    assert client.get(f"{BASE}/streets/320106001.pdf?lang=fr").status_code == 400
    assert client.get(f"{BASE}/estimates.pdf").status_code == 404
    assert client.post(f"{BASE}/jobs", data={"kind": "everything"}).status_code == 400
    assert (
        client.post(f"{BASE}/jobs", data={"kind": "responses", "format": "doc"}).status_code == 400
    )
    assert client.get("/officials/jobs/nope.json").status_code == 404


def test_zip_of_all_streets_runs_in_the_background(demo, client, auth):
    auth.login("official", PASSWORD)
    response = client.post(f"{BASE}/jobs", data={"kind": "zip"})
    assert response.status_code == 302
    job_url = response.location
    page = client.get(job_url).get_data(as_text=True)
    assert "<progress" in page or "下载" in page
    status = _wait(client, job_url)
    assert status["status"] == "done", status
    assert status["done"] == status["total"] == 14
    archive = zipfile.ZipFile(io.BytesIO(client.get(status["download"]).data))
    names = sorted(archive.namelist())
    assert len(names) == 14 and "320106-district-2026-Q4.pdf" in names
    assert "320106001-2026-Q4.pdf" in names
    assert all(archive.read(n).startswith(b"%PDF") for n in names)
    # the PDF in the ZIP is the one the street download serves (same cached content)
    assert archive.read("320106001-2026-Q4.pdf") == client.get(f"{BASE}/streets/320106001.pdf").data


def test_responses_export_job_sav(demo, client, auth, tmp_path):
    import pyreadstat

    auth.login("official", PASSWORD)
    response = client.post(f"{BASE}/jobs", data={"kind": "responses", "format": "sav"})
    status = _wait(client, response.location)
    assert status["status"] == "done", status
    path = tmp_path / "r.sav"
    path.write_bytes(client.get(status["download"]).data)
    frame, meta = pyreadstat.read_sav(str(path))
    with demo.app_context():
        n = db.session.scalar(
            select(db.func.count(Response.id))
            .join(Response.wave)
            .where(Response.status != "rejected", Response.wave.has(code="2026-Q4"))
        )
    assert len(frame) == n
    assert meta.column_names_to_labels["street"] == "街道"


def test_reports_are_cached_by_content(demo, monkeypatch):
    from surveyapp.services import reports

    calls = []
    real = reports.gather

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(reports, "gather", counting)
    demo.config["REPORT_MAX_AGE"] = 0  # exact: no freshness window for the open wave
    with demo.app_context():
        survey, wave = reports.find_survey_wave(1)
        first = reports.street_pdf(survey, wave, "320106001")
        again = reports.street_pdf(survey, wave, "320106001")
        assert again == first and len(calls) == 1
        english = reports.street_pdf(survey, wave, "320106001", "en")
        assert english != first and len(calls) == 1
        # a response rejected by review changes the data: recomputed, once
        response = db.session.scalars(
            select(Response).where(Response.wave_id == wave.id, Response.status != "rejected")
        ).first()
        response.status = "rejected"
        db.session.commit()
        reports.street_pdf(survey, wave, "320106001")
        reports.district_pdf(survey, wave)
        assert len(calls) == 2


def test_open_wave_reports_are_reused_for_the_freshness_window(demo, monkeypatch):
    """New responses in an open wave do not recompute its reports within REPORT_MAX_AGE
    seconds; after the window they do; a closed wave is always exact."""
    from surveyapp.services import reports

    calls = []
    real = reports.gather
    monkeypatch.setattr(reports, "gather", lambda *a, **k: calls.append(1) or real(*a, **k))
    clock = [1_000_000.0]
    monkeypatch.setattr(reports, "_now", lambda: clock[0])
    demo.config["REPORT_MAX_AGE"] = 300
    with demo.app_context():
        survey, wave = reports.find_survey_wave(1)
        assert wave.is_open
        first = reports.report_bundle(survey, wave)
        assert len(calls) == 1

        def reject_one():
            response = db.session.scalars(
                select(Response).where(Response.wave_id == wave.id, Response.status != "rejected")
            ).first()
            response.status = "rejected"
            db.session.commit()

        reject_one()
        clock[0] += 299
        assert reports.report_bundle(survey, wave).key == first.key and len(calls) == 1
        clock[0] += 2  # 301 s after the computation: the window is over
        fresh = reports.report_bundle(survey, wave)
        assert fresh.key != first.key and len(calls) == 2
        assert fresh.results.n == first.results.n - 1

        wave.is_open = False
        db.session.commit()
        reject_one()
        clock[0] += 1
        closed = reports.report_bundle(survey, wave)
        assert closed.key != fresh.key and len(calls) == 3


def test_report_max_age_must_be_seconds(monkeypatch, tmp_path):
    from surveyapp.config import from_environment

    monkeypatch.setenv("SURVEYAPP_REPORT_MAX_AGE", "five minutes")
    with pytest.raises(ValueError, match="SURVEYAPP_REPORT_MAX_AGE must be a number of seconds"):
        from_environment(str(tmp_path))
    monkeypatch.setenv("SURVEYAPP_REPORT_MAX_AGE", "60")
    assert from_environment(str(tmp_path))["REPORT_MAX_AGE"] == 60.0


def test_job_backends_from_configuration(demo, client, auth):
    auth.login("official", PASSWORD)
    demo.config["JOB_BACKEND"] = "inline"  # in the request itself: done on return
    response = client.post(f"{BASE}/jobs", data={"kind": "responses", "format": "csv"})
    status = client.get(response.location + ".json").get_json()
    assert status["status"] == "done" and status["percent"] == 100
    rows = client.get(status["download"]).data.decode("utf-8-sig").splitlines()
    assert rows[0].startswith("respondent,wave,mode,district,street")
    demo.config["JOB_BACKEND"] = "carrier-pigeon"
    response = client.post(f"{BASE}/jobs", data={"kind": "zip"})
    assert response.status_code == 400
    assert "SURVEYAPP_JOB_BACKEND 须为 thread, rq, inline 之一" in response.get_data(as_text=True)


def test_telephone_response_rate_in_the_street_report(demo):
    """RR3 by hand: street I=6 R=2 NC=1 UH=1 NE=1 -> e = 9/10, RR3 = 6 / (9 + 0.9) = 60.6%;
    district adds I=4 R=4 -> e = 17/18, RR3 = 10 / (17 + 17/18) = 55.7%."""
    from surveyapp.models.fieldwork import CatiCase
    from surveyapp.services import reports

    from .conftest import pdf_tokens, pdftotext, row_after

    codes = {
        "320106001": ["1.1"] * 6 + ["2.111"] * 2 + ["2.21", "3.13", "4.70"],
        "320106002": ["1.1"] * 4 + ["2.111"] * 4,
    }
    with demo.app_context():
        survey, wave = reports.find_survey_wave(1)
        phone = 13800000000
        for street_code, finals in codes.items():
            street = db.session.scalar(select(Locality).where(Locality.code == street_code))
            for final in finals:
                phone += 1
                db.session.add(
                    CatiCase(
                        wave_id=wave.id,
                        locality_id=street.id,
                        phone=str(phone),
                        status="closed",
                        final_code=final,
                    )
                )
        db.session.commit()
        pdf = reports.street_pdf(survey, wave, "320106001")
    tokens = pdf_tokens(pdf)
    got, _ = row_after(tokens, 0, "电话访问应答率（AAPOR RR3）", 2)
    assert got == ["60.6%", "55.7%"]
    text = pdftotext(pdf)
    assert "1380000" not in text  # telephone numbers never reach a report


def test_a_job_lost_with_its_process_is_failed_not_waited_for(demo, client, auth):
    from datetime import datetime, timedelta

    from surveyapp.models import User
    from surveyapp.models.reports import ReportJob

    with demo.app_context():
        user = db.session.scalar(select(User).where(User.username == "official"))
        db.session.add(
            ReportJob(
                id="lost",
                kind="zip",
                user_id=user.id,
                survey_id=1,
                params={},
                status="running",
                done=3,
                total=14,
                message="",
                filename="",
                result_path="",
                created_at=datetime.utcnow() - timedelta(hours=2),
            )
        )
        db.session.commit()
    auth.login("official", PASSWORD)
    status = client.get("/officials/jobs/lost.json").get_json()
    assert status["status"] == "failed" and "restarted" in status["reason"]
    assert status["message"] == "已中断（服务器曾重启）：请重新开始"  # the interface language
    assert 'http-equiv="refresh"' not in client.get("/officials/jobs/lost").get_data(as_text=True)


def test_downloads_are_audited_by_one_insert(demo, client, auth):
    """Each download leaves one audit row (who, what, format, address), written as one INSERT
    whose commit leaves the request's objects loaded (issue 20: it reloaded them)."""
    from surveyapp.models import AuditEvent, User

    assert auth.login("official", PASSWORD).status_code == 302
    assert client.get(f"{BASE}/estimates.csv").status_code == 200
    assert client.get(f"{BASE}/streets/320106001.pdf?lang=en").status_code == 200
    with demo.app_context():
        official = db.session.scalar(select(User).where(User.username == "official"))
        events = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.in_(("export", "report")))
            .order_by(AuditEvent.id)
        ).all()
        got = [(e.user_id, e.username, e.action, e.target, e.detail, e.ip) for e in events]
    assert got == [
        (official.id, "official", "export", "estimates:1:2026-Q4", {"format": "csv"}, "127.0.0.1"),
        (official.id, "official", "report", "report:1:2026-Q4:320106001", {}, "127.0.0.1"),
    ]
