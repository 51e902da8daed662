"""Calibrated designs in few rows: respondents the variance cannot tell apart, merged into cells.

The variance of a raked or post-stratified design (R's ``svyrecvar``) needs, per row, the
sampling unit, the weight and each calibration's category and weights. Rows equal in all of
these form a *cell*; the calibration residuals and the unit totals of any scores depend on the
rows only through the scores' sums per cell. A survey raked to street, sex and age group with
communities as PSUs has at most communities x sexes x age groups cells, however many
respondents, so the residuals of every domain's scores are computed at once on a few thousand
cells instead of per domain on every row. The algebra is R's, regrouped; results agree with the
row-by-row computation to rounding.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..caching import BoundedCache, content_key
from .weighting import RAKING_VARIANCE_SWEEPS, PostStratification, Raking

if TYPE_CHECKING:
    from .design import Design

__all__ = ["CellDesign", "cell_design"]

_DENSE_KEY_LIMIT = 1 << 26
# Largest cells x domains matrix built to estimate all domains at once (floats), and largest
# units x cells residual map kept (beyond it, the calibration steps are run on each input).
_MAX_BATCH = 20_000_000
_MAX_OPERATOR = 20_000_000


@dataclass(frozen=True, eq=False)
class _Grouping:
    """Sum the rows of a cells x k matrix by a grouping of the cells (sorted once)."""

    codes: np.ndarray  # cell -> group
    n_groups: int
    order: np.ndarray
    starts: np.ndarray
    present: np.ndarray  # groups holding at least one cell

    @classmethod
    def of(cls, codes: np.ndarray, n_groups: int) -> _Grouping:
        order = np.argsort(codes, kind="stable")
        sorted_codes = codes[order]
        starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
        return cls(codes, n_groups, order, starts, sorted_codes[starts])

    def sums(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros((self.n_groups, x.shape[1]))
        if self.order.size:
            out[self.present] = np.add.reduceat(x[self.order], self.starts, axis=0)
        return out


@dataclass(frozen=True, eq=False)
class CellDesign:
    """A calibrated design's rows merged into cells (see the module docstring)."""

    cell: np.ndarray  # row -> cell
    n_cells: int
    size: np.ndarray  # rows per cell
    weight: np.ndarray  # the (common) weight of the cell's rows
    units: _Grouping  # cell -> unit of Design.units
    steps: tuple[tuple[Any, ...], ...]  # per calibration, cell-level data for its residuals

    def cell_sums(self, x: np.ndarray) -> np.ndarray:
        """Sum the rows of ``x`` (n x k) within cells."""
        return np.column_stack(
            [
                np.bincount(self.cell, weights=x[:, j], minlength=self.n_cells)
                for j in range(x.shape[1])
            ]
        ).reshape(self.n_cells, x.shape[1])

    operator: np.ndarray | None  # n_units x n_cells: cell sums -> residual unit totals
    # The pair indexes of the last few domain variables, by their content key (_pair_index).
    _pairs: BoundedCache[tuple[np.ndarray, int, np.ndarray]] = field(
        default_factory=lambda: BoundedCache(4), init=False, repr=False
    )

    def residual_unit_totals(self, x: np.ndarray) -> np.ndarray:
        """Unit totals of the calibration residuals of scores whose cell sums are ``x``.

        Each calibration in turn, as :meth:`Raking.residuals` and
        :meth:`PostStratification.residuals` do on the rows: a row's adjustment is its
        weight after calibration times its category's mean, so a cell's is its size times that.
        With few enough cells the whole map is one precomputed matrix (see :func:`_operator`).
        """
        if self.operator is not None:
            return self.operator @ np.asarray(x, dtype=np.float64)
        return self.iterate(x)

    def iterate(self, x: np.ndarray) -> np.ndarray:
        """:meth:`residual_unit_totals` step by step, as on the rows."""
        x = np.array(x, dtype=np.float64)
        for step in self.steps:
            if step[0] == "rake":
                for _ in range(RAKING_VARIANCE_SWEEPS):
                    for grouping, psw, scale, count in step[1]:
                        ratio = np.zeros_like(x)
                        np.divide(x, psw[:, None], out=ratio, where=(psw != 0)[:, None])
                        means = np.zeros((count.shape[0], x.shape[1]))
                        np.divide(
                            grouping.sums(ratio),
                            count[:, None],
                            out=means,
                            where=(count > 0)[:, None],
                        )
                        x -= scale[:, None] * means[grouping.codes]
            else:
                _, grouping, psw, oldw, den = step
                num = np.zeros_like(x)
                np.divide(x * oldw[:, None], psw[:, None], out=num, where=(psw != 0)[:, None])
                num = grouping.sums(num)
                means = np.zeros_like(num)
                np.divide(num, den[:, None], out=means, where=(den != 0)[:, None])
                x -= (self.size * psw)[:, None] * means[grouping.codes]
        return self.units.sums(x)

    def domain_unit_totals(
        self,
        values: list[np.ndarray],
        codes: np.ndarray,
        n_groups: int,
        codes_key: Hashable | None = None,
    ) -> list[np.ndarray] | None:
        """Residual unit totals of ``w * v`` within each domain, for every ``v`` in ``values``.

        ``codes`` gives each row's domain (-1: none). Returns one ``n_groups x n_units`` array
        per ``v``: row ``g`` holds the unit totals of the residuals of
        ``w * v * (codes == g)``, the scores of domain ``g``. None when the cells x domains
        matrix would be too large (estimate the domains one by one then).
        """
        found = self.domain_cell_sums(values, codes, n_groups, codes_key=codes_key)
        if found is None:
            return None
        occupied, _rows, sums = found
        return self.unit_totals_from_cell_sums(occupied, sums, n_groups)

    def domain_cell_sums(
        self,
        values: list[np.ndarray],
        codes: np.ndarray,
        n_groups: int,
        rows: np.ndarray | None = None,
        codes_key: Hashable | None = None,
    ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]] | None:
        """Rows and sums of each ``v`` per occupied (cell, domain) pair, ``cell * n_groups + g``.

        ``codes_key`` names the content of ``codes`` when the caller knows it (a domain variable's
        content key): the rows' pairs are then kept for the next call with the same domains.

        ``rows`` marks the rows that count (None: all); the values of the others must be 0.
        Returns the occupied pairs, their numbers of rows and, per ``v``, its sums over the
        pair's rows (unweighted); None when the cells x domains table would be too large.
        """
        if n_groups == 0:
            return (
                np.zeros(0, dtype=np.intp),
                np.zeros(0, dtype=np.int64),
                [np.zeros(0) for _ in values],
            )
        if self.n_cells * (n_groups + 1) * (len(values) + 1) > _MAX_BATCH:
            return None
        idx, width, counts = self._pair_index(codes, n_groups, codes_key)
        size = self.n_cells * width
        if rows is not None:  # less the rows that do not count (usually few)
            counts = counts - np.bincount(idx[np.flatnonzero(~rows)], minlength=size)
        table = counts.reshape(self.n_cells, width)[:, :n_groups]
        occupied = np.flatnonzero(table)
        pair_rows = np.rint(table.ravel()[occupied]).astype(np.int64)
        at = occupied + (occupied // n_groups) * (width - n_groups)  # the same pairs in idx
        sums = [np.bincount(idx, weights=v, minlength=size)[at] for v in values]
        return occupied, pair_rows, sums

    def _pair_index(
        self, codes: np.ndarray, n_groups: int, codes_key: Hashable | None = None
    ) -> tuple[np.ndarray, int, np.ndarray]:
        """Each row's (cell, domain) pair ``cell * width + domain`` and the rows per pair; rows
        in no domain (code -1) get a column of their own (``width = n_groups + 1``). Kept for
        the last few domain variables named by ``codes_key``: the indicators of a wave are all
        estimated by the same domains."""

        def make() -> tuple[np.ndarray, int, np.ndarray]:
            if (codes < 0).any():
                width = n_groups + 1
                idx = self.cell * width + np.where(codes < 0, n_groups, codes)
            else:
                width = n_groups
                idx = self.cell * width + codes
            return idx, width, np.bincount(idx, minlength=self.n_cells * width)

        if codes_key is None:
            return make()
        return self._pairs.get_or_make((codes_key, n_groups), make)

    def unit_totals_from_cell_sums(
        self, occupied: np.ndarray, raw: list[np.ndarray], n_groups: int
    ) -> list[np.ndarray]:
        """:meth:`domain_unit_totals` from :meth:`domain_cell_sums`' output."""
        size = self.n_cells * n_groups
        sums = [v * self.weight[occupied // n_groups] for v in raw]
        if self.operator is not None and occupied.size * 4 < size:
            # Domains within sampling units (streets, communities): each cell lies in few
            # domains, so multiply the residual map by a sparse cells x domains matrix.
            rows, cols = occupied // n_groups, occupied % n_groups
            out = []
            for v in sums:
                z = np.zeros((n_groups, self.operator.shape[0]))
                order = np.argsort(cols, kind="stable")
                bounds = np.searchsorted(cols[order], np.arange(n_groups + 1))
                for g in range(n_groups):
                    sel = order[bounds[g] : bounds[g + 1]]
                    if sel.size:
                        z[g] = self.operator[:, rows[sel]] @ v[sel]
                out.append(z)
            return out
        blocks = []
        for v in sums:
            dense = np.zeros(size)
            dense[occupied] = v
            blocks.append(dense.reshape(self.n_cells, n_groups))
        z = self.residual_unit_totals(np.hstack(blocks))
        return [z[:, i * n_groups : (i + 1) * n_groups].T for i in range(len(sums))]


#: The cells of the last few designs, by the design's content.
_CACHE: BoundedCache[tuple[CellDesign | None]] = BoundedCache(8)


def cell_design(design: Design) -> CellDesign | None:
    """The cells of a calibrated ``design``, or None when merging does not apply.

    None for calibrations other than raking and post-stratification. Cached by the design's
    content (:func:`surveyapp.caching.content_key`).
    """
    return _CACHE.get_or_make(content_key(design), lambda: (_build(design),))[0]


def _build(design: Design) -> CellDesign | None:
    if not design.calibrations or not all(
        isinstance(c, Raking | PostStratification) for c in design.calibrations
    ):
        return None
    n = design.n_rows
    if n == 0:
        return None
    keys: list[np.ndarray] = [np.asarray(design.units)]
    floats: list[np.ndarray] = [np.asarray(design.weights, dtype=np.float64)]
    for cal in design.calibrations:
        if isinstance(cal, Raking):
            for groups, psw in cal.margins:
                keys.append(np.asarray(groups))
                floats.append(np.asarray(psw, dtype=np.float64))
        else:
            keys.append(np.asarray(cal.groups))
            floats.extend(
                [
                    np.asarray(cal.new_weights, dtype=np.float64),
                    np.asarray(cal.old_weights, dtype=np.float64),
                ]
            )
    cell, n_cells = _factorize_rows(keys)
    for values in floats:
        if not _constant_within(values, cell, n_cells):
            # Rows of a cell differ in this weight: split the cells by its values.
            _, inverse = np.unique(values, return_inverse=True)
            cell, n_cells = _factorize_rows([cell, inverse.reshape(-1)])
    first = np.full(n_cells, n, dtype=np.intp)
    np.minimum.at(first, cell, np.arange(n, dtype=np.intp))
    size = np.bincount(cell, minlength=n_cells).astype(np.float64)
    steps: list[tuple[Any, ...]] = []
    for cal in design.calibrations:
        if isinstance(cal, Raking):
            margins = []
            for groups, psw in cal.margins:
                codes = np.asarray(groups)[first].astype(np.intp)
                k = int(np.asarray(groups).max()) + 1
                grouping = _Grouping.of(codes, k)
                psw_c = np.asarray(psw, dtype=np.float64)[first]
                count = grouping.sums(size[:, None])[:, 0]
                margins.append((grouping, psw_c, size * psw_c, count))
            steps.append(("rake", tuple(margins)))
        else:
            codes = np.asarray(cal.groups)[first].astype(np.intp)
            k = int(np.asarray(cal.groups).max()) + 1
            grouping = _Grouping.of(codes, k)
            psw = np.asarray(cal.new_weights, dtype=np.float64)[first].copy()
            oldw = np.asarray(cal.old_weights, dtype=np.float64)[first]
            psw[(psw == 0) & (oldw == 0)] = 1.0
            den = grouping.sums((size * oldw)[:, None])[:, 0]
            steps.append(("post", grouping, psw, oldw, den))
    units = _Grouping.of(np.asarray(design.units)[first].astype(np.intp), design.n_units)
    operator = None
    if design.n_units * n_cells <= _MAX_OPERATOR:
        operator = _operator(steps, size, units, n_cells)
    return CellDesign(
        cell=cell, n_cells=n_cells, size=size,
        weight=np.asarray(design.weights, dtype=np.float64)[first], units=units,
        steps=tuple(steps), operator=operator,
    )  # fmt: skip


def _operator(
    steps: list[tuple[Any, ...]], size: np.ndarray, units: _Grouping, n_cells: int
) -> np.ndarray:
    """The matrix taking cell sums of scores to the unit totals of their residuals.

    Every calibration step subtracts ``scale * means[category]`` with ``means`` linear in the
    current scores, so after all steps the residual is ``x - sum_t diag(r_t) G_t Q_t x``: one
    term per margin (its subtracted means accumulate over the raking sweeps) with ``G_t`` the
    cells' categories and ``Q_t`` a (categories x cells) matrix. The ``Q_t`` follow from the
    same backfitting run on category sums, so building the map costs a few small products.
    """
    cells = np.arange(n_cells)
    terms: list[tuple[np.ndarray, np.ndarray, int, np.ndarray]] = []  # r, codes, k, Q

    def category_sums(codes: np.ndarray, k: int, s: np.ndarray) -> np.ndarray:
        """``G' diag(s) R``: category sums of ``s`` times the current residual map."""
        out = np.zeros((k, n_cells))
        out[codes, cells] = s
        for r_t, codes_t, k_t, q_t in terms:
            cross = np.bincount(codes * k_t + codes_t, weights=s * r_t, minlength=k * k_t).reshape(
                k, k_t
            )
            out -= cross @ q_t
        return out

    def inverse(a: np.ndarray) -> np.ndarray:
        out = np.zeros_like(a)
        np.divide(1.0, a, out=out, where=a != 0)
        return out

    for step in steps:
        if step[0] == "rake":
            first_term = len(terms)
            for grouping, _psw, scale, _count in step[1]:
                terms.append(
                    (
                        scale,
                        grouping.codes,
                        grouping.n_groups,
                        np.zeros((grouping.n_groups, n_cells)),
                    )
                )
            for _ in range(RAKING_VARIANCE_SWEEPS):
                for j, (grouping, psw, _scale, count) in enumerate(step[1]):
                    means = category_sums(grouping.codes, grouping.n_groups, inverse(psw))
                    means *= inverse(count)[:, None]
                    terms[first_term + j][3][...] += means
        else:
            _, grouping, psw, oldw, den = step
            q = category_sums(grouping.codes, grouping.n_groups, oldw * inverse(psw))
            q *= inverse(den)[:, None]
            terms.append((size * psw, grouping.codes, grouping.n_groups, q))
    out = np.zeros((units.n_groups, n_cells))
    out[units.codes, cells] = 1.0
    for r_t, codes_t, k_t, q_t in terms:
        w_t = np.bincount(
            units.codes * k_t + codes_t, weights=r_t, minlength=units.n_groups * k_t
        ).reshape(units.n_groups, k_t)
        out -= w_t @ q_t
    return out


def _factorize_rows(keys: list[np.ndarray]) -> tuple[np.ndarray, int]:
    """Dense codes of the distinct combinations of several integer code arrays."""
    combined = np.zeros(keys[0].shape[0], dtype=np.int64)
    n_combined = 1
    for k in keys:
        k = np.asarray(k, dtype=np.int64)
        width = int(k.max()) + 1 if k.size else 1
        combined = combined * width + k
        n_combined *= width
        if n_combined <= _DENSE_KEY_LIMIT:
            seen = np.zeros(n_combined, dtype=bool)
            seen[combined] = True
            remap = np.cumsum(seen, dtype=np.int64) - 1
            combined = remap[combined]
            n_combined = int(seen.sum())
        else:
            _, inverse = np.unique(combined, return_inverse=True)
            combined = inverse.reshape(-1).astype(np.int64)
            n_combined = int(combined.max()) + 1
    return combined.astype(np.intp), n_combined


def _constant_within(values: np.ndarray, cell: np.ndarray, n_cells: int) -> bool:
    first = np.full(n_cells, values.shape[0], dtype=np.intp)
    np.minimum.at(first, cell, np.arange(values.shape[0], dtype=np.intp))
    return bool(np.array_equal(values, values[first][cell]))
