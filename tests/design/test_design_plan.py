"""Sample and quota planning: largest-remainder allocation and targets, checked by hand."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import select

from surveyapp.estimation.samplesize import allocate
from surveyapp.extensions import db
from surveyapp.models import Survey
from surveyapp.services.design import DesignError, plan_parameters, plan_sample


def test_allocate_by_largest_remainder():
    # 7 interviews over 50/30/20 people: shares 3.5, 2.1, 1.4 -> 3, 2, 1 and the one left to
    # the largest remainder (0.5).
    assert allocate(7, {"m": 50, "f": 30, "x": 20}) == {"m": 4, "f": 2, "x": 1}
    # Equal remainders: the first cell in the order given.
    assert allocate(10, {"a": 1, "b": 1, "c": 1}) == {"a": 4, "b": 3, "c": 3}
    # 3 over 10/10/20/20: shares 0.5, 0.5, 1, 1 -> 0, 0, 1, 1; the one left to a (first tie).
    assert allocate(3, {"a": 10, "b": 10, "c": 20, "d": 20}) == {"a": 1, "b": 0, "c": 1, "d": 1}
    # Equal remainders, different populations: the larger population first
    # (2 over 10/30: shares 0.5 and 1.5 -> 0 and 1, remainders equal, b is larger).
    assert allocate(2, {"a": 10, "b": 30}) == {"a": 0, "b": 2}
    assert allocate(0, {"a": 5}) == {"a": 0}
    assert allocate(5, {"a": 0, "b": 0}) == {"a": 0, "b": 0}
    assert sum(allocate(123, {i: i * 7 + 1 for i in range(12)}).values()) == 123


def test_plan_parameters_refuse_bad_input():
    assert plan_parameters({}) == {
        "margin": 0.05,
        "p": 0.9,
        "deff": 1.5,
        "level": 0.95,
        "method": "logit",
    }
    with pytest.raises(DesignError, match="margin must be the margin of error"):
        plan_parameters({"margin": "five"})
    with pytest.raises(DesignError, match="between 0 and 1"):
        plan_parameters({"p": "1.5"})
    with pytest.raises(DesignError, match="method must be wald or logit"):
        plan_parameters({"method": "exact"})


def test_street_targets_follow_the_wald_formula(demo, ctx):
    survey = db.session.scalar(select(Survey))
    rows = plan_sample(survey, margin=0.05, p=0.9, deff=1.5, level=0.95, method="wald")
    assert len(rows) == 13
    z = 1.959963984540054  # qnorm(0.975)
    for row in rows:
        n_pop = row["population"]
        # Cochran with the finite-population correction, by hand:
        # n = 1 / (V / (deff S^2) + 1/N), V = (margin / z)^2, S^2 = N/(N-1) p (1-p).
        s2 = n_pop / (n_pop - 1) * 0.9 * 0.1
        n = 1 / ((0.05 / z) ** 2 / (1.5 * s2) + 1 / n_pop)
        assert row["target"] == math.ceil(n - 1e-9)
        assert sum(row["quotas"].values()) == row["target"]
        cells = {(p.sex, p.age_group): p.count for p in row["street"].populations}
        # The biggest sex x age cell never gets fewer interviews than the smallest.
        big = max(cells, key=cells.get)
        small = min(cells, key=cells.get)
        assert row["quotas"][big] >= row["quotas"][small]
