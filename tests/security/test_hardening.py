"""Hardening: password policy, session cookies, upload size limit, no secrets in the
repository, and SQL only through the ORM or bound parameters."""

from __future__ import annotations

import ast
import re
import subprocess

import pytest

from surveyapp import create_app
from surveyapp.services.users import COMMON_PASSWORDS, AccountError, create_user, password_problem

from ..conftest import ROOT, _config

# --- password policy ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "username", "message"),
    [
        ("short7!", "li", "at least 8 characters"),
        ("x" * 257, "li", "at most 256 characters"),
        ("zhangwei", "zhangwei", "must not be the user name"),
        ("ZhangWei", "zhangwei", "must not be the user name"),
        ("iewgnahz", "zhangwei", "must not be the user name"),  # reversed
        ("zhangwei2026", "zhangwei", "must not be the user name"),
        ("2026zhangwei", "zhangwei", "must not be the user name"),
        ("password123", "li", "most commonly used"),
        ("Password123", "li", "most commonly used"),
        ("woaini1314", "li", "most commonly used"),
        ("12345678", "li", "most commonly used"),
        ("qwertyuiop", "li", "most commonly used"),
        ("zzzzzzzzzz", "li", "one repeated character"),
    ],
)
def test_password_policy_refuses(password, username, message):
    problem = password_problem(password, username)
    assert problem is not None and message in problem


@pytest.mark.parametrize(
    ("password", "username"),
    [
        ("long-enough-1", "wang"),
        ("zhangwei-likes-tea", "zhangwei"),  # contains the name but is not the name
        ("汉字密码也可以用", "li"),  # 8 characters, not bytes
        ("correct horse battery staple", "li"),
    ],
)
def test_password_policy_accepts(password, username):
    assert password_problem(password, username) is None


def test_common_list_is_lower_case_and_long_enough():
    # Entries shorter than the minimum length could never match; upper case never would.
    assert all(p == p.lower() and len(p) >= 8 for p in COMMON_PASSWORDS)


def test_create_user_applies_the_policy(app, ctx):
    with pytest.raises(AccountError, match="must not be the user name"):
        create_user("chenming", "manager", "chenming1")
    with pytest.raises(AccountError, match="most commonly used"):
        create_user("chenming", "manager", "1q2w3e4r5t")
    assert create_user("chenming", "manager", "chen-ming-2026").username == "chenming"


def test_cli_reports_the_policy(runner):
    result = runner.invoke(
        args=["users", "create", "wangfang", "--role", "manager", "--password", "wangfang"]
    )
    assert result.exit_code != 0
    assert "密码不得是用户名" in result.output


# --- session cookies -----------------------------------------------------------------------


def _login_cookie(app) -> str:
    client = app.test_client()
    response = client.post("/auth/login", data={"username": "admin", "password": "admin-demo-2026"})
    assert response.status_code == 302
    return "; ".join(v for k, v in response.headers.items() if k == "Set-Cookie")


@pytest.mark.parametrize("secure", [False, True])
def test_session_cookie_flags(demo_database, migrated_database, tmp_path, monkeypatch, secure):
    from ..conftest import PG_URL

    if PG_URL:
        pytest.skip("cookie flags do not depend on the database")
    monkeypatch.setenv("SURVEYAPP_INSTANCE_PATH", str(tmp_path / "instance"))
    if secure:
        monkeypatch.setenv("SURVEYAPP_SECURE_COOKIES", "true")
    else:
        monkeypatch.delenv("SURVEYAPP_SECURE_COOKIES", raising=False)
    import shutil

    db_file = tmp_path / "c.sqlite"
    shutil.copy(demo_database, db_file)
    app = create_app(_config(f"sqlite:///{db_file}"))
    cookie = _login_cookie(app)
    assert re.search(r"session=[^;]+", cookie)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert ("Secure" in cookie) is secure
    assert app.config["REMEMBER_COOKIE_SECURE"] is secure


# --- upload size --------------------------------------------------------------------------


def test_too_large_form_gets_a_clear_413_page(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    response = client.post("/auth/login", data={"username": "x", "password": "y" * 3_000_000})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "2.0 MB" in page and "Traceback" not in page


def test_too_large_api_body_gets_413_json_and_stores_nothing(app, client, runner, demo):
    from sqlalchemy import func, select

    from surveyapp.extensions import db
    from surveyapp.models import Response

    token = runner.invoke(args=["users", "token", "enumerator"]).stdout.splitlines()[0]
    with app.app_context():
        before = db.session.scalar(select(func.count(Response.id)))
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    body = b'{"submissions": [' + b",".join([b'{"uuid": "x"}'] * 100_000) + b"]}"
    response = client.post(
        "/api/v1/submissions",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 413
    payload = response.get_json()
    assert payload["max_bytes"] == 1024 * 1024 and "1.0 MB" in payload["message"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == before


def test_default_upload_limit_is_set(tmp_path, monkeypatch):
    from surveyapp import config

    monkeypatch.delenv("SURVEYAPP_MAX_CONTENT_LENGTH", raising=False)
    limit = config.from_environment(str(tmp_path))["MAX_CONTENT_LENGTH"]
    assert 0 < limit <= 64 * 1024 * 1024


# --- no secrets in the repository ---------------------------------------------------------

SECRET_PATTERNS = [
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (re.compile(r"AKIA[0-9A-Z]{16}"), "an AWS access key"),
    (re.compile(r"\bsa_[A-Za-z0-9_-]{40,}"), "a surveyapp API token"),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}"), "a GitHub token"),
    (
        re.compile(
            r"postgres(?:ql)?(?:\+\w+)?://[^:/\s'\"]+:(?!pass@|password@|secret@|\.\.\.)"
            r"[^@\s'\"]{6,}@(?!localhost|127\.0\.0\.1|/)"
        ),
        "a database password",
    ),
    (
        re.compile(r"""SECRET_KEY["']?\s*[:=]\s*["'][A-Za-z0-9+/=_-]{16,}["']"""),
        "a hard-coded secret key",
    ),
]


def _tracked_files() -> list[str]:
    try:
        out = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return out.splitlines()


def test_no_secret_in_the_repository():
    found = []
    for name in _tracked_files():
        if name.startswith("tests/security/test_hardening.py"):
            continue  # the patterns themselves
        path = ROOT / name
        if not path.is_file() or path.stat().st_size > 5_000_000:
            continue
        data = path.read_bytes()
        if b"\0" in data[:8000]:
            continue  # binary (fonts, images)
        content = data.decode("utf-8", errors="replace")
        for pattern, what in SECRET_PATTERNS:
            for match in pattern.finditer(content):
                line = content.count("\n", 0, match.start()) + 1
                found.append(f"{name}:{line}: {what}")
    assert not found, "secrets in tracked files:\n" + "\n".join(found)
    tracked = set(_tracked_files())
    assert not any(n.startswith("instance/") for n in tracked), "instance/ must not be tracked"


def test_gitignore_keeps_instance_out():
    ignore = (ROOT / ".gitignore").read_text()
    assert re.search(r"^/?instance/?$", ignore, re.M)


# --- SQL only through the ORM or bound parameters -----------------------------------------

_SQL_CALLS = {"execute", "exec_driver_sql", "text", "executescript", "executemany"}


def _string_built(node: ast.AST) -> bool:
    """A JoinedStr (f-string), '...' % x, '...' + x or '...'.format(...)."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
    )


def _sql_texts(module: ast.Module) -> set[str]:
    """Local names bound to sqlalchemy's text() in this module."""
    names = set()
    for node in ast.walk(module):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            names |= {a.asname or a.name for a in node.names if a.name == "text"}
    return names


def test_no_string_built_sql():
    offenders = []
    files = [
        *(ROOT / "surveyapp").rglob("*.py"),
        *(ROOT / "migrations").rglob("*.py"),
        *(ROOT / "scripts").rglob("*.py"),
    ]
    for path in files:
        module = ast.parse(path.read_text(encoding="utf-8"))
        text_names = _sql_texts(module)
        for node in ast.walk(module):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name not in _SQL_CALLS:
                continue
            if name == "text" and isinstance(func, ast.Name) and name not in text_names:
                continue  # another function called text (e.g. the PDF markup helper)
            if _string_built(node.args[0]):
                offenders.append(
                    f"{path.relative_to(ROOT)}:{node.lineno}: {name}(...) of a "
                    "string built at run time"
                )
    assert not offenders, (
        "build SQL with the ORM or bound parameters (text(':name') with a "
        "parameter dict):\n" + "\n".join(offenders)
    )


# --- NUL characters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "data", "named"),
    [
        (
            "post",
            "/auth/login",
            {"username": "manager\x00", "password": "manager-demo-2026"},
            "表单字段“username”",
        ),
        (
            "post",
            "/auth/login",
            {"username\x00": "manager", "password": "x"},
            "表单字段“username\\0”",
        ),
        ("get", "/admin/audit?action=login\x00", None, "查询参数“action”"),
        ("get", "/manage/?q=%00", None, "查询参数“q”"),
    ],
)
def test_nul_character_gets_a_clear_400_and_changes_nothing(
    demo, client, auth, method, path, data, named
):
    """No text column of PostgreSQL can hold a NUL (0x00): a form field or query parameter
    holding one is refused before any view reads it, on either database."""
    from sqlalchemy import func, select

    from surveyapp.extensions import db
    from surveyapp.models import AuditEvent

    if not path.startswith("/auth/"):
        auth.login(
            "admin" if path.startswith("/admin") else "manager",
            "admin-demo-2026" if path.startswith("/admin") else "manager-demo-2026",
        )
    with demo.app_context():
        before = db.session.scalar(select(func.count(AuditEvent.id)))
    response = getattr(client, method)(path, data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "NUL" in page and "空字符" in page and "Traceback" not in page
    assert named in page  # which field (page in Chinese, the default language)
    with demo.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id))) == before
