"""Database models: localities, users, questionnaires, surveys and waves, responses."""

from .audit import AuditEvent
from .localities import (
    LEVELS,
    LOCALITY_STAMP,
    RESPONSES_STAMP,
    ChangeStamp,
    Locality,
    LocalityPopulation,
    responses_stamp,
)
from .questionnaires import QuestionnaireVersion
from .responses import Answer, Response
from .surveys import Assignment, Survey, Wave
from .users import ROLES, LoginThrottle, User

__all__ = [
    "LEVELS",
    "LOCALITY_STAMP",
    "RESPONSES_STAMP",
    "ROLES",
    "Answer",
    "AuditEvent",
    "ChangeStamp",
    "Assignment",
    "Locality",
    "LocalityPopulation",
    "LoginThrottle",
    "QuestionnaireVersion",
    "Response",
    "Survey",
    "User",
    "Wave",
    "responses_stamp",
]
from . import (
    fieldwork,  # noqa: E402, F401  (API tokens, paradata, reviews, CATI: models/fieldwork.py)
    odk,  # noqa: E402, F401  (ODK Collect / Enketo app credentials: models/odk.py)
    reports,  # noqa: E402, F401  (background jobs of the officials' portal: models/reports.py)
    safety_index,  # noqa: E402, F401  (平安指数 definitions and monthly series)
)
