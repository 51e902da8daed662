"""Unsafe-factor groups in a wave (issue 18): both bases, configured groups, the command."""

from __future__ import annotations

import json
import math
from pathlib import Path

from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import Survey

REFERENCE = json.loads(
    (Path(__file__).parent.parent / "fixtures" / "survey" / "factors_reference.json").read_text()
)


def test_factor_groups_on_both_bases(app, load_demo_copy):
    load_demo_copy(600, 5)
    with app.app_context():
        survey = db.session.scalar(select(Survey))
        survey.settings = {
            **survey.settings,
            "reports": {"factor_groups": {"order": ["fights", "gangs", "violent_crime"]}},
        }
        db.session.commit()
    runner = app.test_cli_runner()
    out = runner.invoke(args=["factors", "--survey", "1", "--format", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["groups"] == {"order": ["fights", "gangs", "violent_crime"]}
    for domain, rows in REFERENCE["order"]["rows"].items():
        group = doc["domains"][domain]["groups"][0]
        # The same final weights as R's fixture: the same point estimates (the intervals
        # here also carry the raking, which the fixture's fixed weights do not).
        assert math.isclose(
            group["among_mentions"]["value"], rows["mentions"]["estimate"], abs_tol=1e-12
        )
        assert math.isclose(
            group["among_respondents"]["value"],
            rows["respondents"]["estimate"],
            rel_tol=1e-7,
            abs_tol=1e-9,
        )
        for base in ("among_respondents", "among_mentions"):
            e = group[base]
            assert e["ci_low"] < e["ci_high"] and e["ci_low"] <= e["value"] <= e["ci_high"]
    # Every factor is reported on its own too; their shares of mentions add up to 1.
    total = sum(f["among_mentions"]["value"] for f in doc["domains"]["ALL"]["factors"])
    assert math.isclose(total, 1.0, rel_tol=1e-9)
    # A group naming a code the question does not have is refused, and named.
    with app.app_context():
        survey = db.session.scalar(select(Survey))
        survey.settings = {**survey.settings, "reports": {"factor_groups": {"x": ["robbery"]}}}
        db.session.commit()
    bad = runner.invoke(args=["factors", "--survey", "1"])
    assert bad.exit_code == 1 and "factor group 'x': unknown answer code(s) robbery" in bad.output
