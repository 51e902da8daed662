"""The printed questionnaire shows a roster (asked once per instance, how many), a required
condition and a choice filter, in words; read back with poppler's pdftotext."""

from __future__ import annotations

import re
import subprocess

import pytest

from surveyapp.questionnaire import load_questionnaire, load_questionnaire_text
from surveyapp.reports.questionnaire_pdf import build_questionnaire_pdf

from ..rosters import ROSTER, roster_text

EXTRA = """\
  - id: place
    title: {zh_CN: 地点, en: Place}
    questions:
      - id: street
        type: single
        label: {zh_CN: 街道, en: Street}
        choices:
          - {code: s1, label: {zh_CN: 一街, en: First street}}
          - {code: s2, label: {zh_CN: 二街, en: Second street}}
      - id: community
        type: single
        choice_filter: street = ${street}
        label: {zh_CN: 社区, en: Community}
        choices:
          - {code: c1, label: {zh_CN: 甲社区, en: Community A}, properties: {street: s1}}
          - {code: c2, label: {zh_CN: 乙社区, en: Community B}, properties: {street: s2}}
      - id: phone
        type: text
        required: ${street} = 's1'
        label: {zh_CN: 电话, en: Phone}
"""


def _text(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return re.sub(r"\s+", " ", out.stdout.decode("utf-8"))


@pytest.fixture(scope="module")
def schema():
    text = roster_text() + EXTRA
    return load_questionnaire_text(text)


def test_english(schema):
    text = _text(build_questionnaire_pdf(schema, "en"))
    assert "Ask this section once for each of household_size (copy it for each)" in text
    assert (
        "Ask this section once for each, as many as there are (copy it for each), from 0 to 3"
        in text
    )
    assert "Ask if the number of members ≥ 3" in text  # count(${members}) >= 3
    assert "Must be answered if street = First street" in text
    assert "Offer only the choices where street = ${street}" in text


def test_chinese(schema):
    text = _text(build_questionnaire_pdf(schema, "zh_CN"))
    assert "本部分逐条询问，共 household_size 条" in text
    assert "如果 street = 一街，本题必答" in text
    assert "只列出符合条件的选项" in text


def test_the_roster_file_alone_prints(schema):
    assert _text(build_questionnaire_pdf(load_questionnaire(ROSTER), "zh_CN"))
