"""Outbox fixtures: real SMTP servers on loopback (aiosmtpd), tuned worker settings, and helpers
to run a worker in its own app context (its own database session), as a separate worker would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from flask import Flask, has_app_context

from hub.core.types import utcnow
from hub.extensions import db
from hub.outbox.models import OutboxMessage
from hub.outbox.worker import Summary, WorkerSettings, drain
from tests.conftest import SMTPSink, _Handler, free_port

SMTP_USER = "hub-mailer"
SMTP_PASSWORD = "s3cret-Пароль-that-must-never-be-logged"


@dataclass
class Sink(SMTPSink):
    """SMTPSink plus: recipients to refuse with 550, and the SMTP AUTH logins seen."""

    reject: set[str] = field(default_factory=set)
    logins: list[str] = field(default_factory=list)


class Handler(_Handler):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address in self.sink.reject:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"


class Authenticator:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    def __call__(self, server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == SMTP_USER
              and auth_data.password.decode() == SMTP_PASSWORD)
        if ok:
            self.sink.logins.append(SMTP_USER)
        return AuthResult(success=ok, handled=False)  # aiosmtpd answers 235 or 535


def _serve(app: Flask, **controller_options) -> Iterator[Sink]:  # type: ignore[no-untyped-def]
    sink = Sink(host="127.0.0.1", port=free_port())
    if controller_options.pop("auth", False):
        controller_options.update(authenticator=Authenticator(sink), auth_require_tls=False)
    controller = Controller(Handler(sink), hostname=sink.host, port=sink.port,
                            **controller_options)
    controller.start()
    saved = {k: app.config[k] for k in ("SMTP_HOST", "SMTP_PORT")}
    app.config.update(SMTP_HOST=sink.host, SMTP_PORT=sink.port)
    try:
        yield sink
    finally:
        controller.stop()
        app.config.update(saved)


@pytest.fixture
def smtp_server(app: Flask) -> Iterator[Sink]:
    """A real SMTP server (aiosmtpd) on loopback; the app points at it for the test."""
    yield from _serve(app)


@pytest.fixture
def smtp_auth_server(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sink]:
    """An SMTP server that requires AUTH (LOGIN/PLAIN, without TLS on loopback)."""
    monkeypatch.setitem(app.config, "SMTP_USERNAME", SMTP_USER)
    monkeypatch.setitem(app.config, "SMTP_PASSWORD", SMTP_PASSWORD)
    yield from _serve(app, auth=True)


@pytest.fixture
def smtp_down(app: Flask, monkeypatch: pytest.MonkeyPatch) -> int:
    """Point the app at a loopback port where no SMTP server listens."""
    port = free_port()
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", port)
    return port


@pytest.fixture(autouse=True)
def _outbox_settings(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Short timeouts for tests; each test may change more with monkeypatch.setitem."""
    monkeypatch.setitem(app.config, "SMTP_TIMEOUT", 5)
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 4)


class Clock:
    """A settable clock for the worker (the tests never wait for real time to pass). It reads
    the real time once, at its first use, and then moves only when told to."""

    def __init__(self) -> None:
        self._now: datetime | None = None

    @property
    def now(self) -> datetime:
        if self._now is None:
            self._now = utcnow()
        return self._now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self._now = self.now + timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def work(app: Flask) -> Callable[..., Summary]:
    """Run a worker until nothing is due, in its own app context (own session), like a
    separate process would; the test's session is then refreshed."""

    def run(**options) -> Summary:  # type: ignore[no-untyped-def]
        with app.app_context():
            settings = options.pop("settings", None) or WorkerSettings.from_config(app.config)
            summary = drain(settings=settings, **options)
        if has_app_context():  # the test's own session (not when run from a thread)
            db.session.expire_all()
        return summary

    return run


def fresh(message_id: int) -> OutboxMessage:
    """The row as the database has it now (changes made in this session are flushed first)."""
    db.session.flush()
    db.session.expire_all()
    row = db.session.get(OutboxMessage, message_id)
    assert row is not None
    return row
