"""The durable email outbox: a message row per email, written with the change that caused it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.core.types import IntEnum, UTCDateTime, utcnow
from hub.extensions import db


class MessageStatus(enum.IntEnum):
    PENDING = 1  # waiting for its next attempt
    SENDING = 2  # claimed by a worker until lease_until
    SENT = 3
    FAILED = 4  # gave up after the last attempt, or rejected permanently


class OutboxMessage(db.Model):
    """One email: the full MIME message plus what the worker needs to schedule it."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Envelope recipient (one per message).
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(500))
    #: The whole RFC 5322 message as built when queued (text, HTML, calendar parts).
    mime: Mapped[str] = mapped_column(Text)
    #: What caused it, e.g. "auth.sign_in_link" or "invitation:42" (dev mail page, audits).
    kind: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[MessageStatus] = mapped_column(
        IntEnum(MessageStatus), default=MessageStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: While SENDING: the claim expires then and another worker may retry.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: Which worker holds the claim (host:pid:thread).
    claimed_by: Mapped[str] = mapped_column(String(120), default="")
    last_error: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
