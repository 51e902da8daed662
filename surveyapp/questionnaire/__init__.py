"""Questionnaires as data: load and validate YAML files into immutable objects; evaluate skip logic.

This package is pure Python (PyYAML only): it imports neither Flask nor SQLAlchemy, so the web
layer, the CLI, fieldwork sync and the analysis code can all share it. The file format is
documented for survey managers in ``questionnaires/README.md``.
"""

from .answers import ANSWER_ERROR_KINDS, AnswerError, clean_answers
from .conditions import Condition, ConditionSyntaxError, parse_condition
from .loader import load_questionnaire, load_questionnaire_text, validate_file, validate_text
from .model import (
    CHOICE_TYPES,
    DEFAULT_LANGUAGE,
    QUESTION_TYPES,
    Choice,
    Composite,
    Group,
    Indicator,
    Language,
    Question,
    Questionnaire,
    QuestionType,
    Text,
    translate,
    translate_marked,
)
from .problems import Problem, QuestionnaireError

__all__ = [
    "ANSWER_ERROR_KINDS",
    "CHOICE_TYPES",
    "DEFAULT_LANGUAGE",
    "QUESTION_TYPES",
    "AnswerError",
    "Choice",
    "Composite",
    "Condition",
    "ConditionSyntaxError",
    "Group",
    "Indicator",
    "Language",
    "Problem",
    "Question",
    "QuestionType",
    "Questionnaire",
    "QuestionnaireError",
    "Text",
    "clean_answers",
    "load_questionnaire",
    "load_questionnaire_text",
    "parse_condition",
    "translate",
    "translate_marked",
    "validate_file",
    "validate_text",
]
