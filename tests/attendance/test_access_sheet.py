"""Every route of the attendance sheet and the credit rules with every role: the sheet is the
event's editors' (the municipal coordinator, the organising coordinator), a person's own
record is theirs, the rules are the municipal coordinator's."""

from __future__ import annotations

import pytest

from hub.attendance import services
from hub.extensions import db
from tests.directory.test_access import ROLES

# (method, path template, municipal, coordinator, teacher, anonymous)
# {event}: organised by the coordinator, the teacher invited; {record}: the teacher's record;
# {guest}: a guest's record. Empty forms are refused with a message (400).
ROUTES = [
    ("GET", "/events/{event}/attendance", 200, 200, 403, 302),
    ("GET", "/events/999999/attendance", 404, 404, 404, 302),
    ("GET", "/events/{event}/attendance.csv", 200, 200, 403, 302),
    ("GET", "/events/{event}/attendance.xlsx", 200, 200, 403, 302),
    ("GET", "/events/{event}/attendance.pdf", 404, 404, 404, 404),
    ("GET", "/events/{event}/attendance/me", 200, 200, 200, 302),
    ("POST", "/events/{event}/attendance/{record}/override", 400, 400, 403, 302),
    ("POST", "/events/{event}/attendance/999999/override", 404, 404, 403, 302),
    ("POST", "/events/{event}/attendance/guests", 400, 400, 403, 302),
    ("POST", "/events/{event}/attendance/{guest}/merge", 400, 400, 403, 302),
    ("POST", "/events/{event}/attendance/{record}/intervals", 400, 400, 403, 302),
    ("POST", "/events/{event}/attendance/recompute", 302, 302, 403, 302),
    ("GET", "/attendance/rules", 200, 403, 403, 302),
    ("POST", "/attendance/rules", 400, 403, 403, 302),
]


@pytest.fixture
def sheet_ids(event, people):  # type: ignore[no-untyped-def]
    record = services.record_of(event, people.teacher)
    guest = services.add_guest(event, "Петров Пётр", "petrov@example.org", people.coordinator)
    db.session.commit()
    return {"event": event.id, "record": record.id, "guest": guest.id}


@pytest.mark.parametrize("role", ROLES)
def test_every_sheet_route_answers_each_role_as_designed(role, client, people, login_as,
                                                         sheet_ids):
    if role != "anonymous":
        login_as(getattr(people, role))
    wrong = []
    for method, template, *expected in ROUTES:
        path = template.format(**sheet_ids)
        response = client.open(path, method=method, data={})
        want = expected[ROLES.index(role)]
        if response.status_code != want:
            wrong.append(f"{method} {path}: {response.status_code}, expected {want}")
    assert not wrong, "\n".join(wrong)


def test_a_coordinator_of_another_organisation_may_not_see_the_sheet(
        client, login_as, other_coordinator, sheet_ids) -> None:
    login_as(other_coordinator)
    for path in ("/events/{event}/attendance", "/events/{event}/attendance.csv"):
        assert client.get(path.format(**sheet_ids)).status_code == 403
    response = client.post("/events/{event}/attendance/{record}/override".format(**sheet_ids),
                           data={"status": "1", "reason": "проверка"})
    assert response.status_code == 403
