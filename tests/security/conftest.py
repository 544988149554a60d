"""Security fixtures: the domains' own fixtures and route-table id builders, imported so that
the cross-cutting tests walk the same objects the access tables do."""

from __future__ import annotations

import pytest

from hub.board.models import Board
from hub.board.services import ensure_board
from hub.extensions import db
from hub.scheduling.models import Event
from tests.archive.bank_fixtures import make_material  # noqa: F401
from tests.archive.test_access_materials import material_ids  # noqa: F401
from tests.attendance.test_access_checkin import checkin_ids  # noqa: F401
from tests.attendance.test_access_join import join_ids  # noqa: F401
from tests.attendance.test_access_sheet import sheet_ids  # noqa: F401
from tests.board.test_access import board_ids  # noqa: F401
from tests.calendar.conftest import invite, make_event, make_series  # noqa: F401
from tests.calendar.test_access import calendar_ids  # noqa: F401
from tests.conferencing.conftest import endpoints, telemost_account  # noqa: F401
from tests.conferencing.test_access import conferencing_ids  # noqa: F401
from tests.growth.test_access_internship_feedback import growth_ids  # noqa: F401
from tests.reports.test_access import report_ids  # noqa: F401
from tests.scheduling.test_access import events  # noqa: F401


@pytest.fixture
def event(make_event, invite, people) -> Event:  # type: ignore[no-untyped-def]  # noqa: F811
    """The domains' seminar: organised by the coordinator; the teacher and the other teacher
    invited (3 December 2026, 05:00–06:30 UTC)."""
    event = make_event()
    invite(event, [people.teacher, people.other_teacher])
    return event


@pytest.fixture
def board(event: Event) -> Board:
    board = ensure_board(event)
    db.session.commit()
    return board
