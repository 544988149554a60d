"""Attendance: the raw evidence (join clicks, presence, check-ins, provider reports, organisers'
marks) and, derived from it, one record per person and event with the status and the credit.

Raw rows are never rewritten by a rule: `AttendanceInterval` and `CheckIn` are kept as they came,
so changing a credit rule recomputes every `Attendance` from them (hub/attendance/credit.py).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.core.types import IntEnum, LabelledEnum, UTCDateTime, utcnow
from hub.directory.models import Person
from hub.extensions import db
from hub.scheduling.models import Event, EventFormat


class Source(LabelledEnum):
    """Where an interval came from."""

    JOIN_LINK = 1
    PRESENCE = 2
    PROVIDER = 3
    ORGANISER = 4

    @classmethod
    def labels(cls) -> dict:
        return {
            cls.JOIN_LINK: _l("Join link"),
            cls.PRESENCE: _l("Page open"),
            cls.PROVIDER: _l("Conference report"),
            cls.ORGANISER: _l("Marked by the organiser"),
        }


class Status(LabelledEnum):
    """A person's attendance of one event, as computed or as set by the organiser."""

    ABSENT = 0
    PRESENT = 1
    LATE = 2
    LEFT_EARLY = 3
    EXCUSED = 4

    @classmethod
    def labels(cls) -> dict:
        return {
            cls.ABSENT: _l("Absent"),
            cls.PRESENT: _l("Present"),
            cls.LATE: _l("Late"),
            cls.LEFT_EARLY: _l("Left early"),
            cls.EXCUSED: _l("Excused"),
        }


class GrowthRole(LabelledEnum):
    """The part a person played, as their professional-growth record shows it. The values
    match EventRole's; a plain participant is 0."""

    PARTICIPANT = 0
    ORGANISER = 1
    SPEAKER = 2
    MODERATOR = 3
    MENTOR = 4
    INTERN = 5

    @classmethod
    def labels(cls) -> dict:
        return {
            cls.PARTICIPANT: _l("Participant"),
            cls.ORGANISER: _l("Organiser"),
            cls.SPEAKER: _l("Speaker"),
            cls.MODERATOR: _l("Moderator"),
            cls.MENTOR: _l("Mentor"),
            cls.INTERN: _l("Intern"),
        }


class Attendance(db.Model):
    """One person's (or one guest's) attendance of one event: the sheet's row and the
    professional-growth record. Everything but the override is derived from the raw evidence.
    """

    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("event_id", "person_id"),
        Index("ix_attendance_person_credited", "person_id", "credited"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    #: None for a guest without an account (until the organiser merges them into a person).
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    guest_name: Mapped[str] = mapped_column(String(300), default="")
    guest_email: Mapped[str] = mapped_column(String(254), default="")
    role: Mapped[GrowthRole] = mapped_column(IntEnum(GrowthRole), default=GrowthRole.PARTICIPANT)
    #: Computed from the intervals and check-ins by the event format's credit rule.
    computed_status: Mapped[Status] = mapped_column(IntEnum(Status), default=Status.ABSENT)
    #: Minutes of the event covered by the merged intervals (no double counting).
    minutes: Mapped[int] = mapped_column(default=0)
    first_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Distinct check rounds the person answered.
    checks_passed: Mapped[int] = mapped_column(default=0)
    #: The organiser's mark, when set: it wins over the computed status.
    override_status: Mapped[Status | None] = mapped_column(IntEnum(Status))
    override_reason: Mapped[str] = mapped_column(String(500), default="")
    override_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    override_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Whether hours are credited, and how many (the event's hours, or 0).
    credited: Mapped[bool] = mapped_column(default=False)
    hours: Mapped[float] = mapped_column(default=0.0)
    #: Set when the join link was used from two places at once (shown to the organiser).
    shared_link: Mapped[bool] = mapped_column(default=False)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[Event] = relationship()
    person: Mapped[Person | None] = relationship(foreign_keys=[person_id])
    override_by: Mapped[Person | None] = relationship(foreign_keys=[override_by_id])
    intervals: Mapped[list[AttendanceInterval]] = relationship(
        back_populates="attendance", cascade="all, delete-orphan",
        order_by="AttendanceInterval.started_at")

    @property
    def status(self) -> Status:
        return self.override_status if self.override_status is not None \
            else self.computed_status

    @property
    def display_name(self) -> str:
        return self.person.full_name if self.person is not None else self.guest_name


class AttendanceInterval(db.Model):
    """Raw evidence: the person was in the meeting (or had its page open) from `started_at` to
    `ended_at`. An open interval (a join, a page still reporting) has ended_at None."""

    __tablename__ = "attendance_interval"
    __table_args__ = (
        UniqueConstraint("provider_interval_id"),
        Index("ix_attendance_interval_open", "attendance_id", "source", "client_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attendance_id: Mapped[int] = mapped_column(
        ForeignKey("attendance.id", ondelete="CASCADE"), index=True)
    source: Mapped[Source] = mapped_column(IntEnum(Source))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Server-side facts of a join click or a presence report.
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    #: Identifies one browser (a random id kept in its session): two at once means a shared link.
    client_key: Mapped[str] = mapped_column(String(64), default="")
    #: For intervals imported from a provider's report: the raw row (imported once).
    provider_interval_id: Mapped[int | None] = mapped_column(
        ForeignKey("provider_interval.id", ondelete="SET NULL"))
    #: For intervals the organiser entered: who, and why.
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    attendance: Mapped[Attendance] = relationship(back_populates="intervals")


class CheckRound(db.Model):
    """A presence check the organiser runs during the meeting: a rotating code is shown while
    it is open."""

    __tablename__ = "check_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    #: Random; the rotating code is derived from it and the time window (never stored).
    secret: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))

    event: Mapped[Event] = relationship()


class CheckIn(db.Model):
    """A person answered a check round with a valid code."""

    __tablename__ = "check_in"
    __table_args__ = (UniqueConstraint("round_id", "attendance_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("check_round.id", ondelete="CASCADE"),
                                          index=True)
    attendance_id: Mapped[int] = mapped_column(
        ForeignKey("attendance.id", ondelete="CASCADE"), index=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str] = mapped_column(String(64), default="")

    round: Mapped[CheckRound] = relationship()
    attendance: Mapped[Attendance] = relationship()


class CreditRule(db.Model):
    """How an event format earns credit, set by the municipal coordinator. A format without a
    row uses the defaults (80% presence)."""

    __tablename__ = "credit_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    format: Mapped[EventFormat] = mapped_column(IntEnum(EventFormat), unique=True)
    #: Share of the event's time presence must cover, in percent.
    min_presence_percent: Mapped[int] = mapped_column(default=80)
    #: For events with presence checks: credit by the checks instead of the time.
    checks_instead: Mapped[bool] = mapped_column(default=True)
    #: Minutes after the start from which a join counts as late, and before the end from
    #: which leaving counts as early.
    late_minutes: Mapped[int] = mapped_column(default=10)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AttendanceLog(db.Model):
    """Who changed an attendance record by hand, when and why (overrides, guests, merges)."""

    __tablename__ = "attendance_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    attendance_id: Mapped[int | None] = mapped_column(
        ForeignKey("attendance.id", ondelete="SET NULL"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[Person | None] = relationship()
