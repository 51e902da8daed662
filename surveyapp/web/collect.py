"""The enumerator's interview screens: assignments, start, one page per group, review, submit."""

from __future__ import annotations

import uuid as uuidlib
from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..auth import roles_required
from ..extensions import db
from ..fieldwork import interview as flow
from ..fieldwork.assignments import FilingRefused, check_filing
from ..forms import build_group_form
from ..models import Assignment, Locality, Response
from ..questionnaire import clean_answers, translate
from ..services.responses import Submission, SubmissionError, submit_response
from ..services.surveys import counts_by_street
from .answer_messages import answer_error_message

bp = Blueprint("collect", __name__, url_prefix="/collect")


def _assignment_or_404(assignment_id: int) -> Assignment:
    assignment = db.session.get(Assignment, assignment_id)
    # Another enumerator's assignment is as invisible as a missing one.
    if assignment is None or assignment.enumerator_id != current_user.id:
        abort(404)
    return assignment


@bp.route("/")
@roles_required("enumerator")
def index():
    """The enumerator's home is the offline-first interview app, which opens without a network."""
    return redirect(url_for("offline.index"))


@bp.route("/assignments/<int:assignment_id>/start")
@roles_required("enumerator")
def start(assignment_id: int):
    """Interviews run in the offline-first app; a telephone assignment's start from the CATI
    desk, for a case. (Old links and bookmarks of this page lead there.)"""
    assignment = _assignment_or_404(assignment_id)
    if assignment.ended_at is not None:
        abort(403, description=_("This assignment has ended."))
    if assignment.mode == "phone":
        return redirect(url_for("cati.desk"))
    return redirect(url_for("offline.index"))


class _State:
    """What the interview form carries from page to page (there is no server-side draft)."""

    def __init__(self, assignment: Assignment, form):
        self.assignment = assignment
        survey = assignment.wave.survey
        self.schema = assignment.wave.questionnaire_version.schema
        self.uuid = form.get("_uuid", "")
        try:
            self.uuid = str(uuidlib.UUID(self.uuid))
        except ValueError:
            abort(400, description=_("The interview has no valid identifier."))
        languages = {lang.code for lang in self.schema.languages}
        self.lang = form.get("_lang", self.schema.default_language)
        if self.lang not in languages:
            abort(400, description=_("Unknown questionnaire language."))
        self.mode = form.get("_mode", assignment.mode)
        if self.mode not in survey.mode_list:
            abort(400, description=_("Unknown interview mode."))
        code = form.get("_locality", assignment.locality.code)
        self.locality = db.session.scalar(select(Locality).where(Locality.code == code))
        if self.locality is None:
            abort(400, description=_("Unknown locality."))
        try:
            check_filing(assignment, locality=self.locality, mode=self.mode)
        except FilingRefused as exc:
            abort(exc.status, description=_filing_message(assignment, self.mode, exc))
        self.started = form.get("_started") or datetime.utcnow().isoformat(timespec="seconds")
        try:
            self.started_at = datetime.fromisoformat(self.started)
        except ValueError:
            abort(400, description=_("The interview start time is not valid."))
        self.shown = [q for q in form.get("_shown", "").split(",") if q]

    def hidden(self) -> dict[str, str]:
        return {
            "_uuid": self.uuid,
            "_lang": self.lang,
            "_mode": self.mode,
            "_locality": self.locality.code,
            "_started": self.started,
        }


def _filing_message(assignment: Assignment, mode: str, exc: FilingRefused) -> str:
    """The refusal of the assignment rule, in the interface language."""
    if assignment.ended_at is not None:
        return _("This assignment has ended.")
    if assignment.mode == "door" and mode != "door":
        return _(
            "This assignment is door to door: telephone interviews are made from the "
            "telephone desk, for a case of the wave."
        )
    if assignment.mode == "phone":
        return _("Telephone interviews are made from the telephone desk, for a case of the wave.")
    if exc.status == 403:
        return _("This locality is not part of your assignment.")
    return exc.message


def _render_group(
    state: _State, index: int, raw: dict, errors: dict[str, str] | None = None, status: int = 200
):
    schema = state.schema
    group = schema.groups[index]
    form_class = build_group_form(schema, group, state.lang)
    formdata = _formdata(raw)
    form = form_class(formdata=formdata, meta={"csrf": True})
    visible = {q.id for q in flow.visible_questions(schema, group, raw)}
    carried = {
        k: v for k, v in raw.items() if k.split(".", 1)[0] not in {q.id for q in group.questions}
    }
    lang_info = next(lang for lang in schema.languages if lang.code == state.lang)
    position = sum(
        1
        for i in range(index + 1)
        if i == index or flow.visible_questions(schema, schema.groups[i], raw)
    )
    return render_template(
        "collect/interview.html",
        state=state,
        schema=schema,
        group=group,
        index=index,
        position=position,
        total=len(schema.groups),
        form=form,
        visible=visible,
        carried=carried,
        errors=errors or {},
        translate=translate,
        rtl=lang_info.rtl,
        is_first=flow.previous_group(schema, raw, index) is None,
    ), status


def _formdata(raw: dict):
    from werkzeug.datastructures import MultiDict

    items = []
    for key, value in raw.items():
        name = key.replace(".other", "__other") if key.endswith(".other") else key
        if isinstance(value, list):
            items.extend((name, v) for v in value)
        else:
            items.append((name, str(value)))
    return MultiDict(items)


def _error_messages(state: _State, answer_errors) -> dict[str, str]:
    messages: dict[str, str] = {}
    for error in answer_errors:
        messages.setdefault(error.question, answer_error_message(state.schema, error, state.lang))
    return messages


@bp.route("/assignments/<int:assignment_id>/interview", methods=["POST"])
@roles_required("enumerator")
def interview(assignment_id: int):
    """Move through the interview: next, back, review, edit a group, or submit."""
    assignment = _assignment_or_404(assignment_id)
    state = _State(assignment, request.form)
    schema = state.schema
    raw = flow.read_raw_answers(schema, request.form, request.form.getlist)
    nav = request.form.get("nav", "start")

    if nav == "start":
        return _render_group(state, flow.first_group(schema, {}), {})
    if nav == "submit":
        return _submit(state, raw)

    index = flow.group_index(schema, request.form.get("_group", ""))
    if nav.startswith("edit:"):
        target = flow.group_index(schema, nav[5:])
        if target is None:
            abort(400, description=_("Unknown question group."))
        return _render_group(state, target, flow.prune(schema, raw))
    if index is None:
        abort(400, description=_("Unknown question group."))
    raw = flow.prune(schema, raw)
    if nav == "back":
        previous = flow.previous_group(schema, raw, index)
        return _render_group(state, index if previous is None else previous, raw)
    if nav != "next":
        abort(400, description=_("Unknown navigation."))

    group = schema.groups[index]
    visible = flow.visible_questions(schema, group, raw)
    newly_shown = [q for q in visible if q.id not in state.shown and q.id not in raw]
    _cleaned, errors = clean_answers(schema, raw, groups=[group.id])
    errors = [e for e in errors if e.question not in {q.id for q in newly_shown}]
    if errors:
        return _render_group(state, index, raw, _error_messages(state, errors), status=422)
    if newly_shown:
        # Answers on this page opened further questions of the same group: ask them here.
        return _render_group(state, index, raw)
    following = flow.next_group(schema, raw, index)
    if following is None:
        return _render_review(state, raw)
    return _render_group(state, following, raw)


def _render_review(
    state: _State, raw: dict, errors: dict[str, str] | None = None, status: int = 200
):
    schema = state.schema
    rows = []
    for group in schema.groups:
        questions = flow.visible_questions(schema, group, raw)
        if questions:
            rows.append((group, questions))
    listed = {q.id for _, questions in rows for q in questions}
    # Errors of questions the review does not list (e.g. a skipped one that was answered).
    other_errors = [
        (
            translate(schema.questions[qid].label, state.lang)[0]
            if qid in schema.questions
            else qid,
            message,
        )
        for qid, message in (errors or {}).items()
        if qid not in listed
    ]
    return render_template(
        "collect/review.html",
        state=state,
        schema=schema,
        rows=rows,
        other_errors=other_errors,
        raw=raw,
        errors=errors or {},
        translate=translate,
        formdata=_formdata(raw),
    ), status


def _submit(state: _State, raw: dict):
    submission = Submission(
        wave=state.assignment.wave,
        locality=state.locality,
        mode=state.mode,
        language=state.lang,
        uuid=state.uuid,
        answers=raw,
        enumerator=current_user._get_current_object(),
        started_at=state.started_at,
        ended_at=datetime.utcnow(),
    )
    try:
        response, created = submit_response(submission)
    except SubmissionError as exc:
        if exc.answer_errors:
            flash(_("Some answers need attention before the interview can be submitted."), "error")
            return _render_review(
                state, raw, _error_messages(state, exc.answer_errors), status=exc.status
            )
        abort(exc.status, description=exc.message)
    if not created:
        flash(_("This interview had already been submitted; it is stored once."), "info")
    return redirect(
        url_for("collect.done", assignment_id=state.assignment.id, response_uuid=response.uuid)
    )


@bp.route("/assignments/<int:assignment_id>/done/<response_uuid>")
@roles_required("enumerator")
def done(assignment_id: int, response_uuid: str):
    """Confirm a submitted interview and show the street's count for the wave."""
    assignment = _assignment_or_404(assignment_id)
    response = db.session.scalar(select(Response).where(Response.uuid == response_uuid))
    if response is None or response.enumerator_id != current_user.id:
        abort(404)
    counts = counts_by_street(assignment.wave)
    return render_template(
        "collect/done.html", assignment=assignment, response=response, counts=counts
    )
