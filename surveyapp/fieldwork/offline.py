"""What a tablet needs to interview offline: its assignments and their questionnaires as JSON.

The questionnaire document carries each condition parsed, as the JSON tree of
:meth:`Condition.to_json`, which ``static/js/conditions.js`` evaluates without parsing anything;
the server checks every answer again on sync.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select

from ..caching import BoundedCache
from ..extensions import db
from ..models import (
    LOCALITY_STAMP,
    Assignment,
    ChangeStamp,
    Locality,
    QuestionnaireVersion,
    Response,
    Survey,
    User,
    Wave,
)
from ..questionnaire import Question, Questionnaire
from ..questionnaire.conditions import FORMAT as CONDITION_FORMAT
from ..questionnaire.model import Repeat


def _text(text) -> dict[str, str] | None:
    return dict(text) if text else None


def _question(q: Question) -> dict[str, Any]:
    return {
        "id": q.id,
        "type": q.type,
        # how offline.js shows it and what it checks (the registry's input kind)
        "input": q.kind.input,
        "multiple": q.kind.multiple,
        "label": _text(q.label),
        "hint": _text(q.hint),
        "required": q.required,
        "required_if": q.required_if.to_json() if q.required_if else None,
        "choice_filter": q.choice_filter.to_json() if q.choice_filter else None,
        "relevant": q.relevant.to_json() if q.relevant else None,
        "constraint": q.constraint.to_json() if q.constraint else None,
        "constraint_message": _text(q.constraint_message),
        "min": q.minimum,
        "max": q.maximum,
        "max_length": q.max_length,
        # a calculate question: evaluated on the tablet for skip logic, again by the server
        "calculation": q.calculation.to_json() if q.calculation else None,
        "other_code": q.other_code,
        "choices": [
            {
                "code": c.code,
                "label": _text(c.label),
                "exclusive": c.exclusive,
                # what the choice filter reads (its columns, "name" the code)
                **({"properties": c.columns()} if q.choice_filter else {}),
            }
            for c in q.choices
        ],
    }


def _repeat(repeat: Repeat) -> dict[str, Any]:
    return {
        "count": repeat.count.to_json() if repeat.count is not None else None,
        "min": repeat.minimum,
        "max": repeat.maximum,
        # the most instances (model.MAX_INSTANCES or max): a count above it is an error
        "limit": repeat.limit,
    }


def questionnaire_document(version: QuestionnaireVersion) -> dict[str, Any]:
    """Return a stored questionnaire version as the JSON the offline interview runs."""
    schema: Questionnaire = version.schema
    return {
        "version_id": version.id,
        "id": schema.id,
        "version": schema.version,
        "sha256": version.sha256,
        # A tablet holding a document of another condition format fetches it again.
        "condition_format": CONDITION_FORMAT,
        "title": _text(schema.title),
        "description": _text(schema.description),
        "languages": [
            {"code": lang.code, "name": lang.name, "rtl": lang.rtl} for lang in schema.languages
        ],
        "groups": [
            {
                "id": g.id,
                "title": _text(g.title),
                "relevant": g.relevant.to_json() if g.relevant else None,
                # a repeat group: asked once per instance (None for a group asked once)
                "repeat": _repeat(g.repeat) if g.repeat is not None else None,
                "questions": [_question(q) for q in g.questions],
            }
            for g in schema.groups
        ],
    }


def _name(row, lang: str) -> str:
    """:meth:`Locality.name` of a plain row."""
    return row.name_en if lang == "en" and row.name_en else row.name_zh


#: The localities above (and including) each of ``roots``: one recursive query of plain rows.
_up = (
    select(Locality.id, Locality.parent_id)
    .where(Locality.id.in_(bindparam("roots", expanding=True)))
    .cte("up", recursive=True)
)
_up = _up.union_all(select(Locality.id, Locality.parent_id).where(Locality.id == _up.c.parent_id))
_COLUMNS = (
    Locality.id,
    Locality.parent_id,
    Locality.code,
    Locality.name_zh,
    Locality.name_en,
    Locality.level,
)
_ABOVE = select(*_COLUMNS).where(Locality.id.in_(select(_up.c.id)))

#: Every locality below each of ``roots`` (the root's id in ``root``), in code order.
_below = (
    select(Locality.parent_id.label("root"), Locality.id)
    .where(Locality.parent_id.in_(bindparam("roots", expanding=True)))
    .cte("below", recursive=True)
)
_below = _below.union_all(
    select(_below.c.root, Locality.id).where(Locality.parent_id == _below.c.id)
)
_BELOW = (
    select(_below.c.root, *_COLUMNS)
    .join_from(_below, Locality, Locality.id == _below.c.id)
    .order_by(_below.c.root, Locality.code)
)

#: How many interviews the user filed in the assignment's wave: counted in the index of the
#: enumerator's interviews by wave (ix_response_enumerator_wave), for the assigned waves only
#: (counting every interview the user ever filed, from the table, grew with each of them).
_DONE = (
    select(func.count())
    .select_from(Response)
    .where(Response.enumerator_id == Assignment.enumerator_id, Response.wave_id == Wave.id)
    .scalar_subquery()
)

#: The user's assignments with what the document shows of their waves and surveys, the
#: interviews they filed in each wave and the stamp of the locality table: one statement.
_ASSIGNMENTS = (
    select(
        Assignment.id,
        Assignment.mode,
        Assignment.target,
        Assignment.ended_at.is_not(None).label("ended"),
        Assignment.locality_editable,
        Assignment.locality_id,
        Wave.id.label("wave_id"),
        Wave.code.label("wave_code"),
        Wave.name.label("wave_name"),
        Wave.is_open,
        Wave.questionnaire_version_id,
        QuestionnaireVersion.sha256,  # the versions' hashes only (a row carries the text)
        Survey.id.label("survey_id"),
        Survey.name.label("survey_name"),
        Survey.modes,
        _DONE.label("done"),
        select(ChangeStamp.stamp)
        .where(ChangeStamp.name == LOCALITY_STAMP)
        .scalar_subquery()
        .label("localities_stamp"),
    )
    .join(Wave, Wave.id == Assignment.wave_id)
    .join(Survey, Survey.id == Wave.survey_id)
    .outerjoin(QuestionnaireVersion, QuestionnaireVersion.id == Wave.questionnaire_version_id)
    .where(Assignment.enumerator_id == bindparam("user_id"))
    .order_by(Assignment.id)
)


@dataclass(frozen=True)
class _Places:
    """What the document says of an assignment's locality: its code and path, and the JSON
    of the localities it may file interviews under (UTF-8) with a digest of it."""

    code: str
    path: str
    json: bytes
    digest: bytes


#: :class:`_Places` by language, locality, whether it may be changed and the stamp of the
#: locality table (``change_stamp``, replaced by a trigger at every change of a locality, on
#: every server sharing the database): a street's list has hundreds of places, and reading
#: and encoding it was most of the tablet's request.
_PLACES: BoundedCache[_Places] = BoundedCache(512)


def _filing_places(
    root_id: int, editable: bool, above: dict[int, Any], below: list, lang: str
) -> list[dict[str, Any]]:
    """The localities an assignment at ``root_id`` may file interviews under (as
    :func:`~surveyapp.fieldwork.assignments.filing_localities`: grids first, depth first in
    code order, then the assigned locality and the levels between), with their paths."""
    path = []
    row = above[root_id]
    while row is not None:
        path.append(row)
        row = above.get(row.parent_id) if row.parent_id is not None else None
    path.reverse()
    shown = [_name(loc, lang) for loc in path if loc.level not in ("province", "city")]
    codes = [loc.code for loc in path]
    inner: list[dict[str, Any]] = [
        {"code": path[-1].code, "path": " › ".join(shown), "within": list(codes)}
    ]
    if not editable:
        return inner
    children: dict[int, list] = {}
    for row in below:
        children.setdefault(row.parent_id, []).append(row)
    stack = [(row, shown, codes) for row in reversed(children.get(root_id, []))]
    if not stack:
        return inner
    leaves: list[dict[str, Any]] = []
    while stack:
        row, parent_shown, parent_codes = stack.pop()
        here_shown = parent_shown + (
            [_name(row, lang)] if row.level not in ("province", "city") else []
        )
        here_codes = [*parent_codes, row.code]
        place = {"code": row.code, "path": " › ".join(here_shown), "within": here_codes}
        kids = children.get(row.id, [])
        (inner if kids else leaves).append(place)
        stack.extend((kid, here_shown, here_codes) for kid in reversed(kids))
    return leaves + inner


def _root_path(root_id: int, above: dict[int, Any], lang: str) -> str:
    names = []
    row = above[root_id]
    while row is not None:
        if row.level not in ("province", "city"):
            names.append(_name(row, lang))
        row = above.get(row.parent_id) if row.parent_id is not None else None
    return " › ".join(reversed(names))


def user_assignments(user: User) -> list[Assignment]:
    return db.session.scalars(
        select(Assignment).where(Assignment.enumerator_id == user.id).order_by(Assignment.id)
    ).all()


#: Where each assignment's list of localities goes in the document made without them: a text
#: that no JSON of this application's data holds (a NUL character and a random token).
_SLOT = "\x00localities " + secrets.token_hex(8) + " %d\x00"


@dataclass(frozen=True)
class AssignmentsDocument:
    """``{"assignments": [...]}`` as JSON: the document without the localities' lists (small,
    made per request), cut where each list goes, and the lists (large, cached with their
    digests)."""

    pieces: tuple[bytes, ...]  # one more than ``places``
    places: tuple[_Places, ...]

    @property
    def etag(self) -> str:
        """A strong validator of :attr:`body`, from the small pieces and the lists' digests
        (hashing the whole document again was a tenth of the request's time): the same
        document on every server, another one whenever any of its bytes differ."""
        digest = hashlib.blake2b(digest_size=16)
        for piece, places in zip(self.pieces, self.places, strict=False):
            digest.update(len(piece).to_bytes(8, "big"))
            digest.update(piece)
            digest.update(places.digest)
        digest.update(self.pieces[-1])
        return digest.hexdigest()

    @property
    def body(self) -> bytes:
        """The document's bytes (UTF-8), the lists in their places."""
        parts = [self.pieces[0]]
        for places, piece in zip(self.places, self.pieces[1:], strict=True):
            parts += (places.json, piece)
        return b"".join(parts)


def assignments_document(
    user: User, lang: str, dumps: Callable[[Any], str], end: str = ""
) -> AssignmentsDocument:
    """``user``'s assignments with the localities they may file interviews under, as
    ``{"assignments": [...]}`` encoded by ``dumps`` (then ``end``).

    One statement when the localities of every assignment are known for the locality
    table's current stamp; two more (plain rows, whatever the number of assignments and
    localities) for those that are not."""
    # Core on the session's connection: plain rows, without the ORM's per-statement work
    # (the largest part of this request's own time).
    rows = db.session.connection().execute(_ASSIGNMENTS, {"user_id": user.id}).all()
    places = _places(rows, lang, dumps)
    shown: list[_Places] = []
    out = []
    for a in rows:
        known = places[a.locality_id, bool(a.locality_editable)]
        out.append(
            {
                "id": a.id,
                "mode": a.mode,
                "target": a.target,
                "ended": bool(a.ended),
                "wave": {
                    "id": a.wave_id,
                    "code": a.wave_code,
                    "name": a.wave_name,
                    "open": a.is_open,
                    "submitted_by_you": a.done,
                },
                "survey": {
                    "id": a.survey_id,
                    "name": a.survey_name,
                    "modes": [m for m in a.modes.split(",") if m],  # Survey.mode_list
                },
                "locality": {"code": known.code, "path": known.path},
                "localities": _SLOT % len(shown),
                "questionnaire": {"version_id": a.questionnaire_version_id, "sha256": a.sha256},
            }
        )
        shown.append(known)
    rest = dumps({"assignments": out}) + end
    pieces = []
    for i in range(len(shown)):
        piece, _slot, rest = rest.partition(dumps(_SLOT % i))
        pieces.append(piece.encode())
    pieces.append(rest.encode())
    return AssignmentsDocument(tuple(pieces), tuple(shown))


def _places(rows: list, lang: str, dumps: Callable[[Any], str]) -> dict[tuple, _Places]:
    """:class:`_Places` of each assignment's (locality, editable), from the cache when the
    locality table's stamp is the one they were made at, else from two queries."""
    wanted = {(a.locality_id, bool(a.locality_editable)) for a in rows}
    stamp = rows[0].localities_stamp if rows else None
    found: dict[tuple, _Places] = {}
    if stamp is not None:  # no stamp (an emptied table): nothing is cached on it
        for root, editable in wanted:
            hit = _PLACES.get((stamp, lang, root, editable))
            if hit is not None:
                found[root, editable] = hit
    missing = sorted(wanted - found.keys())
    if not missing:
        return found
    roots = sorted({root for root, _editable in missing})
    above = {row.id: row for row in db.session.execute(_ABOVE, {"roots": roots})}
    editable_roots = sorted({root for root, editable in missing if editable})
    below: dict[int, list] = {root: [] for root in editable_roots}
    if editable_roots:
        for row in db.session.execute(_BELOW, {"roots": editable_roots}):
            below[row.root].append(row)
    for root, editable in missing:
        text = dumps(_filing_places(root, editable, above, below.get(root, []), lang)).encode()
        made = _Places(
            code=above[root].code,
            path=_root_path(root, above, lang),
            json=text,
            digest=hashlib.blake2b(text, digest_size=16).digest(),
        )
        if stamp is not None:
            made = _PLACES.put((stamp, lang, root, editable), made)
        found[root, editable] = made
    return found
