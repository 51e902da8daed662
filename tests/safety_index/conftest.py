"""A small definition computed by hand: three streets, four indicators per group."""

from __future__ import annotations

import pytest

from surveyapp.safety_index import Street, SurveyValue, load_definition_text

HAND_YAML = """\
id: hand-index
version: 1
effective_from: 2026-01
title: {{zh_CN: 手算平安指数, en: Hand-computed index}}
missing: {missing}
simulation: {{draws: 2000, seed: 7}}
groups:
  - id: positive
    name: {{zh_CN: 正向指标, en: Positive}}
    weight: 35
    indicators:
      - id: p_target
        name: {{zh_CN: 人民调解成功率}}
        direction: positive
        unit: "%"
        source: {{series: mediation}}
        normalisation: {{type: target, target: 100, caps: [0.9, 1.0]}}
      - id: p_per10k
        name: {{zh_CN: 法治宣传场次}}
        direction: positive
        unit: 场
        source: {{series: publicity}}
        normalisation: {{type: per_10k, caps: [0, 4]}}
      - id: p_district
        name: {{zh_CN: 网格走访率}}
        direction: positive
        unit: "%"
        source: {{series: visits}}
        normalisation: {{type: district}}
      - id: p_yoy
        name: {{zh_CN: 刑事打处}}
        direction: positive
        unit: 人
        source: {{series: punished}}
        normalisation: {{type: yoy}}
  - id: negative
    name: {{zh_CN: 逆向指标, en: Negative}}
    weight: 35
    indicators:
      - id: n_target
        name: {{zh_CN: 民转刑案件}}
        direction: negative
        unit: 件
        source: {{series: escalated}}
        normalisation: {{type: target, target: 2}}
        weight: 2
      - id: n_per10k
        name: {{zh_CN: 盗窃警情}}
        direction: negative
        unit: 起
        source: {{series: theft}}
        normalisation: {{type: per_10k, caps: [0, 10]}}
      - id: n_district
        name: {{zh_CN: 交通事故}}
        direction: negative
        unit: 起
        source: {{series: traffic}}
        normalisation: {{type: district}}
      - id: n_yoy
        name: {{zh_CN: 黄赌警情}}
        direction: negative
        unit: 起
        source: {{series: vice}}
        normalisation: {{type: yoy}}
  - id: public
    name: {{zh_CN: 公众评价, en: Public evaluation}}
    weight: 30
    indicators:
      - id: s_security
        name: {{zh_CN: 群众安全感}}
        direction: positive
        unit: 比例
        source: {{survey: pss, item: security}}
        normalisation: {{type: target, target: 0.9, caps: [0.8, 1.0]}}
      - id: s_score
        name: {{zh_CN: 安全感得分}}
        direction: positive
        unit: 分
        source: {{survey: pss, item: security_score}}
        normalisation: {{type: district}}
      - id: s_satisfaction
        name: {{zh_CN: 执法满意率}}
        direction: positive
        unit: 比例
        source: {{survey: pss, item: satisfaction}}
        normalisation: {{type: target, target: 1.0, caps: [0.5, 1.0]}}
      - id: s_flat
        name: {{zh_CN: 网格知晓率}}
        direction: positive
        unit: 比例
        source: {{survey: pss, item: grid}}
        normalisation: {{type: district}}
"""

STREETS = (
    Street("A", "甲街道", "A street", 10_000),
    Street("B", "乙街道", "B street", 20_000),
    Street("C", "丙街道", "C street", 40_000),
)
MONTH = "2026-11"


def series() -> dict:
    def now(a, b, c):
        return {"A": {MONTH: a}, "B": {MONTH: b}, "C": {MONTH: c}}

    out = {
        "mediation": now(100, 95, 90),
        "publicity": now(2, 8, 4),
        "visits": now(30, 60, 90),
        "punished": now(15, 25, 0),
        "escalated": now(2, 3, 5),
        "theft": now(5, 10, 80),
        "traffic": now(10, 20, 30),
        "vice": now(5, 10, 20),
    }
    for street, value in zip("ABC", (10, 20, 0), strict=True):
        out["punished"][street]["2025-11"] = value
    for street in "ABC":
        out["vice"][street]["2025-11"] = 10
    return out


def exact(value: float) -> SurveyValue:
    return SurveyValue(value, value, value)


def survey(spread: float = 0.0) -> dict:
    def sv(v):
        return SurveyValue(v, v - spread * v, v + spread * v)

    return {
        "pss:security": {"A": sv(0.9), "B": sv(0.81), "C": sv(0.72)},
        "pss:security_score": {"A": sv(80), "B": sv(60), "C": sv(100)},
        "pss:satisfaction": {"A": sv(0.75), "B": sv(1.0), "C": sv(0.5)},
        "pss:grid": {"A": sv(0.5), "B": sv(0.5), "C": sv(0.5)},
    }


@pytest.fixture
def hand_definition():
    return load_definition_text(HAND_YAML.format(missing="previous"), "hand.yaml")


def hand(missing: str):
    return load_definition_text(HAND_YAML.format(missing=missing), "hand.yaml")
