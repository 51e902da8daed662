"""Who may supervise which wave's fieldwork: see :func:`surveyapp.policy.may_manage_survey`."""

from __future__ import annotations

from ..policy import may_manage_survey as may_supervise

__all__ = ["may_supervise"]
