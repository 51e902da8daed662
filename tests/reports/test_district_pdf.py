"""The district overview read back (league table, rank intervals, warnings) and the warning
rules on hand-made histories."""

from __future__ import annotations

from dataclasses import replace

import pytest

from surveyapp.estimation import Estimate
from surveyapp.reports import ReportError, ReportOptions, WarningRules, WaveHistory
from surveyapp.reports.district import build_district_pdf, street_statuses

from .conftest import NUMBER, pct, pdf_tokens, pdftotext, row_after, signed, words
from .conftest import pdf_lines as pdf_lines_of


def est(value: float, n: int = 100) -> Estimate:
    return Estimate(
        value=value, se=0.01, ci_low=value - 0.02, ci_high=value + 0.02, df=50.0, n=n, deff=1.0
    )


def fmt_cmp(cmp, kind="rate"):
    if cmp is None:
        return "—"
    s = signed(cmp.difference, kind)
    if cmp.significant:
        s += " ▲" if cmp.difference > 0 else " ▼"
    return s


def test_league_table_prints_places_estimates_and_rank_intervals(report_wave):
    b = report_wave.bundle
    r = b.results
    item = r.item("security")
    tokens = pdf_tokens(build_district_pdf(r, b.meta, "zh_CN"))
    start = tokens.index("状态")  # the league table's last header cell
    values = {code: e.value for code, e in item.by_street.items() if e is not None}
    assert len(values) == 13
    # places by hand: 1 + the number of streets with a higher rate
    places = {c: 1 + sum(w > v for w in values.values()) for c, v in values.items()}
    names = {code: zh for code, zh, _en in r.streets}

    def whole(x):
        return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"

    for code in sorted(values, key=lambda c: places[c]):
        e, rank = item.by_street[code], item.ranks[code]
        expected = words(
            [
                f"{e.n}†" if e.n < 30 else str(e.n),
                pct(e.value),
                # ‡: the Korn-Graubard interval at 100% (see the methodology box)
                f"{pct(e.ci_low)}–{pct(e.ci_high)}" + ("‡" if e.fallback else ""),
                f"{whole(rank.low)}–{whole(rank.high)}",
                fmt_cmp(item.vs_district[code]),
                fmt_cmp(item.vs_previous.get(code)),
            ]
        )
        got, start = row_after(tokens, start, names[code], len(expected))
        assert tokens[start - 2] == str(places[code])
        assert got == expected, code
    # the district's own row
    got, _ = row_after(tokens, start, "区县", 3)
    assert got == [
        str(item.overall.n),
        pct(item.overall.value),
        f"{pct(item.overall.ci_low)}–{pct(item.overall.ci_high)}",
    ]


def test_district_warnings_follow_the_rules_by_hand(report_wave):
    b = report_wave.bundle
    r = b.results
    item = r.item("security")
    now = {c: e.value for c, e in item.by_street.items()}
    before = {c: e.value for c, e in b.meta.history[-1].by_street["security"].items() if e}
    bottom_now = set(sorted(now, key=now.get)[:5])
    bottom_before = set(sorted(before, key=before.get)[:5])
    statuses = street_statuses(r, b.meta)
    for code in now:
        expected = (
            "yellow_card"
            if code in bottom_now and code in bottom_before
            else "interview"
            if code in bottom_now
            else None
        )
        assert statuses[code].status == expected, code
        assert statuses[code].below_floor == (now[code] < 0.8)
    text = pdftotext(build_district_pdf(r, b.meta, "zh_CN"))
    names = {code: zh for code, zh, _en in r.streets}
    yellow = [c for c in now if statuses[c].status == "yellow_card"]
    for code in yellow:
        assert f"{names[code]}（2轮）" in text


def _with_history(bundle, histories, current, rules=None):
    """The real bundle with the security rates replaced by hand-made ones."""
    r, m = bundle.results, bundle.meta
    item = r.item("security")
    codes = [c for c, _zh, _en in r.streets]
    new_item = replace(
        item, by_street={c: est(current[c]) if c in current else None for c in codes}, ranks={}
    )
    items = [new_item if i.id == "security" else i for i in r.items]
    history = tuple(
        WaveHistory(
            code=f"W{k}",
            name=f"W{k}",
            overall={},
            by_street={"security": {c: est(v) for c, v in h.items()}},
        )
        for k, h in enumerate(histories)
    )
    options = m.options if rules is None else replace(m.options, warnings=rules)
    return replace(r, items=items), replace(m, history=history, options=options)


def test_consecutive_bottom_places_escalate(report_wave):
    codes = [c for c, _zh, _en in report_wave.bundle.results.streets]
    # street A is last three waves running, B twice, C only now, D was bottom before but not now
    a, b_, c, d = codes[:4]
    rest = codes[4:]

    def wave(bottom: list[str]) -> dict[str, float]:
        values = {code: 0.95 + 0.001 * k for k, code in enumerate(rest)}
        for k, code in enumerate([x for x in codes[:4] if x not in bottom]):
            values[code] = 0.99 - 0.001 * k
        for k, code in enumerate(bottom):
            values[code] = 0.70 + 0.01 * k
        return values

    histories = [wave([a, d]), wave([a, b_, d])]
    current = wave([a, b_, c])
    rules = WarningRules(bottom=3, floor=0.705)
    results, meta = _with_history(report_wave.bundle, histories, current, rules)
    s = street_statuses(results, meta)
    assert (s[a].status, s[a].bottom_waves) == ("rectification", 3)
    assert (s[b_].status, s[b_].bottom_waves) == ("yellow_card", 2)
    assert (s[c].status, s[c].bottom_waves) == ("interview", 1)
    assert s[d].status is None and s[d].bottom_waves == 0
    assert [code for code in codes if s[code].below_floor] == [a]  # 0.70 < 0.705
    text = pdftotext(build_district_pdf(results, meta, "zh_CN"))
    assert "挂牌整治" in text and "黄牌警告" in text and "约谈" in text
    english = pdftotext(build_district_pdf(results, meta, "en"))
    assert "listed for rectification" in english and "yellow card" in english


def test_ties_share_a_place_and_missing_streets_have_none(report_wave):
    codes = [c for c, _zh, _en in report_wave.bundle.results.streets]
    current = {c: 0.9 for c in codes[:12]}  # twelve tied, the thirteenth without estimate
    results, meta = _with_history(report_wave.bundle, [], current, WarningRules(bottom=5))
    s = street_statuses(results, meta)
    assert {s[c].rank for c in codes[:12]} == {1}
    assert s[codes[12]].rank is None and s[codes[12]].status is None
    # all twelve tie for the last places too: each is in the bottom five
    assert all(s[c].status == "interview" for c in codes[:12])


def test_warning_rules_from_settings_are_checked():
    options = ReportOptions.from_settings({"reports": {"warnings": {"bottom": 3}}})
    assert options.warnings.bottom == 3
    with pytest.raises(ReportError, match="reports.warnings.bottom"):
        ReportOptions.from_settings({"reports": {"warnings": {"bottom": 0}}})
    with pytest.raises(ReportError, match="floor"):
        ReportOptions.from_settings({"reports": {"warnings": {"floor": 80}}})
    with pytest.raises(ReportError, match="unknown key"):
        ReportOptions.from_settings({"reports": {"colour": "red"}})


def test_unknown_warning_indicator_is_a_clear_error(report_wave):
    b = report_wave.bundle
    meta = replace(b.meta, options=replace(b.meta.options, warnings=WarningRules(indicator="nope")))
    with pytest.raises(ReportError, match="'nope' is not an indicator"):
        build_district_pdf(b.results, meta)


def test_every_decimal_in_the_overview_comes_from_the_estimates(report_wave):
    b = report_wave.bundle
    r = b.results
    allowed: set[str] = {f"{r.weighting.kish_deff:.2f}", pct(0.8)}
    for item in r.items:
        f = pct if item.kind == "rate" else (lambda x: f"{x:.1f}")
        for est in [item.overall, *item.by_street.values()]:
            if est is not None:
                allowed |= {f(est.value), f(est.ci_low), f(est.ci_high)}
        for cmp in [*item.vs_district.values(), *item.vs_previous.values()]:
            if cmp is not None:
                allowed.add(signed(cmp.difference, item.kind).lstrip("+-"))
        for rank in item.ranks.values():
            allowed |= {f"{x:.1f}" for x in (rank.low, rank.high)}
        # the comparison with the previous wave prints that wave's value (now - difference)
        before = item.vs_previous.get("ALL")
        if before is not None and item.overall is not None:
            allowed.add(f(item.overall.value - before.difference))
    # the year's assessment: the pooled annual rates (tested in test_the_years_assessment_so_far)
    for s in (b.meta.assessment or {}).get("streets", []):
        if s["annual_rate"]:
            allowed |= {pct(s["annual_rate"][k]) for k in ("value", "ci_low", "ci_high")}
    text = pdftotext(build_district_pdf(r, b.meta, "zh_CN"))
    printed = {t.lstrip("+-") for t in NUMBER.findall(text) if "." in t}
    assert printed and printed <= allowed, sorted(printed - allowed)
    # and the indicator matrix: each street's rates, ▲/▼ where it differs from the district
    tokens = pdf_tokens(build_district_pdf(r, b.meta, "zh_CN"))
    start = tokens.index("各街道全部指标（%）")
    rates = [i for i in r.items if i.kind == "rate"]
    for code, zh, _en in sorted(r.streets):
        expected = []
        for item in rates:
            est, cmp = item.by_street.get(code), item.vs_district.get(code)
            cell = pct(est.value) if est is not None else "—"
            if est is not None and est.n < 30:
                cell += "†"
            elif est is not None and cmp is not None and cmp.significant:
                cell += "▲" if cmp.difference > 0 else "▼"
            expected.append(cell)
        got, start = row_after(tokens, start, zh, len(expected))
        assert got == expected, code


def test_runs_count_consecutive_quarters_by_date(report_wave):
    # Issue 18: two waves in the bottom five make a yellow card only when their quarters
    # follow each other by date; a wave two quarters earlier starts a new run.
    from datetime import date

    b = report_wave.bundle
    meta = b.meta
    assert meta.starts_on is not None and len(meta.history) == 1
    quarter = (meta.starts_on.month - 1) // 3  # 0-based
    previous = date(meta.starts_on.year, 3 * ((quarter - 1) % 4) + 1, 1)
    if quarter == 0:
        previous = previous.replace(year=meta.starts_on.year - 1)
    adjacent = replace(meta, history=(replace(meta.history[0], starts_on=previous),))
    gap = replace(
        meta, history=(replace(meta.history[0], starts_on=date(meta.starts_on.year - 1, 1, 1)),)
    )
    by_date = street_statuses(b.results, adjacent)
    twice = [c for c, s in by_date.items() if s.bottom_waves == 2]
    assert twice and all(by_date[c].status == "yellow_card" for c in twice)
    apart = street_statuses(b.results, gap)
    for code in twice:
        assert apart[code].bottom_waves == 1 and apart[code].status == "interview"


def test_the_years_assessment_so_far(report_wave):
    # Issue 18: the annual assessment (pooled waves of the year up to this one) in the report.
    b = report_wave.bundle
    doc = b.meta.assessment
    assert doc is not None and doc["year"] == b.meta.starts_on.year
    assert doc["annual_waves"][str(doc["year"])][-1] == b.results.wave_code
    text = "".join("".join(pdf_lines_of(build_district_pdf(b.results, b.meta, "zh_CN"))).split())
    assert f"{doc['year']}年度考核（截至本轮）" in text
    for s in doc["streets"]:
        rate = s["annual_rate"]
        row = f"{s['name']}{pct(rate['value'])}{pct(rate['ci_low'])}–{pct(rate['ci_high'])}"
        assert row in text, row
        if s["disqualified"]:
            assert rate["value"] < 0.8
