"""surveyapp.estimation and `estimate --data` load without Flask, SQLAlchemy or scipy.stats."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "r" / "design_generated.csv"


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_estimation_package_is_pure() -> None:
    result = run(
        """
        import sys
        import surveyapp.estimation
        import surveyapp.estimation.design, surveyapp.estimation.estimates
        import surveyapp.estimation.tabular
        bad = [m for m in ("flask", "sqlalchemy", "flask_sqlalchemy") if m in sys.modules]
        assert not bad, bad
        # surveyapp.errors imports nothing: the pure cores word their messages with its Text
        own = [m for m in sys.modules if m.startswith("surveyapp.") and
               not m.startswith("surveyapp.estimation") and
               m not in ("surveyapp.caching", "surveyapp.errors")]
        assert not own, own
        """
    )
    assert result.returncode == 0, result.stderr


def test_csv_command_imports_neither_flask_nor_scipy() -> None:
    """The default path (logit intervals) needs no scipy: the command starts fast."""
    result = run(
        f"""
        import sys
        from surveyapp.estimate_command import main_data
        code = main_data(["--data", {str(FIXTURE)!r}, "--var", "y", "--positive", "1",
                          "--by", "street", "--strata", "street", "--cluster", "community",
                          "--weight", "w", "--format", "json"])
        assert code == 0
        bad = [m for m in ("flask", "sqlalchemy", "scipy") if m in sys.modules]
        assert not bad, bad
        """
    )
    assert result.returncode == 0, result.stderr
