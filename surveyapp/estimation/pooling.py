"""A year's quarterly waves pooled into one design, for annual rates per street.

Each wave is an independent sample of the same population, weighted to it. Pooled, the waves
are strata above the waves' own strata (a stratum is wave x street), their PSUs stay nested
in them, and each wave's final weights are divided by the number of waves, so that the
pooled weights estimate the population once and every wave counts equally (the annual rate
is then close to the mean of the quarterly rates). The variance adds up over the waves, as
for independent samples, and the degrees of freedom are the waves' summed.

The calibration of each wave is taken as given (weights fixed): the pooled variance is that
of a stratified cluster design with these weights, as R's
``svydesign(ids = ~psu, strata = ~stratum, weights = ~w, nest = TRUE)`` on the stacked data.

References
----------
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, Wiley, sec. 2.2-2.3.
Kish, L. (1999). Cumulating/combining population surveys. *Survey Methodology* 25, 129-138.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .design import Design
from .types import EstimationError

__all__ = ["PooledWaves", "WavePart", "pool_waves"]


@dataclass(frozen=True)
class WavePart:
    """One wave's rows: final weights, stratum and PSU labels, and values by name."""

    label: str
    weights: Any
    strata: Any
    clusters: Any
    values: dict[str, Any]


@dataclass(frozen=True, eq=False)
class PooledWaves:
    """The stacked rows of several waves and their design."""

    design: Design
    strata: np.ndarray  # "wave|stratum" per row
    clusters: np.ndarray  # "wave|psu" per row
    wave: np.ndarray  # wave label per row
    columns: dict[str, np.ndarray]  # name -> stacked values


def pool_waves(
    parts: Sequence[WavePart], *, equal_share: bool = True, lonely_psu: str = "adjust"
) -> PooledWaves:
    """Stack ``parts`` into one design with the wave as an outer stratum.

    Parameters
    ----------
    parts : sequence of WavePart
        One per wave, each with the same value names.
    equal_share : bool
        Divide each wave's weights by the number of waves (default), so that the pooled
        weights sum to the population once and each wave weighs the same.
    lonely_psu : str
        As :meth:`Design.create`.
    """
    if not parts:
        raise EstimationError("no waves to pool")
    names = set(parts[0].values)
    for p in parts:
        if set(p.values) != names:
            raise EstimationError(f"wave {p.label} has other columns than {parts[0].label}")
    k = len(parts)
    weights, strata, clusters, wave = [], [], [], []
    columns: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for p in parts:
        w = np.asarray(p.weights, dtype=float)
        n = w.shape[0]
        weights.append(w / k if equal_share else w)
        strata.append(np.array([f"{p.label}|{s}" for s in np.asarray(p.strata).tolist()]))
        clusters.append(np.array([f"{p.label}|{c}" for c in np.asarray(p.clusters).tolist()]))
        wave.append(np.full(n, p.label, dtype=object))
        for name in names:
            v = np.asarray(p.values[name])
            if v.shape[0] != n:
                raise EstimationError(
                    f"wave {p.label}: column {name} has {v.shape[0]} rows, not {n}"
                )
            columns[name].append(v)
    s, c = np.concatenate(strata), np.concatenate(clusters)
    design = Design.create(
        weights=np.concatenate(weights), strata=s, clusters=[c], lonely_psu=lonely_psu
    )
    return PooledWaves(
        design=design,
        strata=s,
        clusters=c,
        wave=np.concatenate(wave),
        columns={n: np.concatenate(v) for n, v in columns.items()},
    )
