"""Every message of the survey and wave services has its Chinese translation."""

from __future__ import annotations

import ast
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2] / "surveyapp"
MODULES = ("services/waves.py", "services/surveys.py", "services/survey_settings.py")
RAISERS = {"SurveyOperationError", "_bad", "_refuse"}


def _text(arg: ast.expr) -> str | None:
    """The msgid an argument holds: a string, or a string marked ``N_("...")``."""
    if isinstance(arg, ast.Call) and getattr(arg.func, "id", "") == "N_" and arg.args:
        arg = arg.args[0]
    return arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None


def _templates() -> set[str]:
    found: set[str] = set()
    for name in MODULES:
        tree = ast.parse((ROOT / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                callee = getattr(node.func, "id", getattr(node.func, "attr", ""))
                texts = [t for t in map(_text, node.args) if t is not None]
                if callee in RAISERS and texts:
                    found.add(texts[-1 if callee == "_refuse" else 0])
            if (
                isinstance(node, ast.Assign)
                and getattr(node.targets[0], "id", "") == "_DATE_MESSAGES"
            ):
                for pair in node.value.values:
                    found.update(e.value for e in pair.elts)
    return found


def test_every_service_message_is_translated():
    path = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        catalog = {m.id: m.string for m in read_po(fh) if m.id}
    templates = _templates()
    assert len(templates) > 40
    missing = sorted(t for t in templates if not catalog.get(t))
    assert missing == []
