"""Totals, means and proportions with confidence intervals, overall and by domain.

The functions reproduce R's ``survey`` package (version 4.1): :func:`svytotal` and
:func:`svymean` (``svytotal``/``svymean`` with ``deff=TRUE``), :func:`svyciprop` with every
interval method of ``svyciprop`` (and the ``"wilson"`` method of later versions), and
:func:`svyby` for domains, estimated as R does on ``subset(design, domain)``.

References
----------
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley, sec. 2.3 (domains),
3.2 (ratios), 9.2 (confidence intervals for proportions).
Korn, E. L. and Graubard, B. I. (1998). Confidence intervals for proportions with small
expected number of positive counts estimated from survey data. *Survey Methodology* 24, 193-201.
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
*JASA* 22, 209-212.
Rao, J. N. K. and Scott, A. J. (1984). On chi-squared tests for multiway contingency tables
with cell proportions estimated from survey data. *Annals of Statistics* 12, 46-60.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..caching import BoundedCache, content_key
from .design import Categorical, Design
from .types import DesignError, Estimate, EstimationError

__all__ = [
    "CI_METHODS",
    "normal_quantile",
    "respondents_as_psus",
    "svyby",
    "svyciprop",
    "svymean",
    "svytotal",
    "t_quantile",
]

CIMethod = Literal["logit", "likelihood", "asin", "beta", "mean", "xlogit", "wilson"]
CI_METHODS: tuple[str, ...] = ("logit", "likelihood", "asin", "beta", "mean", "xlogit", "wilson")

_EPS = float(np.finfo(float).eps)


# ====================================================================== quantiles
def normal_quantile(p: float) -> float:
    """Quantile of the standard Normal distribution (R's ``qnorm``), to full double precision.

    Acklam's rational approximation refined by Halley steps on ``math.erfc``; avoids importing
    ``scipy.special`` so that the command line starts fast.
    """
    if not 0.0 < p < 1.0:
        if p == 0.0:
            return -math.inf
        if p == 1.0:
            return math.inf
        raise ValueError(f"probability must be in [0, 1], got {p}")
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
         1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)  # fmt: skip
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
         6.680131188771972e01, -1.328068155288572e01)  # fmt: skip
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
         -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)  # fmt: skip
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
         3.754408661907416e00)  # fmt: skip
    q = min(p, 1.0 - p)
    if q < 0.02425:
        r = math.sqrt(-2.0 * math.log(q))
        x = (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) / (
            (((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1.0
        )
    else:
        r = q - 0.5
        s = r * r
        x = (
            (((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5])
            * r
            / (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1.0)
        )
    # x approximates the q-quantile (x <= 0). Halley refinement on the lower tail.
    for _ in range(3):
        e = 0.5 * math.erfc(-x / math.sqrt(2.0)) - q
        u = e * math.sqrt(2.0 * math.pi) * math.exp(x * x / 2.0)
        x = x - u / (1.0 + x * u / 2.0)
    return x if p <= 0.5 else -x


def _t_upper_tail(t: float, nu: int) -> float:
    """P(T > t) for t >= 0 and integer ``nu`` (Abramowitz & Stegun 26.7.3-26.7.4)."""
    theta = math.atan(t / math.sqrt(nu))
    s, c2 = math.sin(theta), math.cos(theta) ** 2
    if nu % 2 == 0:
        k = np.arange(1, nu // 2, dtype=float)
        terms = np.cumprod((2 * k - 1) / (2 * k) * c2) if k.size else np.zeros(0)
        a = s * (1.0 + float(terms.sum()))
    elif nu == 1:
        a = 2.0 * theta / math.pi
    else:
        k = np.arange(1, (nu - 1) // 2, dtype=float)
        terms = np.cumprod(2 * k / (2 * k + 1) * c2) if k.size else np.zeros(0)
        a = 2.0 / math.pi * (theta + s * math.cos(theta) * (1.0 + float(terms.sum())))
    return max(0.0, (1.0 - a) / 2.0)


@functools.lru_cache(maxsize=4096)  # few distinct (level, df) pairs in a wave's tables
def t_quantile(p: float, df: float) -> float:
    """Quantile of Student's t distribution (R's ``qt(p, df)``); ``df=inf`` gives the Normal.

    Integer ``df`` up to 200 000 (and tail probabilities above 1e-6) is solved by Newton's
    method on the exact finite series for the distribution function (relative error below
    1e-12); anything else uses ``scipy.special.stdtrit``.
    """
    if math.isinf(df):
        return normal_quantile(p)
    if not df > 0:
        raise EstimationError(f"degrees of freedom must be positive, got {df}")
    if not 0.0 < p < 1.0:
        return normal_quantile(p)  # +-inf, or ValueError
    if df != int(df) or df > 200_000 or min(p, 1.0 - p) < 1e-6:
        from scipy.special import stdtrit

        return float(stdtrit(df, p))
    nu = int(df)
    q = min(p, 1.0 - p)
    if nu == 1:
        t = math.tan(math.pi * (0.5 - q))
    elif nu == 2:
        t = (1.0 - 2.0 * q) / math.sqrt(2.0 * q * (1.0 - q))
    else:
        z = -normal_quantile(q)
        t = (
            z
            + (z**3 + z) / (4 * nu)
            + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * nu**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * nu**3)
        )
        log_const = math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2) - 0.5 * math.log(nu * math.pi)
        for _ in range(100):
            dens = math.exp(log_const - (nu + 1) / 2 * math.log1p(t * t / nu))
            step = (_t_upper_tail(t, nu) - q) / dens
            t_new = max(t + step, t / 10.0)
            if abs(t_new - t) <= 4 * _EPS * t:
                t = t_new
                break
            t = t_new
    return t if p > 0.5 else -t


def _beta_quantile(p: float, a: float, b: float) -> float:
    """R's ``qbeta(p, a, b)``, including the point masses R uses at ``a == 0`` or ``b == 0``."""
    if a == 0.0:
        return 0.0
    if b == 0.0:
        return 1.0
    # Closed forms of the 0%/100% Korn-Graubard bounds (no scipy import for them).
    if b == 1.0:
        return float(p ** (1.0 / a))
    if a == 1.0:
        return float(1.0 - (1.0 - p) ** (1.0 / b))
    from scipy.special import betaincinv

    return float(betaincinv(a, b, p))


# ====================================================================== domain sums
@dataclass(frozen=True, slots=True, eq=False)
class _Sums:
    """Everything an estimator needs about one domain (``subset(design, domain)`` in R)."""

    n: int  # respondents (rows of the domain with a valid value)
    nrow: int  # rows of R's subset design (all rows for calibrated designs)
    n_nonzero: int  # rows with non-zero weight
    sw: float  # sum of weights
    swy: float  # sum of weight * y
    ss: float  # sum of weight * (y - swy/sw)^2
    df: int  # degf(subset(design, domain))
    total_var: Callable[[float], float]  # c -> Var of the estimated total of w * (y - c)
    weight_scale: float  # mean weight over the subset's rows (svyglm's prior-weight scale)
    irls_start: tuple[float, float, float] | None  # deviance, sum W, sum W z at glm's start


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise EstimationError(f"confidence level must be between 0 and 1, got {level}")


def _valid_mask(y: np.ndarray, n: int) -> np.ndarray:
    if y.shape != (n,):
        raise EstimationError(f"expected {n} values, one per row of the design, got {y.shape}")
    valid: np.ndarray = ~np.isnan(y)
    return valid


def _as_float(y: Any) -> np.ndarray:
    try:
        return np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise EstimationError(f"values must be numbers (missing as NaN): {exc}") from None


def _domain_sums(
    design: Design,
    y: np.ndarray,
    codes: np.ndarray,
    n_groups: int,
    *,
    irls: bool = False,
    valid: np.ndarray | None = None,
    binary: bool | None = None,
    codes_key: Hashable | None = None,
) -> list[_Sums]:
    """Per-domain sums in O(n): ``codes`` gives each row's domain (``-1``: not in any).

    ``codes_key`` names the content of ``codes`` when it is a domain variable's (cells reuse
    the rows' pairs of the same domains, see :mod:`.cells`).

    ``valid`` marks the rows with a value (None: all; ``y`` must be 0 on the others) and
    ``binary`` says that the values are all 0 or 1 when the caller checked it already.

    Everything is accumulated per (domain, unit) with a few ``bincount`` passes; degrees of
    freedom and the units present in each domain follow from those counts. For a raked or
    post-stratified design whose rows merge into cells (:mod:`.cells`: a cell lies in one unit
    and its rows share their weight), the rows are only summed per (cell, domain) and the rest
    follows from those sums.
    """
    if n_groups == 0:
        return []
    w = design.weights
    m = design.n_units
    size = n_groups * m
    calibrated = bool(design.calibrations)
    cells = None
    found = None
    if calibrated:
        from .cells import cell_design

        cells = cell_design(design)
        if cells is not None:
            if binary is None:
                binary = bool(((y == 0) | (y == 1) | (codes < 0)).all())
            if binary or not irls:
                found = cells.domain_cell_sums(
                    [y] if binary else [y, y * y], codes, n_groups, rows=valid, codes_key=codes_key
                )

    batch = None
    starts = None
    if found is not None:
        assert cells is not None
        occupied, pair_rows, pair_sums = found
        pair_cell = occupied // n_groups
        pair_group = occupied % n_groups
        pair_w = cells.weight[pair_cell]
        idx = pair_group * m + cells.units.codes[pair_cell]
        rows_f = pair_rows.astype(np.float64)
        cell_rows = np.bincount(idx, weights=rows_f, minlength=size).reshape(n_groups, m)
        cell_rows = np.rint(cell_rows).astype(np.int64)
        unit_w = np.bincount(idx, weights=pair_w * rows_f, minlength=size).reshape(n_groups, m)
        unit_wy = np.bincount(idx, weights=pair_w * pair_sums[0], minlength=size).reshape(
            n_groups, m
        )
        if (pair_w != 0).all():
            cell_nonzero = cell_rows
        else:
            cell_nonzero = np.rint(
                np.bincount(idx, weights=rows_f * (pair_w != 0), minlength=size)
            ).astype(np.int64)
            cell_nonzero = cell_nonzero.reshape(n_groups, m)
        swyy = (
            None
            if binary
            else np.bincount(pair_group, weights=pair_w * pair_sums[1], minlength=n_groups)
        )
        # Every domain's residual unit totals at once, from cell sums.
        batch = cells.unit_totals_from_cell_sums(occupied, [pair_sums[0], rows_f], n_groups)
    else:
        if valid is not None:
            codes = np.where(valid, codes, -1)
        keep = codes >= 0
        everything = bool(keep.all())
        cd = codes if everything else codes[keep]
        wk = w if everything else w[keep]
        yk = y if everything else y[keep]
        idx = cd * m + (design.units if everything else design.units[keep])
        cell_rows = np.bincount(idx, minlength=size).reshape(n_groups, m)
        unit_w = np.bincount(idx, weights=wk, minlength=size).reshape(n_groups, m)
        unit_wy = np.bincount(idx, weights=wk * yk, minlength=size).reshape(n_groups, m)
        if binary is None:
            binary = bool(((yk == 0) | (yk == 1)).all())
        if (wk != 0).all():
            cell_nonzero = cell_rows
        else:
            nz = wk != 0
            cell_nonzero = np.bincount(idx[nz], minlength=size).reshape(n_groups, m)
    counts = cell_rows.sum(axis=1)
    sw = unit_w.sum(axis=1)
    swy = unit_wy.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(sw != 0, swy / sw, 0.0)
    if binary:
        # sum w (y - m)^2 for 0/1 values, without another pass over the rows
        ss = swy * (1 - means) ** 2 + (sw - swy) * means**2
    elif found is not None:
        ss = np.maximum(swyy - 2 * means * swy + means**2 * sw, 0.0)
    else:
        dev = yk - means[cd]
        ss = np.bincount(cd, weights=wk * dev * dev, minlength=n_groups)
    n_nonzero = cell_nonzero.sum(axis=1)

    # degf of each subset: PSUs minus strata among rows with non-zero weight.
    psu_rows = _regroup(cell_nonzero, design.unit_psu, design.n_psu)
    strata_rows = _regroup(psu_rows, design.psu_stratum, design.n_strata)
    degf = np.count_nonzero(psu_rows, axis=1) - np.count_nonzero(strata_rows, axis=1)

    if calibrated:
        nrow = np.full(n_groups, design.n_rows)
        # Rows outside the domain keep weight 0 in R's calibrated subset.
        scale = sw / design.n_rows
    else:
        nrow = counts
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(counts > 0, sw / np.maximum(counts, 1), 1.0)

    safe_scale = np.where(scale != 0, scale, 1.0)
    if irls and found is not None:
        # A cell's rows share their prior weight: glm's first step per cell.
        prior_cell = pair_w / safe_scale[pair_group]
        starts = _irls_start_sums_grouped(prior_cell, pair_sums[0], rows_f, pair_group, n_groups)
    if irls and starts is None:
        if found is not None:  # a weight beyond glm's clamp: the rows' own first step
            keep = codes >= 0 if valid is None else (codes >= 0) & valid
            cd, wk, yk = codes[keep], w[keep], y[keep]
        prior = wk / safe_scale[cd]
        starts = _irls_start_sums(prior, yk, cd, n_groups)
    present = cell_rows > 0

    form = _unit_quadratic_form(design) if batch is not None else None

    def make_var(g: int) -> Callable[[float], float]:
        if batch is not None:
            res_wy, res_w = batch[0][g], batch[1][g]

            def var_cells(c: float) -> float:
                z = res_wy - c * res_w
                if form is not None:
                    return float(z @ form @ z)
                return float(design.covariance_from_unit_totals(z[:, None], None)[0, 0])

            return var_cells
        if calibrated:
            rows = codes == g
            wy = np.where(rows, w * np.where(rows, y, 0.0), 0.0)
            wr = np.where(rows, w, 0.0)

            def var_rows(c: float) -> float:
                return float(design.total_covariance(wy - c * wr, in_domain=rows)[0, 0])

            return var_rows
        uw, uwy, pres = unit_w[g], unit_wy[g], present[g]

        def var_units(c: float) -> float:
            z = uwy - c * uw
            return float(design.covariance_from_unit_totals(z[:, None], pres)[0, 0])

        return var_units

    return [
        _Sums(
            n=int(counts[g]),
            nrow=int(nrow[g]),
            n_nonzero=int(n_nonzero[g]),
            sw=float(sw[g]),
            swy=float(swy[g]),
            ss=float(ss[g]),
            df=int(degf[g]),
            total_var=make_var(g),
            weight_scale=float(scale[g]),
            irls_start=None
            if starts is None
            else (float(starts[0][g]), float(starts[1][g]), float(starts[2][g])),
        )
        for g in range(n_groups)
    ]


#: The quadratic forms of the last few designs, by the design's content.
_FORMS: BoundedCache[np.ndarray] = BoundedCache(8)


def _unit_quadratic_form(design: Design) -> np.ndarray | None:
    """``M`` with ``Var = z' M z`` for unit totals ``z`` of the whole design (no domain).

    Every stage's contribution (centring within strata, fpc, lonely-PSU rule) is a fixed
    quadratic form in the unit totals, so it is computed once from the identity; None for
    designs with too many units to hold it.
    """
    if design.n_units > 3000:
        return None
    return _FORMS.get_or_make(
        content_key(design),
        lambda: design.covariance_from_unit_totals(np.eye(design.n_units), None),
    )


def _regroup(table: np.ndarray, to: np.ndarray, k: int) -> np.ndarray:
    """Sum the columns of ``table`` (groups x units) into ``k`` columns by the map ``to``."""
    if table.shape[1] == k and np.array_equal(to, np.arange(k)):
        return table
    g = table.shape[0]
    flat = (np.arange(g)[:, None] * k + to[None, :]).ravel()
    return np.bincount(flat, weights=table.ravel(), minlength=g * k).reshape(g, k)


def _single_domain(
    design: Design, y: Any, domain: Any, *, irls: bool = False, require_binary: bool = False
) -> _Sums:
    yv = _as_float(y)
    valid = _valid_mask(yv, design.n_rows)
    if require_binary and not _all_binary(yv, valid):
        raise EstimationError("a proportion needs values 0 or 1 (missing as NaN)")
    codes_key: Hashable | None = None
    if domain is None:
        codes = _everyone(design.n_rows)
        codes_key = ("everyone", design.n_rows)
    else:
        dm = np.asarray(domain, dtype=bool)
        if dm.shape != (design.n_rows,):
            raise EstimationError(f"domain mask must have {design.n_rows} entries")
        codes = np.where(dm, 0, -1)
    return _domain_sums(
        design,
        np.where(valid, yv, 0.0),
        codes,
        1,
        irls=irls,
        valid=None if valid.all() else valid,
        binary=True if require_binary else None,
        codes_key=codes_key,
    )[0]


def _everyone(n: int) -> np.ndarray:
    """Domain codes putting all ``n`` rows in domain 0: one read-only array per ``n`` (so that
    the cells' pair index of the whole sample is computed once, see :mod:`.cells`)."""

    def make() -> np.ndarray:
        codes = np.zeros(n, dtype=np.intp)
        codes.setflags(write=False)
        return codes

    return _EVERYONE.get_or_make(n, make)


_EVERYONE: BoundedCache[np.ndarray] = BoundedCache(4)


def _all_binary(y: np.ndarray, valid: np.ndarray) -> bool:
    """Whether every valid value is 0 or 1."""
    return bool(((y == 0) | (y == 1) | ~valid).all())


def _require_rows(s: _Sums, what: str) -> None:
    if s.n == 0:
        raise EstimationError(f"no respondents with a valid value: cannot estimate {what}")
    if s.sw <= 0:
        raise EstimationError(f"the weights of the respondents sum to {s.sw:g}: cannot estimate")


def _require_df(df: float, what: str = "a confidence interval") -> None:
    if not df > 0:
        raise EstimationError(
            f"{df:g} degrees of freedom (PSUs minus strata among the respondents): {what} needs "
            "respondents in at least two PSUs of one stratum"
        )


def _deff(v: float, vsrs: float) -> float | None:
    if not (vsrs > 0 and math.isfinite(vsrs)) or not math.isfinite(v):
        return None
    return v / vsrs


def _mean_deff(s: _Sums, v: float) -> float | None:
    """R's ``deff=TRUE`` for ``svymean``: versus SRS without replacement of the same size."""
    n = s.n_nonzero
    if n < 2 or s.sw < n:
        return None  # R: NaN, or NA with "Sample size greater than population size"
    svyvar = s.ss / s.sw * n / (n - 1)
    return _deff(v, svyvar * (s.sw - n) / (s.sw * n))


# ====================================================================== totals and means
def svytotal(
    y: Any,
    design: Design,
    *,
    domain: Any = None,
    level: float = 0.95,
    df: float | None = None,
) -> Estimate:
    """Estimated population total of ``y`` with a Taylor-linearisation standard error.

    Parameters
    ----------
    y : array_like
        One value per row of ``design``; NaN is missing (left out, as ``na.rm=TRUE``).
    design : Design
    domain : array_like of bool, optional
        Rows of the domain (``subset(design, domain)`` in R).
    level : float
        Confidence level.
    df : float, optional
        Degrees of freedom of the t interval; default the domain's ``degf``. ``inf`` gives the
        Normal interval of R's ``confint(svytotal(...))``.

    Returns
    -------
    Estimate
        ``deff`` as R's ``svytotal(..., deff=TRUE)``.

    References
    ----------
    Lumley (2010), sec. 2.2; R ``survey`` ``svytotal.survey.design2``.
    """
    _check_level(level)
    s = _single_domain(design, y, domain)
    if s.n == 0:
        raise EstimationError("no respondents with a valid value: cannot estimate a total")
    v = s.total_var(0.0)
    se = math.sqrt(max(v, 0.0))
    dfu = s.df if df is None else df
    _require_df(dfu)
    t = t_quantile(1 - (1 - level) / 2, dfu)
    deff = None
    n = s.n_nonzero
    if n >= 2 and s.sw > 0:
        svyvar = s.ss / s.sw * n / (n - 1)
        deff = _deff(v, svyvar * s.sw**2 * (s.sw - n) / (s.sw * n))
    return Estimate(
        value=s.swy, se=se, ci_low=s.swy - t * se, ci_high=s.swy + t * se, df=float(dfu),
        n=s.n, deff=deff, level=level, method="t" if not math.isinf(dfu) else "normal",
    )  # fmt: skip


def svymean(
    y: Any,
    design: Design,
    *,
    domain: Any = None,
    level: float = 0.95,
    df: float | None = None,
) -> Estimate:
    """Estimated population mean of ``y`` (a ratio of totals) with a t confidence interval.

    The standard error linearises the ratio ``sum(w y) / sum(w)`` (Lumley 2010, sec. 3.2); the
    interval is ``mean +- t(df) * se`` with ``df`` the domain's design degrees of freedom,
    i.e. ``svyciprop(method="mean")`` for a 0/1 variable. R's ``confint(svymean())`` uses a
    Normal quantile instead: pass ``df=math.inf`` for that.

    Parameters
    ----------
    y : array_like
        One value per row of ``design``; NaN is missing.
    design : Design
    domain : array_like of bool, optional
        Rows of the domain.
    level : float
    df : float, optional
        Degrees of freedom; default ``degf`` of the domain.

    Returns
    -------
    Estimate
        ``deff`` as R's ``svymean(..., deff=TRUE)`` (SRS without replacement).

    References
    ----------
    R ``survey`` ``svymean.survey.design2``; Lumley (2010), sec. 2.3.
    """
    _check_level(level)
    s = _single_domain(design, y, domain)
    return _mean_estimate(s, level, df)


def _mean_estimate(s: _Sums, level: float, df: float | None) -> Estimate:
    _require_rows(s, "a mean")
    m = s.swy / s.sw
    v = s.total_var(m) / s.sw**2
    se = math.sqrt(max(v, 0.0))
    dfu = s.df if df is None else df
    _require_df(dfu)
    t = t_quantile(1 - (1 - level) / 2, dfu)
    return Estimate(
        value=m, se=se, ci_low=m - t * se, ci_high=m + t * se, df=float(dfu), n=s.n,
        deff=_mean_deff(s, v), level=level, method="t" if not math.isinf(dfu) else "normal",
    )  # fmt: skip


# ====================================================================== proportions
def svyciprop(
    y: Any,
    design: Design,
    method: str = "logit",
    level: float = 0.95,
    domain: Any = None,
    *,
    df: float | None = None,
) -> Estimate:
    """Proportion of a 0/1 variable with a confidence interval by any of R's methods.

    Parameters
    ----------
    y : array_like
        0/1 per row of ``design``; NaN is missing (left out).
    design : Design
    method : {"logit", "likelihood", "asin", "beta", "mean", "xlogit", "wilson"}
        As R's ``svyciprop``:

        - ``"logit"`` (default): Wald interval on the log-odds scale from the intercept-only
          ``svyglm(family=quasibinomial)``. glm's iteratively reweighted least squares is
          reproduced step by step, so the bounds agree with R to rounding.
        - ``"likelihood"``: profile likelihood of that model with the Rao-Scott scaled
          chi-squared cutoff. R interpolates a spline through a profile grid; here the
          profile equation is solved exactly.
        - ``"asin"``: arcsine square root transform, back-transformed (clipped to
          ``[0, pi/2]`` first, where R's ``sin()^2`` wraps round and can put the lower
          bound above the upper).
        - ``"beta"``: Korn & Graubard (1998): Clopper-Pearson with the effective sample size
          ``p(1-p)/var``, times ``(qt(a/2, nrow-1) / qt(a/2, degf))^2``.
        - ``"mean"``: Wald interval on the probability scale.
        - ``"xlogit"``: Wald interval for ``logit(mean)``, back-transformed (SUDAAN, SPSS).
        - ``"wilson"``: Wilson (1927) score interval with ``n`` the effective sample size
          ``p(1-p)/var`` and the ``t(df)`` quantile in place of the Normal one (see the
          fixture ``tests/fixtures/r/ciprop_wilson.R`` for the definition used).
    level : float
        Confidence level.
    domain : array_like of bool, optional
        Rows of the domain (``svyciprop(~y, subset(design, domain))``).
    df : float, optional
        Degrees of freedom (all methods except ``"beta"``, as in R); default ``degf`` of the
        domain.

    Returns
    -------
    Estimate
        ``value`` is the weighted proportion (R's ``svymean``), except for logit and
        likelihood where it is, as in R, ``expit`` of the fitted glm coefficient (equal to the
        weighted proportion within glm's convergence tolerance, about 1e-8 relative); at 0%
        or 100% it is exactly 0 or 1. ``se`` is the standard error of the weighted proportion;
        ``deff`` as ``svymean(..., deff=TRUE)``.

    Raises
    ------
    EstimationError
        No respondents, zero degrees of freedom, or the likelihood method at 0% or 100%.

    Notes
    -----
    At 0% or 100%, where R returns NaN for asin, beta, xlogit and wilson: asin, xlogit and
    mean give the one-point interval ``[p, p]`` (the variance is 0); beta and wilson take the
    design effect as 1 (effective sample size = respondents), as Korn & Graubard (1998)
    recommend, giving a one-sided Clopper-Pearson or Wilson interval. The logit method
    follows R (glm stops after 25 iterations near the boundary, giving a width of about
    1e-11), with the bound at the estimate set to exactly 0 or 1.
    """
    if method not in CI_METHODS:
        raise EstimationError(f"unknown method {method!r}; use one of {', '.join(CI_METHODS)}")
    _check_level(level)
    s = _single_domain(
        design, y, domain, irls=method in ("logit", "likelihood"), require_binary=True
    )
    return _ciprop_estimate(s, method, level, df)


def _ciprop_estimate(s: _Sums, method: str, level: float, df: float | None) -> Estimate:
    _require_rows(s, "a proportion")
    p = s.swy / s.sw
    p = min(max(p, 0.0), 1.0)
    var = s.total_var(p) / s.sw**2
    var = max(var, 0.0)
    se = math.sqrt(var)
    dfu = float(s.df if df is None else df)
    alpha = 1.0 - level
    deff = _mean_deff(s, var)
    boundary = p in (0.0, 1.0)
    note = ""

    if (boundary or var == 0.0) and method not in ("beta", "wilson"):
        # Every method but these two gives an interval of zero width here (R's logit gives
        # [1, 1] at 100%): publish the Korn-Graubard interval instead, design effect 1.
        lo, hi = korn_graubard(p, 0.0, s.nrow, dfu, alpha, s.n)
        return Estimate(
            value=p, se=se, ci_low=float(lo), ci_high=float(hi), df=dfu, n=s.n,
            deff=deff, level=level, method="beta", note=_BOUNDARY_NOTE, fallback="beta",
        )  # fmt: skip
    if method == "mean":
        _require_df(dfu)
        t = t_quantile(1 - alpha / 2, dfu)
        lo, hi = p - t * se, p + t * se
    elif method == "asin":
        _require_df(dfu)
        if boundary:
            lo = hi = p
        else:
            t = t_quantile(1 - alpha / 2, dfu)
            r = math.sqrt(p)
            grad = 1.0 / math.sqrt(1.0 - r * r) * (0.5 * p**-0.5)
            x0, sx = math.asin(r), abs(grad) * se
            # R back-transforms with sin()^2, which wraps round when the interval leaves
            # [0, pi/2] (lower bound above the upper); clip to the range of asin(sqrt(p)).
            lo = math.sin(max(x0 - t * sx, 0.0)) ** 2
            hi = math.sin(min(x0 + t * sx, math.pi / 2)) ** 2
    elif method == "xlogit":
        _require_df(dfu)
        if boundary:
            lo = hi = p
        else:
            t = t_quantile(1 - alpha / 2, dfu)
            x0 = math.log(p / (1 - p))
            sx = se / (p * (1 - p))
            lo, hi = _expit(x0 - t * sx), _expit(x0 + t * sx)
    elif method == "beta":
        lo, hi = korn_graubard(p, 0.0 if boundary else var, s.nrow, s.df, alpha, s.n)
        if boundary or var == 0.0:
            note = _BOUNDARY_NOTE
    elif method == "wilson":
        _require_df(dfu)
        n_eff = p * (1 - p) / var if var > 0 else float(s.n)
        z = t_quantile(1 - alpha / 2, dfu)
        lo, hi = _wilson(p, n_eff, z)
    else:  # logit, likelihood
        _require_df(dfu)
        fit = _quasibinomial_intercept(s)
        t = t_quantile(1 - alpha / 2, dfu)
        if method == "logit":
            # confint.svyglm passes the t quantile through a Normal level,
            # tlevel = 1 - 2 pnorm(qt(a/2, df)), then qnorm((1 - tlevel)/2): at small df the
            # rounding of 1 - tlevel moves the bound by ~1e-8, so do the same.
            tlevel = 1.0 - 2.0 * 0.5 * math.erfc(t / math.sqrt(2.0))
            t = -normal_quantile((1.0 - tlevel) / 2.0)
            half = t * math.sqrt(max(fit.var_beta, 0.0))
            lo, hi = _expit(fit.beta - half), _expit(fit.beta + half)
        else:
            if boundary:
                raise EstimationError(
                    "the likelihood interval does not exist at 0% or 100% (R stops with "
                    '"profiling has found a better solution"); use method="beta"'
                )
            lo, hi = _likelihood_interval(fit, t)
        if p == 0.0:
            lo = 0.0
        elif p == 1.0:
            hi = 1.0
        elif not fit.diverged:
            # R reports expit(coef) of the glm, which differs from the weighted mean by glm's
            # convergence tolerance (about 1e-8 relative).
            p = _expit(fit.beta)
        if fit.diverged:
            note = "glm did not converge (R gives NaN); interval from the exact fit logit(p)"
    return Estimate(
        value=p, se=se, ci_low=float(lo), ci_high=float(hi), df=dfu, n=s.n, deff=deff,
        level=level, method=method, note=note,
    )  # fmt: skip


_BOUNDARY_NOTE = (
    "standard error 0 (a rate of 0% or 100%): Korn-Graubard interval with design effect 1 "
    "(effective sample size = respondents, adjusted for the design's degrees of freedom)"
)


def _expit(eta: float) -> float:
    # R's survey:::expit is exp(eta)/(1+exp(eta)); guard the overflow R turns into NaN.
    if eta > 700:
        return 1.0
    e = math.exp(eta)
    return e / (1.0 + e)


def korn_graubard(
    p: float, var: float, nrow: int, degf: float, alpha: float, n: int
) -> tuple[float, float]:
    """Korn & Graubard (1998) interval, as R's ``svyciprop(method="beta")``.

    R uses ``nrow(design)`` and ``degf(design)`` here whatever ``df`` is given. When the
    variance is 0 (0% or 100%, or a standard error of 0), R returns NaN; as Korn & Graubard
    (1998) recommend, the design effect is then taken as 1: the effective sample size is the
    ``n`` respondents, times ``(qt(a/2, n - 1) / qt(a/2, degf))^2`` if below 1 (the respondents, not
    ``nrow``, which for a domain of a calibrated design counts the whole sample). A single
    respondent gets the Clopper-Pearson interval of one trial (no degrees of freedom to
    adjust for).
    """
    if var > 0:
        if nrow < 2:
            raise EstimationError("the beta (Korn-Graubard) interval needs at least 2 respondents")
        _require_df(degf, "the beta (Korn-Graubard) interval")
        n_eff = p * (1 - p) / var
        n_eff *= (t_quantile(alpha / 2, nrow - 1) / t_quantile(alpha / 2, degf)) ** 2
    elif n < 2:
        if n < 1:
            raise EstimationError("no respondents: the beta (Korn-Graubard) interval needs one")
        n_eff = float(n)
    else:
        _require_df(degf, "the beta (Korn-Graubard) interval")
        # Never more than the respondents (Korn & Graubard truncate the design effect at 1).
        ratio = t_quantile(alpha / 2, n - 1) / t_quantile(alpha / 2, degf)
        n_eff = float(n) * min(1.0, ratio) ** 2
    lo = _beta_quantile(alpha / 2, n_eff * p, n_eff * (1 - p) + 1)
    hi = _beta_quantile(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p))
    return lo, hi


def _wilson(p: float, n: float, z: float) -> tuple[float, float]:
    """Wilson (1927) score interval for proportion ``p`` from ``n`` (effective) trials."""
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    lo = 0.0 if p == 0.0 else max(0.0, centre - half)
    hi = 1.0 if p == 1.0 else min(1.0, centre + half)
    return lo, hi


# ---------------------------------------------------------------------- glm emulation
# R's binomial() link functions in C (src/library/stats/src/family.c).
_THRESH, _MTHRESH, _INVEPS = 30.0, -30.0, 1.0 / _EPS


def _linkinv(eta: float) -> float:
    tmp = _EPS if eta < _MTHRESH else (_INVEPS if eta > _THRESH else math.exp(eta))
    return tmp / (1.0 + tmp)


def _mu_eta(eta: float) -> float:
    if eta > _THRESH or eta < _MTHRESH:
        return _EPS
    opexp = 1.0 + math.exp(eta)
    return math.exp(eta) / (opexp * opexp)


def _binomial_deviance(s1: float, s0: float, mu: float) -> float:
    """``sum(dev.resids(y, mu, wt))`` for 0/1 ``y``: weights summing to s0, s1 of them at y=1."""
    out = 0.0
    if s1 != 0:
        out += s1 * math.log(1.0 / mu)
    if s0 - s1 != 0:
        out += (s0 - s1) * math.log(1.0 / (1.0 - mu))
    return 2.0 * out


def _irls_start_sums(
    wt: np.ndarray, y: np.ndarray, codes: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """glm.fit's first iteration, per group: deviance at mustart, sum W and sum W z.

    ``mustart = (wt y + 0.5) / (wt + 1)`` (binomial()$initialize) differs by row, so the first
    step needs row sums; afterwards eta is a single number. For 0/1 ``y`` and ``a = 2 wt + 1``
    glm's quantities have closed forms: ``eta = +-log(a)``, ``mu.eta = var = a / (a + 1)^2``,
    ``z = +-(log(a) + (a + 1) / a)`` and the deviance residual ``2 wt log1p(1 / a)``.
    """
    a = 2.0 * wt + 1.0
    log_a = np.log(a)
    if float(log_a.max(initial=0.0)) > _THRESH:
        return _irls_start_sums_literal(wt, y, codes, n_groups)
    ww = wt * a / ((a + 1.0) * (a + 1.0))
    wz = ww * (log_a + (a + 1.0) / a) * (2.0 * y - 1.0)
    dres = 2.0 * wt * np.log1p(1.0 / a)
    return (
        np.bincount(codes, weights=dres, minlength=n_groups),
        np.bincount(codes, weights=ww, minlength=n_groups),
        np.bincount(codes, weights=wz, minlength=n_groups),
    )


def _irls_start_sums_grouped(
    wt: np.ndarray, ones: np.ndarray, rows: np.ndarray, codes: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """:func:`_irls_start_sums` for groups of rows sharing the prior weight ``wt``.

    ``ones`` and ``rows`` count the group's rows at y = 1 and in all; None when a weight is
    beyond glm's clamp (use the rows then).
    """
    a = 2.0 * wt + 1.0
    log_a = np.log(a)
    if float(log_a.max(initial=0.0)) > _THRESH:
        return None
    ww = wt * a / ((a + 1.0) * (a + 1.0))
    wz = ww * (log_a + (a + 1.0) / a) * (2.0 * ones - rows)
    dres = 2.0 * wt * np.log1p(1.0 / a) * rows
    return (
        np.bincount(codes, weights=dres, minlength=n_groups),
        np.bincount(codes, weights=ww * rows, minlength=n_groups),
        np.bincount(codes, weights=wz, minlength=n_groups),
    )


def _irls_start_sums_literal(
    wt: np.ndarray, y: np.ndarray, codes: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same sums step by step as glm.fit, for weights beyond glm's |eta| <= 30 clamp."""
    mustart = (wt * y + 0.5) / (wt + 1.0)
    eta = np.log(mustart / (1.0 - mustart))
    tmp = np.where(eta < _MTHRESH, _EPS, np.where(eta > _THRESH, _INVEPS, np.exp(eta)))
    mu = tmp / (1.0 + tmp)
    with np.errstate(divide="ignore", invalid="ignore"):
        dres = 2.0 * wt * np.where(y != 0, y * np.log(y / mu), 0.0)
        dres += 2.0 * wt * np.where(1 - y != 0, (1 - y) * np.log((1 - y) / (1 - mu)), 0.0)
    opexp = 1.0 + np.exp(eta)
    mu_eta = np.where((eta > _THRESH) | (eta < _MTHRESH), _EPS, np.exp(eta) / (opexp * opexp))
    good = (wt > 0) & (mu_eta != 0)
    var = mu * (1.0 - mu)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = eta + (y - mu) / mu_eta
        ww = np.where(good, wt * mu_eta**2 / var, 0.0)
    return (
        np.bincount(codes, weights=dres, minlength=n_groups),
        np.bincount(codes, weights=ww, minlength=n_groups),
        np.bincount(codes, weights=np.where(good, ww * z, 0.0), minlength=n_groups),
    )


@dataclass(frozen=True, slots=True)
class _GlmFit:
    beta: float
    var_beta: float  # svyglm sandwich variance of the coefficient
    naive_var: float  # summary.glm cov.unscaled: 1 / sum of working weights
    deviance: float
    dispersion: float  # summary.svyglm: svyvar of the Pearson residuals
    s1: float  # sum of normalised prior weights at y = 1
    s0: float  # sum of normalised prior weights
    diverged: bool = False  # glm's iterations ran away; beta is the closed-form MLE logit(p)


def _quasibinomial_intercept(s: _Sums) -> _GlmFit:
    """Reproduce ``svyglm(y ~ 1, design, family=quasibinomial)`` (glm.fit, epsilon 1e-8, maxit 25).

    References
    ----------
    R ``stats::glm.fit``; R ``survey`` ``svyglm.survey.design``, ``svy.varcoef``.
    """
    assert s.irls_start is not None
    scale = s.weight_scale
    s0 = s.sw / scale  # prior weights .survey.prob.weights = w / mean(w)
    s1 = s.swy / scale
    devold, sum_w, sum_wz = s.irls_start
    beta = sum_wz / sum_w
    w_const: float | None = None  # working weight per unit prior weight, after iteration 1
    converged = False
    for iteration in range(1, 26):
        if iteration > 1:
            mu_prev = _linkinv(beta)
            me = _mu_eta(beta)
            w_const = me * me / (mu_prev * (1.0 - mu_prev))
            beta = beta + (s1 - mu_prev * s0) / (me * s0)
        mu = _linkinv(beta)
        dev = _binomial_deviance(s1, s0, mu)
        if abs(dev - devold) / (abs(dev) + 0.1) < 1e-8:
            converged = True
            break
        devold = dev
    p = s1 / s0 if s0 > 0 else math.nan
    diverged = False
    if 0.0 < p < 1.0 and (not converged or not abs(_linkinv(beta) - p) <= 1e-6):
        # glm's Newton steps overshoot from its start when a few large prior weights meet a
        # wide design (R: "algorithm did not converge", estimate and bounds NaN). The
        # intercept-only MLE is known in closed form, logit(p): use what glm would have
        # converged to.
        beta = math.log(p / (1.0 - p))
        mu = p
        dev = _binomial_deviance(s1, s0, mu)
        w_const = p * (1.0 - p)
        diverged = True
    if w_const is None:
        raise EstimationError(
            "glm converged at its first step, which the proportion code does not reproduce; "
            'use method="xlogit"'
        )
    mu = _linkinv(beta)
    me = _mu_eta(beta)
    # estfun %*% Ainv = w~ (y - mu) / me * W / sum(W): design weights give the same ratio.
    var_beta = s.total_var(mu) / (me * s.sw) ** 2
    naive = 1.0 / (w_const * s0)
    # Pearson residuals (y - mu) / sqrt(mu (1 - mu)) take two values; svyvar over the subset.
    sd = math.sqrt(mu * (1.0 - mu))
    r1, r0 = (1.0 - mu) / sd, -mu / sd
    xbar = (s.swy * r1 + (s.sw - s.swy) * r0) / s.sw
    n = s.n_nonzero
    ssr = s.swy * (r1 - xbar) ** 2 + (s.sw - s.swy) * (r0 - xbar) ** 2
    disp = ssr / s.sw * n / (n - 1) if n > 1 else math.nan
    return _GlmFit(
        beta=beta, var_beta=var_beta, naive_var=naive, deviance=dev, dispersion=disp,
        s1=s1, s0=s0, diverged=diverged,
    )  # fmt: skip


def _likelihood_interval(fit: _GlmFit, t: float) -> tuple[float, float]:
    """Solve the profile equation of ``confint(svyglm, method="likelihood")`` exactly.

    The scaled deviance ``(D(b) - D(beta)) / dispersion`` equals ``(t * sqrt(lambda))^2``
    with ``lambda = var_svy / var_naive`` (Rao & Scott 1984 first-order correction).
    """
    if not (fit.dispersion > 0 and math.isfinite(fit.dispersion)):
        raise EstimationError("the likelihood interval needs at least 2 respondents")
    lam = fit.var_beta / fit.naive_var
    target = (t * t) * lam * fit.dispersion

    def excess(b: float) -> float:
        return _binomial_deviance(fit.s1, fit.s0, _linkinv(b)) - fit.deviance - target

    se = math.sqrt(max(fit.var_beta, 0.0)) or 1e-3
    bounds = []
    for sign in (-1.0, 1.0):
        near, step = fit.beta, se
        far = fit.beta + sign * step
        while excess(far) < 0:
            near, step = far, step * 2
            far = fit.beta + sign * step
            if abs(far) > 60:
                # Beyond glm's clamp (|eta| > 30) the deviance is flat: the profile never
                # reaches the cutoff and the interval extends to 0 or 1.
                break
        if excess(far) < 0:
            bounds.append(sign * math.inf)
            continue
        for _ in range(200):  # bisection: monotone on each side, robust to flat deviance
            mid = 0.5 * (near + far)
            if mid in (near, far):
                break
            if excess(mid) < 0:
                near = mid
            else:
                far = mid
        bounds.append(0.5 * (near + far))
    return (0.0 if bounds[0] == -math.inf else _expit(bounds[0])), (
        1.0 if bounds[1] == math.inf else _expit(bounds[1])
    )


# ====================================================================== domains
EstimatorName = Literal["total", "mean", "ciprop"]


def svyby(
    y: Any,
    by: Any,
    design: Design,
    fn: Callable[..., Estimate],
    *,
    errors: Literal["raise", "keep"] = "raise",
    single_psu: Literal["fail", "respondents"] = "fail",
    **kwargs: Any,
) -> list[tuple[Any, Any]]:
    """Estimate in each domain, as R's ``svyby(~y, ~by, design, FUN)``.

    Parameters
    ----------
    y : array_like
        One value per row (NaN missing).
    by : array_like, sequence of array_like, or Categorical
        Domain variable, or several to cross (keys are then tuples). ``None``, NaN and ``""``
        (or a negative Categorical code) are missing: such rows belong to no domain.
    design : Design
    fn : callable
        :func:`svytotal`, :func:`svymean` or :func:`svyciprop`.
    errors : {"raise", "keep"}
        What to do when a domain cannot be estimated (e.g. one respondent): raise the
        :class:`~surveyapp.estimation.types.EstimationError` (its message names the domain),
        or put the exception in place of the estimate. Errors of the design itself
        (:class:`~surveyapp.estimation.types.DesignError`, e.g. a lonely PSU under
        ``lonely_psu="fail"``) are always raised.
    single_psu : {"fail", "respondents"}
        A domain whose respondents all lie in one PSU has no degrees of freedom (R gives no
        interval). ``"respondents"``: estimate it on a design of its own respondents, each
        its own PSU, with their final weights (:func:`respondents_as_psus`), marked
        ``fallback="respondents"``.
    **kwargs
        Passed to ``fn`` (``method``, ``level``, ``df``).

    Returns
    -------
    list of (key, Estimate)
        Domains in sorted order of their keys; domains whose rows all have zero weight are
        left out, as R does.

    Notes
    -----
    Each domain is estimated on ``subset(design, domain)``: the variance keeps every PSU (R
    pads the missing ones with zeros) and the degrees of freedom are those of the subset,
    ``degf(subset)`` - the default ``df`` of ``svyciprop`` evaluated inside ``svyby``. All
    domains are computed together in O(n) from per-domain unit totals.

    References
    ----------
    Lumley (2010), sec. 2.3; R ``survey`` ``svyby.default``.
    """
    if fn not in (svytotal, svymean, svyciprop):
        raise EstimationError("svyby supports svytotal, svymean and svyciprop")
    codes, keys = domain_codes(by, design.n_rows)
    yv = _as_float(y)
    valid = _valid_mask(yv, design.n_rows)
    method = kwargs.get("method", "logit")
    level = kwargs.get("level", 0.95)
    df = kwargs.get("df")
    _check_level(level)
    if fn is svyciprop:
        if method not in CI_METHODS:
            raise EstimationError(f"unknown method {method!r}")
        if not _all_binary(yv, valid):
            raise EstimationError("a proportion needs values 0 or 1 (missing as NaN)")
    # R keeps domains with at least one row of non-zero weight (before removing missing y);
    # every key has a row, so with no weight 0 every domain is kept.
    nonzero = design.weights != 0
    if nonzero.all():
        alive = np.ones(len(keys), dtype=bool)
    else:
        alive = np.bincount(codes[(codes >= 0) & nonzero], minlength=len(keys)) > 0
    sums = _domain_sums(
        design,
        np.where(valid, yv, 0.0),
        codes,
        len(keys),
        irls=fn is svyciprop and method in ("logit", "likelihood"),
        valid=None if valid.all() else valid,
        binary=True if fn is svyciprop else None,
        codes_key=("by", content_key(by)) if isinstance(by, Categorical) else None,
    )
    out: list[tuple[Any, Any]] = []
    for g, key in enumerate(keys):
        if not alive[g]:
            continue
        try:
            if fn is svyciprop:
                est = _ciprop_estimate(sums[g], method, level, df)
            elif fn is svymean:
                est = _mean_estimate(sums[g], level, df)
            else:
                est = _total_from_sums(sums[g], level, df)
        except DesignError:
            raise  # a property of the whole design (e.g. a lonely PSU), not of this domain
        except EstimationError as exc:
            if single_psu == "respondents" and sums[g].df <= 0 and sums[g].n >= 1:
                try:
                    fallback = respondents_as_psus(fn, yv, design, codes == g, **kwargs)
                    out.append((key, _with_domain(fallback, key)))
                    continue
                except EstimationError:
                    pass
            err = EstimationError(f"domain {key}: {exc}")
            if errors == "raise":
                raise err from None
            out.append((key, err))
            continue
        out.append((key, _with_domain(est, key)))
    return out


def respondents_as_psus(
    fn: Callable[..., Estimate], y: Any, design: Design, domain: Any, **kwargs: Any
) -> Estimate:
    """Estimate a domain that lies in a single PSU, with its respondents as the PSUs.

    A street interviewed in one community has no degrees of freedom in the survey's design
    (one PSU, so PSUs minus strata is 0) and R gives it no interval. Rather than drop it from
    the tables (and from the league table, where sanctions fall), its respondents are taken
    as a simple random sample with replacement within the street: a design of the domain's
    rows alone, unstratified, each respondent its own PSU, with the final (calibrated)
    weights held fixed; ``n - 1`` degrees of freedom. The point estimate is the design's.
    The variance ignores the clustering within the one community and the calibration, so
    the interval is too narrow if answers are alike within communities: it is marked
    (``fallback`` gets ``"respondents"``) and explained in the methodology note.

    References
    ----------
    Lumley (2010), sec. 2.2 (with-replacement approximation); Valliant, R. and Dever, J. A.
    (2018). *Survey Weights: A Step-by-Step Guide to Calculation*, Stata Press (ch. on
    variance estimation with few PSUs).
    """
    rows = np.asarray(domain, dtype=bool)
    if rows.shape != (design.n_rows,):
        raise EstimationError(f"domain mask must have {design.n_rows} entries")
    w = np.asarray(design.weights, dtype=float)[rows]
    yv = _as_float(y)[rows]
    keep = ~np.isnan(yv) & (w != 0)
    if not keep.any():
        raise EstimationError("no respondents with a valid value in the domain")
    sub = Design.create(weights=w[keep])
    kw = {k: v for k, v in kwargs.items() if k in ("method", "level")}
    est = fn(yv[keep], sub, **kw)
    fallback = "+".join(x for x in (est.fallback, "respondents") if x)
    note = (
        "a single PSU: variance with the respondents as PSUs (simple random sample within "
        "the domain, weights fixed)"
    )
    from dataclasses import replace

    return replace(est, fallback=fallback, note=f"{est.note}; {note}" if est.note else note)


def _with_domain(est: Estimate, key: Any) -> Estimate:
    from dataclasses import replace

    return replace(est, domain=key)


def _total_from_sums(s: _Sums, level: float, df: float | None) -> Estimate:
    if s.n == 0:
        raise EstimationError("no respondents with a valid value: cannot estimate a total")
    v = s.total_var(0.0)
    se = math.sqrt(max(v, 0.0))
    dfu = s.df if df is None else df
    _require_df(dfu)
    t = t_quantile(1 - (1 - level) / 2, dfu)
    n = s.n_nonzero
    deff = None
    if n >= 2 and s.sw > 0:
        deff = _deff(v, s.ss / s.sw * n / (n - 1) * s.sw**2 * (s.sw - n) / (s.sw * n))
    return Estimate(
        value=s.swy, se=se, ci_low=s.swy - t * se, ci_high=s.swy + t * se, df=float(dfu),
        n=s.n, deff=deff, level=level, method="t" if not math.isinf(dfu) else "normal",
    )  # fmt: skip


def domain_codes(by: Any, n: int) -> tuple[np.ndarray, list[Any]]:
    """Codes ``0..G-1`` of the (crossed) domains of each row, ``-1`` where a key is missing.

    Returns the codes and the sorted keys (labels, or tuples of labels when crossing). The
    result for a :class:`Categorical` is kept for the last few (the indicators of a wave are
    estimated by the same domains); its codes are read-only.
    """
    if isinstance(by, Categorical):

        def make() -> tuple[np.ndarray, list[Any]]:
            found = _categorical_codes(by, n)
            found[0].setflags(write=False)
            return found

        return _DOMAIN_CODES.get_or_make((content_key(by), n), make)
    return _array_codes(by, n)


#: The codes of the last few categorical domain variables, by their content.
_DOMAIN_CODES: BoundedCache[tuple[np.ndarray, list[Any]]] = BoundedCache(8)


def _categorical_codes(by: Categorical, n: int) -> tuple[np.ndarray, list[Any]]:
    codes = np.asarray(by.codes, dtype=np.int64)
    if codes.shape != (n,):
        raise EstimationError(f"domain variable has {codes.shape[0]} values, expected {n}")
    used = np.flatnonzero(np.bincount(codes[codes >= 0], minlength=len(by.labels)))
    order = sorted(used.tolist(), key=lambda i: by.labels[i])
    rank = np.full(len(by.labels) + 1, -1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[codes], [by.labels[i] for i in order]


def _array_codes(by: Any, n: int) -> tuple[np.ndarray, list[Any]]:
    arrays: Sequence[Any]
    if isinstance(by, (list, tuple)) and by and np.ndim(by[0]) == 1:
        arrays, crossed = by, True
    else:
        arrays, crossed = [by], False
    combined = np.zeros(n, dtype=np.int64)
    missing = np.zeros(n, dtype=bool)
    label_lists: list[np.ndarray] = []
    for arr in arrays:
        a = np.asarray(arr)
        if a.shape != (n,):
            raise EstimationError(f"domain variable has {a.shape[0]} values, expected {n}")
        miss = _missing(a)
        try:
            labels, inv = np.unique(a[~miss], return_inverse=True)
        except TypeError:
            raise EstimationError("domain labels must be all numbers or all text") from None
        codes = np.zeros(n, dtype=np.int64)
        codes[~miss] = inv.reshape(-1)
        combined = combined * max(len(labels), 1) + codes
        missing |= miss
        label_lists.append(labels)
    if missing.all():
        return np.full(n, -1, dtype=np.int64), []
    used, dense = np.unique(combined[~missing], return_inverse=True)
    out = np.full(n, -1, dtype=np.int64)
    out[~missing] = dense.reshape(-1)
    keys: list[Any] = []
    for c in used.tolist():
        parts = []
        for labels in reversed(label_lists):
            c, r = divmod(c, len(labels))
            value = labels[r]
            parts.append(value.item() if isinstance(value, np.generic) else value)
        parts.reverse()
        keys.append(tuple(parts) if crossed else parts[0])
    return out, keys


def _missing(a: np.ndarray) -> np.ndarray:
    missing: np.ndarray
    if a.dtype.kind == "f":
        missing = np.isnan(a)
        return missing
    if a.dtype.kind in "US":
        missing = a == a.dtype.type()
        return missing
    if a.dtype.kind == "O":
        return np.array(
            [v is None or v == "" or (isinstance(v, float) and math.isnan(v)) for v in a],
            dtype=bool,
        )
    return np.zeros(a.shape, dtype=bool)
