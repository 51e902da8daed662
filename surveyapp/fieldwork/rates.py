"""AAPOR outcome rates: response, cooperation, refusal and contact rates. Pure Python.

References
----------
The American Association for Public Opinion Research (2023). *Standard Definitions: Final
Dispositions of Case Codes and Outcome Rates for Surveys*, 10th edition, section "Outcome
Rates" (RR1-RR6, COOP1-COOP4, REF1-REF3, CON1-CON3). The default estimate of ``e`` is the
proportional allocation of unknown cases (often called the CASRO method), one of the estimates
the Standard Definitions accept when it is stated with the rates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

from .dispositions import CLASSES, class_of


@dataclass(frozen=True)
class DispositionCounts:
    """Cases by AAPOR class: I complete, P partial, R refusal and break-off, NC non-contact,
    O other eligible, UH unknown if household, UO other unknown eligibility, NE not eligible."""

    I: int = 0  # noqa: E741  (AAPOR's own letter)
    P: int = 0
    R: int = 0
    NC: int = 0
    O: int = 0  # noqa: E741
    UH: int = 0
    UO: int = 0
    NE: int = 0

    def __post_init__(self) -> None:
        for name in CLASSES:
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a count (a whole number >= 0), not {value!r}")

    @classmethod
    def from_codes(cls, codes: Iterable[str]) -> DispositionCounts:
        """Count AAPOR disposition codes (``1.1``, ``2.111``, ``3.13`` …) by class."""
        counts = dict.fromkeys(CLASSES, 0)
        for code in codes:
            counts[class_of(code)] += 1
        return cls(**counts)

    @property
    def total(self) -> int:
        return sum(getattr(self, name) for name in CLASSES)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class AaporRates:
    """The AAPOR rates of a set of cases; a rate is None when its denominator is zero.

    ``e`` is the estimated share of eligible cases among those of unknown eligibility, used by
    RR3, RR4, REF2 and CON2; ``e_method`` says where it comes from.
    """

    counts: DispositionCounts
    e: float | None
    e_method: str
    RR1: float | None
    RR2: float | None
    RR3: float | None
    RR4: float | None
    RR5: float | None
    RR6: float | None
    COOP1: float | None
    COOP2: float | None
    COOP3: float | None
    COOP4: float | None
    REF1: float | None
    REF2: float | None
    REF3: float | None
    CON1: float | None
    CON2: float | None
    CON3: float | None

    RATE_NAMES = (
        "RR1",
        "RR2",
        "RR3",
        "RR4",
        "RR5",
        "RR6",
        "COOP1",
        "COOP2",
        "COOP3",
        "COOP4",
        "REF1",
        "REF2",
        "REF3",
        "CON1",
        "CON2",
        "CON3",
    )

    def rates(self) -> dict[str, float | None]:
        return {name: getattr(self, name) for name in self.RATE_NAMES}


def estimate_e(counts: DispositionCounts) -> float | None:
    """Return the proportional-allocation estimate of ``e``: the eligible share among resolved
    cases, (I+P+R+NC+O) / (I+P+R+NC+O+NE); None when no case is resolved."""
    eligible = counts.I + counts.P + counts.R + counts.NC + counts.O
    resolved = eligible + counts.NE
    return eligible / resolved if resolved else None


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def aapor_rates(
    counts: DispositionCounts | Mapping[str, int], e: float | None = None
) -> AaporRates:
    """Compute RR1-RR6, COOP1-COOP4, REF1-REF3 and CON1-CON3 from case counts by class.

    ``e`` defaults to :func:`estimate_e`; give a number in [0, 1] to use another estimate.
    With no resolved case and no ``e`` given, the rates that need ``e`` are None.
    """
    if not isinstance(counts, DispositionCounts):
        counts = DispositionCounts(**counts)
    method = "given"
    if e is None:
        e, method = estimate_e(counts), "proportional allocation (I+P+R+NC+O)/(I+P+R+NC+O+NE)"
    elif not 0.0 <= e <= 1.0:
        raise ValueError(f"e is a proportion between 0 and 1, not {e}")
    c = counts
    interviews = c.I + c.P
    eligible_known = interviews + c.R + c.NC + c.O
    unknown = c.UH + c.UO
    all_cases = eligible_known + unknown
    with_e = eligible_known + e * unknown if e is not None else None
    contacted = interviews + c.R + c.O

    def by_e(num: float) -> float | None:
        return None if with_e is None else _ratio(num, with_e)

    return AaporRates(
        counts=c,
        e=e,
        e_method=method,
        RR1=_ratio(c.I, all_cases),
        RR2=_ratio(interviews, all_cases),
        RR3=by_e(c.I),
        RR4=by_e(interviews),
        RR5=_ratio(c.I, eligible_known),
        RR6=_ratio(interviews, eligible_known),
        COOP1=_ratio(c.I, interviews + c.R + c.O),
        COOP2=_ratio(interviews, interviews + c.R + c.O),
        COOP3=_ratio(c.I, interviews + c.R),
        COOP4=_ratio(interviews, interviews + c.R),
        REF1=_ratio(c.R, all_cases),
        REF2=by_e(c.R),
        REF3=_ratio(c.R, eligible_known),
        CON1=_ratio(contacted, all_cases),
        CON2=by_e(contacted),
        CON3=_ratio(contacted, eligible_known),
    )
