"""Cached files are sealed with the application's key: a planted file runs nothing and is
never served (issue 14, item 5). Before, a pickle planted in the report cache ran in the web
process."""

from __future__ import annotations

import os
import pickle
import stat

from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Survey


class _Exploit:
    """Unpickling this creates the file ``marker`` (a harmless stand-in for running `id`)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_planted_bundle_is_not_unpickled(demo, tmp_path):
    from surveyapp.services.reports import ReportCache, report_bundle

    marker = tmp_path / "pwned"
    with demo.app_context():
        survey = db.session.scalar(select(Survey).order_by(Survey.id))
        wave = survey.waves[-1]
        cache = ReportCache(tmp_path / "cache")
        first = report_bundle(survey, wave, cache)
        files = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
        assert files
        for path in files:
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
        bundles = [p for p in files if p.parent.name == "bundles"]
        assert bundles
        for path in bundles:
            path.write_bytes(pickle.dumps(_Exploit(str(marker))))
        fresh = ReportCache(tmp_path / "cache")  # another process: nothing in memory
        assert fresh.get_bundle(bundles[0].stem) is None
        again = report_bundle(survey, wave, fresh)
        assert not marker.exists()
        assert again.results == first.results
        # and the recomputed, sealed bundle is read back by the next process
        assert ReportCache(tmp_path / "cache").get_bundle(bundles[0].stem) is not None


def test_a_planted_report_file_is_not_served(demo, tmp_path):
    from surveyapp.services.reports import ReportCache

    with demo.app_context():
        cache = ReportCache(tmp_path / "cache")
        cache.put_file("pdf", "k", ".pdf", b"%PDF-1.7 the real report")
        assert cache.get_file("pdf", "k", ".pdf") == b"%PDF-1.7 the real report"
        path = tmp_path / "cache" / "pdf" / "k.pdf"
        path.write_bytes(b"%PDF-1.7 a forged report")
        assert cache.get_file("pdf", "k", ".pdf") is None
        # A sealed file of another kind does not pass for this one either.
        cache.put_file("zip", "k", ".pdf", b"not a pdf")
        (tmp_path / "cache" / "zip" / "k.pdf").replace(path)
        assert cache.get_file("pdf", "k", ".pdf") is None


def test_another_key_is_another_seal(demo):
    from surveyapp.services import disk_cache

    with demo.app_context():
        sealed = disk_cache.dump_object({"a": 1}, "test")
        assert disk_cache.load_object(sealed, "test") == {"a": 1}
        demo.config["SECRET_KEY"] = "another key"
        assert disk_cache.load_object(sealed, "test") is None


def test_no_pickle_is_read_from_disk_outside_the_seal():
    """Every ``pickle.load(s)`` of the package is the sealed one (or the in-memory hand-over
    to worker processes in services/reports.py)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "surveyapp"
    uses = {
        p.relative_to(root).as_posix(): len(re.findall(r"pickle\.loads?\(", p.read_text()))
        for p in root.rglob("*.py")
    }
    assert {k: v for k, v in uses.items() if v} == {
        "services/disk_cache.py": 1,
        "services/reports.py": 1,  # _worker_init: bytes from the parent process, not a file
    }


def test_a_replaced_job_result_is_not_sent(demo, client, auth, tmp_path):
    """A download made in the background lives in the (shareable) cache directory: replaced by
    someone else, it is refused (410), not sent to the official."""
    demo.config["JOB_BACKEND"] = "inline"
    demo.config["REPORT_CACHE_DIR"] = str(tmp_path / "cache")
    auth.login("official", "official-demo-2026")
    started = client.post(
        "/officials/surveys/1/waves/2026-Q4/jobs", data={"kind": "responses", "format": "csv"}
    )
    status = client.get(started.location + ".json").get_json()
    assert status["status"] == "done", status
    good = client.get(status["download"])
    assert good.status_code == 200 and good.data.startswith("\ufeff".encode())
    (path,) = (tmp_path / "cache" / "jobs").iterdir()
    path.write_bytes(b"\xef\xbb\xbfforged,answers\r\n")
    assert client.get(status["download"]).status_code == 410
