"""Configuration: defaults, overridden by ``SURVEYAPP_*`` environment variables."""

from __future__ import annotations

import os
import re
import secrets
from datetime import timedelta
from pathlib import Path


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"SURVEYAPP_{name}", default)


def _env_languages(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """Language codes separated by commas or spaces (``zh_CN,en``)."""
    value = _env(name)
    if value is None or not value.strip():
        return default
    codes = tuple(dict.fromkeys(value.replace(",", " ").split()))
    for code in codes:
        if not _LANGUAGE_CODE_RE.match(code):
            raise ValueError(
                f"SURVEYAPP_{name} must list language codes like zh_CN,en,ug; {code!r} is not one"
            )
    return codes


def publish_languages_setting() -> tuple[str, ...]:
    """``SURVEYAPP_PUBLISH_LANGUAGES``: the languages publishing requires (zh_CN by default)."""
    return _env_languages("PUBLISH_LANGUAGES", ("zh_CN",))


_LANGUAGE_CODE_RE = re.compile(r"[a-z]{2,3}(?:_[A-Z][a-z]{3})?(?:_[A-Z]{2})?\Z")


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_seconds(name: str, default: float) -> float:
    value = _env(name)
    if value is None or not value.strip():
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise ValueError(f"SURVEYAPP_{name} must be a number of seconds (0 or more), not {value!r}")
    return seconds


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _env_duration(name: str, default: float) -> float:
    """A positive duration: seconds, or a number with a unit (``90m``, ``12h``, ``1d``)."""
    value = _env(name)
    if value is None or not value.strip():
        return default
    text = value.strip().lower()
    unit = _DURATION_UNITS.get(text[-1:], None)
    number = text[:-1] if unit else text
    try:
        seconds = float(number) * (unit or 1)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise ValueError(
            f"SURVEYAPP_{name} must be a duration above 0: seconds, or a number followed by "
            f"s, m, h or d (e.g. 12h), not {value!r}"
        )
    return seconds


def from_environment(instance_path: str) -> dict:
    """Return the configuration read from the environment, with defaults for local use."""
    database_url = _env("DATABASE_URL") or "sqlite:///" + str(
        Path(instance_path) / "surveyapp.sqlite"
    )
    secret = _env("SECRET_KEY")
    if not secret:
        secret_file = Path(instance_path) / "secret_key"
        if secret_file.exists():
            secret = secret_file.read_text().strip()
        else:
            # A per-instance random key keeps sessions valid across restarts without ever
            # putting a key in the repository.
            secret = secrets.token_hex(32)
            Path(instance_path).mkdir(parents=True, exist_ok=True)
            secret_file.write_text(secret)
            secret_file.chmod(0o600)
    session_lifetime = _env_duration("SESSION_LIFETIME", 12 * 3600.0)
    return {
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Engine options; how a dropped database connection is noticed (pool_pre_ping or a
        # check without a round trip) is chosen by the driver in surveyapp/database.py.
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": _env("TIMEZONE", "Asia/Shanghai"),
        "LANGUAGES": ("zh_CN", "en"),
        # The languages a questionnaire must have to be published (drafts may have any); zh_CN,
        # the default language of every questionnaire, is always needed.
        "PUBLISH_LANGUAGES": publish_languages_setting(),
        "QUESTIONNAIRE_DIR": _env(
            "QUESTIONNAIRE_DIR", str(Path(__file__).resolve().parent.parent / "questionnaires")
        ),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _env_bool("SECURE_COOKIES", False),
        "REMEMBER_COOKIE_SECURE": _env_bool("SECURE_COOKIES", False),
        # A login lasts at most SESSION_LIFETIME, and ends after SESSION_IDLE_TIMEOUT without a
        # request (shared tablets); both are checked on the server (surveyapp/sessions.py), the
        # cookie's own expiry only tidies the browser.
        "SESSION_LIFETIME": session_lifetime,
        "SESSION_IDLE_TIMEOUT": _env_duration("SESSION_IDLE_TIMEOUT", 2 * 3600.0),
        "PERMANENT_SESSION_LIFETIME": timedelta(seconds=session_lifetime),
        # The cookie is written when the session changes (login, language, the idle timestamp
        # at most every 30 s), not signed and sent again on every request: its expiry decides
        # nothing (the limits above are checked on the server).
        "SESSION_REFRESH_EACH_REQUEST": False,
        "MAX_CONTENT_LENGTH": int(_env("MAX_CONTENT_LENGTH", str(16 * 1024 * 1024))),
        "WTF_CSRF_TIME_LIMIT": None,
        # Behind a reverse proxy: how many proxies set X-Forwarded-For/-Proto/-Host (0: none,
        # the headers are ignored, as they must be when clients can reach the app directly).
        "PROXY_FIX": int(_env("PROXY_FIX", "0") or 0),
        # The address tablets reach the server at (ODK Collect's server URL); empty: the
        # address of the request (web page) or http://127.0.0.1:5000 (command line).
        "PUBLIC_URL": _env("PUBLIC_URL", ""),
        # How long an open wave's reports may lag behind its newest responses (0: exact).
        "REPORT_MAX_AGE": _env_seconds("REPORT_MAX_AGE", 300.0),
        # Prepare a wave's report data and street PDFs as a background job when it is released
        # (SURVEYAPP_JOB_BACKEND runs it), so that officials' downloads come from the cache.
        "PREPARE_REPORTS": _env_bool("PREPARE_REPORTS", True),
        # The longest an uploaded questionnaire (YAML, XLSForm) may take to read and check in a
        # request; then it is stopped with a message (surveyapp/questionnaire/untrusted.py).
        "UPLOAD_TIME_BUDGET": _env_seconds("UPLOAD_TIME_BUDGET", 10.0),
    }
