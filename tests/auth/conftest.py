"""Helpers of the sign-in tests: read the emails the hub queued, and the links in them."""

from __future__ import annotations

import re
from email import message_from_string, policy
from email.message import EmailMessage

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from hub.auth import passwords
from hub.extensions import db
from hub.outbox.models import OutboxMessage

_CSRF = re.compile(r'(name="csrf[-_]token"[^>]*?(?:value|content)=")[^"]*"')


def without_csrf(html: str) -> str:
    """A page with its CSRF tokens blanked (they differ on every page), for comparisons."""
    return _CSRF.sub(r'\1"', html)


LINK = re.compile(r"http://localhost(/(?:login/link|password/reset)/([A-Za-z0-9_\-]+))")


def outbox(kind: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def parse(row: OutboxMessage) -> EmailMessage:
    return message_from_string(row.mime, policy=policy.default)  # type: ignore[return-value]


def text_of(row: OutboxMessage) -> str:
    return parse(row).get_body(preferencelist=("plain",)).get_content()


def html_of(row: OutboxMessage) -> str:
    return parse(row).get_body(preferencelist=("html",)).get_content()


def link_in(row: OutboxMessage) -> tuple[str, str]:
    """(path, token) of the one link in the email's plain text."""
    found = {m.groups() for m in LINK.finditer(text_of(row))}
    assert len(found) == 1, text_of(row)
    return next(iter(found))


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with the smallest cost: the same code paths, a thousand times faster. (Autouse,
    so it is in place before the shared fixtures hash the people's passwords.)"""
    monkeypatch.setattr(passwords, "_hasher",
                        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


class FreshContextClient(FlaskClient):
    """Each request in its own app context, as in a real server.

    The shared fixtures keep one app context open for the whole test; a plain test client
    would then share `g` (Flask-Login's cached user, Flask-WTF's CSRF token) and the database
    session between requests, and even between two clients, hiding bugs of exactly the
    kind these tests look for.
    """

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        with self.application.app_context():
            return super().open(*args, **kwargs)


def fresh_client(app: Flask) -> FlaskClient:
    return FreshContextClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return fresh_client(app)


@pytest.fixture
def new_client(app: Flask):  # type: ignore[no-untyped-def]
    """Another browser: a client with its own cookies."""
    return lambda: fresh_client(app)


@pytest.fixture
def teacher(people):  # type: ignore[no-untyped-def]
    return people.teacher
