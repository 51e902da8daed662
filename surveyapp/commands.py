"""The table of the project's commands, and their registration on the app.

Command modules are found by name in ``LAZY_COMMANDS`` (name -> module, attribute, help) and
imported only when a command is run or registered, so that ``surveyapp --help`` and short
commands start fast (see :mod:`surveyapp.cli`). The app factory (:func:`surveyapp.app.create_app`)
attaches every command to ``app.cli`` with :func:`register_commands`; the console script's group
(:mod:`surveyapp.cli`) looks commands up here. This module imports neither of them: the modules
read top-down (console script -> app factory -> this table -> command modules, by name).

To add a command: define it in your own module and add one line to ``LAZY_COMMANDS``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import click

from .cli_text import CliError, translated
from .errors import UserError

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["LAZY_COMMANDS", "answer_user_errors", "lazy_command", "register_commands"]


# Every top-level command of ``surveyapp``: name -> (module, attribute, one-line help shown by
# ``surveyapp --help`` without importing the module). Flask's own ``run``, ``shell`` and
# ``routes`` are added by FlaskGroup; ``db`` is Flask-Migrate's (it imports alembic).
LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "assessment": ("surveyapp.assessment_commands", "assessment", ""),
    "assignments": ("surveyapp.assignment_commands", "assignments_group", ""),
    "backup": ("surveyapp.cli", "backup", ""),
    "cati": ("surveyapp.cli", "cati_group", ""),
    "db": ("flask_migrate.cli", "db", "Perform database migrations."),
    "demo": ("surveyapp.cli", "demo", ""),
    "estimate": ("surveyapp.estimate_command", "estimate", ""),
    "export": ("surveyapp.report_commands", "export", ""),
    "factors": ("surveyapp.assessment_commands", "factors", ""),
    "index": ("surveyapp.index_commands", "index_group", ""),
    "localities": ("surveyapp.cli", "localities_group", ""),
    "questionnaire": ("surveyapp.cli", "questionnaire_group", ""),
    "report": ("surveyapp.report_commands", "report", ""),
    "restore": ("surveyapp.cli", "restore", ""),
    "surveys": ("surveyapp.survey_commands", "surveys_group", ""),
    "users": ("surveyapp.cli", "users_group", ""),
    "waves": ("surveyapp.survey_commands", "waves_group", ""),
}


def lazy_command(name: str) -> click.Command | None:
    """The command ``name`` of the table, its module imported now (None when not in the table).

    A module of the project that defines groups other modules add subcommands to has an
    ``attach_subcommands()`` function; it is called once the module is imported.
    """
    entry = LAZY_COMMANDS.get(name)
    if entry is None:
        return None
    module_name, attribute, _help = entry
    module = importlib.import_module(module_name)
    command: click.Command = getattr(module, attribute)
    attach = getattr(module, "attach_subcommands", None)
    if module_name.startswith("surveyapp.") and attach is not None:
        attach()
    if module_name.startswith("surveyapp."):
        answer_user_errors(command)
    return command


def answer_user_errors(command: click.Command) -> click.Command:
    """Make ``command`` (and every subcommand of a group) answer a :class:`UserError` as
    ``错误：<message>`` (``Error: <message>``, in the command line's language, see
    :mod:`surveyapp.cli_text`) on standard error with exit status 1, instead of a traceback:
    the command line's one handler of the errors that are the user's to fix. Idempotent."""
    if getattr(command, "_answers_user_errors", False):
        return command
    invoke = command.invoke

    def guarded(ctx: click.Context) -> Any:
        try:
            return invoke(ctx)
        except UserError as exc:
            raise CliError(translated(exc)) from exc

    command.invoke = guarded  # type: ignore[method-assign]
    command._answers_user_errors = True  # type: ignore[attr-defined]
    return command


def register_commands(app: Flask) -> None:
    """Attach the project's commands to the app's CLI (``flask`` and ``surveyapp`` alike).

    A new top-level command goes into ``LAZY_COMMANDS`` above (name -> module, attribute);
    subcommands of the groups of :mod:`surveyapp.cli` go into its ``attach_subcommands``.
    """
    for name, (module, _attribute, _help) in LAZY_COMMANDS.items():
        if module.startswith("surveyapp."):
            command = lazy_command(name)
            assert command is not None
            app.cli.add_command(command, name)
