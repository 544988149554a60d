"""Numbering a transaction's board changes as it commits, and the numbered form clients get.

Every change of a board gets the board's next sequence number, in the order the transactions
commit, with no gap (clients detect a missed change by a gap). The board's row is the
counter, and raising it locks the row until the commit, so the lock is taken as late as
possible: in a `before_commit` hook, after everything else the transaction does.

On PostgreSQL the numbering statements and the COMMIT go to the server in one message (one
round trip): the row stays locked only while the server runs them, never while this process
is busy with other work, so writes to one board do not queue behind each other's network
waits (docs/board.md, "Performance"). Elsewhere (SQLite in development, which lets one writer
in at a time anyway) the rows are added to the session and written by its commit.

Stored payloads carry neither `seq` nor `rev`: `client_form` adds both from the row's `seq`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import psycopg
from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from hub.board.models import Board, BoardChange, Comment, Post, Section
from hub.core.types import utcnow

#: Session.info key of the changes recorded in the current transaction (live.py sends them).
PENDING_KEY = "board_changes"
#: Parts of a change that are a row with a `rev` (the number of the row's last change).
REV_PARTS = ("post", "comment", "section")
_TABLES = {Post: Post.__tablename__, Comment: Comment.__tablename__,
           Section: Section.__tablename__}


def client_form(form: dict[str, Any], seq: int) -> dict[str, Any]:
    """A stored payload as clients receive it: with its `seq`, and `rev` where it has one."""
    numbered = {**form, "seq": seq}
    if numbered.get("kind") == "counts":
        numbered["rev"] = seq
    for part in REV_PARTS:
        if isinstance(numbered.get(part), dict):
            numbered[part] = {**numbered[part], "rev": seq}
    return numbered


def number_pending(session: Session) -> None:
    """Number and store this transaction's changes (the session's `before_commit` hook, which
    also runs when a savepoint is released: that waits for the transaction's own commit)."""
    if session.in_nested_transaction():
        return
    pending = [change for change in session.info.get(PENDING_KEY) or () if change.seq is None]
    if not pending:
        return
    session.flush()  # everything else is written before the board's row is locked
    by_board: dict[int, list[BoardChange]] = defaultdict(list)
    for change in pending:
        by_board[change.board_id].append(change)
    if session.get_bind().dialect.name == "postgresql":
        heads = _store_and_commit_at_once(session, by_board)
    else:
        heads = _store_in_session(session, by_board)
    for board_id, last in heads.items():
        board = session.identity_map.get(Session.identity_key(Board, board_id))
        if board is not None:
            set_committed_value(board, "seq", last)


def _store_in_session(session: Session,
                      by_board: dict[int, list[BoardChange]]) -> dict[int, int]:
    """Raise each board's counter (`UPDATE … RETURNING`) and add the numbered rows to the
    session, which writes them when it commits. Returns each board's new head."""
    heads: dict[int, int] = {}
    for board_id in sorted(by_board):  # always the same order: no deadlock between boards
        changes = by_board[board_id]
        last = session.execute(update(Board).where(Board.id == board_id)
                               .values(seq=Board.seq + len(changes)).returning(Board.seq)
                               ).scalar_one()
        for seq, change in enumerate(changes, start=last - len(changes) + 1):
            change.seq = seq
            session.add(change)
            if change.subject is not None:
                change.subject.rev = seq
        heads[board_id] = last
    return heads


_COUNTER = "UPDATE board SET seq = seq + %s WHERE id = %s RETURNING id, seq"
#: The number of a board's change that is `back` changes before its new head.
_NUMBER = "(SELECT seq FROM board WHERE id = %s) - %s"
_INSERT = ("INSERT INTO board_change (board_id, seq, author_key, payload, public, created_at) "
           "VALUES ")
_ROW = f"(%s, {_NUMBER}, %s, %s::json, %s::json, %s)"
_SET_REV = f"UPDATE {{table}} SET rev = {_NUMBER} WHERE id = %s"


def _store_and_commit_at_once(session: Session,
                              by_board: dict[int, list[BoardChange]]) -> dict[int, int]:
    """PostgreSQL: raise the counters, insert the changes, set the rows' revs and COMMIT in
    one message (a client-side-bound cursor sends several statements with their values
    quoted by psycopg), so the board's row is locked only while the server runs them. The
    numbers are computed by the server from the raised counter. The session's own commit
    then finds the transaction committed (psycopg sends no COMMIT when none is open)."""
    connection = session.connection().connection.driver_connection
    now = utcnow()
    statements: list[str] = []
    values: list[Any] = []
    boards = sorted(by_board)  # always the same order: no deadlock between boards
    for board_id in boards:
        changes = by_board[board_id]
        statements.append(_COUNTER)
        values += [len(changes), board_id]
        rows = []
        for back, change in zip(range(len(changes) - 1, -1, -1), changes, strict=True):
            rows.append(_ROW)
            values += [board_id, board_id, back, change.author_key, json.dumps(change.payload),
                       None if change.public is None else json.dumps(change.public), now]
        statements.append(_INSERT + ", ".join(rows))
        for back, change in zip(range(len(changes) - 1, -1, -1), changes, strict=True):
            if change.subject is not None:
                statements.append(_SET_REV.format(table=_TABLES[type(change.subject)]))
                values += [board_id, back, change.subject.id]
    statements.append("COMMIT")
    with psycopg.ClientCursor(connection) as cursor:
        cursor.execute(";\n".join(statements), values)
        heads: dict[int, int] = {}
        while True:  # one result per statement; only the counters return rows
            if cursor.description is not None:
                board_id, last = cursor.fetchone()
                heads[board_id] = last
            if not cursor.nextset():
                break
    for board_id, last in heads.items():  # the same numbers, in memory
        changes = by_board[board_id]
        for seq, change in enumerate(changes, start=last - len(changes) + 1):
            change.seq = seq
            if change.subject is not None:
                set_committed_value(change.subject, "rev", seq)
    return heads
