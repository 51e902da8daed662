"""The monthly safety index (平安指数): its definition and its computation.

Pure: imports neither Flask nor the database. The service ``surveyapp.services.safety_index``
gathers the stored series and survey estimates and calls :func:`compute_month`.
"""

from .compute import (
    Component,
    MonthIndex,
    Street,
    StreetIndex,
    SurveyValue,
    as_dict,
    compute_month,
    missing_note,
    month_add,
    streets_to_watch,
    top_changes,
    with_changes,
)
from .definition import (
    Definition,
    DefinitionError,
    DefinitionProblem,
    Group,
    Indicator,
    Normalisation,
    Source,
    definition_changes,
    load_definition,
    load_definition_text,
    validate_definition_text,
)

__all__ = [
    "Component",
    "as_dict",
    "Definition",
    "DefinitionError",
    "DefinitionProblem",
    "Group",
    "Indicator",
    "MonthIndex",
    "Normalisation",
    "Source",
    "Street",
    "StreetIndex",
    "SurveyValue",
    "compute_month",
    "definition_changes",
    "load_definition",
    "load_definition_text",
    "missing_note",
    "month_add",
    "streets_to_watch",
    "top_changes",
    "validate_definition_text",
    "with_changes",
]
