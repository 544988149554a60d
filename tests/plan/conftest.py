"""Fixtures of the plan and calendar tests: a network of two organisations (in two time zones)
with their coordinators, and events made straight in the database."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.directory.models import Network, Person
from hub.extensions import db
from hub.scheduling.models import (
    Event,
    EventAudience,
    EventFormat,
    EventHost,
    EventPerson,
    EventRole,
    EventStatus,
)

_seq = itertools.count(1)




def make_event(*, start: datetime, minutes: int = 90, status: EventStatus = EventStatus.SCHEDULED,
               format: EventFormat = EventFormat.WEBINAR, title: str | None = None,
               timezone: str = "Europe/Moscow", hosts: tuple = (), organisers: tuple = (),
               speakers: tuple = (), audience: tuple = (), network: Network | None = None,
               plan_item: Any = None, created_by: Person | None = None,
               open_registration: bool = False) -> Event:
    """An event as the scheduling pages would save it. `audience` holds organisations,
    networks and people."""
    n = next(_seq)
    event = Event(
        format=format, title=title or f"Вебинар № {n}", start_at=start,
        end_at=start + timedelta(minutes=minutes), timezone=timezone, status=status,
        network_id=network.id if network else None, open_registration=open_registration,
        plan_item_id=plan_item.id if plan_item is not None else None,
        created_by_id=created_by.id if created_by else None)
    event.hosts = [EventHost(organisation_id=o.id) for o in hosts]
    event.people = ([EventPerson(person_id=p.id, role=EventRole.ORGANISER) for p in organisers]
                    + [EventPerson(person_id=p.id, role=EventRole.SPEAKER) for p in speakers])
    targets = []
    for target in audience:
        if isinstance(target, Network):
            targets.append(EventAudience(network_id=target.id))
        elif isinstance(target, Person):
            targets.append(EventAudience(person_id=target.id))
        else:
            targets.append(EventAudience(organisation_id=target.id))
    event.audience = targets
    db.session.add(event)
    db.session.commit()
    return event


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def fresh(obj: Any) -> Any:
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)
