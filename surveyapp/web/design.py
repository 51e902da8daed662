"""The questionnaire designer for survey managers: drafts, preview, translations, versions.

Views parse the form, call :mod:`surveyapp.services.design` and render. Drafts belong to the
manager who started them (and admins); published versions are shared and read-only.
"""

from __future__ import annotations

import re
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from .. import policy
from ..auth import roles_required
from ..errors import N_, Text, Worded
from ..models import QuestionnaireVersion, Survey
from ..questionnaire import (
    QUESTION_TYPES,
    QuestionnaireError,
    load_questionnaire_text,
    translate,
    translate_marked,
)
from ..questionnaire.diff import comparable_indicators, diff_questionnaires
from ..questionnaire.export import dump_document
from ..questionnaire.types import KINDS
from ..questionnaire.untrusted import BudgetExceeded, time_budget
from ..services import design, records
from ..services.design import DesignError
from ..services.surveys import all_surveys
from .terms import TERMS

bp = Blueprint("design", __name__, url_prefix="/design")

ROLES = ("admin", "manager")


def _stay(status: int, endpoint: str, **values: Any) -> Response:
    """Show the page the manager stays on, with the problem just flashed, under an error status.

    A redirect carrying a 4xx status is not followed by browsers (they show Werkzeug's English
    "Redirecting..." page), so a refused action renders its page directly instead.
    """
    records.discard_changes()
    response = make_response(current_app.view_functions[endpoint](**values))
    response.status_code = status
    return response


# --- access ---------------------------------------------------------------------------------


def _version_or_404(version_id: int) -> QuestionnaireVersion:
    version = records.get(QuestionnaireVersion, version_id)
    if version is None:
        abort(404)
    if version.status == "draft" and not _may_edit(version):
        abort(403)
    return version


def _may_edit(version: QuestionnaireVersion) -> bool:
    return policy.may_edit_draft(current_user, version)


def _draft_or_error(version_id: int) -> QuestionnaireVersion:
    """Return the draft to change; a published version is refused with 409 (never changed)."""
    version = _version_or_404(version_id)
    if version.status != "draft":
        abort(
            409,
            description=_(
                "Version %(n)s is published and cannot change. Edit it to start a draft of "
                "the next version.",
                n=version.version,
            ),
        )
    return version


# --- pages ----------------------------------------------------------------------------------


@bp.route("/")
@roles_required(*ROLES)
def index():
    """List the questionnaires with their published version and open draft."""
    entries = design.questionnaire_list()
    for entry in entries:
        draft = entry["draft"]
        if draft is not None and not _may_edit(draft):
            entry["draft"] = None
            entry["draft_elsewhere"] = True
    surveys = [survey for survey in all_surveys() if policy.may_see_survey(current_user, survey)]
    return render_template("design/index.html", entries=entries, surveys=surveys)


@bp.post("/new")
@roles_required(*ROLES)
def new():
    """Start a new questionnaire as a draft."""
    slug = request.form.get("slug", "").strip()
    title = {
        "zh_CN": request.form.get("title_zh", "").strip(),
        "en": request.form.get("title_en", "").strip(),
    }
    try:
        draft = design.create_draft(slug, title, current_user)
    except DesignError as error:
        flash(error.translated(), "error")
        return render_template("design/index.html", entries=design.questionnaire_list()), 400
    flash(_("Draft started. Add a group, then questions."), "info")
    return redirect(url_for("design.edit", version_id=draft.id))


@bp.route("/v/<int:version_id>")
@roles_required(*ROLES)
def edit(version_id: int):
    """Show a questionnaire version: its structure, problems and what can be done with it."""
    version = _version_or_404(version_id)
    try:
        doc = design.document(version)
    except DesignError as error:
        flash(error.translated(), "error")
        return redirect(url_for("design.text", version_id=version.id))
    problems = design.draft_problems(version)
    return render_template(
        "design/edit.html",
        version=version,
        doc=doc,
        problems=problems,
        problem_paths=_problem_index(problems),
        languages=design.language_entries(doc),
        may_edit=version.status == "draft" and _may_edit(version),
        untranslated=_untranslated_count(doc),
    )


def _problem_index(problems) -> dict[str, int]:
    counts: dict[str, int] = {}
    for problem in problems:
        match = re.match(
            r"(groups\[\d+\](?:\.questions\[\d+\])?|indicators\[\d+\]|composites\[\d+\])",
            problem.field,
        )
        if match:
            counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    return counts


def _untranslated_count(doc: dict[str, Any]) -> int:
    languages = [entry["code"] for entry in design.language_entries(doc)]
    return sum(
        1
        for _path, text in design.translatable_texts(doc)
        for lang in languages
        if not str(text.get(lang) or "").strip()
    )


@bp.post("/v/<int:version_id>/edit")
@roles_required(*ROLES)
def start_draft(version_id: int):
    """Start (or reopen) the draft of the next version of a published questionnaire."""
    version = _version_or_404(version_id)
    existing = design.draft_of(version.slug)
    if existing is not None and not _may_edit(existing):
        flash(_("Another manager is editing the next version of this questionnaire."), "error")
        return _stay(409, "design.edit", version_id=version.id)
    draft = design.edit_version(version, current_user)
    return redirect(url_for("design.edit", version_id=draft.id))


# --- groups ---------------------------------------------------------------------------------


def _texts(prefix: str, languages: list[str]) -> dict[str, str]:
    return {lang: request.form.get(f"{prefix}-{lang}", "") for lang in languages}


def _apply(version: QuestionnaireVersion, change, success: str) -> str | None:
    """Apply ``change(doc)`` to the draft and save; a DesignError is a 400 naming the field."""
    doc = design.document(version)
    try:
        change(doc)
    except DesignError as error:
        return error.translated()
    problems = design.save_document(version, doc)
    flash(success, "info")
    if problems:
        flash(
            _(
                "The draft has %(n)s problem(s); they are listed on the draft's page.",
                n=len(problems),
            ),
            "warning",
        )
    return None


@bp.route("/v/<int:version_id>/group", methods=["GET", "POST"])
@roles_required(*ROLES)
def group(version_id: int):
    """Add a group of questions (a page), or change its id, title and skip logic."""
    version = _draft_or_error(version_id)
    doc = design.document(version)
    original = request.values.get("gid") or None
    languages = [entry["code"] for entry in design.language_entries(doc)]
    current: dict[str, Any] = {"id": "", "title": {}, "relevant": ""}
    if original:
        try:
            current = design.find_group(doc, original)
        except DesignError:
            abort(404)
    error = None
    if request.method == "POST":
        gid = request.form.get("id", "")
        title = _texts("title", languages)
        relevant = request.form.get("relevant", "")
        form = request.form
        repeat_form = {key: form.get(f"repeat_{key}", "") for key in ("count", "min", "max")}

        def change(d: dict[str, Any]) -> None:
            repeat = design.repeat_entry(
                bool(form.get("repeat")),
                repeat_form["count"],
                repeat_form["min"],
                repeat_form["max"],
            )
            design.set_group(d, original, gid, title, relevant, repeat)

        error = _apply(version, change, _("Group saved."))
        if error is None:
            return redirect(url_for("design.edit", version_id=version.id))
        current = {"id": gid, "title": title, "relevant": relevant}
        if form.get("repeat"):
            current["repeat"] = {k: v for k, v in repeat_form.items() if v} or True
    index = _group_index(doc, original)
    return render_template(
        "design/group.html",
        version=version,
        current=current,
        original=original,
        languages=design.language_entries(doc),
        error=error,
        builder=_builder_questions(doc, before_group=index),
    ), (400 if error else 200)


def _group_index(doc: dict[str, Any], gid: str | None) -> int:
    for index, group in enumerate(doc.get("groups") or []):
        if isinstance(group, dict) and group.get("id") == gid:
            return index
    return len(doc.get("groups") or [])


@bp.post("/v/<int:version_id>/group-action")
@roles_required(*ROLES)
def group_action(version_id: int):
    """Move a group up or down, or delete an empty one."""
    version = _draft_or_error(version_id)
    gid, action = request.form.get("gid", ""), request.form.get("action", "")
    actions = {
        "up": lambda d: design.move_group(d, gid, -1),
        "down": lambda d: design.move_group(d, gid, 1),
        "delete": lambda d: design.delete_group(d, gid),
    }
    if action not in actions:
        abort(404)
    error = _apply(version, actions[action], _("Group updated."))
    if error:
        flash(error, "error")
        return _stay(400, "design.edit", version_id=version.id)
    return redirect(url_for("design.edit", version_id=version.id))


# --- questions ------------------------------------------------------------------------------


def _builder_questions(
    doc: dict[str, Any], before_group: int | None = None, before_question: str | None = None
) -> list[dict[str, Any]]:
    """Questions a condition may use (those asked earlier), with codes, for the pick-lists."""
    items: list[dict[str, Any]] = []
    lists = doc.get("choice_lists") or {}
    for g, group in enumerate(doc.get("groups") or []):
        if not isinstance(group, dict):
            continue
        if before_group is not None and g >= before_group:
            break
        for question in group.get("questions") or []:
            if not isinstance(question, dict):
                continue
            if before_question is not None and question.get("id") == before_question:
                return items
            choices = question.get("choices")
            if isinstance(choices, str):
                choices = lists.get(choices) or []
            codes = []
            kind = KINDS.get(str(question.get("type")))
            if kind is not None and kind.builtin_labels and not choices:
                codes = [
                    {"code": code, "label": f"{labels['zh_CN']} {labels['en']}"}
                    for code, labels in kind.builtin_labels.items()
                ]
            elif isinstance(choices, list):
                for choice in choices:
                    if isinstance(choice, dict):
                        label = choice.get("label")
                        text = translate(label, "zh_CN")[0] if isinstance(label, dict) else ""
                        codes.append({"code": str(choice.get("code")), "label": text})
            label = question.get("label")
            if kind is not None and not kind.stored:
                continue  # a note has no answer a condition could use
            items.append(
                {
                    "id": str(question.get("id")),
                    "type": str(question.get("type")),
                    "multiple": bool(kind and kind.multiple),
                    "ordered": bool(kind and kind.ordered),
                    "numeric": bool(kind and kind.numeric),
                    "label": translate(label, "zh_CN")[0] if isinstance(label, dict) else "",
                    "codes": codes,
                }
            )
    return items


def _int_field(name: str, label: str) -> int | None:
    value = request.form.get(name, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise DesignError(
            Text(N_("%(label)s must be a whole number, not '%(value)s'"), label=label, value=value)
        ) from None


def _question_from_form(languages: list[str]) -> tuple[str, dict[str, Any]]:
    """Return (group id, question) from the question form; raise DesignError for bad input."""
    qtype = request.form.get("type", "")
    if qtype not in QUESTION_TYPES:
        raise DesignError(
            Text(
                N_("choose the question type (one of: %(types)s)"),
                types=", ".join(QUESTION_TYPES),
            )
        )
    question: dict[str, Any] = {
        "id": request.form.get("id", "").strip(),
        "type": qtype,
        "label": {k: v.strip() for k, v in _texts("label", languages).items() if v.strip()},
        "hint": {k: v.strip() for k, v in _texts("hint", languages).items() if v.strip()},
        "relevant": request.form.get("relevant", "").strip(),
        "constraint": request.form.get("constraint", "").strip(),
    }
    kind = KINDS[qtype]
    required_condition = request.form.get("required_condition", "").strip()
    if not (kind.stored and kind.entered):
        pass  # a note or a calculation is never answered: nothing is required
    elif not request.form.get("required"):
        question["required"] = False
    elif required_condition:
        question["required"] = required_condition
    if question["constraint"]:
        message = {
            k: v.strip() for k, v in _texts("constraint_message", languages).items() if v.strip()
        }
        if message:
            question["constraint_message"] = message
    for key in kind.keys:  # the type's own keys, as the registry lists them
        question[key] = _KEY_FIELDS[key](qtype, languages)
    return request.form.get("group", ""), question


def _number_field(name: str, label: str) -> float | None:
    value = request.form.get(name, "").strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise DesignError(
            Text(N_("%(label)s must be a number, not '%(value)s'"), label=label, value=value)
        ) from None
    return int(number) if number.is_integer() else number


def _bound(name: str) -> Any:
    def read(qtype: str, languages: list[str]) -> Any:
        if KINDS[qtype].whole_numbers:
            return _int_field(name, name)
        return _number_field(name, name)

    return read


def _form_choices(qtype: str, languages: list[str]) -> Any:
    named = request.form.get("choice_list", "").strip()
    return named or _choices_from_form(languages)


#: How the question form gives each type-specific key (``QuestionKind.keys``).
_KEY_FIELDS = {
    "min": _bound("min"),
    "max": _bound("max"),
    "max_length": lambda qtype, languages: _int_field("max_length", "max length"),
    "other": lambda qtype, languages: request.form.get("other", "").strip(),
    "choice_filter": lambda qtype, languages: request.form.get("choice_filter", "").strip(),
    "choices": _form_choices,
    "calculation": lambda qtype, languages: request.form.get("calculation", "").strip(),
}


def _keep_choice_properties(previous: dict[str, Any], question: dict[str, Any]) -> None:
    """The form does not show the options' columns a choice filter reads (imported from an
    XLSForm's choices sheet): keep them for the options whose code stays."""
    old = previous.get("choices")
    new = question.get("choices")
    if not isinstance(old, list) or not isinstance(new, list):
        return
    kept = {
        str(choice.get("code")): choice["properties"]
        for choice in old
        if isinstance(choice, dict) and choice.get("properties")
    }
    for choice in new:
        if choice.get("code") in kept:
            choice["properties"] = kept[choice["code"]]


def _choices_from_form(languages: list[str]) -> list[dict[str, Any]]:
    rows = sorted(
        {int(m.group(1)) for key in request.form if (m := re.match(r"choice-(\d+)-code$", key))}
    )
    choices: list[dict[str, Any]] = []
    for row in rows:
        code = request.form.get(f"choice-{row}-code", "").strip()
        label = {
            lang: request.form.get(f"choice-{row}-label-{lang}", "").strip() for lang in languages
        }
        label = {lang: text for lang, text in label.items() if text}
        if not code and not label:
            continue  # an empty row
        if not code:
            raise DesignError(
                Text(N_("answer option %(n)s has a label but no code"), n=len(choices) + 1)
            )
        choice: dict[str, Any] = {"code": code, "label": label}
        if request.form.get(f"choice-{row}-exclusive"):
            choice["exclusive"] = True
        choices.append(choice)
    return choices


@bp.route("/v/<int:version_id>/question", methods=["GET", "POST"])
@roles_required(*ROLES)
def question(version_id: int):
    """Add or change a question: type, texts, answer options, skip logic and checks.

    With ``check=1`` nothing is saved: the answer lists the problems the draft would have.
    """
    version = _draft_or_error(version_id)
    doc = design.document(version)
    languages = [entry["code"] for entry in design.language_entries(doc)]
    original = request.values.get("qid") or None
    group_id = request.values.get("group") or ""
    current: dict[str, Any] = {"id": "", "type": "single", "label": {}, "required": True}
    if original:
        try:
            found_group, index = design.find_question(doc, original)
        except DesignError:
            abort(404)
        current = found_group["questions"][index]
        group_id = str(found_group.get("id"))
    error = None
    after = request.values.get("after") or None
    if request.method == "POST":
        checking = request.args.get("check") == "1"
        try:
            previous = current
            group_id, current = _question_from_form(languages)
            _keep_choice_properties(previous, current)
            design.set_question(doc, group_id, original, current, after=after)
        except DesignError as exc:
            if checking:
                return jsonify({"problems": [exc.translated()], "error": True}), 400
            error = exc.translated()
        else:
            if checking:
                return jsonify(_check_question(version, doc, current["id"]))
            problems = design.save_document(version, doc)
            flash(_("Question saved."), "info")
            if problems:
                flash(
                    _(
                        "The draft has %(n)s problem(s); they are listed on the draft's page.",
                        n=len(problems),
                    ),
                    "warning",
                )
            return redirect(
                url_for("design.edit", version_id=version.id, _anchor=f"q-{current['id']}")
            )
    groups = [g for g in doc.get("groups") or [] if isinstance(g, dict)]
    if not groups:
        flash(_("Add a group first: questions belong to a group (a page)."), "error")
        return redirect(url_for("design.edit", version_id=version.id))
    choices = current.get("choices")
    return render_template(
        "design/question.html",
        version=version,
        current=current,
        original=original,
        group_id=group_id or str(groups[-1].get("id")),
        groups=groups,
        choice_lists=list((doc.get("choice_lists") or {}).keys()),
        named_list=choices if isinstance(choices, str) else "",
        choice_rows=(choices if isinstance(choices, list) else []) + [{}] * 3,
        languages=design.language_entries(doc),
        types=QUESTION_TYPES,
        words=TERMS["qtype"],
        # which types show each part of the form: the types that have its key
        types_with={
            key: " ".join(name for name, kind in KINDS.items() if key in kind.keys)
            for key in ("choices", "min", "max_length", "calculation")
        },
        answered_types=" ".join(n for n, k in KINDS.items() if k.stored and k.entered),
        error=error,
        builder=_builder_questions(doc, before_question=original or "\0"),
        after=after or "",
        first=design.FIRST,
    ), (400 if error else 200)


def _check_question(version: QuestionnaireVersion, doc: dict[str, Any], qid: str) -> dict[str, Any]:
    text = dump_document(doc)
    problems = design.validate_text(text, source=f"{version.slug}.yaml")
    try:
        group, index = design.find_question(doc, qid)
        g = doc["groups"].index(group)
        prefix = f"groups[{g}].questions[{index}]"
    except (DesignError, ValueError):
        prefix = "\0"
    mine = [
        p.as_text().translated()
        for p in problems
        if p.field == prefix or p.field.startswith(prefix + ".")
    ]
    return {"problems": mine, "others": len(problems) - len(mine), "error": False}


@bp.post("/v/<int:version_id>/question-action")
@roles_required(*ROLES)
def question_action(version_id: int):
    """Move a question up or down in its group, or delete it."""
    version = _draft_or_error(version_id)
    qid, action = request.form.get("qid", ""), request.form.get("action", "")
    actions = {
        "up": lambda d: design.move_question(d, qid, -1),
        "down": lambda d: design.move_question(d, qid, 1),
        "delete": lambda d: design.delete_question(d, qid),
    }
    if action not in actions:
        abort(404)
    error = _apply(version, actions[action], _("Question updated."))
    if error:
        flash(error, "error")
        return _stay(400, "design.edit", version_id=version.id)
    return redirect(url_for("design.edit", version_id=version.id))


# --- indicators and composites ---------------------------------------------------------------


def _codes_field(name: str) -> list[str]:
    return [code for code in re.split(r"[\s,，]+", request.form.get(name, "")) if code]


def _result_from_form(kind: str, languages: list[str]) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": request.form.get("id", "").strip(),
        "label": {k: v.strip() for k, v in _texts("label", languages).items() if v.strip()},
        "description": {
            k: v.strip() for k, v in _texts("description", languages).items() if v.strip()
        },
        "question": request.form.get("question", "").strip(),
    }
    if kind == "indicators":
        item["positive"] = _codes_field("positive")
        item["excluded"] = _codes_field("excluded")
        item["base"] = request.form.get("base", "").strip()
        target = request.form.get("target", "").strip()
        if target:
            try:
                item["target"] = float(target)
            except ValueError:
                raise DesignError(
                    Text(N_("target must be a share like 0.9, not '%(value)s'"), value=target)
                ) from None
    else:
        points: dict[str, Any] = {}
        for pair in re.split(r"[\s,，]+", request.form.get("points", "")):
            if not pair:
                continue
            code, sep, value = pair.partition(":")
            try:
                number = float(value)
            except ValueError:
                raise DesignError(
                    Text(
                        N_("points are written code:points, like 1:100 2:80; '%(pair)s' is not"),
                        pair=pair,
                    )
                ) from None
            if not sep or not code:
                raise DesignError(
                    Text(
                        N_("points are written code:points, like 1:100 2:80; '%(pair)s' is not"),
                        pair=pair,
                    )
                )
            points[code] = int(number) if number.is_integer() else number
        item["points"] = points
        item["excluded"] = _codes_field("excluded")
    return item


@bp.route("/v/<int:version_id>/result", methods=["GET", "POST"])
@roles_required(*ROLES)
def result(version_id: int):
    """Add or change an indicator (a rate) or a composite score (points per code)."""
    kind = request.values.get("kind", "indicators")
    if kind not in ("indicators", "composites"):
        abort(404)
    version = _draft_or_error(version_id)
    doc = design.document(version)
    languages = [entry["code"] for entry in design.language_entries(doc)]
    original = request.values.get("rid") or None
    current: dict[str, Any] = {"id": "", "label": {}}
    if original:
        found = [e for e in doc.get(kind) or [] if isinstance(e, dict) and e.get("id") == original]
        if not found:
            abort(404)
        current = found[0]
    error = None
    if request.method == "POST":
        try:
            current = _result_from_form(kind, languages)
        except DesignError as exc:
            error = exc.translated()
        else:
            item = current
            error = _apply(
                version,
                lambda d: design.set_result(d, kind, original, item),
                _("Indicator saved.") if kind == "indicators" else _("Composite saved."),
            )
            if error is None:
                return redirect(url_for("design.edit", version_id=version.id, _anchor=kind))
    return render_template(
        "design/result.html",
        version=version,
        kind=kind,
        current=current,
        original=original,
        languages=design.language_entries(doc),
        error=error,
        builder=_builder_questions(doc),
    ), (400 if error else 200)


@bp.post("/v/<int:version_id>/result-delete")
@roles_required(*ROLES)
def result_delete(version_id: int):
    """Delete an indicator or a composite."""
    kind, rid = request.form.get("kind", ""), request.form.get("rid", "")
    if kind not in ("indicators", "composites"):
        abort(404)
    version = _draft_or_error(version_id)
    error = _apply(version, lambda d: design.delete_result(d, kind, rid), _("Deleted."))
    if error:
        flash(error, "error")
        return _stay(400, "design.edit", version_id=version.id)
    return redirect(url_for("design.edit", version_id=version.id, _anchor=kind))


# --- translations and languages ----------------------------------------------------------------


@bp.route("/v/<int:version_id>/translations", methods=["GET", "POST"])
@roles_required(*ROLES)
def translations(version_id: int):
    """Show every text side by side in every language, untranslated ones highlighted."""
    version = _version_or_404(version_id)
    doc = design.document(version)
    languages = design.language_entries(doc)
    if request.method == "POST":
        version = _draft_or_error(version_id)
        values: dict[tuple[str, str], str] = {}
        for key, value in request.form.items():
            if key.startswith("t|"):
                _prefix, path, lang = key.split("|", 2)
                values[(path, lang)] = value
        try:
            changed = design.set_translations(doc, values)
        except DesignError as error:
            flash(error.translated(), "error")
            return _stay(400, "design.translations", version_id=version.id)
        design.save_document(version, doc)
        flash(_("%(n)s text(s) changed.", n=changed), "info")
        return redirect(url_for("design.translations", version_id=version.id))
    rows = [
        (path, _describe_path(doc, path), text) for path, text in design.translatable_texts(doc)
    ]
    return render_template(
        "design/translations.html",
        version=version,
        rows=rows,
        languages=languages,
        may_edit=version.status == "draft" and _may_edit(version),
    )


def _describe_path(doc: dict[str, Any], path: str) -> str:
    """Name a text for people: "question safety · label" rather than groups[1].questions[0]."""
    listed = re.match(r"choice_lists\.(\w+)\[(\d+)\]\.label$", path)
    if listed:
        try:
            code = doc["choice_lists"][listed.group(1)][int(listed.group(2))].get("code")
        except (KeyError, IndexError, TypeError, AttributeError):
            return path
        return f"{_('list')} {listed.group(1)} · {_('option')} {code}"
    match = re.match(
        r"groups\[(\d+)\](?:\.questions\[(\d+)\])?(?:\.choices\[(\d+)\])?\.(\w+)$", path
    )
    if not match:
        return path
    try:
        group = doc["groups"][int(match.group(1))]
        if match.group(2) is None:
            return f"{_('group')} {group.get('id')} · {match.group(4)}"
        question = group["questions"][int(match.group(2))]
        if match.group(3) is None:
            return f"{_('question')} {question.get('id')} · {match.group(4)}"
        choice = question["choices"][int(match.group(3))]
        return f"{_('question')} {question.get('id')} · {_('option')} {choice.get('code')}"
    except (KeyError, IndexError, TypeError):
        return path


@bp.post("/v/<int:version_id>/languages")
@roles_required(*ROLES)
def languages(version_id: int):
    """Declare a further language (for example Uyghur, written right to left)."""
    version = _draft_or_error(version_id)
    code = request.form.get("code", "")
    name = request.form.get("name", "")
    rtl = bool(request.form.get("rtl"))
    error = _apply(version, lambda d: design.add_language(d, code, name, rtl), _("Language added."))
    if error:
        flash(error, "error")
        return _stay(400, "design.translations", version_id=version.id)
    return redirect(url_for("design.translations", version_id=version.id))


# --- text mode ------------------------------------------------------------------------------


@bp.route("/v/<int:version_id>/text", methods=["GET", "POST"])
@roles_required(*ROLES)
def text(version_id: int):
    """Edit the questionnaire file itself (for experts); the check runs as you type."""
    version = _version_or_404(version_id)
    problems = design.draft_problems(version)
    source = version.source_text
    error = None
    if request.method == "POST":
        version = _draft_or_error(version_id)
        source = request.form.get("source", "")
        try:
            problems = design.save_text(version, source)
        except DesignError as exc:
            error = exc.translated()
        else:
            flash(_("Text saved."), "info")
            return redirect(url_for("design.text", version_id=version.id))
    return render_template(
        "design/text.html",
        version=version,
        source=source,
        problems=problems,
        error=error,
        may_edit=version.status == "draft" and _may_edit(version),
    ), (400 if error else 200)


@bp.post("/v/<int:version_id>/check")
@roles_required(*ROLES)
def check(version_id: int):
    """Return the problems of a text as JSON, with the messages of ``questionnaire validate``."""
    version = _version_or_404(version_id)
    source = request.form.get("source", "")
    try:
        with time_budget(current_app.config["UPLOAD_TIME_BUDGET"]):
            problems = design.validate_text(source, source=f"{version.slug}.yaml")
    except BudgetExceeded as exc:
        return jsonify({"problems": [_too_slow(exc)]}), 422
    return jsonify({"problems": [problem.as_text().translated() for problem in problems]})


#: Flashed messages travel in the session cookie (browsers drop cookies over 4 KB): an import
#: shows its first problems, each cut short, and how many more there are.
FLASHED_PROBLEMS = 10
FLASHED_LENGTH = 200


def _flash_problems(problems: list) -> None:
    for problem in problems[:FLASHED_PROBLEMS]:
        text = problem.as_text().translated()
        flash(text if len(text) <= FLASHED_LENGTH else text[: FLASHED_LENGTH - 1] + "…", "error")
    if len(problems) > FLASHED_PROBLEMS:
        flash(
            _(
                "%(n)s more problems not shown: fix these first, or check the file with "
                "`surveyapp questionnaire validate`.",
                n=len(problems) - FLASHED_PROBLEMS,
            ),
            "error",
        )


def _too_slow(exc: BudgetExceeded) -> str:
    return _(
        "Checking this file took more than %(n)s s and was stopped: it is too complex for a "
        "questionnaire.",
        n=f"{exc.seconds:g}",
    )


# --- preview --------------------------------------------------------------------------------


def _preview_translate(default: str):
    return lambda text, lang: translate_marked(text, lang, default, design.UNTRANSLATED)


@bp.route("/v/<int:version_id>/preview")
@roles_required(*ROLES)
def preview(version_id: int):
    """Show the questionnaire as an enumerator's tablet does, in any of its languages."""
    version = _version_or_404(version_id)
    doc = design.document(version)
    # Missing translations are filled with a marker, so a draft being translated can be
    # previewed: the default-language text is shown in their place, marked.
    preview_doc = design.preview_document(doc, design.UNTRANSLATED)
    try:
        schema = load_questionnaire_text(dump_document(preview_doc), source=f"{version.slug}.yaml")
    except QuestionnaireError as error:
        return render_template(
            "design/preview.html", version=version, schema=None, problems=error.problems
        ), 200
    codes = [language.code for language in schema.languages]
    # Not "lang": that query parameter switches the interface language (surveyapp.i18n).
    lang = request.args.get("language") or codes[0]
    if lang not in codes:
        abort(404)
    language = schema.language(lang)
    lookup = _preview_translate(schema.default_language)
    return render_template(
        "design/preview.html",
        version=version,
        schema=schema,
        problems=[],
        lang=lang,
        rtl=language.rtl,
        tr=lookup,
        yesno=_yesno_labels(),
        repeat_notes=_repeat_notes(schema, lang, lookup),
    )


def _repeat_notes(schema: Any, lang: str, lookup: Any) -> dict[str, str]:
    """What the preview says under each repeat group (it shows one instance): how many the
    interview asks, by the count question's label or the count's expression, or the bounds."""
    notes: dict[str, str] = {}
    for group in schema.groups:
        repeat = group.repeat
        if repeat is None:
            continue
        if repeat.count is not None:
            source = repeat.count.source.strip()
            match = re.fullmatch(r"\$\{(\w+)\}", source)
            if match and match.group(1) in schema.questions:
                source = lookup(schema.questions[match.group(1)].label, lang)[0]
            notes[group.id] = _(
                "Repeated: once for each of “%(count)s”. The preview shows one.", count=source
            )
        elif repeat.minimum is not None and repeat.maximum is not None:
            notes[group.id] = _(
                "Repeated as many times as the interviewer adds, from %(min)s to %(max)s."
                " The preview shows one.",
                min=repeat.minimum,
                max=repeat.maximum,
            )
        elif repeat.minimum is not None:
            notes[group.id] = _(
                "Repeated as many times as the interviewer adds, at least %(min)s."
                " The preview shows one.",
                min=repeat.minimum,
            )
        elif repeat.maximum is not None:
            notes[group.id] = _(
                "Repeated as many times as the interviewer adds, at most %(max)s."
                " The preview shows one.",
                max=repeat.maximum,
            )
        else:
            notes[group.id] = _(
                "Repeated as many times as the interviewer adds. The preview shows one."
            )
    return notes


def _yesno_labels():
    from ..questionnaire.model import YESNO_LABELS

    return YESNO_LABELS


# --- versions -------------------------------------------------------------------------------


@bp.route("/versions")
@roles_required(*ROLES)
def versions():
    """List the versions of a questionnaire, newest first, with their state."""
    slug = request.args.get("slug", "")
    rows = design.versions_of(slug)
    if not rows:
        abort(404)
    rows = [row for row in rows if row.status == "published" or _may_edit(row)]
    return render_template("design/versions.html", slug=slug, rows=rows)


@bp.route("/diff")
@roles_required(*ROLES)
def diff():
    """Show what changed between two versions, and which indicators stay comparable."""
    try:
        old = _version_or_404(int(request.args.get("old", "")))
        new = _version_or_404(int(request.args.get("new", "")))
    except ValueError:
        abort(400, description=_("Choose two versions to compare."))
    problems = []
    try:
        old_schema = load_questionnaire_text(old.source_text, source=f"{old.slug}@v{old.version}")
        new_schema = load_questionnaire_text(new.source_text, source=f"{new.slug}@v{new.version}")
    except QuestionnaireError as error:
        problems = error.problems
        changes, comparable = [], {}
    else:
        changes = diff_questionnaires(old_schema, new_schema)
        comparable = comparable_indicators(old_schema, new_schema)
    return render_template(
        "design/diff.html",
        old=old,
        new=new,
        changes=changes,
        comparable=comparable,
        problems=problems,
    )


@bp.post("/v/<int:version_id>/publish")
@roles_required(*ROLES)
def publish(version_id: int):
    """Publish a draft: it is frozen from now on and can be used by surveys."""
    version = _draft_or_error(version_id)
    try:
        design.publish(version, current_user)
    except DesignError as error:
        flash(error.translated(), "error")
        return _stay(409, "design.edit", version_id=version.id)
    flash(_("Version %(n)s is published.", n=version.version), "info")
    return redirect(url_for("design.edit", version_id=version.id))


@bp.post("/v/<int:version_id>/delete")
@roles_required(*ROLES)
def delete(version_id: int):
    """Delete a draft (published versions cannot be deleted)."""
    version = _draft_or_error(version_id)
    slug = version.slug
    design.delete_draft(version)
    flash(_("Draft deleted."), "info")
    remaining = design.versions_of(slug)
    if remaining:
        return redirect(url_for("design.versions", slug=slug))
    return redirect(url_for("design.index"))


@bp.route("/v/<int:version_id>/export.<fmt>")
@roles_required(*ROLES)
def export(version_id: int, fmt: str):
    """Download a version as its YAML file or as an XLSForm."""
    version = _version_or_404(version_id)
    name = f"{version.slug}-v{version.version}"
    if fmt == "yaml":
        return Response(
            version.source_text,
            mimetype="application/yaml",
            headers={"Content-Disposition": f'attachment; filename="{name}.yaml"'},
        )
    if fmt == "xlsx":
        from ..questionnaire.xlsform import to_xlsform

        try:
            data = to_xlsform(version.schema)
        except QuestionnaireError:
            abort(409, description=_("Fix the draft's problems before exporting it as an XLSForm."))
        return Response(
            data,
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    abort(404)


@bp.route("/v/<int:version_id>/questionnaire.pdf")
@roles_required(*ROLES)
def questionnaire_pdf(version_id: int):
    """Download the printable questionnaire (paper backup for fieldwork) in one language."""
    from ..reports.questionnaire_pdf import QuestionnairePdfError, build_questionnaire_pdf

    version = _version_or_404(version_id)
    try:
        schema, marker = design.printable_schema(version)
    except QuestionnaireError:
        abort(409, description=_("Fix the draft's problems before printing it."))
    code = request.args.get("language") or schema.default_language
    if schema.language(code) is None:
        abort(400, description=_("'%(code)s' is not a language of this questionnaire.", code=code))
    try:
        data = build_questionnaire_pdf(schema, code, marker)
    except QuestionnairePdfError as error:
        abort(503, description=str(error))
    name = f"{version.slug}-v{version.version}-{code}"
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
    )


@bp.post("/import")
@roles_required(*ROLES)
def import_file():
    """Start a draft from an uploaded questionnaire file (YAML) or XLSForm (.xlsx, .xls)."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a file to import."), "error")
        return _stay(400, "design.index")
    data = upload.read()
    name = upload.filename
    warnings: list[str] = []
    try:
        with time_budget(current_app.config["UPLOAD_TIME_BUDGET"]):
            from ..questionnaire.xls import is_xls

            if name.lower().endswith((".xlsx", ".xlsm", ".xls")) or is_xls(data):
                from ..questionnaire.xlsform import xlsform_to_draft_yaml

                # A draft takes whatever languages the form has; publishing asks for Chinese.
                text, warnings = xlsform_to_draft_yaml(data, source=name)
            else:
                text = data.decode("utf-8")
            draft = design.draft_from_text(text, name, current_user)
    except QuestionnaireError as error:
        _flash_problems(error.problems)
        return _stay(400, "design.index")
    except (DesignError, UnicodeDecodeError) as error:
        text = error.translated() if isinstance(error, DesignError) else str(error)
        flash(f"{name}: {text}", "error")
        return _stay(400, "design.index")
    except BudgetExceeded as exc:
        flash(f"{name}: {_too_slow(exc)}", "error")
        return _stay(422, "design.index")
    for warning in warnings[:FLASHED_PROBLEMS]:  # in the interface's language
        shown = warning.text.translated() if isinstance(warning, Worded) else warning
        flash(shown[:FLASHED_LENGTH], "warning")
    flash(_("Imported as a draft: check it, then publish it."), "info")
    return redirect(url_for("design.edit", version_id=draft.id))


# --- sample and quota planning -------------------------------------------------------------------


@bp.route("/surveys/<int:survey_id>/plan", methods=["GET", "POST"])
@roles_required(*ROLES)
def plan(survey_id: int):
    """Plan interviews per street (sample-size planner) and quotas by sex × age (census counts)."""
    survey = records.get(Survey, survey_id)
    if survey is None:
        abort(404)
    if not policy.may_manage_survey(current_user, survey):
        abort(403)
    saved = dict((survey.settings or {}).get("plan") or {})
    source = request.form if request.method == "POST" else request.args
    error = None
    try:
        params = design.plan_parameters(
            {key: source.get(key) or saved.get(key) for key in design.PLAN_DEFAULTS}
        )
    except DesignError as exc:
        error = exc.translated()
        params = design.plan_parameters({})
    plan_rows = design.plan_sample(survey, **params)
    if request.method == "POST" and error is None:
        wave_id = request.form.get("wave", type=int)
        wave = next((w for w in survey.waves if w.id == wave_id), None)
        try:
            saved_count = design.save_plan(survey, wave, params, plan_rows)
        except DesignError as exc:
            error = exc.translated()
        else:
            flash(
                _("Plan saved: %(n)s quotas for wave %(wave)s.", n=saved_count, wave=wave.code),
                "info",
            )
            return redirect(url_for("design.plan", survey_id=survey.id))
    return render_template(
        "design/plan.html",
        survey=survey,
        params=params,
        rows=plan_rows,
        error=error,
        age_groups=design.AGE_GROUPS,
    ), (400 if error else 200)
