"""Events (one meeting each), series (recurring events, programs such as the digital
internship), their audiences and the people invited.

A series keeps its RRULE; each occurrence is an Event row of its own (series_id and
original_start set), so attendance, boards and materials always belong to one meeting.
Occurrences share the series' iCalendar UID and are told apart by RECURRENCE-ID
(original_start); a single event has a UID of its own.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.core.types import IntEnum, LabelledEnum, UTCDateTime, utcnow
from hub.directory.models import Network, Organisation, Person
from hub.extensions import db


def new_uid() -> str:
    """A globally unique iCalendar UID."""
    return f"{uuid.uuid4()}@vmeste-hub"


class EventFormat(LabelledEnum):
    """The format of an event (DESIGN.md's glossary)."""

    WEBINAR = 1
    SEMINAR_PRACTICUM = 2
    ROUND_TABLE = 3
    MASTER_CLASS = 4
    OPEN_LESSON = 5
    BUSINESS_GAME = 6
    METHODICAL_WEEK = 7
    MEETING = 8
    CONFERENCE = 9
    TELEBRIDGE = 10
    INTERNSHIP_SESSION = 11

    @classmethod
    def labels(cls) -> dict:
        return {
            cls.WEBINAR: _l("Webinar"),
            cls.SEMINAR_PRACTICUM: _l("Seminar-practicum"),
            cls.ROUND_TABLE: _l("Round table"),
            cls.MASTER_CLASS: _l("Master class"),
            cls.OPEN_LESSON: _l("Open lesson"),
            cls.BUSINESS_GAME: _l("Business game"),
            cls.METHODICAL_WEEK: _l("Methodical week"),
            cls.MEETING: _l("Meeting"),
            cls.CONFERENCE: _l("Conference"),
            cls.TELEBRIDGE: _l("Telebridge"),
            cls.INTERNSHIP_SESSION: _l("Internship session"),
        }


class Level(LabelledEnum):
    """The level of an event (уровень мероприятия)."""

    ORGANISATION = 1
    MUNICIPAL = 2
    REGIONAL = 3
    FEDERAL = 4

    @classmethod
    def labels(cls) -> dict:
        return {
            cls.ORGANISATION: _l("Organisation"),
            cls.MUNICIPAL: _l("Municipal"),
            cls.REGIONAL: _l("Regional"),
            cls.FEDERAL: _l("Federal"),
        }


class EventStatus(LabelledEnum):
    DRAFT = 1  # seen by its organisers only; no invitations sent
    SCHEDULED = 2
    CANCELLED = 3
    COMPLETED = 4

    @classmethod
    def labels(cls) -> dict:
        return {
            cls.DRAFT: _l("Draft"),
            cls.SCHEDULED: _l("Scheduled"),
            cls.CANCELLED: _l("Cancelled"),
            cls.COMPLETED: _l("Completed"),
        }


class EventRole(LabelledEnum):
    """The part a person plays in an event (beyond attending)."""

    ORGANISER = 1
    SPEAKER = 2
    MODERATOR = 3
    MENTOR = 4
    INTERN = 5

    @classmethod
    def labels(cls) -> dict:
        return {
            cls.ORGANISER: _l("Organiser"),
            cls.SPEAKER: _l("Speaker"),
            cls.MODERATOR: _l("Moderator"),
            cls.MENTOR: _l("Mentor"),
            cls.INTERN: _l("Intern"),
        }


class PartStat(LabelledEnum):
    """An invitee's answer, as iCalendar's PARTSTAT."""

    NEEDS_ACTION = 1
    ACCEPTED = 2
    DECLINED = 3
    TENTATIVE = 4

    @classmethod
    def labels(cls) -> dict:
        return {
            cls.NEEDS_ACTION: _l("No answer yet"),
            cls.ACCEPTED: _l("Accepted"),
            cls.DECLINED: _l("Declined"),
            cls.TENTATIVE: _l("Maybe"),
        }

    @property
    def ical(self) -> str:
        return self.name.replace("_", "-")


class InvitationState(enum.IntEnum):
    INVITED = 1  # in the audience, invitation sent (or queued)
    WAITLISTED = 2  # registered for a full open event; invited when a place frees up
    REMOVED = 3  # taken out of the audience; was sent a CANCEL


class Series(db.Model):
    """A recurring event: the RRULE, and what its occurrences share.

    A program (e.g. the digital internship) is a series with a cohort: its members (mentors and
    interns, SeriesPerson) are invited to every session.
    """

    __tablename__ = "series"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The iCalendar UID shared by every occurrence.
    uid: Mapped[str] = mapped_column(String(120), unique=True, default=new_uid)
    title: Mapped[str] = mapped_column(String(300))
    #: RRULE value without the "RRULE:" prefix, e.g. FREQ=WEEKLY;INTERVAL=1;BYDAY=TU;COUNT=10.
    rrule: Mapped[str] = mapped_column(String(500))
    #: The IANA zone the rule is expanded in (occurrences keep their local time across DST).
    timezone: Mapped[str] = mapped_column(String(64))
    #: Start of the first occurrence (DTSTART of the master VEVENT).
    first_start: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Duration of an occurrence in minutes.
    duration_minutes: Mapped[int]
    #: True for a program with a cohort of mentor–intern pairs (the digital internship).
    is_program: Mapped[bool] = mapped_column(default=False)
    #: For a program: the share of all its planned sessions (percent) an intern must be
    #: credited for to be able to complete it (the mentor then confirms).
    completion_percent: Mapped[int] = mapped_column(default=80, server_default="80")
    #: Raised whenever the master VEVENT changes (iTIP SEQUENCE).
    sequence: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    events: Mapped[list[Event]] = relationship(
        back_populates="series", order_by="Event.original_start")
    cohort: Mapped[list[SeriesPerson]] = relationship(
        back_populates="series", cascade="all, delete-orphan")


class SeriesPerson(db.Model):
    """A member of a program's cohort: a mentor, or an intern paired with a mentor."""

    __tablename__ = "series_person"
    __table_args__ = (UniqueConstraint("series_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    role: Mapped[EventRole] = mapped_column(IntEnum(EventRole))
    #: For an intern: their mentor.
    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))

    series: Mapped[Series] = relationship(back_populates="cohort")
    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    mentor: Mapped[Person | None] = relationship(foreign_keys=[mentor_id])


class Event(db.Model):
    """One meeting: a webinar, a round table, one session of a series."""

    __tablename__ = "event"
    __table_args__ = (
        CheckConstraint("end_at > start_at", name="ends_after_start"),
        Index("ix_event_time", "start_at", "end_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: iCalendar UID: the series' UID for an occurrence, its own otherwise.
    uid: Mapped[str] = mapped_column(String(120), default=new_uid, index=True)
    format: Mapped[EventFormat] = mapped_column(IntEnum(EventFormat))
    title: Mapped[str] = mapped_column(String(300))
    #: Sanitised HTML (a safe subset), shown as is.
    description_html: Mapped[str] = mapped_column(Text, default="")
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The event's own IANA zone: invitations and recurrence use it.
    timezone: Mapped[str] = mapped_column(String(64))
    status: Mapped[EventStatus] = mapped_column(IntEnum(EventStatus), default=EventStatus.DRAFT)
    network_id: Mapped[int | None] = mapped_column(ForeignKey("network.id"), index=True)
    #: Open events take registrations from anyone signed in (and appear in public feeds).
    open_registration: Mapped[bool] = mapped_column(default=False)
    #: Places; None means unlimited. Registrations past it go to the waiting list.
    capacity: Mapped[int | None]
    #: Hours credited for attending; None means the duration.
    credit_hours: Mapped[float | None]
    #: Conferencing provider key ("jitsi" until the providers' issue adds the rest).
    provider: Mapped[str] = mapped_column(String(32), default="jitsi")
    #: Whether the live board is switched on.
    board_enabled: Mapped[bool] = mapped_column(default=True)
    #: The event's level, shown in portfolios and counted in reports.
    level: Mapped[Level] = mapped_column(IntEnum(Level), default=Level.MUNICIPAL,
                                         server_default="2")
    #: Presence checks (rotating codes) a participant must answer; 0: none.
    required_checks: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Issue participation certificates automatically when credit is earned.
    auto_certificates: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: Minutes before the start at which reminders go out, e.g. "1440,60"; empty: none.
    reminder_minutes: Mapped[str] = mapped_column(String(100), default="1440,60")
    #: Raised whenever what the invitation says changes (iTIP SEQUENCE).
    sequence: Mapped[int] = mapped_column(default=0)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id"), index=True)
    #: For an occurrence: its start as the RRULE gave it (iCalendar RECURRENCE-ID).
    original_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: For an occurrence: changed apart from the series (sent as its own VEVENT).
    detached: Mapped[bool] = mapped_column(default=False)
    #: The joint plan's item this event carries out, if any.
    plan_item_id: Mapped[int | None] = mapped_column(ForeignKey("plan_item.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    series: Mapped[Series | None] = relationship(back_populates="events")
    network: Mapped[Network | None] = relationship()
    hosts: Mapped[list[EventHost]] = relationship(
        back_populates="event", cascade="all, delete-orphan")
    people: Mapped[list[EventPerson]] = relationship(
        back_populates="event", cascade="all, delete-orphan")
    audience: Mapped[list[EventAudience]] = relationship(
        back_populates="event", cascade="all, delete-orphan")
    invitations: Mapped[list[Invitation]] = relationship(back_populates="event")
    created_by: Mapped[Person | None] = relationship(foreign_keys=[created_by_id])

    @property
    def duration_hours(self) -> float:
        return (self.end_at - self.start_at).total_seconds() / 3600

    @property
    def hours(self) -> float:
        """Credit hours: as set, or the duration."""
        return self.credit_hours if self.credit_hours is not None else self.duration_hours


class EventHost(db.Model):
    """An organisation that hosts the event (there may be several)."""

    __tablename__ = "event_host"
    __table_args__ = (UniqueConstraint("event_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)

    event: Mapped[Event] = relationship(back_populates="hosts")
    organisation: Mapped[Organisation] = relationship()


class EventPerson(db.Model):
    """A person with a part in the event: organiser, speaker, moderator (mentor, intern)."""

    __tablename__ = "event_person"
    __table_args__ = (UniqueConstraint("event_id", "person_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    role: Mapped[EventRole] = mapped_column(IntEnum(EventRole))

    event: Mapped[Event] = relationship(back_populates="people")
    person: Mapped[Person] = relationship()


class EventAudience(db.Model):
    """Who is invited: a whole organisation, a whole network, or one person (exactly one)."""

    __tablename__ = "event_audience"
    __table_args__ = (
        CheckConstraint(
            "CAST(organisation_id IS NOT NULL AS INTEGER) + CAST(network_id IS NOT NULL AS INTEGER)"
            " + CAST(person_id IS NOT NULL AS INTEGER) = 1", name="exactly_one_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    network_id: Mapped[int | None] = mapped_column(ForeignKey("network.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))

    event: Mapped[Event] = relationship(back_populates="audience")
    organisation: Mapped[Organisation | None] = relationship()
    network: Mapped[Network | None] = relationship()
    person: Mapped[Person | None] = relationship()


class Invitation(db.Model):
    """One person invited to one event: their answer and their personal token.

    The token in emails (/j/<token>, /rsvp/<token>) is derived from the app secret and `nonce`
    (so an update can repeat the same link); only its SHA-256 is stored, for look-up. A new
    nonce revokes the old link.
    """

    __tablename__ = "invitation"
    __table_args__ = (UniqueConstraint("event_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    state: Mapped[InvitationState] = mapped_column(
        IntEnum(InvitationState), default=InvitationState.INVITED)
    partstat: Mapped[PartStat] = mapped_column(IntEnum(PartStat), default=PartStat.NEEDS_ACTION)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Random; the personal token is derived from it (see the class docstring).
    nonce: Mapped[str] = mapped_column(String(64))
    #: hex SHA-256 of the personal token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The SEQUENCE of the last invitation or update emailed to this person.
    sent_sequence: Mapped[int | None]
    #: When the person registered themselves for an open event (None: invited by the audience).
    #: Registered people stay invited whatever the audience; the waiting list is in this order.
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[Event] = relationship(back_populates="invitations")
    person: Mapped[Person] = relationship()


class PlanStatus(LabelledEnum):
    DRAFT = 1
    APPROVED = 2  # every member's coordinator approved the current version

    @classmethod
    def labels(cls) -> dict:
        return {cls.DRAFT: _l("Awaiting approval"), cls.APPROVED: _l("Approved")}


class Plan(db.Model):
    """A network association's joint plan of events for its school year."""

    __tablename__ = "plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("network.id"), unique=True)
    #: Approvals are of one version. A change of the items after someone approved the current
    #: version raises it (everyone approves again); changes before any approval keep it.
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    network: Mapped[Network] = relationship()
    items: Mapped[list[PlanItem]] = relationship(
        back_populates="plan", cascade="all, delete-orphan",
        order_by=lambda: (PlanItem.year, PlanItem.month, PlanItem.id))
    approvals: Mapped[list[PlanApproval]] = relationship(
        back_populates="plan", cascade="all, delete-orphan")


class PlanItem(db.Model):
    """A line of the joint plan: month, topic, format, responsible organisation."""

    __tablename__ = "plan_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    year: Mapped[int]
    month: Mapped[int]
    topic: Mapped[str] = mapped_column(String(300))
    format: Mapped[EventFormat] = mapped_column(IntEnum(EventFormat))
    responsible_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))

    plan: Mapped[Plan] = relationship(back_populates="items")
    responsible: Mapped[Organisation] = relationship()
    events: Mapped[list[Event]] = relationship(foreign_keys="Event.plan_item_id")


class PlanApproval(db.Model):
    """A member coordinator's approval of one version of the plan (who and when)."""

    __tablename__ = "plan_approval"
    __table_args__ = (UniqueConstraint("plan_id", "organisation_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    version: Mapped[int]
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    plan: Mapped[Plan] = relationship(back_populates="approvals")
    organisation: Mapped[Organisation] = relationship()
    person: Mapped[Person] = relationship()
