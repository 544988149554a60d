"""The outbox worker as it runs in production: separate `flask outbox work` processes (production
configuration) on the test database, sending to a real SMTP server on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.extensions import db
from hub.outbox.models import MessageStatus, OutboxMessage
from hub.outbox.services import enqueue_email
from tests.outbox.conftest import smtp_server  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parents[2]


def worker_env(database_uri: str, sink) -> dict[str, str]:  # type: ignore[no-untyped-def]
    env = dict(os.environ)
    env.update({
        "FLASK_APP": "hub", "HUB_CONFIG": "production",
        "SECRET_KEY": "integration-test-secret-0123456789", "DATABASE_URL": database_uri,
        "SMTP_HOST": sink.host, "SMTP_PORT": str(sink.port), "SMTP_STARTTLS": "false",
        "PYTHONUNBUFFERED": "1",
    })
    env.pop("HUB_TEST_DATABASE_URL", None)
    return env


def flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", *args]


def queue(n: int) -> None:
    for i in range(n):
        enqueue_email(f"teacher{i}@example.org", f"Методическая неделя, письмо {i}",
                      "Программа недели во вложении.", kind="test")
    db.session.commit()


def test_two_worker_processes_deliver_each_message_exactly_once(database_uri, smtp_server):  # noqa: F811
    queue(200)
    env = worker_env(database_uri, smtp_server)
    workers = [subprocess.Popen(flask("outbox", "work", "--once", "--batch", "5"), cwd=ROOT,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for _ in range(2)]
    outputs = [w.communicate(timeout=300) for w in workers]

    for w, (out, err) in zip(workers, outputs, strict=True):
        assert w.returncode == 0, err[-2000:]
        assert "waiting in the queue" in out
    sent = sum(int(out.split("outbox: ")[1].split(" sent")[0]) for out, _ in outputs)
    assert sent == 200
    recipients = Counter(r for _, rcpts in smtp_server.envelopes for r in rcpts)
    assert len(recipients) == 200 and set(recipients.values()) == {1}
    db.session.expire_all()
    statuses = set(db.session.scalars(select(OutboxMessage.status)))
    assert statuses == {MessageStatus.SENT}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_worker_loop_sends_and_stops_cleanly_on_a_signal(database_uri, smtp_server, sig):  # noqa: F811
    queue(3)
    worker = subprocess.Popen(flask("outbox", "work", "--poll", "0.1"), cwd=ROOT,
                              env=worker_env(database_uri, smtp_server), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        delivered = threading.Event()
        for _ in range(1200):  # wait for the deliveries (a guard, not a timing assertion)
            if len(smtp_server.messages) >= 3 or worker.poll() is not None:
                delivered.set()
                break
            delivered.wait(0.05)
        assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
        assert len(smtp_server.messages) == 3
        worker.send_signal(sig)
        out, err = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, err[-2000:]
    assert "outbox: 3 sent, 0 to retry, 0 failed; 0 waiting in the queue — stopped" in out
    assert f"{signal.Signals(sig).name} received" in err
