"""Scheduling fixtures: a network, a recorder of what is asked of the calendar domain, and
helpers to build event specs and form posts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

import pytest
from sqlalchemy import select

from hub.extensions import db
from hub.scheduling import notify
from hub.scheduling.models import Event, EventFormat, Invitation, InvitationState
from hub.scheduling.spec import EventSpec


@dataclass
class Calls:
    """What scheduling asked hub.calendar.invitations to send, in order."""

    log: list[tuple[str, Any, list[int]]] = field(default_factory=list)

    def of(self, kind: str) -> list[tuple[Any, list[int]]]:
        return [(target, ids) for k, target, ids in self.log if k == kind]

    def kinds(self) -> list[str]:
        return [k for k, _t, _i in self.log]

    def clear(self) -> None:
        self.log.clear()


@pytest.fixture(autouse=True)
def calendar_calls(monkeypatch) -> Calls:  # type: ignore[no-untyped-def]
    """Record the calls of hub.scheduling.notify instead of queueing letters (the calendar
    domain's tests cover the letters; test_calendar_handoff.py runs the real thing)."""
    calls = Calls()

    def record(kind: str):  # type: ignore[no-untyped-def]
        def call(target, invitations=None):  # type: ignore[no-untyped-def]
            ids = [i.person_id for i in invitations] if invitations is not None else []
            calls.log.append((kind, target, ids))
            if kind == "cancellations":
                for invitation in invitations or ():
                    invitation.state = InvitationState.REMOVED
        return call

    for kind in ("requests", "cancellations"):
        monkeypatch.setattr(notify, kind, _only_when_any(record(kind)))
    monkeypatch.setattr(notify, "updates", lambda target: record("updates")(target))
    monkeypatch.setattr(notify, "event_cancelled",
                        lambda target: record("event_cancelled")(target))
    return calls


def _only_when_any(call):  # type: ignore[no-untyped-def]
    def wrapped(target, invitations):  # type: ignore[no-untyped-def]
        if invitations:
            call(target, invitations)
    return wrapped




NEXT_YEAR = date.today().year + 1


def last_sunday(year: int, month: int) -> date:
    """The last Sunday of a month (Europe's DST changes: March and October)."""
    return max(date(year, month, d) for d in range(22, 32 if month in (3, 10) else 29)
               if date(year, month, d).weekday() == 6)


def spec(**values: Any) -> EventSpec:
    """A valid EventSpec: a webinar next year, 15:00–16:30 in Europe/Moscow."""
    data: dict[str, Any] = {
        "format": EventFormat.WEBINAR,
        "title": "Вебинар «Чем занять ребёнка дома»",
        "timezone": "Europe/Moscow",
        "start_date": date(NEXT_YEAR, 2, 10),
        "start_time": time(15, 0),
        "end_time": time(16, 30),
    }
    data.update(values)
    return EventSpec(**data)


def invited(event: Event, state: InvitationState = InvitationState.INVITED) -> set[int]:
    """Person ids with an invitation in `state`."""
    db.session.flush()
    return set(db.session.scalars(select(Invitation.person_id).where(
        Invitation.event_id == event.id, Invitation.state == state)))


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def form_data(**overrides: Any) -> dict[str, Any]:
    """A valid POST of the event form (a single event next year); `hosts` must be given."""
    data: dict[str, Any] = {
        "format": str(int(EventFormat.SEMINAR_PRACTICUM)),
        "title": "Семинар-практикум «Образовательная робототехника в ДОУ»",
        "description": "Программа: Bee-Bot, LEGO.\n\nВедущие — педагоги ДОУ.",
        "timezone": "Europe/Moscow",
        "start_date": f"{NEXT_YEAR}-02-10",
        "start_time": "15:00",
        "end_date": "",
        "end_time": "16:30",
        "network_id": "",
        "speakers": "",
        "moderators": "",
        "audience_people": "",
        "capacity": "",
        "credit_hours": "",
        "board_enabled": "y",
        "reminder_minutes": "1440, 60",
        "repeat": "",
        "interval": "1",
        "monthly_setpos": "",
        "ends": "count",
        "until": "",
        "count": "",
        "cohort": "",
        "save": "Save as draft",
    }
    data.update(overrides)
    return data
