"""The message catalogs: every text the code marks for translation has its Chinese, and the
catalogs compile without a warning (a duplicate or a half-written entry breaks a language)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "surveyapp" / "translations"


def _extracted(tmp_path: Path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg"]
        + ["-k", "_l", "-o", str(pot), "."],
        cwd=ROOT,
        check=True,
    )
    with pot.open("rb") as handle:
        return read_po(handle)


def test_every_marked_text_has_its_chinese(tmp_path):
    with (CATALOGS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        chinese = read_po(handle)
    missing = []
    for message in _extracted(tmp_path):
        if not message.id:
            continue
        found = chinese.get(message.id)
        strings = found.string if found is not None else ""
        strings = strings if isinstance(strings, tuple) else (strings,)
        if found is None or not all(strings) or found.fuzzy:
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    assert not missing, f"{len(missing)} text(s) without Chinese: {missing[:20]}"


def test_catalogs_compile_without_warnings(tmp_path):
    for language in ("zh_Hans_CN", "en"):
        po = CATALOGS / language / "LC_MESSAGES" / "messages.po"
        result = subprocess.run(
            [sys.executable, "-m", "babel.messages.frontend", "compile", "-i", str(po)]
            + ["-o", str(tmp_path / f"{language}.mo")],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        problems = [
            line for line in result.stderr.splitlines() if "WARNING" in line or "error" in line
        ]
        assert not problems, f"{language}: {problems}"
