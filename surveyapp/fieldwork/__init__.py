"""Fieldwork: running interviews (navigation through a questionnaire) and assignments."""
