"""Every calendar route with every role. Token routes (feeds, RSVP, join links) need no sign-in:
the token is the key; unknown tokens answer a friendly 404."""

from __future__ import annotations

import pytest

from hub.calendar.feeds import feed_token, get_or_create_feed
from hub.calendar.invitations import invitation_token
from hub.directory.models import Network, NetworkMember
from hub.extensions import db
from hub.scheduling.models import EventHost, EventStatus
from tests.directory.test_access import ROLES

# (method, path template, municipal, coordinator, teacher, anonymous)
# {event}: scheduled, hosted by the coordinator's organisation, the teacher invited;
# {draft}: a draft of the coordinator's; {open}: an open event; {invite}: the teacher's
# invitation token; {feed}: the teacher's feed token; {own_org}: the coordinator's
# organisation; {net}: a network.
ROUTES = [
    ("GET", "/events/{event}.ics", 200, 200, 200, 302),
    ("GET", "/events/{draft}.ics", 200, 200, 404, 404),
    ("GET", "/events/{open}.ics", 200, 200, 200, 200),
    ("GET", "/events/999999.ics", 404, 404, 404, 404),
    ("GET", "/feeds/{feed}.ics", 200, 200, 200, 200),
    ("GET", "/feeds/not-a-real-feed-token-000000000000000.ics", 404, 404, 404, 404),
    ("GET", "/feeds/organisations/{own_org}.ics", 200, 200, 200, 200),
    ("GET", "/feeds/organisations/999999.ics", 404, 404, 404, 404),
    ("GET", "/feeds/networks/{net}.ics", 200, 200, 200, 200),
    ("GET", "/feeds/networks/999999.ics", 404, 404, 404, 404),
    # Ids past any integer column: not found, never a database overflow.
    ("GET", "/events/2147483648.ics", 404, 404, 404, 404),
    ("GET", "/feeds/organisations/99999999999999999999.ics", 404, 404, 404, 404),
    ("GET", "/feeds/networks/9223372036854775808.ics", 404, 404, 404, 404),
    ("GET", "/feeds", 200, 200, 200, 302),
    ("GET", "/feeds/rotate", 405, 405, 405, 405),
    ("GET", "/rsvp/{invite}?answer=accepted", 200, 200, 200, 200),
    ("GET", "/rsvp/{invite}?answer=nonsense", 200, 200, 200, 200),
    ("POST", "/rsvp/{invite}", 400, 400, 400, 400),  # no answer chosen: the form says so
    ("GET", "/rsvp/not-a-real-invitation-token-00000000000?answer=declined", 404, 404, 404,
     404),
    ("POST", "/rsvp/not-a-real-invitation-token-00000000000", 404, 404, 404, 404),
    ("GET", "/j/{invite}", 200, 200, 200, 200),  # before its window: says when it opens
    ("GET", "/j/not-a-real-invitation-token-00000000000", 404, 404, 404, 404),
    ("POST", "/feeds/rotate", 302, 302, 302, 302),  # last: it changes the teacher's feed
]


@pytest.fixture
def calendar_ids(people, make_event, invite):  # type: ignore[no-untyped-def]
    event = make_event()
    event.hosts.append(EventHost(organisation_id=people.coordinator.organisation_id))
    draft = make_event(title="Черновик", status=EventStatus.DRAFT)
    draft.hosts.append(EventHost(organisation_id=people.coordinator.organisation_id))
    open_event = make_event(title="Вебинар для родителей «Чем занять ребёнка дома»",
                            open_registration=True)
    network = Network(name="«Растим инженеров»", school_year="2026/2027")
    network.members.append(NetworkMember(organisation_id=people.coordinator.organisation_id,
                                         coordinator_id=people.coordinator.id))
    db.session.add(network)
    open_event.network = network
    open_event.hosts.append(EventHost(organisation_id=people.coordinator.organisation_id))
    [invitation] = invite(event, [people.teacher])
    db.session.commit()
    return {
        "event": event.id, "draft": draft.id, "open": open_event.id,
        "invite": invitation_token(invitation),
        "feed": feed_token(get_or_create_feed(people.teacher)),
        "own_org": people.coordinator.organisation_id, "net": network.id,
    }


@pytest.mark.parametrize("role", ROLES)
def test_every_calendar_route_answers_each_role_as_designed(role, client, people, login_as,
                                                            calendar_ids):
    if role != "anonymous":
        login_as(getattr(people, role))
    wrong = []
    for method, template, *expected in ROUTES:
        path = template.format(**calendar_ids)
        response = client.open(path, method=method, data={})
        want = expected[ROLES.index(role)]
        if response.status_code != want:
            wrong.append(f"{method} {path}: {response.status_code}, expected {want}")
        elif want == 404:
            assert "Traceback" not in response.get_data(as_text=True)
        elif role == "anonymous" and want == 302 and not path.startswith("/j/"):
            assert "/login" in response.headers["Location"], path
    assert not wrong, "\n".join(wrong)


def test_unknown_links_answer_a_friendly_page(client):
    for path in ("/j/not-a-real-invitation-token-00000000000",
                 "/rsvp/not-a-real-invitation-token-00000000000?answer=accepted"):
        response = client.get(path)
        assert response.status_code == 404
        body = response.get_data(as_text=True)
        assert "Link not valid" in body and "organiser" in body
