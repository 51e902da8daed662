"""Officials never wait (issue 20): releasing a wave prepares its report data and every
street's PDF in the background, so that the officials' downloads come from the cache."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Survey, Wave
from surveyapp.services import reports as report_service
from surveyapp.services.reports import (
    pdf_key,
    report_bundle,
    report_cache,
    street_pdf,
    survey_streets,
)

OFFICIAL_PASSWORD = "official-demo-2026"
MANAGER_PASSWORD = "manager-demo-2026"


def _unrelease(demo, code: str = "2026-Q4") -> int:
    with demo.app_context():
        wave = db.session.scalar(select(Wave).where(Wave.code == code))
        wave.released_at = None
        wave.released_by = None
        db.session.commit()
        return wave.id


def _cached_pdfs(demo, wave_id: int) -> dict[str, bool]:
    """For every street and the district: is its zh_CN PDF in the cache?"""
    with demo.app_context():
        wave = db.session.get(Wave, wave_id)
        survey = db.session.get(Survey, wave.survey_id)
        cache = report_cache()
        bundle = report_bundle(survey, wave, cache)
        targets = [s.code for s in survey_streets(survey)] + ["district"]
        return {
            what: cache.get_file("pdf", pdf_key(bundle, what, "zh_CN"), ".pdf") is not None
            for what in targets
        }


def _release_as_manager(client, auth, wave_id: int) -> None:
    assert auth.login("manager", MANAGER_PASSWORD).status_code == 302
    response = client.post(f"/manage/waves/{wave_id}/release")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    auth.logout()


def test_release_prepares_every_pdf_and_officials_download_from_the_cache(
    demo, client, auth, monkeypatch
):
    wave_id = _unrelease(demo)
    demo.config.update(PREPARE_REPORTS=True, JOB_BACKEND="inline")
    _release_as_manager(client, auth, wave_id)
    cached = _cached_pdfs(demo, wave_id)
    assert len(cached) == 14 and all(cached.values()), cached

    # An official's download draws nothing: every PDF comes from the cache.
    def no_drawing(*args, **kwargs):
        raise AssertionError("a PDF was drawn in the official's request")

    monkeypatch.setattr(report_service, "build_pdf", no_drawing)
    monkeypatch.setattr(report_service, "gather", no_drawing)
    assert auth.login("official", OFFICIAL_PASSWORD).status_code == 302
    with demo.app_context():
        wave = db.session.get(Wave, wave_id)
        streets = [s.code for s in survey_streets(db.session.get(Survey, wave.survey_id))]
    for code in streets:
        response = client.get(f"/officials/surveys/1/waves/2026-Q4/streets/{code}.pdf")
        assert response.status_code == 200, code
        assert response.data.startswith(b"%PDF")


def test_without_preparation_nothing_is_cached_at_release(demo, client, auth):
    """The behaviour before: the first official's download computed everything."""
    wave_id = _unrelease(demo)
    demo.config.update(PREPARE_REPORTS=False, JOB_BACKEND="inline")
    _release_as_manager(client, auth, wave_id)
    assert not any(_cached_pdfs(demo, wave_id).values())


def test_thread_backend_prepares_after_the_request(demo, client, auth, monkeypatch):
    wave_id = _unrelease(demo)
    demo.config.update(PREPARE_REPORTS=True, JOB_BACKEND="thread")
    started: list[threading.Thread] = []
    real_start = threading.Thread.start

    def start(self):
        if self.name.startswith("prepare-"):
            started.append(self)
        real_start(self)

    monkeypatch.setattr(threading.Thread, "start", start)
    _release_as_manager(client, auth, wave_id)
    assert len(started) == 1 and started[0].daemon  # the request did not wait for it
    started[0].join(timeout=300)
    assert not started[0].is_alive()
    assert all(_cached_pdfs(demo, wave_id).values())


def test_a_wave_that_cannot_be_estimated_is_still_released(demo, caplog):
    """Preparation failing (a wave without responses) is logged; the release stands."""
    from surveyapp.services.waves import create_wave, open_wave, release_wave

    demo.config.update(PREPARE_REPORTS=True, JOB_BACKEND="inline")
    with demo.app_context():
        survey = db.session.get(Survey, 1)
        wave = create_wave(
            survey, code="2027-Q1", name="", starts_on="2027-01-01", ends_on="2027-03-31"
        )  # fmt: skip
        open_wave(wave)
        release_wave(wave)
        assert db.session.get(Wave, wave.id).is_released
        with pytest.raises(Exception):  # noqa: B017 - whatever the estimates refuse with
            street_pdf(survey, wave, survey_streets(survey)[0].code)
    assert "not prepared" in caplog.text


def test_a_released_open_wave_past_its_window_is_served_while_a_job_recomputes_it(
    demo, monkeypatch
):
    """After the freshness window, the first download no longer computes the new bundle in
    its request: it gets the last one, and a background job computes the new one (once)."""
    from surveyapp.models import Response

    calls = []
    real = report_service.gather
    monkeypatch.setattr(report_service, "gather", lambda *a, **k: calls.append(1) or real(*a, **k))
    clock = [1_000_000.0]
    monkeypatch.setattr(report_service, "_now", lambda: clock[0])
    demo.config.update(PREPARE_REPORTS=True, JOB_BACKEND="thread", REPORT_MAX_AGE=300)
    started: list[threading.Thread] = []
    real_start = threading.Thread.start

    def start(self):
        if self.name.startswith("prepare-"):
            started.append(self)
        real_start(self)

    monkeypatch.setattr(threading.Thread, "start", start)
    with demo.app_context():
        survey, wave = report_service.find_survey_wave(1)
        assert wave.is_open and wave.is_released
        first = report_bundle(survey, wave)
        assert len(calls) == 1
        response = db.session.scalars(
            select(Response).where(Response.wave_id == wave.id, Response.status != "rejected")
        ).first()
        response.status = "rejected"
        db.session.commit()
        clock[0] += 301  # the window is over
        served = report_bundle(survey, wave)
        assert served.key == first.key  # the request computed nothing
        assert len(started) == 1
        assert report_bundle(survey, wave).key == first.key  # still refreshing: no second job
        assert len(started) == 1
        started[0].join(timeout=300)
        assert len(calls) == 2
        fresh = report_bundle(survey, wave)
        assert fresh.key != first.key and fresh.results.n == first.results.n - 1
        assert len(calls) == 2 and len(started) == 1
