"""The PDF report's look: fonts, paragraph and table styles, colours, page sizes (reportlab)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import TableStyle

from echoviewer.reports import fonts

PAGE_SIZES = {"A4": A4, "Letter": LETTER}
MARGIN_X = 16 * mm
MARGIN_TOP = 20 * mm  # below the running header
MARGIN_BOTTOM = 18 * mm  # above the running footer

FONT = "EchoSans"
FONT_BOLD = "EchoSans-Bold"
FONT_ITALIC = "EchoSans-Oblique"
FONT_MONO = "EchoMono"

INK = colors.HexColor("#212529")
MUTED = colors.HexColor("#6c757d")
RULE = colors.HexColor("#ced4da")
HEAD_BG = colors.HexColor("#e9ecef")
ZEBRA = colors.HexColor("#f8f9fa")
ACCENT = colors.HexColor("#1c4f82")  # headings: a sober blue
CORRECTED = colors.HexColor("#5f3dc4")  # corrected values: the timeline's colour for them
DEMO = colors.HexColor("#c92a2a")
DEMO_BG = colors.HexColor("#fff5f5")


@lru_cache(maxsize=1)
def register_fonts() -> str:
    """Register DejaVu Sans (regular, bold, oblique, mono) with reportlab once; returns the family."""
    pairs = {FONT: fonts.REGULAR, FONT_BOLD: fonts.BOLD, FONT_ITALIC: fonts.OBLIQUE,
             "EchoSans-BoldOblique": fonts.BOLD_OBLIQUE, FONT_MONO: fonts.MONO}
    for name, file in pairs.items():
        pdfmetrics.registerFont(TTFont(name, str(fonts.font_file(file))))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT_ITALIC,
                                  boldItalic="EchoSans-BoldOblique")
    return FONT


@lru_cache(maxsize=1)
def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=8.6, leading=11.2, textColor=INK, alignment=TA_LEFT)
    cell = ParagraphStyle("cell", parent=body, fontSize=7.8, leading=9.6)
    cell_bold = ParagraphStyle("cell_bold", parent=cell, fontName=FONT_BOLD)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=7.4, leading=9.4, textColor=MUTED),
        "cell": cell,
        "cell_bold": cell_bold,
        "cell_corrected": ParagraphStyle("cell_corrected", parent=cell, textColor=CORRECTED),
        "cell_bold_corrected": ParagraphStyle("cell_bold_corrected", parent=cell_bold, textColor=CORRECTED),
        "head_cell": ParagraphStyle("head_cell", parent=body, fontName=FONT_BOLD, fontSize=7.4, leading=9.0),
        "label": ParagraphStyle("label", parent=body, fontSize=7.8, leading=9.8, textColor=MUTED),
        "value": ParagraphStyle("value", parent=body, fontSize=8.6, leading=10.6),
        "mono": ParagraphStyle("mono", parent=body, fontName=FONT_MONO, fontSize=7.0, leading=8.8),
        "title": ParagraphStyle("title", parent=body, fontName=FONT_BOLD, fontSize=16, leading=20,
                                textColor=ACCENT, spaceAfter=1 * mm),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontSize=9.5, leading=12.5, textColor=MUTED,
                                   spaceAfter=3 * mm),
        "h1": ParagraphStyle("h1", parent=body, fontName=FONT_BOLD, fontSize=12.5, leading=16, textColor=ACCENT,
                             spaceBefore=1 * mm, spaceAfter=2 * mm),
        "h2": ParagraphStyle("h2", parent=body, fontName=FONT_BOLD, fontSize=9.8, leading=13, textColor=ACCENT,
                             spaceBefore=4 * mm, spaceAfter=1.5 * mm),
        "banner": ParagraphStyle("banner", parent=body, fontName=FONT_BOLD, fontSize=9.5, leading=12.5,
                                 textColor=DEMO),
        "ef_big": ParagraphStyle("ef_big", parent=body, fontName=FONT_BOLD, fontSize=13, leading=16),
    }


def grid_table_style(header_rows: int = 1, zebra_from: int | None = None, n_rows: int = 0) -> TableStyle:
    """A data table: shaded bold header, light rules between rows, zebra rows below the header."""
    cmds: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), 7.8),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), HEAD_BG),
        ("LINEBELOW", (0, header_rows - 1), (-1, header_rows - 1), 0.8, MUTED),
        ("LINEBELOW", (0, header_rows), (-1, -1), 0.3, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.4),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    start = header_rows if zebra_from is None else zebra_from
    for r in range(start + 1, n_rows, 2):
        cmds.append(("BACKGROUND", (0, r), (-1, r), ZEBRA))
    return TableStyle(cmds)


def facts_table_style() -> TableStyle:
    """Label / value pairs: no grid, labels muted, a hairline under each pair."""
    return TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2.0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.6),
        ("LEFTPADDING", (0, 0), (-1, -1), 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ])
