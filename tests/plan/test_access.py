"""Every route of the joint plan with every role: who gets 200, 302 (done, or sign in first),
403 or 404."""

from __future__ import annotations

import pytest

from hub.extensions import db
from hub.scheduling import plan
from tests.directory.test_access import ROLES

# (method, path template, municipal, coordinator, teacher, anonymous)
# {net}: a network of the coordinator's and the other teacher's organisations; {item}: an item
# of its plan. The municipal coordinator edits every plan but approves none (they coordinate no
# member); the teacher reads it.
ROUTES = [
    ("GET", "/networks/{net}/plan", 200, 200, 200, 302),
    ("POST", "/networks/{net}/plan/items", 200, 200, 403, 302),  # empty form: errors shown
    ("GET", "/networks/{net}/plan/items/{item}/edit", 200, 200, 403, 302),
    ("POST", "/networks/{net}/plan/items/{item}/edit", 200, 200, 403, 302),
    ("POST", "/networks/{net}/plan/approve", 403, 302, 403, 302),
    ("GET", "/networks/{net}/plan/approve", 405, 405, 405, 405),
    ("GET", "/networks/{net}/plan.xlsx", 200, 200, 200, 302),
    ("POST", "/networks/{net}/plan/items/{item}/event", 302, 302, 403, 302),
    ("POST", "/networks/{net}/plan/items/{item}/delete", 302, 302, 403, 302),
    ("GET", "/networks/999999/plan", 404, 404, 404, 302),
    ("GET", "/networks/999999/plan.xlsx", 404, 404, 404, 302),
    ("GET", "/networks/{net}/plan/items/999999/edit", 404, 404, 404, 302),
    ("POST", "/networks/{net}/plan/items/999999/delete", 404, 404, 404, 302),
    # Ids past any integer column: not found, never a database overflow.
    ("GET", "/networks/99999999999999999999/plan", 404, 404, 404, 404),
    ("GET", "/networks/{net}/plan/items/9223372036854775808/edit", 404, 404, 404, 404),
]


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_role_as_designed(role, client, people, network, login_as):
    if role != "anonymous":
        login_as(getattr(people, role))
    item = plan.add_item(network, month="2026-10", topic="Круглый стол", format=3,
                         responsible=people.coordinator.organisation)
    db.session.commit()
    ids = {"net": network.id, "item": item.id}
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
