"""The outbox worker: claims due messages, sends them, records what happened.

One pass (`process_batch`) does, in its own short transactions:

1. claim: select the ids of due messages — PENDING whose next attempt has come, or SENDING
   whose lease expired (the worker holding it died) — with ``FOR UPDATE SKIP LOCKED`` where the
   database has it (PostgreSQL), then a compare-and-swap UPDATE that sets SENDING, a lease, a
   claim token and attempts + 1 only where the row is still due. Commit. Only the rows carrying
   our token are ours, so two workers never hold the same message, on SQLite too;
2. send each claimed message, outside any transaction;
3. record the outcome (SENT, a retry with exponential backoff, or FAILED) with a second
   compare-and-swap on the token, and commit.

A message is sent twice only if a worker dies (or loses the database) after the SMTP server
took the message and before step 3 commits: then the lease expires and another worker sends it
again. Outbox delivery is "at least once" in that narrow window and exactly once otherwise.
Before each send the worker checks that its lease still has room, and gives back what it has
not started rather than race a worker that could reclaim it.

A temporary failure is retried after OUTBOX_BACKOFF_SECONDS · 2^(attempts − 1) (capped, with
jitter). A message FAILS when the server refuses it for good (5xx), or after
OUTBOX_MAX_ATTEMPTS temporary refusals of the message itself (4xx). An outage — the server
unreachable, timing out, refusing our login — never fails mail: it waits, at the longest
backoff, until the server takes it ("nothing is lost").

`flask outbox work` runs `run_forever` (or `drain` with --once); the development server runs
the same loop in a daemon thread (`start_background_worker`).
"""

from __future__ import annotations

import atexit
import logging
import os
import random
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from flask import Flask, current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from hub.core.types import utcnow
from hub.extensions import db
from hub.outbox.models import MessageStatus, OutboxMessage
from integrations.mail import (
    MailConfigError,
    MailError,
    PermanentMailError,
    ServerUnavailable,
    Transport,
    transport_from_config,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

#: Defaults for settings that config.py may leave out.
DEFAULT_BATCH = 50
DEFAULT_BACKOFF_MAX_SECONDS = 3600.0
#: How many times to try writing an outcome before leaving the row to its lease.
RECORD_TRIES = 4


@dataclass(frozen=True)
class WorkerSettings:
    """The OUTBOX_* settings the worker uses."""

    batch: int = DEFAULT_BATCH
    lease_seconds: float = 300.0
    max_attempts: int = 8
    backoff_seconds: float = 30.0
    backoff_max_seconds: float = DEFAULT_BACKOFF_MAX_SECONDS
    poll_seconds: float = 2.0
    #: Do not start sending a message with less lease left than this.
    lease_margin_seconds: float = 60.0

    @classmethod
    def from_config(cls, config: Any, **overrides: Any) -> WorkerSettings:
        lease = float(config.get("OUTBOX_LEASE_SECONDS", 300))
        timeout = float(config.get("SMTP_TIMEOUT", 20) or 20)
        values: dict[str, Any] = {
            "batch": int(config.get("OUTBOX_BATCH_SIZE", DEFAULT_BATCH)),
            "lease_seconds": lease,
            "max_attempts": int(config.get("OUTBOX_MAX_ATTEMPTS", 8)),
            "backoff_seconds": float(config.get("OUTBOX_BACKOFF_SECONDS", 30)),
            "backoff_max_seconds": float(
                config.get("OUTBOX_BACKOFF_MAX_SECONDS", DEFAULT_BACKOFF_MAX_SECONDS)),
            "poll_seconds": float(config.get("OUTBOX_POLL_SECONDS", 2.0)),
            # One SMTP exchange is a few socket operations, each bounded by SMTP_TIMEOUT.
            "lease_margin_seconds": min(lease / 2, 3 * timeout),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if values["batch"] < 1:
            raise ValueError("the batch size must be at least 1")
        return cls(**values)


@dataclass
class Summary:
    """What one or more passes did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    #: Claimed, then given back unsent (lease running out, or the worker was asked to stop).
    released: int = 0
    #: Sent or tried, but the claim had been taken over before the outcome was written.
    lost: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed + self.lost

    def add(self, other: Summary) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.released += other.released
        self.lost += other.lost

    def line(self, pending: int | None = None) -> str:
        text = f"outbox: {self.sent} sent, {self.retrying} to retry, {self.failed} failed"
        if self.released:
            text += f", {self.released} given back unsent"
        if pending is not None:
            text += f"; {pending} waiting in the queue"
        return text


@dataclass(frozen=True)
class Claimed:
    """A message this worker holds until `lease_until`."""

    id: int
    to_addr: str
    kind: str
    attempts: int
    token: str
    lease_until: datetime


# -- naming ---------------------------------------------------------------------------------


def worker_name() -> str:
    """host:pid:thread — shown in claimed_by."""
    host = socket.gethostname()[:40]
    return f"{host}:{os.getpid()}:{threading.current_thread().name[:40]}"


def retry_delay(attempts: int, settings: WorkerSettings,
                rng: random.Random | None = None) -> float:
    """Seconds to wait after the `attempts`-th failed attempt: OUTBOX_BACKOFF_SECONDS ·
    2^(attempts − 1), capped at OUTBOX_BACKOFF_MAX_SECONDS, spread ±20 % so that messages
    which failed together do not all come back in the same second."""
    rng = rng or random
    exponent = min(max(attempts - 1, 0), 32)
    delay = min(settings.backoff_max_seconds, settings.backoff_seconds * 2 ** exponent)
    return min(settings.backoff_max_seconds, delay * rng.uniform(0.8, 1.2))


# -- claiming -------------------------------------------------------------------------------


def _due(cutoff: datetime) -> Any:
    return or_(
        and_(OutboxMessage.status == MessageStatus.PENDING,
             OutboxMessage.next_attempt_at <= cutoff),
        and_(OutboxMessage.status == MessageStatus.SENDING,
             or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < cutoff)),
    )


def claim(limit: int, *, now: datetime, lease_seconds: float, worker: str | None = None,
          due_before: datetime | None = None) -> list[Claimed]:
    """Claim up to `limit` due messages for this worker and commit; return them.

    `due_before` narrows "due" to messages due at that time (`flask outbox work --once` uses
    its start time, so a retry scheduled during the run waits for the next run)."""
    session = db.session
    cutoff = now if due_before is None else min(now, due_before)
    candidates = (
        select(OutboxMessage.id)
        .where(_due(cutoff))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        # PostgreSQL: rows another worker is claiming right now are skipped, not waited for.
        # SQLite has no row locks (SQLAlchemy leaves the clause out); the UPDATE below is the
        # guard there, and SQLite runs one writer at a time.
        .with_for_update(skip_locked=True)
    )
    try:
        ids = list(session.scalars(candidates))
        if not ids:
            session.commit()
            return []
        token = f"{worker or worker_name()}/{secrets.token_hex(4)}"
        lease_until = now + timedelta(seconds=lease_seconds)
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), _due(cutoff))  # compare-and-swap
            .values(status=MessageStatus.SENDING, lease_until=lease_until, claimed_by=token,
                    attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        rows = session.execute(
            select(OutboxMessage.id, OutboxMessage.to_addr, OutboxMessage.kind,
                   OutboxMessage.attempts)
            .where(OutboxMessage.claimed_by == token,
                   OutboxMessage.status == MessageStatus.SENDING)
            .order_by(OutboxMessage.id)
        ).all()
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return [Claimed(r.id, r.to_addr, r.kind, r.attempts, token, lease_until)
            for r in rows]


def _ours(message: Claimed) -> Any:
    return and_(OutboxMessage.id == message.id, OutboxMessage.claimed_by == message.token,
                OutboxMessage.status == MessageStatus.SENDING)


def _record(values: dict[str, Any], message: Claimed, stop: threading.Event | None) -> bool:
    """Write an outcome if the claim is still ours. False when another worker took it over.
    A failing database is tried a few times: giving up means the message is sent again once
    the lease expires."""
    delay = 0.5
    for attempt in range(RECORD_TRIES):
        try:
            result = db.session.execute(
                update(OutboxMessage).where(_ours(message)).values(**values)
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
            return bool(result.rowcount)
        except SQLAlchemyError:
            db.session.rollback()
            if attempt == RECORD_TRIES - 1:
                raise
            log.warning("outbox: could not record the outcome of #%d; trying again",
                        message.id, exc_info=True)
            (stop or threading.Event()).wait(delay)
            delay *= 2
    return False  # pragma: no cover


def release(messages: list[Claimed]) -> int:
    """Give claimed, unsent messages back (PENDING, the attempt not counted)."""
    released = 0
    for message in messages:
        result = db.session.execute(
            update(OutboxMessage).where(_ours(message))
            .values(status=MessageStatus.PENDING, lease_until=None, claimed_by="",
                    attempts=OutboxMessage.attempts - 1)
            .execution_options(synchronize_session=False)
        )
        released += result.rowcount or 0
    db.session.commit()
    return released


# -- one pass -------------------------------------------------------------------------------


def envelope_sender(config: Any) -> str:
    """The SMTP envelope sender (bounces go there): MAIL_ENVELOPE_FROM, or MAIL_FROM's address."""
    return config.get("MAIL_ENVELOPE_FROM") or parseaddr(config["MAIL_FROM"])[1]


def process_batch(*, transport: Transport | None = None, settings: WorkerSettings | None = None,
                  clock: Clock = utcnow, worker: str | None = None,
                  due_before: datetime | None = None, rng: random.Random | None = None,
                  stop: threading.Event | None = None) -> tuple[Summary, int]:
    """Claim one batch, send it, record the outcomes. Needs an app context.

    Returns the summary and how many messages were claimed (0: nothing was due)."""
    config = current_app.config
    settings = settings or WorkerSettings.from_config(config)
    own_transport = transport is None
    if transport is None:  # before claiming: a missing setting must not strand claimed mail
        transport = transport_from_config(config)
    summary = Summary()
    claimed = claim(settings.batch, now=clock(), lease_seconds=settings.lease_seconds,
                    worker=worker, due_before=due_before)
    if not claimed:
        return summary, 0
    sender = envelope_sender(config)
    outage: ServerUnavailable | None = None
    try:
        for index, message in enumerate(claimed):
            left = (message.lease_until - clock()).total_seconds()
            if (stop is not None and stop.is_set()) or left < settings.lease_margin_seconds:
                summary.released += release(claimed[index:])
                break
            # Once the server is unreachable, the rest of the batch is deferred with the same
            # reason instead of waiting SMTP_TIMEOUT for each message in turn.
            error = _send_one(message, transport, sender, settings, clock, rng, stop, summary,
                              outage=outage)
            if isinstance(error, ServerUnavailable):
                outage = error
    finally:
        if own_transport:
            transport.close()
    return summary, len(claimed)


def _send_one(message: Claimed, transport: Transport, sender: str, settings: WorkerSettings,
              clock: Clock, rng: random.Random | None, stop: threading.Event | None,
              summary: Summary, outage: ServerUnavailable | None = None) -> MailError | None:
    """Send one claimed message (unless `outage` says the server is down) and record the
    outcome; returns the error, if any."""
    recipient = parseaddr(message.to_addr)[1]
    error: MailError | None = None
    try:
        if outage is not None:
            raise ServerUnavailable(f"not tried: {outage}")
        if "@" not in recipient.strip("@"):
            raise PermanentMailError(f"no valid recipient address in {message.to_addr!r}")
        # Loaded one at a time: a batch of large attachments need not fit in memory at once.
        mime = db.session.scalar(select(OutboxMessage.mime).where(OutboxMessage.id == message.id))
        db.session.commit()
        if mime is None:
            raise PermanentMailError("the message was deleted while claimed")
        transport.send(sender, [recipient], mime.encode("utf-8", "surrogateescape"))
    except MailError as exc:
        error = exc
    except Exception as exc:  # noqa: BLE001 - a bug or a broken message must not stop the queue
        log.exception("outbox: unexpected error sending #%d", message.id)
        error = MailError(f"internal error: {type(exc).__name__}: {exc}"[:900])

    now = clock()
    if error is None:
        values: dict[str, Any] = {"status": MessageStatus.SENT, "sent_at": now,
                                  "lease_until": None, "last_error": ""}
        outcome = "sent"
    elif isinstance(error, PermanentMailError) or (
            message.attempts >= settings.max_attempts
            and not isinstance(error, ServerUnavailable)):
        # An outage (ServerUnavailable) never fails mail: it waits, at the longest backoff,
        # until the server takes it. Only the server's answers about this message count.
        values = {"status": MessageStatus.FAILED, "lease_until": None,
                  "last_error": str(error)[:1000]}
        outcome = "failed"
    else:
        delay = retry_delay(message.attempts, settings, rng)
        values = {"status": MessageStatus.PENDING, "lease_until": None,
                  "next_attempt_at": now + timedelta(seconds=delay),
                  "last_error": str(error)[:1000]}
        outcome = "retrying"

    if not _record(values, message, stop):
        summary.lost += 1
        log.warning("outbox: #%d was taken over by another worker before its outcome (%s) "
                    "was recorded", message.id, outcome)
        return error
    setattr(summary, outcome, getattr(summary, outcome) + 1)
    if outcome == "sent":
        log.info("outbox: sent #%d (%s) via %s", message.id, message.kind or "mail",
                 transport.name)
    elif outcome == "failed":
        log.warning("outbox: gave up on #%d (%s) after %d attempt(s): %s", message.id,
                    message.kind or "mail", message.attempts, error)
    else:
        log.info("outbox: #%d (%s) will be retried (attempt %d failed: %s)", message.id,
                 message.kind or "mail", message.attempts, error)
    return error


def drain(*, settings: WorkerSettings | None = None, transport: Transport | None = None,
          clock: Clock = utcnow, worker: str | None = None, due_before: datetime | None = None,
          stop: threading.Event | None = None, rng: random.Random | None = None) -> Summary:
    """Process batches until nothing is due (or `stop` is set). Needs an app context."""
    total = Summary()
    while stop is None or not stop.is_set():
        summary, claimed = process_batch(transport=transport, settings=settings, clock=clock,
                                         worker=worker, due_before=due_before, rng=rng,
                                         stop=stop)
        total.add(summary)
        if claimed == 0 or (summary.handled == 0 and summary.released):
            break
    return total


def pending_count() -> int:
    from hub.outbox.services import status_counts

    counts = status_counts()
    return counts[MessageStatus.PENDING] + counts[MessageStatus.SENDING]


# -- periodic jobs --------------------------------------------------------------------------


@dataclass
class _Job:
    name: str
    every_seconds: float
    func: Callable[[], Any]
    next_run: float = 0.0


_jobs: dict[str, _Job] = {}


def register_job(name: str, every_seconds: float, func: Callable[[], Any]) -> None:
    """Run `func()` (in an app context) from the worker loop about every `every_seconds`.

    Every worker process runs it, so a job must be safe to run in several places at once
    (claim its work with a compare-and-swap as the outbox does)."""
    _jobs[name] = _Job(name, float(every_seconds), func)


def run_jobs(monotonic: Callable[[], float], *, force: bool = False) -> None:
    """Run the jobs that are due (every job with `force`), each committed on its own."""
    for job in list(_jobs.values()):
        if not force and monotonic() < job.next_run:
            continue
        job.next_run = monotonic() + job.every_seconds
        try:
            job.func()
            db.session.commit()
        except Exception:  # noqa: BLE001 - one broken job must not stop the mail
            db.session.rollback()
            log.exception("outbox worker: job %s failed", job.name)


# -- the loop -------------------------------------------------------------------------------


@dataclass
class LoopState:
    """Counts kept by a running loop (read by the CLI's final line and by tests)."""

    total: Summary = field(default_factory=Summary)
    passes: int = 0
    errors: int = 0


def run_forever(app: Flask, stop: threading.Event, *, settings: WorkerSettings | None = None,
                state: LoopState | None = None) -> LoopState:
    """Send what is due, wait OUTBOX_POLL_SECONDS, again — until `stop` is set. A failing
    database or mail server is logged and waited out, never fatal."""
    import time

    state = state or LoopState()
    worker = worker_name()
    failures = 0
    while not stop.is_set():
        try:
            with app.app_context():
                current = settings or WorkerSettings.from_config(app.config)
                # Jobs first: the mail they queue (invitations, reminders) goes in this pass.
                run_jobs(time.monotonic)
                state.total.add(drain(settings=current, worker=worker, stop=stop))
            failures = 0
            wait = current.poll_seconds
        except MailConfigError as exc:
            state.errors += 1
            log.error("outbox worker: %s", exc)
            wait = 60.0
        except Exception:  # noqa: BLE001 - e.g. the database restarting; wait and go on
            state.errors += 1
            failures += 1
            wait = min(60.0, float(app.config.get("OUTBOX_POLL_SECONDS", 2.0)) * 2 ** failures)
            log.exception("outbox worker: pass failed; next try in %.0f s", wait)
        state.passes += 1
        stop.wait(wait)
    return state


# -- the background thread of the web process ----------------------------------------------

_lock = threading.Lock()
_thread: threading.Thread | None = None
_thread_pid: int | None = None
_stop: threading.Event | None = None
THREAD_NAME = "outbox-worker"


def start_background_worker(app: Flask) -> None:
    """Run the worker loop as a daemon thread of the web process (development server, or
    OUTBOX_WORKER_IN_PROCESS in production).

    The thread starts with the first request this process serves, not here: `create_app` also
    runs for `flask db upgrade`, `flask demo` and the reloader's watcher process, which must not
    send mail. Only one thread runs per process, however many apps or calls."""
    if app.extensions.get("outbox_background_worker"):
        return
    app.extensions["outbox_background_worker"] = True

    @app.before_request
    def _start_outbox_worker() -> None:
        if _thread_pid != os.getpid():  # not yet started (or tried) in this process
            ensure_background_worker(app)


def ensure_background_worker(app: Flask) -> threading.Thread | None:
    """Start the background worker thread unless one is running in this process."""
    global _thread, _thread_pid, _stop
    with _lock:
        if _thread is not None and _thread_pid == os.getpid() and _thread.is_alive():
            return _thread
        try:
            transport_from_config(app.config)
        except MailConfigError as exc:
            log.error("outbox: the background worker is not started: %s", exc)
            _thread, _thread_pid = None, os.getpid()  # said once; not retried every request
            return None
        _stop = threading.Event()
        _thread = threading.Thread(target=run_forever, args=(app, _stop), name=THREAD_NAME,
                                   daemon=True)
        _thread_pid = os.getpid()
        _thread.start()
        log.info("outbox: background worker started (poll every %ss)",
                 app.config.get("OUTBOX_POLL_SECONDS"))
        return _thread


def stop_background_worker(timeout: float = 10.0) -> None:
    """Ask the background thread to finish the message in hand and stop."""
    global _thread, _thread_pid
    with _lock:
        thread, stop = _thread, _stop
        _thread, _thread_pid = None, None
    if thread is not None and stop is not None:
        stop.set()
        if thread is not threading.current_thread():
            thread.join(timeout)


# At exit, let the thread finish the message it is sending (a daemon thread is otherwise cut
# off mid-send, and the message goes out again when its lease expires).
atexit.register(stop_background_worker)
