"""Every presence-check route with every role. The participant's page: whoever may see the
event (the teacher is invited; organisers are told to show the code instead); the display, its
JSON and the rounds: whoever may edit the event."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.attendance.models import CheckRound
from hub.extensions import db
from tests.directory.test_access import ROLES

# (method, path template, municipal, coordinator, teacher, anonymous)
# {event}: organised by the coordinator, the teacher invited, no check open (the suite's clock
# is a week before it); {round}: a round of it, held earlier.
ROUTES = [
    ("GET", "/events/{event}/checkin", 200, 200, 200, 302),
    ("GET", "/events/{event}/checkin?code=123456", 200, 200, 200, 302),
    ("POST", "/events/{event}/checkin", 403, 403, 409, 302),  # not participants; no round open
    ("GET", "/events/999999/checkin", 404, 404, 404, 404),
    ("GET", "/events/{event}/checkin/display", 200, 200, 403, 302),
    ("GET", "/events/999999/checkin/display", 404, 404, 404, 302),
    ("GET", "/events/{event}/checkin/code.json", 200, 200, 403, 403),
    ("POST", "/events/{event}/checkin/rounds", 302, 302, 403, 302),  # too early: said so
    ("POST", "/events/{event}/checkin/rounds/{round}/close", 302, 302, 403, 302),
    ("POST", "/events/{event}/checkin/rounds/999999/close", 404, 404, 403, 302),
]


@pytest.fixture
def checkin_ids(event, people):  # type: ignore[no-untyped-def]
    check_round = CheckRound(event_id=event.id, secret="s" * 64,
                             opened_at=event.start_at - timedelta(days=30),
                             closes_at=event.start_at - timedelta(days=30, minutes=-5),
                             opened_by_id=people.coordinator.id)
    db.session.add(check_round)
    db.session.commit()
    return {"event": event.id, "round": check_round.id}


@pytest.mark.parametrize("role", ROLES)
def test_every_checkin_route_answers_each_role_as_designed(role, client, people, login_as,
                                                           checkin_ids):
    if role != "anonymous":
        login_as(getattr(people, role))
    wrong = []
    for method, template, *expected in ROUTES:
        path = template.format(**checkin_ids)
        response = client.open(path, method=method, data={"minutes": "5"})
        want = expected[ROLES.index(role)]
        if response.status_code != want:
            wrong.append(f"{method} {path}: {response.status_code}, expected {want}")
        elif role == "anonymous" and want == 302:
            assert "/login" in response.headers["Location"], path
    assert not wrong, "\n".join(wrong)
