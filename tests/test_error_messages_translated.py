"""Every message of a domain error reaches Babel: a ``UserError`` raised with a literal message
outside the pure cores marks it for translation where it is raised, with ``_()``/``_l()`` (in a
request) or ``Text(N_(...), **params)`` (rendered where it is shown: the web and command-line
handlers call ``UserError.translated()``), so a manager reads Chinese.

The pure cores (``questionnaire/``, ``estimation/``, ``reports/``) word their errors without
Flask and are not checked here. ``NOT_YET`` lists the modules whose English messages are still
to be marked; the test fails when one of them is done (take it off the list) and when any other
module raises an unmarked message.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "surveyapp"
PURE = ("questionnaire", "estimation", "reports")
MARKERS = {"_", "_l", "gettext", "lazy_gettext", "Text", "N_"}

#: Modules still raising English messages (none left since 3 Dec 2026; a new one is a regression).
NOT_YET: set[str] = set()


def _user_error_classes(trees: dict[Path, ast.Module]) -> set[str]:
    names = {"UserError"}
    grew = True
    while grew:
        grew = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names:
                    bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
                    if bases & names:
                        names.add(node.name)
                        grew = True
    return names


def _literal(node: ast.expr) -> bool:
    """Whether ``node`` is English written at the raise (a string, an f-string, a sum of them)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(node.value.strip())
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _literal(node.left) or _literal(node.right)
    return False


def unmarked_raises(trees: dict[Path, ast.Module]) -> dict[str, list[int]]:
    """Lines of ``raise SomeUserError("literal ...")`` per module (relative to the package)."""
    classes = _user_error_classes(trees)
    found: dict[str, list[int]] = {}
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            func = node.exc.func
            name = getattr(func, "id", getattr(func, "attr", ""))
            if name in classes and node.exc.args and _literal(node.exc.args[0]):
                found.setdefault(str(path.relative_to(PACKAGE)), []).append(node.lineno)
    return found


def _trees() -> dict[Path, ast.Module]:
    return {
        path: ast.parse(path.read_text(encoding="utf-8"))
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).parts[0] not in PURE
    }


def test_the_check_finds_unmarked_messages() -> None:
    tree = ast.parse(
        "class E(UserError): pass\n"
        "raise E(f'no wave {code}')\n"
        "raise E('a' + x)\n"
        "raise E(Text(N_('no wave %(code)s'), code=code))\n"
        "raise E(_('no wave'))\n"
        "raise E(str(exc))\n"
    )
    assert unmarked_raises({PACKAGE / "x.py": tree}) == {"x.py": [2, 3]}


def test_user_errors_are_raised_with_marked_messages() -> None:
    found = unmarked_raises(_trees())
    unexpected = {module: lines for module, lines in found.items() if module not in NOT_YET}
    assert not unexpected, f"mark these messages for translation: {unexpected}"
    done = sorted(NOT_YET - set(found))
    assert not done, f"no unmarked message left in {done}: take them off NOT_YET"
