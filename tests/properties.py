"""Hypothesis profiles: quick by default (``make check``), thorough in CI.

A property test states how many examples make it convincing, ``max_examples=examples(300)``;
the quick profile runs a fifth of them (at least 10), the thorough one all of them. CI
(``CI=true``) is thorough; ``HYPOTHESIS_PROFILE=thorough`` asks for it anywhere.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or (
    "thorough" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "quick"
)
settings.register_profile(
    "quick", max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(PROFILE)


def examples(thorough: int) -> int:
    """Return ``thorough`` under the thorough profile, a fifth of it (at least 10) otherwise."""
    return thorough if PROFILE == "thorough" else max(10, thorough // 5)
