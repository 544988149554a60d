"""Every events route with every role: who gets 200, 302 (done, or sign in first), 403 or 404.

{own}: scheduled, hosted by the coordinator's organisation, the teacher invited; {draft}: a
draft of the coordinator's; {other}: scheduled, another organisation's, not open, nobody of the
coordinator's organisation invited; {open}: another organisation's open event; {series}: a
series of the coordinator's organisation; {session}: one of its sessions.
"""

from __future__ import annotations

from datetime import date, time

import pytest

from hub.extensions import db
from hub.scheduling import services
from hub.scheduling.recurrence import FREQ_WEEKLY, Recurrence

from .conftest import NEXT_YEAR, spec

# (method, path template, municipal, coordinator, teacher, anonymous)
ROUTES = [
    ("GET", "/events", 200, 200, 200, 302),
    ("GET", "/events?format=1&organisation={own_org}&network=1&when=past&mine=1&page=2",
     200, 200, 200, 302),
    ("GET", "/events?format=abc&organisation=-1&network=99999999999999&page=zzz",
     200, 200, 200, 302),
    ("GET", "/events/new", 200, 200, 403, 302),
    ("POST", "/events/new", 200, 200, 403, 302),  # empty form: errors shown
    ("GET", "/events/{own}", 200, 200, 200, 302),
    ("GET", "/events/{draft}", 200, 200, 403, 302),
    ("GET", "/events/{other}", 200, 403, 403, 302),
    ("GET", "/events/{open}", 200, 200, 200, 200),  # open events have a public page
    ("GET", "/events/{session}", 200, 200, 200, 302),
    ("GET", "/events/999999", 404, 404, 404, 404),
    ("GET", "/events/{own}/edit", 200, 200, 403, 302),
    ("POST", "/events/{own}/edit", 200, 200, 403, 302),  # empty form: errors shown
    ("GET", "/events/{other}/edit", 200, 403, 403, 302),
    ("POST", "/events/{other}/edit", 200, 403, 403, 302),
    ("GET", "/events/{session}/edit", 200, 200, 403, 302),
    ("GET", "/events/999999/edit", 404, 404, 404, 302),
    ("GET", "/events/{own}/responses", 200, 200, 403, 302),
    ("GET", "/events/{own}/responses?answer=declined", 200, 200, 403, 302),
    ("GET", "/events/{own}/responses?answer=<script>", 200, 200, 403, 302),
    ("GET", "/events/{other}/responses", 200, 403, 403, 302),
    ("GET", "/series/{series}", 200, 200, 200, 302),
    ("GET", "/series/{other_series}", 200, 403, 403, 302),
    ("GET", "/series/999999", 404, 404, 404, 302),
    ("GET", "/events/people.json?q=попова", 200, 200, 403, 302),
    ("GET", "/events/people.json", 200, 200, 403, 302),
    ("GET", "/events/{own}/publish", 405, 405, 405, 405),
    ("POST", "/events/{own}/complete", 302, 302, 403, 302),  # not started: refused, said
    ("POST", "/events/{own}/register", 302, 302, 302, 302),  # not open: refused, said
    ("POST", "/events/{other}/register", 302, 403, 403, 302),
    ("POST", "/events/{open}/register", 302, 302, 302, 302),
    ("POST", "/events/{open}/unregister", 302, 302, 302, 302),
    ("POST", "/events/{other}/unregister", 302, 403, 403, 302),
    ("POST", "/events/{draft}/publish", 302, 302, 403, 302),
    ("POST", "/events/{other}/publish", 302, 403, 403, 302),  # not a draft: refused, said
    ("POST", "/events/{other}/cancel", 302, 403, 403, 302),
    ("POST", "/events/{own}/cancel", 302, 302, 403, 302),
    ("POST", "/events/999999/cancel", 404, 404, 404, 302),
    # Ids past any integer column: not found, never a database overflow.
    ("GET", "/events/99999999999999999999", 404, 404, 404, 404),
    ("GET", "/events/2147483648/edit", 404, 404, 404, 404),
    ("POST", "/events/9223372036854775808/register", 404, 404, 404, 404),
    ("GET", "/series/2147483648", 404, 404, 404, 404),
]
ROLES = ("municipal", "coordinator", "teacher", "anonymous")


@pytest.fixture
def events(people, other_coordinator):  # type: ignore[no-untyped-def]
    own_org = people.coordinator.organisation_id
    other_org = people.other_teacher.organisation_id
    own = services.create_event(people.coordinator, spec(
        host_ids=[own_org], audience_organisation_ids=[own_org]), publish=True)
    draft = services.create_event(people.coordinator, spec(host_ids=[own_org], title="Черновик"))
    other = services.create_event(other_coordinator, spec(
        host_ids=[other_org], audience_organisation_ids=[other_org]), publish=True)
    open_event = services.create_event(other_coordinator, spec(
        host_ids=[other_org], open_registration=True, capacity=10), publish=True)
    weekly = Recurrence(freq=FREQ_WEEKLY, weekdays=[date(NEXT_YEAR, 3, 2).weekday()], count=3)
    session = services.create_event(people.coordinator, spec(
        host_ids=[own_org], audience_organisation_ids=[own_org],
        start_date=date(NEXT_YEAR, 3, 2), start_time=time(10), end_time=time(11),
        recurrence=weekly), publish=True)
    other_session = services.create_event(other_coordinator, spec(
        host_ids=[other_org], start_date=date(NEXT_YEAR, 3, 2), recurrence=weekly),
        publish=True)
    db.session.commit()
    return {"own": own.id, "draft": draft.id, "other": other.id, "open": open_event.id,
            "series": session.series_id, "session": session.id,
            "other_series": other_session.series_id, "own_org": own_org}


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_role_as_designed(role, client, people, events, login_as):
    if role != "anonymous":
        login_as(getattr(people, role))
    wrong = []
    for method, template, *expected in ROUTES:
        path = template.format(**events)
        response = client.open(path, method=method, data={})
        want = expected[ROLES.index(role)]
        if response.status_code != want:
            wrong.append(f"{method} {path}: {response.status_code}, expected {want}")
        elif role == "anonymous" and want == 302:
            assert "/login" in response.headers["Location"], path
        assert "Traceback" not in response.get_data(as_text=True)
    assert not wrong, "\n".join(wrong)


def test_a_forbidden_event_page_does_not_leak(client, people, events, login_as):
    login_as(people.teacher)
    response = client.get(f"/events/{events['other']}")
    assert response.status_code == 403
    assert "Вебинар" not in response.get_data(as_text=True)


def test_a_draft_is_not_public_even_when_open(client, people):
    draft = services.create_event(people.coordinator, spec(
        host_ids=[people.coordinator.organisation_id], open_registration=True, title="Скоро"))
    db.session.commit()
    response = client.get(f"/events/{draft.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
