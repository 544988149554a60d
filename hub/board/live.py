"""Sending board changes to the people on the board, after they are stored.

Rooms of the /board namespace: `b<id>` (everyone who is not a moderator), `b<id>:m` (the
moderators) and `b<id>:u:<key>` (one person's connections). A change everyone sees the same
goes to the first two; a change with a reduced public form goes in full to the moderators and
its author, and reduced to everyone else.

Changes are sent when the transaction that stored them commits (a SQLAlchemy event), never
before: at once when the board has sent nothing for BOARD_FLUSH_SECONDS, otherwise from a
per-process buffer that a background task sends BOARD_FLUSH_SECONDS after the board's last
message (reaction counts always wait for it); the same task sends `head` (the last sequence
number) and `presence`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections import defaultdict
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event as sa_event

from hub.board.models import Board, BoardChange
from hub.board.numbering import PENDING_KEY, client_form, number_pending
from hub.extensions import db, socketio

log = logging.getLogger(__name__)
NAMESPACE = "/board"
PROCESS_ID = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"


def room_all(board_id: int) -> str:
    return f"b{board_id}"


def room_moderators(board_id: int) -> str:
    return f"b{board_id}:m"


def room_person(board_id: int, key: str) -> str:
    return f"b{board_id}:u:{key}"


class _Outbox:
    """Per-process state: buffered changes, when each board last sent, local connections per
    board, presence."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.buffer: dict[int, list[BoardChange | dict]] = defaultdict(list)
        self.last_sent: dict[int, float] = {}
        self.connections: dict[int, set[str]] = defaultdict(set)
        self.presence_sent: dict[int, int] = {}
        self.started = False


_outbox = _Outbox()


# -- sending ---------------------------------------------------------------------------------

def _emit(board_id: int, changes: list[dict], rooms: list[str]) -> None:
    socketio.emit("changes", {"board": board_id, "changes": changes}, to=rooms,
                  namespace=NAMESPACE)


def _send(board_id: int, changes: list[dict[str, Any]]) -> None:
    """Send stored changes of one board (dict copies of BoardChange rows), in order."""
    shared: list[dict] = []
    everyone = [room_all(board_id), room_moderators(board_id)]
    for change in changes:
        if change["public"] is None:
            shared.append(change["payload"])
            continue
        if shared:
            _emit(board_id, shared, everyone)
            shared = []
        _emit(board_id, [change["payload"]],
              [room_moderators(board_id), room_person(board_id, change["author_key"])])
        _emit(board_id, [change["public"]], [room_all(board_id)])
    if shared:
        _emit(board_id, shared, everyone)


def _as_dict(change: BoardChange) -> dict[str, Any]:
    public = None if change.public is None else client_form(change.public, change.seq)
    return {"board_id": change.board_id, "payload": client_form(change.payload, change.seq),
            "public": public, "author_key": change.author_key, "kind": change.payload.get("kind")}


def _after_commit(session) -> None:  # type: ignore[no-untyped-def]
    if session.in_nested_transaction():  # a savepoint released: the transaction goes on
        return
    changes = session.info.pop(PENDING_KEY, None)
    if not changes:
        return
    try:
        flush_seconds = current_app.config["BOARD_FLUSH_SECONDS"]
    except RuntimeError:  # no application context: nobody to send to
        return
    by_board: dict[int, list[dict]] = defaultdict(list)
    for change in map(_as_dict, changes):
        by_board[change["board_id"]].append(change)
    for board_id, items in by_board.items():
        only_counts = all(item["kind"] == "counts" for item in items)
        if _sending_now(board_id, flush_seconds, items, may_send_now=not only_counts):
            _send_safely(board_id, items)


def _sending_now(board_id: int, flush_seconds: float, items: list[dict], *,
                 may_send_now: bool) -> bool:
    """Whether to send these changes at once: yes when the board has sent nothing in the last
    BOARD_FLUSH_SECONDS (unless they are only reaction counts); otherwise they join the buffer
    and go with the next flush, so a busy board sends its people a few messages a second with
    several changes each instead of one message per change (each message costs every
    connection a write). Changes of one board leave in the order they were numbered."""
    if flush_seconds <= 0:
        return True
    now = time.monotonic()
    with _outbox.lock:
        quiet = not _outbox.buffer.get(board_id) and \
            now - _outbox.last_sent.get(board_id, -flush_seconds) >= flush_seconds
        if quiet:
            _outbox.last_sent[board_id] = now
            if may_send_now:
                return True
        _outbox.buffer[board_id].extend(items)
        return False


def _send_safely(board_id: int, items: list[dict]) -> None:
    try:
        _send(board_id, items)
    except Exception:  # the change is stored: clients catch up from `head`
        log.exception("could not broadcast changes of board %s", board_id)


def _after_rollback(session, transaction) -> None:  # type: ignore[no-untyped-def]
    """Changes of a rolled-back transaction were never stored: never send them."""
    if not transaction.nested:
        session.info.pop(PENDING_KEY, None)


def install() -> None:
    """Hook the numbering and the sending to commits of the app's database session (once per
    process)."""
    if not sa_event.contains(db.session, "after_commit", _after_commit):
        sa_event.listen(db.session, "before_commit", number_pending)
        sa_event.listen(db.session, "after_commit", _after_commit)
        sa_event.listen(db.session, "after_soft_rollback", _after_rollback)


def reset() -> None:
    """Forget buffered changes and when boards last sent (tests)."""
    with _outbox.lock:
        _outbox.buffer.clear()
        _outbox.last_sent.clear()


def flush(due_after: float = 0.0) -> None:
    """Send the buffered changes of every board that last sent at least `due_after` seconds
    ago (all of them by default)."""
    now = time.monotonic()
    with _outbox.lock:
        due = [board_id for board_id, items in _outbox.buffer.items()
               if items and now - _outbox.last_sent.get(board_id, -due_after) >= due_after]
        pending = {board_id: _outbox.buffer.pop(board_id) for board_id in due}
        _outbox.last_sent.update(dict.fromkeys(pending, now))
    for board_id, items in pending.items():
        _send_safely(board_id, items)


# -- presence --------------------------------------------------------------------------------

def _redis():  # type: ignore[no-untyped-def]
    url = current_app.config.get("SOCKETIO_MESSAGE_QUEUE") or ""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    client = current_app.extensions.get("board_redis")
    if client is None:
        import redis

        client = current_app.extensions["board_redis"] = redis.Redis.from_url(url)
    return client


def _presence_key(board_id: int) -> str:
    return f"vmeste:board:{board_id}:presence"


def joined(board_id: int, sid: str) -> None:
    with _outbox.lock:
        _outbox.connections[board_id].add(sid)


def left(board_id: int, sid: str) -> None:
    with _outbox.lock:
        _outbox.connections[board_id].discard(sid)
        if not _outbox.connections[board_id]:
            _outbox.presence_sent.pop(board_id, None)


def _local_counts() -> dict[int, int]:
    with _outbox.lock:
        return {board: len(sids) for board, sids in _outbox.connections.items()}


def presence(board_id: int) -> int:
    """People on the board now, over every server process."""
    client = _redis()
    local = _local_counts().get(board_id, 0)
    if client is None:
        return local
    try:
        counts = client.hgetall(_presence_key(board_id))
    except Exception:
        return local
    now = time.time()
    total = local
    for field, value in counts.items():
        process, _, stamp = field.decode().partition("@")
        if process != PROCESS_ID and now - float(stamp or 0) < 15:
            total += int(value)
    return total


def _publish_presence(counts: dict[int, int]) -> None:
    client = _redis()
    if client is None:
        return
    try:
        pipe = client.pipeline()
        for board_id, count in counts.items():
            key = _presence_key(board_id)
            for field in client.hkeys(key):
                if field.decode().startswith(PROCESS_ID + "@"):
                    pipe.hdel(key, field)
            if count:
                pipe.hset(key, f"{PROCESS_ID}@{time.time():.0f}", count)
            pipe.expire(key, 60)
        pipe.execute()
    except Exception:
        log.warning("could not publish board presence to Redis", exc_info=True)


def _tick_presence(counts: dict[int, int]) -> None:
    _publish_presence(counts)
    for board_id in counts:
        total = presence(board_id)
        if _outbox.presence_sent.get(board_id) != total:
            _outbox.presence_sent[board_id] = total
            socketio.emit("presence", {"board": board_id, "count": total},
                          to=[room_all(board_id), room_moderators(board_id)], namespace=NAMESPACE)
    with _outbox.lock:
        for board_id in [b for b, sids in _outbox.connections.items() if not sids]:
            del _outbox.connections[board_id]
            _outbox.presence_sent.pop(board_id, None)
            _outbox.last_sent.pop(board_id, None)


def _tick_heads(board_ids: list[int]) -> None:
    if not board_ids:
        return
    rows = db.session.execute(db.select(Board.id, Board.seq).where(Board.id.in_(board_ids)))
    for board_id, seq in rows:
        socketio.emit("head", {"board": board_id, "seq": seq},
                      to=[room_all(board_id), room_moderators(board_id)], namespace=NAMESPACE)


def _loop(app: Flask) -> None:
    """Forever: send buffered changes that are due; every second presence; every
    BOARD_HEAD_SECONDS the heads."""
    period = max(0.05, (app.config["BOARD_FLUSH_SECONDS"] or 0.25) / 2)
    last_presence = last_head = 0.0
    while True:
        socketio.sleep(period)
        with app.app_context():
            try:
                flush(app.config["BOARD_FLUSH_SECONDS"])
                now = time.monotonic()
                if now - last_presence >= 1:
                    last_presence = now
                    _tick_presence(_local_counts())
                if now - last_head >= app.config["BOARD_HEAD_SECONDS"]:
                    last_head = now
                    _tick_heads(list(_local_counts()))
            except Exception:
                log.exception("board background task")


def start_background(app: Flask) -> None:
    """Start the background task of this process (on the first connection)."""
    with _outbox.lock:
        if _outbox.started:
            return
        _outbox.started = True
    socketio.start_background_task(_loop, app)
