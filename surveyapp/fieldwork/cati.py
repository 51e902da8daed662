"""Telephone interviewing (CATI): call lists, samples, quotas, the interviewer queue, outcomes.

Telephone numbers exist only in ``cati_case``; they are shown unmasked only to the interviewer
holding an open case, and never written to responses, exports or logs.
"""

from __future__ import annotations

import csv
import io
import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, case, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import N_, Text, UserError
from ..extensions import db
from ..localtime import to_local
from ..models import Answer, Assignment, Locality, Response, User, Wave
from ..models.fieldwork import CallAttempt, CatiCase, Quota
from .dispositions import DISPOSITIONS, closing_code, disposition
from .rates import AaporRates, DispositionCounts, aapor_rates
from .settings import FieldworkSettings, settings_for

MAX_NOTE = 500
_SEPARATORS = re.compile(r"[\s\-().·]")
_MOBILE = re.compile(r"1[3-9]\d{9}\Z")
_LANDLINE = re.compile(r"0[1-9]\d{8,10}\Z")


class CatiError(UserError):
    """A CATI operation is refused; ``status`` is the HTTP status a view should answer with."""

    def __init__(self, message: str | Text, status: int = 400):
        super().__init__(message, status=status)


# --- numbers ---------------------------------------------------------------


def normalise_phone(text: str) -> str | None:
    """Return the digits of a Chinese mobile or landline number, or None if it is not one.

    Spaces, dashes, dots and brackets are ignored, and so is the country code (+86, 0086).
    Mobile numbers have 11 digits starting 13-19; landlines an area code starting 0 and 10-12
    digits in all.
    """
    digits = _SEPARATORS.sub("", str(text or ""))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if _MOBILE.match(digits) or _LANDLINE.match(digits):
        return digits
    return None


def mask_phone(phone: str) -> str:
    """Return ``phone`` with all but its first three and last two digits hidden."""
    phone = str(phone or "")
    if len(phone) <= 5:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 5) + phone[-2:]


# --- call lists and samples -------------------------------------------------------------------


@dataclass
class ListRow:
    row: int
    phone: str
    locality: Locality
    notes: str


@dataclass
class ImportReport:
    """What an import or a sample did; problems are reported by row and block the import."""

    created: int = 0
    already_listed: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    drawn_by_street: dict[str, tuple[int, int]] = field(default_factory=dict)


def _read_list(wave: Wave, text: str, source: str, report: ImportReport) -> list[ListRow]:
    """Read a call list or frame: UTF-8 CSV with the columns phone, locality and notes."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:  # no text column of PostgreSQL can hold it; not a CSV text file anyway
        line = text.count("\n", 0, text.index("\x00")) + 1
        report.problems.append(
            f"{source}:{line}: "
            + _("contains a NUL character (0x00): save the list as a UTF-8 CSV text file")
        )
        return []
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in ("phone", "locality") if c not in header]
    if missing:
        report.problems.append(
            f"{source}:1: "
            + _(
                "the header needs the columns phone, locality (and optionally notes); "
                "missing: %(missing)s",
                missing=", ".join(missing),
            )
        )
        return []
    district = wave.survey.district
    localities: dict[str, Locality | None] = {}
    seen: dict[str, int] = {}
    rows: list[ListRow] = []
    for line, record in enumerate(reader, start=2):
        record = {
            (k or "").strip(): (v or "").strip() if isinstance(v, str) else ""
            for k, v in record.items()
        }
        raw = record.get("phone", "")
        phone = normalise_phone(raw)
        code = record.get("locality", "")
        notes = record.get("notes", "")
        if not raw and not code:
            continue  # a blank line
        if phone is None:
            report.problems.append(
                f"{source}:{line}: "
                + _(
                    "phone '%(phone)s' is not a mobile number (11 digits starting 13-19) or a "
                    "landline with its area code",
                    phone=mask_phone(raw),
                )
            )
            continue
        if phone in seen:
            report.problems.append(
                f"{source}:{line}: "
                + _(
                    "phone %(phone)s is already on row %(row)s",
                    phone=mask_phone(phone),
                    row=seen[phone],
                )
            )
            continue
        seen[phone] = line
        if code not in localities:
            localities[code] = db.session.scalar(select(Locality).where(Locality.code == code))
        locality = localities[code]
        if locality is None:
            report.problems.append(
                f"{source}:{line}: " + _("no locality with code '%(code)s'", code=code)
            )
            continue
        if not locality.is_within(district):
            report.problems.append(
                f"{source}:{line}: "
                + _(
                    "locality %(code)s is outside the survey's district %(district)s",
                    code=code,
                    district=district.code,
                )
            )
            continue
        if locality.level not in ("street", "community", "grid"):
            report.problems.append(
                f"{source}:{line}: "
                + _(
                    "locality %(code)s is not a street, community or grid: give one of those",
                    code=code,
                )
            )
            continue
        if len(notes) > MAX_NOTE:
            report.problems.append(
                f"{source}:{line}: " + _("notes are longer than %(max)s characters", max=MAX_NOTE)
            )
            continue
        rows.append(ListRow(line, phone, locality, notes))
    return rows


def _listed_numbers(wave: Wave) -> set[str]:
    return set(db.session.scalars(select(CatiCase.phone).where(CatiCase.wave_id == wave.id)))


def _store(wave: Wave, rows: Iterable[ListRow], source: str) -> int:
    n = 0
    for r in rows:
        db.session.add(
            CatiCase(
                wave_id=wave.id,
                locality_id=r.locality.id,
                phone=r.phone,
                notes=r.notes,
                source=source,
            )
        )
        n += 1
    db.session.commit()
    return n


def import_call_list(wave: Wave, text: str, source: str = "call list") -> ImportReport:
    """Add a call list to ``wave``; nothing is stored if any row has a problem.

    Numbers already listed for the wave are skipped and reported (an import can be repeated).
    """
    report = ImportReport()
    rows = _read_list(wave, text, source, report)
    if report.problems:
        return report
    listed = _listed_numbers(wave)
    fresh = []
    for r in rows:
        if r.phone in listed:
            report.already_listed.append(r.row)
        else:
            fresh.append(r)
    report.created = _store(wave, fresh, "import")
    return report


def street_of(locality: Locality) -> Locality | None:
    return locality.path_by_level().get("street")


def draw_sample(
    wave: Wave, text: str, per_street: int, seed: int, source: str = "frame"
) -> ImportReport:
    """Draw a simple random sample of ``per_street`` numbers per street from a frame file.

    The frame has the columns of a call list. Numbers already listed for the wave are left out
    of the frame; a street with fewer numbers gives all it has. The draw depends only on the
    frame and ``seed``, so it can be repeated and checked.
    """
    if per_street < 1:
        raise CatiError(Text(N_("the sample size per street must be at least 1")))
    report = ImportReport()
    rows = _read_list(wave, text, source, report)
    if report.problems:
        return report
    listed = _listed_numbers(wave)
    by_street: dict[str, list[ListRow]] = defaultdict(list)
    for r in rows:
        street = street_of(r.locality)
        if r.phone not in listed and street is not None:
            by_street[street.code].append(r)
    rng = random.Random(seed)
    drawn: list[ListRow] = []
    for code in sorted(by_street):
        frame = by_street[code]
        take = rng.sample(frame, min(per_street, len(frame)))
        report.drawn_by_street[code] = (len(frame), len(take))
        drawn.extend(sorted(take, key=lambda r: r.row))
    report.created = _store(wave, drawn, "sample")
    return report


# --- quotas ---------------------------------------------------------------


def set_quota(
    wave: Wave, street_code: str, target: int, sex: str = "", age_group: str = ""
) -> Quota:
    """Create or change the quota of a street (optionally of one sex x age cell)."""
    street = db.session.scalar(select(Locality).where(Locality.code == street_code))
    if street is None or street.level != "street":
        raise CatiError(Text(N_("no street with code '%(code)s'"), code=street_code))
    if not street.is_within(wave.survey.district):
        raise CatiError(
            Text(N_("street %(code)s is outside the survey's district"), code=street_code)
        )
    if target < 0:
        raise CatiError(Text(N_("a quota target is a number of interviews (0 or more)")))
    if sex not in ("", "m", "f"):
        raise CatiError(Text(N_("sex is m or f (or empty for both), not '%(sex)s'"), sex=sex))
    quota = db.session.scalar(
        select(Quota).where(
            Quota.wave_id == wave.id,
            Quota.locality_id == street.id,
            Quota.sex == sex,
            Quota.age_group == age_group,
        )
    )
    if quota is None:
        quota = Quota(wave_id=wave.id, locality_id=street.id, sex=sex, age_group=age_group)
        db.session.add(quota)
    quota.target = target
    db.session.commit()
    return quota


def _answered(question: str, value: str):
    return exists().where(
        Answer.response_id == Response.id, Answer.question == question, Answer.value == value
    )


def quota_progress(wave: Wave) -> list[dict]:
    """Return each quota of ``wave`` with the completed interviews that count towards it."""
    out = []
    quotas = db.session.scalars(
        select(Quota)
        .where(Quota.wave_id == wave.id)
        .order_by(Quota.locality_id, Quota.sex, Quota.age_group)
    ).all()
    for q in quotas:
        query = select(func.count(Response.id)).where(
            Response.wave_id == wave.id,
            Response.street_id == q.locality_id,
            Response.status != "rejected",
        )
        if q.sex:
            query = query.where(_answered("sex", q.sex))
        if q.age_group:
            query = query.where(_answered("age_group", q.age_group))
        achieved = db.session.scalar(query) or 0
        out.append(
            {
                "quota": q,
                "street": q.locality,
                "sex": q.sex,
                "age_group": q.age_group,
                "target": q.target,
                "achieved": achieved,
                "full": q.target > 0 and achieved >= q.target,
            }
        )
    return out


def full_streets(wave: Wave) -> set[int]:
    """Streets whose overall quota is reached: the queue gives out none of their numbers."""
    return {
        row["street"].id
        for row in quota_progress(wave)
        if row["full"] and not row["sex"] and not row["age_group"]
    }


# --- the queue ---------------------------------------------------------------


def local_time(moment: datetime, settings: FieldworkSettings) -> datetime:
    """Convert a naive UTC time to the survey's local time."""
    return to_local(moment, settings.zone)


def in_calling_hours(moment: datetime, settings: FieldworkSettings) -> bool:
    start, end = settings.calling_hours
    return start <= local_time(moment, settings).time() <= end


def time_slot(moment: datetime, settings: FieldworkSettings) -> str:
    """Morning (m), afternoon (a) or evening (e), in local time: retries rotate through them."""
    hour = local_time(moment, settings).hour
    return "m" if hour < 12 else "a" if hour < 17 else "e"


def phone_localities(user: User) -> dict[int, set[int]]:
    """Wave id -> ids of the localities the user's telephone assignments cover (with all below)."""
    out: dict[int, set[int]] = defaultdict(set)
    assignments = db.session.scalars(
        select(Assignment).where(Assignment.enumerator_id == user.id, Assignment.mode == "phone")
    ).all()
    for a in assignments:
        if not a.wave.is_open or a.ended_at is not None:
            continue
        stack = [a.locality]
        while stack:
            node = stack.pop()
            out[a.wave_id].add(node.id)
            stack.extend(node.children)
    return dict(out)


def phone_assignments(user: User) -> list[Assignment]:
    """The user's telephone assignments (ended ones too), in the order they were made."""
    return list(
        db.session.scalars(
            select(Assignment)
            .where(Assignment.enumerator_id == user.id, Assignment.mode == "phone")
            .order_by(Assignment.id)
        )
    )


def recent_cases(user: User, but: CatiCase | None = None, limit: int = 10) -> list[CatiCase]:
    """The cases the user called last (but ``but``, the case they hold), latest call first."""
    return list(
        db.session.scalars(
            select(CatiCase)
            .join(CallAttempt, CallAttempt.case_id == CatiCase.id)
            .where(CallAttempt.interviewer_id == user.id, CatiCase.id != (but.id if but else -1))
            .group_by(CatiCase.id)
            .order_by(func.max(CallAttempt.id).desc())
            .limit(limit)
        )
    )


def case_counts(wave: Wave) -> dict[str, int]:
    """The wave's telephone cases by status."""
    return dict(
        db.session.execute(
            select(CatiCase.status, func.count(CatiCase.id))
            .where(CatiCase.wave_id == wave.id)
            .group_by(CatiCase.status)
        ).all()
    )


def wave_cases(wave: Wave, limit: int | None = None) -> list[CatiCase]:
    """The wave's telephone cases in the order they were loaded (the first ``limit``)."""
    query = select(CatiCase).where(CatiCase.wave_id == wave.id).order_by(CatiCase.id)
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def held_case(user: User) -> CatiCase | None:
    """The open case the interviewer holds, if any (one case at a time)."""
    return db.session.scalar(
        select(CatiCase)
        .where(CatiCase.claimed_by_id == user.id, CatiCase.status == "claimed")
        .limit(1)
    )


def release_stale_claims(now: datetime, minutes: int) -> int:
    """Return cases claimed longer than ``minutes`` ago to the queue."""
    result = db.session.execute(
        update(CatiCase)
        .where(CatiCase.status == "claimed", CatiCase.claimed_at < now - timedelta(minutes=minutes))
        .values(status="available", claimed_by_id=None, claimed_at=None)
    )
    db.session.commit()
    return result.rowcount or 0


class OutsideCallingHours(CatiError):
    pass


def next_case(
    user: User, now: datetime | None = None, settings: FieldworkSettings | None = None
) -> CatiCase | None:
    """Give ``user`` one case to call, or None when nothing is due.

    Order: due appointments, then numbers never called, then retries whose earlier calls were
    at another time of day, then the longest-waiting retries. The claim is one conditional
    UPDATE (``… WHERE status = 'available'``), so two interviewers never get the same case;
    on PostgreSQL the candidate is first locked with ``FOR UPDATE SKIP LOCKED`` so concurrent
    interviewers pick different cases instead of racing for the same one.
    """
    now = now or datetime.utcnow()
    held = held_case(user)
    if held is not None:
        return held
    scope = phone_localities(user)
    if not scope:
        raise CatiError(Text(N_("you have no telephone assignment in an open wave")), status=403)
    settings = settings or settings_for(db.session.get(Wave, next(iter(scope))).survey)
    if not in_calling_hours(now, settings):
        raise OutsideCallingHours(
            Text(
                N_("calls are made between %(hours)s (%(timezone)s)"),
                hours=settings.hours_text(),
                timezone=settings.timezone,
            ),
            status=409,
        )
    release_stale_claims(now, settings.claim_minutes)
    slot = time_slot(now, settings)
    conditions = []
    for wave_id, locality_ids in scope.items():
        full = full_streets(db.session.get(Wave, wave_id))
        allowed = locality_ids - full
        if full:
            allowed = {i for i in allowed if not _below_any(i, full)}
        conditions.append(and_(CatiCase.wave_id == wave_id, CatiCase.locality_id.in_(allowed)))
    due = and_(CatiCase.appointment_at.is_not(None), CatiCase.appointment_at <= now)
    query = (
        select(CatiCase.id)
        .where(
            CatiCase.status == "available",
            or_(*conditions),
            or_(CatiCase.next_call_at.is_(None), CatiCase.next_call_at <= now),
        )
        .order_by(
            case((due, 0), (CatiCase.attempts == 0, 1), else_=2),
            case((CatiCase.tried_slots.contains(slot), 1), else_=0),
            CatiCase.appointment_at,
            CatiCase.last_called_at,
            CatiCase.id,
        )
    )
    postgres = db.engine.dialect.name == "postgresql"
    if postgres:
        # Lock the first case nobody else is looking at; a second interviewer skips it.
        query = query.limit(1).with_for_update(skip_locked=True, of=CatiCase)
    else:
        query = query.limit(20)
    for _round in range(5):
        candidates = db.session.scalars(query).all()
        if not candidates:
            db.session.rollback()
            return None
        if not postgres:
            # SQLite cannot turn a read transaction into a write once another writer has
            # committed: end it, so each claim below is a fresh, serialised write.
            db.session.rollback()
        for case_id in candidates:
            claimed = db.session.execute(
                update(CatiCase)
                .where(CatiCase.id == case_id, CatiCase.status == "available")
                .values(status="claimed", claimed_by_id=user.id, claimed_at=now)
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
            if claimed.rowcount == 1:
                return db.session.get(CatiCase, case_id, populate_existing=True)
    return None


def _below_any(locality_id: int, street_ids: set[int]) -> bool:
    locality = db.session.get(Locality, locality_id)
    return any(loc.id in street_ids for loc in locality.ancestors())


CLIENT_ID = re.compile(r"[0-9a-fA-F-]{8,36}")


def case_for(user: User, case_id: int) -> CatiCase:
    """Return the case ``user`` holds; refuse any other (403) or a missing one (404)."""
    found = db.session.get(CatiCase, case_id)
    if found is None:
        raise CatiError(Text(N_("no case %(id)s"), id=case_id), status=404)
    if found.claimed_by_id != user.id or found.status != "claimed":
        raise CatiError(
            Text(N_("this case is not yours to call (take the next case from the queue)")),
            status=403,
        )
    return found


def _close_or_requeue(
    found: CatiCase,
    code: str,
    final: bool,
    recall: timedelta | None,
    appointment_at: datetime | None,
    now: datetime,
    settings: FieldworkSettings,
) -> dict:
    attempts = found.attempts + 1
    slots = "".join(sorted(set(found.tried_slots) | {time_slot(now, settings)}))
    values: dict = {
        "attempts": attempts,
        "last_code": code,
        "last_called_at": now,
        "tried_slots": slots,
        "claimed_by_id": None,
        "claimed_at": None,
    }
    if final or (attempts >= settings.max_attempts and appointment_at is None):
        if not final:
            code = closing_code([a.code for a in found.attempt_log] + [code])
        values.update(status="closed", closed_at=now, final_code=code, next_call_at=None)
    else:
        next_at = appointment_at or (now + (recall or timedelta(hours=1)))
        values.update(status="available", next_call_at=next_at, appointment_at=appointment_at)
    return values


def record_outcome(
    user: User,
    case_id: int,
    key: str,
    note: str = "",
    appointment_at: datetime | None = None,
    now: datetime | None = None,
    settings: FieldworkSettings | None = None,
    client_id: str | None = None,
) -> CatiCase:
    """Record the outcome of a call of the case ``user`` holds, and requeue or close it.

    ``client_id`` is the desk's own id of the outcome (an outcome recorded offline is sent
    again until the server answers): an outcome already stored under it is not stored twice.
    """
    now = now or datetime.utcnow()
    if client_id:
        if not CLIENT_ID.fullmatch(client_id):
            raise CatiError(_("The outcome's id is not valid: record the outcome again."))
        known = db.session.scalar(select(CallAttempt).where(CallAttempt.client_id == client_id))
        if known is not None:
            if known.interviewer_id != user.id or known.case_id != case_id:
                raise CatiError(_("Another outcome is already stored under this id."), status=409)
            return known.case
    try:
        found = case_for(user, case_id)
    except CatiError as exc:
        if client_id and exc.status == 403:
            # An outcome sent late: the case was released or taken meanwhile.
            raise CatiError(
                _(
                    "Case %(id)s is no longer yours (it went back to the queue): this outcome "
                    "was not recorded.",
                    id=case_id,
                ),
                status=409,
            ) from exc
        raise
    settings = settings or settings_for(found.wave.survey)
    if not key:
        raise CatiError(_("Choose the outcome of this call."))
    try:
        outcome = disposition(key)
    except KeyError as exc:
        raise CatiError(str(exc.args[0])) from exc
    if key == "complete":
        raise CatiError(
            Text(N_("a complete interview is recorded when the questionnaire is submitted"))
        )
    if len(note) > MAX_NOTE:
        raise CatiError(Text(N_("the note is longer than %(max)s characters"), max=MAX_NOTE))
    if outcome.needs_appointment:
        if appointment_at is None:
            raise CatiError(Text(N_("an appointment needs a date and time")))
        if appointment_at <= now:
            raise CatiError(Text(N_("the appointment must be in the future")))
        if appointment_at > now + timedelta(days=60):
            raise CatiError(Text(N_("the appointment is more than 60 days ahead")))
    else:
        appointment_at = None
    values = _close_or_requeue(
        found, outcome.aapor, outcome.final, outcome.recall, appointment_at, now, settings
    )
    changed = db.session.execute(
        update(CatiCase)
        .where(
            CatiCase.id == found.id, CatiCase.status == "claimed", CatiCase.claimed_by_id == user.id
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        db.session.rollback()
        raise CatiError(
            Text(N_("this case went back to the queue meanwhile; take the next case")), status=409
        )
    db.session.add(
        CallAttempt(
            case_id=found.id,
            interviewer_id=user.id,
            called_at=now,
            code=outcome.aapor,
            note=note,
            appointment_at=appointment_at,
            client_id=client_id or None,
        )
    )
    try:
        db.session.commit()
    except IntegrityError:
        # The same outcome sent twice at once: the other request stored it.
        db.session.rollback()
        known = db.session.scalar(select(CallAttempt).where(CallAttempt.client_id == client_id))
        if client_id and known is not None and known.interviewer_id == user.id:
            return known.case
        raise
    return db.session.get(CatiCase, found.id, populate_existing=True)


def cati_item_hook(
    user: User, item: dict, wave: Wave
) -> Callable[[Response], Iterable[object]] | None:
    """Sync API hook: an interview sent with ``cati_case`` completes the case the sender holds.

    Whether the case may be used at all is the assignment rule's to say
    (:func:`surveyapp.fieldwork.assignments.check_filing`, asked before any hook).
    """
    case_id = item.get("cati_case")
    if case_id is None:
        return None
    found = db.session.get(CatiCase, case_id)
    if found is None or found.status != "claimed" or found.claimed_by_id != user.id:
        return None  # already completed by this very interview: a resend stores nothing new
    settings = settings_for(wave.survey)

    def rows(response: Response) -> list[object]:
        now = datetime.utcnow()
        with db.session.no_autoflush:
            values = _close_or_requeue(
                found, DISPOSITIONS["complete"].aapor, True, None, None, now, settings
            )
            for name, value in values.items():
                setattr(found, name, value)
        found.response_uuid = response.uuid
        return [
            CallAttempt(
                case_id=found.id,
                interviewer_id=user.id,
                called_at=now,
                code=DISPOSITIONS["complete"].aapor,
            )
        ]

    return rows


# --- rates ---------------------------------------------------------------


def case_code(found: CatiCase) -> str:
    """The AAPOR code a case counts with now: its final code, or the interim one if open."""
    if found.final_code:
        return found.final_code
    return closing_code(a.code for a in found.attempt_log)


@dataclass
class RatesTable:
    overall: AaporRates
    by_street: list[tuple[Locality, AaporRates]]


def wave_rates(wave: Wave, e: float | None = None) -> RatesTable:
    """AAPOR rates of ``wave``'s telephone cases, overall and per street (open cases interim)."""
    cases = db.session.scalars(select(CatiCase).where(CatiCase.wave_id == wave.id)).all()
    by_street: dict[int, list[str]] = defaultdict(list)
    streets: dict[int, Locality] = {}
    codes = []
    for c in cases:
        code = case_code(c)
        codes.append(code)
        street = street_of(c.locality)
        if street is not None:
            streets[street.id] = street
            by_street[street.id].append(code)
    overall = aapor_rates(DispositionCounts.from_codes(codes), e)
    rows = [
        (streets[sid], aapor_rates(DispositionCounts.from_codes(by_street[sid]), e))
        for sid in sorted(streets, key=lambda i: streets[i].code)
    ]
    return RatesTable(overall, rows)
