"""Every bank page with every role: the search, a network's bank, an organisation's shelf and
new this week are open to everyone (anonymous visitors see public materials); an event's
materials follow the event; the digest's toggle needs sign-in, its unsubscribe link does not."""

from __future__ import annotations

import pytest

from hub.archive.digest import unsubscribe_token
from tests.archive import bank_fixtures
from tests.directory.test_access import ROLES

make_material = bank_fixtures.make_material

# (method, path template, municipal, coordinator, teacher, anonymous)
# {event}: organised by the coordinator, the teacher invited; {network}: the coordinator's
# network; {org}: the coordinator's organisation; {token}: the teacher's unsubscribe token.
ROUTES = [
    ("GET", "/bank", 200, 200, 200, 200),
    ("GET", "/bank?q=робототехника&format=2&year=2026&age=5–6 лет&topic=x&page=2",
     200, 200, 200, 200),
    ("GET", "/bank?format=abc&year=-1&organisation=x&page=0", 200, 200, 200, 200),
    ("GET", "/bank?q=a%00b&topic=%00&age=%00", 200, 200, 200, 200),  # NUL: PostgreSQL refuses it
    ("GET", "/bank/digest/unsubscribe/%00", 404, 404, 404, 404),
    ("GET", "/bank/new", 200, 200, 200, 200),
    ("GET", "/networks/{network}/bank", 200, 200, 200, 200),
    ("GET", "/networks/{network}/bank?q=робототехника", 200, 200, 200, 200),
    ("GET", "/networks/999999/bank", 404, 404, 404, 404),
    ("GET", "/organisations/{org}/materials", 200, 200, 200, 200),
    ("GET", "/organisations/999999/materials", 404, 404, 404, 404),
    ("GET", "/events/{event}/materials", 200, 200, 200, 302),
    ("GET", "/events/999999/materials", 404, 404, 404, 404),
    ("POST", "/bank/digest", 302, 302, 302, 302),
    ("GET", "/bank/digest", 405, 405, 405, 405),
    ("GET", "/bank/digest/unsubscribe/{token}", 200, 200, 200, 200),
    ("GET", "/bank/digest/unsubscribe/not-a-real-token", 404, 404, 404, 404),
    ("POST", "/bank/digest/unsubscribe/{token}", 200, 200, 200, 200),
    ("POST", "/bank/digest/unsubscribe/not-a-real-token", 404, 404, 404, 404),
]


@pytest.mark.parametrize("role", ROLES)
def test_every_bank_route_answers_each_role_as_designed(role, client, people, login_as, event,
                                                        network, make_material):
    make_material("Слайды семинара", event=event)
    if role != "anonymous":
        login_as(getattr(people, role))
    ids = {"event": event.id, "network": network.id, "org": people.coordinator.organisation_id,
           "token": unsubscribe_token(people.teacher)}
    wrong = []
    for method, template, *expected in ROUTES:
        path = template.format(**ids)
        response = client.open(path, method=method, data={})
        want = expected[ROLES.index(role)]
        if response.status_code != want:
            wrong.append(f"{method} {path}: {response.status_code}, expected {want}")
        elif role == "anonymous" and want == 302:
            assert "/login" in response.headers["Location"], path
    assert not wrong, "\n".join(wrong)
