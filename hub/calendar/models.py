"""A person's subscribable calendar feed and the reminders already sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.core.types import UTCDateTime, utcnow
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
