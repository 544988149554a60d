"""The board benchmark's baseline: a bare python-socketio server (no Flask, no database) that
speaks just enough of the board's protocol (docs/board.md) to be measured the same way.

- connect on namespace /board with `auth={"board": id, "name": ...}`: joins the board's room
  and gets `hello`;
- `post.create` numbers the post with the board's next seq, broadcasts a `changes` message of
  the same shape and about the same size as the hub's, and acks `{ok, post}`;
- `react` (likes) counts, acks at once and broadcasts the `counts` changes in batches every
  BOARD_FLUSH_SECONDS, as the hub does;
- `sync {after}` answers the changes after `after` from memory.

Served like the hub, by gunicorn (SOCKETIO_ASYNC_MODE=gevent or threading):

    gunicorn -k gevent -w 1 --pythonpath bench -b 127.0.0.1:5100 board_baseline:app
"""

from __future__ import annotations

import html
import os
import threading
from datetime import UTC, datetime
from typing import Any

import socketio

ASYNC_MODE = os.environ.get("SOCKETIO_ASYNC_MODE", "gevent")
FLUSH_SECONDS = float(os.environ.get("BOARD_FLUSH_SECONDS", "0.2"))
NAMESPACE = "/board"

sio = socketio.Server(async_mode=ASYNC_MODE)
app = socketio.WSGIApp(sio)


class BoardState:
    """One in-memory board per id: its seq, its posts and its log of changes."""

    def __init__(self, board_id: int) -> None:
        self.id = board_id
        self.seq = 0
        self.posts: dict[int, dict[str, Any]] = {}
        self.changes: list[dict[str, Any]] = []
        self.unsent: list[dict[str, Any]] = []  # counts changes not broadcast yet
        self.likes: set[tuple[int, str]] = set()
        self.lock = threading.Lock()

    def record(self, change: dict[str, Any]) -> dict[str, Any]:
        """Number one change and keep it for `sync`."""
        self.seq += 1
        change = {"seq": self.seq, **change}
        self.changes.append(change)
        return change


boards: dict[int, BoardState] = {}
viewers: dict[str, tuple[int, str, str]] = {}  # sid -> (board id, key, name)


def now_iso() -> str:
    """The current time as the hub writes it (ISO 8601 UTC)."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def room(board_id: int) -> str:
    """The Socket.IO room of one board."""
    return f"board:{board_id}"


def post_dict(board: BoardState, post_id: int, key: str, name: str, body: str) -> dict[str, Any]:
    """A post with the same fields as hub.board.state.post_dict."""
    stamp = now_iso()
    return {"id": post_id, "section_id": None, "author_key": key, "author_name": name,
            "anonymous": False, "body_html": f"<p>{html.escape(body)}</p>\n", "body": body,
            "link_url": "", "link_domain": "", "image": None, "colour": "white",
            "state": "published", "pinned": False, "position": float(post_id), "likes": 0,
            "score": 0, "stars": 0, "stars_count": 0, "comments": 0, "created_at": stamp,
            "updated_at": stamp, "rev": board.seq + 1}


def counts(post: dict[str, Any]) -> dict[str, Any]:
    """The `counts` fields of a post."""
    return {key: post[key] for key in ("likes", "score", "stars", "stars_count", "comments")}


@sio.on("connect", namespace=NAMESPACE)
def connect(sid: str, environ: dict, auth: Any) -> bool:
    """Join the board's room as a guest and say hello."""
    if not isinstance(auth, dict) or not isinstance(auth.get("board"), int):
        raise socketio.exceptions.ConnectionRefusedError("no board")
    board = boards.setdefault(auth["board"], BoardState(auth["board"]))
    key, name = f"g{sid[:16]}", str(auth.get("name") or "Guest")
    viewers[sid] = (board.id, key, name)
    sio.enter_room(sid, room(board.id), namespace=NAMESPACE)
    sio.emit("hello", {"board": board.id, "head": board.seq, "presence": 0,
                       "viewer": {"key": key, "name": name, "moderator": False,
                                  "can_post": True}}, to=sid, namespace=NAMESPACE)
    return True


@sio.on("disconnect", namespace=NAMESPACE)
def disconnect(sid: str, reason: Any = None) -> None:
    """Forget the viewer."""
    viewers.pop(sid, None)


GONE = {"ok": False, "error": "Connect to the board again.", "code": "not_connected"}


@sio.on("post.create", namespace=NAMESPACE)
def create_post(sid: str, data: Any) -> dict[str, Any]:
    """Store the post in memory, broadcast it, ack it."""
    if sid not in viewers:
        return GONE
    board_id, key, name = viewers[sid]
    board = boards[board_id]
    body = str((data or {}).get("body", ""))[:5000]
    with board.lock:
        post = post_dict(board, len(board.posts) + 1, key, name, body)
        board.posts[post["id"]] = post
        change = board.record({"kind": "post", "post": post})
    sio.emit("changes", {"board": board_id, "changes": [change]}, to=room(board_id),
             namespace=NAMESPACE)
    return {"ok": True, "post": post}


@sio.on("react", namespace=NAMESPACE)
def react(sid: str, data: Any) -> dict[str, Any]:
    """A like toggles; the new count goes out with the next batch."""
    if sid not in viewers:
        return GONE
    board_id, key, _name = viewers[sid]
    board = boards[board_id]
    post = board.posts.get((data or {}).get("post_id"))
    if post is None:
        return {"ok": False, "error": "There is no such post on this board.", "code": "not_found"}
    with board.lock:
        mark = (post["id"], key)
        liked = mark not in board.likes
        if liked:
            board.likes.add(mark)
        else:
            board.likes.discard(mark)
        post["likes"] += 1 if liked else -1
        post["rev"] = board.seq + 1
        board.unsent.append(board.record({"kind": "counts", "id": post["id"],
                                          "rev": post["rev"], **counts(post)}))
    return {"ok": True, "mine": {"like": liked, "vote": None, "star": None}}


@sio.on("sync", namespace=NAMESPACE)
def sync(sid: str, data: Any) -> dict[str, Any]:
    """The changes after `after`."""
    if sid not in viewers:
        return GONE
    board = boards[viewers[sid][0]]
    after = (data or {}).get("after", 0)
    with board.lock:
        changes = board.changes[after:]
        head = board.seq
    return {"ok": True, "head": head, "changes": changes}


def flush_counts() -> None:
    """Send the reaction counts recorded since the last batch, every FLUSH_SECONDS."""
    while True:
        sio.sleep(FLUSH_SECONDS)
        for board in list(boards.values()):
            with board.lock:
                batch, board.unsent = board.unsent, []
            if batch:
                sio.emit("changes", {"board": board.id, "changes": batch}, to=room(board.id),
                         namespace=NAMESPACE)


sio.start_background_task(flush_counts)
