"""The household roster the repeat-group tests share: ``tests/questionnaire/data/roster.yaml``
(``members``, one per ``household_size``; ``visitors``, added by the interviewer, at most 3),
three members as an interview sends them and as the server stores them. The fixture
``roster_survey`` (tests/conftest.py) makes the roster every demo survey's and wave's
questionnaire."""

from __future__ import annotations

from pathlib import Path

ROSTER = Path(__file__).resolve().parent / "questionnaire" / "data" / "roster.yaml"

#: Three members as a client sends them (numbers as text or as numbers): the first works as a
#: farmer, the second (aged 9) is not asked about work, the third does not work.
MEMBERS = [
    {"member_name": "张三", "member_age": "40", "member_works": "yes", "member_job": "farmer"},
    {"member_name": "李四", "member_age": 9},
    {"member_name": "王五", "member_age": 70, "member_works": "no"},
]

#: The same three as the server stores them (read back by ``Response.answer_dict()``).
STORED_MEMBERS = [
    {"member_name": "张三", "member_age": 40, "member_works": "yes", "member_job": "farmer"},
    {"member_name": "李四", "member_age": 9},
    {"member_name": "王五", "member_age": 70, "member_works": "no"},
]


def roster_text() -> str:
    """The roster questionnaire's YAML."""
    return ROSTER.read_text(encoding="utf-8")


def roster_with_one_to_three_visitors() -> str:
    """The roster's YAML with at least one visitor (and still at most 3)."""
    return roster_text().replace("      max: 3", "      min: 1\n      max: 3")
