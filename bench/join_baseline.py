"""The join benchmark's baseline: a bare Flask route that does what a join click must at the
least, one INSERT into a table of the same database, and answers with a redirect.

Served like the hub, by gunicorn, on the bench's database (DATABASE_URL):

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/join_bench \\
        gunicorn -k gevent -w 1 --pythonpath bench -b 127.0.0.1:5100 join_baseline:app
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import Flask, redirect, request
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
)


def _url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


URL = _url(os.environ["DATABASE_URL"])
#: The hub's production pool (config.py ProductionConfig), so that both wait alike.
engine = create_engine(URL, pool_pre_ping=True, **(
    {"pool_size": 10, "max_overflow": 20} if URL.startswith("postgresql") else {}))
metadata = MetaData()
clicks = Table(
    "join_baseline_click", metadata,
    Column("id", Integer, primary_key=True),
    Column("token", String(200)),
    Column("at", DateTime(timezone=True)),
    Column("ip", String(64)),
    Column("user_agent", String(300)),
)
app = Flask(__name__)


@app.get("/click/<token>")
def click(token: str):  # type: ignore[no-untyped-def]
    """One row per click, then off to the conference."""
    with engine.begin() as conn:
        conn.execute(insert(clicks).values(
            token=token[:200], at=datetime.now(UTC), ip=request.remote_addr or "",
            user_agent=request.user_agent.string[:300]))
    return redirect("https://meet.jit.si/vmeste-baseline")


@app.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    return {"ok": True}
