"""Security fixtures: the domains' own fixtures and route-table id builders, imported so that
the cross-cutting tests walk the same objects the access tables do."""

from __future__ import annotations

from tests.archive.bank_fixtures import make_material  # noqa: F401
from tests.archive.test_access_materials import material_ids  # noqa: F401
from tests.attendance.test_access_checkin import checkin_ids  # noqa: F401
from tests.attendance.test_access_join import join_ids  # noqa: F401
from tests.attendance.test_access_sheet import sheet_ids  # noqa: F401
from tests.board.conftest import board, event  # noqa: F401 - the board tests' seminar
from tests.board.test_access import board_ids  # noqa: F401
from tests.calendar.conftest import invite, make_event, make_series  # noqa: F401
from tests.calendar.test_access import calendar_ids  # noqa: F401
from tests.conferencing.conftest import endpoints, telemost_account  # noqa: F401
from tests.conferencing.test_access import conferencing_ids  # noqa: F401
from tests.growth.test_access_internship_feedback import growth_ids  # noqa: F401
from tests.reports.test_access import report_ids  # noqa: F401
from tests.scheduling.test_access import events  # noqa: F401

