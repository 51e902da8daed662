"""The standard questionnaire's version 2 (issue 18): the seeds' 25 unsafe factors and the
综治中心 awareness indicator; version 1 (the demo's) is unchanged."""

from __future__ import annotations

from pathlib import Path

from surveyapp.questionnaire import load_questionnaire

ROOT = Path(__file__).resolve().parents[2] / "questionnaires"


def test_version_2_has_the_seeds_25_factors():
    q = load_questionnaire(ROOT / "public-security-satisfaction-v2.yaml")
    assert q.version == 2
    codes = [c.code for c in q.questions["unsafe_factors"].choices]
    factors = [c for c in codes if c not in ("other", "none")]
    assert len(factors) == 25 and len(set(factors)) == 25
    # 两抢一盗 and 吸毒贩毒和赌博 are groups of codes of their own (reports.factor_groups).
    assert {"robbery", "snatching", "theft", "drugs", "gambling", "prostitution"} <= set(factors)
    assert not {"theft_robbery", "vice"} & set(codes)
    zongzhi = next(i for i in q.indicators if i.id == "zongzhi_awareness")
    assert zongzhi.question == "zongzhi_center_aware" and zongzhi.label["zh_CN"] == "综治中心知晓率"


def test_version_1_is_unchanged():
    q = load_questionnaire(ROOT / "public-security-satisfaction.yaml")
    assert q.version == 1
    codes = [c.code for c in q.questions["unsafe_factors"].choices]
    assert "theft_robbery" in codes and "vice" in codes and len(codes) == 24
    assert "zongzhi_awareness" not in {i.id for i in q.indicators}
