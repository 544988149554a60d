"""Every directory route with every role: who gets 200, 302 (done, or sign in first) or 403."""

from __future__ import annotations

import re

import pytest

from .conftest import fresh, organisation_data, text

# (method, path template, municipal, coordinator, teacher, anonymous)
# {own_org}: the coordinator's and teacher's organisation; {other_org}: other_teacher's;
# {net}: a network of both; {teacher}, {other_teacher}, {municipal}, {coordinator}: people.
ROUTES = [
    ("GET", "/organisations", 200, 200, 200, 302),
    ("GET", "/organisations?q=сад&kind=1&inactive=1&page=2", 200, 200, 200, 302),
    ("GET", "/organisations/new", 200, 403, 403, 302),
    ("POST", "/organisations/new", 200, 403, 403, 302),  # empty form: errors shown
    ("GET", "/organisations/{own_org}", 200, 200, 200, 302),
    ("GET", "/organisations/{other_org}", 200, 200, 200, 302),
    ("GET", "/organisations/{own_org}/edit", 200, 200, 403, 302),
    ("GET", "/organisations/{other_org}/edit", 200, 403, 403, 302),
    # An edit POST without fields keeps every value (Flask-WTF falls back to the record).
    ("POST", "/organisations/{other_org}/edit", 302, 403, 403, 302),
    ("POST", "/organisations/{other_org}/deactivate", 302, 403, 403, 302),
    ("POST", "/organisations/{other_org}/reactivate", 302, 403, 403, 302),
    ("GET", "/networks", 200, 200, 200, 302),
    ("GET", "/networks?q=инженер&inactive=1", 200, 200, 200, 302),
    ("GET", "/networks/new", 200, 403, 403, 302),
    ("POST", "/networks/new", 200, 403, 403, 302),
    ("GET", "/networks/{net}", 200, 200, 200, 302),
    ("GET", "/networks/{net}/edit", 200, 403, 403, 302),
    ("POST", "/networks/{net}/edit", 200, 403, 403, 302),
    ("POST", "/networks/{net}/deactivate", 302, 403, 403, 302),
    ("POST", "/networks/{net}/reactivate", 302, 403, 403, 302),
    ("GET", "/people", 200, 200, 403, 302),
    ("GET", "/people?q=попова&role=3&category=1&status=all&page=1", 200, 200, 403, 302),
    ("GET", "/people?organisation={own_org}", 200, 200, 403, 302),
    ("GET", "/people?organisation={other_org}", 200, 403, 403, 302),
    ("GET", "/people/new", 200, 200, 403, 302),
    ("POST", "/people/new", 200, 200, 403, 302),
    ("GET", "/people/{teacher}", 200, 200, 200, 302),
    ("GET", "/people/{other_teacher}", 200, 403, 403, 302),
    ("GET", "/people/{municipal}", 200, 403, 403, 302),
    ("GET", "/people/{coordinator}", 200, 200, 403, 302),
    ("GET", "/people/{teacher}/edit", 200, 200, 200, 302),
    ("POST", "/people/{teacher}/edit", 302, 302, 302, 302),
    ("GET", "/people/{other_teacher}/edit", 200, 403, 403, 302),
    ("POST", "/people/{other_teacher}/edit", 302, 403, 403, 302),
    ("GET", "/people/{municipal}/edit", 200, 403, 403, 302),
    ("GET", "/people/{coordinator}/edit", 200, 200, 403, 302),
    ("POST", "/people/{teacher}/deactivate", 302, 302, 403, 302),
    ("POST", "/people/{teacher}/reactivate", 302, 302, 403, 302),
    ("POST", "/people/{other_teacher}/deactivate", 302, 403, 403, 302),
    ("POST", "/people/{other_teacher}/reactivate", 302, 403, 403, 302),
    ("POST", "/people/{municipal}/deactivate", 403, 403, 403, 302),  # nobody deactivates self
    ("GET", "/people/{coordinator}/deactivate", 405, 405, 405, 405),
    ("GET", "/organisations/999999", 404, 404, 404, 302),
    ("GET", "/people/999999", 404, 404, 404, 302),
    ("GET", "/networks/999999", 404, 404, 404, 302),
]
ROLES = ("municipal", "coordinator", "teacher", "anonymous")


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_role_as_designed(role, client, people, network, login_as):
    if role != "anonymous":
        login_as(getattr(people, role))
    ids = {
        "own_org": people.coordinator.organisation_id,
        "other_org": people.other_teacher.organisation_id,
        "net": network.id,
        **{name: getattr(people, name).id
           for name in ("teacher", "other_teacher", "municipal", "coordinator")},
    }
    wrong = []
    for method, template, *expected in ROUTES:
        path = template.format(**ids)
        response = client.open(path, method=method, data={})
        want = expected[ROLES.index(role)]
        if response.status_code != want:
            wrong.append(f"{method} {path}: {response.status_code}, expected {want}")
        if role == "anonymous" and want == 302:
            assert "/login" in response.headers["Location"], path
    assert not wrong, "\n".join(wrong)
    # The walk deactivated and reactivated things in pairs: everything is active again.
    assert all(fresh(getattr(people, name)).active
               for name in ("teacher", "other_teacher", "municipal", "coordinator"))
    assert fresh(people.other_teacher.organisation).active
    assert fresh(network).active


def test_anonymous_is_sent_to_sign_in_and_back(client, people):
    response = client.get("/people?q=x")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert "next=" in response.headers["Location"]


def test_forbidden_page_is_friendly_and_does_not_leak(client, people, login_as):
    login_as(people.coordinator)
    response = client.get(f"/people/{people.other_teacher.id}")
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    assert people.other_teacher.email not in body
    assert people.other_teacher.surname not in body
    assert "Traceback" not in body


def test_deactivate_requires_a_csrf_token(app, client, people, login_as):
    login_as(people.municipal)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(f"/people/{people.teacher.id}/deactivate")
        organisation = client.post(
            f"/organisations/{people.teacher.organisation_id}/deactivate")
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    assert organisation.status_code == 400
    assert fresh(people.teacher).active
    assert fresh(people.teacher.organisation).active


def test_forms_carry_their_csrf_token(app, client, people, login_as):
    """With CSRF on (as in production) the pages' own tokens make the forms work."""
    login_as(people.municipal)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = text(client.get("/organisations/new"))
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        created = client.post("/organisations/new",
                              data={**organisation_data(), "csrf_token": token})
        detail = text(client.get(created.headers["Location"]))
        button = re.search(r'action="(/organisations/\d+/deactivate)".*?'
                           r'name="csrf_token" value="([^"]+)"', detail, re.S)
        deactivated = client.post(button.group(1), data={"csrf_token": button.group(2)})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert created.status_code == 302
    assert deactivated.status_code == 302
