#!/usr/bin/env python3
"""Write the demo's street boundaries (surveyapp/data/demo-boundaries.geojson).

Plausible, simplified and invented: a Voronoi partition of a polygon shaped roughly like
Nanjing's Gulou district, around one seed point per demo street, rounded to 4 decimals
(about 10 m). Not survey data: only for the demo's map. Run once; the output is committed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.spatial import Voronoi

# The district's outline (lon, lat), counter-clockwise, and one seed per street.
OUTLINE = [
    (118.735, 32.045), (118.795, 32.045), (118.805, 32.075), (118.800, 32.120),
    (118.770, 32.135), (118.735, 32.125), (118.715, 32.095), (118.720, 32.065),
]
SEEDS = {
    "320106001": (118.775, 32.058), "320106002": (118.768, 32.050), "320106003": (118.785, 32.065),
    "320106004": (118.790, 32.090), "320106005": (118.750, 32.075), "320106006": (118.735, 32.060),
    "320106007": (118.738, 32.085), "320106008": (118.755, 32.100), "320106009": (118.742, 32.108),
    "320106010": (118.785, 32.118), "320106011": (118.775, 32.100), "320106012": (118.760, 32.125),
    "320106013": (118.790, 32.105),
}


def clip(polygon: list[tuple[float, float]], a, b) -> list[tuple[float, float]]:
    """Sutherland-Hodgman: keep the part of ``polygon`` left of the edge a -> b."""

    def inside(p):
        return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) >= 0

    def cross(p, q):
        x1, y1, x2, y2 = *p, *q
        x3, y3, x4, y4 = *a, *b
        d = (x1 - x2) * (y3 - y4) - (y1 - y2) * (x3 - x4)
        t = ((x1 - x3) * (y3 - y4) - (y1 - y3) * (x3 - x4)) / d
        return (x1 + t * (x2 - x1), y1 + t * (y2 - y1))

    out = []
    for i, p in enumerate(polygon):
        q = polygon[(i + 1) % len(polygon)]
        if inside(q):
            if not inside(p):
                out.append(cross(p, q))
            out.append(q)
        elif inside(p):
            out.append(cross(p, q))
    return out


def main() -> None:
    codes = list(SEEDS)
    points = np.array([SEEDS[c] for c in codes])
    far = np.array([[118.0, 31.0], [120.0, 31.0], [120.0, 33.0], [118.0, 33.0]])
    vor = Voronoi(np.vstack([points, far]))
    features = []
    for i, code in enumerate(codes):
        region = vor.regions[vor.point_region[i]]
        cell = [tuple(vor.vertices[j]) for j in region]
        centre = points[i]
        cell.sort(key=lambda p: np.arctan2(p[1] - centre[1], p[0] - centre[0]))
        for k in range(len(OUTLINE)):
            cell = clip(cell, OUTLINE[k], OUTLINE[(k + 1) % len(OUTLINE)])
        ring = [[round(x, 4), round(y, 4)] for x, y in cell]
        ring.append(ring[0])
        features.append(
            {
                "type": "Feature",
                "properties": {"code": code},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    out = Path(__file__).resolve().parent.parent / "surveyapp" / "data" / "demo-boundaries.geojson"
    text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    out.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {out} ({len(features)} streets)")


if __name__ == "__main__":
    main()
