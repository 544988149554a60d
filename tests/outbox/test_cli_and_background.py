"""`flask outbox ...` and the background worker thread of the web process."""

from __future__ import annotations

import threading

import pytest

from hub import create_app
from hub.extensions import db
from hub.outbox import worker as worker_module
from hub.outbox.models import MessageStatus, OutboxMessage
from hub.outbox.services import enqueue_email
from hub.outbox.worker import (
    THREAD_NAME,
    ensure_background_worker,
    start_background_worker,
    stop_background_worker,
)
from tests.outbox.conftest import fresh


def queue(to: str) -> int:
    row = enqueue_email(to, "Отчёт за полугодие", "Срок сдачи — 25 декабря.", kind="test")
    db.session.commit()
    return row.id


def test_work_once_sends_what_is_due_and_prints_a_summary(runner, smtp_server):
    smtp_server.reject.add("gone@example.org")
    ids = [queue("a@example.org"), queue("b@example.org"), queue("gone@example.org")]

    result = runner.invoke(args=["outbox", "work", "--once", "--batch", "2"])

    assert result.exit_code == 0, result.output
    assert "outbox: 2 sent, 0 to retry, 1 failed; 0 waiting in the queue" in result.output
    assert [fresh(i).status for i in ids] == [
        MessageStatus.SENT, MessageStatus.SENT, MessageStatus.FAILED]
    assert len(smtp_server.messages) == 2


def test_work_once_with_smtp_down_reports_what_waits(runner, smtp_down):
    message_id = queue("a@example.org")
    result = runner.invoke(args=["outbox", "work", "--once"])
    assert result.exit_code == 0, result.output
    assert "outbox: 0 sent, 1 to retry, 0 failed; 1 waiting in the queue" in result.output
    assert fresh(message_id).status == MessageStatus.PENDING


def test_work_without_any_transport_says_what_to_set(runner, app, monkeypatch):
    monkeypatch.setitem(app.config, "DEV_MAIL", False)
    monkeypatch.setitem(app.config, "SMTP_HOST", "")
    queue("a@example.org")
    result = runner.invoke(args=["outbox", "work", "--once"])
    assert result.exit_code == 1
    assert "set SMTP_HOST" in result.output
    assert db.session.query(OutboxMessage).one().status == MessageStatus.PENDING


def test_work_rejects_a_bad_batch(runner):
    result = runner.invoke(args=["outbox", "work", "--once", "--batch", "0"])
    assert result.exit_code == 2


def test_status_and_retry_commands(runner):
    failed = queue("a@example.org")
    queue("b@example.org")
    fresh(failed).status = MessageStatus.FAILED
    db.session.commit()

    status = runner.invoke(args=["outbox", "status"])
    assert status.exit_code == 0
    assert status.output.strip() == "pending 1, sending 0, sent 0, failed 1"

    retry = runner.invoke(args=["outbox", "retry"])
    assert retry.exit_code == 0
    assert "1 message(s) queued again" in retry.output
    assert fresh(failed).status == MessageStatus.PENDING


@pytest.fixture
def dev_app(database_uri):  # type: ignore[no-untyped-def]
    """A second app on the test database, as the development server would build it."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_uri, OUTBOX_POLL_SECONDS=0.05)
    yield app
    stop_background_worker()
    with app.app_context():
        db.engine.dispose()


def outbox_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive()]


def test_background_worker_starts_once_with_the_first_request_and_sends(dev_app):
    start_background_worker(dev_app)
    start_background_worker(dev_app)  # create_app may run it again: still one hook
    assert outbox_threads() == []  # `flask db upgrade` and friends never start it

    client = dev_app.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/healthz").status_code == 200
    [thread] = outbox_threads()
    assert ensure_background_worker(dev_app) is thread  # never a second one in this process

    message_id = queue("dev@example.org")
    done = threading.Event()
    for _ in range(600):  # poll the database until the thread has sent it (no time asserted)
        if fresh(message_id).status == MessageStatus.SENT:
            done.set()
            break
        done.wait(0.05)
    assert done.is_set(), "the background worker did not send the message"

    stop_background_worker()
    assert not thread.is_alive()
    assert outbox_threads() == []


def test_background_worker_is_not_started_without_a_transport(dev_app, caplog, monkeypatch):
    monkeypatch.setattr(worker_module, "_thread_pid", None)
    dev_app.config.update(DEV_MAIL=False, SMTP_HOST="")
    assert ensure_background_worker(dev_app) is None
    assert "set SMTP_HOST" in caplog.text
    assert outbox_threads() == []


def test_loop_survives_a_failing_pass_and_stops_on_request(app, monkeypatch):
    calls = []
    stop = threading.Event()

    def failing_drain(**kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database restarting")
        stop.set()
        return worker_module.Summary()

    monkeypatch.setattr(worker_module, "drain", failing_drain)
    monkeypatch.setitem(app.config, "OUTBOX_POLL_SECONDS", 0.01)
    state = worker_module.run_forever(app, stop)
    assert len(calls) == 2
    assert state.errors == 1
