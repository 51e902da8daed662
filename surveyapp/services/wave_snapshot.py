"""A wave's extracted answers, persisted as one columnar file, so a new process starts fast.

:func:`load_or_build` returns the same :class:`~surveyapp.services.wave_data.WaveData` as a
fresh extraction. The snapshot file (``<dir>/wave-<db>-<wave id>-<questionnaire hash>.snap``;
the directory is ``SURVEYAPP_SNAPSHOT_DIR`` in the app config or environment, else
``<instance>/wave-snapshots``) records what it covers:

- the highest response id of the wave it read (``max_id``);
- among the wave's responses with ``id <= max_id``, per questionnaire version, rejected or
  not, and mode: their number and the sums of their ids and of their street, community and
  grid ids (a response deleted, rejected, restored or moved to another locality changes
  these);
- the newest answer id when it was built (answers are never updated in place: a corrected
  response gets new answer rows -- review's resubmission deletes and inserts them -- so an
  answer newer than that one belonging to a covered response means its answers changed).

The weighted design of the snapshot's content (base weights raked to the census margins, which
takes seconds for a million respondents) is stored next to it, per weighting settings and
population counts, signed with the application's secret key (:func:`load_design`).

Not detected: answer rows deleted without any being inserted, and a locality's code renamed
(no code path of the application does either); delete the snapshot file after such a manual
change. Values that are only 0, 1 or NaN are stored as int8.

On read the aggregates are computed again (one query over an index of the wave's responses,
which also gives the questionnaire version of the wave: :func:`version_counts`) and the
newer answers checked (a range of the answer table's primary key). When they agree, only the
responses with ``id > max_id`` are read and appended (each respondent's values depend only on
their own answers), and the snapshot is written again; when anything differs, or the file is
missing, unreadable or fails its checksum, the wave is extracted afresh and the snapshot
replaced. Files are written to a temporary name and renamed, so concurrent workers at worst
build the same snapshot twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from flask import current_app
from sqlalchemy import func, select

from ..caching import BoundedCache
from ..estimation import Categorical
from ..extensions import db
from ..models import Answer, Response, Wave
from ..questionnaire import Questionnaire
from . import disk_cache
from .wave_data import WaveData, read_wave

log = logging.getLogger(__name__)

MAGIC = b"SURVEYAPP-WAVE-SNAPSHOT-1\n"
_ALIGN = 64


def snapshot_dir() -> Path:
    configured = current_app.config.get("SURVEYAPP_SNAPSHOT_DIR") or os.environ.get(
        "SURVEYAPP_SNAPSHOT_DIR"
    )
    if configured:
        return Path(configured)
    return Path(current_app.instance_path) / "wave-snapshots"


def snapshot_path(wave: Wave, schema: Questionnaire) -> Path:
    database = hashlib.sha256(db.engine.url.render_as_string().encode()).hexdigest()[:12]
    # A hash of the whole content hash: the reports' questionnaire with department indicators
    # added has the questionnaire's hash with a suffix, and must not share its file.
    content = hashlib.sha256(schema.sha256.encode()).hexdigest()[:16]
    return snapshot_dir() / f"wave-{database}-{wave.id}-{content}.snap"


def extract_wave(wave: Wave, schema: Questionnaire, current: tuple | None = None) -> WaveData:
    """A wave's responses as indicator arrays (what :func:`.wave_data.read_wave` reads).

    Screened-out respondents (no sex or age group: the demographic questions are asked of
    eligible respondents only) and rejected interviews are left out.

    The result is kept in memory, keyed by the wave's content (:func:`_fingerprint`), and on
    disk as a columnar snapshot (:func:`load_or_build`) that a new process verifies against
    the database, extends with the responses submitted since, or rebuilds when anything else
    changed. ``current`` is what :func:`current_state` returns, when the caller already asked
    (see :func:`~surveyapp.services.wave_selection.wave_version`).
    """
    if current is None:
        current = current_state(wave)
    key = _fingerprint(wave, schema, current)
    return _SNAPSHOTS.get_or_make(key, lambda: load_or_build(wave, schema, current))


#: A wave and the previous one (a million responses: ~0.6 GB each), by content (_fingerprint).
_SNAPSHOTS: BoundedCache[WaveData] = BoundedCache(2)


def _fingerprint(wave: Wave, schema: Questionnaire, current: tuple) -> tuple:
    """What identifies a wave's extracted data: the questionnaire's content hash and
    :func:`~surveyapp.services.wave_snapshot.current_state` (aggregates of the wave's
    responses, the highest response id, the newest answer id). Answers are only ever
    inserted (a resubmission adds rows), so a new or changed response changes it."""
    aggregates, newest, newest_answer = current
    return (
        db.engine.url.render_as_string(),
        wave.id,
        schema.sha256,
        json.dumps(aggregates),
        newest,
        newest_answer,
    )


def load_or_build(wave: Wave, schema: Questionnaire, current: tuple | None = None):
    """The wave's extracted data: from the snapshot (extended if need be) or read afresh.

    ``current`` is what :func:`current_state` returns, when the caller already asked.
    """
    aggregates, newest, newest_answer = current if current is not None else current_state(wave)
    path = snapshot_path(wave, schema)
    snap = read_snapshot(path)
    if snap is not None:
        meta, data = snap
        if meta.get("schema") == schema.sha256 and meta.get("wave") == wave.id:
            # With no response above the snapshot's highest id, the wave's aggregates are
            # those of the responses it covers: no second pass over the wave's rows.
            covered = (
                aggregates if newest <= meta["max_id"] else _status_aggregates(wave, meta["max_id"])
            )
            if covered == meta["aggregates"] and not _answers_changed(
                wave, meta["max_id"], meta["newest_answer"]
            ):
                if newest <= meta["max_id"]:
                    return data
                added = read_wave(wave, schema, after_id=meta["max_id"], upto_id=newest)
                data = concatenate(data, added)
                return _write_quietly(path, data, wave, schema, newest, aggregates, newest_answer)
    # Missing, unreadable or out of date: extract the whole wave again.
    data = read_wave(wave, schema, upto_id=newest)
    return _write_quietly(path, data, wave, schema, newest, aggregates, newest_answer)


def current_state(wave: Wave) -> tuple[list[list[Any]], int, int]:
    """``(aggregates, newest response id, newest answer id)`` of the wave as it is now.

    One pass over the wave's responses (index only: migration 0008); the aggregates are those
    of :func:`_status_aggregates` over all its responses, and also tell which questionnaire
    version the wave was collected with (:func:`version_counts`).
    """
    newest_answer = _newest_answer()  # first: an answer stored meanwhile is then seen as new
    rows, newest = _aggregate_rows(wave, None)
    return rows, newest, newest_answer


def version_counts(aggregates: list[list[Any]]) -> dict[int, int]:
    """Questionnaire version id -> number of the wave's responses not rejected."""
    out: dict[int, int] = {}
    for version, rejected, _mode, n, *_sums in aggregates:
        if not rejected:
            out[version] = out.get(version, 0) + n
    return out


# -- what the snapshot is checked against ------------------------------------------------------


def _newest_answer() -> int:
    return int(db.session.scalar(select(func.max(Answer.id))) or 0)


def _aggregate_rows(wave: Wave, max_id: int | None) -> tuple[list[list[Any]], int]:
    """The aggregates of the wave's responses (``id <= max_id`` when given) and their highest id.

    Per questionnaire version, rejected or not, and mode: the number of responses and the sums
    of their ids and of their street, community and grid ids -- what the extraction reads of a
    response. Grouped in the order of the index ``ix_response_wave_state``, so the database
    neither sorts nor reads the table; the statuses other than "rejected" are added up here
    (approving or sending back a response leaves its extracted values as they are; a
    resubmission inserts answers, which :func:`_answers_changed` sees).
    """
    r = Response
    query = select(
        r.questionnaire_version_id,
        r.status,
        r.mode,
        func.count(),
        func.sum(r.id),
        func.sum(r.street_id),
        func.sum(r.community_id),
        func.sum(r.grid_id),
        func.max(r.id),
    ).where(r.wave_id == wave.id)
    if max_id is not None:
        query = query.where(r.id <= max_id)
    query = query.group_by(r.questionnaire_version_id, r.status, r.mode).order_by(
        r.questionnaire_version_id, r.status, r.mode
    )
    folded: dict[tuple[int, int, str], list[int]] = {}
    newest = 0
    for version, status, mode, *sums, top in db.session.execute(query):
        key = (int(version), int(status == "rejected"), str(mode))
        into = folded.setdefault(key, [0] * len(sums))
        for i, value in enumerate(sums):
            into[i] += int(value or 0)
        newest = max(newest, int(top or 0))
    return [[*key, *sums] for key, sums in sorted(folded.items())], newest


def _status_aggregates(wave: Wave, max_id: int) -> list[list[Any]]:
    """The aggregates (see :func:`_aggregate_rows`) of the wave's responses with
    ``id <= max_id``."""
    return _aggregate_rows(wave, max_id)[0]


def _answers_changed(wave: Wave, max_id: int, newest_answer: int) -> bool:
    """Whether an answer newer than the snapshot belongs to a response it covers."""
    # The answers stored since the snapshot, found by the primary key (usually none, or
    # those of new responses); only then their responses are looked up.
    newer = {
        rid
        for rid in db.session.scalars(
            select(Answer.response_id).where(Answer.id > newest_answer).order_by(Answer.id)
        )
        if rid <= max_id
    }
    candidates = sorted(newer)
    for start in range(0, len(candidates), 500):
        hit = db.session.execute(
            select(Response.id)
            .where(Response.id.in_(candidates[start : start + 500]), Response.wave_id == wave.id)
            .limit(1)
        ).first()
        if hit is not None:
            return True
    return False


# -- appending ------------------------------------------------------------------------------------


def _merge_categorical(a: Categorical, b: Categorical) -> Categorical:
    labels = list(a.labels)
    where = {label: i for i, label in enumerate(labels)}
    remap = np.empty(len(b.labels) + 1, dtype=np.intp)
    for i, label in enumerate(b.labels):
        if label not in where:
            where[label] = len(labels)
            labels.append(label)
        remap[i] = where[label]
    remap[-1] = -1
    codes = remap[np.asarray(b.codes, dtype=np.intp)]
    return Categorical(np.concatenate([np.asarray(a.codes, dtype=np.intp), codes]), labels)


def concatenate(a, b):
    """The data of ``a``'s responses followed by ``b``'s (``b``'s ids all larger)."""
    if b.n == 0:
        return a
    codes = {name: _merge_categorical(a.codes[name], b.codes[name]) for name in a.codes}
    return _assemble(
        np.concatenate([a.response_ids, b.response_ids]),
        codes,
        {k: np.concatenate([a.values[k], b.values[k]]) for k in a.values},
        {
            q: {c: np.concatenate([v, b.shares[q][c]]) for c, v in per.items()}
            for q, per in a.shares.items()
        },
        WaveData,
    )


class Lazy(Mapping):
    """A read-only mapping whose values are made from their stored form on first use.

    A snapshot holds some ninety columns of a million values; estimating reads a dozen of them,
    so the others are never expanded (int8 to float) or labelled (codes to labels).
    """

    def __init__(self, stored: dict[str, Any], make: Callable[[Any], np.ndarray]) -> None:
        self._stored = stored
        self._make = make
        self._made: dict[str, np.ndarray] = {}

    def __getitem__(self, key: str) -> np.ndarray:
        hit = self._made.get(key)
        if hit is None:
            hit = self._made[key] = self._make(self._stored[key])
        return hit

    def __iter__(self) -> Iterator[str]:
        return iter(self._stored)

    def __len__(self) -> int:
        return len(self._stored)


def _labels(cat_and_fill: tuple[Categorical, str | None]) -> np.ndarray:
    cat, fill = cat_and_fill
    codes_arr = np.asarray(cat.codes, dtype=np.intp)
    if not codes_arr.size:
        return np.array([], dtype=object)
    return np.array([*cat.labels, fill], dtype=object)[codes_arr]


def _assemble(ids, codes: dict[str, Categorical], values, shares, cls=None):
    """A WaveData from its coded columns (the label columns are made from the codes when
    first used)."""
    if cls is None:
        cls = WaveData
    columns = Lazy(
        {
            name: (cat, "" if name in ("street", "community", "grid") else None)
            for name, cat in codes.items()
        },
        _labels,
    )  # no locality at a level: ""
    return cls(response_ids=ids, columns=columns, values=values, shares=shares, codes=codes)


# -- the file -------------------------------------------------------------------------------------


def _write_quietly(
    path: Path,
    data,
    wave: Wave,
    schema: Questionnaire,
    max_id: int,
    aggregates: list,
    newest_answer: int,
):
    """Write the snapshot; return ``data`` carrying the written file's content key."""
    meta = {
        "wave": wave.id,
        "schema": schema.sha256,
        "max_id": max_id,
        "aggregates": aggregates,
        "newest_answer": newest_answer,
    }
    try:
        return replace(data, content_key=write_snapshot(path, meta, data))
    except OSError as exc:  # a read-only or full disk: estimates still work, only slower
        log.warning("could not write the wave snapshot %s: %s", path, exc)
        return data


def _compact(v: np.ndarray) -> np.ndarray:
    """A 0/1/NaN array as int8 (-1 = NaN, 8 times smaller); any other one as it is."""
    small = np.where(np.isnan(v), -1.0, v)
    if not ((small == 0.0) | (small == 1.0) | (small == -1.0)).all():
        return v
    return small.astype(np.int8)


_FROM_INT8 = np.array([np.nan, 0.0, 1.0])


def _expand(arr: np.ndarray) -> np.ndarray:
    if arr.dtype != np.int8:
        return arr
    return _FROM_INT8[arr.astype(np.intp) + 1]


def write_snapshot(path: Path, meta: dict, data) -> str:
    """Write ``data`` with ``meta`` to ``path`` atomically (temporary file, then rename);
    return the content key of what was written (see ``WaveData.content_key``)."""
    arrays: list[tuple[list[str], np.ndarray]] = [(["ids"], data.response_ids)]
    labels = {}
    for name, cat in data.codes.items():
        arrays.append((["codes", name], np.asarray(cat.codes, dtype=np.int64)))
        labels[name] = list(cat.labels)
    for key, v in data.values.items():
        arrays.append((["values", key], _compact(v)))
    for qid, per in data.shares.items():
        for code, v in per.items():
            arrays.append((["shares", qid, code], _compact(v)))
    entries = []
    offset = 0
    for key, arr in arrays:
        arr = np.ascontiguousarray(arr)
        entries.append({"key": key, "dtype": arr.dtype.str, "n": int(arr.size), "offset": offset})
        offset += -(-arr.nbytes // _ALIGN) * _ALIGN
    crc = 0
    for _key, arr in arrays:
        crc = zlib.crc32(np.ascontiguousarray(arr).data, crc)
    header = json.dumps(
        {**meta, "labels": labels, "arrays": entries, "size": offset, "crc32": crc}
    ).encode()
    head_len = -(-(len(MAGIC) + 8 + len(header)) // _ALIGN) * _ALIGN
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(MAGIC + len(header).to_bytes(8, "little") + header)
            out.write(b"\0" * (head_len - len(MAGIC) - 8 - len(header)))
            for _key, arr in arrays:
                raw = np.ascontiguousarray(arr).tobytes()
                out.write(raw)
                out.write(b"\0" * (-(-len(raw) // _ALIGN) * _ALIGN - len(raw)))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return f"{path.name}:{crc}:{offset}"


def read_snapshot(path: Path):
    """``(meta, WaveData)`` from ``path``; None when missing, truncated or corrupt."""
    try:
        blob = np.fromfile(path, dtype=np.uint8)
    except (OSError, ValueError):
        return None
    try:
        raw = blob.data
        if bytes(raw[: len(MAGIC)]) != MAGIC:
            raise ValueError("not a wave snapshot")
        n_header = int.from_bytes(bytes(raw[len(MAGIC) : len(MAGIC) + 8]), "little")
        start = len(MAGIC) + 8
        meta = json.loads(bytes(raw[start : start + n_header]))
        head_len = -(-(start + n_header) // _ALIGN) * _ALIGN
        if blob.size != head_len + meta["size"]:
            raise ValueError("truncated")
        body = blob[head_len:]
        crc = 0
        found: dict[tuple[str, ...], np.ndarray] = {}
        for entry in meta["arrays"]:
            dtype = np.dtype(entry["dtype"])
            lo = entry["offset"]
            arr = body[lo : lo + entry["n"] * dtype.itemsize].view(dtype)
            if arr.size != entry["n"]:
                raise ValueError("truncated")
            crc = zlib.crc32(arr.data, crc)
            found[tuple(entry["key"])] = arr
        if crc != meta["crc32"]:
            raise ValueError("checksum mismatch")
        ids = found.pop(("ids",))
        codes, values, shares = {}, {}, {}
        for key, arr in found.items():
            if key[0] == "codes":
                codes[key[1]] = Categorical(arr.astype(np.intp, copy=False), meta["labels"][key[1]])
            elif key[0] == "values":
                values[key[1]] = arr
            else:
                shares.setdefault(key[1], {})[key[2]] = arr
        data = _assemble(
            ids,
            codes,
            Lazy(values, _expand),
            {qid: Lazy(per, _expand) for qid, per in shares.items()},
        )
        return meta, replace(data, content_key=f"{path.name}:{meta['crc32']}:{meta['size']}")
    except (ValueError, KeyError, TypeError, IndexError, json.JSONDecodeError) as exc:
        log.warning("wave snapshot %s is unreadable (%s): rebuilding it", path, exc)
        return None


# -- the weighted design, persisted next to the snapshot ------------------------------------------


def _design_path(data, settings_key: str) -> Path | None:
    if not data.content_key:
        return None
    name, _sep, _rest = data.content_key.partition(":")
    content = hashlib.sha256(data.content_key.encode()).hexdigest()[:16]
    settings = hashlib.sha256(settings_key.encode()).hexdigest()[:16]
    return snapshot_dir() / f"{name}.design-{content}-{settings}"


def load_design(data, settings_key: str):
    """The weighted design stored for exactly this snapshot content and these settings, or
    None. The file is signed with the application's secret key: one not written by this
    application (or by one with another key) is ignored and rebuilt, never unpickled."""
    path = _design_path(data, settings_key)
    if path is None:
        return None
    value = disk_cache.read_object(path, "weighted-design")
    if value is None:
        return None
    design, report = value
    if len(design.weights) != data.n:
        return None
    return design, report


def save_design(data, settings_key: str, value) -> None:
    """Store ``(design, report)`` for this snapshot content; drop the designs of older content
    of the same snapshot. Failing to write only costs the next process the raking."""
    path = _design_path(data, settings_key)
    if path is None:
        return
    try:
        disk_cache.write_object(path, value, "weighted-design")
        stem, _sep, rest = path.name.rpartition(".design-")
        content = rest.split("-")[0]
        for old in path.parent.glob(f"{stem}.design-*"):
            if not old.name.startswith(f"{stem}.design-{content}-") and not old.name.endswith(
                ".tmp"
            ):
                old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not write the weighted design %s: %s", path, exc)
