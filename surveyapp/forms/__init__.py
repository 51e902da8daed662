"""WTForms built from questionnaire pages through one table of field builders."""

from .interview import FIELD_BUILDERS, build_group_form, other_field_name

__all__ = ["FIELD_BUILDERS", "build_group_form", "other_field_name"]
