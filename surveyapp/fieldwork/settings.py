"""Fieldwork settings: calling hours, attempts, quality-control thresholds, back-check share.

Defaults here, overridden in turn by ``SURVEYAPP_*`` environment variables, the app's
``FIELDWORK`` configuration (a dict) and a survey's ``settings["fieldwork"]``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import N_, Text, UserError

_HOURS_RE = re.compile(r"\s*([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-4]):([0-5]\d)\s*\Z")


class FieldworkSettingsError(UserError, ValueError):
    """A fieldwork setting has a value that cannot be used; the message names it."""


@dataclass(frozen=True)
class FieldworkSettings:
    #: Local time window in which respondents may be called and interviews are expected.
    calling_hours: tuple[time, time] = (time(9, 0), time(21, 0))
    timezone: str = "Asia/Shanghai"
    #: A telephone case closes after this many attempts without a final outcome.
    max_attempts: int = 6
    #: A claimed case nobody finished returns to the queue after this many minutes.
    claim_minutes: int = 30
    #: The number respondents may call to check that the survey is genuine (anti-fraud).
    verification_hotline: str = "12345"
    #: An interview shorter than this share of the median duration is flagged as speeding.
    speeding_share: float = 0.5
    #: Straight-lining: at least this many answers on one scale, all the same code.
    straightlining_min_items: int = 5
    #: Share of each enumerator's completed interviews drawn for back-checks.
    backcheck_share: float = 0.1
    #: A GPS point farther than this from the median point of its locality is flagged.
    far_from_area_km: float = 3.0

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def hours_text(self) -> str:
        start, end = self.calling_hours
        return f"{start:%H:%M}-{end:%H:%M}"


ENV_NAMES = {
    "calling_hours": "CALLING_HOURS",
    "timezone": "TIMEZONE",
    "max_attempts": "CATI_MAX_ATTEMPTS",
    "claim_minutes": "CATI_CLAIM_MINUTES",
    "verification_hotline": "VERIFICATION_HOTLINE",
    "speeding_share": "SPEEDING_SHARE",
    "straightlining_min_items": "STRAIGHTLINING_MIN_ITEMS",
    "backcheck_share": "BACKCHECK_SHARE",
    "far_from_area_km": "FAR_FROM_AREA_KM",
}


def parse_hours(text: str) -> tuple[time, time]:
    """Parse ``"09:00-21:00"``; raise :class:`FieldworkSettingsError` otherwise."""
    m = _HOURS_RE.match(str(text))
    if not m:
        raise FieldworkSettingsError(
            Text(N_("calling_hours: '%(text)s' is not a time range like 09:00-21:00"), text=text)
        )
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    start = time(h1, m1)
    end = time(23, 59, 59) if h2 == 24 else time(h2, m2)
    if end <= start:
        raise FieldworkSettingsError(
            Text(N_("calling_hours: '%(text)s' ends before it starts"), text=text)
        )
    return start, end


def _convert(name: str, value: Any, current: Any) -> Any:
    if name == "calling_hours":
        return value if isinstance(value, tuple) else parse_hours(value)
    if name == "timezone":
        try:
            ZoneInfo(str(value))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise FieldworkSettingsError(
                Text(N_("timezone: unknown time zone '%(value)s'"), value=value)
            ) from exc
        return str(value)
    if name == "verification_hotline":
        return str(value)
    kind = type(current)
    try:
        number = kind(value)
    except (TypeError, ValueError) as exc:
        raise FieldworkSettingsError(
            Text(N_("%(name)s: '%(value)s' is not a number"), name=name, value=value)
        ) from exc
    if name in ("speeding_share", "backcheck_share") and not 0 <= number <= 1:
        raise FieldworkSettingsError(
            Text(N_("%(name)s: %(value)s is not a share between 0 and 1"), name=name, value=value)
        )
    if number < 0 or (name in ("max_attempts", "claim_minutes") and number < 1):
        raise FieldworkSettingsError(
            Text(N_("%(name)s: %(value)s is too small"), name=name, value=value)
        )
    return number


def merge(base: FieldworkSettings, overrides: Mapping[str, Any] | None) -> FieldworkSettings:
    """Return ``base`` with ``overrides`` (setting name -> value) applied and checked."""
    if not overrides:
        return base
    known = {f.name for f in fields(FieldworkSettings)}
    changes = {}
    for name, value in overrides.items():
        if name not in known:
            raise FieldworkSettingsError(
                Text(
                    N_("unknown fieldwork setting '%(name)s'; known: %(known)s"),
                    name=name,
                    known=", ".join(sorted(known)),
                )
            )
        changes[name] = _convert(name, value, getattr(base, name))
    return replace(base, **changes)


def from_environment(environ: Mapping[str, str] | None = None) -> FieldworkSettings:
    environ = os.environ if environ is None else environ
    overrides = {
        name: environ[f"SURVEYAPP_{env}"]
        for name, env in ENV_NAMES.items()
        if f"SURVEYAPP_{env}" in environ
    }
    return merge(FieldworkSettings(), overrides)


def settings_for(survey=None) -> FieldworkSettings:
    """Return the settings in force for ``survey`` (or the app's, without one)."""
    from flask import current_app

    base = merge(from_environment(), current_app.config.get("FIELDWORK"))
    if survey is not None and isinstance(survey.settings, dict):
        base = merge(base, survey.settings.get("fieldwork"))
    return base
