"""Socket.IO handlers of the /board namespace (docs/board.md, "The socket protocol").

The connection is authorised on connect; every event then finds the viewer again (the board
may have frozen, the person may have been deactivated) before calling the service, commits,
and answers through the ack: {"ok": true, ...} or {"ok": false, "error", "code"}.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, request
from flask_babel import gettext as _
from flask_socketio import ConnectionRefusedError, join_room, leave_room
from sqlalchemy.exc import TimeoutError as PoolTimeout

from hub.board import limits, live, services
from hub.board.access import Viewer, guest_token, resolve_viewer
from hub.board.models import Board
from hub.board.services import BoardError
from hub.board.state import comment_dict, post_dict, section_dict
from hub.extensions import db, socketio

log = logging.getLogger(__name__)
NAMESPACE = live.NAMESPACE


@dataclass
class _Connection:
    """What the connect handler learnt, kept per socket in this process."""

    board_id: int
    key: str
    auth: dict[str, Any]
    bucket: limits.Bucket


_connections: dict[str, _Connection] = {}


def _board_id(auth: object) -> int | None:
    board_id = auth.get("board") if isinstance(auth, dict) else None
    if isinstance(board_id, bool) or not isinstance(board_id, int):
        return None
    return board_id


def _auth_fields(auth: dict[str, Any]) -> dict[str, Any]:
    return {k: auth.get(k) for k in ("token", "guest", "name")}


@socketio.on("connect", namespace=NAMESPACE)
def on_connect(auth: object = None) -> None:
    board_id = _board_id(auth)
    board = db.session.get(Board, board_id) if board_id else None
    if board is None:
        raise ConnectionRefusedError(_("There is no such board."))
    assert isinstance(auth, dict)
    viewer, _new_guest = resolve_viewer(board, **_auth_fields(auth))
    if viewer is None:
        raise ConnectionRefusedError(_("You may not open this board. Sign in, or open it from "
                                       "your personal link."))
    fields = _auth_fields(auth)
    hello: dict[str, Any] = {"board": board.id, "viewer": viewer.as_dict(), "head": board.seq}
    if viewer.is_guest:
        fields.update(guest=guest_token(board, viewer), name=None)
        hello["guest_token"] = fields["guest"]
    _connections[request.sid] = _Connection(board.id, viewer.key, fields, limits.socket_bucket())
    _join_rooms(board.id, viewer)
    live.joined(board.id, request.sid)
    live.start_background(current_app._get_current_object())  # type: ignore[attr-defined]
    hello["presence"] = live.presence(board.id)
    socketio.emit("hello", hello, to=request.sid, namespace=NAMESPACE)
    db.session.remove()


def _join_rooms(board_id: int, viewer: Viewer) -> None:
    """Moderators' sockets are in the moderators' room, everyone else's in the board's."""
    mine, other = live.room_moderators(board_id), live.room_all(board_id)
    if not viewer.moderator:
        mine, other = other, mine
    leave_room(other)
    join_room(mine)
    join_room(live.room_person(board_id, viewer.key))


@socketio.on("disconnect", namespace=NAMESPACE)
def on_disconnect(*_args: Any) -> None:
    connection = _connections.pop(request.sid, None)
    if connection is not None:
        live.left(connection.board_id, request.sid)


def _current() -> tuple[Board, Viewer]:
    """The socket's board and its viewer, checked again."""
    connection = _connections.get(request.sid)
    if connection is None:
        raise BoardError(_("Connect to the board again."), "not_connected")
    board = db.session.get(Board, connection.board_id)
    if board is None:
        raise BoardError(_("This board no longer exists."), "not_found")
    viewer, _new = resolve_viewer(board, **connection.auth)
    if viewer is None or viewer.key != connection.key:
        raise BoardError(_("You may no longer use this board."), "forbidden")
    if viewer.moderator != _is_in_moderators(connection):
        _join_rooms(board.id, viewer)
    return board, viewer


def _is_in_moderators(connection: _Connection) -> bool:
    from flask_socketio import rooms

    return live.room_moderators(connection.board_id) in rooms(request.sid, NAMESPACE)


def _answer(action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one event: commit on success, roll back and explain on refusal."""
    connection = _connections.get(request.sid)
    try:
        if connection is not None and not connection.bucket.take():
            raise BoardError(_("Too many requests at once: wait a moment and try again."),
                             "rate_limited")
        result = action()
        db.session.commit()
        return {"ok": True, **result}
    except BoardError as error:
        db.session.rollback()
        return {"ok": False, "error": error.message, "code": error.code}
    except PoolTimeout:  # every connection busy for DATABASE_POOL_TIMEOUT: refuse quickly
        db.session.rollback()
        log.warning("board %s: no database connection free", connection and connection.board_id)
        return {"ok": False, "code": "busy",
                "error": _("The board is very busy right now; nothing was saved. Try again "
                           "in a moment.")}
    except Exception:
        db.session.rollback()
        log.exception("board event failed (board %s)", connection and connection.board_id)
        return {"ok": False, "error": _("Something went wrong; nothing was saved. Try again."),
                "code": "error"}
    finally:
        db.session.remove()


def _writer(operation: Callable[[Board, Viewer, object], Any],
            reply: Callable[[Any], dict[str, Any]],
            limit: str | None = None) -> Callable[[object], dict[str, Any]]:
    """A handler that runs `operation` on the board and answers with `reply(result)`;
    `limit` names the per-person rate limit it counts against."""

    def handler(data: object = None, *_extra: Any) -> dict[str, Any]:
        def run() -> dict[str, Any]:
            board, viewer = _current()
            if limit is not None and viewer.can_post:
                limits.hit(limit, viewer.key)
            return reply(operation(board, viewer, data))

        return _answer(run)

    return handler


def _nothing(_result: Any) -> dict[str, Any]:
    return {}


HANDLERS: dict[str, Callable[[object], dict[str, Any]]] = {
    "post.create": _writer(services.create_post, lambda p: {"post": post_dict(p)}, "write"),
    "post.update": _writer(services.update_post, lambda p: {"post": post_dict(p)}),
    "post.delete": _writer(services.delete_post, _nothing),
    "post.moderate": _writer(services.moderate_post, lambda p: {"post": post_dict(p)}),
    "post.move": _writer(services.move_post, lambda p: {"post": post_dict(p)}),
    "react": _writer(services.react, lambda mine: {"mine": mine}, "react"),
    "comment.create": _writer(services.create_comment, lambda c: {"comment": comment_dict(c)},
                              "write"),
    "comment.delete": _writer(services.delete_comment, _nothing),
    "section.create": _writer(services.create_section, lambda s: {"section": section_dict(s)}),
    "section.update": _writer(services.update_section, lambda s: {"section": section_dict(s)}),
    "section.move": _writer(services.move_section, lambda s: {"section": section_dict(s)}),
    "section.delete": _writer(services.delete_section, _nothing),
    "board.update": _writer(services.update_board, _nothing),
}


def on_sync(data: object = None, *_extra: Any) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        board, viewer = _current()
        return services.sync(board, viewer, data)

    return _answer(run)


HANDLERS["sync"] = on_sync
for _name, _handler in HANDLERS.items():
    socketio.on_event(_name, _handler, namespace=NAMESPACE)


@socketio.on("*", namespace=NAMESPACE)
def on_unknown(event: str, *_args: Any) -> dict[str, Any]:
    """Any other event name: refused, so a client's mistake is visible to it."""
    return {"ok": False, "error": _("Unknown request: %(name)s.", name=str(event)[:60]),
            "code": "unknown_event"}


@socketio.on_error(NAMESPACE)
def on_error(error: Exception) -> dict[str, Any]:
    db.session.rollback()
    log.exception("board socket error", exc_info=error)
    return {"ok": False, "error": _("Something went wrong; nothing was saved. Try again."),
            "code": "error"}
