"""Survey weights: base weights from population counts, post-stratification, raking, calibration
and trimming, each with the variance adjustment of R's ``survey`` package.

Every adjustment returns a new :class:`~surveyapp.estimation.design.Design` whose weights are
adjusted and whose list of calibrations carries what Taylor linearisation needs: a post-stratified
or raked standard error is not the standard error of fixed weights. The calibration objects
implement ``residuals(scores, design)``, applied in order by ``Design.total_covariance`` exactly
as R's ``svyrecvar`` applies ``design$postStrata``.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .types import Categorical, EstimationError

if TYPE_CHECKING:
    from .design import Design

__all__ = [
    "GregCalibration",
    "PostStratification",
    "Raking",
    "WeightingError",
    "base_weights",
    "calibrate",
    "effective_n",
    "kish_deff",
    "margin_model",
    "poststratify",
    "rake",
    "trim",
]

CalFun = Literal["linear", "raking", "logit"]
FloatArray = NDArray[np.float64]
Margin = tuple[ArrayLike, Mapping[Hashable, float]]

# svyrecvar() backfits the raking margins with a fixed number of sweeps
RAKING_VARIANCE_SWEEPS = 10
# grake(): when every population total exceeds the sample total this many times, the weights are
# rescaled before the Newton iterations
_GRAKE_RESCALE_THRESHOLD = 20.0
# MASS::ginv(Tmat, tol = 256 * .Machine$double.eps) in grake()
_GINV_TOL = 256.0 * np.finfo(float).eps
# R's qr() default tolerance for rank detection
_QR_TOL = 1e-7
_TRIM_MAX_PASSES = 1000


class WeightingError(EstimationError):
    """Weights cannot be computed: an empty cell, a category missing from the population
    counts, or an adjustment that did not converge. The message says which and what to do."""


# --------------------------------------------------------------------------------------------
# calibration records used by Design.total_covariance


@dataclass(frozen=True, eq=False)
class PostStratification:
    """Record of one post-stratification, for the variance.

    Attributes
    ----------
    groups : ndarray of int, shape (n,)
        Post-stratum index of each respondent.
    old_weights, new_weights : ndarray, shape (n,)
        Weights before and after post-stratification.
    labels : tuple
        Post-stratum labels, ``labels[groups[i]]`` is respondent ``i``'s.
    """

    groups: NDArray[np.intp]
    old_weights: FloatArray
    new_weights: FloatArray
    labels: tuple[Any, ...] = ()

    def residuals(self, scores: ArrayLike, design: Design | None = None) -> FloatArray:
        """Replace weighted scores by their residuals from the post-stratum means.

        Parameters
        ----------
        scores : array_like, shape (n,) or (n, k)
            Weighted influence scores (R's ``x`` in ``svyrecvar``).
        design : Design, optional
            Unused; part of the calibration interface.

        Returns
        -------
        ndarray, shape (n, k)
            ``x - psw * m[g]`` with ``m[g] = sum_g(x oldw / psw) / sum_g(oldw)``.

        References
        ----------
        .. [1] R package ``survey``, function ``svyrecvar`` (branch for ``postStratify``).
        .. [2] Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, Wiley, ch. 7.
        """
        x = _as_matrix(scores)
        psw = self.new_weights.copy()
        oldw = self.old_weights
        psw[(psw == 0) & (oldw == 0)] = 1.0
        k = int(self.groups.max()) + 1 if self.groups.size else 0
        num = _group_sums(self.groups, _safe_divide(x * oldw[:, None], psw[:, None]), k)
        den = np.asarray(np.bincount(self.groups, weights=oldw, minlength=k), dtype=float)
        means = _safe_divide(num, den[:, None])
        return x - means[self.groups] * psw[:, None]


@dataclass(frozen=True, eq=False)
class Raking:
    """Record of a raking, for the variance.

    Attributes
    ----------
    margins : tuple of (groups, weights)
        For each margin, in raking order, the category index of each respondent and the weights
        right after that margin was matched in the last raking iteration.
    """

    margins: tuple[tuple[NDArray[np.intp], FloatArray], ...]

    def residuals(self, scores: ArrayLike, design: Design | None = None) -> FloatArray:
        """Residuals of the weighted scores from an additive fit on the raking margins.

        The fit is R's: ten backfitting sweeps over the margins, each subtracting the
        (unweighted) within-category mean of ``x / w_margin`` times ``w_margin``.

        Parameters
        ----------
        scores : array_like, shape (n,) or (n, k)
            Weighted influence scores.
        design : Design, optional
            Unused; part of the calibration interface.

        Returns
        -------
        ndarray, shape (n, k)

        References
        ----------
        .. [1] R package ``survey``, function ``svyrecvar`` (branch for ``rake``).
        .. [2] Deville, J.-C., Särndal, C.-E. and Sautory, O. (1993). Generalized raking
           procedures in survey sampling. *JASA*, 88(423), 1013-1020.
        """
        x = _as_matrix(scores).copy()
        for _ in range(RAKING_VARIANCE_SWEEPS):
            for groups, psw in self.margins:
                k = int(groups.max()) + 1 if groups.size else 0
                count = np.bincount(groups, minlength=k).astype(float)
                ratio = _safe_divide(x, psw[:, None])
                means = _group_sums(groups, ratio, k) / count[:, None]
                x = x - psw[:, None] * means[groups]
        return x


@dataclass(frozen=True, eq=False)
class GregCalibration:
    """Record of a calibration (linear, raking or logit distance), for the variance.

    Attributes
    ----------
    basis : ndarray, shape (n, r)
        Orthonormal basis of the columns of ``X * sqrt(d)`` (``d`` the weights before
        calibration): R's ``qr(mm * whalf)``.
    scale : ndarray, shape (n,)
        ``g * sqrt(d)`` with ``g`` the calibration factors (R's ``caldata$w``).
    """

    basis: FloatArray
    scale: FloatArray

    def residuals(self, scores: ArrayLike, design: Design | None = None) -> FloatArray:
        """Residuals of the weighted scores from the weighted regression on the calibration
        variables: ``qr.resid(qr, x / w) * w`` in R.

        Parameters
        ----------
        scores : array_like, shape (n,) or (n, k)
            Weighted influence scores.
        design : Design, optional
            Unused; part of the calibration interface.

        Returns
        -------
        ndarray, shape (n, k)

        References
        ----------
        .. [1] R package ``survey``, functions ``calibrate`` and ``svyrecvar``.
        .. [2] Särndal, C.-E., Swensson, B. and Wretman, J. (1992). *Model Assisted Survey
           Sampling*, Springer, ch. 6 (variance of the GREG estimator).
        """
        x = _as_matrix(scores)
        w = self.scale[:, None]
        y = _safe_divide(x, w)
        y = y - self.basis @ (self.basis.T @ y)
        return y * w


# --------------------------------------------------------------------------------------------
# weights


def base_weights(
    strata: ArrayLike, population: Mapping[Hashable, float], *, partial: bool = False
) -> FloatArray:
    """Base weights of a stratified sample: population over completed interviews per stratum.

    Parameters
    ----------
    strata : array_like, shape (n,)
        Stratum (street, community, ...) of each completed interview.
    population : mapping
        Population count of each stratum (from the census or the household register).
    partial : bool
        Accept strata of ``population`` without any interview (their population is then not
        represented by anyone: the weighted total falls short of the population).

    Returns
    -------
    ndarray, shape (n,)
        ``N_h / n_h`` for each respondent of stratum ``h``.

    Raises
    ------
    WeightingError
        A stratum of the sample is missing from ``population``, has a population of zero, or a
        stratum of the population has no interview (unless ``partial``).

    References
    ----------
    .. [1] Valliant, R., Dever, J. A. and Kreuter, F. (2018). *Practical Tools for Designing
       and Weighting Survey Samples*, 2nd ed., Springer, ch. 13.
    """
    codes, labels = _encode(strata, "strata")
    pop = _population_vector(labels, population, what="stratum")
    counts = np.bincount(codes, minlength=len(labels)).astype(float)
    if np.any(pop <= 0):
        bad = [labels[i] for i in np.flatnonzero(pop <= 0)]
        raise WeightingError(
            f"strata {bad!r} have interviews but a population count of zero: "
            "correct the population counts"
        )
    _check_empty(labels, population, partial, what="stratum", action="base weights")
    base: FloatArray = pop[codes] / counts[codes]
    return base


def poststratify(
    design: Design,
    strata: ArrayLike,
    population: Mapping[Hashable, float],
    *,
    partial: bool = False,
) -> Design:
    """Post-stratify: scale the weights so that each post-stratum adds up to its population.

    Parameters
    ----------
    design : Design
        The design to adjust.
    strata : array_like, shape (n,)
        Post-stratum of each respondent (for instance sex by age group).
    population : mapping
        Population count of each post-stratum.
    partial : bool
        Ignore post-strata of ``population`` that have no respondent (R's ``partial = TRUE``).

    Returns
    -------
    Design
        Weights ``w_i N_g / sum_{j in g} w_j``, with a :class:`PostStratification` appended to
        the calibrations so that standard errors use residuals from the post-stratum means.

    Raises
    ------
    WeightingError
        An empty post-stratum (population but no weighted respondent), or a respondent's
        category absent from ``population``.

    References
    ----------
    .. [1] R package ``survey``, function ``postStratify``.
    .. [2] Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, Wiley, ch. 7.
    .. [3] Holt, D. and Smith, T. M. F. (1979). Post stratification. *JRSS A*, 142(1), 33-46.
    """
    weights = _weights(design)
    codes, labels = _encode(strata, "strata", n=weights.size)
    new = _poststratify_weights(weights, codes, labels, population, partial=partial)
    record = PostStratification(
        groups=codes, old_weights=weights, new_weights=new, labels=tuple(labels)
    )
    return design.with_weights(new, calibration=record)


def rake(
    design: Design,
    margins: Sequence[Margin],
    maxit: int = 10,
    epsilon: float = 1.0,
) -> Design:
    """Rake (iterative proportional fitting) the weights to several population margins.

    Parameters
    ----------
    design : Design
        The design to adjust.
    margins : sequence of (categories, population)
        For each margin, the category of each respondent and the population count of each
        category (sex, age group, street, ...).
    maxit : int
        Largest number of raking iterations (R's ``control$maxit``).
    epsilon : float
        Convergence threshold on the largest change, from one iteration to the next, of the
        weighted count of any cell of the cross-classification of all margins. A value below 1
        is relative to the total weight (R's rule).

    Returns
    -------
    Design
        With a :class:`Raking` record appended to the calibrations.

    Raises
    ------
    WeightingError
        An empty category, a category absent from its margin, margins that disagree in their
        totals, or no convergence within ``maxit`` iterations.

    Notes
    -----
    Each iteration post-stratifies to every margin in turn; raking stops as soon as the largest
    change of a cross-classified cell is below ``epsilon`` (R's ``rake`` with the same
    ``control``, so the same iteration count and weights as R). The default ``epsilon = 1``
    is R's: the last iteration moves no cell by one person or more.

    References
    ----------
    .. [1] R package ``survey``, function ``rake``.
    .. [2] Deming, W. E. and Stephan, F. F. (1940). On a least squares adjustment of a sampled
       frequency table when the expected marginal totals are known. *Ann. Math. Stat.*, 11(4),
       427-444.
    .. [3] Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, Wiley, ch. 7.
    """
    if maxit < 1:
        raise ValueError(f"maxit must be at least 1, got {maxit!r}")
    if not margins:
        raise ValueError("rake() needs at least one margin")
    weights = _weights(design)
    n = weights.size
    encoded = []
    for index, (categories, population) in enumerate(margins):
        codes, labels = _encode(categories, f"margin {index + 1}", n=n)
        _population_vector(labels, population, what=f"category of margin {index + 1}")
        encoded.append((codes, labels, population))
    totals = [sum(float(v) for v in pop.values()) for _, _, pop in encoded]
    if not np.allclose(totals, totals[0], rtol=1e-9, atol=0.0):
        raise WeightingError(
            f"the raking margins add up to different totals ({totals}): they must describe the "
            "same population"
        )
    cells = np.unique(np.stack([c for c, _, _ in encoded], axis=1), axis=0, return_inverse=True)[1]
    cells = np.asarray(cells).reshape(-1)
    n_cells = int(cells.max()) + 1
    threshold = epsilon * float(weights.sum()) if epsilon < 1 else float(epsilon)

    current = weights
    old_table = np.bincount(cells, weights=current, minlength=n_cells)
    iteration = 0
    converged = False
    steps: list[tuple[NDArray[np.intp], FloatArray]] = []
    delta = math.inf
    while iteration < maxit:
        steps = []
        for codes, labels, population in encoded:
            current = _poststratify_weights(current, codes, labels, population, partial=False)
            steps.append((codes, current))
        new_table = np.bincount(cells, weights=current, minlength=n_cells)
        delta = float(np.max(np.abs(old_table - new_table)))
        if delta < threshold:
            converged = True
            break
        old_table = new_table
        iteration += 1
    if not converged:
        raise WeightingError(
            f"raking did not converge after {iteration} iterations: a cell still moved by "
            f"{delta:.6g} (epsilon {threshold:.6g}). Raise maxit, loosen epsilon, or collapse "
            "sparse categories"
        )
    return design.with_weights(current, calibration=Raking(margins=tuple(steps)))


def calibrate(
    design: Design,
    X: ArrayLike,
    totals: ArrayLike,
    calfun: CalFun = "linear",
    bounds: tuple[float, float] | None = None,
    maxit: int = 50,
    epsilon: float = 1e-7,
    *,
    force: bool = False,
) -> Design:
    """Calibrate the weights to known population totals of the columns of ``X`` (GREG/raking).

    Parameters
    ----------
    design : Design
        The design to adjust.
    X : array_like, shape (n, p)
        Model matrix of the calibration variables (an intercept column for the population size,
        indicator columns for categories, numeric columns); :func:`margin_model` builds one from
        categorical margins.
    totals : array_like, shape (p,)
        Population totals of the columns of ``X``.
    calfun : {"linear", "raking", "logit"}
        Calibration distance: linear (GREG weights, may be negative), raking (multiplicative,
        always positive) or logit (bounded; needs finite ``bounds``).
    bounds : (float, float), optional
        Lower and upper bounds on the calibration factors ``g = w_new / w_old``.
    maxit : int
        Largest number of Newton iterations.
    epsilon : float
        Convergence threshold on ``|misfit| / (1 + |total|)`` for every column.
    force : bool
        Return the last iterate when the bounds cannot be met instead of raising.

    Returns
    -------
    Design
        With a :class:`GregCalibration` appended to the calibrations: standard errors use the
        residuals of the weighted regression on ``X``.

    Raises
    ------
    WeightingError
        ``X`` has a column with no respondent but a non-zero total, is rank deficient, or the
        iterations did not converge within ``maxit`` (with the misfit reached).

    Notes
    -----
    Linear calibration without bounds is solved in closed form,
    ``g = 1 + X (X' D X)^{-1} (t - X' d)`` (R's ``regcalibrate``); other cases by R's Newton
    iterations (``grake``), including its step halving and its rescaling of the weights when
    every total exceeds the sample total twenty times.

    References
    ----------
    .. [1] Deville, J.-C. and Särndal, C.-E. (1992). Calibration estimators in survey sampling.
       *JASA*, 87(418), 376-382.
    .. [2] R package ``survey``, functions ``calibrate``, ``regcalibrate`` and ``grake``.
    .. [3] Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, Wiley, ch. 7.
    """
    weights = _weights(design)
    mm = np.asarray(X, dtype=float)
    if mm.ndim == 1:
        mm = mm[:, None]
    target = np.asarray(totals, dtype=float).reshape(-1)
    if mm.shape[0] != weights.size:
        raise WeightingError(f"X has {mm.shape[0]} rows but the design has {weights.size}")
    if mm.shape[1] != target.size:
        raise WeightingError(
            f"X has {mm.shape[1]} columns but {target.size} population totals were given"
        )
    if not (np.all(np.isfinite(mm)) and np.all(np.isfinite(target))):
        raise WeightingError("X and the population totals must be finite (no missing values)")
    if calfun not in ("linear", "raking", "logit"):
        raise ValueError(f"calfun must be 'linear', 'raking' or 'logit', got {calfun!r}")
    lower, upper = (-math.inf, math.inf) if bounds is None else (float(b) for b in bounds)
    if not lower < upper:
        raise ValueError(f"bounds must have lower < upper, got {bounds!r}")
    if calfun == "logit" and not (math.isfinite(lower) and math.isfinite(upper)):
        raise ValueError("logit calibration requires finite bounds")
    if calfun == "logit" and not lower < 1.0 < upper:
        raise ValueError("logit calibration requires lower < 1 < upper")

    sample_total = mm.T @ weights
    if np.any(sample_total == 0):
        # R drops the columns that are zero throughout with a zero total (an empty category
        # that is also empty in the population)
        drop = (target == 0) & np.all(mm == 0, axis=0)
        mm, target, sample_total = mm[:, ~drop], target[~drop], sample_total[~drop]
    empty = np.flatnonzero((sample_total == 0) & (target != 0))
    if empty.size:
        raise WeightingError(
            f"calibration columns {empty.tolist()} have a population total but no weighted "
            "respondent (an empty cell): collapse the category with a neighbouring one"
        )

    whalf = np.sqrt(weights)
    design_matrix = mm * whalf[:, None]
    if calfun == "linear" and lower == -math.inf and upper == math.inf:
        gram = design_matrix.T @ design_matrix
        if np.linalg.matrix_rank(gram) < gram.shape[0]:
            raise WeightingError(
                "the calibration variables are collinear (X'WX is singular): remove a "
                "redundant column, for instance one category of each margin"
            )
        factors = 1.0 + mm @ np.linalg.solve(gram, target - sample_total)
    else:
        factors = _grake(
            mm, weights, calfun, lower, upper, target, epsilon=epsilon, maxit=maxit, force=force
        )
    record = GregCalibration(basis=_orthonormal_basis(design_matrix), scale=factors * whalf)
    return design.with_weights(weights * factors, calibration=record)


def trim(
    design: Design,
    lower: float = -math.inf,
    upper: float = math.inf,
    strict: bool = False,
) -> Design:
    """Trim extreme weights and share the trimmed amount equally among the other respondents.

    Parameters
    ----------
    design : Design
        The design to adjust.
    lower, upper : float
        Bounds on the weights.
    strict : bool
        Repeat until no weight is outside the bounds (sharing out the trimmed amount can push
        weights just inside a bound over it).

    Returns
    -------
    Design
        Weights ``min(max(w, lower), upper)`` plus, for the weights that were inside the
        bounds, an equal share of the total trimmed (so the sum of weights is unchanged). As in
        R, no calibration record is added: the trimmed weights keep the calibrations of
        ``design`` for the variance.

    Raises
    ------
    WeightingError
        Every weight is outside the bounds, or ``strict`` trimming does not settle.

    References
    ----------
    .. [1] R package ``survey``, function ``trimWeights``.
    .. [2] Potter, F. J. (1990). A study of procedures to identify and trim extreme sampling
       weights. *Proceedings of the Survey Research Methods Section, ASA*, 225-230.
    """
    if not lower <= upper:
        raise ValueError(f"lower ({lower}) must not exceed upper ({upper})")
    for _ in range(_TRIM_MAX_PASSES):
        weights = _weights(design)
        outside = (weights < lower) | (weights > upper)
        if not outside.any():
            return design
        if outside.all():
            raise WeightingError(
                f"every weight is outside [{lower}, {upper}]: there is no one to give the "
                "trimmed weight to; widen the bounds"
            )
        trimmed = np.clip(weights, lower, upper)
        trimmed[~outside] += float(np.sum(weights - trimmed)) / int(np.sum(~outside))
        design = design.with_weights(trimmed, calibration=None)
        if not strict:
            return design
    raise WeightingError(
        f"strict trimming to [{lower}, {upper}] did not settle after {_TRIM_MAX_PASSES} passes: "
        "the bounds cannot hold the total weight; widen them"
    )


def margin_model(margins: Sequence[Margin]) -> tuple[FloatArray, FloatArray]:
    """Model matrix and population totals for calibrating to categorical margins.

    Parameters
    ----------
    margins : sequence of (categories, population)
        As in :func:`rake`.

    Returns
    -------
    X : ndarray, shape (n, 1 + sum(levels - 1))
        Intercept, then for each margin indicators of all its categories but the first (in the
        order of the population mapping): R's ``model.matrix(~a + b)``.
    totals : ndarray
        Matching population totals (R's ``margins2totals``).

    Raises
    ------
    WeightingError
        A respondent's category is absent from its margin, or the margins disagree in their
        totals.

    References
    ----------
    .. [1] R package ``survey``, functions ``calibrate`` and ``margins2totals``.
    """
    if not margins:
        raise ValueError("margin_model() needs at least one margin")
    columns: list[FloatArray] = []
    totals: list[float] = []
    grand: list[float] = []
    n: int | None = None
    for index, (categories, population) in enumerate(margins):
        cats = np.asarray(categories, dtype=object).reshape(-1)
        if n is None:
            n = cats.size
            columns.append(np.ones(n))
        elif cats.size != n:
            raise WeightingError(f"margin {index + 1} has {cats.size} values, expected {n}")
        levels = list(population.keys())
        known = set(levels)
        missing = sorted({str(c) for c in cats if c not in known})
        if missing:
            raise WeightingError(
                f"categories {missing} of margin {index + 1} are absent from its population "
                "counts: add them or recode the answers"
            )
        grand.append(float(sum(population.values())))
        for level in levels[1:]:
            columns.append(np.array([c == level for c in cats], dtype=float))
            totals.append(float(population[level]))
    if not np.allclose(grand, grand[0], rtol=1e-9, atol=0.0):
        raise WeightingError(
            f"the margins add up to different totals ({grand}): they must describe the same "
            "population"
        )
    return np.column_stack(columns), np.array([grand[0], *totals])


def kish_deff(weights: ArrayLike) -> float:
    """Kish's design effect from unequal weighting, ``1 + CV^2`` of the weights.

    Parameters
    ----------
    weights : array_like
        Weights of the respondents (zero weights are not counted).

    Returns
    -------
    float
        ``n sum(w^2) / (sum w)^2``, which equals ``1 + CV^2`` with the CV computed with divisor
        ``n``.

    References
    ----------
    .. [1] Kish, L. (1992). Weighting for unequal P_i. *Journal of Official Statistics*, 8(2),
       183-200.
    .. [2] Valliant, R., Dever, J. A. and Kreuter, F. (2018). *Practical Tools for Designing
       and Weighting Survey Samples*, 2nd ed., Springer, ch. 14.
    """
    w = _positive_part(weights)
    return float(w.size * np.sum(w**2) / np.sum(w) ** 2)


def effective_n(weights: ArrayLike) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum(w^2)`` = ``n / kish_deff(w)``.

    Parameters
    ----------
    weights : array_like
        Weights of the respondents (zero weights are not counted).

    Returns
    -------
    float

    References
    ----------
    .. [1] Kish, L. (1992). Weighting for unequal P_i. *Journal of Official Statistics*, 8(2),
       183-200.
    """
    w = _positive_part(weights)
    return float(np.sum(w) ** 2 / np.sum(w**2))


# --------------------------------------------------------------------------------------------
# internals


def _weights(design: Design) -> FloatArray:
    return np.asarray(design.weights, dtype=float).copy()


def _positive_part(weights: ArrayLike) -> FloatArray:
    w = np.asarray(weights, dtype=float).reshape(-1)
    if not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite")
    nonzero: FloatArray = w[w != 0]
    if nonzero.size == 0:
        raise ValueError("all weights are zero")
    return nonzero


def _as_matrix(scores: ArrayLike) -> FloatArray:
    x = np.asarray(scores, dtype=float)
    return x[:, None] if x.ndim == 1 else x


def _safe_divide(num: FloatArray, den: FloatArray) -> FloatArray:
    """``num / den`` with 0 where ``den`` is 0 (R gives NaN there; only zero-weight rows)."""
    out = np.zeros(np.broadcast_shapes(num.shape, den.shape))
    np.divide(num, den, out=out, where=np.broadcast_to(den != 0, out.shape))
    return out


def _group_sums(groups: NDArray[np.intp], x: FloatArray, k: int) -> FloatArray:
    out = np.empty((k, x.shape[1]))
    for j in range(x.shape[1]):
        out[:, j] = np.bincount(groups, weights=x[:, j], minlength=k)
    return out


def _encode(
    values: ArrayLike | Categorical, name: str, n: int | None = None
) -> tuple[NDArray[np.intp], list[Any]]:
    """Integer codes and labels (in order of first appearance) of a categorical variable.

    A :class:`~surveyapp.estimation.types.Categorical` is used as it is (labels of unused
    codes dropped).
    """
    if isinstance(values, Categorical):
        raw = np.asarray(values.codes, dtype=np.intp).reshape(-1)
        if n is not None and raw.size != n:
            raise WeightingError(f"{name} has {raw.size} values but the design has {n} respondents")
        if raw.size and raw.min() < 0:
            i = int(np.flatnonzero(raw < 0)[0])
            raise WeightingError(
                f"{name} is missing for respondent {i}: impute or drop the respondent first"
            )
        used = np.flatnonzero(np.bincount(raw, minlength=len(values.labels)))
        remap = np.full(len(values.labels), -1, dtype=np.intp)
        remap[used] = np.arange(used.size)
        return remap[raw], [values.labels[i] for i in used.tolist()]
    arr = np.asarray(values, dtype=object).reshape(-1)
    if n is not None and arr.size != n:
        raise WeightingError(f"{name} has {arr.size} values but the design has {n} respondents")
    index: dict[Any, int] = {}
    codes = np.fromiter(
        (index.setdefault(v, len(index)) for v in arr.tolist()), dtype=np.intp, count=arr.size
    )
    for label, code in index.items():
        if label is None or (isinstance(label, float) and math.isnan(label)):
            i = int(np.flatnonzero(codes == code)[0])
            raise WeightingError(
                f"{name} is missing for respondent {i}: impute or drop the respondent first"
            )
    return codes, list(index)


def _population_vector(
    labels: Sequence[Any], population: Mapping[Hashable, float], what: str
) -> FloatArray:
    missing = [label for label in labels if label not in population]
    if missing:
        raise WeightingError(
            f"{what} {missing!r} occurs in the sample but is absent from the population counts: "
            "add its count or recode the answers"
        )
    pop = np.array([float(population[label]) for label in labels])
    if not np.all(np.isfinite(pop)) or np.any(pop < 0):
        raise WeightingError(f"population counts must be finite and non-negative ({what})")
    return pop


def _check_empty(
    labels: Sequence[Any],
    population: Mapping[Hashable, float],
    partial: bool,
    what: str,
    action: str,
    present: set[Any] | None = None,
) -> None:
    seen = set(labels) if present is None else present
    empty = [key for key, value in population.items() if value > 0 and key not in seen]
    if empty and not partial:
        raise WeightingError(
            f"empty cell: {what} {empty!r} has a population but no respondent, so {action} "
            "cannot represent it; collapse it with a neighbouring cell (or pass partial=True to "
            "leave it out)"
        )


def _poststratify_weights(
    weights: FloatArray,
    codes: NDArray[np.intp],
    labels: Sequence[Any],
    population: Mapping[Hashable, float],
    partial: bool,
) -> FloatArray:
    pop = _population_vector(labels, population, what="post-stratum")
    counts = np.bincount(codes, weights=weights, minlength=len(labels))
    sampled = counts != 0
    absent = [labels[int(i)] for i in np.flatnonzero(sampled & (pop == 0))]
    if absent:
        raise WeightingError(
            f"post-strata {absent!r} have respondents but a population count of zero: "
            "correct the population counts"
        )
    present = {labels[int(i)] for i in np.flatnonzero(sampled)}
    _check_empty(labels, population, partial, "post-stratum", "post-stratification", present)
    reweight = np.ones(len(labels))
    reweight[sampled] = pop[sampled] / counts[sampled]
    adjusted: FloatArray = weights * reweight[codes]
    return adjusted


def _orthonormal_basis(matrix: FloatArray) -> FloatArray:
    """Orthonormal basis of the column space (rank decided like R's ``qr``, tolerance 1e-7)."""
    if matrix.shape[1] == 0:
        return np.zeros((matrix.shape[0], 0))
    u, s, _ = np.linalg.svd(matrix, full_matrices=False)
    rank = int(np.sum(s > _QR_TOL * s[0])) if s.size and s[0] > 0 else 0
    return u[:, :rank]


def _ginv(matrix: FloatArray) -> FloatArray:
    """Moore-Penrose inverse as ``MASS::ginv(tol = 256 * eps)``."""
    u, s, vt = np.linalg.svd(matrix)
    keep = s > max(_GINV_TOL * s[0], 0.0) if s.size else np.zeros(0, dtype=bool)
    inverse: FloatArray = (vt[keep].T / s[keep]) @ u[:, keep].T
    return inverse


def _calfun(calfun: CalFun, lower: float, upper: float) -> tuple[Any, Any]:
    """``Fm1`` (g - 1 as a function of x'eta) and its derivative ``dF`` of R's calfun objects."""
    if calfun == "linear":

        def fm1(u: FloatArray) -> FloatArray:
            return np.minimum(np.maximum(u + 1.0, lower), upper) - 1.0

        def df(u: FloatArray) -> FloatArray:
            return ((u < upper - 1.0) & (u > lower - 1.0)).astype(float)

    elif calfun == "raking":

        def fm1(u: FloatArray) -> FloatArray:
            return np.minimum(np.maximum(np.exp(u), lower), upper) - 1.0

        def df(u: FloatArray) -> FloatArray:
            return np.where((u < upper - 1.0) & (u > lower - 1.0), np.exp(u), 0.0)

    else:
        a = (upper - lower) / ((upper - 1.0) * (1.0 - lower))

        def fm1(u: FloatArray) -> FloatArray:
            e = np.exp(a * u)
            return (lower * (upper - 1.0) + upper * (1.0 - lower) * e) / (
                upper - 1.0 + (1.0 - lower) * e
            ) - 1.0

        def df(u: FloatArray) -> FloatArray:
            e = np.exp(a * u)
            den = upper - 1.0 + (1.0 - lower) * e
            return (
                upper * (1.0 - lower) * e * a / den
                - ((lower * (upper - 1.0) + upper * (1.0 - lower) * e) * ((1.0 - lower) * e * a))
                / den**2
            )

    return fm1, df


def _grake(
    mm: FloatArray,
    weights: FloatArray,
    calfun: CalFun,
    lower: float,
    upper: float,
    population: FloatArray,
    *,
    epsilon: float,
    maxit: int,
    force: bool,
) -> FloatArray:
    """Calibration factors by R's ``grake`` Newton iterations (same stopping rule)."""
    fm1, df = _calfun(calfun, lower, upper)
    bounded = math.isfinite(lower) or math.isfinite(upper)
    ww = weights
    sample_total = mm.T @ ww
    eta = np.zeros(mm.shape[1])
    xeta = mm @ eta
    g = 1.0 + fm1(xeta)
    deriv = df(xeta)
    iteration = 1
    with np.errstate(divide="ignore", invalid="ignore"):
        scales = population / sample_total
    scale: float | None = None
    if float(np.min(scales)) > _GRAKE_RESCALE_THRESHOLD:
        scale = float(np.mean(scales))
        ww = ww * scale
        sample_total = sample_total * scale
    failed: float | None = None
    with np.errstate(over="ignore", invalid="ignore"):
        while True:
            tmat = (mm * (ww * deriv)[:, None]).T @ mm
            misfit = population - sample_total - mm.T @ (ww * fm1(xeta))
            deta = _ginv(tmat) @ misfit
            eta = eta + deta
            xeta = mm @ eta
            g = 1.0 + fm1(xeta)
            deriv = df(xeta)
            while iteration < maxit and not (np.all(np.isfinite(g)) and np.all(np.isfinite(deriv))):
                iteration += 1
                deta = deta / 2.0
                eta = eta - deta
                xeta = mm @ eta
                g = 1.0 + fm1(xeta)
                deriv = df(xeta)
            misfit = population - sample_total - mm.T @ (ww * fm1(xeta))
            relative = np.abs(misfit) / (1.0 + np.abs(population))
            if np.all(relative < epsilon):
                break
            iteration += 1
            if iteration > maxit:
                failed = float(np.max(relative))
                break
    if failed is not None and not force:
        within = f" within bounds [{lower}, {upper}]" if bounded else ""
        raise WeightingError(
            f"calibration ({calfun}){within} did not converge in {iteration} iterations: the "
            f"largest relative misfit is {failed:.6g} (epsilon {epsilon:g}). Widen the bounds, "
            "raise maxit, or collapse sparse categories"
        )
    if scale is not None:
        g = g * scale
    factors: FloatArray = g
    return factors
