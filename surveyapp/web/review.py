"""Supervisors' review of interviews: the queue with quality flags, approve / reject with a
reason / send back, back-checks (回访); and the enumerator's view of the decisions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import roles_required
from ..fieldwork import review as reviews
from ..fieldwork.cati import local_time
from ..fieldwork.quality import FLAGS, wave_quality
from ..fieldwork.settings import settings_for
from ..models import Response
from ..models.fieldwork import BackCheck
from ..policy import may_manage_survey
from ..services import records
from .access import supervised_wave

bp = Blueprint("review", __name__, url_prefix="/review")
PAGE = 100


def _local(moment, settings) -> str:
    return local_time(moment, settings).strftime("%Y-%m-%d %H:%M") if moment else ""


@bp.route("/waves/<int:wave_id>")
@roles_required("admin", "manager")
def queue(wave_id: int):
    """List a wave's interviews with their flags and review state, flagged ones first."""
    wave = supervised_wave(wave_id)
    state = request.args.get("state", "pending")
    flag = request.args.get("flag", "")
    if state not in ("pending", "approved", "rejected", "sent_back", "all"):
        abort(400, _("Unknown review state '%(state)s'.", state=state[:20]))
    if flag and flag not in FLAGS:
        abort(400, _("Unknown flag '%(flag)s'.", flag=flag[:20]))
    settings = settings_for(wave.survey)
    quality = wave_quality(wave, settings)
    states = reviews.review_states(wave)
    ids = [
        rid
        for rid, q in quality.items()
        if (state == "all" or (states[rid].state if rid in states else "pending") == state)
        and (not flag or flag in q.flags)
    ]
    ids.sort(key=lambda rid: (not quality[rid].flags, -rid))
    page = max(1, request.args.get("page", 1, type=int) or 1)
    shown = ids[(page - 1) * PAGE : page * PAGE]
    responses = reviews.responses_by_id(shown)
    rows = [(responses[rid], quality[rid], states.get(rid)) for rid in shown]
    return render_template(
        "review/queue.html",
        wave=wave,
        rows=rows,
        state=state,
        flag=flag,
        flags=FLAGS,
        total=len(ids),
        page=page,
        pages=(len(ids) - 1) // PAGE + 1,
        local=lambda m: _local(m, settings),
        time_zone=settings.timezone,
    )


def _response_or_abort(response_id: int) -> Response:
    response = records.get(Response, response_id)
    if response is None:
        abort(404)
    if not may_manage_survey(current_user, response.survey):
        abort(403)
    return response


def _detail(response: Response, status: int = 200, error: str | None = None):
    settings = settings_for(response.survey)
    quality = wave_quality(response.wave, settings).get(response.id)
    paradata = reviews.paradata_of(response)
    schema = response.questionnaire_version.schema
    lang = schema.default_language
    answers = response.answer_dict()
    shown = []

    def show(key: str, question, value, prefix: str = "") -> None:
        codes = value if isinstance(value, list) else [value]
        labels = {
            c.code: c.label.get(lang, c.code) if c.label else c.code for c in question.choices
        }
        text = "；".join(str(labels.get(str(c), c)) for c in codes)
        label = question.label.get(lang, question.id) if question.label else question.id
        shown.append((key, prefix + label, text))

    for qid, question in schema.questions_once.items():
        if qid in answers:
            show(qid, question, answers[qid])
    for rid, group in schema.repeats.items():  # a roster: its instances in turn
        instances = answers.get(rid)
        title = group.title.get(lang, rid) if group.title else rid
        for number, instance in enumerate(instances if isinstance(instances, list) else [], 1):
            for question in group.questions:
                if question.id in instance:
                    key = f"{rid}[{number}].{question.id}"
                    show(key, question, instance[question.id], f"{title} {number} · ")
    return render_template(
        "review/response.html",
        response=response,
        quality=quality,
        paradata=paradata,
        answers=shown,
        review=reviews.review_of(response),
        history=reviews.history(response),
        error=error,
        local=lambda m: _local(m, settings),
        time_zone=settings.timezone,
    ), status


@bp.route("/responses/<int:response_id>")
@roles_required("admin", "manager")
def response(response_id: int):
    """Show one interview: answers, paradata, flags, review history and the decision form."""
    return _detail(_response_or_abort(response_id))


@bp.route("/responses/<int:response_id>", methods=["POST"])
@roles_required("admin", "manager")
def decide(response_id: int):
    """Approve, reject (with a reason) or send back (with a reason) an interview."""
    found = _response_or_abort(response_id)
    try:
        reviews.decide(
            found, current_user, request.form.get("action", ""), request.form.get("reason", "")
        )
    except reviews.ReviewError as exc:
        records.discard_changes()
        return _detail(found, exc.status, exc.translated())
    flash(_("Decision recorded."), "info")
    return redirect(url_for("review.queue", wave_id=found.wave_id)), 303


@bp.route("/mine")
@roles_required("enumerator")
def mine():
    """Show the enumerator the supervisor's decisions on their interviews, with reasons."""
    return render_template("review/mine.html", rows=reviews.reviews_for_enumerator(current_user))


# --- back-checks ---------------------------------------------------------------------------


@bp.route("/waves/<int:wave_id>/backchecks")
@roles_required("admin", "manager")
def backchecks(wave_id: int, status: int = 200, error: str | None = None):
    """List the wave's back-checks to do and the discrepancy score of each enumerator."""
    wave = supervised_wave(wave_id)
    settings = settings_for(wave.survey)
    return render_template(
        "review/backchecks.html",
        wave=wave,
        settings=settings,
        pending=reviews.pending_backchecks(wave),
        scores=reviews.backcheck_scores(wave),
        error=error,
    ), status


@bp.route("/waves/<int:wave_id>/backchecks/draw", methods=["POST"])
@roles_required("admin", "manager")
def draw(wave_id: int):
    """Draw the configured share of each enumerator's interviews for back-checks."""
    wave = supervised_wave(wave_id)
    settings = settings_for(wave.survey)
    try:
        seed = int(request.form.get("seed", "").strip())
    except ValueError:
        return backchecks(wave_id, 400, _("The seed must be a whole number."))
    try:
        added = reviews.draw_backchecks(wave, settings.backcheck_share, seed)
    except reviews.ReviewError as exc:
        return backchecks(wave_id, exc.status, exc.translated())
    flash(_("%(n)s interviews drawn for back-checks.", n=added), "info")
    return redirect(url_for("review.backchecks", wave_id=wave.id)), 303


def _check_or_abort(check_id: int) -> BackCheck:
    check = records.get(BackCheck, check_id)
    if check is None:
        abort(404)
    if not may_manage_survey(current_user, check.response.survey):
        abort(403)
    return check


def _check_page(check: BackCheck, status: int = 200, error: str | None = None):
    schema = check.response.questionnaire_version.schema
    lang = schema.default_language
    questions = [schema.questions[q] for q in reviews.backcheck_questions(schema)]
    return render_template(
        "review/backcheck.html", check=check, questions=questions, lang=lang, error=error
    ), status


@bp.route("/backchecks/<int:check_id>", methods=["GET", "POST"])
@roles_required("admin", "manager")
def backcheck(check_id: int):
    """Record a back-check call: was the interview confirmed, and the answers given again."""
    check = _check_or_abort(check_id)
    if request.method == "GET":
        return _check_page(check)
    schema = check.response.questionnaire_version.schema
    answers = {
        q: request.form.get(f"q_{q}", "").strip() for q in reviews.backcheck_questions(schema)
    }
    try:
        reviews.record_backcheck(
            check,
            current_user,
            request.form.get("confirmed") == "yes",
            {q: v for q, v in answers.items() if v},
            request.form.get("notes", "").strip(),
        )
    except reviews.ReviewError as exc:
        records.discard_changes()
        return _check_page(check, exc.status, exc.translated())
    flash(_("Back-check recorded."), "info")
    return redirect(url_for("review.backchecks", wave_id=check.wave_id)), 303
