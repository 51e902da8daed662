"""The demo's safety index: the shipped definition and 24 months of plausible series.

Twelve months are shown (the trend); the twelve before them give the same month of last year
for the indicators measured as a change. The values come from per-street levels, a seasonal
swing and Poisson noise, with a fixed seed; one street's fire count of the last month is left
out so the bulletin shows how a missing value is handled.
"""

from __future__ import annotations

import csv
import io
import math
import random
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from ..errors import N_, Text
from ..extensions import db
from ..models import Locality, User
from ..models.safety_index import SafetyIndexDefinition, SafetyIndexValue
from ..safety_index import month_add
from .safety_index import check_upload, import_upload, store_definition

DEFINITION_FILE = Path(__file__).resolve().parents[2] / "questionnaires" / "safety-index.yaml"
#: series -> (kind, level, street spread): kind "rate" is a percentage, "count" a monthly
#: count per 10,000 residents.
SERIES = {
    "mediation_success": ("rate", 98.6, 0.8),
    "homicide_clearance": ("rate", 99.0, 3.0),
    "criminal_punished": ("count", 1.2, 0.35),
    "public_order_punished": ("count", 2.5, 0.35),
    "gang_punished": ("count", 0.15, 0.4),
    "video_coverage": ("rate", 78.0, 10.0),
    "grid_visits": ("rate", 86.0, 6.0),
    "legal_publicity": ("count", 1.4, 0.4),
    "patrol_hours": ("count", 38.0, 0.3),
    "fraud_awareness": ("rate", 80.0, 7.0),
    "disputes_screened": ("count", 3.0, 0.3),
    "robbery_alerts": ("count", 0.12, 0.5),
    "theft_alerts": ("count", 4.5, 0.35),
    "vice_alerts": ("count", 0.8, 0.45),
    "criminal_alerts": ("count", 6.0, 0.3),
    "fraud_alerts": ("count", 2.0, 0.35),
    "civil_cases": ("count", 14.0, 0.3),
    "escalated_disputes": ("count", 0.05, 0.5),
    "petitions": ("count", 0.6, 0.4),
    "fire_accidents": ("count", 0.35, 0.4),
    "traffic_accidents": ("count", 3.0, 0.3),
}


def _poisson(rng: random.Random, mean: float) -> int:
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def demo_series_csv(streets: list[Locality], last_month: str, seed: int = 20261101) -> str:
    """Monthly values of every series for ``streets``, 24 months up to ``last_month``."""
    rng = random.Random(seed)
    months = [month_add(last_month, -k) for k in range(23, -1, -1)]
    units = {}
    from ..safety_index import load_definition

    for ind in load_definition(DEFINITION_FILE).indicators:
        if ind.source.kind == "series":
            units[ind.source.series] = ind.unit
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["street", "month", "series", "value", "unit"])
    for street in streets:
        quality = rng.gauss(0, 1)  # a street that does well tends to do well everywhere
        population = street.population or 50_000
        for series, (kind, level, spread) in SERIES.items():
            own = rng.gauss(0, 1) * 0.6 + quality * 0.4
            for i, month in enumerate(months):
                season = 1 + 0.12 * math.sin(2 * math.pi * (int(month[5:]) - 3) / 12)
                trend = 1 - 0.004 * i  # slowly improving: fewer incidents, more coverage
                if kind == "rate":
                    gap = max(100 - level, 0.3) * math.exp(-own * spread / 4)
                    gap *= (2 - trend) if series == "video_coverage" else 1
                    value = 100 - gap * math.exp(rng.gauss(0, 0.25))
                    if series == "video_coverage":
                        value = min(100.0, value + i * 0.6)
                    value = round(min(max(value, 0.0), 100.0), 1)
                else:
                    good = (
                        1
                        if series
                        in (
                            "criminal_punished",
                            "public_order_punished",
                            "gang_punished",
                            "legal_publicity",
                            "patrol_hours",
                            "disputes_screened",
                        )
                        else -1
                    )
                    rate = level * math.exp(good * own * spread) * (season if good < 0 else 1)
                    rate *= trend if good < 0 else 2 - trend
                    value = _poisson(rng, rate * population / 10_000)
                if series == "fire_accidents" and month == last_month and street is streets[4]:
                    continue  # not reported yet: carried from the month before, and said so
                writer.writerow([street.code, month, series, value, units[series]])
    return buf.getvalue()


def load_demo_index(district: Locality, today: date | None = None) -> Text:
    """Store the shipped definition and the demo series (once); return a line for the report."""
    today = today or date.today()
    clerk = db.session.scalar(select(User).where(User.username == "clerk"))
    if not db.session.scalar(select(func.count(SafetyIndexDefinition.id))):
        store_definition(DEFINITION_FILE.read_text(encoding="utf-8"), DEFINITION_FILE.name)
    streets = [s for s in district.children if s.level == "street"]
    if db.session.scalar(select(func.count(SafetyIndexValue.id))):
        return Text(N_("Safety index: already loaded."))
    last = month_add(f"{today.year:04d}-{today.month:02d}", -1)
    text = demo_series_csv(streets, last)
    preview = check_upload("demo-safety-index.csv", text.encode("utf-8"), clerk)
    if preview.problems:  # the shipped files disagree: a bug, say it loudly
        raise RuntimeError("\n".join(preview.problems[:20]))
    summary = import_upload(preview, clerk)
    return Text(
        N_(
            "Safety index: %(values)s monthly values, %(first)s..%(last)s (surveyapp index "
            "compute --district %(district)s)."
        ),
        values=summary["stored"],
        first=summary["months"][0],
        last=summary["months"][-1],
        district=district.code,
    )
