"""Write the demo wave used by tests/services/test_estimates_r.py as CSV for R.

Usage: SURVEYAPP_INSTANCE_PATH=$(mktemp -d) .venv/bin/python scripts/make_survey_fixture.py
then:  Rscript tests/fixtures/survey/survey_wave_reference.R
"""

import csv
from pathlib import Path

import numpy as np
from flask_migrate import upgrade

from surveyapp import create_app
from surveyapp.extensions import db
from surveyapp.models import Survey
from surveyapp.services.demo import load_demo
from surveyapp.services.wave_snapshot import extract_wave

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "survey"
RESPONSES, SEED = 600, 5
ITEMS = ("security", "dispute_resolution", "grid_awareness", "security_score")

app = create_app()
with app.app_context():
    upgrade()
    load_demo(responses=RESPONSES, seed=SEED)
    survey = db.session.scalar(db.select(Survey))
    wave = survey.waves[-1]
    data = extract_wave(wave, survey.questionnaire_version.schema)
    with open(OUT / "wave.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["street", "community", "sex", "age_group", *ITEMS])
        for i in range(data.n):
            w.writerow(
                [
                    data.columns["street"][i],
                    data.columns["community"][i],
                    data.columns["sex"][i],
                    data.columns["age_group"][i],
                    *[
                        "" if np.isnan(data.values[k][i]) else repr(float(data.values[k][i]))
                        for k in ITEMS
                    ],
                ]
            )
    with open(OUT / "population.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["street", "sex", "age_group", "count"])
        for street in survey.district.children:
            for p in sorted(street.populations, key=lambda p: (p.sex, p.age_group)):
                w.writerow([street.code, p.sex, p.age_group, p.count])
print(f"wrote {OUT}/wave.csv ({data.n} rows) and population.csv")
