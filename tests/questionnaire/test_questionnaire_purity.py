"""The questionnaire package is pure: importing it loads neither Flask nor SQLAlchemy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_loads_neither_flask_nor_sqlalchemy() -> None:
    code = (
        "import sys\n"
        "import surveyapp.questionnaire\n"
        "loaded = [m for m in ('flask', 'sqlalchemy', 'flask_sqlalchemy') if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    # If this fails, look first at surveyapp/__init__.py: it must import Flask inside
    # create_app(), not at module level, or every subpackage drags Flask in.
    assert result.stdout.strip() == "", f"importing surveyapp.questionnaire loaded {result.stdout}"
