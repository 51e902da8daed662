"""Fixtures for the report tests: a demo wave large enough for most streets to have estimates,
its report bundle computed once, and helpers that read PDFs back."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from dataclasses import dataclass

import pytest
from pypdf import PdfReader

from surveyapp import create_app
from tests.conftest import PG_URL, _close, _config

#: Enough responses for every street to have estimates (the shared demo fixture has 60).
RESPONSES, SEED = 700, 11


@dataclass
class ReportWave:
    app: object
    bundle: object


@pytest.fixture(scope="session")
def report_wave(migrated_database, tmp_path_factory):
    """The demo with 700 responses and the latest wave's report bundle (SQLite only: the
    content of PDFs does not depend on the database; the portal tests run on both)."""
    if PG_URL:
        pytest.skip("PDF content is checked on SQLite")
    from surveyapp.services.demo import load_demo
    from surveyapp.services.reports import find_survey_wave, gather

    folder = tmp_path_factory.mktemp("reports")
    path = folder / "reports.sqlite"
    shutil.copy(migrated_database, path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SURVEYAPP_INSTANCE_PATH", str(folder / "instance"))
        app = create_app(_config(f"sqlite:///{path}"))
        with app.app_context():
            load_demo(responses=RESPONSES, seed=SEED)
            survey, wave = find_survey_wave(1)
            bundle = gather(survey, wave)
            _close(app)
    return ReportWave(app=app, bundle=bundle)


def pdf_lines(data: bytes) -> list[str]:
    """The text of a PDF read back by pypdf, one table cell or paragraph line per item."""
    reader = PdfReader(io.BytesIO(data))
    lines: list[str] = []
    for page in reader.pages:
        lines += [line.strip() for line in page.extract_text().splitlines() if line.strip()]
    return lines


def pdf_tokens(data: bytes) -> list[str]:
    """The words of a PDF read back by pypdf (cells of a table row may share a line)."""
    return [word for line in pdf_lines(data) for word in line.split()]


def row_after(tokens: list[str], start: int, label: str, count: int) -> tuple[list[str], int]:
    """The ``count`` words after the first ``label`` (one or more words) at or after ``start``;
    return them and the position just after the label."""
    words = label.split()
    for i in range(start, len(tokens) - len(words) + 1):
        if tokens[i : i + len(words)] == words:
            j = i + len(words)
            return tokens[j : j + count], j
    raise AssertionError(f"{label!r} not found after word {start}")


def words(cells: list[str]) -> list[str]:
    return [w for cell in cells for w in cell.split()]


def pdftotext(data: bytes) -> str:
    """The text of a PDF read back by poppler's pdftotext (an independent extractor)."""
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    )
    return out.stdout.decode("utf-8")


NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def pct(x: float) -> str:
    """A share printed in percent with one decimal, as the reports promise (independent of
    surveyapp.reports.figures)."""
    s = f"{x * 100:.1f}"
    return "0.0" if float(s) == 0 else s


def pts(x: float) -> str:
    s = f"{x:.1f}"
    return "0.0" if float(s) == 0 else s


def signed(x: float, kind: str) -> str:
    s = pct(x) if kind == "rate" else pts(x)
    return s if s == "0.0" or s.startswith("-") else "+" + s
