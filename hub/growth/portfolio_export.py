"""A portfolio for attestation: a PDF (the person, the period, the credited events, the totals)
and an XLSX workbook (a sheet of events, a sheet of totals), in the viewer's language."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date

from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from hub.core.pdf import FONT_FAMILY, new_document
from hub.core.types import utcnow
from hub.growth.portfolio import Group, Portfolio

DATE_CELL_FORMAT = "DD.MM.YYYY"


def period_text(portfolio: Portfolio) -> str:
    """"1 Sept 2026 – 31 Aug 2027" in the current locale."""
    period = portfolio.period
    return f"{format_date(period.start, 'medium')} – {format_date(period.end, 'medium')}"


def _label(value: object) -> str:
    """An enum's label, or a month as "September 2026"."""
    label = getattr(value, "label", None)
    return str(label) if label is not None else format_date(value, "LLLL yyyy")  # type: ignore[arg-type]


def breakdowns(portfolio: Portfolio) -> list[tuple[str, list[Group]]]:
    """The titled breakdowns of the totals, in the order the exports print them."""
    summary = portfolio.summary
    return [(_("By format"), summary.by_format), (_("By role"), summary.by_role),
            (_("By level"), summary.by_level), (_("By month"), summary.by_month)]


def _heading_lines(portfolio: Portfolio) -> list[str]:
    """The person, organisation, position and period."""
    person = portfolio.person
    lines = [person.full_name, person.organisation.full_name]
    if person.position:
        lines.append(_("Position: %(position)s", position=person.position))
    lines.append(_("Period: %(period)s", period=period_text(portfolio)))
    return lines


# -- PDF ---------------------------------------------------------------------------------------

def _para(pdf: FPDF, text: str, size: float = 10, *, bold: bool = False) -> None:
    pdf.set_font(FONT_FAMILY, "B" if bold else "", size)
    pdf.multi_cell(0, size * 0.5, text, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _table(pdf: FPDF, headings: Iterable[str], rows: Iterable[Iterable[str]],
           widths: tuple[int, ...], numeric: int) -> None:
    """A bordered table; the last `numeric` columns aligned right."""
    align = tuple("LEFT" for _column in range(len(widths) - numeric)) + ("RIGHT",) * numeric
    pdf.set_font(FONT_FAMILY, "", 9)
    with pdf.table(col_widths=widths, text_align=align, line_height=4.6,
                   first_row_as_headings=True) as table:
        for line in [list(headings), *[list(r) for r in rows]]:
            row = table.row()
            for text in line:
                row.cell(text)
    pdf.ln(4)


def portfolio_pdf(portfolio: Portfolio) -> bytes:
    """The portfolio for attestation as a PDF."""
    pdf = new_document(_("Professional growth portfolio"))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    _para(pdf, _("Professional growth portfolio"), 16, bold=True)
    pdf.ln(1)
    for number, line in enumerate(_heading_lines(portfolio)):
        _para(pdf, line, 12 if number == 0 else 10, bold=number == 0)
    pdf.ln(3)
    summary = portfolio.summary
    _para(pdf, _("Credited events: %(events)d; credited hours: %(hours)s",
                 events=summary.credited_events, hours=format_decimal(summary.hours)),
          11, bold=True)
    pdf.ln(2)
    credited = [e for e in portfolio.entries if e.credited]
    if credited:
        _table(pdf, ["№", _("Date"), _("Event"), _("Format"), _("Level"), _("Role"),
                     _("Hours")],
               [[str(n), format_date(e.day, "short"), e.title, e.format.label, e.level.label,
                 e.role.label, format_decimal(e.hours)] for n, e in enumerate(credited, 1)],
               (7, 21, 60, 36, 28, 24, 14), 1)
    else:
        _para(pdf, _("No credited events in this period."))
        pdf.ln(3)
    for title, groups in breakdowns(portfolio):
        if not any(g.events for g in groups):
            continue
        _para(pdf, title, 11, bold=True)
        pdf.ln(1)
        _table(pdf, ["", _("Events"), _("Hours")],
               [[_label(g.key), str(g.events), format_decimal(g.hours)] for g in groups
                if g.events], (110, 34, 34), 2)
    if portfolio.certificates:
        _para(pdf, _("Certificates"), 11, bold=True)
        pdf.ln(1)
        _table(pdf, [_("Date"), _("Event"), _("Code"), _("Hours")],
               [[format_date(c.held_on, "short"), c.title + ("" if c.valid else
                                                            " — " + _("revoked")),
                 c.code, format_decimal(c.hours)] for c in portfolio.certificates],
               (22, 98, 42, 16), 1)
    pdf.set_font(FONT_FAMILY, "", 8)
    pdf.set_text_color(110)
    pdf.multi_cell(0, 4, _("Made by Vmeste hub on %(date)s",
                           date=format_date(utcnow(), "long")))
    return bytes(pdf.output())


# -- XLSX --------------------------------------------------------------------------------------

def _as_text(cell) -> None:  # type: ignore[no-untyped-def]
    """A text cell stays text: a value such as "=1+1" is never run as a formula."""
    if isinstance(cell.value, str):
        cell.data_type = "s"


def _append(sheet, values: list[object], bold: bool = False) -> None:  # type: ignore[no-untyped-def]
    from openpyxl.styles import Font

    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        _as_text(cell)
        if isinstance(cell.value, date):
            cell.number_format = DATE_CELL_FORMAT
        if bold:
            cell.font = Font(bold=True)


def portfolio_xlsx(portfolio: Portfolio) -> bytes:
    """The portfolio as a workbook: «Events» (every entry) and «Totals»."""
    from openpyxl import Workbook

    workbook = Workbook()
    events = workbook.active
    events.title = _("Events")[:31]
    for number, line in enumerate(_heading_lines(portfolio)):
        _append(events, [line], bold=number == 0)
    _append(events, [])
    _append(events, ["№", _("Date"), _("Event"), _("Format"), _("Level"), _("Role"),
                     _("Status"), _("Credited"), _("Hours")], bold=True)
    for number, e in enumerate(portfolio.entries, 1):
        _append(events, [number, e.day, e.title, e.format.label, e.level.label, e.role.label,
                         e.status.label, _("yes") if e.credited else _("no"), e.hours])
    for column, width in zip("ABCDEFGHI", (5, 12, 60, 22, 16, 16, 16, 10, 8), strict=True):
        events.column_dimensions[column].width = width

    totals = workbook.create_sheet(_("Totals")[:31])
    summary = portfolio.summary
    for line in _heading_lines(portfolio):
        _append(totals, [line])
    _append(totals, [])
    _append(totals, [_("Events in the list"), summary.events])
    _append(totals, [_("Credited events"), summary.credited_events])
    _append(totals, [_("Credited hours"), summary.hours], bold=True)
    for title, groups in breakdowns(portfolio):
        _append(totals, [])
        _append(totals, [title, _("Events"), _("Hours")], bold=True)
        for group in groups:
            _append(totals, [_label(group.key), group.events, group.hours])
    totals.column_dimensions["A"].width = 40
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
