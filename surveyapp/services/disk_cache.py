"""The one policy for files the application caches on disk: signed, written atomically, 0600.

Cache directories may be shared between servers (``SURVEYAPP_REPORT_CACHE_DIR``), so whoever
can write there must not be able to run code in the web process or slip a report of their own
to an official. Every cached file is sealed: a magic line, an HMAC-SHA256 of its purpose and
content under the application's ``SECRET_KEY``, then the content. A file whose seal does not
verify (planted, damaged, written with another key) is ignored and rebuilt. Python objects are
pickled only inside a seal, and unpickled only after it verified; the wave snapshots hold plain
arrays and JSON (``services.wave_snapshot``), which cannot run code.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from flask import current_app

log = logging.getLogger(__name__)

MAGIC = b"SURVEYAPP-SEALED-1\n"
_MAC = 32


def _key() -> bytes:
    return str(current_app.config.get("SECRET_KEY") or "").encode()


def _mac(purpose: str, content: bytes) -> bytes:
    return hmac.new(_key(), purpose.encode() + b"\0" + content, hashlib.sha256).digest()


def seal(content: bytes, purpose: str) -> bytes:
    """``content`` sealed for ``purpose`` (a kind of file: a sealed bundle is no PDF)."""
    return MAGIC + _mac(purpose, content) + content


def unseal(data: bytes, purpose: str, where: object = "") -> bytes | None:
    """The content of sealed ``data``, or None (logged) when the seal does not verify."""
    if not _key():
        return None  # no key, no trust
    head = len(MAGIC)
    if data[:head] != MAGIC or len(data) < head + _MAC:
        log.warning("cached file %s is not sealed by this application: ignored", where)
        return None
    mac, content = data[head : head + _MAC], data[head + _MAC :]
    if not hmac.compare_digest(mac, _mac(purpose, content)):
        log.warning("cached file %s has a wrong seal (planted or another key): ignored", where)
        return None
    return content


def dump_object(value: Any, purpose: str) -> bytes:
    return seal(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), purpose)


def load_object(data: bytes, purpose: str, where: object = "") -> Any | None:
    """The object in sealed ``data``; None when the seal does not verify or it is unreadable."""
    content = unseal(data, purpose, where)
    if content is None:
        return None
    return _unpickle(content, where)


def read_object(path: Path, purpose: str) -> Any | None:
    """The object in the sealed file ``path``, or None (missing, planted, unreadable)."""
    content = read(path, purpose)
    return None if content is None else _unpickle(content, path)


def write_object(path: Path, value: Any, purpose: str) -> None:
    write(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), purpose)


def _unpickle(content: bytes, where: object) -> Any | None:
    try:
        return pickle.loads(content)  # noqa: S301 - sealed by this application, verified above
    except Exception as exc:  # noqa: BLE001 - an outdated object: rebuilt by the caller
        log.warning("cached file %s is unreadable (%s): ignored", where, exc)
        return None


def read(path: Path, purpose: str) -> bytes | None:
    """The verified content of the sealed file ``path``, or None."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("cached file %s cannot be read (%s): ignored", path, exc)
        return None
    return unseal(data, purpose, path)


def write(path: Path, content: bytes, purpose: str) -> None:
    """Seal ``content`` into ``path``: a temporary file of mode 0600, then a rename."""
    write_atomic(path, seal(content, purpose))


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file (0600) and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
