"""Every module, and every public function, class and method of the pure cores
(``surveyapp/questionnaire/``, ``surveyapp/estimation/``, ``surveyapp/reports/``) says what it is
for in a docstring."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("surveyapp/questionnaire", "surveyapp/estimation", "surveyapp/reports")
MODULES = sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def undocumented(tree: ast.Module) -> list[str]:
    """Names of the public definitions in ``tree`` without a docstring (methods of public
    classes included; names starting with ``_`` are private, their bodies are not visited)."""
    missing = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            if child.name.startswith("_"):
                continue
            if ast.get_docstring(child) is None:
                missing.append(f"{prefix}{child.name} (line {child.lineno})")
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")

    visit(tree, "")
    return missing


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_public_definitions_have_docstrings(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{path.relative_to(ROOT)} has no module docstring"
    assert undocumented(tree) == []


def test_the_check_sees_a_missing_docstring() -> None:
    tree = ast.parse('"""M."""\ndef f():\n    pass\nclass C:\n    """C."""\n    def m(self): ...\n')
    assert undocumented(tree) == ["f (line 2)", "C.m (line 6)"]
