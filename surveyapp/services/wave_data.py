"""A wave's responses read from the database as arrays: one row per counted respondent.

:func:`read_wave` is the one reader of a wave's stored answers for estimation. It returns a
:class:`WaveData`: the respondents' localities, mode, sex and age group (as codes with their
labels), every indicator and composite score of the questionnaire as a float array (NaN outside
the base or for excluded codes) and the 0/1 shares of each multiple-choice question's codes.
Responses rejected by review (:func:`~surveyapp.services.responses.counted_response_filter`)
and screened-out respondents (no sex or age group) are left out.

:mod:`surveyapp.services.wave_snapshot` keeps what it returns in memory and on disk
(:func:`~surveyapp.services.wave_snapshot.extract_wave`); the estimates read it through there.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import and_, func, or_, select

from ..estimation import Categorical
from ..extensions import db
from ..models import Answer, Locality, Response, Wave
from ..questionnaire import Questionnaire
from .responses import counted_response_filter

__all__ = ["WaveData", "eligible_counts_by_street", "needed_questions", "read_wave"]


@dataclass(frozen=True)
class WaveData:
    """One row per eligible, not rejected, response of a wave, as arrays."""

    response_ids: np.ndarray
    columns: dict[str, np.ndarray]  # street, community, grid, mode, sex, age_group (codes)
    values: dict[str, np.ndarray]  # indicator or composite id -> float, NaN = not counted
    shares: dict[str, dict[str, np.ndarray]]  # multiple-choice qid -> code -> 0/1/NaN
    # The same columns as integer codes with their labels, when extraction made them.
    codes: dict[str, Categorical] = field(default_factory=dict)
    # Names the content when it is exactly that of a snapshot file (its name and checksum):
    # the weighted design of such data is persisted next to it (see build_design).
    content_key: str = field(default="", compare=False)

    @property
    def n(self) -> int:
        return len(self.response_ids)

    def domain(self, name: str) -> Categorical | np.ndarray:
        """A column for grouping: coded (fast to group by) when available."""
        return self.codes.get(name, self.columns[name])


def needed_questions(schema: Questionnaire) -> tuple[set[str], list[str]]:
    """The questions whose answers the estimates read (indicators, their bases, composites,
    sex, age group and every multiple-choice question), and the multiple-choice ones."""
    needed = {"sex", "age_group"}
    for ind in schema.indicators:
        needed.add(ind.question)
        if ind.base is not None:
            needed |= set(ind.base.refs)
    for comp in schema.composites:
        needed.add(comp.question)
    multiple = [q.id for q in schema.questions_once.values() if q.kind.multiple]
    needed |= set(multiple)
    return needed, multiple


@dataclass
class _Column:
    """One question's answers: per response an index into ``values`` (-1: unanswered)."""

    tokens: np.ndarray
    values: list[Any]  # single: the answer; multiple: the list of selected codes


# Responses whose answers one query reads (a block of ids: the answer table's index on
# response_id keeps each query to its block, whatever the table's size).
_READ_BLOCK = 20_000


def read_wave(
    wave: Wave, schema: Questionnaire, after_id: int = 0, upto_id: int | None = None
) -> WaveData:
    """Extract the wave's responses with ``after_id < id <= upto_id`` (all by default).

    The answers are read in one query per block of responses into integer columns; each
    indicator, score and base condition is then evaluated once per distinct combination of
    the answers it reads (the questionnaire's own :meth:`Indicator.value`), not once per
    respondent.
    """
    needed, multiple = needed_questions(schema)
    multiple_set = set(multiple)
    where = [Response.wave_id == wave.id, Response.status != "rejected", Response.id > after_id]
    if upto_id is not None:
        where.append(Response.id <= upto_id)
    rows = db.session.execute(
        select(
            Response.id, Response.street_id, Response.community_id, Response.grid_id, Response.mode
        )
        .where(*where)
        .order_by(Response.id)
    ).all()
    n_all = len(rows)
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n_all)
    # One pass over the answers of the block's responses, tokenised per question as read:
    # per question, blocks of response ids and of tokens (indexes into its distinct answers,
    # numbered in the order they first appear).
    per_question: dict[str, tuple[list[np.ndarray], list[np.ndarray], dict[Any, int], bool]] = {
        q: ([], [], {}, q in multiple_set) for q in sorted(needed)
    }
    questions = sorted(needed)
    cursor = db.session.connection().connection.cursor()
    mark = "?" if db.engine.dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"SELECT response_id, question, value, number FROM answer "
        f"WHERE response_id >= {mark} AND response_id <= {mark} "
        f"AND question IN ({', '.join([mark] * len(questions))}) ORDER BY id"
    )
    copy = db.engine.dialect.name == "postgresql" and USE_COPY
    try:
        for start in range(0, n_all, _READ_BLOCK):
            block = ids[start : start + _READ_BLOCK]
            if copy:
                _copy_block(cursor, int(block[0]), int(block[-1]), per_question)
                continue
            lists: dict[str, tuple[list[int], list[int]]] = {q: ([], []) for q in questions}
            for rid, question, value, number in cursor.execute(
                sql, (int(block[0]), int(block[-1]), *questions)
            ).fetchall():
                rids, toks = lists[question]
                _rids, _toks, index, is_multiple = per_question[question]
                token = value if is_multiple or number is None else number
                rids.append(rid)
                toks.append(index.setdefault(token, len(index)))
            for question, (rids, toks) in lists.items():
                per_question[question][0].append(np.array(rids, dtype=np.int64))
                per_question[question][1].append(np.array(toks, dtype=np.int64))
    finally:
        cursor.close()
    columns: dict[str, _Column] = {}
    for question, (rid_parts, tok_parts, index, is_multiple) in per_question.items():
        rid = np.concatenate(rid_parts) if rid_parts else np.zeros(0, dtype=np.int64)
        toks = np.concatenate(tok_parts) if tok_parts else np.zeros(0, dtype=np.int64)
        pos = np.searchsorted(ids, rid)
        pos_ok = pos < n_all
        pos_ok[pos_ok] = ids[pos[pos_ok]] == rid[pos_ok]  # answers of rejected responses: out
        if is_multiple:
            columns[question] = _multiple_column(pos[pos_ok], toks[pos_ok], list(index), n_all)
        else:
            tokens = np.full(n_all, -1, dtype=np.int64)
            tokens[pos[pos_ok]] = toks[pos_ok]  # the newest answer wins, as in a dict
            columns[question] = _Column(tokens, list(index))

    def truthy(col: _Column) -> np.ndarray:
        ok = np.array([bool(v) for v in col.values] + [False], dtype=bool)
        return ok[col.tokens]  # -1 picks the trailing False

    kept = truthy(columns["sex"]) & truthy(columns["age_group"])
    keep_idx = np.flatnonzero(kept)
    for col in columns.values():
        col.tokens = col.tokens[keep_idx]
    n = keep_idx.size

    coded: dict[str, Categorical] = {}

    def locality_codes(name: str, position: int) -> np.ndarray:
        raw = np.fromiter(
            (r[position] if r[position] is not None else -1 for r in rows),
            dtype=np.int64,
            count=n_all,
        )[keep_idx]
        uniq, inverse = np.unique(raw, return_inverse=True)
        found = dict(
            db.session.execute(
                select(Locality.id, Locality.code).where(Locality.id.in_(uniq.tolist()))
            ).all()
        )
        labels = [found.get(int(u), "") for u in uniq.tolist()]
        codes = inverse.reshape(-1).astype(np.intp)
        if "" in labels:  # no locality at this level: missing, as svyby treats ""
            codes = np.where(np.array(labels + [""], dtype=object)[codes] == "", -1, codes)
        coded[name] = Categorical(codes, labels)
        table = np.array([*labels, ""], dtype=object)
        return table[inverse.reshape(-1)] if n else np.array([], dtype=object)

    mode_index: dict[Any, int] = {}
    mode_codes = np.fromiter(
        (mode_index.setdefault(r[4], len(mode_index)) for r in rows), dtype=np.intp, count=n_all
    )[keep_idx]
    coded["mode"] = Categorical(mode_codes, list(mode_index))
    for name in ("sex", "age_group"):
        coded[name] = Categorical(columns[name].tokens.astype(np.intp), list(columns[name].values))
    out_columns = {
        "street": locality_codes("street", 1),
        "community": locality_codes("community", 2),
        "grid": locality_codes("grid", 3),
        "mode": coded["mode"].as_array(),
        "sex": _column_values(columns["sex"]),
        "age_group": _column_values(columns["age_group"]),
    }
    values: dict[str, np.ndarray] = {}
    for ind in schema.indicators:
        refs = [ind.question, *(sorted(ind.base.refs) if ind.base is not None else [])]
        values[ind.id] = _evaluate(ind, [(q, columns.get(q)) for q in dict.fromkeys(refs)], n)
    for comp in schema.composites:
        values[comp.id] = _evaluate(comp, [(comp.question, columns.get(comp.question))], n)
    shares: dict[str, dict[str, np.ndarray]] = {}
    for qid in multiple:
        col = columns[qid]
        answered = col.tokens >= 0
        per_code: dict[str, np.ndarray] = {}
        for choice in schema.questions[qid].choices:
            has = np.array([choice.code in v for v in col.values] + [False], dtype=float)
            out = has[col.tokens]
            out[~answered] = np.nan
            per_code[choice.code] = out
        shares[qid] = per_code
    return WaveData(
        response_ids=ids[keep_idx], columns=out_columns, values=values, shares=shares, codes=coded
    )


#: Read a PostgreSQL wave with ``COPY … TO STDOUT`` (:func:`_copy_block`) instead of rows.
#: Off: measured on a 200,000-response wave (bench/bench_wave_read.py, 3 Dec 2026) it was
#: not faster than the row path (9.7 s against 9.2 s wall, 3.9 s against 3.1 s of CPU): the
#: server's text conversion and pandas' object columns cost what the rows' loop saved. It
#: gives the same data (tests/services/test_wave_copy.py), for a faster variant to build on.
USE_COPY = False

_COPY_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _copy_text(text: str) -> str:
    """A field of COPY's text format without its backslash escapes."""
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append(_COPY_ESCAPES.get(nxt, nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _copy_block(cursor, low: int, high: int, per_question: dict) -> None:
    """Read the answers of responses ``low..high`` with ``COPY (SELECT …) TO STDOUT`` and
    tokenise them with pandas' C parser and ``factorize`` instead of a Python loop per row.

    The same tokens as the row-by-row path: the server sends each answer's token as text
    (``v`` + the value for multiple choices and answers without a number, ``n`` + the
    number), rows in answer order; per question, ``factorize`` numbers a block's distinct
    texts in the order they first appear, and each is then added to the question's index as
    the Python value the row path would have used (so equal numbers share a token).
    """
    import pandas as pd
    from psycopg import sql

    multiple = [q for q, entry in per_question.items() if entry[3]]
    query = sql.SQL(
        "COPY (SELECT response_id, question, CASE WHEN number IS NULL OR question = ANY({m}) "
        "THEN 'v' || value ELSE 'n' || number::text END FROM answer "
        "WHERE response_id >= {lo} AND response_id <= {hi} AND question = ANY({q}) "
        "ORDER BY id) TO STDOUT"
    ).format(
        m=sql.Literal(multiple),
        lo=sql.Literal(low),
        hi=sql.Literal(high),
        q=sql.Literal(list(per_question)),
    )
    buf = io.BytesIO()
    with cursor.copy(query) as copy:
        for chunk in copy:
            buf.write(chunk)
    if not buf.tell():
        return
    buf.seek(0)
    frame = pd.read_csv(
        buf,
        sep="\t",
        header=None,
        names=["rid", "question", "token"],
        dtype={"rid": np.int64, "question": object, "token": object},
        na_filter=False,
        quoting=3,  # csv.QUOTE_NONE: COPY's text format escapes, it does not quote
        engine="c",
        encoding="utf-8",
    )
    q_codes, q_names = pd.factorize(frame["question"].to_numpy(), sort=False)
    order = np.argsort(q_codes, kind="stable")  # per question, in answer order
    bounds = np.searchsorted(q_codes[order], np.arange(len(q_names) + 1))
    rids = frame["rid"].to_numpy()[order]
    texts = frame["token"].to_numpy()[order]
    for k, name in enumerate(q_names):
        rid_parts, tok_parts, index, _multiple = per_question[_copy_text(name)]
        part = slice(bounds[k], bounds[k + 1])
        codes, distinct = pd.factorize(texts[part], sort=False)
        remap = np.array(
            [index.setdefault(_copy_token(t), len(index)) for t in distinct], dtype=np.int64
        )
        rid_parts.append(rids[part])
        tok_parts.append(remap[codes])


def _copy_token(text: str) -> Any:
    if text == "\\N":
        return None  # a NULL value
    if text[0] == "n":
        return float(text[1:])
    return _copy_text(text[1:])


def _multiple_column(pos: np.ndarray, codes: np.ndarray, labels: list[Any], n: int) -> _Column:
    """Selected codes per response, as a token per distinct selection."""
    order = np.lexsort((codes, pos))  # by response, then code, so a selection has one form
    pos, codes = pos[order], codes[order]
    starts = np.flatnonzero(np.r_[True, pos[1:] != pos[:-1]]) if pos.size else pos
    selections: dict[tuple[int, ...], int] = {}
    tokens = np.full(n, -1, dtype=np.int64)
    bounds = np.r_[starts, pos.size]
    code_list = codes.tolist()
    for i in range(len(starts)):
        key = tuple(code_list[bounds[i] : bounds[i + 1]])
        tokens[pos[bounds[i]]] = selections.setdefault(key, len(selections))
    values = [[labels[c] for c in key] for key in selections]
    return _Column(tokens, values)


def _column_values(col: _Column) -> np.ndarray:
    table = np.empty(len(col.values) + 1, dtype=object)
    for i, v in enumerate(col.values):
        table[i] = v
    table[-1] = None
    return table[col.tokens]


def _evaluate(item: Any, refs: list[tuple[str, _Column | None]], n: int) -> np.ndarray:
    """``item.value(answers)`` for every respondent, once per distinct combination of refs."""
    present = [(q, c) for q, c in refs if c is not None]
    span = 1
    for _q, col in present:
        span *= len(col.values) + 1
    if span < 1 << 62:
        key = np.zeros(n, dtype=np.int64)
        for _q, col in present:
            key = key * (len(col.values) + 1) + (col.tokens + 1)
        combos, inverse = np.unique(key, return_inverse=True)
    else:  # rare: many refs with many distinct answers; rows of tokens instead of one key
        stacked = np.column_stack([col.tokens + 1 for _q, col in present])
        rows, inverse = np.unique(stacked, axis=0, return_inverse=True)
        results = np.empty(rows.shape[0])
        for j, row in enumerate(rows.tolist()):
            answers = {q: col.values[t - 1] for (q, col), t in zip(present, row, strict=True) if t}
            v = item.value(answers)
            results[j] = np.nan if v is None else v
        return results[inverse.reshape(-1)]
    results = np.empty(combos.size)
    for j, combo in enumerate(combos.tolist()):
        answers: dict[str, Any] = {}
        for q, col in reversed(present):
            combo, token = divmod(combo, len(col.values) + 1)
            if token:
                answers[q] = col.values[token - 1]
        v = item.value(answers)
        results[j] = np.nan if v is None else v
    return results[inverse.reshape(-1)] if n else np.zeros(0)


def eligible_counts_by_street(wave: Wave) -> dict[int, int]:
    """Street id -> the wave's interviews that count in its reports.

    The reports' rule (:func:`read_wave`): not rejected by review
    (:func:`counted_response_filter`) and eligible, i.e. the newest answers to ``sex`` and
    ``age_group`` are both given (screened-out respondents are not asked them).
    """
    newest = (
        select(func.max(Answer.id).label("id"))
        .join(Response, Response.id == Answer.response_id)
        .where(
            Response.wave_id == wave.id,
            counted_response_filter(),
            Answer.question.in_(("sex", "age_group")),
        )
        .group_by(Answer.response_id, Answer.question)
        .subquery()
    )
    given = or_(
        and_(Answer.number.is_not(None), Answer.number != 0),
        and_(Answer.number.is_(None), Answer.value != ""),
    )
    eligible = (
        select(Answer.response_id)
        .join(newest, newest.c.id == Answer.id)
        .where(given)
        .group_by(Answer.response_id)
        .having(func.count(func.distinct(Answer.question)) == 2)
    )
    return dict(
        db.session.execute(
            select(Response.street_id, func.count(Response.id))
            .where(Response.id.in_(eligible))
            .group_by(Response.street_id)
        ).all()
    )
