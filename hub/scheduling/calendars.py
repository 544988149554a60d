"""Whose events are whose: the queries behind the hub's calendars and the plan's counts.

- :func:`visible_to` is who may see an event, as a query: the scheduling services' rule (the event
  page's), so a calendar never lists an event its viewer cannot open.
- :func:`person_scope`, :func:`organisation_scope` and :func:`network_scope` say which events
  belong to a person's, an organisation's or a network's calendar.
- :func:`events_between` puts them together for a time range.

Plain functions over ``db.session``; they never change anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import selectinload

from hub.directory.models import Network, NetworkMember, Organisation, Person
from hub.extensions import db
from hub.scheduling.models import (
    Event,
    EventAudience,
    EventFormat,
    EventHost,
    EventPerson,
    EventRole,
    Invitation,
    InvitationState,
    PartStat,
    SeriesPerson,
)
from hub.scheduling.services import visibility

#: The most events one calendar page lists (a month of a busy network has about 50).
PAGE_EVENTS_MAX = 2000


def visible_to(viewer: Person) -> ColumnElement[bool]:
    """SQL condition on Event: the events `viewer` may open. The one rule is the scheduling
    services' (hub.scheduling.services.visibility, the event page's can_view_event as a query):
    drafts only for their organisers, host coordinators and municipal coordinators; other
    events for those they concern (invited, with a part, host or audience organisation, a whole
    network's audience) and open ones for everyone."""
    return visibility(viewer)


def is_visible(event: Event, viewer: Person) -> bool:
    """The same rule as :func:`visible_to`, for one event (asks the database)."""
    return db.session.scalar(
        select(Event.id).where(Event.id == event.id, visible_to(viewer))) is not None


def person_scope(person: Person) -> ColumnElement[bool]:
    """A person's own events: invited (or on the waiting list), with a part (organiser,
    speaker, moderator, mentor, intern), created by them, or in their program's cohort."""
    invited = exists().where(
        Invitation.event_id == Event.id, Invitation.person_id == person.id,
        Invitation.state != InvitationState.REMOVED)
    part = exists().where(EventPerson.event_id == Event.id, EventPerson.person_id == person.id)
    named = exists().where(EventAudience.event_id == Event.id,
                           EventAudience.person_id == person.id)
    cohort = and_(Event.series_id.is_not(None), exists().where(
        SeriesPerson.series_id == Event.series_id, SeriesPerson.person_id == person.id))
    return or_(invited, part, named, cohort, Event.created_by_id == person.id)


def organisation_scope(organisation: Organisation) -> ColumnElement[bool]:
    """An organisation's events: hosted by it, or with it in the audience (itself, or a network
    it is a member of)."""
    hosted = exists().where(EventHost.event_id == Event.id,
                            EventHost.organisation_id == organisation.id)
    member_of = select(NetworkMember.network_id).where(
        NetworkMember.organisation_id == organisation.id)
    audience = exists().where(
        EventAudience.event_id == Event.id,
        or_(EventAudience.organisation_id == organisation.id,
            EventAudience.network_id.in_(member_of)))
    return or_(hosted, audience)


def network_scope(network: Network) -> ColumnElement[bool]:
    """A network's events: held within it, or with the whole network in the audience."""
    audience = exists().where(EventAudience.event_id == Event.id,
                              EventAudience.network_id == network.id)
    return or_(Event.network_id == network.id, audience)


def events_between(scope: ColumnElement[bool], viewer: Person, start: datetime, end: datetime,
                   formats: Iterable[EventFormat] = (), limit: int = PAGE_EVENTS_MAX
                   ) -> list[Event]:
    """Events in `scope` that `viewer` may see and that overlap [start, end), by start time;
    at most `limit` of them."""
    chosen = list(formats)
    statement = (
        select(Event)
        .where(scope, visible_to(viewer), Event.start_at < end, Event.end_at > start)
        .options(selectinload(Event.hosts).selectinload(EventHost.organisation))
        .order_by(Event.start_at, Event.end_at, Event.id)
        .limit(limit)
    )
    if chosen:
        statement = statement.where(Event.format.in_(chosen))
    return list(db.session.scalars(statement))


def roles_of(person: Person, event_ids: Iterable[int]) -> dict[int, list[EventRole]]:
    """The parts `person` plays in each of the events (organiser, speaker, …)."""
    ids = list(event_ids)
    found: dict[int, list[EventRole]] = {}
    if not ids:
        return found
    rows = db.session.execute(
        select(EventPerson.event_id, EventPerson.role)
        .where(EventPerson.person_id == person.id, EventPerson.event_id.in_(ids))
        .order_by(EventPerson.role))
    for event_id, role in rows:
        found.setdefault(event_id, []).append(role)
    return found


def answers_of(person: Person, event_ids: Iterable[int]) -> dict[int, PartStat]:
    """`person`'s answer to each of the events they are invited to."""
    ids = list(event_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Invitation.event_id, Invitation.partstat)
        .where(Invitation.person_id == person.id, Invitation.event_id.in_(ids),
               Invitation.state != InvitationState.REMOVED))
    return {event_id: partstat for event_id, partstat in rows}
