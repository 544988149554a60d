"""Conflicts: a warning, never a block, when an event overlaps another scheduled event of one
of its speakers, moderators or organisers, or of one of its organisations (hosts and invited
organisations, a whole network's members included).

Two queries whatever the number of sessions: the candidates in the whole time span of the
sessions, then the exact overlaps in Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from hub.directory.models import NetworkMember, Organisation, Person
from hub.extensions import db
from hub.scheduling.models import Event, EventAudience, EventHost, EventPerson, EventStatus

#: At most this many conflicts are reported (the form says "and N more").
REPORT_MAX = 20


@dataclass(frozen=True)
class Conflict:
    """`who` (a person or an organisation) is also in `event`, which overlaps a session."""

    event: Event
    person: Person | None = None
    organisation: Organisation | None = None

    @property
    def who(self) -> str:
        if self.person is not None:
            return self.person.full_name
        assert self.organisation is not None
        return self.organisation.short_name


def _overlaps(event: Event, intervals: Sequence[tuple[datetime, datetime]]) -> bool:
    return any(event.start_at < end and event.end_at > start for start, end in intervals)


def network_member_ids(network_ids: Iterable[int]) -> set[int]:
    ids = list(network_ids)
    if not ids:
        return set()
    return set(db.session.scalars(select(NetworkMember.organisation_id)
                                  .where(NetworkMember.network_id.in_(ids))))


def find_conflicts(intervals: Sequence[tuple[datetime, datetime]], *,
                   person_ids: Iterable[int] = (), organisation_ids: Iterable[int] = (),
                   exclude_event_ids: Iterable[int] = (), exclude_series_id: int | None = None
                   ) -> list[Conflict]:
    """Scheduled events overlapping any of `intervals` that share a person (speaker, moderator,
    organiser, mentor, intern) or an organisation (host, or in the audience directly or through
    a network). The event itself and its own series are left out."""
    people, orgs = set(person_ids), set(organisation_ids)
    if not intervals or not (people or orgs):
        return []
    low = min(start for start, _end in intervals)
    high = max(end for _start, end in intervals)
    ea = EventAudience
    shares = []
    if people:
        shares.append(Event.id.in_(select(EventPerson.event_id)
                                   .where(EventPerson.person_id.in_(people))))
    if orgs:
        shares.append(Event.id.in_(select(EventHost.event_id)
                                   .where(EventHost.organisation_id.in_(orgs))))
        shares.append(Event.id.in_(select(ea.event_id).where(ea.organisation_id.in_(orgs))))
        shares.append(Event.id.in_(
            select(ea.event_id).join(NetworkMember, NetworkMember.network_id == ea.network_id)
            .where(NetworkMember.organisation_id.in_(orgs))))
    statement = (
        select(Event)
        .where(Event.status == EventStatus.SCHEDULED, Event.start_at < high,
               Event.end_at > low, or_(*shares))
        .options(selectinload(Event.people).selectinload(EventPerson.person),
                 selectinload(Event.hosts).selectinload(EventHost.organisation),
                 selectinload(Event.audience))
        .order_by(Event.start_at, Event.id)
    )
    excluded = set(exclude_event_ids)
    if excluded:
        statement = statement.where(Event.id.not_in(excluded))
    if exclude_series_id is not None:
        statement = statement.where(or_(Event.series_id.is_(None),
                                        Event.series_id != exclude_series_id))
    candidates = [e for e in db.session.scalars(statement) if _overlaps(e, intervals)]
    if not candidates:
        return []
    network_ids = {a.network_id for e in candidates for a in e.audience if a.network_id}
    members: dict[int, set[int]] = {}
    if network_ids:
        for network_id, org_id in db.session.execute(
                select(NetworkMember.network_id, NetworkMember.organisation_id)
                .where(NetworkMember.network_id.in_(network_ids))):
            members.setdefault(network_id, set()).add(org_id)
    wanted_orgs = {o.id: o for o in db.session.scalars(
        select(Organisation).where(Organisation.id.in_(orgs)))} if orgs else {}
    found: list[Conflict] = []
    for event in candidates:
        seen_people: set[int] = set()
        for part in event.people:
            if part.person_id in people and part.person_id not in seen_people:
                seen_people.add(part.person_id)
                found.append(Conflict(event=event, person=part.person))
        involved = {h.organisation_id for h in event.hosts}
        for item in event.audience:
            if item.organisation_id:
                involved.add(item.organisation_id)
            if item.network_id:
                involved |= members.get(item.network_id, set())
        for org_id in sorted(involved & orgs):
            found.append(Conflict(event=event, organisation=wanted_orgs[org_id]))
    return found
