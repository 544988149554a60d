"""Every report route with every role: the municipal coordinator sees and manages everything;
an organisation coordinator sees and submits their own organisation's report; teachers: 403."""

from __future__ import annotations

from datetime import date

import pytest

from hub.directory.models import OrgKind
from hub.extensions import db
from hub.reports.models import ReportPeriod
from tests.directory.test_access import ROLES

# (method, path template, municipal, coordinator, teacher, anonymous)
# {period}: 1 Sep – 13 Dec 2026; {spare}: another period (deleted by the walk);
# {own}: the coordinator's organisation; {other}: another one; {office}: the education office.
ROUTES = [
    ("GET", "/reports/periods", 200, 200, 403, 302),
    ("POST", "/reports/periods", 200, 403, 403, 302),  # empty form: errors shown
    ("GET", "/reports/periods/{period}", 200, 302, 403, 302),  # coordinator: to their report
    ("GET", "/reports/periods/999999", 404, 404, 403, 302),
    ("GET", "/reports/periods/{period}/edit", 200, 403, 403, 302),
    ("POST", "/reports/periods/{period}/edit", 200, 403, 403, 302),  # empty form: errors
    ("GET", "/reports/periods/{period}.csv", 200, 403, 403, 302),
    ("GET", "/reports/periods/{period}.xlsx", 200, 403, 403, 302),
    ("GET", "/reports/periods/{period}/organisations/{own}", 200, 200, 403, 302),
    ("GET", "/reports/periods/{period}/organisations/{other}", 200, 403, 403, 302),
    ("GET", "/reports/periods/{period}/organisations/{office}", 404, 404, 403, 302),
    ("POST", "/reports/periods/{period}/organisations/{own}", 403, 302, 403, 302),  # saves
    ("POST", "/reports/periods/{period}/organisations/{other}", 403, 403, 403, 302),
    ("GET", "/reports/periods/{period}/organisations/{own}.xlsx", 200, 200, 403, 302),
    ("GET", "/reports/periods/{period}/organisations/{other}.xlsx", 200, 403, 403, 302),
    ("POST", "/reports/periods/{period}/organisations/{own}/reopen", 302, 403, 403, 302),
    ("GET", "/reports/dashboard", 200, 200, 403, 302),
    ("GET", "/reports/dashboard?year=2027/2028", 200, 200, 403, 302),
    ("GET", "/reports/periods/{spare}/delete", 405, 405, 405, 405),
    ("POST", "/reports/periods/{spare}/delete", 302, 403, 403, 302),
]


@pytest.fixture
def report_ids(people):  # type: ignore[no-untyped-def]
    period = ReportPeriod(title="Первое полугодие", starts_on=date(2026, 9, 1),
                          ends_on=date(2026, 12, 13), deadline=date(2026, 12, 13))
    spare = ReportPeriod(title="Второе полугодие", starts_on=date(2027, 1, 1),
                         ends_on=date(2027, 5, 31), deadline=date(2027, 6, 1))
    db.session.add_all([period, spare])
    db.session.commit()
    office = people.municipal.organisation
    assert office.kind == OrgKind.EDUCATION_OFFICE
    return {"period": period.id, "spare": spare.id, "own": people.coordinator.organisation_id,
            "other": people.other_teacher.organisation_id, "office": office.id}


@pytest.mark.parametrize("role", ROLES)
def test_every_report_route_answers_each_role_as_designed(role, client, people, login_as,
                                                          report_ids):
    if role != "anonymous":
        login_as(getattr(people, role))
    wrong = []
    for method, template, *expected in ROUTES:
        path = template.format(**report_ids)
        response = client.open(path, method=method, data={})
        want = expected[ROLES.index(role)]
        if response.status_code != want:
            wrong.append(f"{method} {path}: {response.status_code}, expected {want}")
        elif role == "anonymous" and want == 302:
            assert "/login" in response.headers["Location"], path
    assert not wrong, "\n".join(wrong)
