"""Unsafe-factor groups of a wave: shares among respondents and among all factor mentions.

The groups are survey settings (``settings["reports"]["factor_groups"]``: name -> answer
codes of the unsafe-factors question); by default the seeds' two, 两抢一盗 (抢劫, 抢夺,
盗窃) and 吸毒贩毒和赌博, where the questionnaire has their codes (version 2 of the standard
questionnaire; version 1 merges them into 两抢一盗 and 黄赌毒, which are then reported as
groups of one code). Every factor is also reported on its own, on both bases.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import N_, Text
from ..estimation import Categorical, EstimationError
from ..estimation.shares import GroupShare, group_shares
from ..models import Survey, Wave
from .wave_design import build_design, survey_settings
from .wave_selection import EstimateRequestError, wave_version
from .wave_snapshot import extract_wave

DEFAULT_GROUPS = {
    "两抢一盗": ("robbery", "snatching", "theft"),
    "吸毒贩毒和赌博": ("drugs", "gambling"),
}
# Version 1 of the standard questionnaire merges the factors of each group into one code.
V1_GROUPS = {"两抢一盗": ("theft_robbery",), "黄赌毒": ("vice",)}


def factor_groups(settings: dict, codes: list[str]) -> dict[str, tuple[str, ...]]:
    """The configured groups (checked against ``codes``), or the defaults that fit."""
    raw = ((settings.get("reports") or {}).get("factor_groups")) if settings else None
    if raw is not None:
        if not isinstance(raw, dict) or not all(
            isinstance(v, list) and v and all(isinstance(c, str | int) for c in v)
            for v in raw.values()
        ):
            raise EstimateRequestError(
                Text(
                    N_(
                        "survey settings: reports.factor_groups must map a group name to a list of "
                        "answer codes, e.g. %(example)s"
                    ),
                    example='{"两抢一盗": ["robbery", "snatching", "theft"]}',
                )
            )
        return {str(k): tuple(str(c) for c in v) for k, v in raw.items()}
    for defaults in (DEFAULT_GROUPS, V1_GROUPS):
        fitting = {k: v for k, v in defaults.items() if set(v) <= set(codes)}
        if fitting:
            return fitting
    return {}


def wave_factor_shares(
    survey: Survey, wave: Wave, question: str = "unsafe_factors"
) -> dict[str, Any]:
    """Groups and single factors of ``question``: both bases, district and streets."""
    settings = survey_settings(survey)
    schema = wave_version(survey, wave).schema
    if question not in schema.questions_once:
        raise EstimateRequestError(
            Text(
                N_("the questionnaire of wave %(wave)s has no question %(question)s"),
                wave=wave.code,
                question=question,
            )
        )
    data = extract_wave(wave, schema)
    if question not in data.shares:
        raise EstimateRequestError(
            Text(N_("%(question)s is not a multiple-choice question"), question=question)
        )
    streets = [s for s in survey.district.children if s.level == "street"]
    design, _ = build_design(data, streets, settings)
    selections = data.shares[question]
    codes = list(selections)
    groups = factor_groups(settings, codes)
    singles = {c: (c,) for c in codes if c != "none"}
    method = settings.get("ci_method", "logit")
    level = float(settings.get("level", 0.95))
    street = data.domain("street")
    labels = street.as_array() if isinstance(street, Categorical) else np.asarray(street)
    labels = np.asarray(labels).astype(str)
    domains: dict[str, Any] = {"ALL": None}
    domains.update({s.code: labels == s.code for s in streets if (labels == s.code).any()})
    out: dict[str, Any] = {"question": question, "groups": groups, "domains": {}}
    for name, mask in domains.items():
        try:
            grouped = group_shares(
                selections, groups, design, domain=mask, method=method, level=level
            )
            single = group_shares(
                selections, singles, design, domain=mask, method=method, level=level
            )
        except EstimationError as exc:
            raise EstimateRequestError(
                Text(N_("survey settings: reports.factor_groups: %(problem)s"), problem=exc)
            ) from None
        out["domains"][name] = {"groups": grouped, "factors": single}
    return out


def _est(e) -> dict | None:
    if e is None:
        return None
    return {
        "value": e.value,
        "ci_low": e.ci_low,
        "ci_high": e.ci_high,
        "n": e.n,
        "df": e.df,
        "fallback": e.fallback,
    }


def shares_document(result: dict[str, Any]) -> dict:
    """The shares as plain JSON."""

    def rows(shares: list[GroupShare]) -> list[dict]:
        return [
            {
                "name": s.group,
                "codes": list(s.codes),
                "among_respondents": _est(s.respondents),
                "among_mentions": _est(s.mentions),
            }
            for s in shares
        ]

    return {
        "question": result["question"],
        "groups": {k: list(v) for k, v in result["groups"].items()},
        "domains": {
            d: {"groups": rows(v["groups"]), "factors": rows(v["factors"])}
            for d, v in result["domains"].items()
        },
    }
