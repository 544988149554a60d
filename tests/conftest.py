"""Shared fixtures: the app on SQLite (or PostgreSQL with HUB_TEST_DATABASE_URL), a clean
database for every test, people of every role, and a real SMTP server on loopback."""

from __future__ import annotations

import itertools
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message

import pytest
import time_machine
from aiosmtpd.controller import Controller
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from config import database_url
from hub import create_app
from hub.auth import passwords
from hub.auth.passwords import hash_password
from hub.directory.models import (
    Category,
    Network,
    NetworkMember,
    Organisation,
    OrgKind,
    Person,
    Role,
)
from hub.extensions import db, limiter, socketio

PASSWORD = "correct horse battery staple"
PG_URL = os.environ.get("HUB_TEST_DATABASE_URL", "")
#: The suite's "now": the tests' fixed dates (events of the 2026/27 school year, such as the
#: calendar fixtures' 3 December 2026) are in the future from here, whatever the real date.
SUITE_NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite (temporary file)'}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgres` need PostgreSQL: they skip, saying so, on the SQLite run."""
    if PG_URL:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set HUB_TEST_DATABASE_URL (make test does)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def database_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    if PG_URL:
        return database_url(PG_URL)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'hub-test.sqlite3'}"


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    """argon2id at its smallest cost: the same code paths, a thousand times faster."""
    saved = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords._hasher = saved


class FreshContextClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in a real server.

    The tests keep one app context open (for db.session); a plain test client would reuse it,
    sharing `g` (Flask-Login's cached user, the CSRF token) and the database session between
    requests and even between two clients.
    """

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session", autouse=True)
def _suite_clock() -> Iterator[None]:
    """Every test runs at SUITE_NOW plus the time the suite has taken (the clock ticks), in this
    process; programs the tests start (servers, the browser) keep the real time."""
    with time_machine.travel(SUITE_NOW, tick=True):
        yield


@pytest.fixture(scope="session")
def app(database_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_uri)
    app.test_client_class = FreshContextClient
    app.instance_path = str(tmp_path_factory.mktemp("instance"))  # uploads land here
    with app.app_context():
        if PG_URL:
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@contextmanager
def socket_server_of(app: Flask, *, real_packets: bool = False) -> Iterator[object]:
    """Point the module-level `socketio` at the Socket.IO server that serves `app`.

    A second `create_app()` (tests/auth/test_logout_csrf.py makes one) leaves `socketio.server`
    on a server no client of this app is on. With `real_packets`, the changes Flask-SocketIO's
    test client makes to that server (packets delivered only to test clients, synchronous
    handlers) are undone too, for real clients such as a browser; all is restored afterwards."""
    saved_server = socketio.server
    server = app.wsgi_app.engineio_app  # type: ignore[attr-defined]
    socketio.server = server
    patched: dict[str, object] = {}
    saved_async = (server.async_handlers, server.eio.async_handlers)
    if real_packets:
        patched = {name: server.__dict__.pop(name) for name in ("_send_packet", "_send_eio_packet")
                   if name in server.__dict__}
        server.async_handlers = server.eio.async_handlers = True
    try:
        yield server
    finally:
        server.__dict__.update(patched)
        server.async_handlers, server.eio.async_handlers = saved_async
        socketio.server = saved_server


def empty_tables() -> None:
    """Delete every row of every table (in an app context)."""
    db.session.remove()
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(autouse=True)
def _clean_state(app: Flask, request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test runs in an app context and leaves every table empty behind it; the tests of a
    class marked `shared_data` leave the data of its class-scoped fixture (which empties the
    tables after the class) for each other."""
    with app.app_context():
        limiter.reset()
        yield
        db.session.rollback()
        db.session.remove()
        if request.node.get_closest_marker("shared_data") is None:
            empty_tables()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


_seq = itertools.count(1)


@pytest.fixture
def make_org():  # type: ignore[no-untyped-def]
    def make(**values) -> Organisation:  # type: ignore[no-untyped-def]
        n = next(_seq)
        org = Organisation(
            full_name=values.pop("full_name", f"МБДОУ «Детский сад № {n}»"),
            short_name=values.pop("short_name", f"Детский сад № {n}"),
            kind=values.pop("kind", OrgKind.KINDERGARTEN),
            municipality=values.pop("municipality", "г. Лесной"),
            timezone=values.pop("timezone", "Europe/Moscow"),
            **values,
        )
        db.session.add(org)
        db.session.commit()
        return org

    return make


@pytest.fixture
def make_person(make_org):  # type: ignore[no-untyped-def]
    def make(role: Role = Role.TEACHER, organisation: Organisation | None = None,
             password: str | None = PASSWORD, **values) -> Person:  # type: ignore[no-untyped-def]
        n = next(_seq)
        person = Person(
            surname=values.pop("surname", "Иванова"),
            first_name=values.pop("first_name", "Мария"),
            patronymic=values.pop("patronymic", "Петровна"),
            email=values.pop("email", f"person{n}@example.org"),
            organisation=organisation or make_org(),
            position=values.pop("position", "воспитатель"),
            category=values.pop("category", Category.FIRST),
            role=role,
            password_hash=hash_password(password) if password else "",
            **values,
        )
        db.session.add(person)
        db.session.commit()
        return person

    return make


@dataclass
class People:
    """One person of every role; the coordinator and the teacher share an organisation."""

    municipal: Person
    coordinator: Person
    teacher: Person
    other_teacher: Person  # in another organisation


@pytest.fixture
def people(make_org, make_person) -> People:  # type: ignore[no-untyped-def]
    office = make_org(full_name="Управление образования", short_name="УО",
                      kind=OrgKind.EDUCATION_OFFICE)
    kindergarten = make_org()
    other = make_org(timezone="Asia/Yekaterinburg")
    return People(
        municipal=make_person(Role.MUNICIPAL_COORDINATOR, office, surname="Смирнова",
                              email="municipal@example.org"),
        coordinator=make_person(Role.ORG_COORDINATOR, kindergarten, surname="Кузнецова",
                                email="coordinator@example.org"),
        teacher=make_person(Role.TEACHER, kindergarten, surname="Попова",
                            email="teacher@example.org"),
        other_teacher=make_person(Role.TEACHER, other, surname="Соколова",
                                  email="other@example.org"),
    )


@pytest.fixture
def other_coordinator(people, make_person) -> Person:  # type: ignore[no-untyped-def]
    """The coordinator of other_teacher's organisation (Asia/Yekaterinburg)."""
    return make_person(Role.ORG_COORDINATOR, people.other_teacher.organisation,
                       surname="Орлова", email="other-coordinator@example.org")


@pytest.fixture
def network(people, other_coordinator) -> Network:  # type: ignore[no-untyped-def]
    """«Растим инженеров» 2026/2027: the coordinator's and the other teacher's organisations."""
    net = Network(name="Растим инженеров", school_year="2026/2027",
                  description="Образовательная робототехника")
    net.members = [
        NetworkMember(organisation=people.coordinator.organisation,
                      coordinator=people.coordinator),
        NetworkMember(organisation=other_coordinator.organisation,
                      coordinator=other_coordinator),
    ]
    db.session.add(net)
    db.session.commit()
    return net


def login(client: FlaskClient, person: Person, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    """Sign in through the real form."""
    return client.post("/login", data={"email": person.email, "password": password})


@pytest.fixture
def login_as(client: FlaskClient):  # type: ignore[no-untyped-def]
    def sign_in(person: Person) -> FlaskClient:
        response = login(client, person)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return sign_in


@dataclass
class SMTPSink:
    """What the loopback SMTP server received; `fail_next` makes it refuse that many messages."""

    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    fail_next: int = 0


class _Handler:
    def __init__(self, sink: SMTPSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if self.sink.fail_next > 0:
            self.sink.fail_next -= 1
            return "451 4.3.0 Try again later"
        self.sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.sink.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(app: Flask) -> Iterator[SMTPSink]:
    """A real SMTP server (aiosmtpd) on loopback; the app is pointed at it for the test."""
    sink = SMTPSink(host="127.0.0.1", port=free_port())
    controller = Controller(_Handler(sink), hostname=sink.host, port=sink.port)
    controller.start()
    saved = {k: app.config[k] for k in ("SMTP_HOST", "SMTP_PORT")}
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port)
    try:
        yield sink
    finally:
        controller.stop()
        app.config.update(saved)
