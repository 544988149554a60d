"""Writers at the same moment, each in its own thread and database session (as the server's
greenlets or threads are): every change gets its own number, numbers follow the commits with
no gap, and counts changed in SQL lose no like. Runs on SQLite and, in `make test`, PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask

from hub.board import services
from hub.board.access import Viewer
from hub.board.models import Board, BoardChange, Post, Visibility
from hub.board.numbering import client_form
from hub.extensions import db

THREADS = 6
EACH = 8


def guest(n: int) -> Viewer:
    return Viewer(key=f"gtest{n}", name=f"Гость {n}", person_id=None, moderator=False,
                  can_post=True)


def run_together(app: Flask, work: Callable[[int], None]) -> list[BaseException]:
    """Run work(0..THREADS-1) in threads released at once; the errors they met."""
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def worker(n: int) -> None:
        with app.app_context():
            start.wait()
            try:
                work(n)
            except BaseException as error:  # noqa: BLE001 - reported by the test
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def link_board() -> int:
    board = Board(title="Круглый стол", visibility=Visibility.LINK)
    db.session.add(board)
    db.session.commit()
    return board.id


def test_posts_written_at_once_get_consecutive_numbers(app):
    board_id = link_board()

    def write(n: int) -> None:
        for i in range(EACH):
            board = db.session.get(Board, board_id)
            services.create_post(board, guest(n), {"body": f"Идея {n}.{i}"})
            db.session.commit()
            db.session.remove()

    assert run_together(app, write) == []
    db.session.expire_all()
    changes = db.session.scalars(db.select(BoardChange).where(BoardChange.board_id == board_id)
                                 .order_by(BoardChange.seq)).all()
    assert [c.seq for c in changes] == list(range(1, THREADS * EACH + 1))
    assert db.session.get(Board, board_id).seq == THREADS * EACH
    posts = {p.id: p for p in db.session.scalars(db.select(Post))}
    for change in changes:  # each post's rev is the number of its change, in the row and sent
        sent = client_form(change.payload, change.seq)
        assert sent["seq"] == sent["post"]["rev"] == change.seq == posts[sent["post"]["id"]].rev


def test_likes_at_once_on_one_post_are_all_counted_in_order(app):
    board_id = link_board()
    board = db.session.get(Board, board_id)
    post = services.create_post(board, guest(99), {"body": "Квест с Bee-Bot"})
    db.session.commit()
    post_id = post.id

    def like(n: int) -> None:
        board = db.session.get(Board, board_id)
        services.react(board, guest(n), {"post_id": post_id, "kind": "like"})
        db.session.commit()

    assert run_together(app, like) == []
    db.session.expire_all()
    assert db.session.get(Post, post_id).likes == THREADS
    counts = db.session.scalars(db.select(BoardChange).where(
        BoardChange.board_id == board_id, BoardChange.seq > 1).order_by(BoardChange.seq)).all()
    # The later a like commits, the more likes its change reports: a client that applies the
    # changes in order ends with the right count.
    assert [c.payload["likes"] for c in counts] == list(range(1, THREADS + 1))
    assert [client_form(c.payload, c.seq)["rev"] for c in counts] == [c.seq for c in counts]


def test_changes_made_inside_a_savepoint_are_numbered_when_the_transaction_commits(app):
    board = db.session.get(Board, link_board())
    with db.session.begin_nested():
        services.create_post(board, guest(1), {"body": "В точке сохранения"})
    services.create_post(board, guest(2), {"body": "После неё"})
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Board, board.id).seq == 2
    assert db.session.scalar(db.select(db.func.count()).select_from(BoardChange)) == 2
