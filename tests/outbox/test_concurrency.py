"""Several workers at once: every message is delivered exactly once."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import event, select, text

from hub.extensions import db
from hub.outbox.models import MessageStatus, OutboxMessage
from hub.outbox.services import enqueue_email
from hub.outbox.worker import Summary, WorkerSettings, drain
from tests.outbox.conftest import fresh

MESSAGES = 200


def queue_many(n: int) -> list[int]:
    rows = [enqueue_email(f"teacher{i}@example.org", f"Приглашение № {i}",
                          f"Здравствуйте! Это письмо № {i}.", kind=f"test:{i}")
            for i in range(n)]
    db.session.commit()
    return [row.id for row in rows]


def run_workers(app, count: int, batch: int) -> list[Summary]:  # type: ignore[no-untyped-def]
    """Start `count` workers in threads at the same moment; each drains the outbox."""
    start = threading.Barrier(count)
    summaries: list[Summary] = [Summary() for _ in range(count)]
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            with app.app_context():
                settings = WorkerSettings.from_config(app.config, batch=batch)
                start.wait()
                summaries[index] = drain(settings=settings, worker=f"test-worker-{index}")
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,), name=f"outbox-test-{i}")
               for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)  # a guard against a hang, not a timing assertion
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    assert errors == []
    db.session.expire_all()
    return summaries


def assert_each_delivered_once(sink, ids: list[int]) -> None:  # type: ignore[no-untyped-def]
    recipients = Counter(rcpt for _, rcpts in sink.envelopes for rcpt in rcpts)
    assert len(recipients) == len(ids)
    assert set(recipients.values()) == {1}
    message_ids = Counter(message["Message-ID"] for message in sink.messages)
    assert len(message_ids) == len(ids) and set(message_ids.values()) == {1}
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert {row.status for row in rows} == {MessageStatus.SENT}
    assert {row.attempts for row in rows} == {1}


def test_two_workers_in_two_threads_deliver_each_message_exactly_once(app, smtp_server):
    ids = queue_many(MESSAGES)

    summaries = run_workers(app, count=2, batch=7)

    assert sum(s.sent for s in summaries) == MESSAGES
    assert sum(s.lost + s.failed + s.retrying for s in summaries) == 0
    assert_each_delivered_once(smtp_server, ids)


def test_four_workers_with_tiny_batches(app, smtp_server):
    ids = queue_many(60)
    summaries = run_workers(app, count=4, batch=1)
    assert sum(s.sent for s in summaries) == 60
    assert_each_delivered_once(smtp_server, ids)


@pytest.mark.postgres
def test_postgres_claims_with_skip_locked(app, smtp_server, work):
    """Rows another transaction has locked are skipped, not waited for; the claim query says
    FOR UPDATE SKIP LOCKED."""
    ids = queue_many(5)
    locked = ids[:2]
    statements: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", remember)
    holder = db.engine.connect()
    transaction = holder.begin()
    done: list[Summary] = []
    try:
        holder.execute(text("SELECT id FROM outbox_message WHERE id = ANY(:ids) FOR UPDATE"),
                       {"ids": locked})
        thread = threading.Thread(target=lambda: done.append(work()))
        thread.start()
        thread.join(120)  # without SKIP LOCKED the worker would wait on the held rows
        assert not thread.is_alive(), "the worker waited for rows another transaction locked"
    finally:
        transaction.rollback()
        holder.close()
        event.remove(db.engine, "before_cursor_execute", remember)
    thread.join()

    assert done[0].sent == 3
    assert any("FOR UPDATE SKIP LOCKED" in s for s in statements)
    assert {fresh(i).status for i in locked} == {MessageStatus.PENDING}
    assert work().sent == 2  # once released, the skipped rows go out too
    assert_each_delivered_once(smtp_server, ids)


@pytest.mark.postgres
def test_postgres_eight_workers_over_200_messages(app, smtp_server):
    ids = queue_many(MESSAGES)
    summaries = run_workers(app, count=8, batch=5)
    assert sum(s.sent for s in summaries) == MESSAGES
    assert_each_delivered_once(smtp_server, ids)
