"""Every certificate and portfolio route with every role. Certificates: the holder, the
event's organisers and editors, coordinators of the holder's organisation and the municipal
coordinator download; organisers issue and revoke; anyone checks a code. Portfolios: the
person, their organisation's coordinators, the municipal coordinator."""

from __future__ import annotations

import pytest

from hub.extensions import db
from hub.growth import certificates
from tests.directory.test_access import ROLES
from tests.growth.records import after, attend

# (method, path template, municipal, coordinator, teacher, anonymous)
# {event}: the coordinator's seminar, held; {mine}: the teacher's certificate of it;
# {other}: the other teacher's (another organisation); {code}: the teacher's code;
# {teacher}, {other_teacher}: people.
ROUTES = [
    ("GET", "/certificates/{mine}.pdf", 200, 200, 200, 302),
    ("GET", "/certificates/{other}.pdf", 200, 200, 403, 302),  # the coordinator organised it
    ("GET", "/certificates/999999.pdf", 404, 404, 404, 302),
    ("POST", "/events/{event}/certificates", 302, 302, 403, 302),
    ("POST", "/events/999999/certificates", 404, 404, 404, 302),
    ("POST", "/certificates/{mine}/revoke", 302, 302, 403, 302),  # no reason: told, kept
    ("POST", "/certificates/999999/revoke", 404, 404, 404, 302),
    ("GET", "/verify/{code}", 200, 200, 200, 200),
    ("GET", "/verify/NO-SUCH-CODE", 404, 404, 404, 404),
    ("GET", "/portfolio", 200, 200, 200, 302),
    ("GET", "/portfolio?from=2026-09-31", 400, 400, 400, 302),
    ("GET", "/portfolio.pdf", 200, 200, 200, 302),
    ("GET", "/portfolio.xlsx", 200, 200, 200, 302),
    ("GET", "/portfolio.csv", 404, 404, 404, 404),
    ("GET", "/people/{teacher}/portfolio", 200, 200, 200, 302),
    ("GET", "/people/{other_teacher}/portfolio", 200, 403, 403, 302),
    ("GET", "/people/{teacher}/portfolio.pdf", 200, 200, 200, 302),
    ("GET", "/people/{teacher}/portfolio.xlsx", 200, 200, 200, 302),
    ("GET", "/people/{other_teacher}/portfolio.xlsx", 200, 403, 403, 302),
    ("GET", "/people/999999/portfolio", 404, 404, 404, 302),
    ("GET", "/people/999999/portfolio.pdf", 404, 404, 404, 302),
]


@pytest.mark.parametrize("role", ROLES)
def test_every_certificate_and_portfolio_route_answers_each_role_as_designed(
        role, client, people, login_as, event):  # type: ignore[no-untyped-def]
    with after(event):
        mine = certificates.issue_for(attend(event, people.teacher, people.coordinator))
        other = certificates.issue_for(attend(event, people.other_teacher, people.coordinator))
        db.session.commit()
        ids = {"event": event.id, "mine": mine.id, "other": other.id, "code": mine.code,
               "teacher": people.teacher.id, "other_teacher": people.other_teacher.id}
        if role != "anonymous":
            login_as(getattr(people, role))
        wrong = []
        for method, template, *expected in ROUTES:
            path = template.format(**ids)
            response = client.open(path, method=method, data={})
            want = expected[ROLES.index(role)]
            if response.status_code != want:
                wrong.append(f"{method} {path}: {response.status_code}, expected {want}")
    assert not wrong, "\n".join(wrong)
    assert mine.valid
