"""What reports need besides a wave's estimates: names, dates, sample counts, history, options.

Everything here is plain data (picklable, no database objects), so reports can be built in
worker processes and cached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ..estimation import Estimate

if TYPE_CHECKING:
    from .results import ItemResult


class ReportError(UserError, ValueError):
    """A report cannot be built as asked (unknown street, bad option); the message says why."""


@dataclass(frozen=True)
class WarningRules:
    """The league-table sanctions of a survey (configurable in the survey settings).

    A street ranked in the ``bottom`` places on ``indicator`` this wave is interviewed (约谈);
    in the bottom places ``yellow_card_waves`` waves running it gets a yellow card (黄牌警告);
    ``rectification_waves`` running, it is listed for rectification (挂牌整治). A rate under
    ``floor`` is flagged whatever the rank.
    """

    indicator: str = "security"
    bottom: int = 5
    interview_waves: int = 1
    yellow_card_waves: int = 2
    rectification_waves: int = 3
    floor: float | None = 0.8


@dataclass(frozen=True)
class ReportOptions:
    """What the reports show; ``settings["reports"]`` of a survey overrides the defaults."""

    main_indicators: tuple[str, ...] = ("security", "law_enforcement_satisfaction")
    unsafe_factors: str = "unsafe_factors"
    departments: tuple[str, ...] | None = None  # None: every other satisfaction question
    department_positive: tuple[str, ...] = ("1", "2", "3")
    department_excluded: tuple[str, ...] = ("9",)
    min_reliable_n: int = 30
    warnings: WarningRules = field(default_factory=WarningRules)
    # Departments that are not 政法 units (公安, 检察院, 法院, 司法行政): reported apart, as the
    # seeds do (城管, 环保, 市场监管).
    other_enforcement: tuple[str, ...] = (
        "urban_management_satisfaction",
        "environment_satisfaction",
        "market_regulation_satisfaction",
    )

    @classmethod
    def from_settings(cls, settings: dict[str, Any] | None) -> ReportOptions:
        """Read ``settings["reports"]``; raise :class:`ReportError` naming a bad field."""
        raw = (settings or {}).get("reports") or {}
        if not isinstance(raw, dict):
            raise ReportError("survey settings: 'reports' must be an object")
        known = {
            "main_indicators",
            "unsafe_factors",
            "departments",
            "department_positive",
            "department_excluded",
            "min_reliable_n",
            "warnings",
            "factor_groups",  # read by surveyapp.services.factors
            "other_enforcement",
        }
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ReportError(
                "survey settings: unknown key(s) reports."
                + ", reports.".join(unknown)
                + f"; known: {', '.join(sorted(known))}"
            )
        kwargs: dict[str, Any] = {}
        for key in (
            "main_indicators",
            "departments",
            "department_positive",
            "department_excluded",
            "other_enforcement",
        ):
            if key in raw:
                value = raw[key]
                if value is None and key == "departments":
                    continue
                if not isinstance(value, list | tuple) or not all(
                    isinstance(v, str | int) for v in value
                ):
                    raise ReportError(f"survey settings: reports.{key} must be a list of codes")
                kwargs[key] = tuple(str(v) for v in value)
        if "unsafe_factors" in raw:
            if not isinstance(raw["unsafe_factors"], str):
                raise ReportError("survey settings: reports.unsafe_factors must be a question id")
            kwargs["unsafe_factors"] = raw["unsafe_factors"]
        if "min_reliable_n" in raw:
            kwargs["min_reliable_n"] = _int(raw["min_reliable_n"], "reports.min_reliable_n", 1)
        if "warnings" in raw:
            kwargs["warnings"] = _warning_rules(raw["warnings"])
        return cls(**kwargs)


def _int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ReportError(f"survey settings: {name} must be a whole number >= {minimum}")
    return value


def _warning_rules(raw: Any) -> WarningRules:
    if not isinstance(raw, dict):
        raise ReportError("survey settings: reports.warnings must be an object")
    known = {
        "indicator",
        "bottom",
        "interview_waves",
        "yellow_card_waves",
        "rectification_waves",
        "floor",
    }
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ReportError(
            f"survey settings: unknown key(s) reports.warnings.{unknown[0]}; "
            f"known: {', '.join(sorted(known))}"
        )
    kwargs: dict[str, Any] = {}
    if "indicator" in raw:
        if not isinstance(raw["indicator"], str):
            raise ReportError("survey settings: reports.warnings.indicator must be an indicator id")
        kwargs["indicator"] = raw["indicator"]
    for key in ("bottom", "interview_waves", "yellow_card_waves", "rectification_waves"):
        if key in raw:
            kwargs[key] = _int(raw[key], f"reports.warnings.{key}", 1)
    if "floor" in raw:
        floor = raw["floor"]
        if floor is not None and (
            isinstance(floor, bool) or not isinstance(floor, int | float) or not 0 <= floor <= 1
        ):
            raise ReportError(
                "survey settings: reports.warnings.floor must be a share between "
                "0 and 1 (0.8 for 80%) or null"
            )
        kwargs["floor"] = None if floor is None else float(floor)
    rules = WarningRules(**kwargs)
    if not rules.interview_waves <= rules.yellow_card_waves <= rules.rectification_waves:
        raise ReportError(
            "survey settings: reports.warnings needs interview_waves <= "
            "yellow_card_waves <= rectification_waves"
        )
    return rules


@dataclass(frozen=True)
class WaveHistory:
    """An earlier wave's estimates (district and streets), for trend charts and sanctions."""

    code: str
    name: str
    overall: dict[str, Estimate | None]  # item id -> district estimate
    by_street: dict[str, dict[str, Estimate | None]]  # item id -> street code -> estimate
    starts_on: date | None = None  # places the wave in its quarter (runs count by date)


@dataclass(frozen=True)
class ReportMeta:
    """The context of one wave's reports, gathered once and shared by every street's PDF."""

    survey_name: str
    district_code: str
    district_name: dict[str, str]  # language -> name
    wave_code: str
    wave_name: str
    starts_on: date | None
    ends_on: date | None
    modes: tuple[str, ...]
    data_as_of: str  # latest submission time of the wave's responses (ISO), or ""
    sample_by_street_mode: dict[str, dict[str, int]]  # street -> mode -> respondents
    community_n: dict[str, dict[str, int]]  # item id -> community -> valid answers
    community_value: dict[str, dict[str, float]]  # item id -> community -> weighted rate
    departments: tuple[ItemResult, ...] = ()
    history: tuple[WaveHistory, ...] = ()  # earlier waves, oldest first
    factor_question: dict[str, str] | None = None  # the unsafe-factors question's label
    factor_labels: dict[str, dict[str, str]] = field(default_factory=dict)  # code -> label
    phone_response_rate: dict[str, float] = field(default_factory=dict)  # street/ALL -> RR
    options: ReportOptions = field(default_factory=ReportOptions)
    # The year's assessment so far (surveyapp.services.assessment.annual_assessment), or None.
    assessment: dict[str, Any] | None = None
    # False while the wave's results are not released: only its managers see these reports,
    # and every page says 未发布 (surveyapp.policy.may_see_wave).
    released: bool = True
