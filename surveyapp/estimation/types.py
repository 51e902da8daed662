"""Result and error types shared by the estimation modules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Categorical", "DesignError", "Estimate", "EstimationError", "LonelyPSUError"]


class EstimationError(ValueError):
    """An estimate cannot be computed from these data (the message says why and what to do)."""


class DesignError(EstimationError):
    """The sampling design description is inconsistent (bad fpc, one PSU, mismatched lengths)."""


class LonelyPSUError(DesignError):
    """A stratum has a single sampled unit and the lonely-PSU rule is ``"fail"``.

    Attributes
    ----------
    stratum : object
        Label of the offending stratum (or, from stage 2 on, of the parent cluster).
    stage : int
        Sampling stage, counted from 1 as R does.
    """

    def __init__(self, stratum: Any, stage: int) -> None:
        self.stratum = stratum
        self.stage = stage
        where = "Stratum" if stage == 1 else "Cluster"
        super().__init__(
            f"{where} ({stratum}) has only one PSU at stage {stage}; choose a lonely-PSU rule "
            '("remove", "certainty", "adjust" or "average") or merge it with a similar stratum'
        )


@dataclass(frozen=True, slots=True, eq=False)
class Categorical:
    """Codes ``0..k-1`` with their labels, for ids and strata already encoded (e.g. from CSV).

    Passing one to :meth:`Design.create` skips relabelling and keeps the labels for messages.
    """

    codes: np.ndarray
    labels: Sequence[Any]
    # Its content key, once computed (surveyapp.caching.content_key); empty in each new object.
    _content_key: list[str] = field(default_factory=list, init=False, repr=False, compare=False)

    def as_array(self) -> np.ndarray:
        """Labels per row (object array, ``None`` where the code is negative)."""
        table = np.array([*self.labels, None], dtype=object)
        labels: np.ndarray = table[self.codes]
        return labels


@dataclass(frozen=True, slots=True)
class Estimate:
    """A design-based estimate with its standard error and confidence interval.

    Attributes
    ----------
    value : float
        Point estimate.
    se : float
        Standard error (Taylor linearisation).
    ci_low, ci_high : float
        Confidence interval bounds at ``level``.
    df : float
        Degrees of freedom used for the interval (``inf`` for a Normal interval).
    n : int
        Number of respondents (rows with a valid value) behind the estimate.
    deff : float or None
        Design effect: design variance over the variance of simple random sampling without
        replacement of the same size (R's ``deff=TRUE``). ``None`` where R gives ``NaN`` (a rate
        of 0% or 100%, a single respondent).
    level : float
        Confidence level.
    method : str
        How the interval was computed (``"logit"``, ``"beta"``, ``"t"``, ...).
    domain : object
        Domain key when the estimate comes from :func:`~surveyapp.estimation.estimates.svyby`.
    note : str
        Why the estimate departs from R's computation, when it does (empty otherwise).
    fallback : str
        Which documented fallback replaced the requested computation (empty otherwise):
        ``"beta"`` when the requested interval had zero width (a rate of 0% or 100%, or a
        standard error of 0) and the Korn-Graubard interval was published instead;
        ``"respondents"`` when the domain lies in a single PSU and its variance was computed
        with its respondents as the PSUs (see ``docs/methods.md``); both joined by ``+``.
    """

    value: float
    se: float
    ci_low: float
    ci_high: float
    df: float
    n: int
    deff: float | None
    level: float = 0.95
    method: str = ""
    domain: Any = None
    note: str = ""
    fallback: str = ""
