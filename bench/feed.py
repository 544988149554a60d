"""A person's subscribable feed (/feeds/<token>.ics) with 300 events in a year.

Events in the four zones of DESIGN.md, including a weekly series of 30 sessions (one cancelled,
one moved), the person invited to all of them. Measured: building the feed as the view does
(database reads + iCalendar), against a baseline that reads the same events the same way and
serialises them as JSON with no iCalendar work. Median of 7 runs after a warm-up.

    .venv/bin/python bench/feed.py        (BENCH_DATABASE_URL=postgresql://… for PostgreSQL)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from _setup import bench_app, organisation, people, timed

from hub.calendar.feeds import person_calendar, person_events
from hub.calendar.invitations import new_invitation
from hub.extensions import db
from hub.scheduling.models import (
    Event,
    EventFormat,
    EventPerson,
    EventRole,
    EventStatus,
    Series,
)

ZONES = ("Europe/Moscow", "Asia/Yekaterinburg", "Asia/Krasnoyarsk", "Asia/Vladivostok")
EVENTS = 300
SERIES_SESSIONS = 30


def build(now: datetime) -> tuple:  # type: ignore[type-arg]
    org = organisation()
    organiser, reader = people(org, 2)
    formats = list(EventFormat)
    events: list[Event] = []
    series = Series(title="Занятие цифровой педагогической интернатуры", timezone=ZONES[3],
                    rrule=f"FREQ=WEEKLY;BYDAY=TU;COUNT={SERIES_SESSIONS}",
                    first_start=datetime(2026, 9, 1, 15, tzinfo=ZoneInfo(ZONES[3])),
                    duration_minutes=60, is_program=True)
    db.session.add(series)
    db.session.flush()
    for n in range(SERIES_SESSIONS):
        start = series.first_start + timedelta(weeks=n)
        events.append(Event(uid=series.uid, series=series, original_start=start,
                            title=series.title, format=EventFormat.INTERNSHIP_SESSION,
                            start_at=start, end_at=start + timedelta(hours=1),
                            timezone=ZONES[3], status=EventStatus.SCHEDULED))
    events[7].status = EventStatus.CANCELLED
    events[12].start_at += timedelta(days=1)
    events[12].end_at += timedelta(days=1)
    events[12].detached = True
    for n in range(EVENTS - SERIES_SESSIONS):
        zone = ZoneInfo(ZONES[n % 4])
        day = datetime(2026, 9, 1, tzinfo=zone) + timedelta(days=n * 365 // EVENTS)
        start = day.replace(hour=9 + n % 8, minute=(n * 15) % 60)
        events.append(Event(
            title=f"Семинар-практикум № {n} «Образовательная робототехника в ДОУ» 🤖",
            format=formats[n % len(formats)],
            description_html="<p>Программа: знакомство с <b>Bee-Bot</b>, практикум, "
                             "обсуждение; материалы в методическом банке.</p>",
            start_at=start.astimezone(UTC), end_at=(start + timedelta(minutes=90)).astimezone(UTC),
            timezone=ZONES[n % 4], status=EventStatus.SCHEDULED))
    for event in events:
        event.people.append(EventPerson(person=organiser, role=EventRole.ORGANISER))
        event.created_by = organiser
        db.session.add(event)
    db.session.flush()
    for event in events:
        new_invitation(event, reader)
    db.session.commit()
    return reader, events


def baseline(reader, now: datetime) -> bytes:  # type: ignore[no-untyped-def]
    """The same reads, serialised as JSON: what the feed costs without iCalendar."""
    events, invitations = person_events(reader, now)
    rows = [{"uid": e.uid, "title": e.title, "start": e.start_at.isoformat(),
             "end": e.end_at.isoformat(), "timezone": e.timezone, "status": e.status.name,
             "description": e.description_html, "recurrence_id":
             e.original_start.isoformat() if e.original_start else None,
             "partstat": invitations[e.id].partstat.name if e.id in invitations else None,
             "organiser": [p.person.email for p in e.people]}
            for e in sorted(events, key=lambda e: e.start_at)]
    return json.dumps(rows, ensure_ascii=False).encode()


def main() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with bench_app():
        reader, events = build(now)
        data = person_calendar(reader, now)
        vevents = data.count(b"BEGIN:VEVENT")
        assert len(person_events(reader, now)[0]) == EVENTS
        db.session.expire_all()
        feed_ms = timed(lambda: (db.session.expire_all(), person_calendar(reader, now)))
        base_ms = timed(lambda: (db.session.expire_all(), baseline(reader, now)))
        print(f"feed: {EVENTS} events ({SERIES_SESSIONS} of them one weekly series: "
              f"{vevents} VEVENTs), {len(data) / 1024:.0f} KiB of iCalendar; "
              f"JSON baseline {len(baseline(reader, now)) / 1024:.0f} KiB")
        print(f"feed events={EVENTS} ms={feed_ms:.1f} baseline_ms={base_ms:.1f} "
              f"ratio={feed_ms / base_ms:.1f}")


if __name__ == "__main__":
    main()
