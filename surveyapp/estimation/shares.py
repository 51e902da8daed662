"""Shares of a multiple-choice question's answers, and of groups of answers, on two bases.

The seeds report the factors that make people feel unsafe in two ways: the share of
respondents who name a factor (base: everyone asked), and the factor's share of all the
factors named ("占不满意因素的": 两抢一盗 53.7%, 吸毒贩毒和赌博 15.87%). A *group* of
factors (两抢一盗 = 抢劫 + 抢夺 + 盗窃) is named by a respondent who names any of its factors;
its share of the mentions counts each of its factors named.

- **Among respondents**: the proportion with ``any`` = 1, by :func:`svyciprop` (its interval
  method, Korn-Graubard at 0%/100%).
- **Among mentions**: the ratio ``R = sum(w m_g) / sum(w M)`` of the group's mentions
  ``m_g`` to all mentions ``M`` (R's ``svyratio(~m_g, ~M, design)``), linearised score
  ``w (m_g - R M) / sum(w M)``, t with the domain's degrees of freedom; the interval is the
  Wald interval of ``logit(R)`` back-transformed (inside [0, 1]), and at ``R`` = 0 or 1 the
  Korn-Graubard interval with the respondents who named a factor as the sample size.

References
----------
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, Wiley, sec. 3.2 (ratios).
Korn, E. L. and Graubard, B. I. (1998). *Survey Methodology* 24, 193-201.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .design import Design
from .estimates import korn_graubard, svyciprop, t_quantile
from .types import Estimate, EstimationError

__all__ = ["GroupShare", "group_shares", "mention_ratio"]


@dataclass(frozen=True)
class GroupShare:
    """A group of answer codes: its share among respondents and among all mentions."""

    group: str
    codes: tuple[str, ...]
    respondents: Estimate | None
    mentions: Estimate | None


def mention_ratio(
    numerator: Any, denominator: Any, design: Design, *, domain: Any = None, level: float = 0.95
) -> Estimate:
    """``sum(w x) / sum(w z)`` with its linearised SE and a logit-scale Wald interval.

    ``n`` of the result is the number of respondents with ``z > 0`` (who named something).
    """
    x = np.asarray(numerator, dtype=float)
    z = np.asarray(denominator, dtype=float)
    rows = np.ones(design.n_rows, dtype=bool) if domain is None else np.asarray(domain, bool)
    valid = rows & ~np.isnan(x) & ~np.isnan(z)
    w = np.where(valid, np.asarray(design.weights, dtype=float), 0.0)
    xv, zv = np.where(valid, x, 0.0), np.where(valid, z, 0.0)
    total_z = float(np.sum(w * zv))
    n = int(np.count_nonzero(valid & (zv > 0) & (w != 0)))
    if total_z <= 0 or n == 0:
        raise EstimationError("no mentions in the domain: the share of mentions is undefined")
    r = float(np.sum(w * xv)) / total_z
    r = min(max(r, 0.0), 1.0)
    score = w * (xv - r * zv) / total_z
    var = float(np.asarray(design.total_covariance(score, in_domain=valid)).reshape(-1)[0])
    se = math.sqrt(max(var, 0.0))
    df = float(design.degf(valid))
    alpha = 1.0 - level
    if r in (0.0, 1.0) or se == 0.0:
        lo, hi = korn_graubard(r, 0.0, n, df, alpha, n)
        return Estimate(
            value=r, se=se, ci_low=float(lo), ci_high=float(hi), df=df, n=n, deff=None,
            level=level, method="beta", fallback="beta",
            note="share of mentions at 0% or 100%: Korn-Graubard interval, design effect 1",
        )  # fmt: skip
    if not df > 0:
        raise EstimationError(f"{df:g} degrees of freedom: no interval for the share of mentions")
    t = t_quantile(1 - alpha / 2, df)
    eta, s_eta = math.log(r / (1 - r)), se / (r * (1 - r))
    lo = 1.0 / (1.0 + math.exp(-(eta - t * s_eta)))
    hi = 1.0 / (1.0 + math.exp(-(eta + t * s_eta)))
    return Estimate(
        value=r, se=se, ci_low=lo, ci_high=hi, df=df, n=n, deff=None, level=level,
        method="xlogit",
    )  # fmt: skip


def group_shares(
    selections: Mapping[str, Any],
    groups: Mapping[str, Sequence[str]],
    design: Design,
    *,
    domain: Any = None,
    not_a_mention: Sequence[str] = ("none",),
    method: str = "logit",
    level: float = 0.95,
) -> list[GroupShare]:
    """Each group's share among the respondents asked and among all the mentions.

    Parameters
    ----------
    selections : mapping
        Answer code -> 0/1 per row of ``design`` (NaN: not asked), as extracted for a
        multiple-choice question.
    groups : mapping
        Group name -> its answer codes (a single code is a group of one).
    domain : array_like of bool, optional
        Rows of the domain (a street).
    not_a_mention : sequence
        Codes that are not a factor (the exclusive "nothing").
    """
    codes = list(selections)
    for name, members in groups.items():
        unknown = [c for c in members if c not in selections]
        if unknown:
            raise EstimationError(
                f"factor group {name!r}: unknown answer code(s) {', '.join(unknown)}; "
                f"the question's codes: {', '.join(codes)}"
            )
    matrix = np.column_stack([np.asarray(selections[c], dtype=float) for c in codes])
    asked = ~np.isnan(matrix).all(axis=1)
    filled = np.nan_to_num(matrix)
    factor_cols = [j for j, c in enumerate(codes) if c not in set(not_a_mention)]
    all_mentions = np.where(asked, filled[:, factor_cols].sum(axis=1), np.nan)
    out = []
    for name, members in groups.items():
        cols = [codes.index(c) for c in members]
        m = filled[:, cols].sum(axis=1)
        any_mention = np.where(asked, (m > 0).astype(float), np.nan)
        try:
            resp = svyciprop(any_mention, design, method=method, level=level, domain=domain)
        except EstimationError:
            resp = None
        try:
            ment = mention_ratio(
                np.where(asked, m, np.nan), all_mentions, design, domain=domain, level=level
            )
        except EstimationError:
            ment = None
        out.append(GroupShare(name, tuple(members), resp, ment))
    return out
