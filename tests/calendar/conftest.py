"""Calendar fixtures: events, series with their occurrences, invitations; helpers to expand
invitation batches and deliver the outbox to the loopback SMTP server."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from email.message import Message
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from flask import Flask

from hub.calendar.invitations import new_invitation, run_batches
from hub.directory.models import Person
from hub.extensions import db
from hub.outbox.worker import drain
from hub.scheduling.models import (
    Event,
    EventFormat,
    EventPerson,
    EventRole,
    EventStatus,
    Invitation,
    Series,
)

ZONES = ("Europe/Moscow", "Asia/Yekaterinburg", "Asia/Krasnoyarsk", "Asia/Vladivostok")


def at(zone: str, *args: int) -> datetime:
    """A wall-clock time in `zone`, as an aware UTC datetime."""
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.fixture
def make_event(people):  # type: ignore[no-untyped-def]
    """An event hosted by the coordinator (ORGANISER), SCHEDULED unless told otherwise."""

    def make(title: str = "Семинар-практикум «Образовательная робототехника в ДОУ»",
             zone: str = "Asia/Yekaterinburg", start: datetime | None = None,
             minutes: int = 90, organiser: Person | None = None, **values) -> Event:  # type: ignore[no-untyped-def]
        start = start or at(zone, 2026, 12, 3, 10, 0)
        event = Event(
            title=title, format=values.pop("format", EventFormat.SEMINAR_PRACTICUM),
            description_html=values.pop(
                "description_html", "<p>Программа: <b>Bee-Bot</b> &amp; LEGO.</p>"),
            start_at=start, end_at=start + timedelta(minutes=minutes), timezone=zone,
            status=values.pop("status", EventStatus.SCHEDULED),
            created_by=organiser or people.coordinator, **values)
        event.people.append(EventPerson(person=organiser or people.coordinator,
                                        role=EventRole.ORGANISER))
        db.session.add(event)
        db.session.commit()
        return event

    return make


@pytest.fixture
def make_series(people):  # type: ignore[no-untyped-def]
    """A series and an Event row for each occurrence its RRULE gives."""

    def make(rrule: str = "FREQ=WEEKLY;BYDAY=TU;COUNT=8", zone: str = "Asia/Vladivostok",
             first: datetime | None = None, minutes: int = 60,
             title: str = "Занятие цифровой интернатуры", **values) -> Series:  # type: ignore[no-untyped-def]
        first = first or at(zone, 2026, 12, 15, 15, 0)
        series = Series(title=title, rrule=rrule, timezone=zone, first_start=first,
                        duration_minutes=minutes, is_program=True,
                        created_by_id=people.coordinator.id, **values)
        db.session.add(series)
        db.session.flush()  # the UID its occurrences share
        local_first = first.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        rule = rrulestr(rrule.replace("Z", "") if "UNTIL" in rrule else rrule,
                        dtstart=local_first)
        for local_start in list(rule)[:400]:
            start = local_start.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
            event = Event(uid=series.uid, series=series, original_start=start, title=title,
                          format=EventFormat.INTERNSHIP_SESSION, description_html="",
                          start_at=start, end_at=start + timedelta(minutes=minutes),
                          timezone=zone, status=EventStatus.SCHEDULED,
                          created_by=people.coordinator)
            event.people.append(EventPerson(person=people.coordinator,
                                            role=EventRole.ORGANISER))
            db.session.add(event)
        db.session.commit()
        return series

    return make


@pytest.fixture
def invite():  # type: ignore[no-untyped-def]
    """Invitations of these people to this event (or every occurrence of a series)."""

    def make(target: Event | Series, people_: Iterable[Person]) -> list[Invitation]:
        events = target.events if isinstance(target, Series) else [target]
        rows = [new_invitation(event, person) for person in people_ for event in events]
        db.session.commit()
        return rows

    return make


@pytest.fixture
def deliver(app: Flask) -> Callable[[], int]:
    """Expand the invitation batches (the worker job) and send the outbox; returns how many
    letters the batches made."""

    def run() -> int:
        db.session.commit()
        with app.app_context():
            made = run_batches()
            drain()
        db.session.expire_all()
        return made

    return run


def leaves(message: Message) -> list[Message]:
    return [part for part in message.walk() if not part.is_multipart()]


def calendar_part(message: Message) -> tuple[str, bytes]:
    """(method, bytes) of the text/calendar alternative."""
    part = next(p for p in leaves(message) if p.get_content_type() == "text/calendar")
    return part.get_param("method"), part.get_payload(decode=True)
