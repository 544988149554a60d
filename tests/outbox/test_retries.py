"""Temporary failures are retried with backoff, permanent ones fail at once, nothing is lost.

The worker runs on a settable clock: the tests move it forward instead of waiting."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from hub.extensions import db
from hub.outbox.models import MessageStatus
from hub.outbox.services import enqueue_email, retry_now
from hub.outbox.worker import WorkerSettings, retry_delay
from tests.outbox.conftest import fresh


def queue(to: str = "teacher@example.org", subject: str = "Напоминание о вебинаре") -> int:
    row = enqueue_email(to, subject, "Вебинар начнётся через час.", kind="test")
    db.session.commit()
    return row.id


def delay_of(message_id: int, clock) -> float:  # type: ignore[no-untyped-def]
    return (fresh(message_id).next_attempt_at - clock.now).total_seconds()


def test_smtp_down_schedules_a_retry_and_delivers_when_it_is_back(
        smtp_down, request, clock, work, app):
    message_id = queue()
    base = app.config["OUTBOX_BACKOFF_SECONDS"]

    summary = work(clock=clock)

    assert (summary.sent, summary.retrying, summary.failed) == (0, 1, 0)
    waiting = fresh(message_id)
    assert waiting.status == MessageStatus.PENDING
    assert waiting.attempts == 1
    assert f"cannot reach 127.0.0.1:{smtp_down}" in waiting.last_error
    assert waiting.lease_until is None
    assert 0.8 * base <= delay_of(message_id, clock) <= 1.2 * base

    assert work(clock=clock).handled == 0  # not due yet: no attempt is spent
    assert fresh(message_id).attempts == 1

    server = request.getfixturevalue("smtp_server")  # the SMTP server comes back
    clock.advance(seconds=1.2 * base + 1)
    assert work(clock=clock).sent == 1

    delivered = fresh(message_id)
    assert (delivered.status, delivered.attempts, delivered.last_error) == (
        MessageStatus.SENT, 2, "")
    assert [rcpts for _, rcpts in server.envelopes] == [["teacher@example.org"]]


def test_451_is_temporary(smtp_server, clock, work):
    message_id = queue()
    smtp_server.fail_next = 1

    assert work(clock=clock).retrying == 1
    deferred = fresh(message_id)
    assert deferred.status == MessageStatus.PENDING
    assert "451" in deferred.last_error
    assert smtp_server.messages == []

    clock.advance(hours=1)
    assert work(clock=clock).sent == 1
    assert len(smtp_server.messages) == 1
    assert fresh(message_id).status == MessageStatus.SENT


def test_550_recipient_refused_fails_at_once_and_others_still_go(smtp_server, clock, work):
    smtp_server.reject.add("nobody@example.org")
    refused = queue("nobody@example.org")
    accepted = queue("teacher@example.org")

    summary = work(clock=clock)

    assert (summary.sent, summary.failed, summary.retrying) == (1, 1, 0)
    failed = fresh(refused)
    assert failed.status == MessageStatus.FAILED
    assert failed.attempts == 1
    assert "550" in failed.last_error and "nobody@example.org" in failed.last_error
    assert fresh(accepted).status == MessageStatus.SENT
    assert [rcpts for _, rcpts in smtp_server.envelopes] == [["teacher@example.org"]]

    clock.advance(days=30)
    assert work(clock=clock).handled == 0  # a permanent failure is never retried by itself


def test_max_attempts_then_failed_with_growing_backoff(smtp_server, clock, work, app,
                                                      monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 3)
    base = app.config["OUTBOX_BACKOFF_SECONDS"]
    message_id = queue()
    smtp_server.fail_next = 100

    delays = []
    for attempt in (1, 2):
        assert work(clock=clock).retrying == 1
        assert fresh(message_id).attempts == attempt
        delays.append(delay_of(message_id, clock))
        clock.advance(days=1)
    assert work(clock=clock).failed == 1

    failed = fresh(message_id)
    assert (failed.status, failed.attempts) == (MessageStatus.FAILED, 3)
    assert "451" in failed.last_error
    assert 0.8 * base <= delays[0] <= 1.2 * base
    assert 1.6 * base <= delays[1] <= 2.4 * base
    assert smtp_server.messages == []

    clock.advance(days=30)
    assert work(clock=clock).handled == 0

    # After the cause is fixed, an operator queues it again (flask outbox retry).
    smtp_server.fail_next = 0
    assert retry_now() == 1
    db.session.commit()
    assert work(clock=clock).sent == 1
    assert fresh(message_id).attempts == 1


def test_expired_lease_is_reclaimed_and_a_live_one_is_left_alone(smtp_server, clock, work):
    crashed = queue("crashed@example.org")
    busy = queue("busy@example.org")
    for message_id, lease in ((crashed, timedelta(seconds=-1)), (busy, timedelta(minutes=4))):
        row = fresh(message_id)
        row.status = MessageStatus.SENDING
        row.attempts = 1
        row.lease_until = clock.now + lease
        row.claimed_by = f"old-host:4242:MainThread/{message_id:08x}"
        db.session.commit()

    assert work(clock=clock).sent == 1

    reclaimed = fresh(crashed)
    assert reclaimed.status == MessageStatus.SENT
    assert reclaimed.attempts == 2
    assert not reclaimed.claimed_by.startswith("old-host:")
    untouched = fresh(busy)
    assert untouched.status == MessageStatus.SENDING
    assert untouched.claimed_by.startswith("old-host:")
    assert [rcpts for _, rcpts in smtp_server.envelopes] == [["crashed@example.org"]]


def test_messages_are_given_back_when_the_lease_is_too_short_to_send(smtp_server, clock, work,
                                                                     app):
    message_id = queue()
    settings = WorkerSettings.from_config(app.config, lease_seconds=10.0,
                                          lease_margin_seconds=60.0)

    summary = work(clock=clock, settings=settings)

    assert (summary.handled, summary.released) == (0, 1)
    row = fresh(message_id)
    assert (row.status, row.attempts, row.claimed_by) == (MessageStatus.PENDING, 0, "")
    assert smtp_server.messages == []


def test_message_without_a_recipient_fails_and_others_still_go(smtp_server, clock, work):
    broken = queue("broken@example.org")
    fine = queue("fine@example.org")
    row = fresh(broken)
    row.to_addr = "Без адреса"
    db.session.commit()

    summary = work(clock=clock)

    assert (summary.sent, summary.failed) == (1, 1)
    assert fresh(fine).status == MessageStatus.SENT
    failed = fresh(broken)
    assert failed.status == MessageStatus.FAILED
    assert "no valid recipient" in failed.last_error
    assert [rcpts for _, rcpts in smtp_server.envelopes] == [["fine@example.org"]]


class FlakyTransport:
    """A Transport with a bug for one address (the real SMTP path is tested above)."""

    name = "flaky"

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, envelope_from, recipients, message):  # type: ignore[no-untyped-def]
        if recipients == ["bug@example.org"]:
            raise RuntimeError("a bug in a transport")
        self.sent.extend(recipients)

    def close(self) -> None:
        pass


def test_unexpected_error_is_retried_and_does_not_stop_the_others(clock, work):
    buggy = queue("bug@example.org")
    fine = queue("fine@example.org")
    transport = FlakyTransport()

    summary = work(clock=clock, transport=transport)

    assert (summary.sent, summary.retrying) == (1, 1)
    assert transport.sent == ["fine@example.org"]
    retried = fresh(buggy)
    assert retried.status == MessageStatus.PENDING
    assert "internal error: RuntimeError: a bug in a transport" in retried.last_error
    assert fresh(fine).status == MessageStatus.SENT


@pytest.mark.parametrize("attempts", range(1, 40))
def test_retry_delay_doubles_is_capped_and_jittered(attempts):
    settings = WorkerSettings(backoff_seconds=30, backoff_max_seconds=3600)
    rng = random.Random(attempts)
    delay = retry_delay(attempts, settings, rng)
    expected = min(3600, 30 * 2 ** (attempts - 1))
    assert 0.8 * expected <= delay <= min(3600, 1.2 * expected)


def test_an_outage_never_fails_mail_and_the_batch_is_deferred_together(
        smtp_down, request, clock, work, app, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 2)
    ids = [queue(f"t{i}@example.org") for i in range(3)]

    for attempt in (1, 2, 3, 4):
        summary = work(clock=clock)
        assert (summary.retrying, summary.failed) == (3, 0)
        rows = [fresh(i) for i in ids]
        assert {r.status for r in rows} == {MessageStatus.PENDING}
        assert {r.attempts for r in rows} == {attempt}
        clock.advance(days=1)
    assert f"cannot reach 127.0.0.1:{smtp_down}" in rows[0].last_error
    assert rows[1].last_error.startswith("not tried: cannot reach")  # one try per batch

    server = request.getfixturevalue("smtp_server")
    assert work(clock=clock).sent == 3
    assert len(server.messages) == 3
