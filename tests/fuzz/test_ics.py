"""iCalendar the hub writes (hub/calendar/ics.py), for events and series whose texts hold any
unicode, line breaks, commas, semicolons, backslashes, control characters or pages of text:
lines are folded at 75 octets without cutting a character, icalendar reads it back, and the
texts, UID, DTSTART/DTEND with their TZID, the VTIMEZONEs and the rule come back right."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from hypothesis import example, given
from hypothesis import strategies as st

from hub.calendar import ics
from hub.scheduling import recurrence as rec
from hub.scheduling.models import Event, EventFormat, EventStatus, Series
from tests.fuzz.text import NASTY

ZONES = ("Europe/Moscow", "Asia/Yekaterinburg", "Asia/Krasnoyarsk", "Asia/Vladivostok",
         "Europe/Berlin", "UTC")
STAMP = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

#: Text as it reaches the hub (decoded from UTF-8, so never a lone surrogate).
_char = st.one_of(st.sampled_from(NASTY.replace("\ud800", "")), st.characters(codec="utf-8"))
texts = st.one_of(st.text(_char, max_size=200), st.text(_char, min_size=2000, max_size=6000))
names = st.text(_char, max_size=120)


def expected_text(value: str) -> str:
    """What a TEXT value reads back as: line breaks as \\n, other C0 controls and DEL gone."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", value)


def check_lines(data: bytes) -> str:
    """CRLF line ends, every line at most 75 octets of whole UTF-8 characters; the unfolded
    text."""
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")
    for line in data[:-2].split(b"\r\n"):
        assert len(line) <= 75, line
        line.decode("utf-8")
    return re.sub(rb"\r\n[ \t]", b"", data).decode("utf-8")


_starts = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2030, 12, 31)) \
    .map(lambda d: d.replace(second=0, microsecond=0, tzinfo=UTC))


@st.composite
def invitations(draw: st.DrawFn) -> tuple[Event, ics.Details, ics.Address]:
    zone = draw(st.sampled_from(ZONES))
    start = draw(_starts)
    event = Event(id=1, uid=f"{draw(st.uuids())}@vmeste-hub", title=draw(texts),
                  format=EventFormat.WEBINAR, description_html="", start_at=start,
                  end_at=start + timedelta(minutes=draw(st.integers(1, 31 * 24 * 60))),
                  timezone=zone, status=draw(st.sampled_from(EventStatus)), sequence=0,
                  updated_at=STAMP)
    details = ics.Details(
        description=draw(texts), url="https://hub.example.org/j/" + draw(
            st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=43, max_size=43)),
        attendee=ics.Attendee(email="teacher@example.org", name=draw(names),
                              role=draw(st.sampled_from(["CHAIR", "REQ-PARTICIPANT"]))),
        alarm=(draw(st.integers(1, 40320)), draw(texts)), conference_label=draw(names))
    return event, details, ics.Address("coordinator@example.org", draw(names))


@given(invitations())
@example((Event(id=1, uid="a@b", title="Круглый стол; «ДОУ»,\\n\r\n\x00\x1b" + "ё" * 80,
                format=EventFormat.WEBINAR, description_html="",
                start_at=datetime(2026, 12, 31, 20, 30, tzinfo=UTC),
                end_at=datetime(2027, 1, 1, 0, 0, tzinfo=UTC), timezone="Asia/Vladivostok",
                status=EventStatus.SCHEDULED, sequence=0, updated_at=STAMP),
          ics.Details(description="\\,;:\n" * 40, url="https://hub.example.org/j/x",
                      attendee=ics.Attendee("t@example.org", 'Иванова "Мария"\n: ; ,'),
                      conference_label="^'\\"),
          ics.Address("c@example.org", "")))
@example((Event(id=1, uid="a@b", title="", format=EventFormat.WEBINAR, description_html="",
                start_at=datetime(2026, 12, 3, 5, 0, tzinfo=UTC),
                end_at=datetime(2026, 12, 3, 6, 0, tzinfo=UTC), timezone="Europe/Moscow",
                status=EventStatus.SCHEDULED, sequence=0, updated_at=STAMP),
          ics.Details(description="", url="https://hub.example.org/j/x",
                      attendee=ics.Attendee("t@example.org", "0 =")),  # was read as "0="
          ics.Address("c@example.org", "")))
def test_an_invitation_reads_back_the_same(case):
    event, details, organizer = case
    data = ics.calendar_bytes([ics.event_vevent(event, details, dtstamp=STAMP,
                                                organizer=organizer, sent_by="hub@example.org")],
                              method=ics.REQUEST)
    check_lines(data)
    calendar = icalendar.Calendar.from_ical(data)
    [vevent] = calendar.walk("VEVENT")
    assert str(vevent["UID"]) == event.uid
    assert str(vevent["SUMMARY"]) == expected_text(event.title)
    assert str(vevent.get("DESCRIPTION", "")) == expected_text(details.description)
    assert str(vevent["LOCATION"]) == str(vevent["URL"]) == details.url
    assert vevent["ATTENDEE"].params.get("CN", "") == ics.safe_param(details.attendee.name)
    for name, moment in (("DTSTART", event.start_at), ("DTEND", event.end_at)):
        value = vevent[name].dt
        assert value == moment
        if event.timezone == "UTC":
            assert "TZID" not in vevent[name].params and value.utcoffset() == timedelta(0)
        else:
            assert vevent[name].params["TZID"] == event.timezone
            wall = moment.astimezone(ZoneInfo(event.timezone)).replace(tzinfo=None)
            assert value.replace(tzinfo=None) == wall
    assert calendar.get_missing_tzids() == set()
    for timezone in calendar.walk("VTIMEZONE"):
        kinds = {c.name for c in timezone.subcomponents}
        assert kinds == ({"STANDARD", "DAYLIGHT"} if timezone["TZID"] == "Europe/Berlin"
                         else {"STANDARD"})  # Russia: one offset since 2014
    alarms = vevent.walk("VALARM")
    if event.status == EventStatus.CANCELLED or details.alarm is None:
        assert alarms == []
    else:
        assert str(alarms[0]["DESCRIPTION"]) == expected_text(details.alarm[1] or event.title)


@st.composite
def series_cases(draw: st.DrawFn) -> tuple[Series, list[Event]]:
    zone = draw(st.sampled_from(ZONES[:4]))
    day = draw(st.dates(min_value=date(2026, 12, 1), max_value=date(2028, 12, 31)))
    first = datetime.combine(day, draw(st.times()).replace(second=0, microsecond=0),
                             tzinfo=ZoneInfo(zone)).astimezone(UTC)
    recurrence = rec.Recurrence(freq=rec.FREQ_WEEKLY, interval=draw(st.integers(1, 4)),
                                weekdays=[day.weekday()], count=draw(st.integers(1, 25)))
    rule = recurrence.to_rrule(zone)
    title = draw(texts)
    series = Series(id=1, uid=f"{draw(st.uuids())}@vmeste-hub", title=title, rrule=rule,
                    timezone=zone, first_start=first, duration_minutes=90, sequence=0,
                    updated_at=STAMP)
    events = []
    for number, start in enumerate(rec.expand(rule, first, zone), start=1):
        cancelled = draw(st.booleans()) if number > 1 else False
        events.append(Event(
            id=number, uid=series.uid, series=series, original_start=start, title=title,
            format=EventFormat.INTERNSHIP_SESSION, description_html="", start_at=start,
            end_at=start + timedelta(minutes=90), timezone=zone, sequence=0, updated_at=STAMP,
            status=EventStatus.CANCELLED if cancelled else EventStatus.SCHEDULED))
    return series, events


@given(series_cases())
def test_a_series_reads_back_with_its_rule_and_exceptions(case):
    series, events = case

    def describe(event: Event) -> ics.Details:
        return ics.Details(description=event.title, url="https://hub.example.org/events/1")

    data = ics.calendar_bytes(ics.series_vevents(series, events, describe, dtstamp=STAMP,
                                                 organizer=None), method=ics.PUBLISH)
    check_lines(data)
    [master] = icalendar.Calendar.from_ical(data).walk("VEVENT")
    assert str(master["UID"]) == series.uid
    assert unicodedata.normalize("NFC", str(master["SUMMARY"])) == unicodedata.normalize(
        "NFC", expected_text(series.title))
    assert master["DTSTART"].dt == series.first_start
    assert master["DTSTART"].params["TZID"] == series.timezone
    assert master["RRULE"]["COUNT"] == [len(events)]
    cancelled = {e.start_at for e in events if e.status == EventStatus.CANCELLED}
    exdates = {d.dt for value in ([master["EXDATE"]] if "EXDATE" in master else [])
               for d in value.dts}
    assert exdates == cancelled
