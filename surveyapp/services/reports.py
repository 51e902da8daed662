"""Reports for officials: a wave's estimates gathered once, reports and exports cached by content.

Estimating a wave takes seconds (``wave_results``), a street's PDF a fraction of one, so the
estimates and their report context (:class:`ReportBundle`) are computed once per *content*:
the wave's responses and those of the earlier waves (each wave's change stamp, which the
database replaces whenever one of its responses changes: migration 0019), the
questionnaire version, the survey settings, the localities and their population counts, and
the code that computes them. Each PDF is then cached under that key plus its street, language
and the code that draws it. Nothing is recomputed until one of these changes; a change of any
of them is a new key, so a stale result is never served.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import pickle
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import Any

import numpy as np
from flask import current_app
from sqlalchemy import Integer, String, bindparam, cast, func, literal, null, select, union_all
from sqlalchemy.orm import contains_eager

from ..caching import BoundedCache
from ..errors import N_, Text, UserError
from ..estimation import EstimationError
from ..estimation.estimates import svyby, svyciprop
from ..extensions import db
from ..fieldwork.settings import settings_for
from ..localtime import format_local
from ..models import (
    ChangeStamp,
    Locality,
    LocalityPopulation,
    QuestionnaireVersion,
    Response,
    Survey,
    Wave,
    responses_stamp,
)
from ..questionnaire import Indicator, Questionnaire
from ..reports import (
    ReportError,
    ReportMeta,
    ReportOptions,
    WaveHistory,
)
from ..reports.results import ItemResult, WaveResults
from ..reports.wording import report_language
from . import disk_cache
from .comparisons import streets_vs_district, vs_previous_wave
from .estimates import wave_results
from .wave_design import build_design, survey_settings
from .wave_selection import EstimateRequestError, find_survey_and_wave, wave_version
from .wave_snapshot import extract_wave

log = logging.getLogger(__name__)
PACKAGE = Path(__file__).resolve().parent.parent
#: Bump to invalidate every cached bundle (the code hash below catches code changes too).
CACHE_FORMAT = 1


class ReportRequestError(UserError):
    """The report asked for does not exist (unknown survey, wave or street): a 404 on the web."""

    status = 404


class ReportUnavailable(UserError):
    """The report cannot be made yet (no or too few responses): a 409 on the web."""

    status = 409


# ----------------------------------------------------------------------------- look-ups


def find_survey_wave(survey_id: int, wave_code: str | None = None) -> tuple[Survey, Wave]:
    """Return the survey and its wave (the latest when ``wave_code`` is None); the look-up of
    :func:`.wave_selection.find_survey_and_wave`, refused as a report that does not exist."""
    try:
        return find_survey_and_wave(survey_id, wave_code)
    except EstimateRequestError as exc:
        raise ReportRequestError(exc.text or exc.message) from exc


def survey_streets(survey: Survey) -> list[Locality]:
    return [s for s in survey.district.children if s.level == "street"]


def check_street_code(survey: Survey, street_code: str) -> Locality:
    """Return the street of the survey's district with ``street_code``, else ReportRequestError."""
    for street in survey_streets(survey):
        if street.code == street_code:
            return street
    raise ReportRequestError(
        Text(
            N_(
                "street '%(street)s' is not in the district of survey %(id)s (%(district)s); "
                "its streets: %(streets)s"
            ),
            street=street_code,
            id=survey.id,
            district=survey.district.code,
            streets=", ".join(s.code for s in survey_streets(survey)),
        )
    )


# ----------------------------------------------------------------------------- content keys


@lru_cache(maxsize=4)
def code_version(part: str) -> str:
    """A hash of the source code behind cached ``part`` ("results", "pdf" or "exports")."""
    files = sorted((PACKAGE / "estimation").glob("*.py")) + [
        PACKAGE / "services" / "estimates.py",
        PACKAGE / "services" / "comparisons.py",
        PACKAGE / "services" / "wave_design.py",
        PACKAGE / "services" / "reports.py",
        PACKAGE / "questionnaire" / "model.py",
    ]
    if part in ("pdf", "exports"):
        files += sorted((PACKAGE / "reports").glob("*.py"))
        files += sorted((PACKAGE / "translations").glob("*/LC_MESSAGES/messages.po"))
    if part == "exports":
        files.append(PACKAGE / "services" / "exports.py")
    digest = hashlib.sha256(str(CACHE_FORMAT).encode())
    for f in files:
        digest.update(f.name.encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def _response_parts() -> list:
    """Selects of plain rows, in the columns of :func:`_localities_statement` (``kind``, ``id``,
    ``parent_id``, ``code``, ``name_zh``, ``name_en``, ``number``, ``content``), by kind: ``w``
    the change stamps ``:stamps`` (a wave's: :func:`~surveyapp.models.responses_stamp`,
    replaced by the database whenever one of its responses changes; its name in ``code``, the
    stamp in ``content``), ``q`` the content hash of questionnaire version ``:version`` (in
    ``content``) and ``p`` the number of telephone cases of wave ``:wave`` (in ``number``:
    whether a report shows response rates). Index look-ups only: their cost does not grow
    with the responses."""
    from ..models.fieldwork import CatiCase

    stamp = ChangeStamp.__table__
    version = QuestionnaireVersion.__table__
    cases = CatiCase.__table__
    number, text = cast(null(), Integer), cast(null(), String)
    return [
        select(
            literal("w").label("kind"),
            number.label("id"),
            number.label("parent_id"),
            stamp.c.name.label("code"),
            text.label("name_zh"),
            text.label("name_en"),
            number.label("number"),
            stamp.c.stamp.label("content"),
        ).where(stamp.c.name.in_(bindparam("stamps", expanding=True))),
        select(literal("q"), number, number, text, text, text, number, version.c.sha256).where(
            version.c.id == bindparam("version")
        ),
        select(literal("p"), number, number, text, text, text, func.count(cases.c.id), text).where(
            cases.c.wave_id == bindparam("wave")
        ),
    ]


@lru_cache(maxsize=1)
def _fingerprint_statement():
    """The rows of :func:`_response_parts` alone."""
    return union_all(*_response_parts())


def _response_params(waves: Sequence[Wave], version_id: int | None, wave_id: int | None) -> dict:
    return {
        "stamps": [responses_stamp(w.id) for w in waves],
        "version": version_id,
        "wave": wave_id,
    }


@lru_cache(maxsize=1)
def _scan_statement():
    """The responses' aggregates by wave and status of the waves ``:waves``: what identified
    a wave's data before the stamps (migration 0019), read only for a wave without a stamp
    (its row removed by hand)."""
    response = Response.__table__
    return (
        select(
            response.c.wave_id,
            response.c.status,
            func.count(response.c.id),
            func.max(response.c.id),
            func.sum(response.c.id),
            func.max(response.c.submitted_at),
            func.max(response.c.revised_at),
        )
        .where(response.c.wave_id.in_(bindparam("waves", expanding=True)))
        .group_by(response.c.wave_id, response.c.status)
    )


def wave_fingerprints(
    waves: Sequence[Wave], version_id: int | None = None, wave_id: int | None = None
) -> tuple[list[list], str | None, int]:
    """The fingerprints of ``waves`` (see :func:`wave_fingerprint`), the content hash of
    questionnaire version ``version_id`` and the number of telephone cases of wave
    ``wave_id``, in one statement."""
    rows = db.session.connection().execute(
        _fingerprint_statement(), _response_params(waves, version_id, wave_id)
    )
    return _fingerprints(waves, rows)


def _fingerprints(waves: Sequence[Wave], rows: Iterable) -> tuple[list[list], str | None, int]:
    """What :func:`wave_fingerprints` returns, from the rows of :func:`_response_parts` among
    ``rows`` (the others are left)."""
    names = {responses_stamp(w.id): w.id for w in waves}
    stamps: dict[int, Any] = {}
    sha, phone_cases = None, 0
    for row in rows:
        if row.kind == "w":
            stamps[names[row.code]] = row.content
        elif row.kind == "q":
            sha = row.content
        elif row.kind == "p":
            phone_cases = row.number
    missing = [w.id for w in waves if w.id not in stamps]
    if missing:
        # Unknown (a stamp row removed by hand): the responses themselves identify the wave.
        log.warning("waves %s have no change stamp: their responses are read instead", missing)
        scanned: dict[int, list] = {i: [] for i in missing}
        for row_id, status, n, last, total, when, revised in db.session.connection().execute(
            _scan_statement(), {"waves": missing}
        ):
            scanned[row_id].append([status, n, last, int(total or 0), str(when), str(revised)])
        stamps.update({i: ["scanned", *sorted(found)] for i, found in scanned.items()})
    return (
        [[w.id, w.code, w.name, str(w.starts_on), str(w.ends_on), stamps[w.id]] for w in waves],
        sha,
        phone_cases,
    )


def wave_fingerprint(wave: Wave) -> list:
    """What identifies a wave's data: the wave's dates and names and the stamp that the
    database replaces whenever one of its responses is inserted, updated (reviewed,
    corrected, moved to another wave) or deleted (migration 0019)."""
    return wave_fingerprints([wave])[0][0]


# ----------------------------------------------------------------------------- localities


@dataclass(frozen=True)
class StreetRow:
    """A street of a survey's district as plain values (what the portal shows of it)."""

    id: int
    code: str
    name_zh: str
    name_en: str
    population: int | None

    def name(self, lang: str) -> str:
        """The name in the interface language, Chinese when no English name exists."""
        if lang == "en" and self.name_en:
            return self.name_en
        return self.name_zh


@dataclass(frozen=True)
class ReportScope:
    """A survey, one of its waves, and its district's localities, read for a request in two
    statements (:func:`report_scope`)."""

    survey: Survey
    wave: Wave | None
    #: the ids of the survey's district and of the localities above it (the access rules)
    district_chain: tuple[int, ...]
    #: the district's streets, by code
    streets: tuple[StreetRow, ...]
    #: what the report keys hold of the localities (:func:`_localities_fingerprint`), if read
    localities: list | None
    #: what :func:`wave_fingerprints` returns for ``wave`` and the waves before it, if read
    responses: tuple[list[list], str | None, int] | None = None


#: Separators of the localities' content aggregated into one text (:func:`_read_localities`):
#: control characters, which no code or name holds.
_UNIT, _RECORD = "\x1f", "\x1e"


@lru_cache(maxsize=3)
def _localities_statement(content: bool, responses: bool = False):
    """Plain rows, by kind: ``u`` the district ``:district`` and the localities above it,
    ``s`` its streets, and with ``content`` one row ``x`` holding the streets' children and
    population counts as one text (aggregated by the database: hundreds of rows otherwise,
    on every download, to see whether the cached reports still match); with ``responses``
    the rows of :func:`_response_parts` too (the other half of the report keys)."""
    loc = Locality.__table__
    pop = LocalityPopulation.__table__
    columns = (loc.c.id, loc.c.parent_id, loc.c.code, loc.c.name_zh, loc.c.name_en)
    up = select(*columns).where(loc.c.id == bindparam("district")).cte("up", recursive=True)
    above = loc.alias("above")
    up = up.union_all(
        select(above.c.id, above.c.parent_id, above.c.code, above.c.name_zh, above.c.name_en).join(
            up, above.c.id == up.c.parent_id
        )
    )
    parts = [
        select(  # first: its columns' types are the union's
            literal("s").label("kind"),
            *columns,
            loc.c.population.label("number"),
            cast(null(), String).label("content"),
        ).where((loc.c.parent_id == bindparam("district")) & (loc.c.level == "street")),
        select(literal("u"), *up.c, null(), null()),
    ]
    if content:
        street = loc.alias("street")
        is_street = (street.c.parent_id == bindparam("district")) & (street.c.level == "street")

        def text(*values):
            out = literal("")
            for value in values:
                out = out + _UNIT + value
            return out

        entries = union_all(
            select(
                text(literal("c"), street.c.code, loc.c.code, loc.c.name_zh, loc.c.name_en).label(
                    "entry"
                )
            )
            .join(street, loc.c.parent_id == street.c.id)
            .where(is_street),
            select(
                text(
                    literal("p"),
                    street.c.code,
                    pop.c.sex,
                    pop.c.age_group,
                    cast(pop.c.count, String),
                )
            )
            .join(street, pop.c.locality_id == street.c.id)
            .where(is_street),
        ).subquery()
        parts.append(
            select(
                literal("x"),
                null(),
                null(),
                null(),
                null(),
                null(),
                func.count(),
                func.aggregate_strings(entries.c.entry, _RECORD),
            ).select_from(entries)
        )
    if responses:
        parts.extend(_response_parts())
    return union_all(*parts)


def _read_localities(district_id: int, content: bool) -> tuple[tuple[int, ...], list, list | None]:
    """The ids of the district and of the localities above it, the district's streets (rows,
    by code) and, with ``content``, the localities' fingerprint: one statement."""
    rows = (
        db.session.connection()
        .execute(_localities_statement(content), {"district": district_id})
        .all()
    )
    return _localities_from_rows(district_id, rows, content)


def _localities_from_rows(
    district_id: int, rows: Sequence, content: bool
) -> tuple[tuple[int, ...], list, list | None]:
    """What :func:`_read_localities` returns, from the rows of :func:`_localities_statement`."""
    chain = tuple(r.id for r in rows if r.kind == "u")
    streets = sorted((r for r in rows if r.kind == "s"), key=lambda r: r.code)
    if not content:
        return chain, streets, None
    district = next(r for r in rows if r.kind == "u" and r.id == district_id)
    aggregate = next(r for r in rows if r.kind == "x")
    # The database concatenates in no set order: sorted here, the text is the same each time.
    entries = sorted(aggregate.content.split(_RECORD)) if aggregate.number else []
    fingerprint = [
        district.code,
        district.name_zh,
        district.name_en,
        [[r.code, r.name_zh, r.name_en, r.number] for r in streets],
        len(entries),
        hashlib.sha256(_RECORD.join(entries).encode()).hexdigest(),
    ]
    return chain, streets, fingerprint


def _localities_fingerprint(survey: Survey) -> list:
    """What a report key holds of the localities: the district's names, its streets' names
    and population counts, their communities' names (one statement of plain rows: this runs
    on every download)."""
    return _read_localities(survey.district_id, True)[2]


@lru_cache(maxsize=1)
def _survey_statement():
    """The survey ``:survey`` with its waves, in order (built once: building it took longer
    than running it)."""
    return (
        select(Survey)
        .outerjoin(Survey.waves)
        .options(contains_eager(Survey.waves))
        .where(Survey.id == bindparam("survey"))
        .order_by(Wave.position)
    )


def report_scope(survey_id: int, wave_code: str, *, content: bool = False) -> ReportScope | None:
    """The survey ``survey_id`` with its waves, its wave ``wave_code`` (None if it has none of
    that code), the district's chain and streets, and with ``content`` what the report keys
    read of the database (the localities' fingerprint; the wave's and the earlier waves'
    change stamps, the questionnaire's hash, the telephone cases): two statements. None when
    there is no such survey."""
    survey = db.session.scalars(_survey_statement(), {"survey": survey_id}).unique().first()
    if survey is None:
        return None
    wave = next((w for w in survey.waves if w.code == wave_code), None)
    params: dict[str, Any] = {"district": survey.district_id}
    waves = survey.waves[: survey.waves.index(wave) + 1] if content and wave is not None else []
    if waves:
        params.update(_response_params(waves, wave.questionnaire_version_id, wave.id))
    rows = (
        db.session.connection().execute(_localities_statement(content, bool(waves)), params).all()
    )
    chain, streets, localities = _localities_from_rows(survey.district_id, rows, content)
    street_rows = tuple(StreetRow(r.id, r.code, r.name_zh, r.name_en, r.number) for r in streets)
    responses = _fingerprints(waves, rows) if waves else None
    return ReportScope(survey, wave, chain, street_rows, localities, responses)


def street_boundaries(street_ids: Iterable[int]) -> dict[int, dict]:
    """The outlines of the streets ``street_ids`` that have one, by id."""
    ids = list(street_ids)
    rows = db.session.execute(
        select(Locality.id, Locality.boundary).where(Locality.id.in_(ids))
    ).all()
    return {i: boundary for i, boundary in rows if boundary}


def _key_parts(
    survey: Survey,
    wave: Wave,
    localities: list | None = None,
    responses: tuple[list[list], str | None, int] | None = None,
) -> dict:
    """What both of a wave's report keys depend on, computed once per request (see
    :func:`report_bundle`): the fingerprints of the wave (under ``wave``) and of the earlier
    waves, and the questionnaire's hash, in one statement of index look-ups (the waves'
    change stamps) unless the caller read them (``responses``, from :func:`report_scope`);
    the localities in another unless the caller read them (``localities``)."""
    index = survey.waves.index(wave)
    if responses is None:
        responses = wave_fingerprints(
            survey.waves[: index + 1], wave.questionnaire_version_id, wave.id
        )
    fingerprints, sha, phone_cases = responses
    return {
        "code": code_version("results"),
        "settings": survey_settings(survey),
        # the hash only: the version's row carries the questionnaire's whole text
        "questionnaire": sha,
        "earlier": fingerprints[:index],
        "wave": fingerprints[index],
        "localities": localities if localities is not None else _localities_fingerprint(survey),
        "released": wave.is_released,  # an unreleased wave's reports say so on every page
        "phone_cases": phone_cases,  # not part of the keys: whether to add response rates
    }


def version_sha256(version_id: int) -> str | None:
    """The content hash of a questionnaire version (without loading its text)."""
    return db.session.scalar(
        select(QuestionnaireVersion.sha256).where(QuestionnaireVersion.id == version_id)
    )


def bundle_key(survey: Survey, wave: Wave, parts: dict | None = None) -> str:
    """The content key of a wave's estimates and report context."""
    parts = parts if parts is not None else _key_parts(survey, wave)
    payload = {
        "code": parts["code"],
        "survey": [survey.id, survey.name, survey.modes],
        "settings": parts["settings"],
        "questionnaire": parts["questionnaire"],
        "waves": [*parts["earlier"], parts["wave"]],
        "localities": parts["localities"],
        "released": parts["released"],
    }
    text = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# ----------------------------------------------------------------------------- the cache


class ReportCache:
    """Bundles and files on disk under ``root`` (shared by processes), recent bundles in memory.

    Files are written to a temporary name and renamed, so a reader never sees half a file.
    """

    def __init__(self, root: str | Path, memory: int = 4, max_files: int = 5000):
        self.root = Path(root)
        self.memory: BoundedCache[Any] = BoundedCache(memory)
        self.files: BoundedCache[bytes] = BoundedCache(64)  # see get_file
        self.max_files = max_files
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def lock(self, key: str) -> threading.Lock:
        """A lock per key, so that two threads do not compute the same bundle twice."""
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def _path(self, kind: str, key: str, suffix: str) -> Path:
        return self.root / kind / f"{key}{suffix}"

    def get_bundle(self, key: str) -> ReportBundle | None:
        hit = self.memory.get(key)
        if hit is not None:
            return hit
        # Sealed with the application's key (services.disk_cache): a planted file in a shared
        # cache directory is ignored, never unpickled.
        bundle = disk_cache.read_object(self._path("bundles", key, ".sealed"), "report-bundle")
        if bundle is None:
            return None
        self._remember(key, bundle)
        return bundle

    def put_bundle(self, key: str, bundle: ReportBundle) -> None:
        path = self._path("bundles", key, ".sealed")
        disk_cache.write_object(path, bundle, "report-bundle")
        self._prune(path.parent)
        self._remember(key, bundle)

    def _remember(self, key: str, bundle: Any) -> None:
        self.memory.put(key, bundle)

    def get_file(self, kind: str, key: str, suffix: str) -> bytes | None:
        """The file's content, or None (no such file, or not sealed by this application).

        What was read or written is also kept in memory, by the file's path and its state on
        disk (inode, size, modification and change times): a file sent again and again is
        not read nor its seal checked again while it is unchanged; a file replaced (every
        write is a rename: a new inode), removed or forged is read, or refused, as before.
        """
        path = self._path(kind, key, suffix)
        state = _file_state(path)
        if state is None:
            return None
        hit = self.files.get(state)
        if hit is not None:
            return hit
        data = disk_cache.read(path, f"report-file:{kind}{suffix}")
        if data is not None and _file_state(path) == state:
            self.files.put(state, data)
        return data

    def put_file(self, kind: str, key: str, suffix: str, data: bytes) -> None:
        path = self._path(kind, key, suffix)
        self._write(path, data, f"report-file:{kind}{suffix}")
        state = _file_state(path)
        if state is not None:
            self.files.put(state, data)

    def _write(self, path: Path, data: bytes, purpose: str) -> None:
        disk_cache.write(path, data, purpose)
        self._prune(path.parent)

    def _prune(self, folder: Path) -> None:
        files = [p for p in folder.iterdir() if not p.name.startswith(".")]
        if len(files) <= self.max_files:
            return
        files.sort(key=lambda p: p.stat().st_mtime)
        for p in files[: len(files) - self.max_files]:
            p.unlink(missing_ok=True)


def _file_state(path: Path) -> tuple | None:
    """What tells a file on disk from the one read before: path, inode, size and change times
    (None: no such file)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


_caches: dict[str, ReportCache] = {}


def report_cache() -> ReportCache:
    """The application's cache (``SURVEYAPP_REPORT_CACHE_DIR``, by default
    ``instance/report-cache``)."""
    root = (
        current_app.config.get("REPORT_CACHE_DIR")
        or os.environ.get("SURVEYAPP_REPORT_CACHE_DIR")
        or os.path.join(current_app.instance_path, "report-cache")
    )
    cache = _caches.get(root)
    if cache is None:
        cache = _caches[root] = ReportCache(root)
    return cache


# ----------------------------------------------------------------------------- gathering


@dataclass(frozen=True)
class ReportBundle:
    """A wave's estimates and their report context, computed together and cached together."""

    key: str
    results: WaveResults
    meta: ReportMeta


def _department_indicators(schema: Questionnaire, options: ReportOptions) -> list[Indicator]:
    """Satisfaction with each department, counted like the law-enforcement indicator."""
    used = {ind.question for ind in schema.indicators}
    if options.departments is not None:
        unknown = [q for q in options.departments if q not in schema.questions_once]
        if unknown:
            raise ReportError(
                Text(
                    N_(
                        "survey settings: reports.departments: no question %(ids)s in the "
                        "questionnaire"
                    ),
                    ids=", ".join(unknown),
                )
            )
        qids = list(options.departments)
    else:
        wanted = set(options.department_positive) | set(options.department_excluded)
        qids = [
            q.id
            for q in schema.questions_once.values()
            if q.kind.listed
            and not q.kind.multiple
            and q.id.endswith("_satisfaction")
            and q.id not in used
            and wanted <= set(q.codes)
        ]
    return [
        Indicator(
            id=f"department:{qid}",
            label=schema.questions[qid].label,
            question=qid,
            positive=options.department_positive,
            excluded=options.department_excluded,
        )
        for qid in qids
    ]


def _with_departments(
    schema: Questionnaire, options: ReportOptions
) -> tuple[list[Indicator], Questionnaire]:
    """The department indicators and the questionnaire with them added. The copy gets its
    own content hash: extracted waves are cached by that hash, and the copy has more columns
    than the questionnaire itself."""
    departments = _department_indicators(schema, options)
    if not departments:
        return departments, schema
    tag = hashlib.sha256(("departments:" + ",".join(d.id for d in departments)).encode())
    extended = replace(
        schema,
        indicators=(*schema.indicators, *departments),
        sha256=f"{schema.sha256}+{tag.hexdigest()[:16]}",
    )
    return departments, extended


def _departments(
    indicators: list[Indicator], data, design, settings: dict, before: dict[str, ItemResult] | None
) -> tuple[ItemResult, ...]:
    """The departments' rates, district and streets, compared with the district and the
    previous wave (the same estimators and settings as ``wave_results``)."""
    method = settings.get("ci_method", "logit")
    level = float(settings.get("level", 0.95))
    street = data.domain("street")  # coded: grouped without comparing a million labels
    out = []
    for ind in indicators:
        y = data.values[ind.id]
        try:
            overall = svyciprop(y, design, method=method, level=level)
        except EstimationError:
            overall = None
        by_street: dict[str, Any] = {}
        for key, est in svyby(
            y,
            street,
            design,
            svyciprop,
            errors="keep",
            single_psu="respondents",
            method=method,
            level=level,
        ):
            by_street[str(key)] = None if isinstance(est, Exception) else est
        vs_district = streets_vs_district(design, y, street, by_street, level)
        vs_previous: dict[str, Any] = {}
        if before is not None and ind.id in before:
            then = before[ind.id]
            for code, now, prev in [("ALL", overall, then.overall)] + [
                (c, e, then.by_street.get(c)) for c, e in by_street.items()
            ]:
                vs_previous[code] = (
                    vs_previous_wave(now, prev, level)
                    if now is not None and prev is not None
                    else None
                )
        out.append(
            ItemResult(
                id=ind.id,
                kind="rate",
                label=dict(ind.label),
                target=None,
                overall=overall,
                by_street=by_street,
                by_community={},
                vs_district=vs_district,
                vs_previous=vs_previous,
                ranks={},
            )
        )
    return tuple(out)


def _coded(data, name: str, missing: str | None) -> tuple[np.ndarray, list[Any]]:
    """A column as codes ``0..k-1`` and their labels as text; rows without a value get the
    label ``missing`` (as the label column shows them)."""
    coded = data.codes.get(name)
    if coded is None:
        labels, codes = np.unique(data.columns[name].astype(str), return_inverse=True)
        return codes.reshape(-1), labels.tolist()
    codes = np.asarray(coded.codes, dtype=np.intp)
    labels: list[Any] = [str(label) for label in coded.labels]
    if (codes < 0).any():
        codes = np.where(codes < 0, len(labels), codes)
        labels.append(missing)
    return codes, labels


def _sample_by_street_mode(data) -> dict[str, dict[Any, int]]:
    """Respondents per street and mode, streets and modes in the order they first appear."""
    street, street_labels = _coded(data, "street", "")
    mode, mode_labels = _coded(data, "mode", None)
    pairs, first, counts = np.unique(
        street * len(mode_labels) + mode, return_index=True, return_counts=True
    )
    sample: dict[str, dict[Any, int]] = {}
    for j in np.argsort(first, kind="stable").tolist():
        s, m = divmod(int(pairs[j]), len(mode_labels))
        sample.setdefault(street_labels[s], {})[mode_labels[m]] = int(counts[j])
    return sample


def _wave_arrays(survey: Survey, wave: Wave, schema: Questionnaire, settings: dict):
    data = extract_wave(wave, schema)
    design, _report = build_design(data, survey_streets(survey), settings)
    return data, design


def _history(survey: Survey, wave: Wave, cache: ReportCache | None) -> tuple[WaveHistory, ...]:
    out = []
    for earlier in survey.waves[: survey.waves.index(wave)]:
        try:
            res = _cached_results(survey, earlier, cache)
        except EstimateRequestError:
            continue
        out.append(
            WaveHistory(
                code=res.wave_code,
                name=res.wave_name,
                overall={i.id: i.overall for i in res.items},
                by_street={i.id: dict(i.by_street) for i in res.items},
                starts_on=earlier.starts_on,
            )
        )
    return tuple(out)


def _cached_results(survey: Survey, wave: Wave, cache: ReportCache | None) -> WaveResults:
    """An earlier wave's estimates on their own (no comparison with the wave before)."""
    index = survey.waves.index(wave)
    key = (
        "history-"
        + hashlib.sha256(
            json.dumps(
                [
                    code_version("results"),
                    survey_settings(survey),
                    wave.questionnaire_version.sha256,
                    wave_fingerprint(wave),
                    _localities_fingerprint(survey),
                    index,
                ],
                sort_keys=True,
                default=str,
            ).encode()
        ).hexdigest()[:32]
    )
    if cache is not None:
        hit = cache.get_bundle(key)
        if hit is not None:
            return hit
    results = wave_results(survey, wave, with_previous=False)
    if cache is not None:
        cache.put_bundle(key, results)
    return results


def gather(
    survey: Survey, wave: Wave, cache: ReportCache | None = None, key: str | None = None
) -> ReportBundle:
    """Compute a wave's estimates and everything its reports show (slow: seconds)."""
    options = ReportOptions.from_settings(survey.settings)
    index = survey.waves.index(wave)
    previous = None
    if index > 0:  # the history needs them too: computed (and cached) once
        try:
            previous = _cached_results(survey, survey.waves[index - 1], cache)
        except EstimateRequestError:
            previous = None
    try:
        results = wave_results(survey, wave, previous=previous)
    except EstimateRequestError as exc:
        raise ReportUnavailable(exc.text or str(exc)) from exc
    schema = wave_version(survey, wave).schema
    settings = survey_settings(survey)
    departments, extended = _with_departments(schema, options)
    data, design = _wave_arrays(survey, wave, extended, settings)

    before = None
    if index > 0 and departments:
        earlier = survey.waves[index - 1]
        try:
            prev_departments, prev_extended = _with_departments(
                wave_version(survey, earlier).schema, options
            )
            prev_data, prev_design = _wave_arrays(survey, earlier, prev_extended, settings)
            before = {
                i.id: i
                for i in _departments(prev_departments, prev_data, prev_design, settings, None)
            }
        except (EstimateRequestError, ReportError):
            before = None

    sample = _sample_by_street_mode(data)
    community, community_labels = _coded(data, "community", "")
    weights = np.asarray(design.weights, dtype=float)
    community_n: dict[str, dict[str, int]] = {}
    community_value: dict[str, dict[str, float]] = {}
    for item in (*schema.indicators, *schema.composites):
        y = data.values[item.id]
        valid = ~np.isnan(y)
        codes = community[valid]
        k = len(community_labels)
        n = np.bincount(codes, minlength=k)
        sw = np.bincount(codes, weights=weights[valid], minlength=k)
        swy = np.bincount(codes, weights=weights[valid] * y[valid], minlength=k)
        present = sorted((community_labels[i], i) for i in np.flatnonzero(n).tolist())
        community_n[item.id] = {label: int(n[i]) for label, i in present}
        # The weighted point estimate (Horvitz-Thompson ratio), shown where the design
        # gives no interval for a community.
        with np.errstate(invalid="ignore", divide="ignore"):
            community_value[item.id] = {label: float(swy[i] / sw[i]) for label, i in present}

    factor_q = schema.questions_once.get(options.unsafe_factors)
    last = db.session.scalar(
        select(func.max(Response.submitted_at)).where(
            Response.wave_id == wave.id, Response.status != "rejected"
        )
    )
    district = survey.district
    meta = ReportMeta(
        survey_name=survey.name,
        district_code=district.code,
        district_name={"zh_CN": district.name_zh, "en": district.name_en or district.name_zh},
        wave_code=wave.code,
        wave_name=wave.name or wave.code,
        starts_on=wave.starts_on,
        ends_on=wave.ends_on,
        modes=tuple(survey.mode_list),
        released=wave.is_released,
        data_as_of=_data_as_of(last, survey),
        sample_by_street_mode=sample,
        community_n=community_n,
        community_value=community_value,
        departments=_departments(departments, data, design, settings, before),
        history=_history(survey, wave, cache),
        factor_question=dict(factor_q.label) if factor_q is not None else None,
        factor_labels={c.code: dict(c.label) for c in factor_q.choices} if factor_q else {},
        options=options,
        assessment=_assessment(survey, wave),
    )
    return ReportBundle(key=key or bundle_key(survey, wave), results=results, meta=meta)


def _assessment(survey: Survey, wave: Wave) -> dict | None:
    """The annual assessment of the wave's year up to this wave; None when it cannot be made
    (no start date, rules that do not fit the questionnaire): the report goes without it."""
    from .assessment import annual_assessment

    if wave.starts_on is None:
        return None
    try:
        return annual_assessment(survey.district.code, wave.starts_on.year, until=wave.starts_on)
    except (EstimateRequestError, EstimationError) as exc:
        log.info("no annual assessment in the report of wave %s: %s", wave.code, exc)
        return None


def _setting_key(survey: Survey, wave: Wave, parts: dict) -> str:
    """What identifies a wave's reports apart from its incoming responses: code, settings,
    questionnaire, localities, the earlier waves, and whether the wave is released."""
    text = json.dumps(
        [
            parts["code"],
            survey.id,
            survey.name,
            survey.modes,
            parts["settings"],
            parts["questionnaire"],
            wave.id,
            parts["earlier"],
            parts["localities"],
            parts["released"],
        ],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


_now = time.time  # the clock of the freshness window (a test moves it)


def report_max_age() -> float:
    """Seconds an open wave's reports may lag behind its newest responses
    (``SURVEYAPP_REPORT_MAX_AGE``, default 300; 0: always exact)."""
    return float(current_app.config.get("REPORT_MAX_AGE", 300))


def _recent_bundle(cache: ReportCache, setting_key: str, max_age: float) -> ReportBundle | None:
    raw = cache.get_file("latest", setting_key, ".json")
    if raw is None:
        return None
    try:
        latest = json.loads(raw)
        age = _now() - float(latest["at"])
        key = str(latest["key"])
    except (ValueError, KeyError, TypeError):
        return None
    if not 0 <= age < max_age:
        return None
    return cache.get_bundle(key)


#: How old a released open wave's last bundle may be and still be served while a background
#: job computes the new one (``PREPARE_REPORTS``); older, the request computes it.
STALE_LIMIT = 24 * 3600.0
#: A refresh started less than this long ago is not started again (a lost one is retried).
REFRESH_RETRY = 600.0


def report_bundle(
    survey: Survey,
    wave: Wave,
    cache: ReportCache | None = None,
    *,
    stale_ok: bool = True,
    scope: ReportScope | None = None,
) -> ReportBundle:
    """The wave's bundle from the cache, computed (once, even with concurrent callers) if new.

    While a wave is open, responses arrive all the time; recomputing the estimates for every
    download would let a few officials keep the server busy. So an open wave's bundle is reused
    for up to ``report_max_age()`` seconds after it was computed (reports print the time of the
    newest response they include); a closed wave's reports always match its data exactly.
    After that window, a released open wave's last bundle (at most ``STALE_LIMIT`` old) is
    still served while a background job computes the new one (with ``PREPARE_REPORTS``; not
    with ``stale_ok=False``, which the job itself uses), so that officials never wait for it.
    ``scope``: the request's :func:`report_scope` (read with ``content``), whose localities
    and change stamps are not read again.
    """
    cache = cache if cache is not None else report_cache()
    max_age = report_max_age() if wave.is_open else 0.0
    localities = scope.localities if scope is not None else None
    responses = scope.responses if scope is not None and scope.wave is wave else None
    parts = _key_parts(survey, wave, localities, responses)
    setting_key = _setting_key(survey, wave, parts)
    # Within the freshness window the last bundle is served whatever arrived since.
    if max_age:
        bundle = _recent_bundle(cache, setting_key, max_age)
        if bundle is not None:
            return _with_fieldwork_rates(bundle, wave, parts)
    key = bundle_key(survey, wave, parts)
    bundle = cache.get_bundle(key)
    if bundle is not None:
        return _with_fieldwork_rates(bundle, wave, parts)
    if max_age:
        if stale_ok and wave.is_released and current_app.config.get("PREPARE_REPORTS", True):
            bundle = _recent_bundle(cache, setting_key, max(STALE_LIMIT, max_age))
            if bundle is not None:
                _refresh_soon(cache, setting_key, wave)
                return _with_fieldwork_rates(bundle, wave, parts)
    with cache.lock(setting_key):
        bundle = cache.get_bundle(key)
        if bundle is None and max_age:
            bundle = _recent_bundle(cache, setting_key, max_age)
        if bundle is None:
            started = time.perf_counter()
            bundle = gather(survey, wave, cache, key)
            cache.put_bundle(key, bundle)
            cache.put_file(
                "latest", setting_key, ".json", json.dumps({"key": key, "at": _now()}).encode()
            )
            log.info(
                "report bundle %s (survey %s wave %s) computed in %.1f s",
                key,
                survey.id,
                wave.code,
                time.perf_counter() - started,
            )
    return _with_fieldwork_rates(bundle, wave, parts)


#: Starts the background preparation of a wave's reports; set by :mod:`surveyapp.services.jobs`,
#: which builds on this module (so this module never imports it: no import cycle).
refresh_hook: Callable[[Wave], None] | None = None


def _refresh_soon(cache: ReportCache, setting_key: str, wave: Wave) -> None:
    """Start the background job that recomputes a released open wave's reports, unless one
    was started less than ``REFRESH_RETRY`` seconds ago (by any server sharing the cache)."""
    raw = cache.get_file("refreshing", setting_key, ".json")
    try:
        if raw is not None and 0 <= _now() - float(json.loads(raw)["at"]) < REFRESH_RETRY:
            return
    except (ValueError, KeyError, TypeError):
        pass
    cache.put_file("refreshing", setting_key, ".json", json.dumps({"at": _now()}).encode())
    if refresh_hook is not None:
        refresh_hook(wave)


def _with_fieldwork_rates(bundle: ReportBundle, wave: Wave, parts: dict) -> ReportBundle:
    """Add the telephone response rates, which change with every call (not cached)."""
    from ..fieldwork.cati import wave_rates

    if not parts["phone_cases"]:
        return bundle  # no telephone case: no rates (counted with the key's other parts)

    try:
        table = wave_rates(wave)
    except Exception:  # noqa: BLE001  (rates are a bonus; a report never fails for them)
        log.exception("telephone response rates of wave %s", wave.id)
        return bundle
    if not table.overall.counts.total:
        return bundle
    rates = {"ALL": table.overall.RR3}
    rates.update({street.code: r.RR3 for street, r in table.by_street})
    rates = {k: v for k, v in rates.items() if v is not None}
    if not rates:
        return bundle
    return replace(bundle, meta=replace(bundle.meta, phone_response_rate=rates))


# ----------------------------------------------------------------------------- PDFs


def pdf_key(bundle: ReportBundle, what: str, lang: str) -> str:
    """The content key of one PDF: its bundle, street (or district), language and drawing code."""
    from ..reports.fonts import report_fonts  # reportlab: imported when a PDF is needed

    rates = sorted(bundle.meta.phone_response_rate.items())
    text = json.dumps([bundle.key, what, lang, code_version("pdf"), rates, report_fonts().path])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _pdf(bundle: ReportBundle, what: str, lang: str, cache: ReportCache | None) -> bytes:
    key = pdf_key(bundle, what, lang)
    if cache is not None:
        hit = cache.get_file("pdf", key, ".pdf")
        if hit is not None:
            return hit
    data = build_pdf(bundle, what, lang)
    if cache is not None:
        cache.put_file("pdf", key, ".pdf", data)
    return data


def build_pdf(bundle: ReportBundle, what: str, lang: str) -> bytes:
    """Draw one PDF: ``what`` is a street code or ``"district"``."""
    if what == "district":
        from ..reports import build_district_pdf  # reportlab: imported when a PDF is drawn

        return build_district_pdf(bundle.results, bundle.meta, lang)
    from ..reports import build_street_pdf

    return build_street_pdf(bundle.results, what, bundle.meta, lang)


def street_pdf(
    survey: Survey,
    wave: Wave,
    street_code: str,
    lang: str = "zh_CN",
    cache: ReportCache | None = None,
    *,
    scope: ReportScope | None = None,
) -> bytes:
    """The PDF of one street (from the cache when its content has not changed); ``scope``:
    the request's :func:`report_scope` (read with ``content``)."""
    if scope is None or street_code not in {s.code for s in scope.streets}:
        check_street_code(survey, street_code)
    lang = report_language(lang)
    cache = cache if cache is not None else report_cache()
    return _pdf(report_bundle(survey, wave, cache, scope=scope), street_code, lang, cache)


def district_pdf(
    survey: Survey,
    wave: Wave,
    lang: str = "zh_CN",
    cache: ReportCache | None = None,
    *,
    scope: ReportScope | None = None,
) -> bytes:
    """The district overview PDF (from the cache when its content has not changed)."""
    lang = report_language(lang)
    cache = cache if cache is not None else report_cache()
    return _pdf(report_bundle(survey, wave, cache, scope=scope), "district", lang, cache)


def report_filename(bundle: ReportBundle, what: str, lang: str) -> str:
    """``320106001-2026-Q4.pdf``, ``320106-district-2026-Q4-en.pdf``."""
    suffix = "" if lang == "zh_CN" else f"-{lang}"
    stem = f"{bundle.meta.district_code}-district" if what == "district" else what
    return f"{stem}-{bundle.results.wave_code}{suffix}.pdf"


# ----------------------------------------------------------------------------- many PDFs

_worker_bundle: ReportBundle | None = None
#: Below this many PDFs to draw, they are drawn in the calling process.
MIN_PARALLEL = 16


def _worker_start(payload: bytes) -> None:
    global _worker_bundle
    _worker_bundle = pickle.loads(payload)  # noqa: S301  (from the parent process)


def _worker_build(what: str, lang: str) -> tuple[str, bytes]:
    assert _worker_bundle is not None
    return what, build_pdf(_worker_bundle, what, lang)


def build_many(
    bundle: ReportBundle,
    targets: Sequence[str],
    lang: str,
    *,
    cache: ReportCache | None = None,
    workers: int | None = None,
    progress: Callable[[str], None] = lambda _what: None,
) -> Iterable[tuple[str, bytes]]:
    """Yield ``(target, pdf)`` for street codes and ``"district"``, using every core.

    Cached PDFs are yielded first; the others are drawn in worker processes. A caller with
    one thread (the CLI) forks them: they start at once with the bundle already in memory.
    A threaded caller (the web server) must not fork, so its workers are spawned and receive
    the bundle once; a spawned worker first imports the application (seconds on a busy
    machine), which is why few PDFs are drawn in the calling process instead.
    """
    lang = report_language(lang)
    todo = []
    for what in targets:
        hit = cache.get_file("pdf", pdf_key(bundle, what, lang), ".pdf") if cache else None
        if hit is not None:
            progress(what)
            yield what, hit
        else:
            todo.append(what)
    if not todo:
        return
    workers = max(1, min(workers or os.cpu_count() or 1, len(todo)))
    if len(todo) < MIN_PARALLEL and workers > 1:
        workers = 1  # starting worker processes costs more than a few PDFs
    if workers == 1:
        for what in todo:
            data = build_pdf(bundle, what, lang)
            if cache is not None:
                cache.put_file("pdf", pdf_key(bundle, what, lang), ".pdf", data)
            progress(what)
            yield what, data
        return
    # The district overview is the longest: start it first.
    todo.sort(key=lambda w: w != "district")
    if threading.active_count() == 1 and "fork" in get_all_start_methods():
        global _worker_bundle
        _worker_bundle = bundle  # inherited by the forked workers
        options: dict[str, Any] = {"mp_context": get_context("fork")}
    else:
        payload = pickle.dumps(bundle, protocol=pickle.HIGHEST_PROTOCOL)
        options = {
            "mp_context": get_context("spawn"),
            "initializer": _worker_start,
            "initargs": (payload,),
        }
    with ProcessPoolExecutor(max_workers=workers, **options) as pool:
        futures = [pool.submit(_worker_build, what, lang) for what in todo]
        for future in as_completed(futures):
            what, data = future.result()
            if cache is not None:
                cache.put_file("pdf", pdf_key(bundle, what, lang), ".pdf", data)
            progress(what)
            yield what, data
    _worker_bundle = None


def zip_reports(
    bundle: ReportBundle,
    targets: Sequence[str],
    lang: str,
    *,
    cache: ReportCache | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] = lambda _done, _total: None,
) -> bytes:
    """A ZIP of the PDFs of ``targets`` (street codes and ``"district"``)."""
    done = 0

    def step(_what: str) -> None:
        nonlocal done
        done += 1
        progress(done, len(targets))

    buf = io.BytesIO()
    pdfs = dict(build_many(bundle, targets, lang, cache=cache, workers=workers, progress=step))
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for what in targets:
            info = zipfile.ZipInfo(
                report_filename(bundle, what, lang), date_time=time.localtime()[:6]
            )
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, pdfs[what])
    return buf.getvalue()


def _data_as_of(last: datetime | None, survey: Survey) -> str:
    """The latest submission, in the survey's time zone, with the zone named."""
    if last is None:
        return ""
    zone = settings_for(survey).timezone
    return f"{format_local(last, zone)} ({zone})"
