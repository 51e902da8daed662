"""Fixtures for the questionnaire package: the small test questionnaire and the standard one."""

from __future__ import annotations

from pathlib import Path

import pytest

from surveyapp.questionnaire import Questionnaire, load_questionnaire

DATA = Path(__file__).resolve().parent / "data"
ROOT = Path(__file__).resolve().parents[2]
STANDARD = ROOT / "questionnaires" / "public-security-satisfaction.yaml"


@pytest.fixture(scope="session")
def minimal() -> Questionnaire:
    """Every question type, a choice list, Uyghur as a third language."""
    return load_questionnaire(DATA / "minimal.yaml")


@pytest.fixture(scope="session")
def standard() -> Questionnaire:
    """The standard public-security satisfaction questionnaire."""
    return load_questionnaire(STANDARD)
