"""Board fixtures: an event with its board, and real Socket.IO test clients of the /board
namespace, each signed in through the real login form (or a guest, or a join token)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from hub.board import limits, live
from hub.board.models import Board
from hub.board.services import ensure_board
from hub.directory.models import Person
from hub.extensions import db, socketio
from hub.scheduling.models import Event
from tests.calendar.conftest import invite, make_event  # noqa: F401
from tests.conftest import login, socket_server_of

NS = "/board"


@pytest.fixture(autouse=True)
def _fresh_limits(app: Flask) -> None:
    limits.reset()
    live.reset()


@pytest.fixture(autouse=True)
def _own_socket_server(app: Flask) -> Iterator[None]:
    """The test clients connect to the server of the session's app (see socket_server_of)."""
    with socket_server_of(app):
        yield


class BoardClient:
    """A Socket.IO client of one board; every call runs in its own app context, as a real
    server would (the tests' own database session is left alone)."""

    def __init__(self, app: Flask, board_id: int, *, person: Person | None = None,
                 password: str | None = None, **auth: Any) -> None:
        self.app = app
        http = app.test_client()
        if person is not None:
            response = login(http, person) if password is None else login(http, person, password)
            assert response.status_code == 302
        with app.app_context():
            self.sio = socketio.test_client(app, namespace=NS, flask_test_client=http,
                                            auth={"board": board_id, **auth})
        self.http = http

    @property
    def connected(self) -> bool:
        return self.sio.is_connected(NS)

    def emit(self, event: str, data: Any = None) -> dict:
        with self.app.app_context():
            return self.sio.emit(event, data, namespace=NS, callback=True)

    def received(self) -> list[dict]:
        with self.app.app_context():
            return self.sio.get_received(NS)

    def changes(self) -> list[dict]:
        """Every change received since the last call, in the order they came."""
        return [change for message in self.received() if message["name"] == "changes"
                for change in message["args"][0]["changes"]]

    def hello(self) -> dict:
        return next(m["args"][0] for m in self.received() if m["name"] == "hello")

    def disconnect(self) -> None:
        with self.app.app_context():
            if self.connected:
                self.sio.disconnect(namespace=NS)


@pytest.fixture
def board_client(app: Flask) -> Iterator[Callable[..., BoardClient]]:
    made: list[BoardClient] = []

    def make(board: Board, person: Person | None = None, **auth: Any) -> BoardClient:
        client = BoardClient(app, board.id, person=person, **auth)
        made.append(client)
        return client

    yield make
    for client in made:
        client.disconnect()


@pytest.fixture
def event(make_event, invite, people) -> Event:  # type: ignore[no-untyped-def]  # noqa: F811
    """A seminar organised by the coordinator; the teacher and the other teacher invited."""
    event = make_event()
    invite(event, [people.teacher, people.other_teacher])
    return event


@pytest.fixture
def board(event: Event) -> Board:
    board = ensure_board(event)
    db.session.commit()
    return board
