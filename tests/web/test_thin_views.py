"""Views parse, call a service and render: no module of ``surveyapp/web/`` builds a query or
holds the session. The queries are service functions, shared and tested there; a view reads
one record by its id and drops a refused operation's changes through
``surveyapp.services.records``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "surveyapp" / "web"
MODULES = sorted(path.name for path in WEB.glob("*.py"))


def database_use(source: str) -> list[str]:
    """Where a module uses the database directly: sqlalchemy imported, the ``db`` extension
    imported, or a model's ``.query``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.split(".")[0] == "sqlalchemy":
                found.append(f"line {node.lineno}: from {module} import ...")
            if module.endswith("extensions") and any(a.name == "db" for a in node.names):
                found.append(f"line {node.lineno}: imports db")
        elif isinstance(node, ast.Import):
            found += [
                f"line {node.lineno}: import {a.name}"
                for a in node.names
                if a.name.split(".")[0] == "sqlalchemy"
            ]
        elif isinstance(node, ast.Attribute) and node.attr in ("query", "session"):
            if isinstance(node.value, ast.Name) and (
                node.value.id == "db" or node.value.id[:1].isupper()
            ):
                found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_the_check_finds_database_use() -> None:
    assert database_use("from sqlalchemy import select")
    assert database_use("import sqlalchemy.exc")
    assert database_use("from ..extensions import csrf, db")
    assert database_use("x = User.query.all()")
    assert database_use("db.session.commit()")
    assert not database_use("from ..services import records\nrecords.get(User, 1)")


def test_every_web_module_is_checked() -> None:
    assert {"officials.py", "cati.py", "collect.py", "review.py", "manage.py"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_the_view_module_uses_no_database_directly(name: str) -> None:
    found = database_use((WEB / name).read_text(encoding="utf-8"))
    assert found == [], f"{name} uses the database: move it into a service function"
