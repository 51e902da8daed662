"""What the reports are drawn from: a wave's estimates for every indicator and domain.

The estimates service (:func:`surveyapp.services.estimates.wave_results`) computes these from
the database; the reports (PDFs, screens, exports) only read them. They live in the reports'
package so that ``reports/`` stays a pure core: it imports neither Flask nor the database
nor ``services``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..estimation import Estimate
from ..estimation.compare import Comparison
from ..estimation.ranks import RankInterval

__all__ = ["ItemResult", "WaveResults", "WeightingReport"]


@dataclass(frozen=True)
class WeightingReport:
    """How the wave was weighted: the method, the margins raked to, Kish's design effect of
    the weights and the effective sample size (with a note when weighting fell back)."""

    method: str
    margins: tuple[str, ...]
    kish_deff: float
    effective_n: float
    note: str = ""


@dataclass(frozen=True)
class ItemResult:
    """One indicator (rate) or composite score (mean), overall and in every domain."""

    id: str
    kind: str  # "rate" or "score"
    label: dict[str, Any]
    target: float | None
    overall: Estimate | None
    by_street: dict[str, Estimate | None]
    by_community: dict[str, Estimate | None]
    vs_district: dict[str, Comparison | None]
    vs_previous: dict[str, Comparison | None]  # street code or "ALL"
    ranks: dict[str, RankInterval]
    problems: dict[str, str] = field(default_factory=dict)  # domain -> why no estimate
    # Why there is no comparison with the previous wave ("" when compared): the item's
    # definition changed between the two waves' questionnaire versions, or it is new.
    vs_previous_note: str = ""


@dataclass(frozen=True)
class WaveResults:
    """A wave's results: who was counted where, how they were weighted, every item's
    estimates and the shares of each factor question's codes by domain."""

    survey_id: int
    survey_name: str
    wave_code: str
    wave_name: str
    previous_wave_code: str | None
    settings: dict[str, Any]
    weighting: WeightingReport
    n: int
    n_by_street: dict[str, int]
    n_by_mode: dict[str, int]
    streets: list[tuple[str, str, str]]  # code, name_zh, name_en
    communities: dict[str, tuple[str, str, str]]  # code -> (street code, name_zh, name_en)
    items: list[ItemResult]
    factor_shares: dict[str, dict[str, dict[str, Estimate | None]]]  # qid -> domain -> code

    def item(self, item_id: str) -> ItemResult:
        """The result of the indicator or composite ``item_id``."""
        return next(i for i in self.items if i.id == item_id)
