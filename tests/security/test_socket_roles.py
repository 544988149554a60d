"""Every socket event of the board × every kind of viewer, like the route tables: who may
connect, read, post and moderate. A handler added to hub/board/events.py without a row here
fails the test. Detailed behaviour per event: tests/board/test_socket.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from hub.board.events import HANDLERS
from hub.board.models import Board, Visibility
from hub.calendar.invitations import invitation_token
from hub.directory.models import Role
from hub.extensions import db, socketio
from tests.board.conftest import _fresh_limits, _own_socket_server, board_client  # noqa: F401

#: Payloads: each gets the ids of a post, a section and a comment the organiser made just
#: before (someone else's, for every viewer but the organiser).
Ids = dict[str, int]
PAYLOADS: dict[str, Callable[[Ids], dict[str, Any]]] = {
    "sync": lambda i: {"after": 0},
    "post.create": lambda i: {"body": "Идея"},
    "post.update": lambda i: {"id": i["post"], "body": "Чужая правка"},
    "post.delete": lambda i: {"id": i["post"]},
    "post.moderate": lambda i: {"id": i["post"], "action": "hide"},
    "post.move": lambda i: {"id": i["post"], "section_id": i["section"]},
    "react": lambda i: {"post_id": i["post"], "kind": "like"},
    "comment.create": lambda i: {"post_id": i["post"], "body": "Согласна"},
    "comment.delete": lambda i: {"id": i["comment"]},
    "section.create": lambda i: {"title": "Вопросы"},
    "section.update": lambda i: {"id": i["section"], "title": "Идеи и находки"},
    "section.move": lambda i: {"id": i["section"], "before_id": None},
    "section.delete": lambda i: {"id": i["section"]},
    "board.update": lambda i: {"layout": "columns"},
}

VIEWERS = ("anonymous", "stranger", "guest", "invited", "join_link", "organiser", "municipal")
# (event, anonymous, teacher of another organisation not invited, guest of a link board,
#  invited teacher signed in, invited teacher by the join token, organiser, municipal)
# "ok": done; "forbidden": refused as such; "-": cannot connect at all.
TABLE = [
    ("connect", "-", "-", "ok", "ok", "ok", "ok", "ok"),
    ("sync", "-", "-", "ok", "ok", "ok", "ok", "ok"),
    ("post.create", "-", "-", "ok", "ok", "ok", "ok", "ok"),
    ("react", "-", "-", "ok", "ok", "ok", "ok", "ok"),
    ("comment.create", "-", "-", "ok", "ok", "ok", "ok", "ok"),
    # Someone else's content: its author and the moderators only.
    ("post.update", "-", "-", "forbidden", "forbidden", "forbidden", "ok", "ok"),
    ("post.delete", "-", "-", "forbidden", "forbidden", "forbidden", "ok", "ok"),
    ("comment.delete", "-", "-", "forbidden", "forbidden", "forbidden", "ok", "ok"),
    # Moderation, sections and settings: moderators only.
    ("post.moderate", "-", "-", "forbidden", "forbidden", "forbidden", "ok", "ok"),
    ("post.move", "-", "-", "forbidden", "forbidden", "forbidden", "ok", "ok"),
    ("section.create", "-", "-", "forbidden", "forbidden", "forbidden", "ok", "ok"),
    ("section.update", "-", "-", "forbidden", "forbidden", "forbidden", "ok", "ok"),
    ("section.move", "-", "-", "forbidden", "forbidden", "forbidden", "ok", "ok"),
    ("section.delete", "-", "-", "forbidden", "forbidden", "forbidden", "ok", "ok"),
    ("board.update", "-", "-", "forbidden", "forbidden", "forbidden", "ok", "ok"),
]


def test_every_socket_event_has_a_row():
    """A new handler needs its row in TABLE and a payload."""
    assert {row[0] for row in TABLE} == set(HANDLERS) | {"connect"}
    assert set(PAYLOADS) == set(HANDLERS)


def test_the_socket_server_takes_only_its_own_origin(app: Flask):
    """No cross-site page may open a socket with the visitor's cookies."""
    assert socketio.server.eio.cors_allowed_origins in (None, [])
    assert not app.config.get("SOCKETIO_CORS_ALLOWED_ORIGINS")


def _connect(viewer: str, board: Board, board_client, people, stranger):  # type: ignore[no-untyped-def]  # noqa: F811
    if viewer == "anonymous":
        return board_client(board)
    if viewer == "stranger":
        return board_client(board, stranger)
    if viewer == "guest":
        return board_client(board, name="Анна Гостева")
    if viewer == "join_link":
        invitation = next(i for i in board.event.invitations if i.person_id == people.teacher.id)
        return board_client(board, token=invitation_token(invitation))
    person = {"invited": people.teacher, "organiser": people.coordinator,
              "municipal": people.municipal}[viewer]
    return board_client(board, person)


def _fresh_ids(organiser) -> Ids:  # type: ignore[no-untyped-def]
    post = organiser.emit("post.create", {"body": "Пост организатора"})
    section = organiser.emit("section.create", {"title": "Раздел"})
    comment = organiser.emit("comment.create", {"post_id": post["post"]["id"], "body": "Я"})
    assert post["ok"] and section["ok"] and comment["ok"], (post, section, comment)
    return {"post": post["post"]["id"], "section": section["section"]["id"],
            "comment": comment["comment"]["id"]}


@pytest.mark.parametrize("viewer", VIEWERS)
def test_each_viewer_may_do_what_the_table_says(app, board, board_client, people,  # noqa: F811
                                                make_person, viewer):
    board.visibility = Visibility.LINK if viewer == "guest" else Visibility.PARTICIPANTS
    db.session.commit()
    stranger = make_person(Role.TEACHER, surname="Чужая", email="stranger@example.org")
    saved = {key: app.config[key] for key in ("BOARD_POST_LIMIT", "BOARD_EVENT_LIMIT")}
    app.config.update(BOARD_POST_LIMIT="1000 per minute", BOARD_EVENT_LIMIT="1000 per second")
    try:
        organiser = board_client(board, people.coordinator)
        client = _connect(viewer, board, board_client, people, stranger)
        column = VIEWERS.index(viewer) + 1
        wrong = []
        for row in TABLE:
            event, want = row[0], row[column]
            if event == "connect":
                if client.connected != (want == "ok"):
                    wrong.append(f"connect: {client.connected}, expected {want}")
                continue
            if not client.connected:
                continue
            ids = _fresh_ids(organiser)
            answer = client.emit(event, PAYLOADS[event](ids))
            got = "ok" if answer["ok"] else answer["code"]
            if got != want:
                wrong.append(f"{event}: {got} ({answer.get('error')}), expected {want}")
    finally:
        app.config.update(saved)
    assert not wrong, "\n".join(wrong)
