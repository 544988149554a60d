"""The organiser's attendance sheet as data: one row per record with what the page and the
exports show, the totals line, and the CSV and XLSX files."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from hub.attendance.models import Attendance, Source, Status
from hub.board.export import csv_delimiter, safe_cell
from hub.directory.models import Person
from hub.extensions import db
from hub.scheduling.models import Event, Invitation, InvitationState


@dataclass
class Row:
    """A record and what its line shows beside it."""

    record: Attendance
    organisation: str
    sources: list[Source]
    invitation_id: int | None

    @property
    def email(self) -> str:
        return self.record.person.email if self.record.person else self.record.guest_email


@dataclass
class Totals:
    counts: Counter = field(default_factory=Counter)
    hours: float = 0.0


def rows(event: Event) -> list[Row]:
    """Every record of the event, people by name and then guests (four queries)."""
    records = db.session.scalars(
        select(Attendance).where(Attendance.event_id == event.id).options(
            selectinload(Attendance.intervals),
            selectinload(Attendance.person).selectinload(Person.organisation),
            selectinload(Attendance.override_by))).all()
    invitations = dict(db.session.execute(
        select(Invitation.person_id, Invitation.id).where(
            Invitation.event_id == event.id, Invitation.state == InvitationState.INVITED)).all())
    result = [Row(record=r,
                  organisation=r.person.organisation.short_name if r.person else "",
                  sources=sorted({i.source for i in r.intervals}),
                  invitation_id=invitations.get(r.person_id) if r.person_id else None)
              for r in records]
    result.sort(key=lambda row: (row.record.person_id is None,
                                 row.record.display_name.casefold(), row.record.id))
    return result


def totals(sheet: list[Row]) -> Totals:
    result = Totals(counts=Counter(row.record.status for row in sheet))
    result.hours = round(sum(row.record.hours for row in sheet if row.record.credited), 2)
    return result


# -- exports -----------------------------------------------------------------------------------

def _local(moment: datetime | None, zone: str) -> datetime | None:
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None) if moment else None


def _header(zone: str) -> list[str]:
    return [_("Person"), _("Email"), _("Organisation"), _("Role"),
            _("First seen (%(zone)s)", zone=zone), _("Last seen (%(zone)s)", zone=zone),
            _("Minutes"), _("Checks passed"), _("Checks required"), _("Sources"),
            _("Computed status"), _("Override"), _("Override reason"), _("Override by"),
            _("Status"), _("Credited"), _("Hours"), _("Shared link")]


def _cells(row: Row, event: Event, zone: str) -> list[object]:
    r = row.record
    yes, no = _("yes"), _("no")
    return [
        r.display_name, row.email, row.organisation, r.role.label,
        _local(r.first_seen_at, zone), _local(r.last_seen_at, zone), r.minutes,
        r.checks_passed, event.required_checks, ", ".join(str(s.label) for s in row.sources),
        r.computed_status.label,
        r.override_status.label if r.override_status is not None else "",
        r.override_reason, r.override_by.full_name if r.override_by else "",
        r.status.label, yes if r.credited else no, r.hours, yes if r.shared_link else no]


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value if isinstance(value, (int, float)) else safe_cell(str(value))


def as_csv(event: Event, sheet: list[Row], zone: str) -> bytes:
    """The sheet as CSV, UTF-8 with a BOM (Excel opens it with the right letters)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=csv_delimiter())
    writer.writerow(_header(zone))
    for row in sheet:
        writer.writerow([_plain(cell) for cell in _cells(row, event, zone)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def as_xlsx(event: Event, sheet: list[Row], zone: str) -> bytes:
    """The sheet as an Excel workbook: one sheet, the header frozen, times as dates."""
    book = Workbook()
    table = book.active
    table.title = re.sub(r"[\[\]:*?/\\]", " ", _("Attendance"))[:31]  # Excel's limits
    table.append(_header(zone))
    for cell in table[1]:
        cell.font = Font(bold=True)
    for row in sheet:
        table.append([cell if isinstance(cell, (int, float, datetime)) or cell is None
                      else safe_cell(str(cell)) for cell in _cells(row, event, zone)])
    for column in ("E", "F"):
        for cell in table[column][1:]:
            cell.number_format = "yyyy-mm-dd hh:mm"
    table.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def filename(event: Event, ext: str) -> str:
    return f"attendance-{event.id}-{event.start_at:%Y-%m-%d}.{ext}"


STATUS_ORDER = (Status.PRESENT, Status.LATE, Status.LEFT_EARLY, Status.EXCUSED, Status.ABSENT)
