"""The per-street PDF read back: every figure against the estimation output, Chinese glyphs,
a rendered first page."""

from __future__ import annotations

import io
import subprocess

import pytest
from pypdf import PdfReader

from surveyapp.reports import build_street_pdf
from surveyapp.reports.fonts import report_fonts

from .conftest import NUMBER, pct, pdf_lines, pdftotext, pts, signed

MIN_N = 30


def fmt_value(est, kind):
    if est is None:
        return "—"
    return pct(est.value) + "%" if kind == "rate" else pts(est.value)


def fmt_ci(est, kind):
    if est is None:
        return "—"
    f = pct if kind == "rate" else pts
    return f"{f(est.ci_low)}–{f(est.ci_high)}"


def fmt_cmp(cmp, kind):
    if cmp is None:
        return "—"
    s = signed(cmp.difference, kind)
    if cmp.significant and s != "0.0":
        s += " ▲" if cmp.difference > 0 else " ▼"
    return s


def fmt_n(est):
    if est is None:
        return "—"
    return f"{est.n}†" if est.n < MIN_N else str(est.n)


def expected_row(item, code):
    est = item.by_street.get(code)
    row = [item.label["zh_CN"], fmt_n(est), fmt_value(est, item.kind), fmt_ci(est, item.kind),
           fmt_value(item.overall, item.kind), fmt_cmp(item.vs_district.get(code), item.kind),
           fmt_cmp(item.vs_previous.get(code), item.kind)]
    return row


def cells_after(lines, start, label, count):
    i = lines.index(label, start)
    return lines[i:i + count], i


@pytest.fixture(scope="module")
def street_pdfs(report_wave):
    b = report_wave.bundle
    return {code: build_street_pdf(b.results, code, b.meta, "zh_CN")
            for code, _zh, _en in b.results.streets}


def test_indicator_and_score_tables_print_the_estimates(report_wave, street_pdfs):
    results = report_wave.bundle.results
    checked = 0
    for code, pdf in street_pdfs.items():
        lines = pdf_lines(pdf)
        head = lines.index("综合得分")
        for item in (i for i in results.items if i.kind == "score"):
            row = expected_row(item, code)
            got, _ = cells_after(lines, head, row[0], len(row))
            assert got == row, (code, item.id)
        start = lines.index("目标")  # the indicator table's last header cell
        for item in (i for i in results.items if i.kind == "rate"):
            row = expected_row(item, code)
            got, i = cells_after(lines, start, row[0], len(row))
            assert got == row, (code, item.id)
            target = lines[i + len(row)]
            if item.target is None:
                assert target == "—"
            else:
                est = item.by_street.get(code)
                assert target.startswith("≥" + pct(item.target) + "%")
                if est is not None:
                    word = " ".join(lines[i + len(row): i + len(row) + 2])
                    met = est.value >= item.target
                    assert ("未达标" not in word) == met, (code, item.id, word)
            checked += 1
    assert checked == 13 * 10


def test_sample_counts(report_wave, street_pdfs):
    b = report_wave.bundle
    for code, pdf in street_pdfs.items():
        lines = pdf_lines(pdf)
        start = lines.index("样本")
        mine = b.meta.sample_by_street_mode.get(code, {})
        got, _ = cells_after(lines, start, "电话访问（CATI）", 3)
        assert got[1:] == [str(mine.get("phone", 0)), str(b.results.n_by_mode["phone"])]
        got, _ = cells_after(lines, start, "入户访问", 3)
        assert got[1:] == [str(mine.get("door", 0)), str(b.results.n_by_mode["door"])]
        got, _ = cells_after(lines, start, "合计", 3)
        assert got[1:] == [str(b.results.n_by_street[code]), str(b.results.n)]
        assert sum(mine.values()) == b.results.n_by_street[code]


def test_communities_and_factors(report_wave, street_pdfs):
    b = report_wave.bundle
    r = b.results
    main = [r.item("security"), r.item("law_enforcement_satisfaction")]
    factors = r.factor_shares["unsafe_factors"]
    for code, pdf in street_pdfs.items():
        lines = pdf_lines(pdf)
        start = lines.index("各社区情况")
        for community, (street, zh, _en) in sorted(r.communities.items()):
            if street != code:
                continue
            i = lines.index(zh, start)
            start = i + 1
            cells = lines[i + 1:i + 7]
            for k, item in enumerate(main):
                n = b.meta.community_n[item.id].get(community, 0)
                assert cells[3 * k] == (f"{n}†" if n < MIN_N else str(n))
                point = b.meta.community_value[item.id].get(community)
                est = item.by_community.get(community)
                if est is not None:
                    point = est.value
                assert cells[3 * k + 1] == (pct(point) if point is not None else "—")
                assert cells[3 * k + 2] == fmt_ci(est, "rate")
        start = lines.index("影响安全感的因素")
        for factor, label in b.meta.factor_labels.items():
            if factor == "none":
                continue
            got, _ = cells_after(lines, start, label["zh_CN"], 5)
            mine, district = factors[code].get(factor), factors["ALL"].get(factor)
            assert got[1:] == [fmt_value(mine, "rate"), fmt_ci(mine, "rate"),
                               fmt_value(district, "rate"), fmt_ci(district, "rate")]


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
        fonts_list = subprocess.run(["pdffonts", str(path)], capture_output=True,
                                    check=True).stdout
    for line in fonts_list.decode().splitlines()[2:]:
        if "WenQuanYi" in line:
            assert " yes yes yes " in line  # embedded, subset, with a Unicode map
    assert b.results.streets[0][1] in text


def test_first_page_renders_to_png(report_wave, street_pdfs, tmp_path):
    path = tmp_path / "320106001.pdf"
    path.write_bytes(street_pdfs["320106001"])
    subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1", str(path),
                    str(tmp_path / "page")], check=True)
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
    item = b.results.item("security")
    start = lines.index("Target")
    row = expected_row(item, "320106001")
    row[0] = item.label["en"]
    got, _ = cells_after(lines, start, row[0], len(row))
    assert got == row
