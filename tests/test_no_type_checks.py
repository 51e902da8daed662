"""A question type is one object of the registry (``questionnaire/types.py``): no other module,
template or script asks "is this a yes/no question?" by comparing a type's name.

The scan looks for comparisons (``==``, ``!=``, ``in``, ``not in``; ``===``/``!==`` in
JavaScript) between something that holds a question type (``q.type``, ``question["type"]``,
``question.get("type")``, ``qtype``, ``kind``, ``kind.name``) and a registered type's name. Code
asks the type instead: ``q.kind.multiple``, ``q.kind.listed``, ``q.kind.builtin_labels``,
``q.kind.whole_numbers``, ``q.kind.input``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from surveyapp.questionnaire.types import KINDS

PACKAGE = Path(__file__).resolve().parents[1] / "surveyapp"
REGISTRY = PACKAGE / "questionnaire" / "types.py"
NAMES = frozenset(KINDS)
_TYPE_NAME = re.compile(r"(^|_)(q|question|our|pyxform)?_?(type|kind)$")


def _names_a_type(node: ast.expr) -> bool:
    """Whether ``node`` is where code keeps a question type's name."""
    if isinstance(node, ast.Name):
        return bool(_TYPE_NAME.search(node.id)) or node.id in ("qtype", "type_name")
    if isinstance(node, ast.Attribute):
        if node.attr == "type":
            return True
        return node.attr == "name" and _names_a_type(node.value)
    if isinstance(node, ast.Subscript):
        key = node.slice
        return isinstance(key, ast.Constant) and key.value == "type"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        args = node.args
        return (
            node.func.attr == "get"
            and bool(args)
            and isinstance(args[0], ast.Constant)
            and args[0].value == "type"
        )
    return False


def _type_names(node: ast.expr) -> set[str]:
    """The registered type names a literal (a string or a tuple, list or set of them) holds."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value} & NAMES
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return {
            e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
        } & NAMES
    return set()


def python_type_checks(source: str) -> list[tuple[int, str]]:
    """Return ``(line, code)`` of every comparison of a question type with a type name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for left, op, right in zip(operands, node.ops, operands[1:], strict=False):
            if not isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn):
                continue
            if (_names_a_type(left) and _type_names(right)) or (
                _names_a_type(right) and _type_names(left)
            ):
                found.append((node.lineno, ast.unparse(node)))
    return found


_ALTERNATIVES = "|".join(sorted(NAMES))
_QUOTED = rf"""["'](?:{_ALTERNATIVES})["']"""
_HOLDER = r"""(?:\.type|\btype|\bkind|\[["']type["']\])"""
_JS_CHECK = re.compile(rf"{_HOLDER}\s*[!=]==?\s*{_QUOTED}|{_QUOTED}\s*[!=]==?\s*[\w.]*{_HOLDER}")
_JINJA_CHECK = re.compile(
    rf"{_HOLDER}\s*(?:==|!=|\bnot in\b|\bin\b)\s*(?:{_QUOTED}|\([^)]*{_QUOTED}[^)]*\))"
)


def text_type_checks(text: str, pattern: re.Pattern[str]) -> list[tuple[int, str]]:
    """Return ``(line, text)`` of every line of a script or template that compares a type."""
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), 1)
        if pattern.search(line)
    ]


def test_the_scan_finds_type_checks() -> None:
    """The scan itself: it finds what it is for and leaves other comparisons alone."""
    assert python_type_checks('if q.type == "yesno": pass') == [(1, "q.type == 'yesno'")]
    assert python_type_checks('x = question.get("type") in ("single", "multiple")')
    assert python_type_checks('x = "integer" != kind.name')
    assert python_type_checks('x = qtype not in ("text",)')
    assert python_type_checks('x = child["type"] == "note"')
    assert not python_type_checks('x = auth.type == "basic"')
    assert not python_type_checks('x = fmt == "text"')
    assert not python_type_checks('x = q.kind.input == "integer"')
    assert text_type_checks('if (q.type === "multiple") {', _JS_CHECK)
    assert not text_type_checks('if (el.type === "checkbox") {', _JS_CHECK)
    assert text_type_checks("{% if question.type in ('single', 'yesno') %}", _JINJA_CHECK)
    assert not text_type_checks('{% if kind == "indicators" %}', _JINJA_CHECK)


def test_no_module_compares_question_type_names() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == REGISTRY:
            continue
        for line, code in python_type_checks(path.read_text(encoding="utf-8")):
            found.append(f"{path.relative_to(PACKAGE)}:{line}: {code}")
    assert not found, "ask the registered type (questionnaire/types.py) instead:\n" + "\n".join(
        found
    )


def test_no_script_or_template_compares_question_type_names() -> None:
    found = []
    for folder, suffix, pattern in (
        (PACKAGE / "static" / "js", ".js", _JS_CHECK),
        (PACKAGE / "templates", ".html", _JINJA_CHECK),
    ):
        for path in sorted(folder.rglob(f"*{suffix}")):
            for line, text in text_type_checks(path.read_text(encoding="utf-8"), pattern):
                found.append(f"{path.relative_to(PACKAGE)}:{line}: {text}")
    assert not found, "send or ask the registered type's properties instead:\n" + "\n".join(found)
