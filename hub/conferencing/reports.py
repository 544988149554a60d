"""What providers say about attendance: webhooks and callbacks as they arrive, and the
attendance fetched from providers' APIs after a meeting. Stored raw (ProviderReport and its
ProviderIntervals), once per message; the attendance work merges them with the hub's own.
Recordings providers report become RECORDING materials of the event (once per URL; no
ProviderReport)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hub.archive.services import MaterialError, add_recording
from hub.conferencing import accounts, rooms
from hub.conferencing.models import (
    ProviderAccount,
    ProviderInterval,
    ProviderReport,
    Room,
    RoomRegistration,
    RoomState,
)
from hub.core.types import utcnow
from hub.directory.models import Person
from hub.extensions import db
from hub.scheduling.models import Event
from integrations.conferencing import base as conf

log = logging.getLogger(__name__)

#: Fetch a meeting's attendance this long after it ends (providers publish reports late).
FETCH_AFTER = timedelta(minutes=15)
#: Stop trying after this long.
FETCH_UNTIL = timedelta(days=7)
#: The dedupe key of a fetched attendance: a new fetch replaces the previous one.
FETCHED = "fetched"
#: What no database column can hold: NUL (PostgreSQL refuses it) and lone surrogates (not
#: UTF-8), both of which a JSON body can carry as \u escapes.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
#: The hub's participant key echoed back by a provider: "p" and a person's id.
_PERSON_KEY = re.compile(r"p([0-9]{1,9})")  # an id within PostgreSQL's integer


def _storable(text: str) -> str:
    return _UNSTORABLE.sub("", text)


def receive_webhook(account: ProviderAccount, headers: Mapping[str, str],
                    body: bytes) -> conf.WebhookResult:
    """Verify a webhook for the account's provider and store what it reports (committed).

    Raises WebhookRejected when it does not verify."""
    provider = accounts.make_provider(account.provider, account)
    result = provider.verify_webhook(headers, body)
    for event in result.events:
        room = db.session.scalar(select(Room).where(
            Room.provider == account.provider, Room.external_id == event.external_id))
        if room is None:
            log.info("conferencing: %s webhook for an unknown room, ignored", account.provider)
            continue
        if event.kind == conf.WebhookKind.RECORDING:
            add_recordings(room, event.recordings)
        else:
            store(room, event.kind.value, event.dedupe_key, event.intervals)
    return result


def add_recordings(room: Room, recordings: Iterable[conf.Recording]) -> None:
    """Each recording as a RECORDING material of the room's event, once per URL. Committed."""
    for recording in recordings:
        try:
            add_recording(room.event, _storable(recording.url), _storable(recording.title))
        except MaterialError as error:
            log.warning("conferencing: recording of room %s not added: %s", room.id, error)
    db.session.commit()


def store(room: Room, kind: str, dedupe_key: str,
          intervals: Iterable[conf.Interval]) -> ProviderReport | None:
    """Store a report once: a second one with the same key is ignored (None). Committed."""
    report = ProviderReport(room_id=room.id, kind=kind, dedupe_key=_storable(dedupe_key)[:255])
    report.intervals = [_row(room, i) for i in intervals]
    db.session.add(report)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return report


def _row(room: Room, interval: conf.Interval) -> ProviderInterval:
    interval = replace(interval, **{
        name: _storable(value) for name in ("person_key", "email", "name", "external_user_id")
        if isinstance(value := getattr(interval, name), str)})
    return ProviderInterval(
        room_id=room.id, person_id=_person_id(room, interval), joined_at=interval.joined_at,
        left_at=interval.left_at, name=(interval.name or None) and interval.name[:300],
        email=(interval.email or None) and interval.email[:254],
        external_user_id=(interval.external_user_id or None) and interval.external_user_id[:255])


def _person_id(room: Room, interval: conf.Interval) -> int | None:
    """The hub's person: our key echoed back ("p42"), their registration at the provider,
    else their email."""
    match = _PERSON_KEY.fullmatch(interval.person_key or "")
    if match:
        found = db.session.get(Person, int(match.group(1)))
        if found is not None:
            return found.id
    if interval.external_user_id:
        registered = db.session.scalar(select(RoomRegistration.person_id).where(
            RoomRegistration.room_id == room.id,
            RoomRegistration.external_id == interval.external_user_id))
        if registered is not None:
            return registered
    if interval.email:
        return db.session.scalar(select(Person.id).where(
            func.lower(Person.email) == interval.email.strip().lower()))
    return None


# -- fetching after the meeting ---------------------------------------------------------------


def _fetchable() -> list[Room]:
    now = utcnow()
    candidates = db.session.scalars(
        select(Room).join(Event, Event.id == Room.event_id).where(
            Room.state == RoomState.READY, Room.attendance_fetched_at.is_(None),
            Room.external_id.is_not(None), Event.end_at <= now - FETCH_AFTER,
            Event.end_at > now - FETCH_UNTIL).limit(50))
    return [r for r in candidates if _has_attendance_api(r.provider)]


def _has_attendance_api(key: str) -> bool:
    cls = conf.get(key)
    return cls is not None and cls.capabilities.attendance


def fetch_due() -> int:
    """Fetch the attendance of meetings that ended, from providers that report it (those whose
    report comes only by callback answer nothing, and nothing is stored). A provider that is
    down is asked again on a later pass. Returns how many rooms reported attendance."""
    fetched = 0
    for room in _fetchable():
        try:
            intervals = rooms.provider_for(room).fetch_attendance(rooms.as_value(room))
        except conf.ProviderUnavailable as error:
            log.info("conferencing: attendance of room %s postponed: %s", room.id, error)
            continue
        except conf.ProviderError as error:
            log.warning("conferencing: attendance of room %s failed: %s", room.id, error)
            room.attendance_fetched_at = utcnow()
            db.session.commit()
            continue
        room.attendance_fetched_at = utcnow()
        if not intervals:
            db.session.commit()
            continue
        previous = db.session.scalar(select(ProviderReport).where(
            ProviderReport.room_id == room.id, ProviderReport.dedupe_key == FETCHED))
        if previous is not None:
            db.session.delete(previous)
            db.session.flush()
        store(room, FETCHED, FETCHED, intervals)
        fetched += 1
    return fetched
