"""Page layout shared by the reports: A4 pages, paragraph styles, tables, the page footer."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from .fonts import FontSet, report_fonts

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 16 * mm
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN
ACCENT = colors.HexColor("#1d4f91")
DISTRICT = colors.HexColor("#c0392b")
GRID = colors.HexColor("#c5ccd6")
ZEBRA = colors.HexColor("#f3f5f8")
MUTED = colors.HexColor("#6b7280")
HIGH = colors.HexColor("#1a7f37")
LOW = colors.HexColor("#b3261e")


@dataclass(frozen=True)
class Styles:
    """The paragraph styles of a report, in its fonts (CJK text, Latin figures)."""

    fonts: FontSet
    title: ParagraphStyle
    subtitle: ParagraphStyle
    h2: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle
    note: ParagraphStyle
    cell: ParagraphStyle
    cell_right: ParagraphStyle
    cell_center: ParagraphStyle
    head: ParagraphStyle
    box: ParagraphStyle


@lru_cache(maxsize=4)
def styles(fonts: FontSet | None = None) -> Styles:
    """Paragraph styles for the given fonts (the registered report fonts by default)."""
    fonts = fonts or report_fonts()
    cjk = fonts.cjk

    def style(name: str, size: float, leading: float | None = None, **kw: Any) -> Any:
        return ParagraphStyle(
            name, fontName=cjk, fontSize=size, leading=leading or size * 1.35, **kw
        )

    return Styles(
        fonts=fonts,
        title=style("title", 18, 24, textColor=ACCENT, spaceAfter=2),
        subtitle=style("subtitle", 11, 15, textColor=MUTED, spaceAfter=6),
        h2=style("h2", 12.5, 17, textColor=ACCENT, spaceBefore=9, spaceAfter=4),
        body=style("body", 9.5, 13.5, spaceAfter=3),
        small=style("small", 8, 11),
        note=style("note", 7.5, 10.5, textColor=MUTED, spaceBefore=2, spaceAfter=2),
        cell=style("cell", 8.3, 10.5, alignment=TA_LEFT),
        cell_right=style("cell_right", 8.3, 10.5, alignment=TA_RIGHT),
        cell_center=style("cell_center", 8.3, 10.5, alignment=TA_CENTER),
        head=style("head", 7.8, 10, alignment=TA_CENTER, textColor=colors.white),
        box=style("box", 8.3, 12, spaceAfter=2),
    )


class Line(Flowable):  # type: ignore[misc]  # reportlab has no type information
    """One line of text that never wraps (a figure in a table cell), drawn without the
    markup parsing of a Paragraph: ``parts`` are ``(text, font)`` runs in one size and colour.
    """

    def __init__(
        self,
        parts: Sequence[tuple[str, str]],
        size: float,
        leading: float,
        color: Any = colors.black,
        align: str = "right",
    ) -> None:
        super().__init__()
        self.parts = [(t, f) for t, f in parts if t]
        self.size = size
        self.leading = leading
        self.color = color
        self.align = align
        self.text_width = sum(stringWidth(t, f, size) for t, f in self.parts)

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        """Take the available width (at least the text's) and one line of height."""
        self.width = max(available_width, self.text_width)
        self.height = self.leading
        return self.width, self.height

    def draw(self) -> None:
        """Draw the runs as one text object, aligned in the cell."""
        canvas = self.canv
        x = {
            "right": self.width - self.text_width,
            "center": (self.width - self.text_width) / 2,
        }.get(self.align, 0.0)
        y = self.leading - self.size
        canvas.setFillColor(self.color)
        # one text object, so that text extractors read the runs as one line
        obj = canvas.beginText(x, y)
        for t, font in self.parts:
            obj.setFont(font, self.size)
            obj.textOut(t)
        canvas.drawText(obj)


def text(s: str) -> str:
    """Escape plain text for a Paragraph."""
    return escape(str(s))


def latin(s: str, fonts: FontSet) -> str:
    """Markup for figures in the Latin font (nicer digits than the CJK font's)."""
    return f'<font name="{fonts.latin}">{escape(s)}</font>'


def colored(markup: str, color: Any) -> str:
    """Markup showing ``markup`` in ``color``."""
    return f'<font color="{color.hexval()}">{markup}</font>'


def table(
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    *,
    header_rows: int = 1,
    extra: Sequence[tuple[Any, ...]] = (),
    repeat: bool = True,
) -> Table:
    """A report table: blue header, light zebra rows, thin rules."""
    t = Table(
        [list(r) for r in rows], colWidths=list(widths), repeatRows=header_rows if repeat else 0
    )
    cmds: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), ACCENT),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LINEBELOW", (0, header_rows - 1), (-1, -1), 0.3, GRID),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    for i in range(header_rows, len(rows)):
        if (i - header_rows) % 2 == 1:
            cmds.append(("BACKGROUND", (0, i), (-1, i), ZEBRA))
    cmds.extend(extra)
    t.setStyle(TableStyle(cmds))
    return t


def boxed(flowables: list[Flowable], width: float = FRAME_WIDTH) -> Table:
    """Flowables in a framed, lightly shaded box (the methodology notes)."""
    t = Table([[flowables]], colWidths=[width])
    t.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.6, ACCENT),
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f7f9fc")),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return t


def footer(
    left: str, page_label: Callable[[int], str], fonts: FontSet
) -> Callable[[Any, Any], None]:
    """A page callback drawing a rule, ``left`` and the page number at the foot of each page."""

    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setStrokeColor(GRID)
        canvas.setLineWidth(0.4)
        canvas.line(MARGIN, MARGIN - 4 * mm, PAGE_WIDTH - MARGIN, MARGIN - 4 * mm)
        canvas.setFont(fonts.cjk, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, MARGIN - 8 * mm, left)
        canvas.drawRightString(PAGE_WIDTH - MARGIN, MARGIN - 8 * mm, page_label(doc.page))
        canvas.restoreState()

    return draw


def render(
    story: list[Flowable], *, title: str, author: str, on_page: Callable[[Any, Any], None]
) -> bytes:
    """Lay out ``story`` on A4 pages and return the PDF bytes (identical for identical input)."""
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm,
        title=title,
        author=author,
        creator="surveyapp",
        invariant=1,
    )
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buf.getvalue()


__all__ = [
    "FRAME_WIDTH",
    "KeepTogether",
    "Line",
    "Paragraph",
    "Spacer",
    "Styles",
    "boxed",
    "colored",
    "footer",
    "latin",
    "render",
    "styles",
    "table",
    "text",
]
