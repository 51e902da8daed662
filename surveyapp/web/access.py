"""Lookups shared by the supervisors' pages: the object, or 404, or 403 outside one's surveys."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from ..models import Wave
from ..policy import may_manage_wave
from ..services import records


def supervised_wave(wave_id: int) -> Wave:
    """The wave, if the current user supervises its survey; else 404 (none) or 403."""
    wave = records.get(Wave, wave_id)
    if wave is None:
        abort(404)
    if not may_manage_wave(current_user, wave):
        abort(403)
    return wave
