"""Which survey, wave and questionnaire version an estimate is for.

:func:`find_survey_and_wave` looks a wave up as the command line and the reports name it;
:func:`wave_version` says which questionnaire version its data was collected with (the version
whose indicators are estimated). :class:`EstimateRequestError` is the error of every estimate
request that cannot be answered.
"""

from __future__ import annotations

from ..errors import N_, Text, UserError
from ..extensions import db
from ..models import QuestionnaireVersion, Survey, Wave
from .wave_snapshot import current_state, version_counts

__all__ = ["EstimateRequestError", "find_survey_and_wave", "wave_version"]


class EstimateRequestError(UserError):
    """The request cannot be answered (unknown survey or wave, no data); the message says why."""


def find_survey_and_wave(survey_id: int, wave_code: str | None) -> tuple[Survey, Wave]:
    """The survey ``survey_id`` and its wave ``wave_code`` (default: its latest wave);
    EstimateRequestError naming what is missing."""
    survey = db.session.get(Survey, survey_id)
    if survey is None:
        raise EstimateRequestError(
            Text(N_("no survey with id %(id)s (see `surveyapp surveys list`)"), id=survey_id)
        )
    if not survey.waves:
        raise EstimateRequestError(Text(N_("survey %(id)s has no wave"), id=survey_id))
    if wave_code is None:
        return survey, survey.waves[-1]
    for wave in survey.waves:
        if wave.code == wave_code:
            return survey, wave
    raise EstimateRequestError(
        Text(
            N_("survey %(id)s has no wave '%(wave)s'; its waves: %(waves)s"),
            id=survey_id,
            wave=wave_code,
            waves=", ".join(w.code for w in survey.waves),
        )
    )


def wave_version(survey: Survey, wave: Wave, current: tuple | None = None) -> QuestionnaireVersion:
    """The questionnaire version a wave was collected with.

    That of most of the wave's responses not rejected (the newest on a tie), or the survey's
    version when the wave has none yet. ``current`` is what
    :func:`~surveyapp.services.wave_snapshot.current_state` returns, when the caller already
    asked (estimating a wave needs both: one pass over its responses).
    """
    counts = version_counts((current if current is not None else current_state(wave))[0])
    if not counts:
        return wave.questionnaire_version
    version_id = max(counts, key=lambda v: (counts[v], v))
    if version_id == wave.questionnaire_version_id:
        return wave.questionnaire_version
    return db.session.get(QuestionnaireVersion, version_id)
