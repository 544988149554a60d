"""The iCalendar the hub writes, read back by Python's icalendar and checked line by line: RFC
5545 folding, escaping, VTIMEZONE per TZID, the rule's UNTIL, Outlook's SEQUENCE/DTSTAMP."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from hub.calendar import ics
from hub.calendar.feeds import event_calendar
from hub.extensions import db
from tests.calendar.conftest import ZONES, at

NASTY = [
    'Круглый стол "Преемственность детского сада и школы"',
    "Мастер-класс: мультфильмы, пластилин; камера\\штатив",
    "Вебинар для родителей 🙂🎉 «Чем занять ребёнка дома» — ёлочки, ЁЖ",
    "Семинар-практикум " + "«Образовательная робототехника в ДОУ» 🤖 " * 7,
]
NASTY.append(("Методическая неделя по ранней профориентации; «Растим инженеров», 🚒 "
              * 5)[:300])


def lines(data: bytes) -> list[bytes]:
    assert data.endswith(b"\r\n")
    return data[:-2].split(b"\r\n")


def unfold(data: bytes) -> str:
    return re.sub(rb"\r\n[ \t]", b"", data).decode("utf-8")


def test_lines_end_in_crlf_fold_at_75_octets_and_never_split_a_character(make_event):
    for title in NASTY:
        event = make_event(title=title, description_html=f"<p>{title}</p>" * 3)
        data = event_calendar(event)
        assert b"\n" not in data.replace(b"\r\n", b"")  # no bare LF
        for line in lines(data):
            assert len(line) <= 75, line
            line.decode("utf-8")  # every physical line is valid UTF-8 on its own
        assert len(title.encode()) > 75 or title == NASTY[0]
        parsed = icalendar.Calendar.from_ical(data)
        [vevent] = parsed.walk("VEVENT")
        assert str(vevent["SUMMARY"]) == title  # quotes, commas, semicolons, backslash intact
        assert len(str(vevent["SUMMARY"])) <= 300


def test_escaping_of_text_values(make_event):
    event = make_event(title=NASTY[1])
    text = unfold(event_calendar(event))
    assert "SUMMARY:Мастер-класс: мультфильмы\\, пластилин\\; камера\\\\штатив" in text


def test_a_vtimezone_for_every_tzid_and_times_in_the_events_zone(make_event, make_series):
    for zone in ZONES:
        event = make_event(zone=zone, start=at(zone, 2026, 12, 31, 23, 30))
        parsed = icalendar.Calendar.from_ical(event_calendar(event))
        [vevent] = parsed.walk("VEVENT")
        assert vevent["DTSTART"].params["TZID"] == zone
        assert vevent["DTSTART"].dt.replace(tzinfo=None) == datetime(2026, 12, 31, 23, 30)
        assert vevent["DTSTART"].dt.astimezone(UTC) == event.start_at
        assert [str(tz["TZID"]) for tz in parsed.walk("VTIMEZONE")] == [zone]
        assert parsed.get_missing_tzids() == set()
        # Russia has kept one offset since 2014: one STANDARD observance, nothing else.
        [tz] = parsed.walk("VTIMEZONE")
        assert [c.name for c in tz.subcomponents] == ["STANDARD"]
        assert vevent["DTSTAMP"].dt.tzinfo is not None
        assert unfold(event_calendar(event)).count("DTSTAMP:") == 1
        assert re.search(r"DTSTAMP:\d{8}T\d{6}Z", unfold(event_calendar(event)))


def test_a_zone_with_daylight_saving_gets_its_transitions(make_event):
    event = make_event(zone="Europe/Berlin", start=at("Europe/Berlin", 2026, 10, 20, 10, 0))
    parsed = icalendar.Calendar.from_ical(event_calendar(event))
    [tz] = parsed.walk("VTIMEZONE")
    kinds = {c.name for c in tz.subcomponents}
    assert kinds == {"STANDARD", "DAYLIGHT"}


def test_series_rule_until_is_utc_and_a_rule_without_end_is_closed(make_series):
    series = make_series(rrule="FREQ=WEEKLY;BYDAY=TU;UNTIL=20270126", zone="Asia/Vladivostok")
    rule = ics.series_rule(series)
    assert rule["UNTIL"][0] == datetime(2027, 1, 26, 23, 59, 59).replace(
        tzinfo=ics.event_zone("Asia/Vladivostok")).astimezone(UTC)
    series.rrule = "FREQ=WEEKLY;BYDAY=TU"
    last = series.first_start + timedelta(weeks=10)
    assert ics.series_rule(series, last)["UNTIL"] == [last]
    series.rrule = "RRULE:FREQ=DAILY;COUNT=3"
    assert "UNTIL" not in ics.series_rule(series)


def test_html_description_becomes_plain_text():
    text = ics.html_to_text("<p>Программа:</p><ul><li>Bee-Bot &amp; LEGO</li><li>итоги</li></ul>"
                            "<script>alert(1)</script><p>Ссылка<br>вторая строка</p>")
    assert text == "Программа:\n• Bee-Bot & LEGO\n• итоги\nСсылка\nвторая строка"
    assert ics.html_to_text("") == ""


def test_parameter_values_lose_double_quotes_and_control_characters():
    assert ics.safe_param('Иванова "Мария"\nПетровна') == "Иванова 'Мария' Петровна"


def test_unknown_zone_is_written_in_utc(make_event):
    event = make_event(zone="Europe/Moscow")
    event.timezone = "Mars/Olympus_Mons"
    db.session.commit()
    text = unfold(event_calendar(event))
    assert re.search(r"DTSTART:\d{8}T\d{6}Z", text) and "VTIMEZONE" not in text


@pytest.mark.parametrize("zone", ZONES)
def test_publish_has_no_attendee_and_no_personal_link(zone, make_event, people):
    event = make_event(zone=zone)
    text = unfold(event_calendar(event))
    assert "METHOD:PUBLISH" in text and "ATTENDEE" not in text and "/j/" not in text
    assert f"URL:http://localhost/events/{event.id}" in text
    assert "ORGANIZER;CN=" in text and "mailto:coordinator@example.org" in text


def test_folding_by_octets():
    assert ics.fold("A" * 75) == b"A" * 75
    first, second = ics.fold("A" * 76).split(b"\r\n")
    assert (first, second) == (b"A" * 75, b" A")
    for text in ("Я" * 200, "🙂" * 100, "aЯ🙂" * 60):
        folded = ics.fold(text)
        parts = folded.split(b"\r\n")
        assert all(len(p) <= 75 for p in parts) and all(p.startswith(b" ") for p in parts[1:])
        for part in parts:
            part.decode("utf-8")  # no character cut in two
        assert b"".join([parts[0]] + [p[1:] for p in parts[1:]]).decode("utf-8") == text
    # An escape is never cut between its backslash and the character it escapes.
    line = "SUMMARY:" + "x" * 66 + "\\,y"
    parts = ics.fold(line).split(b"\r\n")
    assert not parts[0].endswith(b"\\") and parts[1].startswith(b" \\,")


def test_text_escaping_drops_control_characters():
    assert ics.escape_text("a\\b;c,d\r\ne\x07f") == "a\\\\b\\;c\\,d\\nef"
