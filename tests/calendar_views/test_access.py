"""Every calendar page with every role: who gets 200, 302 (sign in first), 403 or 404."""

from __future__ import annotations

import pytest

from tests.directory.test_access import ROLES

# (method, path template, municipal, coordinator, teacher, anonymous)
# {teacher}: the coordinator's teacher; {other_teacher}: a teacher of another organisation;
# {own_org}: their organisation; {net}: a network of both organisations.
ROUTES = [
    ("GET", "/calendar", 200, 200, 200, 302),
    ("GET", "/calendar?view=week&date=2026-11-05&format=1&format=4", 200, 200, 200, 302),
    ("GET", "/calendar?view=list&date=2026-13-45&format=x&format=999", 200, 200, 200, 302),
    ("GET", "/calendar?view=year&date=99999-01-01", 200, 200, 200, 302),
    ("GET", "/people/{teacher}/calendar", 200, 200, 200, 302),
    ("GET", "/people/{other_teacher}/calendar", 200, 403, 403, 302),
    ("GET", "/people/999999/calendar", 404, 404, 404, 302),
    ("GET", "/organisations/{own_org}/calendar", 200, 200, 200, 302),
    ("GET", "/organisations/{own_org}/calendar?view=list", 200, 200, 200, 302),
    ("GET", "/organisations/999999/calendar", 404, 404, 404, 302),
    ("GET", "/networks/{net}/calendar", 200, 200, 200, 302),
    ("GET", "/networks/{net}/calendar?view=week&date=2027-01-01", 200, 200, 200, 302),
    ("GET", "/networks/999999/calendar", 404, 404, 404, 302),
    # Ids past any integer column: not found, never a database overflow.
    ("GET", "/people/99999999999999999999/calendar", 404, 404, 404, 404),
    ("GET", "/organisations/2147483648/calendar", 404, 404, 404, 404),
    ("GET", "/networks/9223372036854775808/calendar", 404, 404, 404, 404),
]


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_role_as_designed(role, client, people, network, login_as):
    if role != "anonymous":
        login_as(getattr(people, role))
    ids = {"teacher": people.teacher.id, "other_teacher": people.other_teacher.id,
           "own_org": people.teacher.organisation_id, "net": network.id}
    wrong = []
    for method, template, *expected in ROUTES:
        path = template.format(**ids)
        response = client.open(path, method=method)
        want = expected[ROLES.index(role)]
        if response.status_code != want:
            wrong.append(f"{method} {path}: {response.status_code}, expected {want}")
        if role == "anonymous" and want == 302:
            assert "/login" in response.headers["Location"], path
    assert not wrong, "\n".join(wrong)
