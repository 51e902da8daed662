"""surveyapp: public-security satisfaction surveys, from fieldwork to weighted estimates
and reports.

``create_app`` (:mod:`surveyapp.app`) builds the web application; ``flask --app surveyapp``
and ``wsgi.py`` find it here. It is loaded on first use, so that importing a pure core
(``surveyapp.questionnaire``, ``surveyapp.estimation``) loads nothing else of the package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module 'surveyapp' has no attribute {name!r}")
