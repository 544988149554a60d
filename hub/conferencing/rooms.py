"""Each event's room: asking for it, the worker that talks to the provider, and retries.

Scheduling calls `reconcile(event)` after it publishes, changes or cancels an event. That
only writes to the database (the room PENDING, with what to do), in the same transaction, so
an event is saved whatever the provider's state. The worker job (`process_due`, every pass
of the outbox worker loop) then claims due rooms with a compare-and-swap — like the outbox,
so several workers never work on one room — and calls the provider outside any transaction:

- it worked → READY (and, for providers with registration, the invitees are registered);
- ProviderUnavailable (down, timeout, 429, 5xx) → still PENDING, tried again after a back-off
  (CONFERENCING_BACKOFF_SECONDS · 2^(attempts − 1), capped, or the provider's Retry-After);
- any other ProviderError → FAILED with the message: the organiser sees it on the event page,
  fixes the settings and presses "try again" (`retry`).

Providers that need no network (Jitsi) are handled at once, in the request.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import random
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, or_, select, update

from hub.conferencing import accounts
from hub.conferencing.models import Room, RoomAction, RoomRegistration, RoomState
from hub.core.types import utcnow
from hub.directory.models import Person
from hub.extensions import db
from hub.scheduling.models import Event, EventFormat, EventStatus, Invitation, InvitationState
from hub.scheduling.validation import description_text
from integrations.conferencing import base as conf

log = logging.getLogger(__name__)

#: How long a worker holds a claimed room.
LEASE = timedelta(minutes=5)
#: Rooms a pass takes at most.
BATCH = 20


# -- what the provider is told -----------------------------------------------------------------


def room_spec(room: Room) -> conf.RoomSpec:
    event = room.event
    organiser = event.created_by
    return conf.RoomSpec(
        key=room.key, title=event.title, start=event.start_at, end=event.end_at,
        timezone=event.timezone, description=description_text(event.description_html),
        organiser_email=organiser.email if organiser is not None else None,
        webinar=event.format == EventFormat.WEBINAR,
        callback_url=_callback_url(room))


def _callback_url(room: Room) -> str | None:
    if room.account_id is None:
        return None
    from hub.auth.services import absolute_url

    return absolute_url("conferencing.hook", account_id=room.account_id)


def fingerprint(event: Event) -> str:
    """Changes to these make the worker update the room."""
    told = [event.title, event.start_at.isoformat(), event.end_at.isoformat(), event.timezone,
            event.description_html, int(event.format)]
    return hashlib.sha256(json.dumps(told).encode()).hexdigest()


def as_value(room: Room) -> conf.Room:
    return conf.Room(external_id=room.external_id, join_url=room.join_url,
                     data=dict(room.data or {}))


def provider_for(room: Room) -> conf.Provider:
    return accounts.make_provider(room.provider, room.account)


# -- asking ------------------------------------------------------------------------------------


def room_of(event: Event) -> Room | None:
    """The event's current room (not one being removed after a change of provider)."""
    return db.session.scalar(select(Room).where(
        Room.event_id == event.id, Room.action != RoomAction.DELETE).order_by(Room.id.desc()))


def _wants_room(event: Event) -> bool:
    return event.status == EventStatus.SCHEDULED and event.end_at > utcnow()


def _organisation_ids(event: Event) -> list[int]:
    ids = [h.organisation_id for h in event.hosts]
    if event.created_by is not None and event.created_by.organisation_id is not None:
        ids.append(event.created_by.organisation_id)
    return ids


def reconcile(event: Event) -> Room | None:
    """Make the event's room follow the event: made when it is scheduled, updated when its
    title or times change, replaced when the provider changes, removed when it is cancelled.
    Only writes to the database, except for providers that need no network (done at once)."""
    room = room_of(event)
    if room is not None and (room.provider != event.provider
                             or event.status == EventStatus.CANCELLED):
        _release(room)
        room = None
    if not _wants_room(event):
        return room
    if room is None:
        room = Room(event=event, provider=event.provider, data={},
                    account=accounts.account_for(event.provider, _organisation_ids(event)))
        db.session.add(room)
    elif room.synced_fingerprint == fingerprint(event) and room.state != RoomState.PENDING:
        return room  # READY and current, or FAILED and waiting for the organiser's retry
    _schedule(room, RoomAction.SYNC)
    db.session.flush()
    if not needs_network(room.provider):
        process(room)
    return room


def needs_network(key: str) -> bool:
    cls = conf.get(key)
    return cls is None or cls.needs_network


def _release(room: Room) -> None:
    """The room is no longer wanted: remove its conference at the provider, if one was made."""
    if room.external_id is None or not needs_network(room.provider):
        room.state, room.action = RoomState.DELETED, RoomAction.DELETE
    else:
        _schedule(room, RoomAction.DELETE)


def _schedule(room: Room, action: RoomAction) -> None:
    room.state, room.action = RoomState.PENDING, action
    room.attempts, room.next_attempt_at = 0, None
    room.last_error, room.last_error_at = "", None


def retry(room: Room) -> None:
    """The organiser's "try again": the worker takes the room on its next pass."""
    if room.state in (RoomState.FAILED, RoomState.PENDING):
        _schedule(room, RoomAction.DELETE if room.action == RoomAction.DELETE
                  else RoomAction.SYNC)
        db.session.flush()


# -- the worker --------------------------------------------------------------------------------


def _due(now: datetime):  # type: ignore[no-untyped-def]
    return and_(Room.state == RoomState.PENDING,
                or_(Room.next_attempt_at.is_(None), Room.next_attempt_at <= now),
                or_(Room.claimed_until.is_(None), Room.claimed_until < now))


def claim(now: datetime, limit: int = BATCH) -> list[Room]:
    """Take due rooms for this worker (compare-and-swap on the claim token) and commit."""
    query = select(Room.id).where(_due(now)).order_by(Room.next_attempt_at, Room.id).limit(limit)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(query))
    if not ids:
        db.session.rollback()
        return []
    token = secrets.token_hex(16)
    db.session.execute(update(Room).where(Room.id.in_(ids), _due(now))
                       .values(claim_token=token, claimed_until=now + LEASE)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    return list(db.session.scalars(select(Room).where(Room.claim_token == token)))


def process_due(now: datetime | None = None) -> int:
    """One pass of the worker: claim due rooms and talk to their providers. Returns how many
    rooms were handled."""
    rooms = claim(now or utcnow())
    for room in rooms:
        process(room)
        room.claim_token, room.claimed_until = None, None
        db.session.commit()
    return len(rooms)


def process(room: Room) -> None:
    """Do what the room is PENDING for, and record the outcome (not committed)."""
    try:
        if room.action == RoomAction.DELETE:
            _delete(room)
        else:
            _sync(room)
    except conf.ProviderUnavailable as error:
        _postpone(room, error)
    except conf.ProviderError as error:
        room.state = RoomState.FAILED
        _note_error(room, str(error))
        log.warning("conferencing: room %s (%s) failed: %s", room.id, room.provider, error)


def _sync(room: Room) -> None:
    event = room.event
    if room.provider != accounts.DEFAULT_PROVIDER and room.account_id is None:
        room.account = accounts.account_for(room.provider, _organisation_ids(event))
        if room.account is None and accounts.needs_account(room.provider):
            raise conf.ProviderConfigError(
                "None of the host organisations has settings for this conferencing service. "
                "Ask a coordinator to enter them on the organisation's page.")
    provider = provider_for(room)
    spec = room_spec(room)
    value = as_value(room)
    if room.external_id is not None:
        try:
            value = provider.update_room(spec, value)
        except conf.RoomGone:  # deleted at the provider: make a new one, register anew
            log.info("conferencing: room %s was gone at %s, making it again", room.id,
                     room.provider)
            db.session.execute(delete(RoomRegistration).where(RoomRegistration.room_id == room.id))
            value = conf.Room()
    if value.external_id is None:
        value = provider.create_room(spec, value)
    room.external_id, room.join_url, room.data = value.external_id, value.join_url, value.data
    room.synced_fingerprint = fingerprint(event)
    if provider.capabilities.registration:
        register_invitees(room, provider)
    room.state = RoomState.READY
    room.attempts, room.next_attempt_at = 0, None
    room.last_error, room.last_error_at = "", None


def _delete(room: Room) -> None:
    with contextlib.suppress(conf.RoomGone):  # already gone is what we wanted
        provider_for(room).delete_room(as_value(room))
    room.state = RoomState.DELETED
    room.last_error, room.last_error_at = "", None


def _postpone(room: Room, error: conf.ProviderError) -> None:
    room.attempts += 1
    config = current_app.config
    base = float(config.get("CONFERENCING_BACKOFF_SECONDS", 30.0))
    cap = float(config.get("CONFERENCING_BACKOFF_MAX_SECONDS", 3600.0))
    delay = min(cap, base * 2 ** (room.attempts - 1)) * random.uniform(0.8, 1.2)
    delay = max(delay, error.retry_after or 0.0)
    room.next_attempt_at = utcnow() + timedelta(seconds=delay)
    _note_error(room, str(error))
    log.info("conferencing: room %s (%s) will be retried in %.0f s: %s", room.id, room.provider,
             delay, error)


def _note_error(room: Room, message: str) -> None:
    room.last_error, room.last_error_at = message[:2000], utcnow()


# -- registration (providers whose personal links need registering) ----------------------------


def participant(person: Person, role: conf.Role,
                registered_url: str | None = None) -> conf.Participant:
    return conf.Participant(key=f"p{person.id}", name=person.full_name, email=person.email,
                            role=role, registered_url=registered_url)


def register_invitees(room: Room, provider: conf.Provider) -> int:
    """Register the invitees that are not registered yet; returns how many were."""
    done = set(db.session.scalars(select(RoomRegistration.person_id)
                                  .where(RoomRegistration.room_id == room.id)))
    invitations = db.session.scalars(select(Invitation).where(
        Invitation.event_id == room.event_id, Invitation.state == InvitationState.INVITED))
    people = [i.person for i in invitations if i.person_id not in done]
    return len(_register(room, provider, people))


def _register(room: Room, provider: conf.Provider,
              people: Sequence[Person]) -> list[RoomRegistration]:
    if not people:
        return []
    by_key = {f"p{p.id}": p for p in people}
    value = as_value(room)
    made = provider.register(value, [participant(p, conf.Role.ATTENDEE) for p in people])
    room.data = value.data  # the provider may keep its own mapping of registrants
    rows = [RoomRegistration(room_id=room.id, person_id=by_key[r.key].id, join_url=r.join_url,
                             external_id=r.external_id) for r in made if r.key in by_key]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def registration_of(room: Room, person: Person) -> str | None:
    """The person's registered join URL, registering them now if the provider needs it."""
    row = db.session.scalar(select(RoomRegistration).where(
        RoomRegistration.room_id == room.id, RoomRegistration.person_id == person.id))
    if row is not None:
        return row.join_url
    made = _register(room, provider_for(room), [person])
    return made[0].join_url if made else None


def reconcile_upcoming(limit: int | None = 200) -> int:
    """Give rooms to scheduled upcoming events that lack one (events scheduled before this
    feature, or by a path that did not ask); returns how many were asked for."""
    has_room = select(Room.id).where(Room.event_id == Event.id, Room.action != RoomAction.DELETE)
    events = db.session.scalars(select(Event).where(
        Event.status == EventStatus.SCHEDULED, Event.end_at > utcnow(), ~has_room.exists())
        .order_by(Event.start_at).limit(limit)).all()
    for event in events:
        reconcile(event)
    return len(events)
