"""The weighted design of a wave: the survey's settings, base weights and raking.

:func:`build_design` weights the respondents of a :class:`~surveyapp.services.wave_data.WaveData`
(base weights from the streets' populations, then raking to the street, sex and age-group
margins of the census counts) into an :class:`~surveyapp.estimation.Design`, with a
:class:`~surveyapp.reports.results.WeightingReport` saying what was done. Results are kept in
memory (:data:`DESIGN_CACHE`) and next to the wave's snapshot file.
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from typing import Any

import numpy as np

from ..caching import BoundedCache, array_key
from ..errors import N_, Text
from ..estimation import Categorical, Design, EstimationError
from ..estimation.weighting import base_weights, effective_n, kish_deff, rake
from ..models import Locality, Survey
from ..reports.results import WeightingReport
from .wave_data import WaveData
from .wave_selection import EstimateRequestError
from .wave_snapshot import load_design, save_design

__all__ = [
    "DEFAULT_SETTINGS",
    "DESIGN_CACHE",
    "build_design",
    "design_column",
    "population_cells",
    "survey_settings",
    "weight_wave",
]

DEFAULT_SETTINGS = {
    "design": {"strata": "street", "cluster": "community"},
    "weighting": {"method": "rake", "margins": ["street", "sex", "age_group"]},
    "ci_method": "logit",
    "level": 0.95,
}


def survey_settings(survey: Survey) -> dict:
    """The survey's estimation settings, completed with the defaults, with the number of the
    settings version they are (every estimate and report says which one it used)."""
    settings = json.loads(json.dumps(DEFAULT_SETTINGS))
    for key, value in (survey.settings or {}).items():
        if isinstance(value, dict) and isinstance(settings.get(key), dict):
            settings[key].update(value)
        else:
            settings[key] = value
    settings["settings_version"] = survey.settings_version or 1
    return settings


def population_cells(streets: list[Locality]) -> dict[tuple[str, str, str], float]:
    """Census counts by (street code, sex, age group) of the ``streets``."""
    cells: dict[tuple[str, str, str], float] = {}
    for street in streets:
        for p in street.populations:
            cells[(street.code, p.sex, p.age_group)] = float(p.count)
    return cells


#: Weighted designs by the content of the wave data and the weighting inputs.
DESIGN_CACHE: BoundedCache[tuple[Design, WeightingReport]] = BoundedCache(8)


def _design_inputs(data: WaveData) -> str:
    """A content key of what weighting reads of the wave data: the snapshot's name and
    checksum when the data is exactly a snapshot's, else the respondents and their coded
    localities and groups."""
    if data.content_key:
        return data.content_key
    parts: list[Any] = [data.response_ids]
    if data.codes:
        for name in sorted(data.codes):
            parts += [name, data.codes[name].codes, list(data.codes[name].labels)]
    else:
        parts += [np.asarray(data.columns[name]) for name in sorted(data.columns)]
    return array_key(*parts)


def build_design(
    data: WaveData, streets: list[Locality], settings: dict
) -> tuple[Design, WeightingReport]:
    """Weight the wave: base weights from street populations, then the survey's weighting.

    The result is kept for the same extracted wave, settings and population counts (raking a
    large wave takes a while and every table of a report needs the same weights): in memory,
    and, when the wave came from its snapshot file, on disk next to it, so that a new process
    does not rake again (:func:`surveyapp.services.wave_snapshot.load_design`).
    """
    key = (
        _design_inputs(data),
        json.dumps(settings, sort_keys=True, default=str),
        tuple(sorted(population_cells(streets).items())),
        tuple(sorted((s.code, s.population) for s in streets)),
    )
    hit = DESIGN_CACHE.get(key)
    if hit is not None:
        return hit
    stored_key = json.dumps([key[1], key[2], key[3]], default=str)
    loaded = load_design(data, stored_key)
    if loaded is not None:
        design, report = loaded
    else:
        design, report = weight_wave(data, streets, settings)
        save_design(data, stored_key, (design, report))
    return DESIGN_CACHE.put(key, (design, report))


def weight_wave(
    data: WaveData, streets: list[Locality], settings: dict
) -> tuple[Design, WeightingReport]:
    """Weight the wave afresh (what :func:`build_design` keeps): base weights from the street
    populations, then the survey's weighting (raking to the census margins, or base weights
    only, with the reason in the report's note)."""
    if data.n < 2:
        raise EstimateRequestError(
            Text(
                N_("this wave has %(n)s eligible response(s): at least 2 are needed to estimate"),
                n=data.n,
            )
        )
    street = design_column(data, "street")
    cells = population_cells(streets)
    street_pop: dict[Hashable, float] = {}
    for (code, _sex, _age), count in cells.items():
        street_pop[code] = street_pop.get(code, 0.0) + count
    for s in streets:
        if s.code not in street_pop and s.population:
            street_pop[s.code] = float(s.population)
    present = set(data.columns["street"].tolist())
    missing = sorted(present - set(street_pop))
    if missing:
        raise EstimateRequestError(
            Text(
                N_(
                    "no population count for street(s) %(streets)s: import them with "
                    "`surveyapp localities import`"
                ),
                streets=", ".join(missing),
            )
        )
    weights = base_weights(
        street, {k: v for k, v in street_pop.items() if k in present}, partial=True
    )
    design_settings = settings.get("design", {})
    strata = design_column(data, design_settings.get("strata") or "")
    cluster_name = design_settings.get("cluster") or ""
    clusters = [design_column(data, cluster_name)] if cluster_name in data.columns else None
    design = Design.create(
        weights=weights,
        strata=strata,
        clusters=clusters,
        lonely_psu=settings.get("lonely_psu", "adjust"),
    )
    weighting = settings.get("weighting", {})
    method = weighting.get("method", "none")
    note = ""
    margins_used: tuple[str, ...] = ()
    if method == "rake" and cells:
        margins = []
        for name in weighting.get("margins", ["street", "sex", "age_group"]):
            totals: dict[Hashable, float] = {}
            for (code, sex, age), count in cells.items():
                if code not in present:
                    continue
                key = {"street": code, "sex": sex, "age_group": age}.get(name)
                if key is None:
                    raise EstimateRequestError(
                        Text(N_("unknown weighting margin '%(name)s'"), name=name)
                    )
                totals[key] = totals.get(key, 0.0) + count
            margins.append((design_column(data, name), totals))
            margins_used += (name,)
        try:
            design = rake(design, margins, maxit=50, epsilon=1e-6)
        except EstimationError as exc:
            note = f"raking failed ({exc}); base weights used"
            margins_used = ()
            method = "base"
    elif method == "rake":
        note = "no population counts by sex and age group: base weights only"
        method = "base"
    w = np.asarray(design.weights)
    return design, WeightingReport(
        method=method,
        margins=margins_used,
        kish_deff=float(kish_deff(w)),
        effective_n=float(effective_n(w)),
        note=note,
    )


def design_column(data: WaveData, name: str) -> Categorical | np.ndarray | None:
    """A design variable: coded when every respondent has one (faster to group by)."""
    if name not in data.columns:
        return None
    coded = data.codes.get(name)
    if coded is not None and not (np.asarray(coded.codes) < 0).any():
        return coded
    return data.columns[name]
