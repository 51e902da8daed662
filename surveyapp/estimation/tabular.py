"""Estimates from a CSV file: read the needed columns, build the design, format the rows.

This is the pure core of ``surveyapp estimate --data FILE.csv``. The reader parses plain CSV
(comma-separated, one header line, UTF-8, no quoted fields in the data rows) with vectorised
numpy code, reading only the columns it needs; files with quoted fields fall back to the
standard library's :mod:`csv`. Numbers are parsed as R's ``read.csv`` does (``NA`` and empty
fields are missing); labels (strata, clusters, domains, answer codes) are kept as text.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import N_, Text, Worded
from .design import LONELY_PSU_RULES, Categorical, Design
from .estimates import CI_METHODS, svyby, svyciprop, svymean
from .types import DesignError, Estimate, EstimationError

__all__ = [
    "OUTPUT_KEYS",
    "EstimateRequest",
    "TabularError",
    "estimate_csv",
    "format_rows",
    "read_columns",
]

#: Keys of every output row, in order.
OUTPUT_KEYS = ("domain", "n", "estimate", "se", "ci_low", "ci_high", "df", "deff", "fallback")

_CHUNK_BYTES = 1 << 22
_MISSING_TOKENS = (b"", b"NA")
_POW10 = 10.0 ** np.arange(23)
_INT_POW10 = 10 ** np.arange(19, dtype=np.int64)


class TabularError(EstimationError):
    """A problem with an input file: the message names the file, row or column.

    Its message is the English ``str`` of a :class:`~surveyapp.errors.Text` (a
    :class:`~surveyapp.errors.Worded`), translated where it is shown (the command line)."""

    @classmethod
    def worded(cls, template: str, /, **params: Any) -> TabularError:
        """The error worded by ``template`` (an ``N_()`` msgid) with ``params`` filled in."""
        return cls(Worded(Text(template, **params)))


# ====================================================================== columns
LabelColumn = Categorical  # a text column: codes (-1 where empty or NA) and labels


@dataclass(slots=True)
class _LabelBuilder:
    index: dict[bytes, int] = field(default_factory=dict)
    parts: list[np.ndarray] = field(default_factory=list)

    def add(self, codes: np.ndarray) -> None:
        self.parts.append(codes)

    def lookup(self, value: bytes) -> int:
        code = self.index.get(value)
        if code is None:
            code = self.index[value] = len(self.index)
        return code

    def finish(self, name: str, path: Path) -> LabelColumn:
        codes = np.concatenate(self.parts) if self.parts else np.zeros(0, dtype=np.int64)
        labels: list[str] = [""] * len(self.index)
        for raw, code in self.index.items():
            try:
                labels[code] = raw.decode("utf-8").strip()
            except UnicodeDecodeError:
                raise TabularError.worded(
                    N_("%(file)s: column '%(column)s' is not UTF-8 text; save the file as UTF-8"),
                    file=path,
                    column=name,
                ) from None
        return LabelColumn(codes=codes, labels=labels)


def read_columns(
    path: str | Path, numeric: Sequence[str] = (), labels: Sequence[str] = ()
) -> tuple[int, dict[str, Any]]:
    """Read some columns of a CSV file.

    Parameters
    ----------
    path : path
        UTF-8 CSV file with a header line.
    numeric : sequence of str
        Columns parsed as numbers (float64, NaN where the field is empty or ``NA``).
    labels : sequence of str
        Columns kept as text (:class:`LabelColumn`).

    Returns
    -------
    n_rows, columns
        Number of data rows and a dict column name -> array or LabelColumn.

    Raises
    ------
    TabularError
        Missing file, unknown column (named), a row with the wrong number of fields, or a
        non-numeric value in a numeric column (row and column named).
    """
    path = Path(path)
    raw, size = _read_padded(path)
    begin = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    end = raw.find(b"\n", begin, size)
    header_line = bytes(raw[begin : size if end < 0 else end])
    try:
        header = next(csv.reader([header_line.decode("utf-8").rstrip("\r")]))
    except (UnicodeDecodeError, StopIteration):
        raise TabularError.worded(
            N_("%(file)s: the first line must be a UTF-8 header of column names"), file=path
        ) from None
    header = [h.strip() for h in header]
    wanted = list(dict.fromkeys([*numeric, *labels]))
    unknown = [c for c in wanted if c not in header]
    if unknown:
        raise TabularError.worded(
            N_("%(file)s: no column %(missing)s; the columns are %(columns)s"),
            file=path,
            missing=", ".join(repr(c) for c in unknown),
            columns=", ".join(header),
        )
    positions = {c: header.index(c) for c in wanted}
    kinds = {c: "numeric" for c in numeric} | {c: "label" for c in labels}
    body_start = size if end < 0 else end + 1
    if raw.find(b"\r", body_start, size) >= 0:
        body = bytes(raw[body_start:size]).replace(b"\r\n", b"\n")
        raw, size, body_start = bytearray(body + b"\n" + bytes(_PAD)), len(body), 0
        if body and not body.endswith(b"\n"):
            size += 1
    elif size > body_start and raw[size - 1] != 10:
        raw[size] = 10  # the padding leaves room for a final newline
        size += 1
    if raw.find(b'"', body_start, size) >= 0:
        return _read_quoted(path, bytes(raw[body_start:size]), header, positions, kinds)
    return _read_plain(path, raw, body_start, size, len(header), positions, kinds)


_PAD = 16


def _read_padded(path: Path) -> tuple[bytearray, int]:
    """The file's bytes followed by zero padding (room for a newline and 8-byte reads)."""
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            raw = bytearray(size + _PAD)
            view = memoryview(raw)
            got = 0
            while got < size:
                k = f.readinto(view[got:size])
                if not k:
                    break
                got += k
            view.release()
    except FileNotFoundError:
        raise TabularError.worded(N_("%(file)s: no such file"), file=path) from None
    except IsADirectoryError:
        raise TabularError.worded(
            N_("%(file)s: is a directory, not a CSV file"), file=path
        ) from None
    except OSError as exc:
        raise TabularError.worded(
            N_("%(file)s: cannot read the file (%(error)s)"), file=path, error=exc.strerror
        ) from None
    return raw, got


def _read_plain(
    path: Path,
    raw: bytearray,
    body_start: int,
    size: int,
    n_fields: int,
    positions: dict[str, int],
    kinds: dict[str, str],
) -> tuple[int, dict[str, Any]]:
    buf = np.frombuffer(raw, dtype=np.uint8)
    # Every 8-byte word of the file, one per byte offset: a field of w bytes is read with
    # ceil(w / 8) gathers instead of w.
    words = np.ndarray(shape=(len(raw) - 7,), dtype="<u8", buffer=raw, strides=(1,))
    numeric_parts: dict[str, list[np.ndarray]] = {c: [] for c, k in kinds.items() if k == "numeric"}
    builders = {c: _LabelBuilder() for c, k in kinds.items() if k == "label"}
    row0 = 0
    start = body_start
    while start < size:
        stop = min(start + _CHUNK_BYTES, size)
        if stop < size:
            stop = raw.rfind(b"\n", start, stop) + 1
            if stop <= start:  # a single line longer than a chunk
                stop = raw.find(b"\n", start + _CHUNK_BYTES, size) + 1
        chunk = buf[start:stop]
        newlines = np.flatnonzero(chunk == 10)
        n = newlines.size
        line_start = np.empty(n, dtype=np.int64)
        line_start[0] = 0
        line_start[1:] = newlines[:-1] + 1
        flat_commas = np.flatnonzero(chunk == 44)
        if flat_commas.size != n * (n_fields - 1):
            _bad_row(path, newlines, flat_commas, n_fields, row0)
        commas = flat_commas.reshape(n, n_fields - 1)
        if n_fields > 1 and ((commas[:, 0] < line_start).any() or (commas[:, -1] > newlines).any()):
            _bad_row(path, newlines, commas.reshape(-1), n_fields, row0)
        for name, j in positions.items():
            lo = (line_start if j == 0 else commas[:, j - 1] + 1) + start
            hi = (newlines if j == n_fields - 1 else commas[:, j]) + start
            if kinds[name] == "numeric":
                numeric_parts[name].append(_parse_numbers(path, name, buf, words, lo, hi, row0))
            else:
                builders[name].add(_parse_labels(buf, words, lo, hi, builders[name]))
        row0 += n
        start = stop
    columns: dict[str, Any] = {}
    for name, parts in numeric_parts.items():
        columns[name] = np.concatenate(parts) if parts else np.zeros(0)
    for name, builder in builders.items():
        columns[name] = builder.finish(name, path)
    return row0, columns


def _bad_row(
    path: Path,
    newlines: np.ndarray,
    commas: np.ndarray,
    n_fields: int,
    row0: int,
) -> None:
    per_line = np.diff(np.searchsorted(commas, np.concatenate([[-1], newlines])))
    bad = int(np.flatnonzero(per_line != n_fields - 1)[0])
    raise TabularError.worded(
        N_(
            "%(file)s: row %(row)s (line %(line)s) has %(fields)s fields, the header has %(header)s"
        ),
        file=path,
        row=row0 + bad + 1,
        line=row0 + bad + 2,
        fields=int(per_line[bad]) + 1,
        header=n_fields,
    )


def _field_words(words: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Each field's bytes as little-endian 8-byte words, zeroed past the field's end."""
    length = hi - lo
    width = int(length.max()) if length.size else 0
    k = (width + 7) // 8
    out = np.empty((lo.size, k), dtype=np.uint64)
    last = words.size - 1
    for j in range(k):
        word = words[np.minimum(lo + 8 * j, last)]
        keep = np.clip(length - 8 * j, 0, 8)
        mask = np.where(
            keep >= 8,
            np.uint64(0xFFFFFFFFFFFFFFFF),
            (np.uint64(1) << (np.uint64(8) * keep.astype(np.uint64))) - np.uint64(1),
        )
        out[:, j] = word & mask
    return out


def _field_matrix(words: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, int]:
    """Bytes of each field in a zero-padded ``rows x width`` matrix."""
    length = hi - lo
    width = int(length.max()) if length.size else 0
    if width == 0:
        return np.zeros((lo.size, 0), dtype=np.uint8), 0
    packed = _field_words(words, lo, hi)
    return packed.view(np.uint8).reshape(lo.size, -1)[:, :width], width


def _parse_numbers(
    path: Path,
    name: str,
    buf: np.ndarray,
    words: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    row0: int,
) -> np.ndarray:
    """Decimal numbers, vectorised; anything unusual goes through ``float()`` (exact).

    The fast path takes fields of at most 15 digits with an optional sign and decimal point:
    the digits form an exact integer, divided once by a power of ten, so the result is the
    correctly rounded double that ``float()`` (and R's ``strtod``) gives.
    """
    n = lo.size
    out = np.full(n, np.nan)
    length = hi - lo
    if n == 0 or int(length.max()) == 0:
        return out
    packed = _field_words(words, lo, hi)  # n x k words, zero past each field
    k = packed.shape[1]
    width = 8 * k
    matrix = packed.view(np.uint8).reshape(n, width)
    shifted = matrix - np.uint8(48)
    is_digit = shifted < 10
    digit_words = is_digit.view(np.uint64)
    dot_words = (matrix == 46).view(np.uint64)
    first = matrix[:, 0]
    sign = ((first == 45) | (first == 43)).astype(np.uint64)
    ones = np.uint64(0x0101010101010101)
    n_digits = np.zeros(n, dtype=np.uint64)
    n_dots = np.zeros(n, dtype=np.uint64)
    ok = length > 0
    for j in range(k):
        inside = np.clip(length - 8 * j, 0, 8).astype(np.uint64)
        mask = np.where(
            inside >= 8, ones, ((np.uint64(1) << (np.uint64(8) * inside)) - np.uint64(1)) & ones
        )
        allowed = digit_words[:, j] | dot_words[:, j] | (sign if j == 0 else np.uint64(0))
        ok &= (allowed & mask) == mask
        n_digits += (digit_words[:, j] * ones) >> np.uint64(56)
        n_dots += (dot_words[:, j] * ones) >> np.uint64(56)
    simple = ok & (n_dots <= 1) & (n_digits > 0) & (n_digits <= 15) & (length <= 18)
    digits = np.where(is_digit, shifted, np.uint8(0))[:, : min(width, 18)].astype(np.int64)
    scale_desc = _INT_POW10[digits.shape[1] - 1 :: -1]
    fixed = digits @ scale_desc  # every byte as a digit, padded to the full width
    all_digits = fixed // _INT_POW10[np.clip(digits.shape[1] - length, 0, 18)]
    # Drop the decimal point, which stood in as a 0 digit: p = its position.
    has_dot = n_dots == 1
    dot_bits = np.zeros(n, dtype=np.float64)
    for j in range(k):
        dot_bits += dot_words[:, j].astype(np.float64) * 2.0 ** (64 * j)
    p = np.where(has_dot, (np.frexp(dot_bits)[1] - 1) // 8, 0)
    frac = np.where(has_dot, length - 1 - p, 0)
    tail = _INT_POW10[np.clip(frac, 0, 18)]
    mantissa = np.where(has_dot, all_digits // (tail * 10) * tail + all_digits % tail, all_digits)
    value = mantissa / _POW10[np.minimum(frac, 22)]
    value = np.where(first == 45, -value, value)
    out[simple] = value[simple]
    # Empty fields stay NaN; everything else not simple is parsed one by one.
    slow = np.flatnonzero(~simple & (length > 0))
    bad: list[int] = []
    for i in slow.tolist():
        raw = buf[lo[i] : hi[i]].tobytes().strip()
        if raw in _MISSING_TOKENS:
            continue
        try:
            v = float(raw)
        except ValueError:
            bad.append(i)
            continue
        out[i] = v
    if bad:
        i = bad[0]
        text = buf[lo[i] : hi[i]].tobytes().decode("utf-8", "replace")
        params = {"file": path, "row": row0 + i + 1, "line": row0 + i + 2, "column": name}
        if len(bad) > 1:
            raise TabularError.worded(
                N_(
                    "%(file)s: row %(row)s (line %(line)s): column '%(column)s' has '%(text)s', "
                    "not a number (and %(more)s more rows)"
                ),
                text=text,
                more=len(bad) - 1,
                **params,
            )
        raise TabularError.worded(
            N_(
                "%(file)s: row %(row)s (line %(line)s): column '%(column)s' has "
                "'%(text)s', not a number"
            ),
            text=text,
            **params,
        )
    return out


def _parse_labels(
    buf: np.ndarray, words: np.ndarray, lo: np.ndarray, hi: np.ndarray, builder: _LabelBuilder
) -> np.ndarray:
    """Codes of the text fields, through a hash of their bytes checked for collisions."""
    n = lo.size
    packed = _field_words(words, lo, hi)
    length = (hi - lo).astype(np.uint64)
    h = length * np.uint64(0x9E3779B97F4A7C15)
    for j in range(packed.shape[1]):
        h = (h ^ packed[:, j]) * np.uint64(0x100000001B3)
        h ^= h >> np.uint64(29)
    uniq, first, inverse = np.unique(h, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    same = (packed == packed[first][inverse]).all() and (length == length[first][inverse]).all()
    if not same:
        # A 64-bit hash collision: fall back to exact bytes.
        return np.array(
            [
                _code_of(builder, buf[a:b].tobytes())
                for a, b in zip(lo.tolist(), hi.tolist(), strict=True)
            ],
            dtype=np.int64,
        ).reshape(n)
    table = np.array(
        [_code_of(builder, buf[lo[i] : hi[i]].tobytes()) for i in first.tolist()],
        dtype=np.int64,
    )
    return table[inverse] if uniq.size else np.zeros(n, dtype=np.int64)


def _code_of(builder: _LabelBuilder, raw: bytes) -> int:
    if raw.strip() in _MISSING_TOKENS:
        return -1
    return builder.lookup(raw.strip())


def _read_quoted(
    path: Path,
    body: bytes,
    header: list[str],
    positions: dict[str, int],
    kinds: dict[str, str],
) -> tuple[int, dict[str, Any]]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise TabularError.worded(
            N_("%(file)s: not UTF-8 text; save the file as UTF-8"), file=path
        ) from None
    values: dict[str, list[str]] = {c: [] for c in positions}
    n = 0
    for n, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if len(row) != len(header):
            raise TabularError.worded(
                N_(
                    "%(file)s: row %(row)s (line %(line)s) has %(fields)s fields, the header "
                    "has %(header)s"
                ),
                file=path,
                row=n,
                line=n + 1,
                fields=len(row),
                header=len(header),
            )
        for c, j in positions.items():
            values[c].append(row[j])
    columns: dict[str, Any] = {}
    for c, vals in values.items():
        if kinds[c] == "numeric":
            out = np.full(len(vals), np.nan)
            for i, v in enumerate(vals):
                v = v.strip()
                if v in ("", "NA"):
                    continue
                try:
                    out[i] = float(v)
                except ValueError:
                    raise TabularError.worded(
                        N_(
                            "%(file)s: row %(row)s (line %(line)s): column '%(column)s' has "
                            "'%(text)s', not a number"
                        ),
                        file=path,
                        row=i + 1,
                        line=i + 2,
                        column=c,
                        text=v,
                    ) from None
            columns[c] = out
        else:
            builder = _LabelBuilder()
            codes = np.array(
                [
                    -1 if v.strip() in ("", "NA") else builder.lookup(v.strip().encode())
                    for v in vals
                ],
                dtype=np.int64,
            )
            builder.add(codes)
            columns[c] = builder.finish(c, path)
    return n, columns


# ====================================================================== request
@dataclass(frozen=True)
class EstimateRequest:
    """What ``surveyapp estimate --data`` was asked to do."""

    data: Path
    var: str
    positive: tuple[str, ...] | None = None
    weight: str | None = None
    strata: str | None = None
    clusters: tuple[str, ...] = ()
    fpc: tuple[str, ...] = ()
    by: str | None = None
    rake: Path | None = None
    method: str = "logit"
    level: float = 0.95
    lonely_psu: str = "fail"


def estimate_csv(
    request: EstimateRequest, warn: Callable[[str], None] | None = None
) -> list[dict[str, Any]]:
    """Estimate the mean or proportion of ``request.var``, overall and by domain.

    Returns one dict per domain (keys :data:`OUTPUT_KEYS`), the whole sample last as domain
    ``"ALL"``. A domain that cannot have an interval (one PSU, no respondents) gets ``None``
    for the fields it lacks, and ``warn`` receives the reason.
    """
    if request.method not in CI_METHODS:
        raise TabularError(f"unknown method '{request.method}'; use one of {', '.join(CI_METHODS)}")
    if request.lonely_psu not in LONELY_PSU_RULES:
        raise TabularError(
            f"unknown lonely-PSU rule '{request.lonely_psu}'; use one of "
            f"{', '.join(LONELY_PSU_RULES)}"
        )
    if not 0 < request.level < 1:
        raise TabularError.worded(
            N_("--level must be between 0 and 1, got %(level)s"), level=request.level
        )
    if request.fpc and request.clusters and len(request.fpc) != len(request.clusters):
        raise TabularError.worded(N_("give one --fpc column per --cluster column"))
    margins = _read_margins(request.rake) if request.rake else []
    numeric = [c for c in (request.weight, *request.fpc) if c]
    label_cols = [c for c in (request.strata, *request.clusters, request.by) if c]
    label_cols += [m for m in dict.fromkeys(v for v, _, _ in margins)]
    if request.positive is None:
        numeric.append(request.var)
    else:
        label_cols.append(request.var)
    try:
        n, cols = read_columns(request.data, numeric=numeric, labels=label_cols)
    except TabularError as exc:
        if request.positive is None and f"column '{request.var}' has" in str(exc):
            raise TabularError.worded(
                N_("%(error)s; to estimate the share of some answer codes use --positive CODES"),
                error=exc.args[0],
            ) from None
        raise
    if n == 0:
        raise TabularError.worded(N_("%(file)s: no data rows"), file=request.data)

    weights = None
    if request.weight:
        weights = cols[request.weight]
        bad = ~np.isfinite(weights)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise TabularError.worded(
                N_("%(file)s: row %(row)s (line %(line)s): weight column '%(column)s' is empty"),
                file=request.data,
                row=i + 1,
                line=i + 2,
                column=request.weight,
            )
    for c in (request.strata, *request.clusters):
        if c and (cols[c].codes < 0).any():
            i = int(np.flatnonzero(cols[c].codes < 0)[0])
            raise TabularError.worded(
                N_("%(file)s: row %(row)s (line %(line)s): column '%(column)s' is empty"),
                file=request.data,
                row=i + 1,
                line=i + 2,
                column=c,
            )
    for c in request.fpc:
        if np.isnan(cols[c]).any():
            i = int(np.flatnonzero(np.isnan(cols[c]))[0])
            raise TabularError.worded(
                N_("%(file)s: row %(row)s (line %(line)s): fpc column '%(column)s' is empty"),
                file=request.data,
                row=i + 1,
                line=i + 2,
                column=c,
            )

    design = Design.create(
        weights=weights,
        strata=cols[request.strata] if request.strata else None,
        clusters=[cols[c] for c in request.clusters] or None,
        fpc=[cols[c] for c in request.fpc] or None,
        lonely_psu=request.lonely_psu,
    )
    if margins:
        design = _rake(design, margins, cols, request)

    if request.positive is None:
        y = cols[request.var]
        fn: Callable[..., Estimate] = svymean
        kwargs: dict[str, Any] = {"level": request.level}
    else:
        y = _indicator(cols[request.var], request.positive)
        fn = svyciprop
        kwargs = {"level": request.level, "method": request.method}

    rows: list[dict[str, Any]] = []
    if request.by:
        by: Categorical = cols[request.by]
        for key, est in svyby(y, by, design, fn, errors="keep", **kwargs):
            mask = by.codes == by.labels.index(key) if not isinstance(est, Estimate) else None
            rows.append(_row(str(key), est, y, mask, design, kwargs, warn))
    try:
        est_all: Estimate | EstimationError = fn(y, design, **kwargs)
    except DesignError:
        raise  # e.g. a lonely PSU: the design as a whole needs fixing
    except EstimationError as exc:
        est_all = exc
    rows.append(_row("ALL", est_all, y, None, design, kwargs, warn))
    return rows


def _indicator(column: LabelColumn, positive: Sequence[str]) -> np.ndarray:
    """1 where the answer is one of the ``positive`` codes, 0 otherwise, NaN where missing."""
    wanted = {p.strip() for p in positive}
    numbers = set()
    for p in wanted:
        try:
            numbers.add(float(p))
        except ValueError:
            pass
    hits = []
    for label in column.labels:
        hit = label in wanted
        if not hit and numbers:
            try:
                hit = float(label) in numbers
            except ValueError:
                pass
        hits.append(1.0 if hit else 0.0)
    table = np.array([*hits, np.nan])
    indicator: np.ndarray = table[column.codes]
    return indicator


def _row(
    domain: str,
    est: Estimate | EstimationError,
    y: np.ndarray,
    mask: np.ndarray | None,
    design: Design,
    kwargs: dict[str, Any],
    warn: Callable[[str], None] | None,
) -> dict[str, Any]:
    if isinstance(est, Estimate):
        if est.fallback and warn:
            warn(f"{domain}: {est.note}")
        return {
            "domain": domain,
            "n": est.n,
            "estimate": est.value,
            "se": est.se,
            "ci_low": est.ci_low,
            "ci_high": est.ci_high,
            "df": _number(est.df),
            "deff": est.deff,
            "fallback": est.fallback,
        }
    if warn:
        warn(f"{domain}: no confidence interval: {est}")
    row: dict[str, Any] = dict.fromkeys(OUTPUT_KEYS)
    row["domain"] = domain
    valid = ~np.isnan(y) if mask is None else ~np.isnan(y) & mask
    row["n"] = int(np.count_nonzero(valid))
    row["fallback"] = ""
    try:  # the estimate and its SE exist without degrees of freedom
        fallback = svymean(y, design, domain=mask, level=kwargs["level"], df=math.inf)
    except EstimationError:
        return row
    row.update(estimate=fallback.value, se=fallback.se, deff=fallback.deff)
    return row


def _number(x: float) -> float | int:
    return int(x) if math.isfinite(x) and x == int(x) else x


# ---------------------------------------------------------------------- raking
def _read_margins(path: Path) -> list[tuple[str, str, float]]:
    """Rows (variable, category, total) of a margins file."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise TabularError(f"{path}: no such margins file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TabularError(f"{path}: cannot read the margins file as UTF-8 ({exc})") from None
    reader = csv.DictReader(io.StringIO(text))
    need = ("variable", "category", "total")
    if reader.fieldnames is None or any(
        c not in [f.strip() for f in reader.fieldnames] for c in need
    ):
        raise TabularError(
            f"{path}: a margins file needs the columns variable,category,total "
            f"(found {', '.join(reader.fieldnames or [])})"
        )
    out = []
    for i, row in enumerate(reader, start=1):
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        if not row["variable"] or not row["category"]:
            raise TabularError(f"{path}: row {i} (line {i + 1}): variable and category are needed")
        try:
            total = float(row["total"])
        except ValueError:
            raise TabularError(
                f"{path}: row {i} (line {i + 1}): total '{row['total']}' is not a number"
            ) from None
        if not (math.isfinite(total) and total > 0):
            raise TabularError(f"{path}: row {i} (line {i + 1}): total must be positive")
        out.append((row["variable"], row["category"], total))
    if not out:
        raise TabularError(f"{path}: the margins file has no rows")
    return out


def _rake(
    design: Design,
    margins: list[tuple[str, str, float]],
    cols: dict[str, Any],
    request: EstimateRequest,
) -> Design:
    try:
        from .weighting import rake
    except ImportError:
        raise TabularError("--rake is not available yet (surveyapp.estimation.weighting)") from None
    spec: list[tuple[np.ndarray, Mapping[Hashable, float]]] = []
    for variable in dict.fromkeys(v for v, _, _ in margins):
        column: LabelColumn = cols[variable]
        if (column.codes < 0).any():
            i = int(np.flatnonzero(column.codes < 0)[0])
            raise TabularError(
                f"{request.data}: row {i + 1} (line {i + 2}): raking variable '{variable}' is empty"
            )
        totals: dict[Hashable, float] = {c: t for v, c, t in margins if v == variable}
        spec.append((column.as_array(), totals))
    return rake(design, spec)


# ====================================================================== output
def format_rows(
    rows: list[dict[str, Any]], fmt: str, text_cell: Callable[[str], str] = lambda s: s
) -> str:
    """Rows as ``json``, ``csv`` or an aligned ``table``; ``text_cell`` rewrites the CSV's
    texts (the command passes ``surveyapp.reports.cells.neutral``)."""
    if fmt == "json":
        return (
            json.dumps(
                [{k: _json_value(r[k]) for k in OUTPUT_KEYS} for r in rows], ensure_ascii=False
            )
            + "\n"
        )
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(OUTPUT_KEYS)
        for r in rows:
            writer.writerow([_csv_cell(r[k], text_cell) for k in OUTPUT_KEYS])
        return buf.getvalue()
    if fmt == "table":
        width = max([len("domain"), *(_display_width(str(r["domain"])) for r in rows)])
        lines = [
            f"{'domain':<{width}} {'n':>8} {'estimate':>10} {'se':>10} {'ci_low':>10} "
            f"{'ci_high':>10} {'df':>6} {'deff':>7} fallback"
        ]
        for r in rows:
            lines.append(
                f"{_pad(str(r['domain']), width)} {r['n']:>8} {_cell(r['estimate'], '.4f', 10)} "
                f"{_cell(r['se'], '.4f', 10)} {_cell(r['ci_low'], '.4f', 10)} "
                f"{_cell(r['ci_high'], '.4f', 10)} {_cell(r['df'], '', 6)} "
                f"{_cell(r['deff'], '.2f', 7)} {r['fallback'] or ''}".rstrip()
            )
        return "\n".join(lines) + "\n"
    raise TabularError(f"unknown format '{fmt}'; use json, csv or table")


def _display_width(text: str) -> int:
    """Terminal columns of ``text``: Chinese characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _display_width(text))


def _cell(v: Any, spec: str, width: int) -> str:
    return f"{'–':>{width}}" if v is None else f"{v:>{width}{spec}}"


def _json_value(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _csv_cell(v: Any, text_cell: Callable[[str], str]) -> str:
    if v is None:
        return ""
    if isinstance(v, int | float):
        return _text(v)  # a number, negative or not, stays a number
    return text_cell(str(v))


def _text(v: Any) -> str:
    return repr(v) if isinstance(v, float) else str(v)
