"""Where a person's join link leads: the provider's URL for them, made at click time, so an
invitation never needs re-sending when a room is made late or changes."""

from __future__ import annotations

import logging

from hub.auth.permissions import can_edit_event
from hub.conferencing import rooms
from hub.conferencing.models import RoomState
from hub.directory.models import Person
from hub.scheduling.models import Event, EventRole
from integrations.conferencing import base as conf

log = logging.getLogger(__name__)

#: Parts in an event that make a person a host of its conference.
HOST_ROLES = frozenset({EventRole.ORGANISER, EventRole.SPEAKER, EventRole.MODERATOR,
                        EventRole.MENTOR})


def role_of(event: Event, person: Person) -> conf.Role:
    """Organisers, speakers, moderators and mentors (and those who may edit the event) host."""
    if any(p.person_id == person.id and p.role in HOST_ROLES for p in event.people):
        return conf.Role.HOST
    return conf.Role.HOST if can_edit_event(person, event) else conf.Role.ATTENDEE


def join_link(event: Event, person: Person) -> conf.JoinLink | None:
    """The provider's link for `person` into the event's room; None while the room is not
    ready (being made, or failed: the organiser has been told)."""
    room = rooms.room_of(event) or rooms.reconcile(event)
    if room is None or room.state != RoomState.READY:
        return None
    provider = rooms.provider_for(room)
    role = role_of(event, person)
    registered = None
    if provider.capabilities.registration and role == conf.Role.ATTENDEE:
        try:
            registered = rooms.registration_of(room, person)
        except conf.ProviderError as error:  # the room's shared link still lets them in
            log.warning("conferencing: registration in room %s failed: %s", room.id, error)
    try:
        return provider.join_link(rooms.as_value(room),
                                  rooms.participant(person, role, registered))
    except conf.ProviderError as error:
        log.warning("conferencing: no join link for room %s: %s", room.id, error)
        return None
