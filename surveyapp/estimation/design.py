"""Complex sampling designs and the Taylor-linearisation variance of weighted totals.

A :class:`Design` describes a stratified multistage sample the way R's ``svydesign(ids, strata,
fpc, weights, nest=TRUE)`` does, and :meth:`Design.total_covariance` reproduces R's
``svyrecvar()`` (``multistage()``/``onestage()``/``onestrat()`` in survey 4.1): with-replacement
variance at the first stage unless finite population corrections are given, further stages when
they are, the ``survey.lonely.psu`` rules, and ``survey.adjust.domain.lonely = FALSE``.

References
----------
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley, ch. 2-3.
Lumley, T. R package ``survey``, files ``R/survey.R`` (``svyrecvar``, ``multistage``,
``onestage``, ``onestrat``) and ``R/surveyrep.R``; version 4.1-1.
Wolter, K. M. (2007). *Introduction to Variance Estimation*, 2nd ed., Springer, ch. 6.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from .types import Categorical, DesignError, EstimationError, LonelyPSUError

__all__ = ["LONELY_PSU_RULES", "Calibration", "Categorical", "Design", "LonelyPSURule"]

LonelyPSURule = Literal["fail", "remove", "certainty", "adjust", "average"]
LONELY_PSU_RULES: tuple[str, ...] = ("fail", "remove", "certainty", "adjust", "average")

# R's onestrat(): a stratum whose units all have f < 1e-7 was sampled completely.
_CERTAINTY_TOLERANCE = 1e-7
# Above this many distinct keys, relabel with a sort instead of a lookup table.
_DENSE_LIMIT = 1 << 26


@runtime_checkable
class Calibration(Protocol):
    """A weight adjustment (post-stratification, raking, GREG) that changes the variance.

    ``residuals`` receives the linearised scores (``n x k``, already multiplied by the weights)
    and returns the scores to use in their place, as ``svyrecvar`` does with ``postStrata``.
    """

    def residuals(self, scores: np.ndarray, design: Design) -> np.ndarray:
        """Return the scores to use in place of ``scores`` (``n x k``) in the variance."""
        ...


@dataclass(frozen=True, slots=True, eq=False)
class _Stage:
    """Units sampled at one stage, grouped by the stratum (stage 1) or parent unit they share."""

    group: np.ndarray  # unit -> group (stratum at stage 1, parent unit afterwards)
    n_groups: int
    n_sampled: np.ndarray  # group -> sampled units in the group (R's nPSU)
    f: np.ndarray  # unit -> (N - n) / N, 1 without fpc
    group_multiplier: np.ndarray  # group -> product of the sampling fractions above it
    from_finest: np.ndarray  # finest unit -> unit at this stage
    n_units: int


@dataclass(frozen=True, slots=True, eq=False)
class Design:
    """A stratified multistage sampling design with (possibly calibrated) weights.

    Build one with :meth:`Design.create`. Arrays are read-only; methods never modify their inputs.

    Attributes
    ----------
    weights : ndarray
        Sampling (or calibrated) weight of each row.
    strata : ndarray
        Stratum code (0..H-1) of each row.
    psu : ndarray
        First-stage unit code of each row, unique across strata (``nest=TRUE``).
    units : ndarray
        Code of each row's unit at the deepest stage that enters the variance (the PSU unless
        finite population corrections are given for several stages).
    lonely_psu : str
        Rule for strata with a single sampled unit, as ``options(survey.lonely.psu)``.
    calibrations : tuple
        Weight adjustments applied so far, oldest first (see :class:`Calibration`).
    strata_labels : ndarray
        Original stratum label of each code, for messages.
    """

    weights: np.ndarray
    strata: np.ndarray
    psu: np.ndarray
    units: np.ndarray
    lonely_psu: str
    calibrations: tuple[Any, ...]
    strata_labels: np.ndarray
    has_strata: bool
    n_strata: int
    n_psu: int
    _stages: tuple[_Stage, ...]
    _unit_paths: tuple[np.ndarray, ...]  # per stage: unit -> raw id code (for messages)
    _id_labels: tuple[np.ndarray, ...]
    # Its content key, once computed (surveyapp.caching.content_key); empty in each new object.
    _content_key: list[str] = dataclasses.field(
        default_factory=list, init=False, repr=False, compare=False
    )

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(
        cls,
        weights: Any = None,
        probs: Any = None,
        strata: Any = None,
        clusters: Any = None,
        fpc: Any = None,
        lonely_psu: str = "fail",
        calibrations: Sequence[Any] = (),
    ) -> Design:
        """Describe a sample as R's ``svydesign(..., nest=TRUE)`` does.

        Parameters
        ----------
        weights : array_like, optional
            Sampling weights. Give either ``weights`` or ``probs``; with neither, weights come from
            ``fpc`` (population over sample size at each stage) or are all 1.
        probs : array_like or sequence of array_like, optional
            Selection probabilities, one array or one per stage (multiplied).
        strata : array_like, optional
            First-stage stratum of each row (any labels).
        clusters : sequence of array_like, optional
            Cluster ids per stage (PSU, SSU, ...), or one array for the PSU. ``None`` means each
            row is its own PSU. Ids are relabelled within strata and within the previous stage.
        fpc : array_like or sequence of array_like, optional
            Finite population correction per stage, one array per cluster stage: the population
            size (number of units in the stratum, or in the parent unit) or the sampling fraction
            (all values <= 1), as R interprets ``fpc``. With ``fpc``, later stages add their
            variance (R's ``multistage``).
        lonely_psu : {"fail", "remove", "certainty", "adjust", "average"}
            Handling of strata with one sampled unit, as ``options(survey.lonely.psu)``.
        calibrations : sequence of Calibration
            Adjustments already applied to ``weights``.

        Returns
        -------
        Design

        Raises
        ------
        DesignError
            Inconsistent lengths, missing or non-finite weights, a design with a single PSU,
            fpc given for some stages only, mixed fractions and counts, or an fpc implying more
            than 100% sampling.
        """
        if lonely_psu not in LONELY_PSU_RULES:
            raise DesignError(
                f"lonely_psu must be one of {', '.join(LONELY_PSU_RULES)}, not {lonely_psu!r}"
            )
        id_arrays = _as_stage_list(clusters, "clusters")
        fpc_arrays = _as_stage_list(fpc, "fpc")
        prob_arrays = _as_stage_list(probs, "probs")
        n = _common_length(
            weights=None if weights is None else _length(weights),
            strata=None if strata is None else _length(strata),
            clusters=[_length(a) for a in id_arrays] or None,
            fpc=[_length(a) for a in fpc_arrays] or None,
            probs=[_length(a) for a in prob_arrays] or None,
        )
        if n == 0:
            raise DesignError("the design has no rows")
        if weights is not None and prob_arrays:
            raise DesignError("give either weights or probs, not both")
        if fpc_arrays and id_arrays and len(fpc_arrays) != len(id_arrays):
            raise DesignError(
                f"fpc is given for {len(fpc_arrays)} stage(s) but clusters for "
                f"{len(id_arrays)}; give one fpc per cluster stage (np.inf where unknown)"
            )
        if fpc_arrays and not id_arrays and len(fpc_arrays) != 1:
            raise DesignError("without clusters, fpc has a single stage")

        # Strata.
        has_strata = strata is not None
        if has_strata:
            strata_codes, strata_labels = factorize(
                strata if isinstance(strata, Categorical) else np.asarray(strata)
            )
        else:
            strata_codes = np.zeros(n, dtype=np.intp)
            strata_labels = np.array([1])
        n_strata = len(strata_labels)

        # Units at every stage, nested in strata and in the previous stage.
        raw = id_arrays or [np.arange(n)]
        codes: list[np.ndarray] = []
        parents: list[np.ndarray] = []
        id_paths: list[np.ndarray] = []
        id_labels: list[np.ndarray] = []
        parent_codes, n_parents = strata_codes, n_strata
        for ids in raw:
            id_codes, labels = factorize(ids if isinstance(ids, Categorical) else np.asarray(ids))
            unit_codes, keys = _combine(parent_codes, n_parents, id_codes, len(labels))
            codes.append(unit_codes)
            parents.append(keys // len(labels))
            id_paths.append(keys % len(labels))
            id_labels.append(labels)
            parent_codes, n_parents = unit_codes, len(keys)
        n_psu = len(parents[0])
        if n_psu == 1 and not has_strata:
            raise DesignError("Design has only one primary sampling unit")

        # Sampled units per group (R's sampsize) and population sizes per unit.
        n_sampled = [
            np.bincount(p, minlength=m).astype(np.float64)
            for p, m in zip(parents, [n_strata, *[len(p) for p in parents[:-1]]], strict=True)
        ]
        popsize: list[np.ndarray] | None = None
        if fpc_arrays:
            popsize = _population_sizes(fpc_arrays, codes, parents, n_sampled)

        # Weights.
        if weights is not None:
            w = np.array(weights, dtype=np.float64)
        elif prob_arrays:
            p = np.ones(n)
            for a in prob_arrays:
                p = p * np.asarray(a, dtype=np.float64)
            with np.errstate(divide="ignore"):
                w = 1.0 / p
        elif popsize is not None:
            w = np.ones(n)
            for c, par, ns, pop in zip(codes, parents, n_sampled, popsize, strict=True):
                w = w * (pop / ns[par])[c]
        else:
            w = np.ones(n)
        if w.ndim != 1:
            raise DesignError("weights must be one-dimensional")
        bad = ~np.isfinite(w)
        if bad.any():
            row = int(np.flatnonzero(bad)[0]) + 1
            raise DesignError(f"weight of row {row} is not a finite number")

        # Stages that enter the variance: the first, and all of them when fpc is given.
        n_var_stages = len(codes) if popsize is not None else 1
        finest = codes[n_var_stages - 1]
        n_finest = len(parents[n_var_stages - 1])
        stages: list[_Stage] = []
        multiplier = np.ones(n_strata)
        to_finest = np.arange(n_finest)  # finest unit -> unit at the current stage
        maps: list[np.ndarray] = [to_finest]
        for s in range(n_var_stages - 2, -1, -1):
            maps.append(parents[s + 1][maps[-1]])
        maps.reverse()
        for s in range(n_var_stages):
            m = len(parents[s])
            group = parents[s]
            ns = n_sampled[s]
            if popsize is None:
                f = np.ones(m)
                fraction = np.zeros(m)
            else:
                pop = popsize[s]
                inf = np.isinf(pop)
                safe = np.where(inf, 1.0, pop)
                f = np.where(inf, 1.0, (safe - ns[group]) / safe)
                fraction = np.where(inf, 0.0, ns[group] / safe)
            stages.append(
                _Stage(
                    group=_readonly(group),
                    n_groups=len(ns),
                    n_sampled=_readonly(ns),
                    f=_readonly(f),
                    group_multiplier=_readonly(multiplier),
                    from_finest=_readonly(maps[s]),
                    n_units=m,
                )
            )
            multiplier = multiplier[group] * fraction

        return cls(
            weights=_readonly(w),
            strata=_readonly(strata_codes),
            psu=_readonly(codes[0]),
            units=_readonly(finest),
            lonely_psu=lonely_psu,
            calibrations=tuple(calibrations),
            strata_labels=_readonly(np.asarray(strata_labels)),
            has_strata=has_strata,
            n_strata=n_strata,
            n_psu=n_psu,
            _stages=tuple(stages),
            _unit_paths=tuple(_readonly(p) for p in id_paths),
            _id_labels=tuple(id_labels),
        )

    def with_weights(self, new_weights: Any, calibration: Any = None) -> Design:
        """Return a copy with other weights, recording ``calibration`` if one produced them.

        Parameters
        ----------
        new_weights : array_like
            One weight per row.
        calibration : Calibration, optional
            Appended to :attr:`calibrations`; its ``residuals`` then enter every variance.
        """
        w = np.array(new_weights, dtype=np.float64)
        if w.shape != self.weights.shape:
            raise DesignError(f"expected {self.n_rows} weights, got {w.shape}")
        if not np.isfinite(w).all():
            raise DesignError("new weights must be finite numbers")
        cals = self.calibrations if calibration is None else (*self.calibrations, calibration)
        return dataclasses.replace(self, weights=_readonly(w), calibrations=cals)

    def with_lonely_psu(self, rule: str) -> Design:
        """Return a copy using another lonely-PSU rule."""
        if rule not in LONELY_PSU_RULES:
            raise DesignError(f"lonely_psu must be one of {', '.join(LONELY_PSU_RULES)}")
        return dataclasses.replace(self, lonely_psu=rule)

    # ------------------------------------------------------------------ properties
    @property
    def n_rows(self) -> int:
        """Number of rows (R's ``nrow(design)``)."""
        return int(self.weights.shape[0])

    @property
    def n_units(self) -> int:
        """Number of units at the deepest stage entering the variance (see :attr:`units`)."""
        return self._stages[-1].n_units

    @property
    def unit_psu(self) -> np.ndarray:
        """First-stage unit (PSU code) of each unit of :attr:`units`."""
        return self._stages[0].from_finest

    @property
    def psu_stratum(self) -> np.ndarray:
        """Stratum code of each PSU."""
        return self._stages[0].group

    @property
    def n_stages(self) -> int:
        """Number of sampling stages whose variance is computed (1 without fpc)."""
        return len(self._stages)

    def degf(self, in_domain: np.ndarray | None = None) -> int:
        """Design degrees of freedom, as R's ``degf()``: PSUs minus strata.

        Only rows with a non-zero weight count, so for a domain (pass its row mask) this is
        ``degf(subset(design, domain))``.

        References
        ----------
        R package ``survey``, ``degf.survey.design2``.
        """
        keep = self.weights != 0
        if in_domain is not None:
            keep = keep & np.asarray(in_domain, dtype=bool)
        psus = np.count_nonzero(np.bincount(self.psu[keep], minlength=self.n_psu))
        strata = np.count_nonzero(np.bincount(self.strata[keep], minlength=self.n_strata))
        return int(psus - strata)

    # ------------------------------------------------------------------ variance
    def unit_totals(self, x: np.ndarray) -> np.ndarray:
        """Sum the rows of ``x`` (``n`` or ``n x k``) within each unit of :attr:`units`."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 1:
            return np.bincount(self.units, weights=x, minlength=self.n_units)[:, None]
        return np.column_stack(
            [
                np.bincount(self.units, weights=x[:, j], minlength=self.n_units)
                for j in range(x.shape[1])
            ]
        ).reshape(self.n_units, x.shape[1])

    def total_covariance(self, scores: Any, *, in_domain: Any = None) -> np.ndarray:
        """Covariance matrix of the estimated totals of the columns of ``scores``.

        Parameters
        ----------
        scores : array_like
            ``n`` or ``n x k`` weighted scores (the ``x`` of R's ``svyrecvar``), e.g. ``w * y``
            for a total or ``w * (y - ybar) / sum(w)`` for a mean.
        in_domain : array_like of bool, optional
            Rows of the domain. Scores outside it are set to zero; for an uncalibrated design
            strata (and later-stage clusters) without domain rows are then left out, as R does
            when it drops the rows of ``subset(design, domain)``.

        Returns
        -------
        ndarray
            ``k x k`` covariance matrix.

        Notes
        -----
        Each calibration's ``residuals`` is applied first, in order. Then, per stratum ``h``
        with ``n_h`` sampled PSUs and PSU totals ``z_hi``,
        ``V = sum_h f_h n_h / (n_h - 1) sum_i (z_hi - zbar_h)(z_hi - zbar_h)'`` with
        ``f_h = 1 - n_h / N_h`` (1 without fpc), plus, with fpc at later stages, the
        same computation within each PSU multiplied by its sampling fraction ``n_h / N_h``
        (Lumley 2010, sec. 3.2; R's ``multistage``).

        Raises
        ------
        LonelyPSUError
            A stratum with one PSU under ``lonely_psu="fail"``.
        EstimationError
            ``lonely_psu="average"`` with no stratum to average over.
        """
        x = np.array(scores, dtype=np.float64)
        one_d = x.ndim == 1
        if one_d:
            x = x[:, None]
        if x.shape[0] != self.n_rows:
            raise EstimationError(f"scores have {x.shape[0]} rows, the design {self.n_rows}")
        mask = None
        if in_domain is not None:
            mask = np.asarray(in_domain, dtype=bool)
            x[~mask] = 0.0
        if self.calibrations:
            from .cells import cell_design

            cells = cell_design(self)
            if cells is not None:
                totals = cells.residual_unit_totals(cells.cell_sums(x))
                return self.covariance_from_unit_totals(totals, present=None)
        for cal in self.calibrations:
            x = np.asarray(cal.residuals(x, self), dtype=np.float64).reshape(x.shape)
        present = None
        if mask is not None and not self.calibrations:
            present = np.bincount(self.units[mask], minlength=self.n_units) > 0
        return self.covariance_from_unit_totals(self.unit_totals(x), present=present)

    def covariance_from_unit_totals(
        self, totals: np.ndarray, present: np.ndarray | None = None
    ) -> np.ndarray:
        """Covariance from scores already summed within :attr:`units` (see :meth:`unit_totals`).

        Parameters
        ----------
        totals : ndarray
            ``n_units x k`` unit totals of the (calibration-residual) scores.
        present : ndarray of bool, optional
            Units holding at least one row of the domain; units outside must have zero totals.
            ``None``: every unit is present (whole-sample estimate or calibrated design).
        """
        z = np.asarray(totals, dtype=np.float64)
        if z.ndim == 1:
            z = z[:, None]
        k = z.shape[1]
        v = np.zeros((k, k))
        for s, stage in enumerate(self._stages):
            if s == len(self._stages) - 1:
                zs, ps = z, present
            else:
                zs = _sum_by(stage.from_finest, z, stage.n_units)
                ps = None
                if present is not None:
                    ps = np.bincount(stage.from_finest[present], minlength=stage.n_units) > 0
            v += self._stage_covariance(s, stage, zs, ps)
        return v

    def _stage_covariance(
        self, s: int, stage: _Stage, z: np.ndarray, present: np.ndarray | None
    ) -> np.ndarray:
        """One stage of R's ``multistage``: ``onestage`` per group, scaled by fractions above."""
        group, ns, f = stage.group, stage.n_sampled, stage.f
        if present is None:
            present_group = np.bincount(group, minlength=stage.n_groups) > 0
            live = f >= _CERTAINTY_TOLERANCE
        else:
            present_group = np.bincount(group[present], minlength=stage.n_groups) > 0
            live = (f >= _CERTAINTY_TOLERANCE) & present
        certain = np.bincount(group[live], minlength=stage.n_groups) == 0
        active = present_group & ~certain
        lonely = active & (ns == 1)
        regular = active & (ns > 1)
        rule = self.lonely_psu
        if lonely.any() and rule == "fail":
            raise LonelyPSUError(self._group_label(s, int(np.flatnonzero(lonely)[0])), s + 1)

        sums = _sum_by(group, z, stage.n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = sums / ns[:, None]
            scale = np.where(regular, stage.group_multiplier * ns / (ns - 1), 0.0)[group] * f
        d = z - np.where(regular[:, None], means, 0.0)[group]
        v: np.ndarray = (d * scale[:, None]).T @ d
        if lonely.any():
            if rule == "adjust":
                # Lonely PSU centred at the grand mean (0 for linearised means): R's onestrat
                # skips the centring, so the PSU total itself enters.
                w = np.where(lonely, stage.group_multiplier, 0.0)[group] * f
                v += (z * w[:, None]).T @ z
            elif rule == "average":
                if s > 0:
                    raise EstimationError(
                        f'lonely_psu="average" cannot handle cluster '
                        f"({self._group_label(s, int(np.flatnonzero(lonely)[0]))}) with one "
                        f"sampled unit at stage {s + 1}: there is no other stratum to average "
                        "over (R returns NaN); use another rule"
                    )
                n_present = int(np.count_nonzero(present_group))
                n_ok = n_present - int(np.count_nonzero(lonely))
                if n_ok == 0:
                    raise EstimationError(
                        'lonely_psu="average": every stratum has a single PSU, there is '
                        "nothing to average"
                    )
                v *= n_present / n_ok
        return v

    def _group_label(self, s: int, g: int) -> str:
        """Human-readable label of group ``g`` at stage ``s`` (stratum, or parent-unit path)."""
        if s == 0:
            return str(self.strata_labels[g])
        parts: list[str] = []
        unit, stage = g, s - 1
        while stage >= 0:
            parts.append(str(self._id_labels[stage][self._unit_paths[stage][unit]]))
            unit = int(self._stages[stage].group[unit])
            stage -= 1
        if self.has_strata:
            parts.append(str(self.strata_labels[unit]))
        return "/".join(reversed(parts))


# ---------------------------------------------------------------------- helpers
def factorize(values: np.ndarray | Categorical) -> tuple[np.ndarray, np.ndarray]:
    """Return integer codes ``0..m-1`` and the sorted distinct labels of ``values``.

    Small-range integers (and integral floats) are relabelled in O(n) with a lookup table;
    anything else goes through :func:`numpy.unique`.
    """
    if isinstance(values, Categorical):
        codes = np.asarray(values.codes)
        if codes.size and codes.min() < 0:
            raise DesignError("ids and strata must not be missing")
        dense, used = _dense_factorize(codes.astype(np.int64)) if codes.size else (codes, codes)
        assert dense is not None
        names = np.array(list(values.labels) + [None], dtype=object)
        return dense.astype(np.intp), names[used]
    a = np.asarray(values)
    if a.ndim != 1:
        raise DesignError("ids, strata and fpc must be one-dimensional")
    if a.size == 0:
        return np.zeros(0, dtype=np.intp), a
    if a.dtype.kind == "f" and np.isfinite(a).all() and (np.floor(a) == a).all():
        ints = a.astype(np.int64)
        dense_codes, labels = _dense_factorize(ints)
        if dense_codes is not None:
            return dense_codes, labels.astype(a.dtype)
    if a.dtype.kind in "iub":
        dense_codes, labels = _dense_factorize(a.astype(np.int64))
        if dense_codes is not None:
            return dense_codes, labels.astype(a.dtype)
    if a.dtype.kind == "f" and np.isnan(a).any():
        raise DesignError("ids and strata must not be missing")
    if a.dtype == object and any(v is None for v in a):
        raise DesignError("ids and strata must not be missing")
    labels, codes = np.unique(a, return_inverse=True)
    return codes.astype(np.intp).reshape(-1), labels


def _dense_factorize(a: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    lo, hi = int(a.min()), int(a.max())
    span = hi - lo + 1
    if span > max(_DENSE_LIMIT, 2 * a.size):
        return None, a
    seen = np.zeros(span, dtype=bool)
    shifted = a - lo
    seen[shifted] = True
    remap = np.cumsum(seen, dtype=np.intp) - 1
    return remap[shifted], np.flatnonzero(seen) + lo


def _combine(
    parent: np.ndarray, n_parent: int, child: np.ndarray, n_child: int
) -> tuple[np.ndarray, np.ndarray]:
    """Codes of (parent, child) pairs and their keys ``parent * n_child + child``, sorted."""
    key = parent.astype(np.int64) * n_child + child
    codes, keys = _dense_factorize(key) if n_parent * n_child <= _DENSE_LIMIT else (None, key)
    if codes is None:
        keys, codes = np.unique(key, return_inverse=True)
        codes = codes.reshape(-1)
    return codes.astype(np.intp), keys


def _population_sizes(
    fpc_arrays: list[np.ndarray],
    codes: list[np.ndarray],
    parents: list[np.ndarray],
    n_sampled: list[np.ndarray],
) -> list[np.ndarray]:
    """Population size of each unit's group at every stage, from fpc counts or fractions.

    Mirrors R's ``as.fpc``: all values > 1 ... are counts, all <= 1 are sampling fractions.
    """
    fpcs = [np.asarray(a, dtype=np.float64) for a in fpc_arrays]
    if any(np.isnan(a).any() for a in fpcs):
        raise DesignError("fpc must not be missing")
    is_count = any((a > 1).any() for a in fpcs)
    if is_count and not all((a >= 1).all() for a in fpcs):
        raise DesignError(
            "fpc mixes population sizes (> 1) and sampling fractions (<= 1); use one or the other"
        )
    pops: list[np.ndarray] = []
    for s, (a, c, par, ns) in enumerate(zip(fpcs, codes, parents, n_sampled, strict=True)):
        first = np.full(len(par), a.size, dtype=np.intp)
        np.minimum.at(first, c, np.arange(a.size, dtype=np.intp))
        row = a[first]
        sampled = ns[par]
        if is_count:
            pop = row
        else:
            if (row < 0).any():
                raise DesignError("fpc sampling fractions must be between 0 and 1")
            with np.errstate(divide="ignore"):
                pop = sampled / row
        if (pop < sampled).any():
            u = int(np.flatnonzero(pop < sampled)[0])
            raise DesignError(
                f"FPC implies >100% sampling at stage {s + 1}: population size {pop[u]:g} "
                f"but {int(sampled[u])} units sampled (row {int(first[u]) + 1})"
            )
        pops.append(pop)
    return pops


def _sum_by(index: np.ndarray, z: np.ndarray, m: int) -> np.ndarray:
    out = np.empty((m, z.shape[1]))
    for j in range(z.shape[1]):
        out[:, j] = np.bincount(index, weights=z[:, j], minlength=m)
    return out


def _length(a: Any) -> int:
    return len(a.codes) if isinstance(a, Categorical) else int(np.shape(a)[0])


def _as_stage_list(value: Any, name: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, Categorical):
        return [value]
    if isinstance(value, np.ndarray):
        if value.ndim == 1:
            return [value]
        if value.ndim == 2:
            return [value[:, j] for j in range(value.shape[1])]
        raise DesignError(f"{name} must be one array or a sequence of arrays")
    if isinstance(value, (list, tuple)):
        if len(value) == 0:
            return []
        if all(isinstance(v, Categorical) or np.ndim(v) == 1 for v in value):
            return [v if isinstance(v, Categorical) else np.asarray(v) for v in value]
        if all(np.ndim(v) == 0 for v in value):
            return [np.asarray(value)]
    raise DesignError(f"{name} must be one array or a sequence of arrays")


def _common_length(**lengths: Any) -> int:
    seen: dict[str, int] = {}
    for name, value in lengths.items():
        if value is None:
            continue
        for i, n in enumerate(value if isinstance(value, list) else [value]):
            seen[name if not isinstance(value, list) or len(value) == 1 else f"{name}[{i}]"] = n
    if not seen:
        raise DesignError("give at least weights, probs, strata or clusters")
    sizes = set(seen.values())
    if len(sizes) > 1:
        detail = ", ".join(f"{k}: {v}" for k, v in seen.items())
        raise DesignError(f"arrays have different lengths ({detail})")
    return sizes.pop()


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    if a.flags.writeable and a.base is not None:
        a = a.copy()
    a.flags.writeable = False
    return a
