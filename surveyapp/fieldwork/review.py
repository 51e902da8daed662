"""Supervisors' review of interviews: the queue, approve / reject / send back, and the audit."""

from __future__ import annotations

import math
import random
import uuid as uuidlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.orm import selectinload

from ..errors import N_, Text, UserError
from ..extensions import db
from ..models import Answer, Assignment, Response, User, Wave
from ..models.fieldwork import BackCheck, ResponseParadata, ResponseReview, ReviewEvent
from ..services.responses import (
    REJECTED,
    Submission,
    answer_values,
    check_submission,
    counted_response_filter,
    response_values,
)


def submission_status(user: User, uuid: str) -> dict | None:
    """Return what the server knows of ``user``'s interview ``uuid`` (None if not theirs)."""
    response = db.session.scalar(select(Response).where(Response.uuid == uuid))
    if response is None or response.enumerator_id != user.id:
        return None
    review = db.session.scalar(
        select(ResponseReview).where(ResponseReview.response_id == response.id)
    )
    return {
        "uuid": response.uuid,
        "stored": True,
        "submitted_at": response.submitted_at.isoformat(timespec="seconds") + "Z",
        "review": {
            "state": review.state if review else "pending",
            "reason": review.reason if review else "",
        },
    }


# --- decisions ---------------------------------------------------------------------------

ACTIONS = {"approve": "approved", "reject": "rejected", "send_back": "sent_back"}
MAX_REASON = 1000


class ReviewError(UserError):
    """A review decision is refused; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str | Text, status: int = 400):
        super().__init__(message, status=status)


def responses_by_id(ids: list[int]) -> dict[int, Response]:
    """The responses ``ids`` by id, with their enumerator and street loaded (one query)."""
    if not ids:
        return {}
    return {
        r.id: r
        for r in db.session.scalars(
            select(Response)
            .where(Response.id.in_(ids))
            .options(selectinload(Response.enumerator), selectinload(Response.street))
        )
    }


def paradata_of(response: Response) -> ResponseParadata | None:
    """What the device recorded about the interview (timings, device), if anything."""
    return db.session.scalar(
        select(ResponseParadata).where(ResponseParadata.response_id == response.id)
    )


def review_of(response: Response) -> ResponseReview | None:
    return db.session.scalar(
        select(ResponseReview).where(ResponseReview.response_id == response.id)
    )


def decide(response: Response, reviewer: User, action: str, reason: str = "") -> ResponseReview:
    """Approve, reject (with a reason) or send back (with a reason) a response.

    A rejected response keeps its answers for audit but gets the status ``rejected`` (so it
    drops out of estimates); approving or sending it back later restores it. Every decision
    is kept as a :class:`ReviewEvent`.
    """
    if action not in ACTIONS:
        raise ReviewError(
            Text(
                N_("unknown review action '%(action)s'; use one of %(actions)s"),
                action=action,
                actions=", ".join(ACTIONS),
            )
        )
    reason = (reason or "").strip()
    if action in ("reject", "send_back") and not reason:
        raise ReviewError(Text(N_("give the reason: the enumerator sees it")))
    if len(reason) > MAX_REASON:
        raise ReviewError(Text(N_("the reason is longer than %(max)s characters"), max=MAX_REASON))
    now = datetime.utcnow()
    review = review_of(response)
    if review is None:
        review = ResponseReview(response_id=response.id)
        db.session.add(review)
    review.state = ACTIONS[action]
    review.reason = reason
    review.reviewer_id = reviewer.id
    review.reviewed_at = now
    response.status = REJECTED if action == "reject" else "submitted"
    db.session.add(
        ReviewEvent(
            response_id=response.id, actor_id=reviewer.id, action=action, reason=reason, at=now
        )
    )
    db.session.commit()
    return review


def history(response: Response) -> list[ReviewEvent]:
    return list(
        db.session.scalars(
            select(ReviewEvent)
            .where(ReviewEvent.response_id == response.id)
            .order_by(ReviewEvent.id)
        )
    )


def reviews_for_enumerator(user: User, limit: int = 200) -> list:
    """The enumerator's interviews a supervisor rejected, sent back or approved, newest first."""
    return list(
        db.session.execute(
            select(Response, ResponseReview)
            .join(ResponseReview, ResponseReview.response_id == Response.id)
            .where(Response.enumerator_id == user.id)
            .order_by(ResponseReview.reviewed_at.desc())
            .limit(limit)
        ).all()
    )


def review_states(wave: Wave) -> dict[int, ResponseReview]:
    return {
        r.response_id: r
        for r in db.session.scalars(
            select(ResponseReview)
            .join(Response, Response.id == ResponseReview.response_id)
            .where(Response.wave_id == wave.id)
        )
    }


# --- back-checks (回访) ------------------------------------------------------------------

#: Questions asked again on a back-check call, when the questionnaire has them.
BACKCHECK_QUESTIONS = (
    "resident_6m",
    "sex",
    "age_group",
    "had_dispute",
    "reported_problem",
    "night_patrol_seen",
)


def backcheck_questions(schema) -> list[str]:
    found = [q for q in BACKCHECK_QUESTIONS if q in schema.questions]
    if found:
        return found
    one_code = [
        qid for qid, q in schema.questions_once.items() if q.kind.choices and not q.kind.multiple
    ]
    return one_code[:4]


def draw_backchecks(wave: Wave, share: float, seed: int) -> int:
    """Draw ``share`` of each enumerator's counted interviews (rounded up) for back-checks.

    Interviews drawn before count towards the share; the draw depends only on the wave's
    responses and ``seed``. Return the number of new back-checks.
    """
    if not 0 < share <= 1:
        raise ReviewError(
            Text(N_("the back-check share is between 0 and 1, not %(share)s"), share=share)
        )
    drawn = set(
        db.session.scalars(select(BackCheck.response_id).where(BackCheck.wave_id == wave.id))
    )
    by_enumerator: dict[int, list[int]] = defaultdict(list)
    for rid, enumerator in db.session.execute(
        select(Response.id, Response.enumerator_id)
        .where(
            Response.wave_id == wave.id,
            counted_response_filter(),
            Response.enumerator_id.is_not(None),
        )
        .order_by(Response.id)
    ):
        by_enumerator[enumerator].append(rid)
    rng = random.Random(seed)
    added = 0
    for enumerator in sorted(by_enumerator):
        ids = by_enumerator[enumerator]
        wanted = math.ceil(share * len(ids)) - sum(1 for i in ids if i in drawn)
        pool = [i for i in ids if i not in drawn]
        for rid in rng.sample(pool, max(0, min(wanted, len(pool)))):
            db.session.add(
                BackCheck(response_id=rid, wave_id=wave.id, enumerator_id=enumerator, seed=seed)
            )
            added += 1
    db.session.commit()
    return added


def record_backcheck(
    check: BackCheck, checker: User, confirmed: bool, answers: dict[str, str], notes: str = ""
) -> BackCheck:
    """Store what the respondent said on the verification call and count the mismatches."""
    if check.state == "done":
        raise ReviewError(Text(N_("this back-check is already recorded")), status=409)
    schema = check.response.questionnaire_version.schema
    asked = backcheck_questions(schema)
    unknown = [q for q in answers if q not in asked]
    if unknown:
        raise ReviewError(Text(N_("not a back-check question: %(ids)s"), ids=", ".join(unknown)))
    for qid, code in answers.items():
        codes = {c.code for c in schema.questions[qid].choices}
        if codes and code not in codes:
            raise ReviewError(
                Text(N_("%(id)s: '%(code)s' is not one of the question's codes"), id=qid, code=code)
            )
    if len(notes) > MAX_REASON:
        raise ReviewError(Text(N_("the notes are longer than %(max)s characters"), max=MAX_REASON))
    stored = check.response.answer_dict()
    given = {q: c for q, c in answers.items() if c}
    check.answers = given
    check.confirmed = confirmed
    check.items = len(given)
    check.mismatches = sum(1 for q, c in given.items() if str(stored.get(q, "")) != c)
    check.notes = notes
    check.state = "done"
    check.checked_by_id = checker.id
    check.checked_at = datetime.utcnow()
    db.session.commit()
    return check


@dataclass
class BackCheckScore:
    enumerator: User
    drawn: int = 0
    done: int = 0
    not_confirmed: int = 0
    items: int = 0
    mismatches: int = 0

    @property
    def mismatch_rate(self) -> float | None:
        return self.mismatches / self.items if self.items else None


def backcheck_scores(wave: Wave) -> list[BackCheckScore]:
    """Per enumerator: back-checks drawn and done, interviews not confirmed, answer mismatches."""
    scores: dict[int, BackCheckScore] = {}
    for check in db.session.scalars(select(BackCheck).where(BackCheck.wave_id == wave.id)):
        if check.enumerator is None:
            continue
        s = scores.setdefault(check.enumerator_id, BackCheckScore(check.enumerator))
        s.drawn += 1
        if check.state == "done":
            s.done += 1
            s.not_confirmed += 0 if check.confirmed else 1
            s.items += check.items
            s.mismatches += check.mismatches
    return sorted(scores.values(), key=lambda s: s.enumerator.username)


def pending_backchecks(wave: Wave) -> list[BackCheck]:
    return list(
        db.session.scalars(
            select(BackCheck)
            .where(BackCheck.wave_id == wave.id, BackCheck.state == "pending")
            .order_by(BackCheck.id)
        )
    )


# --- sent back: the enumerator corrects and sends the interview again -----------------------


def sent_back_for(user: User) -> list[dict]:
    """The user's interviews a supervisor sent back, each with the reason and the submission
    to correct (as the sync API takes it: same UUID, assignment, locality, answers)."""
    from .assignments import may_file

    assignments = db.session.scalars(
        select(Assignment).where(Assignment.enumerator_id == user.id)
    ).all()
    out = []
    for response, review in db.session.execute(
        select(Response, ResponseReview)
        .join(ResponseReview, ResponseReview.response_id == Response.id)
        .where(Response.enumerator_id == user.id, ResponseReview.state == "sent_back")
        .order_by(ResponseReview.reviewed_at)
    ).all():
        assignment = next(
            (a for a in assignments if may_file(a, response)),
            None,
        )
        if assignment is None:
            continue  # no longer assigned there: nothing the device could send
        out.append(
            {
                "uuid": response.uuid,
                "reason": review.reason,
                "reviewed_at": review.reviewed_at.isoformat(timespec="seconds") + "Z",
                "questionnaire_version": response.questionnaire_version_id,
                "submission": {
                    k: v
                    for k, v in {
                        "uuid": response.uuid,
                        "assignment": assignment.id,
                        "locality": response.locality.code,
                        "mode": response.mode,
                        "language": response.language,
                        "started_at": _iso(response.started_at),
                        "ended_at": _iso(response.ended_at),
                        "answers": response.answer_dict(),
                    }.items()
                    if v is not None
                },
            }
        )
    return out


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds") + "Z"


def sent_back_responses(user: User, uuids: list[str]) -> dict[str, Response]:
    """Those of ``uuids`` that are the user's responses sent back by a supervisor, by UUID."""
    keys = set()
    for value in uuids:
        try:
            keys.add(str(uuidlib.UUID(value)))
        except (ValueError, AttributeError, TypeError):
            continue
    if not keys:
        return {}
    return {
        r.uuid: r for r in db.session.scalars(_SENT_BACK, {"uuids": list(keys), "user_id": user.id})
    }


# Built once: every submission asks it (building it anew was a part of the sync's CPU time).
_SENT_BACK = (
    select(Response)
    .join(ResponseReview, ResponseReview.response_id == Response.id)
    .where(
        Response.uuid.in_(bindparam("uuids", expanding=True)),
        Response.enumerator_id == bindparam("user_id"),
        ResponseReview.state == "sent_back",
    )
)


#: What a correction replaces of a response (its id, UUID, wave, mode and enumerator stay).
_CORRECTED_COLUMNS = (
    "locality_id",
    "district_id",
    "street_id",
    "community_id",
    "grid_id",
    "language",
    "started_at",
    "ended_at",
    "content_hash",
)


def resubmit(response: Response, sub: Submission, user: User) -> bool:
    """Replace a sent-back interview's answers with the corrected ones; back to ``pending``.

    The corrected submission is checked exactly like a new one; return False (nothing
    changed) when it is identical to what is stored. Raise :class:`SubmissionError` otherwise.
    """
    checked = check_submission(sub)
    if checked.digest == response.content_hash:
        return False
    db.session.execute(delete(Answer).where(Answer.response_id == response.id))
    db.session.execute(
        insert(Answer),
        [{"response_id": response.id, **values} for values in answer_values(checked.cleaned)],
    )
    values = response_values(sub, checked)  # the columns a new response would get
    for key in _CORRECTED_COLUMNS:
        setattr(response, key, values[key])
    response.revised_at = datetime.utcnow()
    review = review_of(response)
    review.state = "pending"
    review.enumerator_note = "corrected after being sent back"
    db.session.add(
        ReviewEvent(
            response_id=response.id,
            actor_id=user.id,
            action="resubmitted",
            reason=review.reason,
            at=datetime.utcnow(),
        )
    )
    db.session.commit()
    return True
