"""Every join-link and presence route with every role: /j/<token> needs no sign-in (the token
is the key); presence counts for the people the event expects; revoking a link is for the
event's organisers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.calendar.invitations import invitation_token
from hub.core.types import utcnow
from tests.directory.test_access import ROLES

# (method, path template, municipal, coordinator, teacher, anonymous)
# {event}: on 3 December (its link not open yet), organised by the coordinator, the teacher
# invited; {live}: the same starting in 10 minutes (its link open); {invite} and
# {live_invite}: the teacher's tokens; {invitation}: the teacher's invitation to {event}.
# Presence comes first: opening a join link lets that browser report as the teacher.
ROUTES = [
    ("POST", "/events/{live}/presence", 403, 200, 200, 403),  # municipal: not expected
    ("POST", "/events/{event}/presence", 403, 204, 204, 403),  # not its time: nothing kept
    ("POST", "/events/999999/presence", 404, 404, 404, 404),
    ("GET", "/events/{live}/presence", 405, 405, 405, 405),
    ("GET", "/j/{invite}", 200, 200, 200, 200),  # says when it opens
    ("GET", "/j/{live_invite}", 302, 302, 302, 302),  # to the conference
    ("GET", "/j/" + "x" * 300, 404, 404, 404, 404),
    ("POST", "/j/{live_invite}", 405, 405, 405, 405),
    ("POST", "/events/{event}/attendance/999999/revoke-link", 404, 404, 403, 302),
    ("POST", "/events/{event}/attendance/{invitation}/revoke-link", 302, 302, 403, 302),
]


@pytest.fixture
def join_ids(event, make_event, invite, people):  # type: ignore[no-untyped-def]
    live = make_event(title="Вебинар для родителей «Чем занять ребёнка дома»",
                      start=utcnow() + timedelta(minutes=10))
    [live_invitation] = invite(live, [people.teacher])
    [invitation] = [i for i in event.invitations if i.person_id == people.teacher.id]
    return {"event": event.id, "live": live.id, "invite": invitation_token(invitation),
            "live_invite": invitation_token(live_invitation), "invitation": invitation.id}


@pytest.mark.parametrize("role", ROLES)
def test_every_join_route_answers_each_role_as_designed(role, client, people, login_as,
                                                        join_ids):
    if role != "anonymous":
        login_as(getattr(people, role))
    wrong = []
    for method, template, *expected in ROUTES:
        path = template.format(**join_ids)
        response = client.open(path, method=method, data={})
        want = expected[ROLES.index(role)]
        if response.status_code != want:
            wrong.append(f"{method} {path}: {response.status_code}, expected {want}")
        elif want >= 400:
            assert "Traceback" not in response.get_data(as_text=True)
        elif role == "anonymous" and want == 302 and "revoke" in path:
            assert "/login" in response.headers["Location"], path
    assert not wrong, "\n".join(wrong)
