"""The seeds' assessment rules: quarterly sanctions by league-table place, annual verdicts.

One seed's city (DOMAIN.md): the bottom ``bottom`` streets of a quarter are interviewed
(约谈); in the bottom places two consecutive quarters, a yellow card (黄牌警告); three, listed
for rectification (挂牌整治). Yearly: a single-item security rate (单项安全感) below 80%
disqualifies the street from the year's awards (取消评选资格); two listings within two years,
or a composite score below 80 points in two years while in the bottom five, is a veto
(一票否决). Every number here is configuration (:class:`AssessmentRules`, from the survey
settings' ``"assessment"`` object), not code.

Quarters are consecutive by date: a quarter is ``(year, 1..4)`` and 2026-Q4 follows 2026-Q3
whatever the waves' order; a quarter without a wave, or in which the street has no estimate,
breaks a run. A street keeps its listing while it stays in the bottom places; a run of
``2 * rectification_quarters`` quarters is a second listing (and so on).

Pure: plain values in, plain values out (no Flask, no database).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import UserError

__all__ = [
    "AnnualFigures",
    "AssessmentError",
    "AssessmentRules",
    "QuarterFigures",
    "StreetAssessment",
    "assess",
    "bottom_places",
    "rules_from_settings",
]


class AssessmentError(UserError, ValueError):
    """The rules or the figures are inconsistent; the message names the field."""


@dataclass(frozen=True)
class AssessmentRules:
    """The seeds' rules, each a setting (``settings["assessment"]`` of a survey).

    Attributes
    ----------
    quarterly_indicator : str
        What the quarterly league table ranks: an indicator (rate) or a composite score.
    bottom : int
        Places at the bottom that count (后五名: 5).
    interview_quarters, yellow_card_quarters, rectification_quarters : int
        Consecutive quarters in the bottom places for 约谈 (1), 黄牌警告 (2), 挂牌整治 (3).
    disqualify_indicator : str
        The single-item rate whose annual value decides 取消评选资格 (单项安全感).
    disqualify_below : float
        Annual rate under which the street is disqualified (0.80).
    veto_listings : int
        Listings for rectification within ``veto_years`` years that mean 一票否决 (2).
    veto_years : int
        The window, in calendar years ending with the assessed year (2).
    veto_score : str
        The composite score (points) of the second veto rule.
    veto_score_below : float
        Annual score under which a year counts for the second veto rule (80 points).
    veto_score_years : int
        Years, ending with the assessed one, each with the score below ``veto_score_below``
        and the street in the annual bottom places by that score (2).
    """

    quarterly_indicator: str = "security"
    bottom: int = 5
    interview_quarters: int = 1
    yellow_card_quarters: int = 2
    rectification_quarters: int = 3
    disqualify_indicator: str = "security"
    disqualify_below: float = 0.80
    veto_listings: int = 2
    veto_years: int = 2
    veto_score: str = "security_score"
    veto_score_below: float = 80.0
    veto_score_years: int = 2


_INT_FIELDS = (
    "bottom",
    "interview_quarters",
    "yellow_card_quarters",
    "rectification_quarters",
    "veto_listings",
    "veto_years",
    "veto_score_years",
)
_STR_FIELDS = ("quarterly_indicator", "disqualify_indicator", "veto_score")


def rules_from_settings(settings: Mapping[str, Any] | None) -> AssessmentRules:
    """Read ``settings["assessment"]``; :class:`AssessmentError` names a bad field."""
    raw = (settings or {}).get("assessment") or {}
    if not isinstance(raw, Mapping):
        raise AssessmentError("survey settings: 'assessment' must be an object")
    known = set(AssessmentRules.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise AssessmentError(
            f"survey settings: unknown key assessment.{unknown[0]}; known: "
            + ", ".join(sorted(known))
        )
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _INT_FIELDS:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise AssessmentError(
                    f"survey settings: assessment.{key} must be a whole number >= 1"
                )
        elif key in _STR_FIELDS:
            if not isinstance(value, str) or not value:
                raise AssessmentError(f"survey settings: assessment.{key} must be an item id")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise AssessmentError(f"survey settings: assessment.{key} must be a number")
        kwargs[key] = value
    rules = AssessmentRules(**kwargs)
    if not 0 <= rules.disqualify_below <= 1:
        raise AssessmentError(
            "survey settings: assessment.disqualify_below is a share between 0 and 1 (0.8 for 80%)"
        )
    if not rules.interview_quarters <= rules.yellow_card_quarters <= rules.rectification_quarters:
        raise AssessmentError(
            "survey settings: assessment needs interview_quarters <= yellow_card_quarters <= "
            "rectification_quarters"
        )
    return rules


@dataclass(frozen=True)
class QuarterFigures:
    """One quarter's league-table values: street code -> value (None: no estimate)."""

    year: int
    quarter: int  # 1..4
    values: Mapping[str, float | None]
    wave: str = ""

    @property
    def index(self) -> int:
        """The quarter as a running number (consecutive quarters differ by one)."""
        return self.year * 4 + self.quarter - 1

    @property
    def label(self) -> str:
        """The quarter as written: ``2026-Q3``."""
        return f"{self.year}-Q{self.quarter}"


@dataclass(frozen=True)
class AnnualFigures:
    """A year's pooled figures per street: the disqualifying rate and the composite score."""

    year: int
    rate: Mapping[str, float | None]
    score: Mapping[str, float | None]


@dataclass(frozen=True)
class StreetAssessment:
    """One street's sanctions over the assessed year and its verdicts."""

    street: str
    quarters: dict[str, str | None]  # "2026-Q1" -> "interview" | "yellow_card" | "rectification"
    listings: list[str]  # quarters in which the street was listed (within the veto window)
    annual_rate: float | None
    annual_score: float | None
    disqualified: bool  # 取消评选资格
    veto: bool  # 一票否决
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The assessment as plain data (JSON for the command line and the API)."""
        return asdict(self)


def bottom_places(values: Mapping[str, float | None], bottom: int) -> set[str]:
    """Streets in the last ``bottom`` places by value (ties at the edge all count)."""
    ranked = {k: v for k, v in values.items() if v is not None}
    if not ranked:
        return set()
    ordered = sorted(ranked.values())
    cut = ordered[min(bottom, len(ordered)) - 1]
    return {k for k, v in ranked.items() if v <= cut}


def _status(run: int, rules: AssessmentRules) -> str | None:
    if run >= rules.rectification_quarters:
        return "rectification"
    if run >= rules.yellow_card_quarters:
        return "yellow_card"
    if run >= rules.interview_quarters:
        return "interview"
    return None


def assess(
    streets: Sequence[str],
    quarters: Sequence[QuarterFigures],
    annual: Sequence[AnnualFigures],
    year: int,
    rules: AssessmentRules,
) -> dict[str, StreetAssessment]:
    """Apply ``rules`` to the quarters (any order) and the annual figures, for ``year``.

    Quarters before ``year - veto_years + 1`` are not needed; the quarters of the assessed year
    and the ``veto_years - 1`` years before count for listings, and earlier quarters only for
    runs that continue into the window.
    """
    ordered = sorted(quarters, key=lambda q: q.index)
    for a, b in zip(ordered, ordered[1:], strict=False):
        if a.index == b.index:
            raise AssessmentError(f"two sets of figures for {a.label} ({a.wave}, {b.wave})")
    first_year = year - rules.veto_years + 1
    by_year = {a.year: a for a in annual}
    out: dict[str, StreetAssessment] = {}
    bottoms = [bottom_places(q.values, rules.bottom) for q in ordered]
    annual_bottoms = {
        y: bottom_places(a.score, rules.bottom) for y, a in by_year.items() if a.score
    }
    for street in streets:
        run, previous = 0, None
        statuses: dict[str, str | None] = {}
        listings: list[str] = []
        for q, bottom in zip(ordered, bottoms, strict=True):
            consecutive = previous is not None and q.index == previous + 1
            run = (run + 1 if consecutive else 1) if street in bottom else 0
            previous = q.index
            status = _status(run, rules)
            if q.year == year:
                statuses[q.label] = status
            if (
                run >= rules.rectification_quarters
                and run % rules.rectification_quarters == 0
                and first_year <= q.year <= year
            ):
                listings.append(q.label)
        reasons: list[str] = []
        this_year = by_year.get(year)
        rate = this_year.rate.get(street) if this_year else None
        score = this_year.score.get(street) if this_year else None
        disqualified = rate is not None and rate < rules.disqualify_below
        if disqualified:
            reasons.append(
                f"annual {rules.disqualify_indicator} {rate:.1%} below "
                f"{rules.disqualify_below:.0%}: disqualified from the year's awards"
            )
        veto = False
        if len(listings) >= rules.veto_listings:
            veto = True
            reasons.append(
                f"listed for rectification {len(listings)} times in {rules.veto_years} years "
                f"({', '.join(listings)}): veto"
            )
        score_years = list(range(year - rules.veto_score_years + 1, year + 1))
        low_years = [
            y
            for y in score_years
            if y in by_year
            and (s := by_year[y].score.get(street)) is not None
            and s < rules.veto_score_below
            and street in annual_bottoms.get(y, set())
        ]
        if len(low_years) == len(score_years):
            veto = True
            reasons.append(
                f"{rules.veto_score} below {rules.veto_score_below:g} points and in the bottom "
                f"{rules.bottom} in {', '.join(map(str, low_years))}: veto"
            )
        out[street] = StreetAssessment(
            street=street,
            quarters=statuses,
            listings=listings,
            annual_rate=rate,
            annual_score=score,
            disqualified=disqualified,
            veto=veto,
            reasons=reasons,
        )
    return out
