"""Is a street really different from its district, from another street, or from the last wave?

Differences of domain means from the same sample are linearised jointly, so the covariance
between the two estimates (a street is part of its district; two streets share strata, clusters
and the post-stratification) enters the standard error. Waves are independent samples, whose
variances add. Every comparison uses a t reference with the design degrees of freedom.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .design import Categorical
from .types import EstimationError

if TYPE_CHECKING:
    from .design import Design

__all__ = [
    "Comparison",
    "consistent_with_interval",
    "DomainMeans",
    "difference_between_domains",
    "difference_between_waves",
    "difference_from_overall",
    "domain_means",
]


@dataclass(frozen=True)
class Comparison:
    """A difference of two estimates with its standard error and test.

    Attributes
    ----------
    difference : float
        First estimate minus the second (street minus district, wave minus previous wave).
    se : float
        Standard error of the difference.
    ci_low, ci_high : float
        Confidence interval of the difference (t with ``df`` degrees of freedom).
    p_value : float
        Two-sided p-value of "no difference".
    df : float
        Degrees of freedom of the t reference (``inf``: Normal).
    significant : bool
        ``p_value < 1 - level``, i.e. the interval excludes zero.
    level : float
        Confidence level.
    note : str
        Why the test's verdict was overruled (see :func:`consistent_with_interval`), else "".
    """

    difference: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    df: float
    significant: bool
    level: float = 0.95
    note: str = ""


@dataclass(frozen=True, eq=False)
class DomainMeans:
    """Means of several domains of one design and their joint covariance matrix.

    Attributes
    ----------
    levels : tuple
        Domain labels, in the order of ``means``.
    means : ndarray, shape (k,)
        Weighted mean of each domain.
    cov : ndarray, shape (k, k)
        Joint covariance matrix (Taylor linearisation), the input that
        :func:`~surveyapp.estimation.ranks.rank_intervals` needs.
    n : ndarray of int, shape (k,)
        Respondents with a valid value in each domain.
    df : int
        Design degrees of freedom.
    """

    levels: tuple[Hashable, ...]
    means: NDArray[np.float64]
    cov: NDArray[np.float64]
    n: NDArray[np.int64]
    df: int


class EstimateLike(Protocol):
    """Anything with a value, a standard error and degrees of freedom (an ``Estimate``)."""

    @property
    def value(self) -> float:
        """The point estimate."""
        ...

    @property
    def se(self) -> float:
        """Its standard error."""
        ...

    @property
    def df(self) -> float:
        """The degrees of freedom of its variance estimate."""
        ...


def domain_means(
    design: Design,
    y: ArrayLike,
    domains: ArrayLike,
    *,
    levels: Sequence[Hashable] | None = None,
) -> DomainMeans:
    """Means of ``y`` in each domain and their joint covariance matrix.

    Parameters
    ----------
    design : Design
        The sampling design (with its calibrations).
    y : array_like, shape (n,)
        Values (0/1 for a rate, points for a score); ``nan`` marks an invalid answer, left out
        of every domain.
    domains : array_like, shape (n,)
        Domain label (street, community) of each respondent.
    levels : sequence, optional
        Domains to report, in this order; by default every label in order of first appearance.

    Returns
    -------
    DomainMeans

    Raises
    ------
    EstimationError
        A domain without a respondent with a valid value and positive weight.

    Notes
    -----
    The mean of domain ``d`` is the ratio ``sum(w I_d y) / sum(w I_d)``; its linearised score
    is ``w I_d (y - ybar_d) / sum(w I_d)``. The scores of all domains are stacked as columns
    and passed to ``Design.total_covariance``, which applies the calibration residuals and the
    stratified cluster formula, so that the off-diagonal terms are the covariances R's
    ``svyby(..., covmat = TRUE)`` reports.

    References
    ----------
    .. [1] Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, Wiley, ch. 2-3
       (domains and ``svyby``).
    .. [2] Wolter, K. M. (2007). *Introduction to Variance Estimation*, 2nd ed., Springer,
       ch. 6 (Taylor series).
    """
    values = _values(design, y)
    codes, levels = _level_codes(domains, levels, design.n_rows)
    joint = _joint_scores(design, values, codes, levels)
    if joint is None:  # a calibration the cells do not handle: scores row by row
        masks = [codes == j for j in range(len(levels))]
        scores, means, counts = _mean_scores(design, values, masks, names=list(levels))
        cov = design.total_covariance(scores) if masks else np.zeros((0, 0))
    else:
        means, counts, z = joint
        cov = design.covariance_from_unit_totals(z.T) if levels else np.zeros((0, 0))
    return DomainMeans(
        levels=tuple(levels),
        means=means,
        cov=np.asarray(cov, dtype=float),
        n=counts,
        df=design.degf(),
    )


def differences_from_overall(
    design: Design,
    y: ArrayLike,
    domains: ArrayLike | Categorical,
    levels: Sequence[Hashable] | None = None,
    *,
    level: float = 0.95,
    df: float | Mapping[Hashable, float] | None = None,
) -> dict[Hashable, Comparison]:
    """:func:`difference_from_overall` for every domain at once (streets against the district).

    One joint covariance of all domain means and the overall mean, from unit totals of their
    linearised scores, instead of one pass over the respondents per domain.

    ``df`` may map each level to its own degrees of freedom (a street's, so that the test
    agrees with the street's interval printed on the same line); a level whose degrees of
    freedom are not positive is left out of the result.
    """
    values = _values(design, y)
    codes, levels = _level_codes(domains, levels, design.n_rows)
    joint = _joint_scores(design, values, codes, levels)
    overall = (
        None
        if joint is None
        else _joint_scores(design, values, np.where(np.isnan(values), -1, 0), ["ALL"])
    )
    if isinstance(df, Mapping):
        dfs = {lv: float(df[lv]) for lv in levels}
    else:
        dfs = dict.fromkeys(levels, float(design.degf() if df is None else df))
    keep = [j for j, lv in enumerate(levels) if dfs[lv] > 0]
    if joint is None or overall is None:
        everyone = np.ones(design.n_rows, dtype=bool)
        return {
            levels[j]: _difference(design, values, codes == j, everyone, level, dfs[levels[j]])
            for j in keep
        }
    means, _, z = joint
    mean_all, _, z_all = overall
    cov = design.covariance_from_unit_totals(np.vstack([z, z_all]).T)
    k = len(levels)
    return {
        levels[j]: _comparison(
            float(means[j] - mean_all[0]),
            float(cov[j, j] + cov[k, k] - 2.0 * cov[j, k]),
            dfs[levels[j]],
            level,
        )
        for j in keep
    }


def _level_codes(
    domains: ArrayLike | Categorical, levels: Sequence[Hashable] | None, n: int
) -> tuple[NDArray[np.intp], list[Hashable]]:
    """Each row's position in ``levels`` (-1: another domain); levels by first appearance."""
    if isinstance(domains, Categorical):
        raw = np.asarray(domains.codes, dtype=np.intp).reshape(-1)
        labels = list(domains.labels)
    else:
        arr = np.asarray(domains, dtype=object).reshape(-1)
        index: dict[Hashable, int] = {}
        raw = np.fromiter(
            (index.setdefault(v, len(index)) for v in arr.tolist()), dtype=np.intp, count=arr.size
        )
        labels = list(index)
    if raw.size != n:
        raise EstimationError(f"domains has {raw.size} values but the design has {n}")
    if levels is None:
        first = np.full(len(labels), n, dtype=np.intp)
        ok = raw >= 0
        np.minimum.at(first, raw[ok], np.flatnonzero(ok))
        order = [int(c) for c in np.argsort(first, kind="stable") if first[c] < n]
        levels = [labels[c] for c in order]
    position = {lv: j for j, lv in enumerate(levels)}
    remap = np.array([position.get(lb, -1) for lb in labels] + [-1], dtype=np.intp)
    return remap[raw], list(levels)


def _joint_scores(
    design: Design, values: NDArray[np.float64], codes: NDArray[np.intp], levels: Sequence[Any]
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]] | None:
    """Means, valid counts and unit totals (k x units) of the domains' linearised scores.

    The score of domain ``d`` is ``w I_d (y - ybar_d) / sum(w I_d)`` (calibration residuals
    applied), summed within the design's units. None for calibrations the cells do not cover.
    """
    k = len(levels)
    w = np.asarray(design.weights, dtype=float)
    valid = ~np.isnan(values)
    y = np.where(valid, values, 0.0)
    c = np.where(valid, codes, -1)
    keep = c >= 0
    totals = np.bincount(c[keep], weights=w[keep], minlength=k)
    sums = np.bincount(c[keep], weights=(w * y)[keep], minlength=k)
    counts = np.bincount(c[keep & (w != 0)], minlength=k).astype(np.int64)
    for j, name in enumerate(levels):
        if totals[j] == 0.0:
            raise EstimationError(
                f"domain {name!r} has no respondent with a valid answer and a positive weight"
            )
    means = sums / totals if k else np.zeros(0)
    if design.calibrations:
        from .cells import cell_design

        cells = cell_design(design)
        batch = None if cells is None else cells.domain_unit_totals([y, np.ones_like(y)], c, k)
        if batch is None:
            return None
        a, b = batch
    else:
        m = design.n_units
        idx = c[keep] * m + design.units[keep]
        a = np.bincount(idx, weights=(w * y)[keep], minlength=k * m).reshape(k, m)
        b = np.bincount(idx, weights=w[keep], minlength=k * m).reshape(k, m)
    z = (a - means[:, None] * b) / totals[:, None]
    return means, counts, z


def difference_from_overall(
    design: Design,
    y: ArrayLike,
    domain: ArrayLike,
    *,
    overall: ArrayLike | None = None,
    level: float = 0.95,
    df: float | None = None,
) -> Comparison:
    """Compare a domain with the larger area it belongs to (a street with its district).

    Parameters
    ----------
    design : Design
        The sampling design (with its calibrations).
    y : array_like, shape (n,)
        Values; ``nan`` marks an invalid answer.
    domain : array_like of bool, shape (n,)
        Respondents of the street.
    overall : array_like of bool, shape (n,), optional
        Respondents of the district; all respondents when omitted.
    level : float
        Confidence level.
    df : float, optional
        Degrees of freedom; the design's (PSUs minus strata) by default.

    Returns
    -------
    Comparison
        Street mean minus district mean.

    Notes
    -----
    The street is part of the district, so the two means are positively correlated and an
    independent-samples test would overstate the standard error. Both means are linearised and
    their joint covariance ``V`` taken from the design; ``se^2 = V_11 + V_22 - 2 V_12``. This is
    R's ``svycontrast(svytotal(~ya + ia + y + one), quote(ya/ia - y/one))``.

    References
    ----------
    .. [1] Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, Wiley (``svyby``,
       ``svycontrast``).
    .. [2] Korn, E. L. and Graubard, B. I. (1999). *Analysis of Health Surveys*, Wiley
       (design degrees of freedom for t references).
    """
    n = design.n_rows
    reference = np.ones(n, dtype=bool) if overall is None else _mask(overall, n, "overall")
    return _difference(design, y, _mask(domain, n, "domain"), reference, level, df)


def difference_between_domains(
    design: Design,
    y: ArrayLike,
    domain_a: ArrayLike,
    domain_b: ArrayLike,
    *,
    level: float = 0.95,
    df: float | None = None,
) -> Comparison:
    """Compare two domains of the same sample (street with street).

    Parameters
    ----------
    design : Design
        The sampling design (with its calibrations).
    y : array_like, shape (n,)
        Values; ``nan`` marks an invalid answer.
    domain_a, domain_b : array_like of bool, shape (n,)
        Respondents of each domain.
    level : float
        Confidence level.
    df : float, optional
        Degrees of freedom; the design's by default.

    Returns
    -------
    Comparison
        Mean of ``domain_a`` minus mean of ``domain_b``.

    Notes
    -----
    Uses the joint covariance of the two domain means from one design, as R's
    ``svycontrast(svyby(~y, ~street, design, svymean, covmat = TRUE), c(1, -1))``: domains
    share strata, clusters and calibration, so they are not independent samples. (survey 4.1-1's
    ``svyby(covmat = TRUE)`` stops with an error on calibrated designs; there the delta method
    on ``svytotal(~ya + ia + yb + ib)`` gives the joint answer, and is what the tests compare
    with.)

    References
    ----------
    .. [1] Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, Wiley (``svyby``,
       ``svycontrast``).
    """
    n = design.n_rows
    return _difference(
        design, y, _mask(domain_a, n, "domain_a"), _mask(domain_b, n, "domain_b"), level, df
    )


def difference_between_waves(
    current: EstimateLike, previous: EstimateLike, *, level: float = 0.95
) -> Comparison:
    """Compare an estimate with the same estimate from the previous, independent, wave.

    Parameters
    ----------
    current, previous : Estimate
        Estimates (``value``, ``se``, ``df``) from two independently drawn samples.
    level : float
        Confidence level.

    Returns
    -------
    Comparison
        ``current - previous`` with ``se = sqrt(se_1^2 + se_2^2)`` and ``df = df_1 + df_2``.

    Notes
    -----
    Independent samples have no covariance, so variances add. Putting the two samples side by
    side as separate strata of one design gives exactly this variance and
    ``degf = (PSUs_1 - strata_1) + (PSUs_2 - strata_2) = df_1 + df_2``, which is what R's
    ``svycontrast(svyby(~y, ~wave, stacked, svymean, covmat = TRUE), c(-1, 1))`` reports.
    Waves that re-interview the same panel are not independent and need a joint design.

    References
    ----------
    .. [1] Kish, L. (1965). *Survey Sampling*, Wiley (comparisons of independent samples).
    .. [2] Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, Wiley
       (``svycontrast``).
    """
    for name, estimate in (("current", current), ("previous", previous)):
        if not (math.isfinite(estimate.value) and math.isfinite(estimate.se)):
            raise EstimationError(f"the {name} wave's estimate or standard error is not finite")
    difference = float(current.value) - float(previous.value)
    variance = float(current.se) ** 2 + float(previous.se) ** 2
    df = float(current.df) + float(previous.df)
    return _comparison(difference, variance, df, level)


# --------------------------------------------------------------------------------------------


def _values(design: Design, y: ArrayLike) -> NDArray[np.float64]:
    values = np.asarray(y, dtype=float).reshape(-1)
    if values.size != design.n_rows:
        raise EstimationError(f"y has {values.size} values but the design has {design.n_rows}")
    if np.any(np.isinf(values)):
        raise EstimationError("y has infinite values")
    return values


def _mask(values: ArrayLike, n: int, name: str) -> NDArray[np.bool_]:
    mask = np.asarray(values)
    if mask.dtype != bool:
        raise EstimationError(f"{name} must be a boolean mask of respondents")
    mask = mask.reshape(-1)
    if mask.size != n:
        raise EstimationError(f"{name} has {mask.size} values but the design has {n}")
    return mask


def _mean_scores(
    design: Design,
    values: NDArray[np.float64],
    masks: Sequence[NDArray[np.bool_]],
    names: Sequence[Hashable],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Linearised scores (n x k) of the domain means, the means and the valid counts."""
    w = np.asarray(design.weights, dtype=float)
    valid = ~np.isnan(values)
    y = np.where(valid, values, 0.0)
    scores = np.zeros((values.size, len(masks)))
    means = np.zeros(len(masks))
    counts = np.zeros(len(masks), dtype=np.int64)
    for j, (mask, name) in enumerate(zip(masks, names, strict=True)):
        inside = mask & valid
        wd = np.where(inside, w, 0.0)
        total = float(wd.sum())
        if total == 0.0:
            raise EstimationError(
                f"domain {name!r} has no respondent with a valid answer and a positive weight"
            )
        means[j] = float(np.sum(wd * y)) / total
        scores[:, j] = wd * (y - means[j]) / total
        counts[j] = int(np.count_nonzero(inside & (w != 0)))
    return scores, means, counts


def _difference(
    design: Design,
    y: ArrayLike,
    mask_a: NDArray[np.bool_],
    mask_b: NDArray[np.bool_],
    level: float,
    df: float | None,
) -> Comparison:
    values = _values(design, y)
    scores, means, _ = _mean_scores(design, values, [mask_a, mask_b], names=["first", "second"])
    cov = np.asarray(design.total_covariance(scores), dtype=float)
    variance = float(cov[0, 0] + cov[1, 1] - 2.0 * cov[0, 1])
    return _comparison(
        float(means[0] - means[1]), variance, design.degf() if df is None else df, level
    )


def _comparison(difference: float, variance: float, df: float, level: float) -> Comparison:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be strictly between 0 and 1, got {level!r}")
    if not df > 0:
        raise EstimationError(
            f"the design has {df} degrees of freedom: a difference cannot be tested (at least "
            "two PSUs in some stratum are needed)"
        )
    # rounding can leave a tiny negative variance when the two estimates coincide
    se = math.sqrt(max(variance, 0.0))
    # scipy.special's distribution functions directly: freezing stats.t costs a millisecond.
    # Imported here so that the web application and the commands start without scipy.
    from scipy import special

    if math.isinf(df):
        quantile = float(special.ndtri(0.5 + level / 2.0))
    else:
        quantile = float(special.stdtrit(df, 0.5 + level / 2.0))
    if se > 0.0:
        z = -abs(difference) / se
        lower = special.ndtr(z) if math.isinf(df) else special.stdtr(df, z)
        p_value = float(2.0 * lower)
    else:
        p_value = 1.0 if difference == 0.0 else 0.0
    return Comparison(
        difference=difference,
        se=se,
        ci_low=difference - quantile * se,
        ci_high=difference + quantile * se,
        p_value=p_value,
        df=float(df),
        significant=p_value < 1.0 - level,
        level=level,
    )


class IntervalLike(Protocol):
    """Anything with a published confidence interval (an ``Estimate``)."""

    @property
    def ci_low(self) -> float:
        """The lower bound of the interval."""
        ...

    @property
    def ci_high(self) -> float:
        """The upper bound of the interval."""
        ...


def consistent_with_interval(
    comparison: Comparison, estimate: IntervalLike, reference: float
) -> Comparison:
    """Withdraw "significant" when the estimate's own published interval holds ``reference``.

    A street compared with its district (or with its previous wave) is printed on one line
    with its own confidence interval. When the Wald test of the difference rejects but that
    interval contains the district's value (which happens at a rate of 0% or 100%, where the
    standard error is 0 and the interval published is Korn-Graubard's, see
    :func:`~surveyapp.estimation.estimates.svyciprop`), the line would contradict itself;
    the more cautious of the two verdicts is kept and the reason recorded in ``note``.
    """
    if not comparison.significant:
        return comparison
    low, high = float(estimate.ci_low), float(estimate.ci_high)
    if not (math.isfinite(low) and math.isfinite(high)) or not low <= reference <= high:
        return comparison
    from dataclasses import replace

    return replace(
        comparison,
        significant=False,
        note="not significant: the estimate's own interval contains the value it is compared with",
    )
