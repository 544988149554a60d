"""A person's subscribable calendar feed, the reminders already sent and the invitation
batches the worker expands into emails."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.core.types import IntEnum, UTCDateTime, utcnow
from hub.directory.models import Person
from hub.extensions import db


class CalendarFeed(db.Model):
    """A person's /feeds/<token>.ics. Rotating the token makes a new nonce (the old URL dies)."""

    __tablename__ = "calendar_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), unique=True)
    #: Random; the token is derived from it and the app secret, only its hash is stored.
    nonce: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    rotated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship()


class ReminderSent(db.Model):
    """A reminder queued for one invitation at one offset, so it is never sent twice."""

    __tablename__ = "reminder_sent"
    __table_args__ = (UniqueConstraint("invitation_id", "minutes_before", "start_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitation.id"), index=True)
    minutes_before: Mapped[int]
    #: The event start it was for (a moved event gets new reminders).
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BatchKind(enum.IntEnum):
    """What an invitation batch sends (see hub/calendar/invitations.py)."""

    REQUEST = 1  # METHOD:REQUEST to newly invited people
    UPDATE = 2  # METHOD:REQUEST, same UID, higher SEQUENCE, to everyone still invited
    REMOVED = 3  # METHOD:CANCEL to people taken out of the audience
    CANCELLED = 4  # METHOD:CANCEL, STATUS:CANCELLED, to everyone invited


class BatchStatus(enum.IntEnum):
    PENDING = 1  # waiting for a worker (or being worked on while lease_until is ahead)
    DONE = 2
    FAILED = 3  # gave up after BATCH_MAX_ATTEMPTS; last_error says why


class InvitationBatch(db.Model):
    """A fan-out of invitation emails, written in the same transaction as the change that
    caused it and expanded by the outbox worker loop into one outbox message per person, a
    chunk per transaction. The organiser's request only writes this row.

    Exactly one of event_id (one event or one occurrence of a series) and series_id (the whole
    series: one VEVENT with RRULE, EXDATEs and overrides) is set.
    """

    __tablename__ = "invitation_batch"
    __table_args__ = (Index("ix_invitation_batch_due", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[BatchKind] = mapped_column(IntEnum(BatchKind))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id"), index=True)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id"), index=True)
    #: JSON list of the recipients, in the order they are sent: Invitation ids for an event,
    #: Person ids for a series. Empty ("") for UPDATE and CANCELLED until the batch starts,
    #: which then writes everyone invited at that moment.
    recipient_ids: Mapped[str] = mapped_column(Text, default="")
    #: How many recipients are done (the next chunk starts there).
    done: Mapped[int] = mapped_column(default=0)
    #: Recipients found when the batch started (for progress and the bench).
    total: Mapped[int | None]
    status: Mapped[BatchStatus] = mapped_column(IntEnum(BatchStatus), default=BatchStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    #: While a worker holds it: the claim expires then and another worker may go on.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str] = mapped_column(String(120), default="")
    last_error: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
