"""Helpers of the certificate and portfolio tests: credited records after an event."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import time_machine

from hub.attendance import services
from hub.attendance.models import Attendance
from hub.directory.models import Person
from hub.extensions import db
from hub.scheduling.models import Event


@contextmanager
def after(event: Event, minutes: int = 30) -> Iterator[None]:
    """The clock set to `minutes` after the event's end."""
    with time_machine.travel(event.end_at + timedelta(minutes=minutes)):
        yield


def attend(event: Event, person: Person, actor: Person, minutes: int | None = None) -> Attendance:
    """The person's record with an interval the organiser entered (the whole event by
    default), derived again now; committed."""
    record = services.record_of(event, person)
    end = event.end_at if minutes is None else event.start_at + timedelta(minutes=minutes)
    services.record_manual(record, event.start_at, end, "в зале", actor)
    db.session.commit()
    return record
