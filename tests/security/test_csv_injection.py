"""Formula injection: texts that start with = + - @, a tab or a carriage return, typed into the
hub, come out of every CSV and XLSX export as text, never as a formula a spreadsheet runs."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import select

from hub.attendance import services as attendance
from hub.attendance.models import Attendance, Status
from hub.board.access import Viewer
from hub.board.services import create_post, create_section, ensure_board
from hub.extensions import db
from hub.reports import services as reports
from hub.scheduling import plan
from hub.scheduling.models import EventFormat
from tests.calendar.conftest import invite, make_event, make_series  # noqa: F401
from tests.reports.conftest import World, attend, event, host, world  # noqa: F401
from tests.security.xss_corpus import FORMULAS

#: Characters that make a spreadsheet read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")


def formula_cells_csv(body: bytes) -> list[str]:
    """The cells of a CSV export a spreadsheet would run."""
    text = body.decode("utf-8-sig")
    dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;")
    return [cell for row in csv.reader(io.StringIO(text, newline=""), dialect)
            for cell in row if cell.startswith(FORMULA_START) and not NUMBER.fullmatch(cell)]


def formula_cells_xlsx(body: bytes) -> list[str]:
    """The cells of an XLSX export stored as formulas."""
    book = load_workbook(io.BytesIO(body))
    return [f"{sheet.title}!{cell.coordinate}: {cell.value!r}" for sheet in book.worksheets
            for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]


@pytest.fixture
def formulas(world: World, people, network):  # type: ignore[no-untyped-def]  # noqa: F811
    """Formulas in every text an export carries: organisations, people, events, the plan,
    the board, attendance and the report."""
    kindergarten, coordinator, teacher = world.kindergarten, people.coordinator, people.teacher
    kindergarten.full_name, kindergarten.short_name = FORMULAS[0], FORMULAS[1]
    world.other.full_name, world.other.short_name = FORMULAS[3], "=1+2"
    coordinator.position, teacher.position = FORMULAS[2], FORMULAS[0]
    world.seminar.title = FORMULAS[0]
    world.period.title = FORMULAS[3]
    for i, topic in enumerate(FORMULAS):
        plan.add_item(network, month=plan.month_value(2026, 12), topic=topic,
                      format=EventFormat.WEBINAR, responsible=kindergarten.id)
        if i == 0:
            plan.approve(network, coordinator)
    board = ensure_board(world.seminar)
    db.session.flush()
    moderator = Viewer(key=f"p{coordinator.id}", name=coordinator.full_name,
                       person_id=coordinator.id, moderator=True, can_post=True)
    section = create_section(board, moderator, {"title": FORMULAS[3]})
    for i, body in enumerate(FORMULAS):
        create_post(board, Viewer(key=f"g{i}", name=FORMULAS[i - 1], person_id=None,
                                  moderator=False, can_post=True),
                    {"body": body, "section_id": section.id})
    with time_machine.travel(world.seminar.end_at + timedelta(days=1)):
        for name in FORMULAS:
            attendance.add_guest(world.seminar, name, "", coordinator)
        record = db.session.scalar(select(Attendance).where(
            Attendance.event_id == world.seminar.id,
            Attendance.person_id == people.other_teacher.id))
        attendance.set_override(record, Status.EXCUSED, FORMULAS[1], coordinator)
    reports.save_comment(reports.report_of(world.period, kindergarten.id), FORMULAS[0])
    db.session.commit()
    return board


def test_exports_never_hold_a_formula(  # type: ignore[no-untyped-def]
        formulas, world, people, network, login_as) -> None:  # noqa: F811
    """Board, attendance and report CSVs; attendance, report, plan, portfolio and import
    template workbooks."""
    client = login_as(people.municipal)
    seminar, period, kg = world.seminar.id, world.period.id, world.kindergarten.id
    csvs = {
        f"/boards/{formulas.id}/export.csv",
        f"/events/{seminar}/attendance.csv",
        f"/reports/periods/{period}.csv",
    }
    workbooks = {
        f"/events/{seminar}/attendance.xlsx",
        f"/reports/periods/{period}.xlsx",
        f"/reports/periods/{period}/organisations/{kg}.xlsx",
        f"/networks/{network.id}/plan.xlsx",
        f"/people/{people.teacher.id}/portfolio.xlsx",
        "/people/import/template.xlsx",
    }
    found = []
    for path in sorted(csvs | workbooks):
        response = client.get(path)
        assert response.status_code == 200, path
        cells = (formula_cells_csv if path in csvs else formula_cells_xlsx)(response.data)
        found += [f"{path}: {cell!r}" for cell in cells]
    assert not found, "\n".join(found)


def test_a_formula_is_kept_as_text(formulas, world, login_as, people) -> None:  # type: ignore[no-untyped-def]  # noqa: F811,E501
    """Neutralised, not lost: the text is still there after the apostrophe."""
    client = login_as(people.municipal)
    text = client.get(f"/events/{world.seminar.id}/attendance.csv").data.decode("utf-8-sig")
    assert "'=HYPERLINK(" in text and "'@SUM(1+1)" in text
