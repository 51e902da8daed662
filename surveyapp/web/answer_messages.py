"""Human messages, in the interface language, for the questionnaire's answer errors."""

from __future__ import annotations

from flask_babel import gettext as _

from ..questionnaire import AnswerError, Questionnaire, translate


def answer_error_message(schema: Questionnaire, error: AnswerError, lang: str) -> str:
    p = error.params or {}
    kind = error.kind
    if kind == "required":
        return _("Please answer this question.")
    if kind == "not_relevant":
        return _("This question is skipped for this respondent and must stay unanswered.")
    if kind == "unknown_code":
        return _("'%(code)s' is not one of the answers of this question.", code=p.get("code", ""))
    if kind == "not_integer":
        return _("Please enter a whole number.")
    if kind == "out_of_range":
        return _(
            "Please enter a number from %(min)s to %(max)s.",
            min=p.get("min", "…"),
            max=p.get("max", "…"),
        )
    if kind == "bad_date":
        return _("Please enter a date as YYYY-MM-DD.")
    if kind == "not_number":
        return _("Please enter a number.")
    if kind == "bad_time":
        return _("Please enter a time as HH:MM.")
    if kind == "bad_datetime":
        return _("Please enter a date and time as YYYY-MM-DD HH:MM.")
    if kind == "bad_geopoint":
        return _("The location is not valid: capture it again.")
    if kind == "too_long":
        return _(
            "This answer is too long (at most %(max)s characters).",
            max=p.get("max", p.get("max_length", "")),
        )
    if kind == "constraint":
        question = schema.questions.get(error.question)
        if question is not None and question.constraint_message:
            return translate(question.constraint_message, lang)[0]
        return _("This answer does not fit the other answers.")
    if kind == "exclusive":
        return _("This answer cannot be combined with other answers.")
    if kind == "other_missing":
        return _("Please specify the other answer.")
    if kind == "unknown_question":
        return _("This question is not part of the questionnaire.")
    if kind == "not_instances":
        return _("The answer to a repeat group is a list of instances.")
    if kind == "repeat_too_many":
        return _(
            "The count %(count)s is too many: at most %(max)s are allowed.",
            count=p.get("count"),
            max=p.get("max"),
        )
    if kind == "repeat_count":
        if p.get("expected") is not None:
            return _(
                "%(count)s instances were given; the questionnaire asks for %(expected)s.",
                count=p.get("count"),
                expected=p.get("expected"),
            )
        return _(
            "%(count)s instances were given; from %(min)s to %(max)s are allowed.",
            count=p.get("count"),
            min=p.get("min") if p.get("min") is not None else 0,
            max=p.get("max") if p.get("max") is not None else "…",
        )
    return _("This answer is not valid.")
