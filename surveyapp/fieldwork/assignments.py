"""Managers assign enumerators to localities of a wave (community, grid, or a street/district
for telephone work) with a target number of interviews; progress counts non-rejected ones.

:func:`check_filing` is the one assignment rule: where and how a response may be filed under an
assignment. The web form, the sync API, the CATI desk and review all ask it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..errors import N_, Text, UserError
from ..estimation.samplesize import allocate
from ..extensions import db
from ..models import Assignment, Locality, Response, User, Wave
from ..models.fieldwork import CatiCase
from ..models.surveys import MODES
from ..services.responses import counted_response_filter

MAX_TARGET = 100000
LEVELS = {"door": ("street", "community", "grid"), "phone": ("district", "street", "community")}


class AssignmentError(UserError):
    """The assignment cannot be made as asked; the message names the field."""


class FilingRefused(UserError):
    """A response cannot be filed under an assignment: ``status`` is 403 (not allowed there or
    so) or 400 (the request itself is wrong); the message says why."""

    def __init__(self, message: str | Text, status: int = 403):
        super().__init__(message, status)


def filing_localities(assignment: Assignment) -> list[Locality]:
    """The localities a door-to-door response of ``assignment`` may be filed under: the assigned
    locality and, when the enumerator may choose (``locality_editable``), every locality below
    it. The lowest ones (grids) come first, in tree order, so that forms offer the most precise
    locality by default; the assigned locality and the levels between follow."""
    root = assignment.locality
    if not assignment.locality_editable:
        return [root]
    _load_subtree(root)
    leaves: list[Locality] = []
    inner: list[Locality] = []
    stack = [root]
    while stack:
        node = stack.pop()
        (inner if node.children else leaves).append(node)
        stack.extend(reversed(node.children))
    return leaves + inner


def _load_subtree(root: Locality) -> None:
    """Load every locality below ``root`` in one recursive query and set each one's
    ``children`` and ``parent`` from it, so that walking the tree runs no further query (lazy
    loading took one query per locality: hundreds for a street's assignment)."""
    if "children" not in inspect(root).unloaded:
        return
    below = select(Locality.id).where(Locality.parent_id == root.id).cte(recursive=True)
    below = below.union_all(select(Locality.id).where(Locality.parent_id == below.c.id))
    nodes = db.session.scalars(
        select(Locality).where(Locality.id.in_(select(below.c.id))).order_by(Locality.code)
    ).all()
    by_id = {root.id: root, **{n.id: n for n in nodes}}
    children: dict[int, list[Locality]] = {i: [] for i in by_id}
    for node in nodes:
        children[node.parent_id].append(node)  # type: ignore[index]
    for node_id, node in by_id.items():
        state = inspect(node)
        if "children" in state.unloaded:
            set_committed_value(node, "children", children[node_id])
        if node is not root and "parent" in state.unloaded:
            set_committed_value(node, "parent", by_id[node.parent_id])  # type: ignore[index]


def _may_file_at(assignment: Assignment, locality: Locality) -> bool:
    """Whether ``locality`` is one of :func:`filing_localities`, walking up from it (its
    ancestors are usually loaded already) instead of down the assignment's whole subtree."""
    if locality.id == assignment.locality_id:
        return True
    if not assignment.locality_editable:
        return False
    node = locality.parent
    while node is not None:
        if node.id == assignment.locality_id:
            return True
        node = node.parent
    return False


def check_filing(
    assignment: Assignment,
    *,
    locality: Locality,
    mode: str,
    wave: Wave | None = None,
    case: CatiCase | None = None,
    uuid: str | None = None,
) -> None:
    """Refuse (raise :class:`FilingRefused`) a response that may not be filed under
    ``assignment``; return None when it may.

    - The mode belongs to the assignment: a door-to-door assignment files door-to-door
      interviews only, a telephone assignment telephone interviews only.
    - A door-to-door interview lies in the assignment's locality, or below it when the
      assignment lets the enumerator choose (:func:`filing_localities`); it has no CATI case.
    - A telephone interview is made from the CATI desk for a case of the assignment's wave:
      the case is one the enumerator holds (or the one this very interview, ``uuid``,
      completed), it lies within the assignment's locality, and the response lies within the
      case's locality.
    - The response belongs to the assignment's wave, and the assignment has not ended.
    """
    if wave is not None and wave.id != assignment.wave_id:
        raise FilingRefused(
            Text(
                N_("assignment %(id)s belongs to wave %(wave)s, not %(other)s"),
                id=assignment.id,
                wave=assignment.wave.code,
                other=wave.code,
            ),
            400,
        )
    if mode not in MODES:
        raise FilingRefused(
            Text(N_("mode: '%(mode)s' is not a mode (door or phone)"), mode=mode[:16]), 400
        )
    if assignment.ended_at is not None:
        raise FilingRefused(Text(N_("assignment %(id)s has ended"), id=assignment.id))
    if mode != assignment.mode:
        raise FilingRefused(
            Text(
                N_(
                    "assignment %(id)s is door to door: "
                    "a telephone interview cannot be filed under it"
                ),
                id=assignment.id,
            )
            if assignment.mode == "door"
            else Text(
                N_(
                    "assignment %(id)s is by telephone: "
                    "a door-to-door interview cannot be filed under it"
                ),
                id=assignment.id,
            )
        )
    if mode == "door":
        if case is not None:
            raise FilingRefused(
                Text(N_("a CATI case belongs to a telephone interview, not door to door")), 400
            )
        if not _may_file_at(assignment, locality):
            raise FilingRefused(
                Text(
                    N_("locality %(code)s is not part of assignment %(id)s (%(assigned)s)"),
                    code=locality.code,
                    id=assignment.id,
                    assigned=assignment.locality.code,
                )
            )
        return
    if case is None:
        raise FilingRefused(
            Text(
                N_(
                    "telephone interviews are made from the CATI desk, for a case of the wave "
                    "(send 'cati_case')"
                )
            )
        )
    if case.wave_id != assignment.wave_id:
        raise FilingRefused(Text(N_("case %(id)s belongs to another wave"), id=case.id), 400)
    holds = case.status == "claimed" and case.claimed_by_id == assignment.enumerator_id
    completed_by_this = uuid is not None and case.response_uuid == uuid
    if not (holds or completed_by_this):
        raise FilingRefused(Text(N_("case %(id)s is not an open case of yours"), id=case.id))
    if not case.locality.is_within(assignment.locality):
        raise FilingRefused(
            Text(
                N_("case %(case)s lies outside assignment %(id)s (%(assigned)s)"),
                case=case.id,
                id=assignment.id,
                assigned=assignment.locality.code,
            )
        )
    if not locality.is_within(case.locality) or (
        not assignment.locality_editable and locality.id != case.locality_id
    ):
        raise FilingRefused(
            Text(
                N_("locality %(code)s is not the locality of case %(case)s (%(own)s) or below it"),
                code=locality.code,
                case=case.id,
                own=case.locality.code,
            )
        )


def filing_assignment(
    assignments: list[Assignment],
    *,
    wave: Wave,
    locality: Locality,
    mode: str,
    case: CatiCase | None = None,
    uuid: str | None = None,
) -> Assignment:
    """The first of ``assignments`` in ``wave`` a response may be filed under, or raise the
    refusal of the closest one (same mode first)."""
    candidates = [a for a in assignments if a.wave_id == wave.id]
    if not candidates:
        raise FilingRefused(Text(N_("you have no assignment in wave %(wave)s"), wave=wave.code))
    candidates.sort(key=lambda a: a.mode != mode)
    first_error: FilingRefused | None = None
    for a in candidates:
        try:
            check_filing(a, locality=locality, mode=mode, wave=wave, case=case, uuid=uuid)
        except FilingRefused as exc:
            first_error = first_error or exc
            continue
        return a
    assert first_error is not None
    raise first_error


def may_file(assignment: Assignment, response: Response) -> bool:
    """Whether a stored ``response`` lies where ``assignment`` files responses (its wave, mode
    and localities); telephone responses need only lie within the assignment's locality, since
    their case is closed once they are stored."""
    if response.wave_id != assignment.wave_id or response.mode != assignment.mode:
        return False
    if assignment.mode == "phone":
        return response.locality.is_within(assignment.locality)
    return response.locality_id in {loc.id for loc in filing_localities(assignment)}


def _enumerator(username: str) -> User:
    name = username.strip()
    if not name:
        raise AssignmentError(_("enumerator: choose an enumerator."))
    user = db.session.scalar(select(User).where(User.username == name))
    if user is None or user.role != "enumerator":
        raise AssignmentError(_("enumerator: no enumerator named '%(name)s'.", name=name[:64]))
    if not user.active:
        raise AssignmentError(_("enumerator: '%(name)s' is deactivated.", name=user.username))
    return user


def parse_target(text: str | int) -> int:
    """A target number of interviews, 0 to 100000, from a form field or a CSV cell."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        try:
            value = int(str(text).strip())
        except ValueError:
            raise AssignmentError(
                _("target: '%(value)s' is not a whole number.", value=str(text).strip()[:20])
            ) from None
    if value < 0 or value > MAX_TARGET:
        raise AssignmentError(
            _(
                "target: a number of interviews from 0 to %(max)s, not %(value)s.",
                max=MAX_TARGET,
                value=value,
            )
        )
    return value


def _locality(wave: Wave, code: str, mode: str) -> Locality:
    code = code.strip()
    if not code:
        raise AssignmentError(_("locality: choose a locality."))
    locality = db.session.scalar(select(Locality).where(Locality.code == code))
    if locality is None:
        raise AssignmentError(_("locality: no locality with code '%(code)s'.", code=code[:40]))
    if not locality.is_within(wave.survey.district):
        raise AssignmentError(
            _("locality: %(code)s is outside the survey's district.", code=locality.code)
        )
    if mode in LEVELS and locality.level not in LEVELS[mode]:
        raise AssignmentError(
            _(
                "locality: %(mode)s work is assigned to a %(levels)s, not a %(level)s.",
                mode=mode_text(mode),
                levels=" / ".join(level_text(v) for v in LEVELS[mode]),
                level=level_text(locality.level),
            )
        )
    return locality


def _mode(wave: Wave, mode: str) -> str:
    mode = MODE_ALIASES.get(mode.strip(), mode.strip())
    if mode not in MODES or mode not in wave.survey.mode_list:
        raise AssignmentError(
            _(
                "mode: '%(mode)s' is not a mode of this survey (%(modes)s).",
                mode=mode[:16],
                modes=", ".join(wave.survey.mode_list),
            )
        )
    return mode


def mode_text(mode: str) -> str:
    return {"door": _("door to door"), "phone": _("telephone")}.get(mode, mode)


def level_text(level: str) -> str:
    return {
        "province": _("province"),
        "city": _("city"),
        "district": _("district"),
        "street": _("street"),
        "community": _("community"),
        "grid": _("grid"),
    }.get(level, level)


def _existing(wave: Wave, user: User, locality: Locality) -> Assignment | None:
    return db.session.scalar(
        select(Assignment).where(
            Assignment.wave_id == wave.id,
            Assignment.enumerator_id == user.id,
            Assignment.locality_id == locality.id,
        )
    )


def assign(
    wave: Wave,
    username: str,
    locality_code: str,
    mode: str,
    target: int | str,
    locality_editable: bool = True,
) -> tuple[Assignment, bool]:
    """Create an assignment, or change the target of an existing one; return (it, created).

    Raise :class:`AssignmentError` naming the field when it cannot be made; nothing is stored
    then.
    """
    planned = check_assignment(wave, username, locality_code, mode, target, locality_editable)
    found, created = _store(wave, planned)
    db.session.commit()
    return found, created


@dataclass
class PlannedAssignment:
    """One checked assignment, not stored yet (a form's, or a row of an upload)."""

    enumerator: User
    locality: Locality
    mode: str
    target: int
    locality_editable: bool
    existing: Assignment | None
    row: int = 0
    stored: Assignment | None = None  # once stored


def check_assignment(
    wave: Wave,
    username: str,
    locality_code: str,
    mode: str,
    target: int | str,
    locality_editable: bool = True,
) -> PlannedAssignment:
    """Check one assignment as asked; raise :class:`AssignmentError` naming the field."""
    if wave.state == "closed":  # a planned wave takes assignments before it opens
        raise AssignmentError(_("wave %(code)s is closed.", code=wave.code))
    user = _enumerator(username)
    mode = _mode(wave, mode)
    locality = _locality(wave, locality_code, mode)
    value = parse_target(target)
    found = _existing(wave, user, locality)
    if found is not None and found.mode != mode:
        raise AssignmentError(
            _(
                "mode: %(name)s already has a %(mode)s assignment in %(code)s; end or delete it "
                "first.",
                name=user.username,
                mode=mode_text(found.mode),
                code=locality.code,
            )
        )
    return PlannedAssignment(user, locality, mode, value, locality_editable, found)


def _store(wave: Wave, planned: PlannedAssignment) -> tuple[Assignment, bool]:
    found = planned.existing
    created = found is None
    if found is None:
        found = Assignment(
            wave_id=wave.id, enumerator_id=planned.enumerator.id, locality_id=planned.locality.id
        )
        db.session.add(found)
    found.mode = planned.mode
    found.target = planned.target
    found.locality_editable = planned.locality_editable
    found.ended_at = None
    db.session.flush()
    return found, created


# --- bulk upload ------------------------------------------------------------------------------

#: Column names of an assignment upload, with the Chinese headers accepted for them.
COLUMNS = {
    "enumerator": ("enumerator", "调查员", "用户名"),
    "locality": ("locality", "地区代码", "地区"),
    "mode": ("mode", "方式"),
    "target": ("target", "目标", "目标数"),
    "locality_editable": ("locality_editable", "可选网格"),
}
REQUIRED = ("enumerator", "locality", "mode", "target")
MODE_ALIASES = {"入户": "door", "电话": "phone", "door-to-door": "door", "telephone": "phone"}
YES = {"", "yes", "y", "1", "true", "是"}
NO = {"no", "n", "0", "false", "否"}
MAX_ROWS = 5000


class AssignmentImportError(UserError):
    """An upload has problems: ``problems`` lists every one by row; nothing was stored."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class UploadPreview:
    """What an upload would do: the checked rows, and every problem by row."""

    rows: list[PlannedAssignment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(1 for r in self.rows if r.existing is None)

    @property
    def changed(self) -> int:
        return sum(1 for r in self.rows if r.existing is not None)


def _row_problem(row: int, message: str) -> str:
    return _("row %(row)s: %(message)s", row=row, message=message)


def preview_upload(wave: Wave, text: str) -> UploadPreview:
    """Read an assignment CSV (UTF-8, a header row) and check every row; store nothing.

    Columns: ``enumerator`` (user name), ``locality`` (code), ``mode`` (door or phone),
    ``target``, optionally ``locality_editable`` (yes/no, default yes). The header is row 1.
    """
    out = UploadPreview()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        out.problems.append(_("the file is empty: the first row names the columns."))
        return out
    names = [h.strip().lower() for h in header]
    index: dict[str, int] = {}
    for key, aliases in COLUMNS.items():
        for i, name in enumerate(names):
            if name in aliases:
                index[key] = i
    missing = [k for k in REQUIRED if k not in index]
    if missing:
        out.problems.append(
            _(
                "row 1: missing column(s) %(missing)s; the columns are %(columns)s.",
                missing=", ".join(f"'{c}'" for c in missing),
                columns="'enumerator', 'locality', 'mode', 'target', 'locality_editable'",
            )
        )
        return out
    seen: dict[tuple[int, int], int] = {}
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if number > MAX_ROWS + 1:
                out.problems.append(_("the file has more than %(n)s rows: split it.", n=MAX_ROWS))
                break
            value = {k: (cells[i].strip() if i < len(cells) else "") for k, i in index.items()}
            editable = value.get("locality_editable", "").lower()
            if editable not in YES | NO:
                out.problems.append(
                    _row_problem(
                        number,
                        _(
                            "locality_editable: '%(value)s' is not yes or no.",
                            value=editable[:10],
                        ),
                    )
                )
                continue
            try:
                planned = check_assignment(
                    wave,
                    value["enumerator"],
                    value["locality"],
                    value["mode"],
                    value["target"],
                    editable not in NO,
                )
            except AssignmentError as exc:
                out.problems.append(_row_problem(number, str(exc)))
                continue
            key = (planned.enumerator.id, planned.locality.id)
            if key in seen:
                out.problems.append(
                    _row_problem(
                        number,
                        _(
                            "%(name)s is already assigned to %(code)s in row %(row)s.",
                            name=planned.enumerator.username,
                            code=planned.locality.code,
                            row=seen[key],
                        ),
                    )
                )
                continue
            seen[key] = number
            planned.row = number
            out.rows.append(planned)
    except csv.Error as exc:
        out.problems.append(_("the file is not valid CSV: %(error)s", error=str(exc)))
    if not out.rows and not out.problems:
        out.problems.append(_("the file has no assignments below its header row."))
    return out


def import_assignments(wave: Wave, text: str) -> UploadPreview:
    """Store every assignment of an upload, or none: raise :class:`AssignmentImportError`
    listing every problem by row."""
    preview = preview_upload(wave, text)
    if preview.problems:
        raise AssignmentImportError(preview.problems)
    for planned in preview.rows:
        planned.stored, _created = _store(wave, planned)
    db.session.commit()
    return preview


# --- edit, reassign, end, delete ---------------------------------------------------------------


def edit_assignment(
    assignment: Assignment,
    *,
    target: int | str | None = None,
    username: str | None = None,
    locality_editable: bool | None = None,
) -> Assignment:
    """Change the target, the enumerator (reassign) or the locality rule of an assignment.

    A reassigned assignment keeps its interviews with the enumerator who made them; from now
    on only the new enumerator files under it.
    """
    value = parse_target(target) if target is not None else assignment.target
    user = assignment.enumerator
    if username is not None and username.strip() != user.username:
        user = _enumerator(username)
        clash = _existing(assignment.wave, user, assignment.locality)
        if clash is not None:
            raise AssignmentError(
                _(
                    "enumerator: %(name)s already has an assignment in %(code)s in this wave.",
                    name=user.username,
                    code=assignment.locality.code,
                )
            )
    assignment.target = value
    assignment.enumerator = user
    assignment.enumerator_id = user.id
    if locality_editable is not None:
        assignment.locality_editable = locality_editable
    db.session.commit()
    return assignment


def end_assignment(assignment: Assignment, now: datetime | None = None) -> Assignment:
    """End an assignment: nothing more is filed under it; its interviews stay counted."""
    if assignment.ended_at is None:
        assignment.ended_at = now or datetime.utcnow()
        db.session.commit()
    return assignment


def resume_assignment(assignment: Assignment) -> Assignment:
    """Undo :func:`end_assignment`."""
    assignment.ended_at = None
    db.session.commit()
    return assignment


def filed_responses(assignment: Assignment) -> int:
    """How many responses (any review state) lie where ``assignment`` files them."""
    return (
        db.session.scalar(
            select(func.count(Response.id)).where(
                Response.wave_id == assignment.wave_id,
                Response.enumerator_id == assignment.enumerator_id,
                Response.mode == assignment.mode,
                _level_column(assignment.locality) == assignment.locality_id,
            )
        )
        or 0
    )


def delete_assignment(assignment: Assignment) -> None:
    """Delete an assignment that has no responses; refuse (end it instead) otherwise."""
    n = filed_responses(assignment)
    if n:
        raise AssignmentError(
            _(
                "assignment %(id)s has %(n)s response(s): end it instead of deleting it.",
                id=assignment.id,
                n=n,
            )
        )
    db.session.delete(assignment)
    db.session.commit()


def _level_column(locality: Locality):
    return {
        "district": Response.district_id,
        "street": Response.street_id,
        "community": Response.community_id,
        "grid": Response.grid_id,
    }.get(locality.level, Response.locality_id)


def wave_assignments(wave: Wave) -> list[Assignment]:
    """The wave's assignments with their enumerators and localities (three queries)."""
    return list(
        db.session.scalars(
            select(Assignment)
            .where(Assignment.wave_id == wave.id)
            .options(selectinload(Assignment.enumerator), selectinload(Assignment.locality))
            .order_by(Assignment.enumerator_id, Assignment.id)
        )
    )


def targets_from_plan(wave: Wave, street_targets: dict[int, int]) -> int:
    """Set the targets of ``wave``'s assignments from the plan's targets per street (street id
    -> interviews); return how many assignments were given a target. Nothing is committed.

    A street's target is split over the active assignments that lie in the street (its
    communities and grids, or the street itself), in proportion to their localities'
    populations when all are known, else equally (largest remainders, so the parts add up to
    the street's target). Assignments above the streets (a district by telephone) share the
    targets of the streets that have no assignment of their own. The dashboard then shows the
    street's target (its quota) and each community's (the sum of its assignments').
    """
    active = [a for a in wave_assignments(wave) if a.ended_at is None]
    by_street: dict[int, list[Assignment]] = {}
    above: list[Assignment] = []
    for a in active:
        street = a.locality.path_by_level().get("street")
        if street is None:
            above.append(a)
        else:
            by_street.setdefault(street.id, []).append(a)
    changed = 0
    for street_id, target in street_targets.items():
        members = by_street.get(street_id, [])
        if not members:
            continue
        populations = [a.locality.population for a in members]
        weights = (
            {a.id: p for a, p in zip(members, populations, strict=True)}
            if all(p for p in populations)
            else {a.id: 1 for a in members}
        )
        parts = allocate(int(target), weights)
        for a in members:
            a.target = parts[a.id]
            changed += 1
    if above:
        rest = sum(t for sid, t in street_targets.items() if sid not in by_street)
        parts = allocate(rest, {a.id: 1 for a in above})
        for a in above:
            a.target = parts[a.id]
            changed += 1
    db.session.flush()
    return changed


def enumerators() -> list[User]:
    """Active enumerators, by user name (the lists of the assignment pages)."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == "enumerator", User.active.is_(True))
            .order_by(User.username)
        )
    )


def assignable_localities(wave: Wave) -> list[tuple[Locality, int]]:
    """The survey's district and every locality below it down to the grids, in tree order,
    each with its depth below the district (one query for the whole tree)."""
    district = wave.survey.district
    children: dict[int | None, list[Locality]] = {}
    for loc in db.session.scalars(select(Locality).order_by(Locality.code)):
        children.setdefault(loc.parent_id, []).append(loc)
    out: list[tuple[Locality, int]] = []
    stack = [(district, 0)]
    while stack:
        node, depth = stack.pop()
        out.append((node, depth))
        stack.extend((c, depth + 1) for c in reversed(children.get(node.id, [])))
    return out


def assignment_record(assignment: Assignment, done: int | None = None) -> dict:
    """An assignment as plain data (the commands' JSON)."""
    record = {
        "id": assignment.id,
        "survey": assignment.wave.survey_id,
        "wave": assignment.wave.code,
        "enumerator": assignment.enumerator.username,
        "locality": assignment.locality.code,
        "locality_name": assignment.locality.name_zh,
        "level": assignment.locality.level,
        "mode": assignment.mode,
        "target": assignment.target,
        "locality_editable": assignment.locality_editable,
        "ended_at": (
            assignment.ended_at.isoformat(timespec="seconds") + "Z" if assignment.ended_at else None
        ),
    }
    if done is not None:
        record["completed"] = done
    return record


def progress(wave: Wave) -> list[tuple[Assignment, int]]:
    """Each assignment of ``wave`` with its enumerator's counted interviews within it.

    One grouped count per locality level among the assignments (not one per assignment).
    """
    assignments = wave_assignments(wave)
    by_level: dict[str, tuple[Any, set[int]]] = {}
    for a in assignments:
        column = _level_column(a.locality)
        by_level.setdefault(column.key, (column, set()))[1].add(a.locality_id)
    counts: dict[tuple, int] = {}
    for name, (column, locality_ids) in by_level.items():
        rows = db.session.execute(
            select(Response.enumerator_id, Response.mode, column, func.count(Response.id))
            .where(
                Response.wave_id == wave.id,
                column.in_(locality_ids),
                counted_response_filter(),
            )
            .group_by(Response.enumerator_id, Response.mode, column)
        )
        for enumerator_id, mode, locality_id, count in rows:
            counts[(name, enumerator_id, mode, locality_id)] = count
    return [
        (
            a,
            counts.get((_level_column(a.locality).key, a.enumerator_id, a.mode, a.locality_id), 0),
        )
        for a in assignments
    ]
