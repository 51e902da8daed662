"""The sync API's service: read submitted interviews (JSON), check them against the sender's
assignments, store them through :func:`surveyapp.services.responses.submit_responses`.

Every item gets its own outcome (HTTP status and a message); nothing here knows about requests.
"""

from __future__ import annotations

import json
import math
import uuid as uuidlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import joinedload

from ..caching import BoundedCache
from ..errors import N_, Text, UserError
from ..extensions import db
from ..models import (
    LOCALITY_STAMP,
    Assignment,
    ChangeStamp,
    Locality,
    QuestionnaireVersion,
    Response,
    User,
    Wave,
)
from ..models.fieldwork import CatiCase, ResponseParadata, ResponseReview
from ..questionnaire import AnswerError
from ..services.responses import (
    NewResponse,
    Row,
    Submission,
    SubmissionError,
    submit_responses,
)
from .assignments import FilingRefused, check_filing, filing_assignment

#: Most submissions one request may carry.
MAX_BATCH = 500
_MAX_TEXT = 200


class BodyError(UserError):
    """The request body as a whole cannot be read (HTTP 400, or 413 when too large)."""

    def __init__(self, message: str | Text, status: int = 400):
        super().__init__(message, status)


class ItemError(UserError):
    """One submission is refused before it reaches the questionnaire check."""

    def __init__(self, status: int, outcome: str, message: str | Text):
        super().__init__(message, status)
        self.outcome = outcome


@dataclass
class ItemResult:
    """What happened to one submitted interview."""

    index: int
    uuid: str | None
    status: int
    outcome: str  # created, duplicate, conflict, invalid, forbidden, bad_request, closed
    #: For people: a :class:`~surveyapp.errors.Text` the interface translates (or a text).
    message: str | Text = ""
    answer_errors: list[AnswerError] = field(default_factory=list)
    response: Response | NewResponse | None = None


def read_body(data: bytes) -> tuple[list[Any], bool]:
    """Parse a request body; return (items, is_batch).

    A batch is a JSON array or an object with a ``submissions`` array; any other object is a
    single submission.
    """
    if not data.strip():
        raise BodyError(Text(N_("the request body is empty: send a submission as JSON")))
    try:
        body = json.loads(data)
    except UnicodeDecodeError as exc:
        raise BodyError(
            Text(N_("the request body is not UTF-8 text (%(reason)s)"), reason=exc.reason)
        ) from exc
    except json.JSONDecodeError as exc:
        raise BodyError(
            Text(
                N_(
                    "the request body is not valid JSON: %(error)s "
                    "at line %(line)s, column %(column)s"
                ),
                error=exc.msg,
                line=exc.lineno,
                column=exc.colno,
            )
        ) from exc
    except RecursionError as exc:
        raise BodyError(Text(N_("the request body is nested too deeply"))) from exc
    if b"\\u0000" in data.lower() and _has_nul(body):
        raise BodyError(
            Text(
                N_(
                    "the body contains a NUL character (\\u0000), which cannot be stored: "
                    "remove it from the texts"
                )
            )
        )
    if isinstance(body, dict) and "submissions" in body:
        items, batch = body["submissions"], True
        if not isinstance(items, list):
            raise BodyError(Text(N_("'submissions' must be an array of submissions")))
    elif isinstance(body, list):
        items, batch = body, True
    elif isinstance(body, dict):
        items, batch = [body], False
    else:
        raise BodyError(
            Text(N_("the body must be a submission (a JSON object) or an array of them"))
        )
    if batch and not items:
        raise BodyError(Text(N_("the batch holds no submissions")))
    if len(items) > MAX_BATCH:
        raise BodyError(
            Text(
                N_("a batch holds at most %(max)s submissions, this one %(n)s: send it in parts"),
                max=MAX_BATCH,
                n=len(items),
            ),
            status=413,
        )
    return items, batch


def _has_nul(value: Any) -> bool:
    """Whether a NUL character is in any text (key or value) of a parsed JSON body: no text
    column of PostgreSQL can hold one."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _text(item: dict, key: str, required: bool = True, limit: int = _MAX_TEXT) -> str | None:
    value = item.get(key)
    if value is None:
        if required:
            raise ItemError(400, "bad_request", Text(N_("'%(key)s' is missing"), key=key))
        return None
    if not isinstance(value, str) or not value.strip():
        raise ItemError(400, "bad_request", Text(N_("'%(key)s' must be a non-empty text"), key=key))
    if len(value) > limit:
        raise ItemError(
            400,
            "bad_request",
            Text(N_("'%(key)s' is longer than %(max)s characters"), key=key, max=limit),
        )
    return value.strip()


def _integer(item: dict, key: str) -> int | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ItemError(
            400, "bad_request", Text(N_("'%(key)s' must be a whole number (an id)"), key=key)
        )
    return value


def parse_time(value: Any, key: str) -> datetime | None:
    """Read an ISO 8601 time; with an offset it is converted to UTC, without one taken as UTC."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ItemError(
            400, "bad_request", Text(N_("'%(key)s' must be an ISO 8601 time text"), key=key)
        )
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ItemError(
            400,
            "bad_request",
            Text(
                N_(
                    "'%(key)s': '%(value)s' is not an ISO 8601 time "
                    "such as 2026-11-23T09:30:00+08:00"
                ),
                key=key,
                value=value[:60],
            ),
        ) from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _answers(item: dict) -> dict:
    answers = item.get("answers")
    if not isinstance(answers, dict):
        raise ItemError(
            400, "bad_request", Text(N_("'answers' must be an object: question id -> answer"))
        )
    out = {}
    for key, value in answers.items():
        if type(value) is str:  # the usual answer, without the general checks below
            out[key] = value
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            # a repeat group: its instances, each an object question id -> answer
            out[key] = [_plain_answers(v, f"answers.{key}[{n}]") for n, v in enumerate(value, 1)]
        elif value is not None:
            _check_answer(key, value, "answers")
            out[key] = value
    return out


def _plain_answers(answers: dict, where: str) -> dict:
    for key, value in answers.items():
        _check_answer(key, value, where)
    return {k: v for k, v in answers.items() if v is not None}


def _check_answer(key: Any, value: Any, where: str) -> None:
    """Refuse an answer that is not a text, a number or a list of codes."""
    ok = value is None or isinstance(value, str | int | float) and not isinstance(value, bool)
    if isinstance(value, list):
        ok = all(isinstance(v, str | int) and not isinstance(v, bool) for v in value)
    if isinstance(value, float) and not math.isfinite(value):
        ok = False
    if not ok:
        raise ItemError(
            400,
            "bad_request",
            Text(
                N_("%(where)s.%(key)s: an answer is a text, a number or a list of codes"),
                where=where,
                key=str(key)[:80],
            ),
        )


def _number(value: Any, key: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ItemError(400, "bad_request", Text(N_("paradata.%(key)s must be a number"), key=key))
    if not low <= value <= high:
        raise ItemError(
            400,
            "bad_request",
            Text(
                N_("paradata.%(key)s must be between %(low)s and %(high)s"),
                key=key,
                low=low,
                high=high,
            ),
        )
    return float(value)


@dataclass
class Paradata:
    device: str = ""
    group_seconds: dict = field(default_factory=dict)
    saved_at: datetime | None = None
    gps: tuple[float, float, float | None] | None = None

    def row(self, response: Response | NewResponse, channel: str) -> Row:
        """The paradata row of ``response`` (stored, its id known)."""
        lat, lon, accuracy = self.gps or (None, None, None)
        return Row(
            _PARADATA,
            {
                "response_id": response.id,
                "channel": channel,
                "device": self.device,
                "group_seconds": self.group_seconds,
                "client_saved_at": self.saved_at,
                "gps_lat": lat,
                "gps_lon": lon,
                "gps_accuracy_m": accuracy,
            },
        )


_PARADATA = ResponseParadata.__table__


def parse_paradata(value: Any) -> Paradata:
    """Read the optional paradata object: device, seconds per group, save time, GPS point."""
    if value is None:
        return Paradata()
    if not isinstance(value, dict):
        raise ItemError(400, "bad_request", Text(N_("'paradata' must be an object")))
    out = Paradata()
    device = value.get("device", "")
    if not isinstance(device, str):
        raise ItemError(400, "bad_request", Text(N_("paradata.device must be a text")))
    out.device = device[:200]
    seconds = value.get("group_seconds", {})
    if not isinstance(seconds, dict) or len(seconds) > 200:
        raise ItemError(
            400,
            "bad_request",
            Text(N_("paradata.group_seconds must be an object: group id -> seconds")),
        )
    out.group_seconds = {
        str(k)[:80]: _number(v, f"group_seconds.{k}", 0, 86400) for k, v in seconds.items()
    }
    out.saved_at = parse_time(value.get("saved_at"), "paradata.saved_at")
    gps = value.get("gps")
    if gps is not None:
        if not isinstance(gps, dict):
            raise ItemError(400, "bad_request", Text(N_("paradata.gps must be an object")))
        if gps.get("consent") is not True:
            raise ItemError(
                400,
                "bad_request",
                Text(
                    N_(
                        "paradata.gps is only accepted with the respondent's consent "
                        '("consent": true); leave it out otherwise'
                    )
                ),
            )
        lat = _number(gps.get("lat"), "gps.lat", -90, 90)
        lon = _number(gps.get("lon"), "gps.lon", -180, 180)
        accuracy = gps.get("accuracy")
        out.gps = (
            lat,
            lon,
            None if accuracy is None else _number(accuracy, "gps.accuracy", 0, 100000),
        )
    return out


class _Context:
    """What a batch needs from the database, loaded once: the sender's assignments (and the
    locality table's stamp, read in the same statement)."""

    def __init__(self, user: User, items: list[Any]):
        self.user = user
        # One query for the assignments with their waves, surveys and questionnaires,
        # instead of a lazy load of each when the first item touches it; only those the items
        # name when every item names one (an item without one is filed under one of the
        # wave's assignments).
        named = _named_assignments(items)
        uuids = _item_uuids(items)
        if named is None:
            query, params = _ASSIGNMENTS, {"user_id": user.id, "uuids": uuids}
        else:
            query, params = _NAMED_ASSIGNMENTS, {"user_id": user.id, "ids": named, "uuids": uuids}
        rows = db.session.execute(query, params).unique().all()
        self.assignments = [row[0] for row in rows]
        # None without an assignment (or a stamp): then nothing is cached on it.
        self.stamp: str | None = rows[0][1] if rows else None
        # How many of the items' UUIDs are stored already (None: not known, no assignment).
        self.stored: int | None = rows[0][2] if rows else None
        self._localities: dict[str, Place | None] = {}
        self._chains: list[list[Locality]] = []

    def _place(self, key: tuple, statement, params: dict, found) -> Place | None:
        """The place ``key`` names, from the cache while the locality table's stamp is the
        one it was made at, else from one recursive query of it and its ancestors."""
        if self.stamp is not None:
            hit = _PLACES.get((self.stamp, *key))
            if hit is not None:
                return hit
        place = _places(db.session.connection().execute(statement, params), found)
        if place is not None and self.stamp is not None:
            place = _PLACES.put((self.stamp, *key), place)
        return place

    def locality(self, code: str) -> Place | None:
        """The locality with ``code`` and the localities above it."""
        if code not in self._localities:
            self._localities[code] = self._place(
                ("code", code), _CHAIN, {"code": code}, lambda row: row.code == code
            )
        return self._localities[code]

    def locality_by_id(self, locality_id: int) -> Place:
        """An assignment's own locality and the localities above it."""
        found = self._place(
            ("id", locality_id),
            _CHAIN_BY_ID,
            {"id": locality_id},
            lambda row: row.id == locality_id,
        )
        assert found is not None  # an assignment's locality exists (a foreign key)
        self._localities[found.code] = found
        return found

    def load_ancestors(self, place: Place) -> None:
        """Load ``place`` and every locality above it into the session (one query), so that
        the checks of a telephone interview, which walk its CATI case's and its assignment's
        ``locality.parent``, find them there instead of querying each."""
        chain = list(db.session.scalars(_WITH_ANCESTORS_BY_ID, {"id": place.id}).all())
        # Held here: the session's identity map keeps only objects something refers to.
        self._chains.append(chain)


@dataclass(frozen=True, eq=False)
class Place:
    """A locality as the checks and the new response read it: id, code, level and the places
    above it. Made from a row of one recursive query and shared, read-only, by every request
    while the locality table's stamp (``change_stamp``, replaced by a trigger at any change of
    a locality) stays the one it was read at; the methods are :class:`Locality`'s."""

    id: int
    code: str
    level: str
    parent: Place | None

    @property
    def parent_id(self) -> int | None:
        return self.parent.id if self.parent is not None else None

    def ancestors(self) -> list[Place]:
        """The path from the root down to this place, inclusive."""
        path: list[Place] = []
        node: Place | None = self
        while node is not None:
            path.append(node)
            node = node.parent
        return list(reversed(path))

    def path_by_level(self) -> dict[str, Place]:
        return {loc.level: loc for loc in self.ancestors()}

    def is_within(self, other: Place | Locality) -> bool:
        """Tell whether this place is ``other`` or lies below it."""
        return any(loc.id == other.id for loc in self.ancestors())


def _places(rows, found) -> Place | None:
    """The place of the row ``found`` accepts among ``rows`` (a locality and its ancestors:
    id, code, level, parent_id), linked to the places above it; None when there is none."""
    rows = list(rows)
    by_id = {row.id: row for row in rows}
    start = next((row for row in rows if found(row)), None)
    if start is None:
        return None
    path = []
    row = start
    while row is not None:
        path.append(row)
        row = by_id.get(row.parent_id)
    place = None
    for row in reversed(path):
        place = Place(row.id, row.code, row.level, place)
    return place


#: :class:`Place` chains by the locality table's stamp and ("code", code) or ("id", id).
_PLACES: BoundedCache[Place] = BoundedCache(4096)


def _item_uuids(items: list[Any]) -> list[str]:
    """The canonical form of every valid UUID the items carry (as :func:`_stored` reads
    them)."""
    keys = set()
    for item in items:
        value = item.get("uuid") if isinstance(item, dict) else None
        if isinstance(value, str) and (key := _uuid_key(value.strip())) is not None:
            keys.add(key)
    return sorted(keys)


def _named_assignments(items: list[Any]) -> list[int] | None:
    """The assignment ids the items name, or None if an item names none."""
    named = set()
    for item in items:
        value = item.get("assignment") if isinstance(item, dict) else None
        if isinstance(value, bool) or not isinstance(value, int):
            return None  # refused with its message
        if 0 < value <= _LARGEST_ID:  # beyond, no row has it (PostgreSQL refuses to compare)
            named.add(value)
    return sorted(named)


#: The largest id an ``Integer`` primary key holds (PostgreSQL's ``integer``).
_LARGEST_ID = 2**31 - 1


# The statements of every batch, built once (building one and its cache key anew for each
# request was a good part of a single interview's CPU time).
#: The locality table's stamp, a column of the assignments' query (no statement of its own).
_STAMP = (
    select(ChangeStamp.stamp)
    .where(ChangeStamp.name == LOCALITY_STAMP)
    .scalar_subquery()
    .label("localities_stamp")
)
#: How many of the batch's UUIDs are stored already, also a column of that query: none, the
#: usual case, spares the read of which ones (:func:`_stored`).
_STORED_COUNT = (
    select(func.count())
    .select_from(Response.__table__)
    .where(Response.__table__.c.uuid.in_(bindparam("uuids", expanding=True)))
    .scalar_subquery()
    .label("stored")
)
_NAMED_ASSIGNMENTS = (
    select(Assignment, _STAMP, _STORED_COUNT)
    .where(
        Assignment.enumerator_id == bindparam("user_id"),
        Assignment.id.in_(bindparam("ids", expanding=True)),
    )
    .options(
        # The assignment's locality and the survey's district are not joined: they are
        # ancestors of the locality an interview is filed at, loaded with it (see
        # _Context.locality), and found in the session from there.
        joinedload(Assignment.wave).options(
            # without its text (tens of kB): the parsed questionnaire is kept by content hash
            joinedload(Wave.questionnaire_version).defer(QuestionnaireVersion.source_text),
            joinedload(Wave.survey),
        ),
    )
)
# All of them, for items filed by wave: each candidate's locality may be named in a refusal.
_ASSIGNMENTS = (
    select(Assignment, _STAMP, _STORED_COUNT)
    .where(Assignment.enumerator_id == bindparam("user_id"))
    .options(
        joinedload(Assignment.locality),
        joinedload(Assignment.wave).options(
            joinedload(Wave.questionnaire_version).defer(QuestionnaireVersion.source_text),
            joinedload(Wave.survey),
        ),
    )
)


def _with_ancestors_of(start) -> Select:
    """A locality (the one ``start`` selects) and every locality above it, in one statement."""
    chain = select(Locality.id, Locality.parent_id).where(start).cte("chain", recursive=True)
    chain = chain.union_all(
        select(Locality.id, Locality.parent_id).where(Locality.id == chain.c.parent_id)
    )
    return select(Locality).where(Locality.id.in_(select(chain.c.id)))


_WITH_ANCESTORS_BY_ID = _with_ancestors_of(Locality.id == bindparam("id"))


def _chain_of(start) -> Select:
    """The rows (id, code, level, parent_id) of a locality and of every locality above it."""
    chain = select(Locality.id, Locality.parent_id).where(start).cte("chain", recursive=True)
    chain = chain.union_all(
        select(Locality.id, Locality.parent_id).where(Locality.id == chain.c.parent_id)
    )
    return select(Locality.id, Locality.code, Locality.level, Locality.parent_id).where(
        Locality.id.in_(select(chain.c.id))
    )


_CHAIN = _chain_of(Locality.code == bindparam("code"))
_CHAIN_BY_ID = _chain_of(Locality.id == bindparam("id"))


def _submission(ctx: _Context, item: Any, hooks: Iterable[ItemHook]) -> Submission:
    if not isinstance(item, dict):
        raise ItemError(400, "bad_request", Text(N_("a submission is a JSON object")))
    uuid = _text(item, "uuid")
    assignment_id = _integer(item, "assignment")
    wave_id = _integer(item, "wave")
    assignment = None
    if assignment_id is not None:
        assignment = next((a for a in ctx.assignments if a.id == assignment_id), None)
        if assignment is None:
            raise ItemError(
                403,
                "forbidden",
                Text(N_("assignment %(id)s is not yours"), id=assignment_id),
            )
        if wave_id is not None and wave_id != assignment.wave_id:
            raise ItemError(
                400,
                "bad_request",
                Text(
                    N_("assignment %(id)s belongs to wave %(wave)s, not %(other)s"),
                    id=assignment_id,
                    wave=assignment.wave_id,
                    other=wave_id,
                ),
            )
        wave_id = assignment.wave_id
    if wave_id is None:
        raise ItemError(400, "bad_request", Text(N_("'wave' (or 'assignment') is missing")))
    candidates = [a for a in ctx.assignments if a.wave_id == wave_id]
    if assignment is not None:
        candidates = [assignment]
    if not candidates:
        raise ItemError(
            403, "forbidden", Text(N_("you have no assignment in wave %(wave)s"), wave=wave_id)
        )
    wave: Wave = candidates[0].wave
    # Without a locality an item is filed under its assignment's own locality (documented).
    code = _text(item, "locality", required=assignment is None)
    if code is None:
        locality = ctx.locality_by_id(assignment.locality_id)
    else:
        locality = ctx.locality(code)
        if locality is None:
            raise ItemError(
                400, "bad_request", Text(N_("no locality with code '%(code)s'"), code=code)
            )
    mode = _text(item, "mode", required=assignment is None) or assignment.mode
    case_id = _integer(item, "cati_case")
    case = None
    if case_id is not None:
        case = db.session.get(CatiCase, case_id)
        if case is None:
            raise ItemError(
                403,
                "forbidden",
                Text(N_("case %(id)s is not an open case of yours"), id=case_id),
            )
    try:
        key = str(uuidlib.UUID(uuid))
    except ValueError:
        key = uuid  # refused with its message when stored
    if case is None and mode == "phone":
        # A correction (or a resend) of a telephone interview: the case it completed.
        case = db.session.scalar(
            select(CatiCase).where(CatiCase.wave_id == wave.id, CatiCase.response_uuid == key)
        )
    if case is not None or mode == "phone":
        ctx.load_ancestors(locality)
    try:
        if assignment is not None:
            check_filing(assignment, locality=locality, mode=mode, wave=wave, case=case, uuid=key)
        else:
            filing_assignment(
                candidates, wave=wave, locality=locality, mode=mode, case=case, uuid=key
            )
    except FilingRefused as exc:
        raise ItemError(
            exc.status,
            "forbidden" if exc.status == 403 else "bad_request",
            exc.text or exc.message,
        ) from exc
    schema = wave.questionnaire_version.schema
    language = _text(item, "language", required=False) or schema.default_language
    started_at = parse_time(item.get("started_at"), "started_at")
    ended_at = parse_time(item.get("ended_at"), "ended_at")
    if started_at and ended_at and ended_at < started_at:
        raise ItemError(400, "bad_request", Text(N_("'ended_at' is before 'started_at'")))
    latest = datetime.utcnow() + timedelta(days=1)
    for name, moment in (("started_at", started_at), ("ended_at", ended_at)):
        if moment is not None and moment > latest:
            raise ItemError(
                400,
                "bad_request",
                Text(N_("'%(key)s' is in the future; check the clock"), key=name),
            )
    paradata = parse_paradata(item.get("paradata"))
    extras: list[Callable[[Response | NewResponse], Iterable[object]]] = [
        lambda response: [paradata.row(response, "api")]
    ]
    for hook in hooks:
        extra = hook(ctx.user, item, wave)
        if extra is not None:
            extras.append(extra)
    return Submission(
        wave=wave,
        locality=locality,
        mode=mode,
        language=language,
        uuid=uuid,
        answers=_answers(item),
        enumerator=ctx.user,
        started_at=started_at,
        ended_at=ended_at,
        paradata={"device": paradata.device},
        extra_rows=lambda response: [row for extra in extras for row in extra(response)],
    )


#: A check on an item beyond the standard ones (e.g. its CATI case): returns a function giving
#: rows to store with a newly created response, or None; raises :class:`ItemError` to refuse.
ItemHook = Callable[[User, dict, Wave], Callable[[Response | NewResponse], Iterable[object]] | None]


def _refused(index: int, sub: Submission, error: SubmissionError) -> ItemResult:
    """The result of a submission refused with ``error``."""
    return ItemResult(
        index,
        sub.uuid,
        error.status,
        _outcome_of(error, sub),
        error.text or error.message,
        answer_errors=list(error.answer_errors),
    )


def _outcome_of(error: SubmissionError, sub: Submission) -> str:
    if error.status == 422:
        return "invalid"
    if error.status == 409:
        return "closed" if not sub.wave.is_open else "conflict"
    if error.status == 403:
        return "forbidden"
    return "bad_request"


def submit_items(user: User, items: list[Any], hooks: Iterable[ItemHook] = ()) -> list[ItemResult]:
    """Check and store ``items`` sent by ``user``; return one result per item, in order."""
    ctx = _Context(user, items)
    hooks = tuple(hooks)
    results: list[ItemResult | None] = [None] * len(items)
    pending: list[tuple[int, Submission]] = []
    for i, item in enumerate(items):
        uuid = item.get("uuid") if isinstance(item, dict) else None
        uuid = uuid if isinstance(uuid, str) else None
        try:
            pending.append((i, _submission(ctx, item, hooks)))
        except ItemError as exc:
            results[i] = ItemResult(i, uuid, exc.status, exc.outcome, exc.text or exc.message)
    stored = _stored(user, pending) if ctx.stored != 0 else {}
    pending = _corrections(user, pending, results, stored)
    outcomes = submit_responses([sub for _, sub in pending], stored=set(stored)) if pending else []
    for (i, sub), outcome in zip(pending, outcomes, strict=True):
        if outcome.error is not None:
            results[i] = _refused(i, sub, outcome.error)
        elif outcome.created:
            results[i] = ItemResult(
                i,
                outcome.response.uuid,
                201,
                "created",
                Text(N_("stored")),
                response=outcome.response,
            )
        else:
            results[i] = ItemResult(
                i,
                outcome.response.uuid,
                200,
                "duplicate",
                Text(N_("already stored; nothing changed")),
                response=outcome.response,
            )
    return [r for r in results if r is not None]


def _uuid_key(value: Any) -> str | None:
    try:
        return str(uuidlib.UUID(value))
    except (ValueError, AttributeError, TypeError):
        return None


# Built once. Which of a batch's UUIDs are stored already, by whom, and their review state:
# one small read instead of two (a new interview, the usual case, finds no row).
_response = Response.__table__
_review = ResponseReview.__table__
_STORED = (
    select(_response.c.uuid, _response.c.enumerator_id, _review.c.state)
    .select_from(_response.outerjoin(_review, _review.c.response_id == _response.c.id))
    .where(_response.c.uuid.in_(bindparam("uuids", expanding=True)))
)


def _stored(user: User, pending: list[tuple[int, Submission]]) -> dict[str, bool]:
    """The UUIDs of ``pending`` already stored, each with whether it is one of the sender's
    interviews a supervisor sent back (to be corrected)."""
    keys = {key for _, sub in pending if (key := _uuid_key(sub.uuid)) is not None}
    if not keys:
        return {}
    rows = db.session.connection().execute(_STORED, {"uuids": sorted(keys)})
    return {
        uuid: enumerator_id == user.id and state == "sent_back"
        for uuid, enumerator_id, state in rows
    }


def _corrections(
    user: User,
    pending: list[tuple[int, Submission]],
    results: list[ItemResult | None],
    stored: dict[str, bool],
) -> list[tuple[int, Submission]]:
    """Store corrections of interviews a supervisor sent back; return the other items.

    A sent-back interview may come again under its UUID with different answers: it replaces
    the stored answers (checked like any submission) and goes back to the review queue.
    ``stored`` is :func:`_stored` of ``pending``.
    """
    if not any(stored.values()):
        return pending
    from .review import resubmit, sent_back_responses

    sent_back = sent_back_responses(user, [uuid for uuid, back in stored.items() if back])
    if not sent_back:
        return pending
    rest = []
    for i, sub in pending:
        try:
            response = sent_back.get(str(uuidlib.UUID(sub.uuid)))
        except (ValueError, AttributeError, TypeError):
            response = None
        if response is None:
            rest.append((i, sub))
            continue
        try:
            changed = resubmit(response, sub, user)
        except SubmissionError as err:
            db.session.rollback()
            results[i] = _refused(i, sub, err)
            continue
        results[i] = ItemResult(
            i,
            response.uuid,
            200,
            "corrected" if changed else "duplicate",
            Text(N_("correction stored; back in the review queue"))
            if changed
            else Text(N_("already stored; nothing changed")),
            response=response,
        )
    return rest
