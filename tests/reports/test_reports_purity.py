"""``surveyapp.reports`` is a pure core: it draws what it is given and loads no Flask, no
database and none of ``services``/``web``/``models`` (the result types it reads are its own,
``reports.results``)."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "surveyapp" / "reports"
OUTSIDE = ("flask", "flask_babel", "flask_login", "sqlalchemy", "flask_sqlalchemy")
LAYERS_ABOVE = ("services", "web", "models", "extensions", "fieldwork", "database")


def test_every_reports_module_loads_without_flask_or_the_database() -> None:
    code = f"""
        import importlib, pkgutil, sys
        import surveyapp.reports as pkg
        for info in pkgutil.iter_modules(pkg.__path__):
            importlib.import_module("surveyapp.reports." + info.name)
        bad = [m for m in {OUTSIDE!r} if m in sys.modules]
        assert not bad, bad
        above = [m for m in sys.modules if m.split(".")[:2] in
                 [["surveyapp", layer] for layer in {LAYERS_ABOVE!r}]]
        assert not above, above
        """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_no_reports_module_names_a_layer_above_it_even_for_types() -> None:
    found = []
    for path in sorted(REPORTS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level and node.module:
                top = node.module.split(".")[0]
                if node.level == 2 and top in LAYERS_ABOVE:
                    found.append(f"{path.name}: from {'.' * node.level}{node.module}")
            elif isinstance(node, ast.ImportFrom | ast.Import):
                names = (
                    [node.module]
                    if isinstance(node, ast.ImportFrom)
                    else [alias.name for alias in node.names]
                )
                for name in names:
                    parts = (name or "").split(".")
                    if parts[0] in OUTSIDE or parts[:2] in [
                        ["surveyapp", layer] for layer in LAYERS_ABOVE
                    ]:
                        found.append(f"{path.name}: import {name}")
    assert found == []
