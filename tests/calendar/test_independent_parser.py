"""Another program reads what the hub writes the same way: Mozilla's ical.js (Thunderbird's
parser) computes every start and end instant from the VTIMEZONEs in our files, expands our
series (RRULE, EXDATE, RECURRENCE-ID overrides), and each instant must be the one zoneinfo
gives for the wall-clock time in the event's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.calendar.feeds import event_calendar, person_calendar
from hub.calendar.invitations import queue_requests, queue_updates
from hub.extensions import db
from hub.scheduling.models import EventStatus, Series
from tests.calendar.conftest import ZONES, at, calendar_part
from tests.calendar.icaljs import icaljs, instant

#: Wall-clock starts that stress the conversion: the small hours, late evening (another UTC
#: date), New Year's Eve, a summer day.
WALL_TIMES = [(2026, 12, 31, 23, 30), (2027, 1, 1, 0, 15), (2026, 12, 3, 9, 0),
              (2027, 7, 15, 18, 45)]


def occurrences_in_db(series: Series, person_events: set[int] | None = None) -> list[tuple]:
    """(recurrence-id, start, end) of every live occurrence, from the rows."""
    db.session.refresh(series)
    return sorted(
        (e.original_start, e.start_at, e.end_at) for e in series.events
         if e.status != EventStatus.CANCELLED
         and (person_events is None or e.id in person_events))


def occurrences_in_icaljs(result: dict, uid: str) -> list[tuple]:
    return sorted((instant(o["recurrenceId"]), instant(o["start"]), instant(o["end"]))
                  for o in result["occurrences"][uid] if o["status"] != "CANCELLED")


def wall(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


@pytest.mark.parametrize("zone", ZONES)
def test_single_events_in_every_zone(zone, make_event):
    events = [make_event(title=f"Вебинар {zone} {n}", zone=zone, start=at(zone, *when),
                         minutes=95) for n, when in enumerate(WALL_TIMES)]
    results = icaljs(*(event_calendar(e) for e in events))
    for event, when, result in zip(events, WALL_TIMES, results, strict=True):
        assert result["method"] == "PUBLISH" and result["timezones"] == [zone]
        [parsed] = result["events"]
        start = datetime(*when, tzinfo=ZoneInfo(zone))
        assert instant(parsed["start"]) == start  # zoneinfo's instant of that wall time
        assert instant(parsed["end"]) == start + timedelta(minutes=95)
        assert instant(parsed["start"]) == event.start_at
        assert parsed["startZone"] == parsed["endZone"] == zone
        assert parsed["uid"] == event.uid and parsed["summary"] == event.title


def _series_with_changes(make_series, zone: str, rrule: str, first: datetime) -> Series:
    """A series with one cancelled and one moved (detached) occurrence."""
    series = make_series(rrule=rrule, zone=zone, first=first, minutes=90)
    rows = sorted(series.events, key=lambda e: e.original_start)
    rows[2].status = EventStatus.CANCELLED
    moved = rows[4]
    moved.start_at = moved.original_start + timedelta(days=1, hours=2)
    moved.end_at = moved.start_at + timedelta(minutes=45)
    moved.detached = True
    moved.title = "Занятие перенесено: «Мульти-пульти»"
    moved.sequence = 1
    db.session.commit()
    return series


RULES = [
    "FREQ=WEEKLY;BYDAY=TU;COUNT=10",  # weekly, across New Year
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;UNTIL=20270301T000000Z",  # every two weeks, two days
    "FREQ=MONTHLY;BYDAY=2TH;COUNT=7",  # monthly by weekday
]


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("rule", RULES)
def test_series_expand_to_the_occurrences_in_the_database(zone, rule, make_series, people,
                                                          invite):
    series = _series_with_changes(make_series, zone, rule, at(zone, 2026, 12, 1, 8, 30))
    invite(series, [people.teacher])
    [result] = icaljs(person_calendar(people.teacher))
    expected = occurrences_in_db(series)
    assert len(expected) >= 6
    assert occurrences_in_icaljs(result, series.uid) == expected
    for recurrence_id, start, _end in expected:  # and each is the wall time zoneinfo says
        assert wall(recurrence_id, zone).time() == datetime(2026, 1, 1, 8, 30).time()
        assert start.tzinfo is not None
    master = next(e for e in result["events"] if e["recurrenceId"] is None)
    assert master["rrule"] and master["startZone"] == zone
    assert len(master["exdates"]) == 1
    moved = next(e for e in result["events"] if e["recurrenceId"] is not None)
    assert moved["summary"] == "Занятие перенесено: «Мульти-пульти»"
    assert moved["recurrenceIdZone"] == zone


def test_a_series_across_a_daylight_saving_change_keeps_its_wall_time(make_series, people,
                                                                      invite):
    zone = "Europe/Berlin"
    series = make_series(rrule="FREQ=WEEKLY;BYDAY=WE;COUNT=8", zone=zone,
                         first=at(zone, 2026, 10, 7, 10, 0))
    invite(series, [people.teacher])
    [result] = icaljs(person_calendar(people.teacher))
    found = occurrences_in_icaljs(result, series.uid)
    assert found == occurrences_in_db(series)
    offsets = {start.astimezone(ZoneInfo(zone)).utcoffset() for _, start, _ in found}
    assert offsets == {timedelta(hours=2), timedelta(hours=1)}  # CEST, then CET
    assert {wall(start, zone).hour for _, start, _ in found} == {10}


@pytest.mark.parametrize("zone", ZONES)
def test_invitation_letters_read_by_icaljs(zone, smtp_server, people, make_event, make_series,
                                          invite, deliver):
    event = make_event(zone=zone, start=at(zone, 2026, 12, 31, 23, 0))
    queue_requests(event, invite(event, [people.teacher, people.other_teacher]))
    series = _series_with_changes(make_series, zone, RULES[0], at(zone, 2026, 12, 8, 19, 0))
    invitations = invite(series, [people.teacher])
    # The teacher is not invited to one session: it is an EXDATE of their copy.
    skipped = sorted(series.events, key=lambda e: e.original_start)[6]
    for invitation in invitations:
        if invitation.event_id == skipped.id:
            db.session.delete(invitation)
    mine = {i.event_id for i in invitations if i.event_id != skipped.id}
    queue_requests(series, [i for i in invitations if i.event_id != skipped.id])
    deliver()
    assert len(smtp_server.messages) == 3
    results = icaljs(*(calendar_part(m)[1] for m in smtp_server.messages))
    for message, result in zip(smtp_server.messages, results, strict=True):
        assert result["method"] == "REQUEST"
        [attendee] = result["events"][0]["attendees"]
        assert attendee["value"].removeprefix("mailto:") in message["To"]
        if result["events"][0]["rrule"]:
            assert occurrences_in_icaljs(result, series.uid) == occurrences_in_db(series, mine)
        else:
            [parsed] = result["events"]
            assert instant(parsed["start"]) == datetime(2026, 12, 31, 23, 0,
                                                        tzinfo=ZoneInfo(zone))
            assert instant(parsed["end"]) == event.end_at


def test_an_occurrence_update_is_read_as_that_occurrence(smtp_server, people, make_series,
                                                         invite, deliver):
    zone = "Asia/Krasnoyarsk"
    series = make_series(zone=zone, first=at(zone, 2026, 12, 22, 14, 0))
    queue_requests(series, invite(series, [people.teacher]))
    deliver()
    occurrence = sorted(series.events, key=lambda e: e.original_start)[1]
    occurrence.start_at += timedelta(hours=3)
    occurrence.end_at += timedelta(hours=3)
    occurrence.detached = True
    occurrence.sequence += 1
    queue_updates(occurrence)
    deliver()
    [first, update] = icaljs(*(calendar_part(m)[1] for m in smtp_server.messages))
    [parsed] = update["events"]
    assert parsed["uid"] == series.uid
    assert instant(parsed["recurrenceId"]) == occurrence.original_start
    assert instant(parsed["start"]) == occurrence.start_at
    assert wall(occurrence.start_at, zone).hour == 17
    assert parsed["sequence"] > first["events"][0]["sequence"]


def test_a_full_feed_of_many_events_in_four_zones(make_event, people, invite):
    events = []
    start = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)
    for n in range(60):
        zone = ZONES[n % 4]
        event = make_event(title=f"Событие {n} «Цифровая лаборатория», 🚀", zone=zone,
                           start=start + timedelta(days=n * 3, minutes=17 * n))
        events.append(event)
    invite_rows = [row for event in events for row in invite(event, [people.teacher])]
    assert len(invite_rows) == 60
    [result] = icaljs(person_calendar(people.teacher, now=start))
    assert result["method"] is None and sorted(result["timezones"]) == sorted(ZONES)
    by_uid = {e["uid"]: e for e in result["events"]}
    for event in events:
        parsed = by_uid[event.uid]
        assert instant(parsed["start"]) == event.start_at
        assert instant(parsed["end"]) == event.end_at
        assert parsed["startZone"] == event.timezone
