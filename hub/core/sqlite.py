"""SQLite, the embedded deployment's database, set up for a server with many requests at once:
write-ahead logging (readers no longer wait for the writer, nor the writer for readers) and
fsync at checkpoints rather than at every commit (a crash of the machine may lose the last
commits, never corrupt the file). docs/operations.md has the rehearsal's figures."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


@event.listens_for(Engine, "connect")
def _write_ahead_log(dbapi_connection: Any, _record: Any) -> None:
    """Every new SQLite connection: WAL (kept in the file) and synchronous=NORMAL."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
