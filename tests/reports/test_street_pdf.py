"""The per-street PDF read back: every figure against the estimation output, Chinese glyphs,
a rendered first page."""

from __future__ import annotations

import io
import subprocess

import pytest
from pypdf import PdfReader

from surveyapp.reports import build_street_pdf
from surveyapp.reports.fonts import report_fonts

from .conftest import (
    NUMBER,
    pct,
    pdf_lines,
    pdf_tokens,
    pdftotext,
    pts,
    row_after,
    signed,
    words,
)

MIN_N = 30


def fmt_value(est, kind):
    if est is None:
        return "—"
    return pct(est.value) + "%" if kind == "rate" else pts(est.value)


def fmt_ci(est, kind):
    if est is None:
        return "—"
    f = pct if kind == "rate" else pts
    # ‡: an interval from a documented fallback (Korn-Graubard at 0%/100%; see methodology)
    return f"{f(est.ci_low)}–{f(est.ci_high)}" + ("‡" if est.fallback else "")


def fmt_cmp(cmp, kind):
    if cmp is None:
        return "—"
    s = signed(cmp.difference, kind)
    if cmp.significant:
        s += " ▲" if cmp.difference > 0 else " ▼"
    return s


def fmt_n(est):
    if est is None:
        return "—"
    return f"{est.n}†" if est.n < MIN_N else str(est.n)


def expected_row(item, code):
    """The cells of an indicator's row after its label."""
    est = item.by_street.get(code)
    return [
        fmt_n(est),
        fmt_value(est, item.kind),
        fmt_ci(est, item.kind),
        fmt_value(item.overall, item.kind),
        fmt_cmp(item.vs_district.get(code), item.kind),
        fmt_cmp(item.vs_previous.get(code), item.kind),
    ]


def target_cell(item, code):
    if item.target is None:
        return "—"
    est = item.by_street.get(code)
    goal = "≥" + pct(item.target) + "%"
    if est is None:
        return goal
    return goal + (" 达标" if est.value >= item.target else " 未达标")


@pytest.fixture(scope="module")
def street_pdfs(report_wave):
    b = report_wave.bundle
    return {
        code: build_street_pdf(b.results, code, b.meta, "zh_CN")
        for code, _zh, _en in b.results.streets
    }


def test_indicator_and_score_tables_print_the_estimates(report_wave, street_pdfs):
    results = report_wave.bundle.results
    checked = 0
    for code, pdf in street_pdfs.items():
        tokens = pdf_tokens(pdf)
        head = tokens.index("综合得分")
        for item in (i for i in results.items if i.kind == "score"):
            expected = words(expected_row(item, code))
            got, _ = row_after(tokens, head, item.label["zh_CN"], len(expected))
            assert got == expected, (code, item.id)
        start = tokens.index("目标")  # the indicator table's last header cell
        for item in (i for i in results.items if i.kind == "rate"):
            expected = words(expected_row(item, code) + [target_cell(item, code)])
            got, _ = row_after(tokens, start, item.label["zh_CN"], len(expected))
            assert got == expected, (code, item.id)
            checked += 1
    assert checked == 13 * 10


def test_sample_counts(report_wave, street_pdfs):
    b = report_wave.bundle
    for code, pdf in street_pdfs.items():
        tokens = pdf_tokens(pdf)
        start = tokens.index("样本")
        mine = b.meta.sample_by_street_mode.get(code, {})
        got, _ = row_after(tokens, start, "电话访问（CATI）", 2)
        assert got == [str(mine.get("phone", 0)), str(b.results.n_by_mode["phone"])]
        got, _ = row_after(tokens, start, "入户访问", 2)
        assert got == [str(mine.get("door", 0)), str(b.results.n_by_mode["door"])]
        got, _ = row_after(tokens, start, "合计", 2)
        assert got == [str(b.results.n_by_street[code]), str(b.results.n)]
        assert sum(mine.values()) == b.results.n_by_street[code]


def test_communities_and_factors(report_wave, street_pdfs):
    b = report_wave.bundle
    r = b.results
    main = [r.item("security"), r.item("law_enforcement_satisfaction")]
    factors = r.factor_shares["unsafe_factors"]
    for code, pdf in street_pdfs.items():
        tokens = pdf_tokens(pdf)
        start = tokens.index("各社区情况")
        for community, (street, zh, _en) in sorted(r.communities.items()):
            if street != code:
                continue
            expected = []
            for item in main:
                n = b.meta.community_n[item.id].get(community, 0)
                point = b.meta.community_value[item.id].get(community)
                est = item.by_community.get(community)
                if est is not None:
                    point = est.value
                expected += [
                    f"{n}†" if n < MIN_N else str(n),
                    pct(point) if point is not None else "—",
                    fmt_ci(est, "rate"),
                ]
            got, start = row_after(tokens, start, zh, len(expected))
            assert got == expected, (code, community)
        start = tokens.index("影响安全感的因素")
        for factor, label in b.meta.factor_labels.items():
            if factor == "none":
                continue
            mine, district = factors[code].get(factor), factors["ALL"].get(factor)
            expected = [
                fmt_value(mine, "rate"),
                fmt_ci(mine, "rate"),
                fmt_value(district, "rate"),
                fmt_ci(district, "rate"),
            ]
            got, _ = row_after(tokens, start, label["zh_CN"], 4)
            assert got == expected, (code, factor)


def _expected_numbers(b, code) -> set[str]:
    """Every decimal a street's report may print, computed from the estimation output."""
    out: set[str] = set()
    r, m = b.results, b.meta

    def add_est(est, kind):
        if est is not None:
            f = pct if kind == "rate" else pts
            out.update({f(est.value), f(est.ci_low), f(est.ci_high)})

    def add_cmp(cmp, kind):
        if cmp is not None:
            out.add(signed(cmp.difference, kind).lstrip("+-"))

    for item in (*r.items, *m.departments):
        add_est(item.by_street.get(code), item.kind)
        add_est(item.overall, item.kind)
        add_cmp(item.vs_district.get(code), item.kind)
        add_cmp(item.vs_previous.get(code), item.kind)
        if item.target is not None:
            out.add(pct(item.target))
        for community, est in item.by_community.items():
            if r.communities[community][0] == code:
                add_est(est, item.kind)
    for values in m.community_value.values():
        out.update(pct(v) for c, v in values.items() if r.communities[c][0] == code)
    for table in r.factor_shares.values():
        for domain in (code, "ALL"):
            for est in table.get(domain, {}).values():
                add_est(est, "rate")
    out.add(f"{r.weighting.kish_deff:.2f}")
    return out


def test_every_decimal_printed_comes_from_the_estimates(report_wave, street_pdfs):
    b = report_wave.bundle
    for code, pdf in street_pdfs.items():
        allowed = _expected_numbers(b, code)
        for extractor in (lambda d: "\n".join(pdf_lines(d)), pdftotext):
            printed = {t.lstrip("+-") for t in NUMBER.findall(extractor(pdf)) if "." in t}
            # version numbers and times are not figures
            stray = {t for t in printed if t not in allowed and t not in {"2.0"}}
            assert not stray, (code, sorted(stray))


def test_chinese_text_is_embedded_with_its_glyphs(report_wave, street_pdfs, tmp_path):
    b = report_wave.bundle
    pdf = street_pdfs["320106001"]
    text = pdftotext(pdf)
    for name in ("宁海路街道", "鼓楼区", "群众安全感", "执法队伍满意率", "方法说明", "置信区间"):
        assert name in text
    reader = PdfReader(io.BytesIO(pdf))
    fonts = {}
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            fonts[str(font["/BaseFont"])] = font
    cjk = [f for name, f in fonts.items() if "WenQuanYi" in name]
    assert cjk, f"no embedded CJK font among {sorted(fonts)}"
    for font in cjk:
        assert "/FontFile2" in font["/FontDescriptor"]  # the TrueType program is in the file
    # The embedded font has a glyph for every character the report contains.
    assert report_fonts().embedded
    assert report_fonts().missing_glyphs(text) == set()
    fonts_list = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True).stdout
    if not fonts_list:  # pdffonts reads files only
        path = tmp_path / "street.pdf"
        path.write_bytes(pdf)
        fonts_list = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True).stdout
    for line in fonts_list.decode().splitlines()[2:]:
        if "WenQuanYi" in line:
            assert " yes yes yes " in line  # embedded, subset, with a Unicode map
    assert b.results.streets[0][1] in text


def test_first_page_renders_to_png(report_wave, street_pdfs, tmp_path):
    path = tmp_path / "320106001.pdf"
    path.write_bytes(street_pdfs["320106001"])
    subprocess.run(
        ["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")],
        check=True,
    )
    png = next(tmp_path.glob("page*.png"))
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert (width, height) == (662, 936)  # A4 at 80 dpi
    from PIL import Image  # (Pillow comes with reportlab)

    with Image.open(png) as image:
        gray = image.convert("L")
        title = gray.crop((40, 40, 620, 80))  # the title line
        assert sum(title.histogram()[:160]) > 500  # drawn, not blank
    print(f"first page of the street report: {png}")


def test_english_report(report_wave):
    b = report_wave.bundle
    pdf = build_street_pdf(b.results, "320106001", b.meta, "en")
    lines = pdf_lines(pdf)
    assert any(line.endswith("public security and satisfaction survey") for line in lines[:4])
    tokens = pdf_tokens(pdf)
    item = b.results.item("security")
    expected = words(expected_row(item, "320106001"))
    got, _ = row_after(tokens, tokens.index("Target"), item.label["en"], len(expected))
    assert got == expected


def test_sample_and_community_figures_by_hand(report_wave):
    """The report's sample table (street x mode, in order of appearance) and its communities'
    counts and weighted points equal a response-by-response count over the extracted wave."""
    from surveyapp.services.reports import find_survey_wave, survey_streets
    from surveyapp.services.wave_design import build_design, survey_settings
    from surveyapp.services.wave_selection import wave_version as version_of
    from surveyapp.services.wave_snapshot import extract_wave

    meta = report_wave.bundle.meta
    with report_wave.app.app_context():
        survey, wave = find_survey_wave(1)
        schema = version_of(survey, wave).schema
        data = extract_wave(wave, schema)
        design, _ = build_design(data, survey_streets(survey), survey_settings(survey))
        streets = data.columns["street"].tolist()
        sample: dict = {}
        for street, mode in zip(streets, data.columns["mode"].tolist(), strict=True):
            sample.setdefault(street, {})
            sample[street][mode] = sample[street].get(mode, 0) + 1
        assert list(meta.sample_by_street_mode.items()) == list(sample.items())
        weights = [float(w) for w in design.weights]
        communities = data.columns["community"].tolist()
        for item in (*schema.indicators, *schema.composites):
            n: dict[str, int] = {}
            sums: dict[str, list[float]] = {}
            for c, w, y in zip(communities, weights, data.values[item.id].tolist(), strict=True):
                if y != y:  # NaN: not counted
                    continue
                n[c] = n.get(c, 0) + 1
                s = sums.setdefault(c, [0.0, 0.0])
                s[0] += w * y
                s[1] += w
            assert meta.community_n[item.id] == dict(sorted(n.items())), item.id
            assert list(meta.community_value[item.id]) == sorted(n)
            for c, (swy, sw) in sums.items():
                assert meta.community_value[item.id][c] == pytest.approx(swy / sw, rel=1e-12)


def test_data_as_of_is_in_the_survey_time_zone_and_names_it(report_wave, street_pdfs):
    """数据截至: the latest counted submission, converted to Asia/Shanghai here independently."""
    from datetime import UTC
    from zoneinfo import ZoneInfo

    from sqlalchemy import func, select

    from surveyapp.extensions import db
    from surveyapp.models import Response, Wave

    with report_wave.app.app_context():
        wave = db.session.scalar(select(Wave).where(Wave.code == report_wave.bundle.meta.wave_code))
        last = db.session.scalar(
            select(func.max(Response.submitted_at)).where(
                Response.wave_id == wave.id, Response.status != "rejected"
            )
        )
    shanghai = last.replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Shanghai"))
    text = pdftotext(street_pdfs["320106001"])
    assert f"{shanghai:%Y-%m-%d %H:%M} (Asia/Shanghai)" in text


def test_other_enforcement_departments_apart_from_the_political_legal_units(
    report_wave, street_pdfs
):
    # Issue 18: 城管, 环保 and 市场监管 are reported apart from 公安, 检察院, 法院, 司法行政.
    text = "".join("".join(pdf_lines(street_pdfs["320106001"])).split())
    legal, other = text.index("对政法单位的满意度"), text.index("对其他执法部门的满意度")
    assert legal < other
    labels = {
        d.id.removeprefix("department:"): d.label["zh_CN"]
        for d in report_wave.bundle.meta.departments
    }
    for qid in ("police_satisfaction", "court_satisfaction"):
        assert legal < text.index("".join(labels[qid].split())[:12]) < other
    for qid in ("urban_management_satisfaction", "market_regulation_satisfaction"):
        assert text.index("".join(labels[qid].split())[:12]) > other
