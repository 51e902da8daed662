"""Views parse, call a service and render: the views moved off SQL run no query of their own
(``db.session.get`` by id aside); the queries are service functions, shared and tested there."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "surveyapp" / "web"
THIN = ("officials.py", "cati.py", "collect.py", "review.py")


@pytest.mark.parametrize("name", THIN)
def test_the_view_module_imports_no_query_builder(name: str) -> None:
    tree = ast.parse((WEB / name).read_text(encoding="utf-8"))
    found = [
        f"line {node.lineno}: from {node.module} import ..."
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy"
    ]
    assert found == [], f"{name} builds queries: move them into a service function"
