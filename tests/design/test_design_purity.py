"""The questionnaire modules of design (diff, export, XLSForm) stay pure: no Flask, no database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_design_modules_load_neither_flask_nor_sqlalchemy() -> None:
    code = (
        "import sys\n"
        "import surveyapp.questionnaire.diff, surveyapp.questionnaire.export\n"
        "import surveyapp.questionnaire.xlsform\n"
        "loaded = [m for m in ('flask', 'sqlalchemy', 'flask_sqlalchemy') if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
