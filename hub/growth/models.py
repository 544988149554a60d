"""Professional growth beyond the attendance record: certificates, completions of the digital
internship, and participants' feedback on events."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.attendance.models import Attendance, GrowthRole
from hub.core.types import IntEnum, UTCDateTime, utcnow
from hub.directory.models import Person
from hub.extensions import db
from hub.scheduling.models import Event, EventFormat, Series


class Certificate(db.Model):
    """A participation certificate (сертификат участника, not a state qualification document).

    What it says is copied in when it is issued, so the certificate and its verification page
    keep saying it even if the event or the person is edited later."""

    __tablename__ = "certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Public verification code printed on the certificate (/verify/<code>): random, unique.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="SET NULL"),
                                                 index=True)
    attendance_id: Mapped[int | None] = mapped_column(
        ForeignKey("attendance.id", ondelete="SET NULL"), unique=True)
    #: A certificate of completing a program (the digital internship) instead of one event.
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id", ondelete="SET NULL"))
    holder_name: Mapped[str] = mapped_column(String(300))
    title: Mapped[str] = mapped_column(String(300))
    #: The event's format; None for a program's completion.
    format: Mapped[EventFormat | None] = mapped_column(IntEnum(EventFormat))
    organisers: Mapped[str] = mapped_column(String(600), default="")
    held_on: Mapped[date]
    hours: Mapped[float]
    role: Mapped[GrowthRole] = mapped_column(IntEnum(GrowthRole))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: None when issued automatically on earning credit.
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    revoke_reason: Mapped[str] = mapped_column(String(500), default="")

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    event: Mapped[Event | None] = relationship()
    attendance: Mapped[Attendance | None] = relationship()

    @property
    def valid(self) -> bool:
        return self.revoked_at is None


class InternshipCompletion(db.Model):
    """The mentor's confirmation that an intern has completed a program."""

    __tablename__ = "internship_completion"
    __table_args__ = (UniqueConstraint("series_id", "intern_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"),
                                           index=True)
    intern_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    mentor_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    #: Share of all the program's planned sessions the intern was credited for, when
    #: confirmed (percent).
    attended_percent: Mapped[int]
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Who confirmed: the mentor, or the program's organiser standing in for them.
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    comment: Mapped[str] = mapped_column(String(1000), default="")

    series: Mapped[Series] = relationship()
    intern: Mapped[Person] = relationship(foreign_keys=[intern_id])
    mentor: Mapped[Person] = relationship(foreign_keys=[mentor_id])
    confirmed_by: Mapped[Person | None] = relationship(foreign_keys=[confirmed_by_id])


class FeedbackRequest(db.Model):
    """A survey sent to one participant after an event; answered once through its link."""

    __tablename__ = "feedback_request"
    __table_args__ = (UniqueConstraint("event_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    #: hex SHA-256 of the survey link's token (the token itself is only in the email).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The answer: 1–5, the useful parts (comma-separated keys), free text.
    rating: Mapped[int | None]
    useful: Mapped[str] = mapped_column(String(200), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship()
    person: Mapped[Person] = relationship()
