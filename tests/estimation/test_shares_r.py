"""Factor groups on two bases against R (tests/fixtures/survey/factors_reference.R).

Among respondents: svyciprop (logit; Korn-Graubard where R's interval has zero width).
Among mentions: R's svyratio(~m_g, ~M) estimate and SE; the interval by hand (Wald on the
logit scale, t with the domain's degrees of freedom).
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from surveyapp.estimation import Design, EstimationError
from surveyapp.estimation.estimates import t_quantile
from surveyapp.estimation.shares import group_shares

SURVEY = Path(__file__).resolve().parents[1] / "fixtures" / "survey"
REFERENCE = json.loads((SURVEY / "factors_reference.json").read_text(encoding="utf-8"))
with (SURVEY / "factors_wave.csv").open(encoding="utf-8") as _f:
    ROWS = list(csv.DictReader(_f))
CODES = [c for c in ROWS[0] if c not in ("street", "community", "w")]
STREET = np.array([r["street"] for r in ROWS], dtype=object)
DESIGN = Design.create(
    weights=np.array([float(r["w"]) for r in ROWS]),
    strata=STREET,
    clusters=[np.array([r["community"] for r in ROWS], dtype=object)],
    lonely_psu="adjust",
)
SELECTIONS = {c: np.array([float(r[c]) if r[c] != "" else np.nan for r in ROWS]) for c in CODES}
GROUPS = {
    g: [v["codes"]] if isinstance(v["codes"], str) else v["codes"] for g, v in REFERENCE.items()
}


def close(a, b, rel=1e-8):
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


@pytest.mark.parametrize("domain", sorted({*STREET.tolist(), "ALL"}))
def test_group_shares_match_r(domain):
    mask = None if domain == "ALL" else STREET == domain
    shares = {s.group: s for s in group_shares(SELECTIONS, GROUPS, DESIGN, domain=mask)}
    for group, ref in REFERENCE.items():
        r = ref["rows"][domain]
        got = shares[group]
        resp = got.respondents
        assert resp.df == r["respondents"]["df"]
        if resp.value in (0.0, 1.0):
            assert resp.fallback == "beta" and resp.ci_high > resp.ci_low
        else:
            for key, ours in (("estimate", resp.value), ("se", resp.se),
                              ("ci_low", resp.ci_low), ("ci_high", resp.ci_high)):  # fmt: skip
                assert close(ours, r["respondents"][key], 1e-7), (group, domain, key)
        ment, rm = got.mentions, r["mentions"]
        assert close(ment.value, rm["estimate"]) and close(ment.se, rm["se"])
        assert ment.df == rm["df"] and ment.n == rm["n"]
        if ment.value in (0.0, 1.0):
            assert ment.fallback == "beta" and ment.ci_high - ment.ci_low > 0.01
            continue
        t = t_quantile(0.975, ment.df)
        eta = math.log(ment.value / (1 - ment.value))
        half = t * ment.se / (ment.value * (1 - ment.value))
        assert close(ment.ci_low, 1 / (1 + math.exp(-(eta - half))))
        assert close(ment.ci_high, 1 / (1 + math.exp(-(eta + half))))


def test_every_mention_is_counted_once():
    # The codes' shares of mentions add up to 1 ("none" is not a mention).
    groups = {c: [c] for c in CODES if c != "none"}
    total = sum(s.mentions.value for s in group_shares(SELECTIONS, groups, DESIGN))
    assert math.isclose(total, 1.0, rel_tol=1e-12)


def test_unknown_code_in_a_group_is_named():
    with pytest.raises(EstimationError, match="factor group '两抢一盗': unknown answer code"):
        group_shares(SELECTIONS, {"两抢一盗": ["robbery", "theft"]}, DESIGN)
