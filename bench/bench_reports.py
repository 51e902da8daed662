"""Report benchmark: one street's PDF, and every PDF of a 300-street district (``--all``).

The district is synthetic (plain ``WaveResults``/``ReportMeta`` with seeded random estimates,
no database): 300 streets of 5 communities, the standard questionnaire's 10 indicators and 2
scores, 25 unsafe factors, 4 departments and one earlier wave. What is timed is what
``surveyapp report --all`` does once the estimates are computed (they are cached by content):
draw every street's PDF and the district overview in worker processes and write them.

Figures are printed with ratios against baselines measured in the same run: a one-paragraph
reportlab document (the floor of any PDF) and the same PDFs drawn in one process.

Usage: .venv/bin/python bench/bench_reports.py [--streets 300] [--repeat 15] [--serial 30]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from surveyapp.estimation import Estimate  # noqa: E402
from surveyapp.estimation.compare import Comparison  # noqa: E402
from surveyapp.estimation.ranks import RankInterval  # noqa: E402
from surveyapp.questionnaire import load_questionnaire  # noqa: E402
from surveyapp.reports import ReportMeta, ReportOptions, WaveHistory  # noqa: E402
from surveyapp.reports.district import build_district_pdf  # noqa: E402
from surveyapp.reports.results import ItemResult, WaveResults, WeightingReport  # noqa: E402
from surveyapp.reports.street import build_street_pdf  # noqa: E402
from surveyapp.services.reports import ReportBundle, build_many, report_filename  # noqa: E402

TARGET_STREET_S = 0.3
TARGET_ALL_S = 60.0


def _estimate(rng: random.Random, p: float, n: int, kind: str) -> Estimate:
    if kind == "score":
        value = 60 + 30 * p
        se = rng.uniform(1.5, 4)
    else:
        value = min(max(p, 0.01), 0.999)
        se = (value * (1 - value) / n) ** 0.5 * rng.uniform(1.0, 1.6)
    return Estimate(
        value=value,
        se=se,
        ci_low=max(value - 2 * se, 0 if kind == "rate" else -1e9),
        ci_high=min(value + 2 * se, 1 if kind == "rate" else 1e9),
        df=float(n - 1),
        n=n,
        deff=rng.uniform(1, 2),
    )


def _comparison(rng: random.Random, diff: float, se: float) -> Comparison:
    return Comparison(
        difference=diff,
        se=se,
        ci_low=diff - 2 * se,
        ci_high=diff + 2 * se,
        p_value=rng.random(),
        df=100.0,
        significant=abs(diff) > 2 * se,
    )


def synthetic_bundle(n_streets: int, seed: int = 1) -> ReportBundle:
    """A district of ``n_streets`` streets with seeded estimates (no database)."""
    rng = random.Random(seed)
    schema = load_questionnaire(ROOT / "questionnaires" / "public-security-satisfaction.yaml")
    streets = [(f"9901{k:05d}", f"第{k + 1}街道", f"Street {k + 1}") for k in range(n_streets)]
    communities = {
        f"{code}{j:03d}": (code, f"{zh}第{j + 1}社区", f"Community {j + 1}")
        for code, zh, _en in streets
        for j in range(5)
    }
    n_by_street = {code: rng.randint(80, 160) for code, _zh, _en in streets}

    def item(item_id: str, label: dict, kind: str, target: float | None) -> ItemResult:
        base = rng.uniform(0.6, 0.95)
        by_street = {
            c: _estimate(rng, base + rng.uniform(-0.1, 0.05), n, kind)
            for c, n in n_by_street.items()
        }
        by_community = {
            c: _estimate(rng, base + rng.uniform(-0.15, 0.05), rng.randint(10, 40), kind)
            for c in communities
        }
        overall = _estimate(rng, base, sum(n_by_street.values()), kind)
        order = sorted(by_street, key=lambda c: -by_street[c].value)
        ranks = {
            c: RankInterval(
                rank=float(i + 1),
                low=float(max(1, i + 1 - 20)),
                high=float(min(n_streets, i + 1 + 20)),
            )
            for i, c in enumerate(order)
        }
        return ItemResult(
            id=item_id,
            kind=kind,
            label=dict(label),
            target=target,
            overall=overall,
            by_street=by_street,
            by_community=by_community,
            vs_district={
                c: _comparison(rng, e.value - overall.value, e.se) for c, e in by_street.items()
            },
            vs_previous={
                c: _comparison(rng, rng.uniform(-0.05, 0.05), 0.02) for c in [*by_street, "ALL"]
            },
            ranks=ranks,
        )

    items = [item(i.id, i.label, "rate", i.target) for i in schema.indicators]
    items += [item(c.id, c.label, "score", None) for c in schema.composites]
    factor_q = schema.questions["unsafe_factors"]
    factor_shares = {
        "unsafe_factors": {
            domain: {
                c.code: _estimate(rng, rng.uniform(0.02, 0.3), 100, "rate")
                for c in factor_q.choices
            }
            for domain in ["ALL", *n_by_street]
        }
    }
    departments = tuple(
        item(f"department:{q}", schema.questions[q].label, "rate", None)
        for q in (
            "police_satisfaction",
            "urban_management_satisfaction",
            "market_regulation_satisfaction",
            "environment_satisfaction",
        )
        if q in schema.questions
    )
    results = WaveResults(
        survey_id=1,
        survey_name="合成区群众安全感满意度调查",
        wave_code="2026-Q4",
        wave_name="2026年第四季度",
        previous_wave_code="2026-Q3",
        settings={
            "design": {"strata": "street", "cluster": "community"},
            "weighting": {"method": "rake"},
            "ci_method": "logit",
            "level": 0.95,
        },
        weighting=WeightingReport(
            method="rake",
            margins=("street", "sex", "age_group"),
            kish_deff=1.3,
            effective_n=sum(n_by_street.values()) / 1.3,
        ),
        n=sum(n_by_street.values()),
        n_by_street=n_by_street,
        n_by_mode={
            "phone": sum(n_by_street.values()) // 2,
            "door": sum(n_by_street.values()) - sum(n_by_street.values()) // 2,
        },
        streets=streets,
        communities=communities,
        items=items,
        factor_shares=factor_shares,
    )
    history = (
        WaveHistory(
            code="2026-Q3",
            name="2026年第三季度",
            overall={i.id: i.overall for i in items},
            by_street={
                i.id: {
                    c: _estimate(rng, e.value - 0.01, e.n, i.kind) for c, e in i.by_street.items()
                }
                for i in items
            },
        ),
    )
    meta = ReportMeta(
        survey_name=results.survey_name,
        district_code="990100",
        district_name={"zh_CN": "合成区", "en": "Synthetic District"},
        wave_code="2026-Q4",
        wave_name="2026年第四季度",
        starts_on=None,
        ends_on=None,
        modes=("phone", "door"),
        data_as_of="2026-12-31 18:00",
        sample_by_street_mode={
            c: {"phone": n // 2, "door": n - n // 2} for c, n in n_by_street.items()
        },
        community_n={i.id: {c: e.n for c, e in i.by_community.items()} for i in items},
        community_value={i.id: {c: e.value for c, e in i.by_community.items()} for i in items},
        departments=departments,
        history=history,
        factor_question=dict(factor_q.label),
        factor_labels={c.code: dict(c.label) for c in factor_q.choices},
        options=ReportOptions(),
    )
    return ReportBundle(key=f"synthetic-{n_streets}-{seed}", results=results, meta=meta)


def baseline_pdf() -> bytes:
    """The floor of any PDF: one paragraph on one page, same fonts."""
    from reportlab.platypus import Paragraph

    from surveyapp.reports.layout import render, styles

    st = styles()
    return render(
        [Paragraph("宁海路街道 93.7%", st.body)], title="x", author="x", on_page=lambda c, d: None
    )


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streets", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--serial",
        type=int,
        default=30,
        help="street PDFs drawn in one process for the serial baseline",
    )
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    load = os.getloadavg()[0]
    print(
        f"{cores} cores, load average {load:.2f} at start (the machine is shared: figures "
        f"under load)"
    )
    t = time.perf_counter()
    bundle = synthetic_bundle(args.streets)
    print(
        f"synthetic district: {args.streets} streets, "
        f"{len(bundle.results.communities)} communities ({time.perf_counter() - t:.1f} s)"
    )
    code = bundle.results.streets[0][0]
    r, m = bundle.results, bundle.meta
    build_street_pdf(r, code, m)  # warm up: fonts, catalogs
    base = statistics.median(timed(baseline_pdf, args.repeat))
    street = timed(lambda: build_street_pdf(r, code, m), args.repeat)
    med = statistics.median(street)
    english = statistics.median(
        timed(lambda: build_street_pdf(r, code, m, "en"), max(3, args.repeat // 3))
    )
    print(f"one-paragraph PDF (baseline): {base * 1000:.0f} ms")
    print(
        f"street PDF, median of {args.repeat}: {med * 1000:.0f} ms "
        f"(min {min(street) * 1000:.0f}, max {max(street) * 1000:.0f}; "
        f"{med / base:.1f}x the baseline; English {english * 1000:.0f} ms) "
        f"target < {TARGET_STREET_S * 1000:.0f} ms: "
        f"{'OK' if med < TARGET_STREET_S else 'MISSED'}"
    )
    t = time.perf_counter()
    district = build_district_pdf(r, m)
    district_s = time.perf_counter() - t
    print(
        f"district overview, {args.streets} streets: {district_s:.2f} s, "
        f"{len(io.BytesIO(district).getvalue()) // 1024} KiB"
    )

    sample = [c for c, _zh, _en in r.streets[: args.serial]]
    serial = timed(lambda: [build_street_pdf(r, c, m) for c in sample], 1)[0] / len(sample)
    serial_all = serial * args.streets + district_s
    with tempfile.TemporaryDirectory() as tmp:
        targets = [c for c, _zh, _en in r.streets] + ["district"]
        t = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        for what, data in build_many(bundle, targets, "zh_CN", cache=None, workers=cores):
            Path(tmp, report_filename(bundle, what, "zh_CN")).write_bytes(data)
        all_s = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        worker_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        written = len(os.listdir(tmp))
    print(
        f"--all, {written} PDFs with {cores} worker processes: {all_s:.1f} s "
        f"({all_s / written * 1000:.0f} ms a PDF) target < {TARGET_ALL_S:.0f} s: "
        f"{'OK' if all_s < TARGET_ALL_S else 'MISSED'}"
    )
    print(
        f"  workers' CPU time {worker_cpu:.1f} s: {worker_cpu / all_s:.2f} cores busy on "
        f"average ({worker_cpu / written * 1000:.0f} ms of CPU a PDF)"
    )
    print(
        f"  one process (measured on {len(sample)} streets, extrapolated): {serial_all:.1f} s;"
        f" speed-up with {cores} workers {serial_all / all_s:.2f}x"
    )
    return 0 if med < TARGET_STREET_S and all_s < TARGET_ALL_S else 1


if __name__ == "__main__":
    sys.exit(main())
