"""Helpers of the sign-in tests: read the emails the hub queued, and the links in them."""

from __future__ import annotations

import re
from email import message_from_string, policy
from email.message import EmailMessage

import pytest
from flask import Flask
from sqlalchemy import select

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


@pytest.fixture
def new_client(app: Flask):  # type: ignore[no-untyped-def]
    """Another browser: a client with its own cookies."""
    return app.test_client


@pytest.fixture
def teacher(people):  # type: ignore[no-untyped-def]
    return people.teacher
