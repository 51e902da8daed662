"""One base for the errors the user can fix, answered in one place per interface.

A ``UserError`` that no view answers becomes the error page with its status (JSON for the API
and JSON clients), never a 500; on the command line, ``错误：<message>`` and exit status 1,
never a traceback. Every domain error of the services, fieldwork and reports derives from it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import click
import pytest

from surveyapp.commands import answer_user_errors
from surveyapp.errors import UserError

ROOT = Path(__file__).resolve().parent.parent


class _Refused(UserError):
    status = 409
    code = "refused"


@pytest.fixture
def raising(app):
    @app.route("/test-user-error/<kind>")
    def refuse(kind: str):
        if kind == "plain":
            raise UserError("未知的调查 7")
        raise _Refused("这一期已关闭")

    @app.route("/api/test-user-error")
    def api_refuse():
        raise _Refused("这一期已关闭")

    return app.test_client()


def test_an_unanswered_user_error_is_its_status_with_the_message_on_the_error_page(raising):
    page = raising.get("/test-user-error/plain")
    assert page.status_code == 400
    assert "未知的调查 7" in page.get_data(as_text=True)
    assert "<html" in page.get_data(as_text=True).lower()
    refused = raising.get("/test-user-error/refused", headers={"Accept": "text/html,*/*"})
    assert refused.status_code == 409
    assert "这一期已关闭" in refused.get_data(as_text=True)


def test_the_api_and_json_clients_get_json(raising):
    for response in (
        raising.get("/api/test-user-error"),
        raising.get("/test-user-error/refused", headers={"Accept": "application/json"}),
    ):
        assert response.status_code == 409
        assert response.get_json() == {"error": 409, "code": "refused", "message": "这一期已关闭"}


def test_the_command_line_prints_the_message_and_exits_1():
    @click.group()
    def group() -> None:
        pass

    @group.command()
    def close() -> None:
        raise _Refused("这一期已关闭")

    answer_user_errors(group)
    result = click.testing.CliRunner().invoke(group, ["close"])
    assert result.exit_code == 1
    assert "错误：这一期已关闭" in result.output
    assert not isinstance(result.exception, _Refused)  # no traceback: a ClickException


def test_the_app_commands_answer_user_errors(runner):
    result = runner.invoke(args=["report", "--survey", "999999", "--all", "-o", "/tmp/x"])
    assert result.exit_code == 1
    assert "错误：" in result.output and "Traceback" not in result.output


def _exception_classes() -> list[tuple[str, str]]:
    found = []
    for area in ("services", "fieldwork", "reports"):
        for path in sorted((ROOT / "surveyapp" / area).glob("*.py")):
            for node in ast.parse(path.read_text(encoding="utf-8")).body:
                if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                    bases = {getattr(b, "id", "") for b in node.bases}
                    if bases & {"Exception", "ValueError", "RuntimeError"} or any(
                        b.endswith("Error") for b in bases
                    ):
                        found.append((f"surveyapp.{area}.{path.stem}", node.name))
    return found


def test_every_domain_error_is_a_user_error():
    import importlib

    classes = _exception_classes()
    assert len(classes) > 20
    for module, name in classes:
        cls = getattr(importlib.import_module(module), name)
        assert issubclass(cls, UserError), f"{module}.{name} does not derive from UserError"


def test_a_text_is_english_until_shown_and_translated_with_its_words(app):
    """A service raises a Text (no Flask needed); it is worded in the interface language where
    it is shown, a parameter that is a Text (a word of the message) with it."""
    from surveyapp.errors import N_, Text

    message = Text(
        N_("there is no %(kind)s '%(item_id)s'"), kind=Text(N_("indicator")), item_id="safe"
    )
    error = UserError(message)
    assert str(message) == error.message == "there is no indicator 'safe'"
    with app.test_request_context():
        assert error.translated() == "没有指标“safe”"
