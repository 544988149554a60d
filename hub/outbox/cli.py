"""`flask outbox ...`: run the worker, see the queue, retry failed mail."""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType

import click
from flask import current_app
from flask.cli import AppGroup

from hub.core.types import utcnow
from hub.extensions import db
from hub.outbox import services
from hub.outbox.models import MessageStatus
from hub.outbox.worker import (
    LoopState,
    WorkerSettings,
    drain,
    pending_count,
    run_forever,
    run_jobs,
    worker_name,
)
from integrations.mail import MailConfigError, transport_from_config

outbox_cli = AppGroup("outbox", help="The email outbox: run the worker, inspect the queue.")


@outbox_cli.command("work")
@click.option("--once", is_flag=True,
              help="Send what is due now, print a summary and exit (for cron or a test).")
@click.option("--batch", type=click.IntRange(min=1), default=None,
              help="Messages claimed per pass (default OUTBOX_BATCH_SIZE or 50).")
@click.option("--poll", type=click.FloatRange(min=0.05), default=None,
              help="Seconds between passes when idle (default OUTBOX_POLL_SECONDS).")
def work(once: bool, batch: int | None, poll: float | None) -> None:
    """Send queued email through SMTP, with retries; any number of workers may run at once.

    Stops cleanly on SIGINT or SIGTERM: the message in hand is finished and recorded."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        transport = transport_from_config(app.config)
    except MailConfigError as exc:
        raise click.ClickException(str(exc)) from None
    settings = WorkerSettings.from_config(app.config, batch=batch, poll_seconds=poll)
    if once:
        run_jobs(time.monotonic, force=True)  # invitations and reminders first, then the mail
        summary = drain(settings=settings, due_before=utcnow())
        click.echo(summary.line(pending=pending_count()))
        return

    stop = threading.Event()
    previous = {}

    def handle(signum: int, frame: FrameType | None) -> None:
        click.echo(f"outbox: {signal.Signals(signum).name} received, stopping after the "
                   "message in hand (again to stop at once)", err=True)
        stop.set()
        for sig, handler in previous.items():  # a second signal gets the default behaviour
            signal.signal(sig, handler)

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handle)
    click.echo(f"outbox: worker {worker_name()} sending via {transport.name}, "
               f"{settings.batch} per pass, polling every {settings.poll_seconds:g} s; "
               "Ctrl+C to stop")
    state = LoopState()
    try:
        run_forever(app, stop, settings=settings, state=state)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    db.session.remove()
    click.echo(state.total.line(pending=pending_count()) + " — stopped")


@outbox_cli.command("status")
def status() -> None:
    """How many messages are pending, sending, sent and failed."""
    counts = services.status_counts()
    click.echo(", ".join(f"{s.name.lower()} {counts[s]}" for s in MessageStatus))


@outbox_cli.command("retry")
@click.argument("ids", nargs=-1, type=int)
def retry(ids: tuple[int, ...]) -> None:
    """Queue failed messages again (all of them, or the given ids), e.g. after fixing SMTP_*."""
    count = services.retry_now(ids or None)
    db.session.commit()
    click.echo(f"outbox: {count} message(s) queued again")
