"""Call outcomes (dispositions) of telephone interviewing, after AAPOR's Standard Definitions.

Each outcome an interviewer records maps to an AAPOR final disposition code for telephone
surveys, a class used by the outcome rates (:mod:`surveyapp.fieldwork.rates`), a final/non-final
flag and, for non-final outcomes, the delay before the number may be called again. Pure Python.

References
----------
The American Association for Public Opinion Research (2023). *Standard Definitions: Final
Dispositions of Case Codes and Outcome Rates for Surveys*, 10th edition, Table 2 (telephone).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType

#: The classes of the AAPOR formulas: interview (complete, partial), eligible non-interview
#: (refusal and break-off, non-contact, other), unknown eligibility (unknown if household,
#: other unknown) and not eligible.
CLASSES = ("I", "P", "R", "NC", "O", "UH", "UO", "NE")


@dataclass(frozen=True)
class Disposition:
    """One outcome of a call: its key, AAPOR code and class, finality and recall delay."""

    key: str
    aapor: str
    klass: str
    final: bool
    recall: timedelta | None = None
    needs_appointment: bool = False
    description: str = ""


def _d(key, aapor, klass, final, minutes=None, **kw) -> Disposition:
    recall = timedelta(minutes=minutes) if minutes is not None else None
    return Disposition(key, aapor, klass, final, recall, **kw)


_ALL = (
    _d("complete", "1.1", "I", True, description="Complete interview"),
    _d("partial", "1.2", "P", True, description="Partial interview"),
    _d(
        "refusal_household_soft",
        "2.111",
        "R",
        False,
        3 * 24 * 60,
        description="Household-level refusal, soft (call again in three days)",
    ),
    _d(
        "refusal_household_hard",
        "2.111",
        "R",
        True,
        description="Household-level refusal, hard (never call again)",
    ),
    _d(
        "refusal_respondent_soft",
        "2.112",
        "R",
        False,
        3 * 24 * 60,
        description="Known-respondent refusal, soft",
    ),
    _d("refusal_respondent_hard", "2.112", "R", True, description="Known-respondent refusal, hard"),
    _d("breakoff", "2.12", "R", False, 24 * 60, description="Break-off (call again tomorrow)"),
    _d(
        "respondent_unavailable",
        "2.21",
        "NC",
        False,
        4 * 60,
        description="Respondent not available",
    ),
    _d(
        "answering_machine_household",
        "2.22",
        "NC",
        False,
        4 * 60,
        description="Answering machine, message confirms a household",
    ),
    _d(
        "appointment",
        "2.21",
        "NC",
        False,
        needs_appointment=True,
        description="Appointment (call again at the agreed time)",
    ),
    _d("health_barrier", "2.32", "O", True, description="Respondent physically or mentally unable"),
    _d("language_barrier", "2.33", "O", True, description="Language barrier"),
    _d("busy", "3.12", "UH", False, 15, description="Busy"),
    _d("no_answer", "3.13", "UH", False, 2 * 60, description="No answer"),
    _d(
        "answering_machine_unknown",
        "3.14",
        "UH",
        False,
        4 * 60,
        description="Answering machine, unknown if household",
    ),
    _d("fax", "4.20", "NE", True, description="Fax or data line"),
    _d("disconnected", "4.30", "NE", True, description="Non-working or disconnected number"),
    _d("business", "4.51", "NE", True, description="Business, government office, organisation"),
    _d(
        "not_resident",
        "4.70",
        "NE",
        True,
        description="No eligible respondent (not resident, under 16)",
    ),
    _d("quota_filled", "4.80", "NE", True, description="Quota filled"),
)

#: Every outcome by key, in the order interviewers see them.
DISPOSITIONS: Mapping[str, Disposition] = MappingProxyType({d.key: d for d in _ALL})

#: The AAPOR class of the codes a case can be closed with, including those the queue assigns
#: itself: 3.11 (never called) and the closing of a case after the last allowed attempt.
CLASS_OF_CODE: Mapping[str, str] = MappingProxyType(
    {**{d.aapor: d.klass for d in _ALL}, "3.11": "UH", "3.21": "UO", "3.90": "UO"}
)

# When a case ends without a final outcome (its attempts are used up), the most informative
# outcome so far decides its class: a refusal shows an eligible household, a contact without
# an interview more than a ringing telephone.
_PRECEDENCE = {"R": 0, "O": 1, "NC": 2, "UO": 3, "UH": 4}


def disposition(key: str) -> Disposition:
    """Return the outcome ``key``; raise KeyError (with the known keys) for an unknown one."""
    try:
        return DISPOSITIONS[key]
    except KeyError:
        raise KeyError(f"unknown call outcome '{key}'; known: {', '.join(DISPOSITIONS)}") from None


def class_of(code: str) -> str:
    """Return the AAPOR class (``I``, ``P``, ``R`` …) of an AAPOR disposition code."""
    return CLASS_OF_CODE[code]


def closing_code(attempt_codes: Iterable[str]) -> str:
    """Return the AAPOR code of a case closed after its last allowed attempt.

    ``attempt_codes`` are the AAPOR codes of its attempts, oldest first. The code of the most
    informative outcome wins (refusal > other > non-contact > unknown); among equals, the last.
    A case never called is 3.11 (not attempted).
    """
    best: str | None = None
    for code in attempt_codes:
        klass = CLASS_OF_CODE[code]
        if klass not in _PRECEDENCE:
            return code  # a final outcome closes the case by itself
        if best is None or _PRECEDENCE[klass] <= _PRECEDENCE[CLASS_OF_CODE[best]]:
            best = code
    return best or "3.11"
