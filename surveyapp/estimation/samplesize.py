"""Sample-size planning for a rate: how many interviews a street needs for a given margin of error.

Two interval shapes are planned for: the symmetric Wald interval and the logit (log-odds)
interval, which is the one to plan with when rates sit near 100% (security and satisfaction
rates of 95-99% are usual), because there the Wald interval is too short on the lower side.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

Method = Literal["wald", "logit"]

__all__ = ["achieved_margin", "allocate", "required_n"]


def _check(p: float, deff: float, level: float, population: float | None) -> None:
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be strictly between 0 and 1, got {p!r}")
    if not deff > 0.0:
        raise ValueError(f"deff must be positive, got {deff!r}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be strictly between 0 and 1, got {level!r}")
    if population is not None and not population > 1:
        raise ValueError(f"population must be larger than 1, got {population!r}")


def _z(level: float) -> float:
    from scipy import special  # imported when used: the web application starts without scipy

    return float(special.ndtri(0.5 + level / 2.0))  # the Normal quantile


def _unit_variance(p: float, population: float | None) -> float:
    """Population variance S^2 = N/(N-1) p(1-p) of a 0/1 variable (p(1-p) when N is infinite)."""
    a = 1.0 if population is None else population / (population - 1.0)
    return a * p * (1.0 - p)


def _logit_halfwidth_for_width(margin: float, p: float) -> float:
    """Half-width h on the logit scale whose back-transformed interval has total width 2*margin.

    Solves ``expit(logit(p) + h) - expit(logit(p) - h) = 2 * margin`` in closed form
    (the quadratic in ``x = exp(h)`` used by ``PracTools::nLogOdds``).
    """
    k = (1.0 - p) / p
    e = margin
    rad = e**2 * (1.0 + k**2) ** 2 + k**2 * (1.0 - 2.0 * e) * (1.0 + 2.0 * e)
    x = (e * (1.0 + k**2) + math.sqrt(rad)) / (k * (1.0 - 2.0 * e))
    return math.log(x)


def _target_variance(margin: float, p: float, level: float, method: Method) -> float:
    """Variance of the estimated rate that yields the requested margin."""
    z = _z(level)
    if method == "wald":
        return (margin / z) ** 2
    if method == "logit":
        if not margin < 0.5:
            raise ValueError(
                f"a logit interval has total width below 1: margin must be < 0.5, got {margin}"
            )
        h = _logit_halfwidth_for_width(margin, p)
        # Var(logit p_hat) ~= Var(p_hat) / (p(1-p))^2 (delta method)
        return (h * p * (1.0 - p) / z) ** 2
    raise ValueError(f"method must be 'wald' or 'logit', got {method!r}")


def required_n(
    margin: float,
    p: float = 0.9,
    deff: float = 1.5,
    level: float = 0.95,
    population: float | None = None,
    *,
    method: Method = "wald",
) -> int:
    """Number of completed interviews needed to estimate a rate within a margin of error.

    Parameters
    ----------
    margin : float
        Margin of error in proportion units (0.03 for +/- 3 percentage points). For
        ``method="wald"`` it is the half-width of the symmetric interval; for
        ``method="logit"`` it is half the total width of the logit interval.
    p : float
        Anticipated rate (0.9 by default: satisfaction rates are usually high).
    deff : float
        Anticipated design effect (variance under the design over the variance of simple
        random sampling without replacement of the same size), including the weighting
        effect (see :func:`surveyapp.estimation.weighting.kish_deff`).
    level : float
        Confidence level of the interval.
    population : float, optional
        Population size of the street/domain. When given, the finite-population correction
        is applied; otherwise the population is taken as infinite.
    method : {"wald", "logit"}
        Shape of the interval that will be reported.

    Returns
    -------
    int
        The smallest whole number of interviews reaching the margin (capped at ``population``).

    Notes
    -----
    With ``S^2 = N/(N-1) p(1-p)`` and the target variance ``V`` of the estimated rate,
    ``V = deff (1 - n/N) S^2 / n`` solved for ``n`` gives

    .. math:: n = \\frac{\\mathrm{deff}\\, S^2}{V + \\mathrm{deff}\\, S^2 / N},

    i.e. ``n0 = deff S^2 / V`` followed by the usual correction ``n0 / (1 + n0/N)``. For the
    Wald interval ``V = (margin/z)^2``, which for ``deff = 1`` is exactly the formula of
    ``PracTools::nPropMoe`` (Valliant, Dever & Kreuter 2018, ch. 3). For the logit
    interval, ``V = (h p(1-p)/z)^2`` where ``h`` is the logit-scale half-width whose
    back-transformed interval has width ``2 margin`` (``PracTools::nLogOdds``, same
    chapter). ``nLogOdds`` multiplies instead of divides by ``N/(N-1)`` in its finite
    population term; the two differ by a factor ``(N/(N-1))^2`` on a term that is
    negligible for any street.

    References
    ----------
    .. [1] Valliant, R., Dever, J. A. and Kreuter, F. (2018). *Practical Tools for Designing
       and Weighting Survey Samples*, 2nd ed., Springer, ch. 3.
    .. [2] Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed., Wiley, ch. 4.
    .. [3] Kish, L. (1965). *Survey Sampling*, Wiley, ch. 8 (design effect).
    """
    _check(p, deff, level, population)
    if not margin > 0.0:
        raise ValueError(f"margin must be positive, got {margin!r}")
    variance = _target_variance(margin, p, level, method)
    s2 = _unit_variance(p, population)
    inverse = variance / (deff * s2) + (0.0 if population is None else 1.0 / population)
    n = 1.0 / inverse
    # guard against 576.0000000001 becoming 577 through rounding noise
    n_int = math.ceil(n - 1e-9 * max(1.0, n))
    if population is not None:
        n_int = min(n_int, math.floor(population))
    return max(n_int, 1)


def achieved_margin(
    n: float,
    p: float = 0.9,
    deff: float = 1.5,
    level: float = 0.95,
    population: float | None = None,
    *,
    method: Method = "wald",
) -> float:
    """Margin of error reached with ``n`` completed interviews (the inverse of :func:`required_n`).

    Parameters
    ----------
    n : float
        Number of completed interviews.
    p, deff, level, population, method
        As in :func:`required_n`.

    Returns
    -------
    float
        For ``method="wald"`` the half-width ``z sqrt(V)`` with
        ``V = deff (1 - n/N) S^2 / n``; for ``method="logit"`` half the total width of the
        back-transformed interval ``expit(logit(p) +/- z sqrt(V) / (p(1-p)))``.

    References
    ----------
    .. [1] Valliant, R., Dever, J. A. and Kreuter, F. (2018). *Practical Tools for Designing
       and Weighting Survey Samples*, 2nd ed., Springer, ch. 3.
    """
    _check(p, deff, level, population)
    if not n > 0:
        raise ValueError(f"n must be positive, got {n!r}")
    if population is not None and n > population:
        raise ValueError(f"n ({n}) cannot exceed the population ({population})")
    fpc = 1.0 if population is None else 1.0 - n / population
    variance = deff * fpc * _unit_variance(p, population) / n
    z = _z(level)
    if method == "wald":
        return z * math.sqrt(variance)
    if method == "logit":
        h = z * math.sqrt(variance) / (p * (1.0 - p))
        centre = math.log(p / (1.0 - p))
        upper = 1.0 / (1.0 + math.exp(-(centre + h)))
        lower = 1.0 / (1.0 + math.exp(-(centre - h)))
        return (upper - lower) / 2.0
    raise ValueError(f"method must be 'wald' or 'logit', got {method!r}")


def allocate(total: int, counts: Mapping[Any, int]) -> dict[Any, int]:
    """Split ``total`` in proportion to ``counts`` in whole numbers that add up to ``total``.

    Largest remainders (Hamilton's method): each cell gets the floor of its share, and the
    interviews left over go to the cells with the largest fractional parts (ties: the larger
    population, then the order given).
    """
    population = sum(max(0, count) for count in counts.values())
    if total <= 0 or population <= 0:
        return {key: 0 for key in counts}
    shares = {key: total * max(0, count) / population for key, count in counts.items()}
    result = {key: int(share) for key, share in shares.items()}
    left = total - sum(result.values())
    order = sorted(
        counts,
        key=lambda key: (-(shares[key] - result[key]), -counts[key], list(counts).index(key)),
    )
    for key in order[:left]:
        result[key] += 1
    return result
