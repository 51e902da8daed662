"""The printable questionnaire PDF: content in Chinese and English, Uyghur right to left
(shaped, right-aligned, glyphs in embedded fonts), fallback marking, command and download.

The PDFs are read back with poppler (pdftotext, pdftotext -bbox, pdftoppm) and pypdf; the
expected texts come from the questionnaire files (the XLSForm is read with openpyxl), the
expected positions from the page geometry, the glyph coverage from fontconfig (fc-query).
"""

from __future__ import annotations

import io
import re
import subprocess
import unicodedata
from pathlib import Path

import openpyxl
import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import QuestionnaireVersion
from surveyapp.questionnaire import QuestionnaireError, load_questionnaire, load_questionnaire_text
from surveyapp.questionnaire.export import dump_document, read_document
from surveyapp.questionnaire.xlsform import xlsform_to_yaml
from surveyapp.reports import questionnaire_pdf
from surveyapp.reports.questionnaire_pdf import QuestionnairePdfError, build_questionnaire_pdf
from surveyapp.services.design import UNTRANSLATED, preview_document

ROOT = Path(__file__).resolve().parents[2]
STANDARD = ROOT / "questionnaires" / "public-security-satisfaction.yaml"
UYGHUR_XLSX = Path(__file__).resolve().parent / "data" / "kobo_police_uyghur.xlsx"
MM = 72 / 25.4
PAGE_WIDTH = 595.2756
RIGHT_EDGE = PAGE_WIDTH - 18 * MM
LEFT_EDGE = 18 * MM
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e"), None)
ARABIC = re.compile("[\u0600-\u06ff\ufb50-\ufdff\ufe70-\ufeff]")


def _pdftotext(pdf: bytes, *args: str) -> str:
    result = subprocess.run(
        ["pdftotext", *args, "-", "-"], input=pdf, capture_output=True, check=True
    )
    return result.stdout.decode("utf-8")


def _plain(text: str) -> str:
    """Extracted text with presentation forms folded (NFKC), bidi controls and spaces removed."""
    text = unicodedata.normalize("NFKC", text).translate(BIDI_CONTROLS)
    return re.sub(r"\s+", "", text)


def _uyghur_schema(drop_label_of: str | None = None):
    """The Uyghur XLSForm loaded; with ``drop_label_of``, as a draft whose question has no
    Uyghur label yet (loaded the way the designer prints drafts: the gap set to a marker)."""
    text, _ = xlsform_to_yaml(UYGHUR_XLSX.read_bytes(), UYGHUR_XLSX.name)
    if drop_label_of is None:
        return load_questionnaire_text(text)
    doc = read_document(text)
    for group in doc["groups"]:
        for question in group["questions"]:
            if question["id"] == drop_label_of:
                del question["label"]["ug"]
    with pytest.raises(QuestionnaireError, match="missing ug translation"):
        load_questionnaire_text(dump_document(doc))
    return load_questionnaire_text(dump_document(preview_document(doc, UNTRANSLATED)))


def _uyghur_sheet_labels() -> dict[str, str]:
    """name -> Uyghur label, read from the XLSForm itself (survey and choices sheets)."""
    book = openpyxl.load_workbook(UYGHUR_XLSX, read_only=True)
    labels = {}
    for sheet, key in (("survey", "name"), ("choices", "name")):
        rows = list(book[sheet].iter_rows(values_only=True))
        header = list(rows[0])
        ug, name = header.index("label::Uyghur (ug)"), header.index(key)
        for row in rows[1:]:
            if len(row) > ug and row[ug]:
                labels[f"{sheet}:{row[name]}"] = row[ug]
    return labels


@pytest.fixture(scope="module")
def standard():
    return load_questionnaire(STANDARD)


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_standard_questionnaire_has_every_question_and_choice(standard, language):
    pdf = build_questionnaire_pdf(standard, language)
    assert pdf.startswith(b"%PDF")
    text = _plain(_pdftotext(pdf))
    assert _plain(standard.title[language]) in text
    for group in standard.groups:
        assert _plain(group.title[language]) in text, group.id
    for question in standard.questions.values():
        assert _plain(f"{question.id}{question.label[language]}") in text, question.id
        for choice in question.choices:
            assert _plain(f"{choice.code}{choice.label[language]}") in text, (question.id, choice)
    # Skip instructions in words, with the answer's label.
    if language == "zh_CN":
        assert _plain("如果had_dispute=是，才问本题") in text
        assert _plain("如果resident_6m=是并且age_16plus=是，才问本部分") in text
        assert _plain("（多选，可在多个方框内打✓）") in text
    else:
        assert "Askifhad_dispute=Yes" in text
        assert "Askthissectionifresident_6m=Yesandage_16plus=Yes" in text
    assert "†" not in text  # everything is translated
    # Left to right: the question lines start at the left margin.
    lefts = [x0 for x0, _x1, words in _lines(pdf) if words[0] in standard.questions]
    assert len(lefts) == len(standard.questions)
    assert all(abs(x0 - LEFT_EDGE) < 0.5 for x0 in lefts)


def _lines(pdf: bytes, page: int | None = None) -> list[tuple[float, float, list[str]]]:
    """(left, right, words) of each text line, from pdftotext -bbox (words from left to right),
    without the page footers (the centred page numbers, in the bottom 15 mm)."""
    html = _pdftotext(pdf, "-bbox", *(["-f", str(page), "-l", str(page)] if page else []))
    lines: dict[tuple[int, float], list[tuple[float, float, str]]] = {}
    for number, body in enumerate(re.findall(r"<page .*?</page>", html, re.S)):
        for x0, y0, x1, word in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">(.*?)</word>',
            body,
        ):
            if float(y0) > 841.89 - 15 * MM:
                continue
            lines.setdefault((number, round(float(y0), 1)), []).append((float(x0), float(x1), word))
    result = []
    for words in lines.values():
        words.sort()
        result.append((words[0][0], words[-1][1], [w for _a, _b, w in words]))
    return result


def test_uyghur_is_shaped_right_aligned_and_in_embedded_fonts(tmp_path):
    schema = _uyghur_schema()
    assert schema.language("ug").rtl
    pdf = build_questionnaire_pdf(schema, "ug")
    text = _plain(_pdftotext(pdf))
    labels = _uyghur_sheet_labels()
    assert len(labels) >= 12
    for key, label in labels.items():
        assert _plain(label) in text, key
    # Shaped: the letters are drawn as contextual forms (presentation forms), not base letters.
    raw = _pdftotext(pdf)
    assert re.search("[\ufb50-\ufdff\ufe70-\ufeff]", raw)
    # ئەمەس: the letter before ە (AE, joined on its right only) is in its joining form: ئ
    # initial U+FE8B, not isolated U+FE89; م initial U+FEE3 (after ە, which does not join on).
    assert "\ufe8b\u06d5\ufee3\u06d5\ufeb1" in raw
    assert "\ufe89\u06d5" not in raw
    # Right-aligned: every line holding Uyghur ends at the right margin, or at the margin less
    # the indent of hints (4 mm) or of choices (6 mm, the tick box of 8.5 pt, 2.5 mm); the
    # left ends vary with the length of the text.
    rights = {RIGHT_EDGE, RIGHT_EDGE - 4 * MM, RIGHT_EDGE - 6 * MM - 8.5 - 2.5 * MM}
    uyghur_lines = [line for line in _lines(pdf) if any(ARABIC.search(w) for w in line[2])]
    assert len(uyghur_lines) >= 15
    for _x0, x1, words in uyghur_lines:
        assert min(abs(x1 - r) for r in rights) < 0.6, (x1, words)
    assert len({round(x0) for x0, _x1, _w in uyghur_lines}) > 8
    # The question code stands at the right end of the question line (it is read first).
    for qid in ("police_sat", "why", "contacts"):
        line = next(line for line in uyghur_lines if qid in line[2])
        assert abs(line[1] - RIGHT_EDGE) < 0.6 and line[2][-1] == qid
    # The same questionnaire in English is left-aligned.
    english = [
        line
        for line in _lines(build_questionnaire_pdf(schema, "en"))
        if line[2][0] in ("police_sat", "why", "contacts")
    ]
    assert len(english) == 3 and all(abs(x0 - LEFT_EDGE) < 0.5 for x0, _x1, _w in english)
    _assert_glyphs_embedded(pdf)
    # Page 1 rendered: there is ink, more of it in the right half than in the left half.
    png = tmp_path / "page"
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "50",
            "-png",
            "-gray",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            "-",
            str(png),
        ],
        input=pdf,
        check=True,
    )
    image = Image.open(f"{png}.png").convert("L")
    width, height = image.size
    pixels = image.load()
    dark = [(x, y) for x in range(width) for y in range(height) if pixels[x, y] < 128]
    right = sum(1 for x, _y in dark if x > width / 2)
    assert dark and right > 2 * (len(dark) - right)


def _assert_glyphs_embedded(pdf: bytes) -> None:
    """Every text is drawn in an embedded TrueType font whose file (found by fontconfig) has a
    glyph for each of its characters."""
    used: dict[str, set[str]] = {}
    fonts: dict[str, object] = {}

    def visit(text, _cm, _tm, font_dict, _size):
        if font_dict is not None and text.strip():
            name = str(font_dict["/BaseFont"])
            used.setdefault(name, set()).update(ch for ch in text if not ch.isspace())
            fonts[name] = font_dict

    for page in PdfReader(io.BytesIO(pdf)).pages:
        page.extract_text(visitor_text=visit)
    assert used
    for name, chars in used.items():
        descriptor = fonts[name]["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor, f"{name} is not embedded"
        family = re.sub(r"-\d+$", "", name.split("+", 1)[-1])  # reportlab adds -N in a TTC
        file = subprocess.run(
            ["fc-match", "-f", "%{file}", family], capture_output=True, text=True, check=True
        ).stdout
        faces = subprocess.run(
            ["fc-query", "--format=%{postscriptname}|%{charset}\n", file],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        ranges = next(face.split("|")[1] for face in faces if face.split("|")[0] == family).split()
        covered = []
        for item in ranges:
            low, _, high = item.partition("-")
            covered.append((int(low, 16), int(high or low, 16)))
        missing = {ch for ch in chars if not any(a <= ord(ch) <= b for a, b in covered)}
        # U+06D5 (AE) has no presentation forms; poppler's text may still be folded.
        assert not missing, (name, sorted(missing))


def test_untranslated_text_is_printed_in_the_default_language_and_marked():
    schema = _uyghur_schema(drop_label_of="contacts")
    assert schema.questions["contacts"].label["ug"] == UNTRANSLATED
    pdf = build_questionnaire_pdf(schema, "ug", UNTRANSLATED)
    text = _plain(_pdftotext(pdf))
    # Drawn left to right (no Uyghur in it), right-aligned, marked; poppler's plain text
    # reorders the neutral marks of such a line in an RTL page, so the words are read by place.
    line = next(line for line in _lines(pdf) if "contacts" in line[2])
    assert line[2] == ["contacts", "今年您联系过公安几次？", "†"]
    assert abs(line[1] - RIGHT_EDGE) < 0.6
    assert text.count("†") == 2  # the text and the note explaining the mark
    assert _plain("تېخى ئۇيغۇرچە غا تەرجىمە قىلىنمىغان") in text
    _assert_glyphs_embedded(pdf)  # Chinese in the Chinese font, in a Uyghur page
    english = _plain(_pdftotext(build_questionnaire_pdf(schema, "en", UNTRANSLATED)))
    assert "†" not in english and "untranslated" not in english


def test_unknown_language_and_missing_font_are_named(standard, monkeypatch):
    with pytest.raises(QuestionnairePdfError, match=r"language 'ug' is not one of .*zh_CN, en"):
        build_questionnaire_pdf(standard, "ug")
    monkeypatch.delenv("SURVEYAPP_ARABIC_FONT", raising=False)
    monkeypatch.setattr(questionnaire_pdf, "ARABIC_CANDIDATES", ("/nonexistent/font.ttf",))
    with pytest.raises(QuestionnairePdfError, match="fonts-dejavu-core"):
        questionnaire_pdf.arabic_font.__wrapped__()


def test_command_writes_the_pdf_and_refuses_a_bad_language(runner, tmp_path):
    result = runner.invoke(args=["questionnaire", "import", str(STANDARD)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "paper.pdf"
    for reference in ("1", "public-security-satisfaction", "public-security-satisfaction@1"):
        result = runner.invoke(
            args=["questionnaire", "pdf", reference, "--language", "en", "-o", str(out)]
        )
        assert result.exit_code == 0, result.output
        assert "Askifhad_dispute=Yes" in _plain(_pdftotext(out.read_bytes()))
    result = runner.invoke(
        args=["questionnaire", "pdf", "1", "--language", "ug", "-o", str(tmp_path / "x.pdf")]
    )
    assert result.exit_code == 2
    assert "“ug”不是 public-security-satisfaction 第 1 版的语言（zh_CN, en）" in result.output
    assert not (tmp_path / "x.pdf").exists()
    result = runner.invoke(args=["questionnaire", "pdf", "nope", "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code == 1 and "没有问卷“nope”" in result.output


def _standard_version_id() -> int:
    return db.session.scalar(
        select(QuestionnaireVersion.id).where(
            QuestionnaireVersion.slug == "public-security-satisfaction"
        )
    )


def test_designer_download(demo, ctx, client, auth):
    version_id = _standard_version_id()
    auth.login("manager", "manager-demo-2026")
    page = client.get(f"/design/v/{version_id}").get_data(as_text=True)
    assert f"/design/v/{version_id}/questionnaire.pdf?language=en" in page
    response = client.get(f"/design/v/{version_id}/questionnaire.pdf?language=en")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "Askifhad_dispute=Yes" in _plain(_pdftotext(response.data))
    default = client.get(f"/design/v/{version_id}/questionnaire.pdf")
    assert "如果had_dispute=是" in _plain(_pdftotext(default.data))
    bad = client.get(f"/design/v/{version_id}/questionnaire.pdf?language=xx")
    assert bad.status_code == 400
    assert "xx" in bad.get_data(as_text=True)
    assert client.get("/design/v/99999/questionnaire.pdf").status_code == 404


@pytest.mark.parametrize(
    "user, password",
    [("official", "official-demo-2026"), ("enumerator", "enumerator-demo-2026")],
)
def test_designer_download_is_refused_to_other_roles(demo, ctx, client, auth, user, password):
    version_id = _standard_version_id()
    auth.login(user, password)
    assert client.get(f"/design/v/{version_id}/questionnaire.pdf").status_code == 403


def test_designer_prints_a_draft_being_translated(demo, ctx, client, auth):
    from surveyapp.models import User
    from surveyapp.services.design import draft_from_text

    manager = db.session.scalar(select(User).where(User.username == "manager"))
    text, _ = xlsform_to_yaml(UYGHUR_XLSX.read_bytes(), UYGHUR_XLSX.name)
    doc = read_document(text)
    del doc["groups"][0]["questions"][2]["label"]["ug"]  # contacts: Uyghur label not yet there
    draft = draft_from_text(dump_document(doc), "draft.yaml", manager)
    db.session.commit()
    broken = draft_from_text(
        dump_document({**doc, "id": "broken", "groups": []}), "b.yaml", manager
    )
    db.session.commit()
    auth.login("manager", "manager-demo-2026")
    response = client.get(f"/design/v/{draft.id}/questionnaire.pdf?language=ug")
    assert response.status_code == 200
    line = next(line for line in _lines(response.data) if "contacts" in line[2])
    assert line[2] == ["contacts", "今年您联系过公安几次？", "†"]
    assert "untranslated" not in _pdftotext(response.data)
    # A draft with other problems is refused with a message, not printed.
    refused = client.get(f"/design/v/{broken.id}/questionnaire.pdf")
    assert refused.status_code == 409
    assert "打印" in refused.get_data(as_text=True)
