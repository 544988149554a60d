"""Every board route with every role. Event boards: whoever may see the event (the teacher is
invited); standalone boards: the network's people; exports and images: the board's viewers."""

from __future__ import annotations

import pytest

from hub.board.models import Board
from hub.extensions import db
from tests.directory.test_access import ROLES

# (method, path template, municipal, coordinator, teacher, anonymous)
# {event}: organised by the coordinator, the teacher invited; {board}: its board;
# {network}: the coordinator's network; {standalone}: a board of that network.
ROUTES = [
    ("GET", "/events/{event}/board", 200, 200, 200, 302),
    ("GET", "/events/999999/board", 404, 404, 404, 404),
    ("GET", "/boards/{board}", 302, 302, 302, 302),  # an event's board lives at its URL
    ("GET", "/boards/{standalone}", 200, 200, 200, 302),
    ("GET", "/boards/999999", 404, 404, 404, 404),
    ("GET", "/boards/{board}/state.json", 200, 200, 200, 403),
    ("POST", "/boards/{board}/images", 400, 400, 400, 403),  # no file: refused with a reason
    ("GET", "/boards/{board}/images/no-such-key", 404, 404, 404, 403),
    ("GET", "/boards/{board}/images/no-such-key/thumb", 404, 404, 404, 403),
    ("GET", "/boards/{board}/export.csv", 200, 200, 200, 403),
    ("GET", "/boards/{board}/export.pdf", 200, 200, 200, 403),
    ("GET", "/boards/{board}/print", 200, 200, 200, 403),
    ("GET", "/events/{event}/board/export.csv", 302, 302, 302, 302),
    ("GET", "/events/{event}/board/export.pdf", 302, 302, 302, 302),
    ("POST", "/networks/{network}/boards", 302, 302, 403, 302),
    ("POST", "/networks/999999/boards", 404, 404, 404, 302),
]


@pytest.fixture
def board_ids(event, board, network):  # type: ignore[no-untyped-def]
    event.network_id = network.id
    standalone = Board(network_id=network.id, title="Банк идей")
    db.session.add(standalone)
    db.session.commit()
    return {"event": event.id, "board": board.id, "network": network.id,
            "standalone": standalone.id}


@pytest.mark.parametrize("role", ROLES)
def test_every_board_route_answers_each_role_as_designed(role, client, people, login_as,
                                                         board_ids):
    if role != "anonymous":
        login_as(getattr(people, role))
    wrong = []
    for method, template, *expected in ROUTES:
        path = template.format(**board_ids)
        response = client.open(path, method=method, data={"title": "Банк идей"})
        want = expected[ROLES.index(role)]
        if response.status_code != want:
            wrong.append(f"{method} {path}: {response.status_code}, expected {want}")
    assert not wrong, "\n".join(wrong)
