"""Times as users read them: stored in UTC (naive), shown in the survey's time zone.

One rule for every page, export and PDF: a time is converted to the zone of the survey it belongs
to (``FieldworkSettings.timezone``, Asia/Shanghai by default; the deployment's
``SURVEYAPP_TIMEZONE`` where no survey applies) and the zone is named once where the times appear.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from babel.dates import get_timezone_name


def zone_of(zone: str | tzinfo) -> tzinfo:
    """Return ``zone`` as a tzinfo (an IANA name such as ``Asia/Shanghai``, or a tzinfo)."""
    return ZoneInfo(zone) if isinstance(zone, str) else zone


def to_local(moment: datetime, zone: str | tzinfo) -> datetime:
    """Convert a stored time (naive UTC, or aware) to ``zone``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone_of(zone))


def format_local(moment: datetime | None, zone: str | tzinfo, *, seconds: bool = False) -> str:
    """``YYYY-MM-DD HH:MM[:SS]`` in ``zone``; an empty string for no time."""
    if moment is None:
        return ""
    return to_local(moment, zone).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def zone_label(zone: str | tzinfo, locale: str) -> str:
    """The zone as a reader names it, with its IANA name: ``中国时间（Asia/Shanghai）``."""
    tz = zone_of(zone)
    key = getattr(tz, "key", str(tz))
    name = get_timezone_name(tz, locale=locale)
    return f"{name}（{key}）" if locale.startswith("zh") else f"{name} ({key})"
