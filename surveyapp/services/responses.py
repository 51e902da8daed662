"""Store a submitted interview: validated against its questionnaire version, all or nothing."""

from __future__ import annotations

import hashlib
import json
import uuid as uuidlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError

from ..database import commit_keeping_state, sqlite_write_lock
from ..errors import N_, Text, UserError
from ..extensions import db
from ..models import Answer, Locality, Response, User, Wave
from ..questionnaire import AnswerError, clean_answers

#: The status a rejected response gets; estimates and reports leave such responses out.
REJECTED = "rejected"


def counted_response_filter():
    """The SQL condition of responses that count in estimates: all but rejected ones.

    ``services.wave_data.read_wave`` applies the same rule (``status != 'rejected'``).
    """
    return Response.status != REJECTED


class SubmissionError(UserError):
    """The submission is refused; nothing was stored.

    ``status`` is the HTTP status a web caller should answer with (400, 403, 409, 422).
    """

    def __init__(
        self,
        message: str | Text,
        status: int = 422,
        answer_errors: list[AnswerError] | None = None,
    ):
        super().__init__(message, status)
        self.answer_errors = answer_errors or []


@dataclass
class Submission:
    wave: Wave
    #: A :class:`Locality`, or what reads like one (id, code, level, ``ancestors()``,
    #: ``path_by_level()``): the sync API's cached ``Place``.
    locality: Locality
    mode: str
    language: str
    uuid: str
    answers: dict
    enumerator: User | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    paradata: dict = field(default_factory=dict)
    # Rows of other modules (fieldwork paradata, a CATI case's outcome) to store in the same
    # transaction as a newly created response, given it (a :class:`NewResponse`, or the
    # Response when stored alone): ORM objects or :class:`Row` s; not called for an
    # identical resend.
    extra_rows: Callable[[Any], Iterable[object]] | None = None


def content_hash(sub: Submission, cleaned: dict) -> str:
    """Hash what defines a submission, so an identical resend is recognised."""
    body = {
        "wave": sub.wave.id,
        "locality": sub.locality.code,
        "mode": sub.mode,
        "language": sub.language,
        "answers": cleaned,
    }
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


def _check_uuid(value: str) -> str:
    try:
        return str(uuidlib.UUID(value))
    except (ValueError, AttributeError, TypeError) as exc:
        raise SubmissionError(
            Text(N_("'%(value)s' is not a valid UUID"), value=str(value)[:60]), status=400
        ) from exc


@dataclass(frozen=True)
class CheckedSubmission:
    """A submission that passed every check: its UUID, cleaned answers and content hash."""

    key: str
    cleaned: dict
    digest: str


def check_submission(sub: Submission) -> CheckedSubmission:
    """Run every check of :func:`submit_response` without storing anything.

    Raise :class:`SubmissionError` for the first problem found.
    """
    key = _check_uuid(sub.uuid)
    survey = sub.wave.survey
    if not sub.wave.is_open:
        template = (
            N_("wave %(code)s is not open yet")
            if sub.wave.state == "planned"
            else N_("wave %(code)s is closed")
        )
        raise SubmissionError(Text(template, code=sub.wave.code), status=409)
    if sub.mode not in survey.mode_list:
        raise SubmissionError(
            Text(N_("mode '%(mode)s' is not used by this survey"), mode=sub.mode), status=400
        )
    schema = sub.wave.questionnaire_version.schema
    if sub.language not in {lang.code for lang in schema.languages}:
        raise SubmissionError(
            Text(N_("the questionnaire has no language '%(lang)s'"), lang=sub.language),
            status=400,
        )
    # By id: the district itself is loaded only to be named in the refusal.
    if not any(loc.id == survey.district_id for loc in sub.locality.ancestors()):
        raise SubmissionError(
            Text(
                N_("locality %(code)s is outside the survey's district %(district)s"),
                code=sub.locality.code,
                district=survey.district.code,
            ),
            status=403,
        )
    cleaned, errors = clean_answers(schema, sub.answers)
    if errors:
        raise SubmissionError(
            Text(N_("some answers are not valid")), status=422, answer_errors=errors
        )
    return CheckedSubmission(key, cleaned, content_hash(sub, cleaned))


def submit_response(sub: Submission) -> tuple[Response, bool]:
    """Validate and store ``sub``; return (response, created).

    An identical resend under a known UUID returns the stored response with ``created``
    False; a different body under a known UUID raises a 409 :class:`SubmissionError`.
    """
    checked = check_submission(sub)
    key, digest = checked.key, checked.digest

    existing = db.session.scalar(select(Response).where(Response.uuid == key))
    if existing is not None:
        return _resend(existing, digest)

    response = _new_response(sub, checked)
    db.session.add(response)
    try:
        db.session.commit()
    except IntegrityError:
        # Another request stored the same UUID between our check and our insert.
        db.session.rollback()
        existing = db.session.scalar(select(Response).where(Response.uuid == key))
        if existing is None:
            raise
        return _resend(existing, digest)
    return response, True


def response_values(sub: Submission, checked: CheckedSubmission) -> dict:
    """The column values of a new response row for ``sub``."""
    survey = sub.wave.survey
    path = sub.locality.path_by_level()
    return {
        "uuid": checked.key,
        "survey_id": survey.id,
        "wave_id": sub.wave.id,
        "questionnaire_version_id": sub.wave.questionnaire_version_id,
        "mode": sub.mode,
        "enumerator_id": sub.enumerator.id if sub.enumerator else None,
        "language": sub.language,
        "started_at": sub.started_at,
        "ended_at": sub.ended_at,
        "submitted_at": datetime.utcnow(),
        "locality_id": sub.locality.id,
        "district_id": path["district"].id if "district" in path else None,
        "street_id": path["street"].id if "street" in path else None,
        "community_id": path["community"].id if "community" in path else None,
        "grid_id": path["grid"].id if "grid" in path else None,
        "content_hash": checked.digest,
    }


def _new_response(sub: Submission, checked: CheckedSubmission) -> Response:
    response = Response(**response_values(sub, checked))
    response.answers = list(answer_rows(checked.cleaned))
    if sub.extra_rows is not None:
        db.session.add(response)
        db.session.flush()  # the id a plain :class:`Row` refers to
        extras = list(sub.extra_rows(response))
        db.session.add_all([row for row in extras if not isinstance(row, Row)])
        _bulk_insert([row for row in extras if isinstance(row, Row)])
    return response


@dataclass(frozen=True)
class Row:
    """A row for ``extra_rows`` to insert as it is: a table and its column values (an ORM
    object costs more to build and to read back than the INSERT)."""

    table: Table
    values: dict


@dataclass(frozen=True)
class NewResponse:
    """A response :func:`submit_responses` just inserted: what its callers and ``extra_rows``
    read of it (no ORM object: building one and attaching it to the session cost more than
    the INSERT)."""

    id: int
    uuid: str
    submitted_at: datetime
    content_hash: str  # a repeat of its UUID in the same batch is compared with it


@dataclass
class Outcome:
    """What became of one submission of a batch: stored, recognised, or refused.

    ``response`` is the stored Response, or a :class:`NewResponse` when this batch stored it
    (both have ``id``, ``uuid`` and ``submitted_at``)."""

    response: Response | NewResponse | None = None
    created: bool = False
    error: SubmissionError | None = None


def submit_responses(subs: list[Submission], stored: set[str] | None = None) -> list[Outcome]:
    """Validate and store several submissions in one transaction; one outcome per submission.

    Each submission is judged exactly as by :func:`submit_response` (the same checks, the same
    idempotency per UUID, a 409 for a different body under a known UUID); a refused one does
    not stop the others. A UUID repeated within the batch counts as a resend of its first
    occurrence. If a concurrent request stores one of the UUIDs first, the batch falls back to
    storing its submissions one by one, which resolves the race per UUID.

    ``stored``, when the caller has just read it, holds which of the submissions' UUIDs (in
    their canonical form) are stored already: only those are read again here.
    """
    outcomes = [Outcome() for _ in subs]
    checked: dict[int, CheckedSubmission] = {}
    for i, sub in enumerate(subs):
        try:
            checked[i] = check_submission(sub)
        except SubmissionError as exc:
            outcomes[i].error = exc
    keys = {c.key for c in checked.values()}
    if stored is not None:
        keys &= stored
    existing = (
        {r.uuid: r for r in db.session.scalars(select(Response).where(Response.uuid.in_(keys)))}
        if keys
        else {}
    )
    fresh: list[int] = []
    first: dict[str, int] = {}  # UUID -> the item of this batch that stores it
    repeats: list[int] = []
    for i, c in checked.items():
        known = existing.get(c.key)
        if known is not None:
            try:
                outcomes[i].response, outcomes[i].created = _resend(known, c.digest)
            except SubmissionError as exc:
                outcomes[i].error = exc
        elif c.key in first:
            repeats.append(i)
        else:
            first[c.key] = i
            fresh.append(i)
    if not fresh:
        db.session.rollback()
        return outcomes
    # Prepared before taking the writers' lock: the rows of the responses and of their answers.
    rows = [response_values(subs[i], checked[i]) for i in fresh]
    answers = [list(answer_tuples(checked[i].cleaned)) for i in fresh]
    try:
        with sqlite_write_lock():
            # One INSERT … RETURNING of the new ids for the batch, in the order of ``rows``
            # (Core: the ORM's bulk insert built an object from every returned row).
            ids = db.session.connection().execute(_INSERT_RESPONSES, rows).scalars().all()
            stored = [
                NewResponse(id, row["uuid"], row["submitted_at"], row["content_hash"])
                for row, id in zip(rows, ids, strict=True)
            ]
            extras = []
            for i, response in zip(fresh, stored, strict=True):
                outcomes[i].response, outcomes[i].created = response, True
                if subs[i].extra_rows is not None:
                    extras.extend(subs[i].extra_rows(response))
            _bulk_insert(extras)
            _insert_answer_rows(
                [
                    (response.id, *row)
                    for response, batch in zip(stored, answers, strict=True)
                    for row in batch
                ]
            )
            commit_keeping_state()
    except IntegrityError:
        db.session.rollback()
        for i in checked:
            try:
                outcomes[i].response, outcomes[i].created = submit_response(subs[i])
                outcomes[i].error = None
            except SubmissionError as exc:
                outcomes[i] = Outcome(error=exc)
        return outcomes
    for i in repeats:  # a UUID sent twice in one batch: the second is a resend of the first
        try:
            outcomes[i].response, outcomes[i].created = _resend(
                outcomes[first[checked[i].key]].response, checked[i].digest
            )
        except SubmissionError as exc:
            outcomes[i].error = exc
    return outcomes


_ANSWER_COLUMNS = (
    "response_id",
    "question",
    "value",
    "number",
    "multiple",
    "repeat_group",
    "instance",
)
_INSERT_ANSWERS_QMARK = (
    "INSERT INTO answer (response_id, question, value, number, multiple, repeat_group, instance)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
#: PostgreSQL (psycopg): every row in one statement, each column an array (in their order).
_INSERT_ANSWERS_UNNEST = (
    "INSERT INTO answer (response_id, question, value, number, multiple, repeat_group, instance)"
    " SELECT r, q, v, n, m, g, i FROM unnest(%s::integer[], %s::varchar[], %s::text[],"
    " %s::float8[], %s::boolean[], %s::varchar[], %s::integer[])"
    " WITH ORDINALITY AS t(r, q, v, n, m, g, i, o) ORDER BY o"
)
# The same constant statement in each driver's placeholder style (sqlite3: ?, psycopg: %s).
_INSERT_ANSWERS = {
    "qmark": _INSERT_ANSWERS_QMARK,
    "format": _INSERT_ANSWERS_QMARK.replace("?", "%s"),
    "pyformat": _INSERT_ANSWERS_QMARK.replace("?", "%s"),
}


# Built once: the INSERT … RETURNING of new responses (Core, ``sort_by_parameter_order``: the
# ids come back in the order of the rows, through the ``uuid`` sentinel column).
_INSERT_RESPONSES = insert(Response.__table__).returning(
    Response.__table__.c.id, sort_by_parameter_order=True
)


def _bulk_insert(objects: list) -> None:
    """Insert new ORM objects (call attempts) and :class:`Row` s (paradata) with one Core
    INSERT per table and set of columns.

    An object's column values are read from it, and the keys of the many-to-one
    relationships they were given (``response=…``) from the related rows, which already have
    their ids; the objects themselves are not added to the session. Column defaults apply as
    for any INSERT (the ORM's bulk insert, used before, spent more on bookkeeping than the
    database on the rows).
    """
    groups: dict[tuple[object, frozenset], list[dict]] = {}
    for obj in objects:
        if isinstance(obj, Row):
            groups.setdefault((obj.table, frozenset(obj.values)), []).append(obj.values)
            continue
        mapper = sa_inspect(type(obj))
        state = obj.__dict__
        values = {
            prop.columns[0].key: state[prop.key]
            for prop in mapper.column_attrs
            if prop.key in state
        }
        for rel in mapper.relationships:
            target = state.get(rel.key)
            if target is None or rel.direction.name != "MANYTOONE":
                continue
            for local, remote in rel.local_remote_pairs:
                values[local.key] = getattr(
                    target, sa_inspect(type(target)).get_property_by_column(remote).key
                )
        # One statement per table and set of columns given (an executemany needs the same).
        groups.setdefault((type(obj).__table__, frozenset(values)), []).append(values)
    connection = db.session.connection() if groups else None
    for (table, _columns), rows in groups.items():
        statement = _INSERTS.get(table)
        if statement is None:  # built once per table: its cache key is not computed again
            statement = _INSERTS.setdefault(table, insert(table))
        connection.execute(statement, rows)


#: A plain INSERT of each table :func:`_bulk_insert` has written to.
_INSERTS: dict[Table, Any] = {}


def _insert_answer_rows(rows: list[tuple]) -> None:
    """Insert answer rows (response_id, question, value, number, multiple, repeat_group,
    instance) with one ``executemany``.

    The rows go to the driver as tuples in the session's transaction: the ORM's bulk path (and
    even a Core insert) spends more per row on bookkeeping than SQLite spends storing it.
    """
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        # One statement whatever the number of rows: the columns as arrays (an executemany
        # is one INSERT per row for the server to parse, plan and run).
        columns = tuple(map(list, zip(*rows, strict=True)))
        connection.exec_driver_sql(_INSERT_ANSWERS_UNNEST, columns)
        return
    statement = _INSERT_ANSWERS.get(connection.dialect.paramstyle)
    if statement is None:
        db.session.execute(
            insert(Answer.__table__), [dict(zip(_ANSWER_COLUMNS, row, strict=True)) for row in rows]
        )
        return
    connection.exec_driver_sql(statement, rows)


def _resend(existing: Response | NewResponse, digest: str) -> tuple[Response | NewResponse, bool]:
    if existing.content_hash != digest:
        raise SubmissionError(
            Text(
                N_("a different response was already stored under UUID %(uuid)s"),
                uuid=existing.uuid,
            ),
            status=409,
        )
    return existing, False


def answer_tuples(cleaned: dict, repeat_group: str = "", instance: int = 0):
    """Turn cleaned answers into (question, value, number, multiple, repeat group, instance)
    of answer rows: one per selected code; for a repeat group, one row per instance (the
    group's id as question, an empty value), then the instance's answers."""
    for question, value in cleaned.items():
        if isinstance(value, list):
            if value and isinstance(value[0], dict):
                for number, answers in enumerate(value, start=1):
                    yield question, "", None, False, question, number
                    yield from answer_tuples(answers, question, number)
                continue
            for code in value:
                yield question, str(code), None, True, repeat_group, instance
        elif isinstance(value, bool):
            yield question, str(value).lower(), None, False, repeat_group, instance
        elif isinstance(value, int | float):
            yield question, str(value), float(value), False, repeat_group, instance
        else:
            yield question, str(value), None, False, repeat_group, instance


def answer_values(cleaned: dict):
    """Turn cleaned answers into the column values of answer rows (one per selected code)."""
    for row in answer_tuples(cleaned):
        yield dict(zip(_ANSWER_COLUMNS[1:], row, strict=True))


def answer_rows(cleaned: dict):
    """Turn cleaned answers into :class:`Answer` rows (one per selected code)."""
    for values in answer_values(cleaned):
        yield Answer(**values)
