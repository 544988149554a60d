"""Queueing email: a message row added to the caller's transaction, sent later by the worker."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from flask import current_app
from sqlalchemy import func, select, update

from hub.core.types import utcnow
from hub.extensions import db
from hub.outbox.models import MessageStatus, OutboxMessage

#: Headers folded only past RFC 5322's hard limit: Python 3.11 folds a long non-ASCII Subject
#: with the space between words lost between two encoded-words, and mail clients drop it.
MAIL_POLICY = policy.default.clone(max_line_length=998)


@dataclass(frozen=True)
class Part:
    """An extra MIME part: an alternative (e.g. text/calendar; method=REQUEST) or an attachment."""

    content: bytes | str
    maintype: str
    subtype: str
    filename: str | None = None  # set for attachments
    params: tuple[tuple[str, str], ...] = ()  # e.g. (("method", "REQUEST"),)


def build_message(to: str, subject: str, text: str, html: str | None = None,
                  alternatives: Iterable[Part] = (),
                  attachments: Iterable[Part] = ()) -> EmailMessage:
    """A multipart message: text, then HTML and other alternatives, then attachments."""
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain="vmeste.hub")
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for part in alternatives:
        _add(message, part, attach=False)
    for part in attachments:
        _add(message, part, attach=True)
    return message


def _add(message: EmailMessage, part: Part, *, attach: bool) -> None:
    params = dict(part.params)
    method = message.add_attachment if attach else message.add_alternative
    if isinstance(part.content, str):
        method(part.content, subtype=part.subtype, filename=part.filename, params=params)
    else:
        method(part.content, maintype=part.maintype, subtype=part.subtype,
               filename=part.filename, params=params)


def enqueue_email(to: str, subject: str, text: str, html: str | None = None, *, kind: str = "",
                  alternatives: Iterable[Part] = (),
                  attachments: Iterable[Part] = ()) -> OutboxMessage:
    """Add an email to the outbox in the current transaction; the caller commits.

    `to` may carry a display name («Иванова Мария <ivanova@example.org>»): the name goes into
    the message's To header; the row keeps the bare address (what the worker sends to and the
    outbox page shows and searches), which fits its column whatever the length of the name."""
    message = build_message(to, subject, text, html, alternatives, attachments)
    address = parseaddr(to)[1] or to
    row = OutboxMessage(to_addr=address, subject=subject, mime=message.as_string(), kind=kind)
    db.session.add(row)
    return row


def status_counts() -> dict[MessageStatus, int]:
    """How many messages are in each status (every status present, zero when none)."""
    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    counts = dict.fromkeys(MessageStatus, 0)
    counts.update({status: n for status, n in rows})
    return counts


def retry_now(ids: Iterable[int] | None = None) -> int:
    """Queue FAILED (and waiting PENDING) messages for an attempt right away, with a fresh count
    of attempts: after fixing the SMTP settings, or from /dev/mail. `ids=None` means every
    failed message. Returns how many were queued; the caller commits."""
    statement = update(OutboxMessage).values(
        status=MessageStatus.PENDING, attempts=0, next_attempt_at=utcnow(), lease_until=None,
        claimed_by="",
    )
    if ids is None:
        statement = statement.where(OutboxMessage.status == MessageStatus.FAILED)
    else:
        statement = statement.where(
            OutboxMessage.id.in_(list(ids)),
            OutboxMessage.status.in_((MessageStatus.FAILED, MessageStatus.PENDING)),
        )
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    return result.rowcount or 0
