"""What a view does with the database besides calling a service: read one record by its id,
and drop the changes of an operation it refused.

Views build no query and hold no session (``tests/web/test_thin_views.py``); lookups by
anything but the primary key, listings and changes are functions of the services.
"""

from __future__ import annotations

from typing import Any, TypeVar

from ..extensions import db

__all__ = ["discard_changes", "get", "reload"]

M = TypeVar("M")


def get(model: type[M], ident: Any) -> M | None:
    """Return the ``model`` record with primary key ``ident``, or None."""
    return db.session.get(model, ident)


def discard_changes() -> None:
    """Roll back the session: an operation was refused (its error is shown) and whatever it
    had changed is not to be stored."""
    db.session.rollback()


def reload(record: Any) -> None:
    """Read ``record`` again from the database (a background job may have changed it)."""
    db.session.refresh(record)
