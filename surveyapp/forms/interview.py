"""Interview pages: one WTForms form per question group, built from the questionnaire.

Each question type has one builder in :data:`FIELD_BUILDERS`; a new type is one builder and
one entry. The forms render the fields; validation is the questionnaire's own
``clean_answers`` (the server is the authority, and the sync API uses the same rules).
"""

from __future__ import annotations

from collections.abc import Callable

from flask_wtf import FlaskForm
from wtforms import (
    Field,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice

from ..questionnaire import Group, Question, Questionnaire, translate


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form) -> None:  # codes are checked by the questionnaire
        pass


class CodeRadioField(RadioField):
    def pre_validate(self, form) -> None:  # codes are checked by the questionnaire
        pass


class LooseIntegerField(StringField):
    """An integer box whose value is checked by the questionnaire, not by WTForms."""

    widget = widgets.NumberInput()


class LooseDateField(StringField):
    widget = widgets.DateInput()


YESNO = {"yes": {"zh_CN": "是", "en": "Yes"}, "no": {"zh_CN": "否", "en": "No"}}


def _label(question: Question, lang: str) -> str:
    return translate(question.label, lang)[0]


def _choices(question: Question, lang: str) -> list[SelectChoice]:
    if question.type == "yesno" and not question.choices:
        return [SelectChoice(code, translate(text, lang)[0]) for code, text in YESNO.items()]
    return [
        SelectChoice(
            c.code,
            translate(c.label, lang)[0],
            render_kw={"data-exclusive": "1"} if c.exclusive else {},
        )
        for c in question.choices
    ]


def _single(question: Question, lang: str) -> Field:
    return CodeRadioField(_label(question, lang), choices=_choices(question, lang))


def _multiple(question: Question, lang: str) -> Field:
    return MultiCheckboxField(_label(question, lang), choices=_choices(question, lang))


def _integer(question: Question, lang: str) -> Field:
    render_kw = {"inputmode": "numeric"}
    if question.minimum is not None:
        render_kw["min"] = question.minimum
    if question.maximum is not None:
        render_kw["max"] = question.maximum
    return LooseIntegerField(_label(question, lang), render_kw=render_kw)


def _text(question: Question, lang: str) -> Field:
    return TextAreaField(
        _label(question, lang), render_kw={"maxlength": question.max_length or 500, "rows": 3}
    )


def _date(question: Question, lang: str) -> Field:
    return LooseDateField(_label(question, lang))


def _decimal(question: Question, lang: str) -> Field:
    return StringField(_label(question, lang), render_kw={"inputmode": "decimal"})


def _time(question: Question, lang: str) -> Field:
    return StringField(_label(question, lang), widget=widgets.TimeInput())


def _datetime(question: Question, lang: str) -> Field:
    return StringField(_label(question, lang), widget=widgets.DateTimeLocalInput())


def _geopoint(question: Question, lang: str) -> Field:
    return StringField(_label(question, lang), render_kw={"placeholder": "lat lon alt accuracy"})


#: The form field of each type the interviewer answers (notes and calculations have none).
FIELD_BUILDERS: dict[str, Callable[[Question, str], Field]] = {
    "single": _single,
    "yesno": _single,
    "multiple": _multiple,
    "integer": _integer,
    "text": _text,
    "date": _date,
    "decimal": _decimal,
    "time": _time,
    "datetime": _datetime,
    "geopoint": _geopoint,
}


def other_field_name(question_id: str) -> str:
    """Name of the "other, specify" text box (the questionnaire stores it as ``qid.other``)."""
    return f"{question_id}__other"


def build_group_form(schema: Questionnaire, group: Group, lang: str) -> type[FlaskForm]:
    """Return a form class with one field per question of ``group`` in language ``lang``."""
    attrs: dict[str, Field] = {}
    for question in group.questions:
        if question.type not in FIELD_BUILDERS:
            continue  # shown only, or computed
        attrs[question.id] = FIELD_BUILDERS[question.type](question, lang)
        if question.other_code:
            attrs[other_field_name(question.id)] = StringField(
                translate({"zh_CN": "请注明", "en": "Please specify"}, lang)[0],
                render_kw={"maxlength": 200},
            )
    return type(f"{schema.id}_{group.id}_form", (FlaskForm,), attrs)
