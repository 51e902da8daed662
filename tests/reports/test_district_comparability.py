"""Next quarter on questionnaire v2: the district report compares every still-comparable
indicator with the previous wave and marks the one whose definition changed 不可比较."""

from __future__ import annotations

import subprocess

from sqlalchemy import select, update

from surveyapp.extensions import db
from surveyapp.models import Response, Survey, Wave
from surveyapp.services.questionnaires import store_questionnaire

from ..services.test_waves import version_two_text

PASSWORD = "official-demo-2026"


def layout_text(data: bytes) -> str:
    """The PDF's text by poppler's pdftotext, a table row on one line (-layout)."""
    done = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"],
        input=data,
        capture_output=True,
        check=True,
    )
    return done.stdout.decode("utf-8")


def _row(text: str, name: str) -> str:
    return next(line for line in text.splitlines() if line.strip().startswith(name))


def test_the_district_report_says_which_indicators_are_comparable(demo, client, auth):
    with demo.app_context():
        survey = db.session.get(Survey, 1)
        v2, _ = store_questionnaire(version_two_text(), source="v2.yaml")
        now = survey.waves[-1]
        now.questionnaire_version_id = v2.id  # the wave on v2, as `waves create` pins it
        db.session.execute(
            update(Response)
            .where(Response.wave_id == now.id)
            .values(questionnaire_version_id=v2.id)
        )
        db.session.commit()
        labels = {i.id: i.label["zh_CN"] for i in v2.schema.indicators}
        assert db.session.scalar(select(Wave.code).where(Wave.id == now.id)) == "2026-Q4"
    auth.login("official", PASSWORD)
    pdf = client.get("/officials/surveys/1/waves/2026-Q4/district.pdf")
    assert pdf.status_code == 200
    text = layout_text(pdf.data)
    section = text[text.index("与上一轮比较") :]
    changed = _row(section, labels["security"][:8])
    kept = _row(section, labels["law_enforcement_satisfaction"][:8])
    assert "不可比较" in changed
    assert "可比较" in kept and "不可比较" not in kept
    # the comparable row carries both waves' values; the changed one has no change figure
    assert len([t for t in kept.split() if any(ch.isdigit() for ch in t)]) >= 3
    assert "上一轮" in section and labels["security"] in section.replace("\n", "")
