"""The certificate as a PDF: A4 landscape, DejaVu Sans embedded, a QR code of its verification
address; in the holder's language."""

from __future__ import annotations

import io

import segno
from flask import current_app
from flask_babel import force_locale, format_date, format_decimal
from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from hub.auth.services import absolute_url
from hub.core.pdf import FONT_FAMILY, new_document
from hub.growth.certificates import printed_code
from hub.growth.models import Certificate

ACCENT = (38, 84, 160)
GREY = (100, 100, 100)
RED = (190, 30, 30)
QR_MM = 34.0


def verify_url(certificate: Certificate) -> str:
    """The absolute address the QR code points to."""
    return absolute_url("growth.verify", code=certificate.code)


def holder_locale(certificate: Certificate) -> str:
    """The holder's interface language, else the hub's default."""
    languages = current_app.config["LANGUAGES"]
    locale = certificate.person.locale if certificate.person is not None else ""
    return locale if locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def _qr_png(url: str) -> io.BytesIO:
    """The URL as a QR code, a PNG in memory."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=10, border=0)
    out.seek(0)
    return out


def _centred(pdf: FPDF, text: str, size: float, *, bold: bool = False,
             colour: tuple[int, int, int] = (0, 0, 0), gap: float = 2.0) -> None:
    """A centred paragraph across the inner frame, wrapped."""
    pdf.set_font(FONT_FAMILY, "B" if bold else "", size)
    pdf.set_text_color(*colour)
    pdf.set_x(pdf.l_margin)
    pdf.multi_cell(0, size * 0.47, text, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(gap)


def _frame(pdf: FPDF) -> None:
    """A double frame in the accent colour."""
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(1.2)
    pdf.rect(9, 9, pdf.w - 18, pdf.h - 18)
    pdf.set_line_width(0.3)
    pdf.rect(12.5, 12.5, pdf.w - 25, pdf.h - 25)


def _details(certificate: Certificate) -> list[str]:
    """Role, format (or program), date and hours, one line each."""
    lines = [_("Role: %(role)s", role=certificate.role.label)]
    if certificate.format is not None:
        lines.append(_("Format: %(format)s", format=certificate.format.label))
    else:
        lines.append(_("Program of the digital teaching internship"))
    lines.append(_("Date: %(date)s", date=format_date(certificate.held_on, "long")))
    lines.append(_("Hours: %(hours)s", hours=format_decimal(certificate.hours)))
    return lines


def _body(pdf: FPDF, certificate: Certificate) -> None:
    """Everything but the QR code and the footer."""
    pdf.set_y(20)
    if certificate.organisers:
        _centred(pdf, certificate.organisers, 11, colour=GREY, gap=4)
    else:
        pdf.ln(8)
    _centred(pdf, _("Participation certificate").upper(), 30, bold=True, colour=ACCENT, gap=6)
    _centred(pdf, _("This certifies that"), 13, colour=GREY)
    _centred(pdf, certificate.holder_name, 24, bold=True, gap=4)
    lead = (_("took part in the event") if certificate.series_id is None
            else _("completed the program"))
    _centred(pdf, lead, 13, colour=GREY)
    _centred(pdf, certificate.title, 16 if len(certificate.title) <= 140 else 12, bold=True,
             gap=5)
    for line in _details(certificate):
        _centred(pdf, line, 12, gap=0.5)
    if certificate.revoked_at is not None:
        pdf.ln(3)
        _centred(pdf, _("Revoked on %(date)s", date=format_date(certificate.revoked_at,
                                                                 "long")).upper(),
                 14, bold=True, colour=RED)


def _corner(pdf: FPDF, certificate: Certificate) -> None:
    """Bottom right: the QR code with the code and the address; bottom left: the issue date."""
    url = verify_url(certificate)
    x, y = pdf.w - 22 - QR_MM, pdf.h - 30 - QR_MM
    pdf.image(_qr_png(url), x=x, y=y, w=QR_MM, h=QR_MM, link=url)
    pdf.set_font(FONT_FAMILY, "B", 10)
    pdf.set_text_color(0)
    pdf.set_xy(x - 30, y + QR_MM + 1)
    pdf.cell(QR_MM + 30, 5, printed_code(certificate.code), align=Align.R)
    pdf.set_font(FONT_FAMILY, "", 8)
    pdf.set_text_color(*GREY)
    pdf.set_xy(x - 80, y + QR_MM + 6)
    pdf.cell(QR_MM + 80, 4, url, align=Align.R, link=url)
    pdf.set_xy(22, y + QR_MM + 1)
    pdf.set_font(FONT_FAMILY, "", 10)
    pdf.cell(120, 5, _("Issued on %(date)s", date=format_date(certificate.issued_at, "long")))
    pdf.set_xy(22, y + QR_MM + 6)
    pdf.set_font(FONT_FAMILY, "", 8)
    pdf.cell(150, 4, _("Scan the QR code or open the address under it to check the "
                       "certificate."))


def _footer(pdf: FPDF) -> None:
    """The line that this is not a state qualification document."""
    pdf.set_xy(pdf.l_margin, pdf.h - 20)
    pdf.set_font(FONT_FAMILY, "", 8)
    pdf.set_text_color(*GREY)
    pdf.cell(pdf.w - pdf.l_margin - pdf.r_margin, 4,
             _("A certificate of participation; not a state document on qualification."),
             align=Align.C)


def certificate_pdf(certificate: Certificate) -> bytes:
    """The certificate's PDF in its holder's language."""
    with force_locale(holder_locale(certificate)):
        pdf = new_document(_("Participation certificate"), orientation="landscape")
        pdf.set_subject(certificate.code)
        pdf.set_margins(28, 20, 28)
        pdf.set_auto_page_break(auto=False)
        pdf.add_page()
        _frame(pdf)
        _body(pdf, certificate)
        _corner(pdf, certificate)
        _footer(pdf)
        return bytes(pdf.output())
