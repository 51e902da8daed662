"""Comparisons of estimates: items that changed between questionnaire versions, streets
against the district, a wave against the previous one.

The statistics are :mod:`surveyapp.estimation.compare`'s; this module applies them to a wave's
items as the results and the reports show them (never significant inside an estimate's own
interval).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..estimation import Categorical, Design, Estimate, EstimationError
from ..estimation.compare import (
    Comparison,
    consistent_with_interval,
    difference_between_waves,
    difference_from_overall,
    differences_from_overall,
)
from ..questionnaire import Questionnaire
from ..questionnaire.diff import indicator_comparable, indicator_definition

__all__ = ["not_comparable", "streets_vs_district", "vs_previous_wave"]


def _composite_definition(item: Any, schema: Questionnaire) -> dict:
    question = schema.questions.get(item.question)
    return {
        "question": item.question,
        "points": sorted((str(k), float(v)) for k, v in item.points.items()),
        "excluded": sorted(item.excluded),
        "question_type": question.type if question else None,
        "choices": [c.code for c in question.choices] if question else None,
    }


def not_comparable(old: Questionnaire, new: Questionnaire) -> dict[str, str]:
    """Items of ``new`` that cannot be compared with a wave collected with ``old``, and why.

    An indicator is comparable when it counts the same question (type, wording, codes) with
    the same positive and excluded codes among the same base
    (:func:`surveyapp.questionnaire.diff.indicator_comparable`); a composite score when it
    scores the same question's codes with the same points.
    """
    if old is new:
        return {}
    out: dict[str, str] = {}
    old_indicators = {i.id: i for i in old.indicators}
    for item in new.indicators:
        before = old_indicators.get(item.id)
        if before is None:
            out[item.id] = (
                f"indicator '{item.id}' is not in the previous wave's questionnaire "
                f"({old.id} version {old.version})"
            )
            continue
        ok, reason = indicator_comparable(
            indicator_definition(before, old), indicator_definition(item, new)
        )
        if not ok:
            out[item.id] = reason
    old_composites = {c.id: c for c in old.composites}
    for item in new.composites:
        before = old_composites.get(item.id)
        if before is None:
            out[item.id] = (
                f"score '{item.id}' is not in the previous wave's questionnaire "
                f"({old.id} version {old.version})"
            )
        elif _composite_definition(before, old) != _composite_definition(item, new):
            out[item.id] = (
                f"score '{item.id}' is not comparable: its question, codes or "
                "points changed between the two questionnaire versions"
            )
    return out


def streets_vs_district(
    design: Design,
    y: np.ndarray,
    street: Categorical | np.ndarray,
    by_street: dict[str, Estimate | None],
    level: float,
) -> dict[str, Comparison | None]:
    """Each estimable street against the whole district (the street is part of it).

    The test uses the street's degrees of freedom, those of the street's interval printed on
    the same line (PSUs minus strata among the street's respondents), not the district's:
    the difference's variance is dominated by the street's, and a test with the district's
    63 degrees of freedom called differences significant that the street's own interval
    (3 to 6 degrees of freedom) does not support (issue 18; docs/methods.md).
    """
    out: dict[str, Comparison | None] = {code: None for code in by_street}
    estimable = [code for code, est in by_street.items() if est is not None]
    if isinstance(street, Categorical):
        labels = {str(lb): lb for lb in street.labels}
        levels = [labels.get(code, code) for code in estimable]
    else:
        levels = list(estimable)
    dfs = {lv: by_street[code].df for lv, code in zip(levels, estimable, strict=True)}
    try:
        found = differences_from_overall(design, y, street, levels, level=level, df=dfs)
        out.update({str(k): v for k, v in found.items()})
    except EstimationError:
        labels_all = street.as_array() if isinstance(street, Categorical) else street
        for lv, code in zip(levels, estimable, strict=True):
            try:
                out[code] = difference_from_overall(
                    design, y, labels_all == code, level=level, df=dfs[lv]
                )
            except EstimationError:
                out[code] = None
    for code, cmp in out.items():
        est = by_street.get(code)
        if cmp is not None and est is not None:
            out[code] = consistent_with_interval(cmp, est, est.value - cmp.difference)
    return out


def vs_previous_wave(now: Estimate, then: Estimate, level: float) -> Comparison | None:
    """An estimate against the previous wave's, never significant inside its own interval;
    None when the two have no degrees of freedom between them (one respondent each)."""
    try:
        cmp = difference_between_waves(now, then, level=level)
    except EstimationError:
        return None
    return consistent_with_interval(cmp, now, then.value)
