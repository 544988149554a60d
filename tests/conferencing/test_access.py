"""Every conferencing route with every role. Settings: municipal coordinators and the
organisation's own coordinator. Webhooks: no sign-in, the provider's signature is the key."""

from __future__ import annotations

import pytest

from hub.extensions import db
from hub.scheduling.models import EventHost
from tests.directory.test_access import ROLES

# (method, path template, municipal, coordinator, teacher, anonymous)
# {event}: scheduled, hosted by the coordinator's organisation, the teacher invited;
# {own_org}: the coordinator's organisation; {other_org}: another organisation;
# {account}: a Yandex Telemost account of the coordinator's organisation.
ROUTES = [
    ("GET", "/organisations/{own_org}/conferencing", 200, 200, 403, 302),
    ("GET", "/organisations/{other_org}/conferencing", 200, 403, 403, 302),
    ("GET", "/organisations/999999/conferencing", 404, 404, 404, 302),
    ("POST", "/organisations/{own_org}/conferencing/jitsi", 302, 302, 403, 302),
    ("POST", "/organisations/{other_org}/conferencing/jitsi", 302, 403, 403, 302),
    # Empty: the saved token is kept (and checked); nothing saved before: the form says why.
    ("POST", "/organisations/{own_org}/conferencing/telemost", 302, 302, 403, 302),
    ("POST", "/organisations/{own_org}/conferencing/bigbluebutton", 400, 400, 403, 302),
    ("POST", "/organisations/{own_org}/conferencing/skype", 404, 404, 403, 302),
    ("POST", "/organisations/{own_org}/conferencing/telemost/check", 302, 302, 403, 302),
    ("POST", "/organisations/{other_org}/conferencing/telemost/check", 302, 403, 403, 302),
    ("GET", "/events/{event}/join", 302, 302, 302, 302),
    ("GET", "/events/999999/join", 404, 404, 404, 302),
    ("POST", "/events/{event}/room/retry", 302, 302, 403, 302),
    ("POST", "/conferencing/hooks/{account}", 401, 401, 401, 401),  # unsigned: rejected
    ("POST", "/conferencing/hooks/999999", 404, 404, 404, 404),
    ("GET", "/conferencing/hooks/{account}", 405, 405, 405, 405),
    ("POST", "/organisations/{other_org}/conferencing/jitsi/delete", 302, 403, 403, 302),
    ("POST", "/organisations/{own_org}/conferencing/jitsi/delete", 302, 302, 403, 302),
]


@pytest.fixture
def conferencing_ids(people, make_event, invite, telemost_account):  # type: ignore[no-untyped-def]
    event = make_event()
    event.hosts.append(EventHost(organisation_id=people.coordinator.organisation_id))
    invite(event, [people.teacher])
    db.session.commit()
    return {"event": event.id, "own_org": people.coordinator.organisation_id,
            "other_org": people.other_teacher.organisation_id, "account": telemost_account.id}


@pytest.mark.parametrize("role", ROLES)
def test_every_conferencing_route_answers_each_role_as_designed(role, client, people, login_as,
                                                                conferencing_ids):
    if role != "anonymous":
        login_as(getattr(people, role))
    wrong = []
    for method, template, *expected in ROUTES:
        path = template.format(**conferencing_ids)
        response = client.open(path, method=method, data={})
        want = expected[ROLES.index(role)]
        if response.status_code != want:
            wrong.append(f"{method} {path}: {response.status_code}, expected {want}")
        elif role == "anonymous" and want == 302:
            assert "/login" in response.headers["Location"], path
    assert not wrong, "\n".join(wrong)
