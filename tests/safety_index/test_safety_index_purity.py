"""surveyapp.safety_index loads without Flask or SQLAlchemy (a pure core)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_safety_index_package_is_pure() -> None:
    code = """
        import sys
        import surveyapp.safety_index
        import surveyapp.safety_index.compute, surveyapp.safety_index.definition
        bad = [m for m in ("flask", "sqlalchemy", "flask_sqlalchemy") if m in sys.modules]
        assert not bad, bad
        own = [m for m in sys.modules if m.startswith("surveyapp.") and
               not m.startswith("surveyapp.safety_index") and
               m not in ("surveyapp.yaml_limits", "surveyapp.errors")]
        assert not own, own
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
