"""Locality outlines for maps, imported from GeoJSON.

A FeatureCollection whose features carry the locality's code in ``properties.code`` (or
``properties.adcode``, as China's administrative-division GeoJSON files name it) and a Polygon or
MultiPolygon in lon/lat. The whole file is checked before anything is stored: every problem is
listed by feature, and one problem stores nothing.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from ..errors import N_, Text, UserError, Worded
from ..extensions import db
from ..models import Locality
from .audit import record

#: Bounds on what a file may hold: a district's streets need a few hundred kilobytes at most.
MAX_BYTES = 10 * 1024 * 1024
MAX_FEATURES = 5000
MAX_POINTS = 200_000


class BoundaryError(UserError, ValueError):
    """The file cannot be imported; ``problems`` lists every reason, by feature."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems[:5]) + (" …" if len(problems) > 5 else ""))
        self.problems = problems


def _problem(template: str, /, **params: Any) -> Worded:
    """A problem: its English as a ``str``, translated where it is shown (the command line)."""
    return Worded(Text(template, **params))


@dataclass
class BoundaryReport:
    updated: list[str] = field(default_factory=list)


def _check_ring(ring: Any) -> Text | None:
    if not isinstance(ring, list) or len(ring) < 4:
        return Text(N_("a ring needs at least 4 positions (the first repeated at the end)"))
    for p in ring:
        if (
            not isinstance(p, list | tuple)
            or len(p) < 2
            or not all(isinstance(x, int | float) and math.isfinite(x) for x in p[:2])
        ):
            return Text(
                N_("position %(position)s is not [longitude, latitude]"), position=str(p)[:40]
            )
        if not (-180 <= p[0] <= 180 and -90 <= p[1] <= 90):
            return Text(
                N_("position %(position)s is outside longitude/latitude ranges"), position=p[:2]
            )
    return None


def _check_geometry(geometry: Any) -> tuple[Text | None, int]:
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        return Text(N_("the geometry must be a Polygon or a MultiPolygon")), 0
    coords = geometry.get("coordinates")
    polygons = [coords] if geometry["type"] == "Polygon" else coords
    if not isinstance(polygons, list) or not polygons:
        return Text(N_("the geometry has no coordinates")), 0
    points = 0
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            return Text(N_("a polygon has no rings")), points
        for ring in polygon:
            problem = _check_ring(ring)
            if problem:
                return problem, points
            points += len(ring)
    return None, points


def import_boundaries(
    data: bytes, *, source: str = "boundaries.geojson", user=None
) -> BoundaryReport:
    """Store the outline of every locality of the file; raise BoundaryError and store nothing
    if any feature is wrong."""
    if len(data) > MAX_BYTES:
        raise BoundaryError(
            [
                _problem(
                    N_("%(file)s: the file is larger than %(mb)s MB"),
                    file=source,
                    mb=MAX_BYTES // 1024 // 1024,
                )
            ]
        )
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BoundaryError(
            [_problem(N_("%(file)s: not a GeoJSON (JSON) file: %(error)s"), file=source, error=exc)]
        ) from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise BoundaryError(
            [_problem(N_("%(file)s: the file must be a GeoJSON FeatureCollection"), file=source)]
        )
    features = document.get("features")
    if not isinstance(features, list) or not features:
        raise BoundaryError([_problem(N_("%(file)s: the collection has no features"), file=source)])
    if len(features) > MAX_FEATURES:
        raise BoundaryError(
            [_problem(N_("%(file)s: more than %(n)s features"), file=source, n=MAX_FEATURES)]
        )
    problems: list[str] = []
    found: dict[str, dict] = {}
    points = 0
    codes = {loc.code: loc for loc in db.session.scalars(select(Locality))}
    for i, feature in enumerate(features, start=1):
        where: str | Text = Text(N_("%(file)s: feature %(n)s"), file=source, n=i)
        properties = feature.get("properties") if isinstance(feature, dict) else None
        code = None
        if isinstance(properties, dict):
            code = properties.get("code", properties.get("adcode"))
        if code is None:
            problems.append(
                _problem(N_("%(where)s: no properties.code (the locality's code)"), where=where)
            )
            continue
        code = str(code).strip()
        where = Text(N_("%(file)s: feature %(n)s (%(code)s)"), file=source, n=i, code=code)
        if code not in codes:
            problems.append(
                _problem(N_("%(where)s: there is no locality with this code"), where=where)
            )
            continue
        if code in found:
            problems.append(
                _problem(
                    N_("%(where)s: the locality has a second outline in the file"), where=where
                )
            )
            continue
        problem, count = _check_geometry(feature.get("geometry"))
        points += count
        if problem:
            problems.append(_problem(N_("%(where)s: %(message)s"), where=where, message=problem))
            continue
        found[code] = feature["geometry"]
        if points > MAX_POINTS:
            problems.append(
                _problem(
                    N_("%(file)s: more than %(n)s positions: simplify the outlines"),
                    file=source,
                    n=MAX_POINTS,
                )
            )
            break
    if problems:
        raise BoundaryError(problems)
    report = BoundaryReport()
    for code, geometry in found.items():
        codes[code].boundary = {"type": geometry["type"], "coordinates": geometry["coordinates"]}
        report.updated.append(code)
    record("boundaries_imported", source, user=user, localities=len(found))
    db.session.commit()
    return report
