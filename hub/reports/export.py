"""Reports as spreadsheets: a period's table of every organisation (XLSX and CSV) and one
organisation's report (XLSX). Headers in the viewer's language; times in the viewer's zone."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from hub.board.export import csv_delimiter, safe_cell
from hub.reports.models import ReportPeriod
from hub.reports.services import Row
from hub.scheduling.models import EventFormat, Level

#: The figures in the order pages and spreadsheets show them.
MAIN = (
    ("events", _l("Events held")),
    ("participants", _l("Participants")),
    ("participants_people", _l("of them, people of the organisation")),
    ("participants_guests", _l("of them, guests")),
    ("teachers_credited", _l("Teachers with a credited event")),
    ("credited_records", _l("Credited participations")),
    ("hours", _l("Credited hours")),
    ("active_teachers", _l("Active teachers")),
    ("teacher_share_percent", _l("Share of active teachers with a credited event (percent)")),
    ("interns", _l("Interns")),
    ("interns_completed", _l("Interns who completed the program")),
    ("intern_attendance_percent", _l("Interns' average attendance (percent)")),
)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def value(figures: dict[str, Any], name: str) -> Any:
    """A figure as a cell: a number, or "" where there is none (no teachers, no sessions)."""
    found = figures.get(name)
    return "" if found is None else found


def _local(moment: datetime | None, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%d.%m.%Y %H:%M") if moment else ""


def _header(zone: str) -> list[str]:
    return ([_("Organisation"), _("Status"), _("Submitted (%(zone)s)", zone=zone),
             _("Submitted by")] + [str(label) for _name, label in MAIN]
            + [f"{_('Format')}: {f.label}" for f in EventFormat]
            + [f"{_('Level')}: {lv.label}" for lv in Level] + [_("Comment")])


def _cells(row: Row, zone: str) -> list[Any]:
    report, figures = row.report, row.figures
    by_format, by_level = figures.get("events_by_format", {}), figures.get("events_by_level", {})
    return ([row.organisation.short_name, row.standing.label,
             _local(report.submitted_at if report else None, zone),
             report.submitted_by.full_name if report and report.submitted_by else ""]
            + [value(figures, name) for name, _label in MAIN]
            + [by_format.get(f.name, 0) for f in EventFormat]
            + [by_level.get(lv.name, 0) for lv in Level]
            + [report.comment if report else ""])


def _total_cells(totals: dict[str, Any]) -> list[Any]:
    return ([_("Total"), "", "", ""] + [value(totals, name) for name, _label in MAIN])


def period_csv(rows: list[Row], totals: dict[str, Any], zone: str) -> bytes:
    """One line per organisation and a total; UTF-8 with a BOM (Excel opens it as such)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=csv_delimiter())
    writer.writerow(_header(zone))
    for row in rows:
        writer.writerow([safe_cell(c) for c in _cells(row, zone)])
    writer.writerow(_total_cells(totals))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def period_xlsx(period: ReportPeriod, rows: list[Row], totals: dict[str, Any],
                zone: str) -> bytes:
    """The same table as a workbook, with the period in the title."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Report")[:31]
    sheet.append([safe_cell(_title(period))])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([])
    sheet.append(_header(zone))
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([safe_cell(c) for c in _cells(row, zone)])
    sheet.append(_total_cells(totals))
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 40
    return _bytes(book)


def report_xlsx(period: ReportPeriod, row: Row, zone: str) -> bytes:
    """One organisation's report: each figure with its value, the formats and levels, the
    comment."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Report")[:31]
    sheet.append([safe_cell(row.organisation.full_name)])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([safe_cell(_title(period))])
    report = row.report
    sheet.append([_("Status"), row.standing.label])
    if report is not None and report.submitted_at:
        sheet.append([_("Submitted (%(zone)s)", zone=zone), _local(report.submitted_at, zone)])
    sheet.append([])
    for name, label in MAIN:
        sheet.append([str(label), value(row.figures, name)])
    sheet.append([])
    for fmt in EventFormat:
        sheet.append([f"{_('Format')}: {fmt.label}",
                      row.figures.get("events_by_format", {}).get(fmt.name, 0)])
    for level in Level:
        sheet.append([f"{_('Level')}: {level.label}",
                      row.figures.get("events_by_level", {}).get(level.name, 0)])
    sheet.append([])
    sheet.append([_("Comment"), safe_cell(report.comment if report else "")])
    sheet.column_dimensions["A"].width = 55
    sheet.column_dimensions["B"].width = 40
    return _bytes(book)


def _title(period: ReportPeriod) -> str:
    return _("%(title)s: %(start)s – %(end)s, deadline %(deadline)s", title=period.title,
             start=period.starts_on.strftime("%d.%m.%Y"),
             end=period.ends_on.strftime("%d.%m.%Y"),
             deadline=period.deadline.strftime("%d.%m.%Y"))


def _bytes(book: Any) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
