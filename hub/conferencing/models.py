"""Conferencing: an organisation's provider accounts, each event's room, and what providers
report about who attended."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.core.types import IntEnum, LabelledEnum, UTCDateTime, utcnow
from hub.extensions import db

if TYPE_CHECKING:
    from hub.directory.models import Organisation, Person
    from hub.scheduling.models import Event


class ProviderAccount(db.Model):
    """One organisation's settings for one provider (its Zoom app, its BigBlueButton server).

    Settings the provider marks secret are stored encrypted (hub/core/secrets.py) and are
    never shown back; the others are plain JSON.
    """

    __tablename__ = "provider_account"
    __table_args__ = (UniqueConstraint("organisation_id", "provider"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: Registry key: "jitsi", "bigbluebutton", "google_meet", "zoom", "telemost".
    provider: Mapped[str] = mapped_column(String(32))
    #: Settings that are not secret (server address, account id).
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The secret settings, as one Fernet token.
    secrets_encrypted: Mapped[str] = mapped_column(Text, default="")
    #: Names of the secret settings that are set (to say "saved" without decrypting).
    secret_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The last "check connection": when, whether it worked, and what it said.
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    check_ok: Mapped[bool | None]
    check_message: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship()


class RoomState(LabelledEnum):
    #: The provider must be told something (see `Room.action`); the worker will.
    PENDING = 1
    #: The conference exists and matches the event.
    READY = 2
    #: The provider refused for a reason retrying will not fix: the organiser must act.
    FAILED = 3
    #: The conference was removed (the event was cancelled).
    DELETED = 4

    @classmethod
    def labels(cls) -> dict:
        return {cls.PENDING: _l("being prepared"), cls.READY: _l("ready"),
                cls.FAILED: _l("failed"), cls.DELETED: _l("removed")}


class RoomAction(LabelledEnum):
    """What the worker must do for a PENDING room."""

    SYNC = 1  # create it, or update it to match the event
    DELETE = 2

    @classmethod
    def labels(cls) -> dict:
        return {cls.SYNC: _l("create or update"), cls.DELETE: _l("remove")}


def new_room_key() -> str:
    return secrets.token_hex(12)


class Room(db.Model):
    """An event's conference at its provider."""

    __tablename__ = "room"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: An event has one room; after a change of provider the old one lingers until removed.
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), index=True)
    #: Random, given to the provider as our id for the meeting (BigBlueButton's meetingID).
    key: Mapped[str] = mapped_column(String(32), default=new_room_key, unique=True)
    provider: Mapped[str] = mapped_column(String(32))
    #: Whose settings make the room (None: the provider's defaults, for Jitsi).
    account_id: Mapped[int | None] = mapped_column(ForeignKey("provider_account.id"),
                                                   index=True)
    state: Mapped[RoomState] = mapped_column(IntEnum(RoomState), default=RoomState.PENDING,
                                             index=True)
    action: Mapped[RoomAction] = mapped_column(IntEnum(RoomAction), default=RoomAction.SYNC)
    #: The conference's id at the provider.
    external_id: Mapped[str | None] = mapped_column(String(255), index=True)
    join_url: Mapped[str | None] = mapped_column(Text)
    #: The provider's own data (integrations/conferencing/<provider>.py reads it).
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Fingerprint of what the provider was last told (title, times): changes mean an update.
    synced_fingerprint: Mapped[str] = mapped_column(String(64), default="")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    #: A worker's claim: its token and until when it holds the room.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The last error, for the organiser (no secrets: providers' messages never carry them).
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the provider's attendance was last fetched (providers with an attendance API).
    attendance_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship()
    account: Mapped[ProviderAccount | None] = relationship()


class RoomRegistration(db.Model):
    """A person registered at the provider for their own join URL (Zoom registrants)."""

    __tablename__ = "room_registration"
    __table_args__ = (UniqueConstraint("room_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    join_url: Mapped[str] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProviderReport(db.Model):
    """One message from a provider about a room's attendance: a webhook, a callback, or an
    attendance fetch. Stored once per `dedupe_key`, so a message delivered twice counts once."""

    __tablename__ = "provider_report"
    __table_args__ = (UniqueConstraint("room_id", "dedupe_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"), index=True)
    #: "joined", "left", "ended", "attendance" (a whole meeting at once) or "fetched".
    kind: Mapped[str] = mapped_column(String(16))
    dedupe_key: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    intervals: Mapped[list[ProviderInterval]] = relationship(
        back_populates="report", cascade="all, delete-orphan")


class ProviderInterval(db.Model):
    """A person in a room from `joined_at` to `left_at`, as a provider reported it (raw: the
    attendance work merges these with the hub's own records)."""

    __tablename__ = "provider_interval"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("provider_report.id"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"), index=True)
    #: The hub's person, when the provider's data names them (our key echoed back, or email).
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    name: Mapped[str | None] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(254))
    external_user_id: Mapped[str | None] = mapped_column(String(255))

    report: Mapped[ProviderReport] = relationship(back_populates="intervals")
    person: Mapped[Person | None] = relationship()
