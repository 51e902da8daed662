"""Fonts for reports: an embedded TrueType CJK font for text, Helvetica for figures.

Debian's Noto Sans CJK (``fonts-noto-cjk``) cannot be embedded: its TTC holds OpenType CFF
(PostScript) outlines, which reportlab's ``TTFont`` refuses. WenQuanYi Micro Hei
(``fonts-wqy-microhei``) has TrueType outlines and covers GBK, Latin and the marks the
reports use (▲ ▼ † ≥ …), so it is embedded (subset) and every reader draws the same glyphs.
``SURVEYAPP_REPORT_FONT`` names another TrueType font (``path.ttc#1`` picks a font of a
collection). Without any of them, reportlab's CID font ``STSong-Light`` is used: it is not
embedded, so a reader without a Chinese font may draw boxes (the log says so).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import lru_cache

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

log = logging.getLogger(__name__)

CID_FONT = "STSong-Light"
LATIN = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"
#: TrueType fonts with Chinese glyphs, tried in this order after ``SURVEYAPP_REPORT_FONT``.
CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)


@dataclass(frozen=True)
class FontSet:
    """The registered font names: ``cjk`` for text, ``latin`` for figures."""

    cjk: str
    latin: str = LATIN
    latin_bold: str = LATIN_BOLD
    embedded: bool = False
    path: str = ""

    def missing_glyphs(self, text: str) -> set[str]:
        """Return the characters of ``text`` this font set would draw as empty boxes."""
        if self.embedded:
            face = pdfmetrics.getFont(self.cjk).face
            return {ch for ch in set(text) if ord(ch) > 32 and ord(ch) not in face.charToGlyph}
        missing = set()
        for ch in set(text):
            if ord(ch) < 128:
                continue
            try:
                ch.encode("gbk")  # Adobe-GB1-4 (STSong-Light) covers GBK
            except UnicodeEncodeError:
                missing.add(ch)
        return missing


@lru_cache(maxsize=4)
def report_fonts(path: str | None = None) -> FontSet:
    """Register and return the report fonts (``path`` defaults to ``SURVEYAPP_REPORT_FONT``,
    then the first installed of :data:`CANDIDATES`)."""
    path = path if path is not None else os.environ.get("SURVEYAPP_REPORT_FONT", "")
    tried = [path] if path else [p for p in CANDIDATES if os.path.exists(p)]
    for candidate in tried:
        file, _, index = candidate.partition("#")
        try:
            font = TTFont("ReportCJK", file, subfontIndex=int(index or 0))
            pdfmetrics.registerFont(font)
            return FontSet(cjk="ReportCJK", embedded=True, path=candidate)
        except (TTFError, OSError, ValueError) as exc:
            log.warning("report font %s cannot be embedded (%s)", candidate, exc)
    log.warning(
        "no embeddable Chinese font (install fonts-wqy-microhei): using %s, which PDF "
        "readers must supply",
        CID_FONT,
    )
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    return FontSet(cjk=CID_FONT)
