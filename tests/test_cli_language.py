"""The command line speaks Chinese by default (as the web), English with SURVEYAPP_LANGUAGE=en:
problems, summaries and success lines go through Babel with their file, row and question
intact; and no command module echoes an English sentence written in its code."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from surveyapp.cli import cli

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "surveyapp"
STANDARD = ROOT / "questionnaires" / "public-security-satisfaction.yaml"
#: The modules of the commands (what they print is the operator's interface).
COMMAND_MODULES = sorted(
    [PACKAGE / "cli.py", PACKAGE / "commands.py", *PACKAGE.glob("*_command*.py")]
)
#: Modules whose English lines are still to be put through Babel (none left; a new one is a
#: regression).
NOT_YET: set[str] = set()


def _broken_questionnaire(tmp_path: Path) -> tuple[Path, int, int]:
    lines = STANDARD.read_text(encoding="utf-8").splitlines()
    dup = next(i for i, line in enumerate(lines) if line.strip() == "- id: sex")
    lines[dup] = lines[dup].replace("sex", "age_group")
    second = next(
        i for i, line in enumerate(lines) if i > dup and line.strip() == "- id: age_group"
    )
    bad = tmp_path / "坏的.yaml"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return bad, dup + 1, second + 1


def _validate(*files: Path, language: str | None = None):
    env = {"SURVEYAPP_LANGUAGE": language}
    return CliRunner().invoke(cli, ["questionnaire", "validate", *map(str, files)], env=env)


def test_validate_prints_problems_and_summary_in_chinese_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv("SURVEYAPP_LANGUAGE", raising=False)
    bad, first, second = _broken_questionnaire(tmp_path)
    result = _validate(STANDARD, bad)
    assert result.exit_code == 1
    assert f"{STANDARD}：没有问题" in result.output
    assert (
        f"{bad}:{second}: groups[8].questions[1].id: "
        f"题目编号“age_group”重复（首次出现在第 {first} 行）" in result.output
    )


def test_validate_speaks_english_when_asked(tmp_path):
    bad, first, second = _broken_questionnaire(tmp_path)
    result = _validate(STANDARD, bad, language="en")
    assert result.exit_code == 1
    assert f"{STANDARD}: OK" in result.output
    assert (
        f"{bad}:{second}: groups[8].questions[1].id: duplicate question id 'age_group' "
        f"(first on line {first})" in result.output
    )


def test_an_unknown_language_setting_is_named_and_chinese_is_used():
    result = _validate(STANDARD, language="fr")
    assert result.exit_code == 0
    assert "SURVEYAPP_LANGUAGE=fr" in result.stderr
    assert f"{STANDARD}：没有问题" in result.stdout


def test_the_real_command_validates_in_chinese_without_the_web_app(tmp_path):
    bad, _first, second = _broken_questionnaire(tmp_path)
    code = (
        "import sys\nfrom surveyapp.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n"
        "    print('app' if 'surveyapp.web' in sys.modules else 'no app', file=sys.stderr)\n"
        "    raise\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "SURVEYAPP_LANGUAGE"}
    env["LANG"] = "en_US.UTF-8"  # the shell's locale does not choose the operator's language
    result = subprocess.run(
        [sys.executable, "-c", code, "questionnaire", "validate", str(bad)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert result.returncode == 1
    assert f"{bad}:{second}: groups[8]" in result.stdout and "重复" in result.stdout
    assert result.stderr.strip().endswith("no app")


def test_a_success_line_and_a_refusal_in_chinese_and_in_english(runner, monkeypatch):
    monkeypatch.delenv("SURVEYAPP_LANGUAGE", raising=False)
    args = ["users", "create", "wang", "--role", "manager", "--password", "long-enough-1"]
    created = runner.invoke(args=args)
    assert created.exit_code == 0, created.output
    assert "已创建调查主管“wang”（编号 " in created.output
    again = runner.invoke(args=args)
    assert again.exit_code == 1 and again.output.startswith("错误：")
    monkeypatch.setenv("SURVEYAPP_LANGUAGE", "en")
    created = runner.invoke(
        args=["users", "create", "li", "--role", "clerk", "--password", "long-enough-1"]
    )
    assert created.exit_code == 0, created.output
    assert "Created clerk 'li' (id " in created.output
    again = runner.invoke(args=args)
    assert again.exit_code == 1 and again.output.startswith("Error: ")
    assert "wang" in again.output and "已" not in again.output


# --- the static check ------------------------------------------------------------------------

ECHOES = {"echo", "secho"}
REFUSALS = {"ClickException", "UsageError", "BadParameter", "EstimateFailure", "CliError"}


def _english(node: ast.expr) -> bool:
    """Whether ``node`` is a sentence written in the code: a string or f-string with words."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and re.search(r"[A-Za-z]{2,}", node.value) is not None
    if isinstance(node, ast.JoinedStr):
        return any(_english(part) for part in node.values if isinstance(part, ast.Constant))
    if isinstance(node, ast.BinOp):
        return _english(node.left) or _english(node.right)
    if isinstance(node, ast.IfExp):
        return _english(node.body) or _english(node.orelse)
    return False


def english_lines(tree: ast.Module) -> list[int]:
    """Lines of ``click.echo("English …")`` and ``raise click.ClickException("English …")``."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        if name in ECHOES | REFUSALS and _english(node.args[0]):
            found.append(node.lineno)
    return found


def test_the_check_finds_english_sentences():
    tree = ast.parse(
        "click.echo(f'{n} created.')\n"
        "click.echo(f'{a:>5} {b}')\n"
        "raise click.ClickException('no such wave')\n"
        "say(N_('%(n)s created.'), n=n)\n"
        "click.echo(token)\n"
        "click.echo('stored' if ok else 'already stored')\n"
    )
    assert english_lines(tree) == [1, 3, 6]


def test_no_command_echoes_an_english_sentence():
    found = {
        str(path.relative_to(PACKAGE)): lines
        for path in COMMAND_MODULES
        if (lines := english_lines(ast.parse(path.read_text(encoding="utf-8"))))
    }
    unexpected = {module: lines for module, lines in found.items() if module not in NOT_YET}
    assert not unexpected, f"put these lines through Babel (surveyapp.cli_text): {unexpected}"
    done = sorted(NOT_YET - set(found))
    assert not done, f"no English line left in {done}: take them off NOT_YET"


def test_survey_commands_name_their_option_in_chinese(runner, monkeypatch):
    monkeypatch.delenv("SURVEYAPP_LANGUAGE", raising=False)
    result = runner.invoke(args=["waves", "open", "--survey", "99", "--code", "2027-Q1"])
    assert result.exit_code == 1
    assert result.output == "错误：--survey：没有编号为 99 的调查\n"
    monkeypatch.setenv("SURVEYAPP_LANGUAGE", "en")
    result = runner.invoke(args=["waves", "open", "--survey", "99", "--code", "2027-Q1"])
    assert result.output == (
        "Error: --survey: there is no survey 99 (surveyapp surveys list shows them)\n"
    )


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (None, "错误：使用 --data 时必须给出 --var"),
        ("en", "Error: --var is required with --data"),
    ],
)
def test_estimate_from_a_file_refuses_in_the_language_without_the_app(tmp_path, language, expected):
    data = tmp_path / "d.csv"
    data.write_text("y,w\n1,1\n0,2\n", encoding="utf-8")
    code = (
        "import sys\nfrom surveyapp.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n"
        "    heavy = ('surveyapp.web', 'flask_babel', 'sqlalchemy')\n"
        "    print([m for m in heavy if m in sys.modules], file=sys.stderr)\n"
        "    raise\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "SURVEYAPP_LANGUAGE"}
    if language:
        env["SURVEYAPP_LANGUAGE"] = language
    result = subprocess.run(
        [sys.executable, "-c", code, "estimate", "--data", str(data)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [expected, "[]"]  # no web app, Babel read directly


@pytest.mark.parametrize(
    ("required", "language", "expected"),
    [
        ("en", None, "zh.xlsx:1: languages: 表单没有英语（en）标签"),
        ("en", "en", "zh.xlsx:1: languages: the form has no English (en) labels"),
        ("ug", None, "维吾尔语（ug）必须是问卷语言之一"),
        ("ug", "en", "Uyghur (ug) must be one of the languages"),
    ],
)
def test_language_names_inside_messages_are_in_the_message_s_language(
    tmp_path, monkeypatch, required, language, expected
):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "survey"
    book.active.append(["type", "name", "label::简体中文 (zh)"])
    book.active.append(["integer", "age", "年龄"])
    form = tmp_path / "zh.xlsx"
    book.save(form)
    monkeypatch.setenv("SURVEYAPP_PUBLISH_LANGUAGES", f"zh_CN,{required}")
    # a Chinese-only XLSForm lacks English; the standard questionnaire (zh_CN, en) lacks Uyghur
    result = _validate(form if required == "en" else STANDARD, language=language)
    assert result.exit_code == 1
    assert expected in result.output
