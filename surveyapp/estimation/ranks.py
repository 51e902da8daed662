"""Uncertainty of league-table ranks: which ranks each street or district could plausibly hold.

Ranks are what officials are judged on, and with differences of a tenth of a percentage point
most ranks are not determined by the data. The interval of plausible ranks is read off a seeded
simulation from the estimated joint sampling distribution of the domain estimates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["RankInterval", "rank_intervals"]


@dataclass(frozen=True)
class RankInterval:
    """Point rank of one domain and its interval of plausible ranks (1 = first place)."""

    rank: float
    low: float
    high: float


def rank_intervals(
    estimates: ArrayLike,
    cov: ArrayLike,
    level: float = 0.95,
    n_sim: int = 10000,
    seed: int = 0,
    descending: bool = True,
    *,
    include_point_rank: bool = True,
) -> list[RankInterval]:
    """Interval of plausible ranks for each domain, by parametric simulation.

    Parameters
    ----------
    estimates : array_like, shape (k,)
        Domain estimates (for instance the security rate of each street).
    cov : array_like, shape (k, k)
        Joint covariance matrix of the estimates: the domains of one design are correlated
        (shared strata, clusters and calibration), so use the joint matrix, not only the
        squared standard errors.
    level : float
        Probability content of each interval.
    n_sim : int
        Number of simulated league tables.
    seed : int
        Seed of the random generator: the same inputs and seed give the same intervals.
    descending : bool
        Rank 1 goes to the largest estimate (the default: higher rates are better).
    include_point_rank : bool
        Widen an interval that misses the domain's own point rank so that it contains it. The
        percentile interval can miss it when many domains are nearly tied with it and are
        estimated less precisely (the simulated rank then drifts to the middle of the tie;
        Hall & Miller 2009); a reader of a league table expects the printed rank to be
        among the plausible ones.

    Returns
    -------
    list of RankInterval
        In the order of ``estimates``. ``rank`` is the rank of the estimate itself (ties get
        the average rank); ``low`` and ``high`` are the ``(1 - level)/2`` and
        ``(1 + level)/2`` quantiles of the simulated ranks (taken on the conservative side:
        the lower and the higher order statistic).

    Notes
    -----
    Draws ``theta* ~ N(estimates, cov)`` ``n_sim`` times, ranks each draw (ties averaged) and
    takes per-domain percentiles of the simulated ranks: the parametric-bootstrap ranking
    interval of Goldstein & Spiegelhalter (1996) and Marshall & Spiegelhalter (1998). A
    covariance that is only positive semi-definite is accepted (the draw uses an eigen
    decomposition).

    References
    ----------
    .. [1] Goldstein, H. and Spiegelhalter, D. J. (1996). League tables and their
       limitations: statistical issues in comparisons of institutional performance.
       *Journal of the Royal Statistical Society A*, 159(3), 385-443.
    .. [2] Marshall, E. C. and Spiegelhalter, D. J. (1998). Reliability of league tables of
       in vitro fertilisation clinics: retrospective analysis of live birth rates.
       *BMJ*, 316, 1701-1704.
    .. [3] Hall, P. and Miller, H. (2009). Using the bootstrap to quantify the authority of
       an empirical ranking. *Annals of Statistics*, 37(6B), 3929-3959.
    """
    theta = np.asarray(estimates, dtype=float)
    sigma = np.asarray(cov, dtype=float)
    if theta.ndim != 1:
        raise ValueError("estimates must be one-dimensional")
    k = theta.shape[0]
    if sigma.shape != (k, k):
        raise ValueError(f"cov must have shape ({k}, {k}), got {sigma.shape}")
    if not (np.all(np.isfinite(theta)) and np.all(np.isfinite(sigma))):
        raise ValueError("estimates and cov must be finite")
    # Rounding makes a computed covariance matrix asymmetric by about 1e-16 of its largest
    # entry; relative to a near-zero entry that is far more than rtol, so the absolute
    # tolerance follows the matrix's scale (an all-zero tolerance refused real results).
    size = float(np.max(np.abs(sigma))) if sigma.size else 0.0
    if not np.allclose(sigma, sigma.T, rtol=1e-10, atol=1e-12 * size):
        raise ValueError("cov must be symmetric")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be strictly between 0 and 1, got {level!r}")
    if n_sim < 1:
        raise ValueError(f"n_sim must be at least 1, got {n_sim!r}")
    if k == 0:
        return []

    # Imported here: scipy.stats takes about a second to import, and every worker and command
    # that only estimates rates would pay for it.
    from scipy.stats import rankdata

    sign = -1.0 if descending else 1.0
    point = rankdata(sign * theta, method="average")

    eigval, eigvec = np.linalg.eigh((sigma + sigma.T) / 2.0)
    scale = float(np.max(np.abs(eigval))) if eigval.size else 0.0
    if np.any(eigval < -1e-10 * max(scale, 1e-300)):
        raise ValueError("cov is not positive semi-definite")
    root = eigvec * np.sqrt(np.clip(eigval, 0.0, None))
    rng = np.random.default_rng(seed)
    draws = theta + rng.standard_normal((n_sim, k)) @ root.T
    ranks = rankdata(sign * draws, method="average", axis=1)

    alpha = 1.0 - level
    low = np.quantile(ranks, alpha / 2.0, axis=0, method="lower")
    high = np.quantile(ranks, 1.0 - alpha / 2.0, axis=0, method="higher")
    if include_point_rank:
        low = np.minimum(low, point)
        high = np.maximum(high, point)
    return [
        RankInterval(rank=float(r), low=float(lo), high=float(hi))
        for r, lo, hi in zip(point, low, high, strict=True)
    ]
