"""PDF documents with the vendored DejaVu Sans (it has Cyrillic), embedded as a subset."""

from __future__ import annotations

import logging
from typing import Literal

from fpdf import FPDF

from hub import ROOT

#: The vendored DejaVu Sans (regular and bold; licence in DejaVu-LICENSE.txt).
FONT_DIR = ROOT / "static" / "fonts"
FONT_FAMILY = "DejaVu"

# fpdf2 subsets the font with fontTools, which logs every step at INFO.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)


def with_fonts(pdf: FPDF, title: str) -> FPDF:
    """The document with DejaVu Sans (regular, bold) loaded and its title and creator set."""
    pdf.add_font(FONT_FAMILY, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(FONT_FAMILY, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_title(title)
    pdf.set_creator("Vmeste hub")
    return pdf


def new_document(title: str, orientation: Literal["portrait", "landscape"] = "portrait") -> FPDF:
    """An empty A4 document with the fonts loaded (no page yet)."""
    return with_fonts(FPDF(orientation=orientation, format="A4"), title)
