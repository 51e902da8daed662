"""Fixtures for the fieldwork tests: an enumerator with a token, valid interviews, helpers."""

from __future__ import annotations

import random
import uuid as uuidlib

import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Assignment, Locality, User, Wave

ENUMERATOR_PASSWORD = "enumerator-demo-2026"
SCREENED_OUT = {"resident_6m": "no", "age_16plus": "yes"}


@pytest.fixture
def token(demo, runner):
    """An API token for the demo enumerator, made by the CLI."""
    result = runner.invoke(args=["users", "token", "enumerator", "--label", "tablet 1"])
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[0]


@pytest.fixture
def door(demo):
    """The demo enumerator's first door-to-door assignment: (id, wave id, a grid code)."""
    with demo.app_context():
        user = db.session.scalar(select(User).where(User.username == "enumerator"))
        a = db.session.scalar(
            select(Assignment)
            .where(Assignment.enumerator_id == user.id, Assignment.mode == "door")
            .order_by(Assignment.id)
        )
        grid = a.locality.children[0]
        return {"id": a.id, "wave": a.wave_id, "grid": grid.code, "community": a.locality.code}


def full_answers(app, seed: int = 1) -> dict:
    """A complete, valid set of answers drawn like the demo's synthetic respondents."""
    from surveyapp.services.demo import _Generator

    with app.app_context():
        wave = db.session.scalar(select(Wave).where(Wave.code == "2026-Q4"))
        schema = wave.survey.questionnaire_version.schema
        grid = db.session.scalar(select(Locality).where(Locality.level == "grid"))
        rng = random.Random(seed)
        while True:
            raw = _Generator(schema, rng).respondent(0.0, grid, {})
            if raw.get("resident_6m") == "yes" and raw.get("age_16plus") == "yes":
                break
    return {k: (str(v) if isinstance(v, int) else v) for k, v in raw.items()}


def submission(door: dict, answers: dict | None = None, **extra) -> dict:
    body = {
        "uuid": str(uuidlib.uuid4()),
        "assignment": door["id"],
        "locality": door["grid"],
        "mode": "door",
        "language": "zh_CN",
        "started_at": "2026-11-23T09:30:00+08:00",
        "ended_at": "2026-11-23T09:38:00+08:00",
        "answers": dict(SCREENED_OUT if answers is None else answers),
    }
    body.update(extra)
    return body


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def enumerators_answers(app, wait: float = 10.0) -> list[dict]:
    """The answers of the demo enumerator's stored interviews, once there is one (a tablet
    sends in the background: waits up to ``wait`` seconds)."""
    import time

    from surveyapp.models import Response

    deadline = time.monotonic() + wait
    while True:
        with app.app_context():
            user = db.session.scalar(select(User).where(User.username == "enumerator"))
            rows = db.session.scalars(select(Response).where(Response.enumerator_id == user.id))
            answers = [r.answer_dict() for r in rows]
        if answers or time.monotonic() >= deadline:
            return answers
        time.sleep(0.2)
