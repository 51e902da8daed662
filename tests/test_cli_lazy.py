"""The light ``surveyapp`` command group: ``--help`` without the web application, commands
found by name, and a lazy table that lists every command the built app registers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from surveyapp.cli import LAZY_COMMANDS, cli

ROOT = Path(__file__).resolve().parent.parent
HEAVY = (
    "flask_sqlalchemy",
    "sqlalchemy",
    "alembic",
    "flask_migrate",
    "reportlab",
    "scipy",
    "pandas",
)

# Commands that run without the database (everything else must build the app when it runs).
NO_APP = {
    ("questionnaire", "validate"),
    ("index", "definition", "check"),
    ("estimate",),  # --data needs no app; --survey builds it itself
}


def _run(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env={"PATH": "/usr/bin:/bin", "SURVEYAPP_INSTANCE_PATH": "/nonexistent/instance"},
    )


def test_help_lists_every_command_without_building_the_app():
    code = (
        "import sys, json\n"
        "from surveyapp.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(json.dumps({'code': code, 'heavy': heavy, "
        "'app': 'surveyapp.web' in sys.modules}), file=sys.stderr)\n"
    )
    result = _run(code, "--help")
    report = json.loads(result.stderr.strip().splitlines()[-1])
    assert report == {"code": 0, "heavy": [], "app": False}, result.stderr
    listed = {
        line.split()[0]
        for line in result.stdout.split("Commands:")[1].splitlines()
        if line.startswith("  ")
    }
    assert listed == set(LAZY_COMMANDS) | {"run", "shell", "routes"}
    assert "Perform database migrations." in result.stdout  # db's help, alembic not imported


def test_importing_the_cli_module_imports_nothing_heavy():
    result = _run(
        f"import sys\nimport surveyapp.cli\nprint([m for m in {HEAVY!r} if m in sys.modules])"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_subcommand_help_and_estimate_data_build_no_app(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("y,w\n1,1\n0,2\n1,1\n", encoding="utf-8")
    code = (
        "import sys\n"
        "from surveyapp.cli import main\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    print('WEB' if 'surveyapp.web' in sys.modules else 'NOWEB', "
        f"[m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr)\n"
    )
    surveys = _run(code, "surveys", "--help")
    assert surveys.returncode == 0 and "list" in surveys.stdout
    assert surveys.stderr.strip().endswith("NOWEB []")
    estimate = _run(code, "estimate", "--data", str(data), "--var", "y", "--weight", "w")
    assert estimate.returncode == 0, estimate.stderr
    assert "NOWEB" in estimate.stderr and "0.5" in estimate.stdout


def test_the_lazy_table_matches_what_the_app_registers(app):
    """Every command the built app has is in the table, as the same object (a guard for
    commands added to ``register_commands`` but not to ``LAZY_COMMANDS``)."""
    ctx = click.Context(cli)
    registered = {name: command for name, command in app.cli.commands.items()}
    for name, command in registered.items():
        if name in ("run", "shell", "routes"):
            continue
        assert name in LAZY_COMMANDS, f"'{name}' is registered by the app but not in LAZY_COMMANDS"
        assert cli.get_command(ctx, name) is command, name
    for name in LAZY_COMMANDS:
        assert name in registered, f"'{name}' is in LAZY_COMMANDS but the app does not have it"


def _leaves(command: click.Command, path: tuple[str, ...]):
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _leaves(sub, (*path, name))
    else:
        yield path, command


def test_every_command_that_needs_the_database_builds_the_app():
    """Through the lazy group nothing pushes an app context for a command: each one that
    reads the database must say so with @with_appcontext (Flask's own `flask` group would
    hide a missing one)."""
    ctx = click.Context(cli)
    wrapped = with_appcontext(lambda: None).__code__
    missing = []
    for name in LAZY_COMMANDS:
        if name == "db":  # Flask-Migrate's commands all use with_appcontext
            continue
        for path, command in _leaves(cli.get_command(ctx, name), (name,)):
            needs = path not in NO_APP
            has = command.callback is not None and command.callback.__code__ is wrapped
            if needs and not has:
                missing.append(" ".join(path))
    assert not missing, f"commands without @with_appcontext: {missing}"


def test_flask_commands_still_work_through_the_lazy_group(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "SURVEYAPP_INSTANCE_PATH": str(tmp_path / "instance"),
        "SURVEYAPP_DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
    }
    main = "from surveyapp.cli import main; main()"
    upgrade = subprocess.run(
        [sys.executable, "-c", main, "db", "upgrade"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    routes = subprocess.run(
        [sys.executable, "-c", main, "routes"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert routes.returncode == 0, routes.stderr
    assert "/login" in routes.stdout
    listed = subprocess.run(
        [sys.executable, "-c", main, "surveys", "list", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []


def test_building_the_app_imports_neither_scipy_nor_reportlab(tmp_path):
    """Commands that build the app (``surveys list``) pay for the PDF builders and scipy only
    when they use them (gunicorn.conf.py imports them once in a server's master)."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\nfrom surveyapp import create_app\ncreate_app()\n"
            "print([m for m in ('scipy', 'reportlab', 'pandas') if m in sys.modules])",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env={"PATH": "/usr/bin:/bin", "SURVEYAPP_INSTANCE_PATH": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
