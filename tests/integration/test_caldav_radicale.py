"""The hub's calendars stored in a real CalDAV server (Radicale, run on a loopback port with a
temporary folder and no authentication) and read back expanded by the server (REPORT
calendar-query with <C:expand>): a third reading of our files, by vobject and dateutil.

What a calendar client does with an iTIP letter is imitated: the object is stored without its
METHOD (RFC 4791 forbids it in a stored resource) under its UID; an update replaces it; a
single-occurrence update is merged into the stored series as an override.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from hub.calendar.feeds import event_calendar, person_calendar
from hub.calendar.invitations import (
    queue_cancellations,
    queue_event_cancelled,
    queue_requests,
    queue_updates,
)
from hub.extensions import db
from hub.scheduling.models import EventStatus
from tests.calendar import conftest as calendar_fixtures
from tests.calendar.conftest import ZONES, at, calendar_part
from tests.conftest import free_port

pytest.importorskip("radicale", reason="Radicale is not installed: pip install -e '.[dev]'")

# The calendar tests' fixtures, here too.
make_event = calendar_fixtures.make_event
make_series = calendar_fixtures.make_series
invite = calendar_fixtures.invite
deliver = calendar_fixtures.deliver

AUTH = "Basic " + base64.b64encode(b"hub:any").decode()
COLLECTION = "/hub/calendar/"
CALDAV_NS = 'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"'


class CalDAV:
    """A tiny CalDAV client (urllib) for one calendar collection of a Radicale server."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(self.base + path, data=body, method=method,
                                         headers={"Authorization": AUTH, **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def put(self, data: bytes, uid: str) -> int:
        """Store a calendar object as a client would: without METHOD, under its UID."""
        calendar = icalendar.Calendar.from_ical(data)
        calendar.pop("METHOD", None)
        status, body = self.request("PUT", f"{COLLECTION}{uid.replace('@', '-')}.ics",
                                    calendar.to_ical(),
                                    {"Content-Type": "text/calendar; charset=utf-8"})
        assert status in (201, 204), body
        return status

    def get(self, uid: str) -> icalendar.Calendar:
        status, body = self.request("GET", f"{COLLECTION}{uid.replace('@', '-')}.ics")
        assert status == 200, body
        return icalendar.Calendar.from_ical(body)

    def expanded(self, start: datetime, end: datetime) -> list[icalendar.Event]:
        """Every instance the server expands between start and end (UTC), overrides applied."""
        span = f'start="{start:%Y%m%dT%H%M%SZ}" end="{end:%Y%m%dT%H%M%SZ}"'
        query = f"""<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query {CALDAV_NS}>
  <D:prop><C:calendar-data><C:expand {span}/></C:calendar-data></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
    <C:time-range {span}/>
  </C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>""".encode()
        status, body = self.request("REPORT", COLLECTION, query,
                                    {"Depth": "1", "Content-Type": "application/xml"})
        assert status == 207, body
        from xml.etree import ElementTree

        tree = ElementTree.fromstring(body)
        instances = []
        for node in tree.iter("{urn:ietf:params:xml:ns:caldav}calendar-data"):
            instances += icalendar.Calendar.from_ical(node.text or "").walk("VEVENT")
        return instances


@pytest.fixture(scope="module")
def radicale_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = free_port()
    folder = tmp_path_factory.mktemp("radicale")
    config = folder / "config"
    config.write_text(f"[server]\nhosts = 127.0.0.1:{port}\n[auth]\ntype = none\n"
                      f"[rights]\ntype = owner_only\n[storage]\n"
                      f"filesystem_folder = {folder / 'collections'}\n"
                      "[logging]\nlevel = warning\n")
    process = subprocess.Popen([sys.executable, "-m", "radicale", "--config", str(config)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"Radicale did not start: {process.stdout.read().decode()}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        else:
            pytest.fail("Radicale did not listen within 20 s")
        yield port
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def caldav(radicale_server: int) -> Iterator[CalDAV]:
    """An empty calendar collection for the test."""
    client = CalDAV(radicale_server)
    client.request("DELETE", COLLECTION)
    status, body = client.request("MKCALENDAR", COLLECTION)
    assert status == 201, body
    yield client
    client.request("DELETE", COLLECTION)


WIDE = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2029, 1, 1, tzinfo=UTC))


def instants(instances: list[icalendar.Event], uid: str) -> list[tuple]:
    found = []
    for vevent in instances:
        if str(vevent["UID"]) != uid or vevent.get("STATUS") == "CANCELLED":
            continue
        recurrence = vevent.get("RECURRENCE-ID")
        found.append((recurrence.dt if recurrence else None, vevent["DTSTART"].dt,
                      vevent["DTEND"].dt))
    return sorted(found, key=lambda row: row[1])


@pytest.mark.parametrize("zone", ZONES)
def test_letters_stored_and_read_back_expanded(zone, caldav, smtp_server, people, make_event,
                                               make_series, invite, deliver):
    event = make_event(zone=zone, start=at(zone, 2026, 12, 31, 22, 45))
    queue_requests(event, invite(event, [people.teacher]))
    series = make_series(zone=zone, first=at(zone, 2026, 12, 15, 8, 0),
                         rrule="FREQ=WEEKLY;BYDAY=TU,FR;COUNT=9")
    rows = sorted(series.events, key=lambda e: e.original_start)
    rows[2].status = EventStatus.CANCELLED
    rows[5].start_at += timedelta(hours=4)
    rows[5].end_at += timedelta(hours=4)
    rows[5].detached = True
    queue_requests(series, invite(series, [people.teacher]))
    deliver()
    single, whole = smtp_server.messages
    caldav.put(calendar_part(single)[1], event.uid)
    caldav.put(calendar_part(whole)[1], series.uid)
    found = caldav.expanded(*WIDE)
    assert instants(found, event.uid) == [(None, event.start_at, event.end_at)]
    expected = [(e.original_start, e.start_at, e.end_at) for e in
                sorted(rows, key=lambda e: e.start_at) if e.status != EventStatus.CANCELLED]
    assert instants(found, series.uid) == expected
    for _, start, _ in expected:  # the wall time in the zone, as zoneinfo says
        local = start.astimezone(ZoneInfo(zone))
        assert (local.hour, local.minute) in ((8, 0), (12, 0))


def test_an_update_replaces_and_an_occurrence_update_merges(caldav, smtp_server, people,
                                                            make_series, make_event, invite,
                                                            deliver):
    event = make_event()
    queue_requests(event, invite(event, [people.teacher]))
    deliver()
    caldav.put(calendar_part(smtp_server.messages[-1])[1], event.uid)
    event.start_at += timedelta(days=1)
    event.end_at += timedelta(days=1)
    event.sequence += 1
    queue_updates(event)
    deliver()
    caldav.put(calendar_part(smtp_server.messages[-1])[1], event.uid)
    stored = caldav.get(event.uid)
    [vevent] = stored.walk("VEVENT")
    assert vevent["SEQUENCE"] == 1
    assert instants(caldav.expanded(*WIDE), event.uid) == [(None, event.start_at, event.end_at)]

    zone = "Asia/Vladivostok"
    series = make_series(zone=zone, first=at(zone, 2026, 12, 22, 15, 0))
    queue_requests(series, invite(series, [people.teacher]))
    deliver()
    caldav.put(calendar_part(smtp_server.messages[-1])[1], series.uid)
    moved = sorted(series.events, key=lambda e: e.original_start)[3]
    moved.start_at = at(zone, 2027, 1, 13, 9, 30)
    moved.end_at = moved.start_at + timedelta(minutes=60)
    moved.detached = True
    moved.sequence += 1
    queue_updates(moved)
    deliver()
    # The client merges the override into the series it holds.
    [override] = icalendar.Calendar.from_ical(
        calendar_part(smtp_server.messages[-1])[1]).walk("VEVENT")
    held = caldav.get(series.uid)
    held.subcomponents = [c for c in held.subcomponents
                          if not (c.name == "VEVENT" and c.get("RECURRENCE-ID")
                                  and c["RECURRENCE-ID"].dt == override["RECURRENCE-ID"].dt)]
    held.add_component(override)
    caldav.put(held.to_ical(), series.uid)
    found = instants(caldav.expanded(*WIDE), series.uid)
    assert (moved.original_start, moved.start_at, moved.end_at) in found
    assert len(found) == 8


def test_cancel_and_removed_attendee_read_back_cancelled(caldav, smtp_server, people,
                                                         make_event, invite, deliver):
    event = make_event()
    teacher, other = invite(event, [people.teacher, people.other_teacher])
    queue_requests(event, [teacher, other])
    deliver()
    queue_cancellations(event, [other])
    deliver()
    removed = smtp_server.messages[-1]
    assert "other@example.org" in removed["To"]
    caldav.put(calendar_part(removed)[1], event.uid)
    [vevent] = caldav.get(event.uid).walk("VEVENT")
    assert vevent["STATUS"] == "CANCELLED"
    assert instants(caldav.expanded(*WIDE), event.uid) == []

    event.status = EventStatus.CANCELLED
    event.sequence += 1
    queue_event_cancelled(event)
    deliver()
    cancel = smtp_server.messages[-1]
    assert "teacher@example.org" in cancel["To"]
    caldav.put(calendar_part(cancel)[1], event.uid)
    [vevent] = caldav.expanded(*WIDE)
    assert vevent["STATUS"] == "CANCELLED" and vevent["SEQUENCE"] == 1


@pytest.mark.parametrize("title", [
    'Круглый стол "Преемственность детского сада и школы"',
    "Мастер-класс: мультфильмы, пластилин; камера\\штатив",
    "Вебинар 🙂🎉 «Чем занять ребёнка дома» — ёлочки",
    ("Семинар-практикум «Образовательная робототехника в ДОУ», 🤖; " * 6)[:300],
])
def test_odd_titles_survive_the_server(title, caldav, make_event):
    event = make_event(title=title, description_html=f"<p>{title}</p>")
    caldav.put(event_calendar(event), event.uid)
    [vevent] = caldav.expanded(*WIDE)
    assert str(vevent["SUMMARY"]) == title
    assert title.strip() in str(vevent["DESCRIPTION"])


def test_a_whole_feed_stored_object_by_object(caldav, people, make_event, make_series, invite):
    for n, zone in enumerate(ZONES * 3):
        event = make_event(title=f"Событие {n}", zone=zone,
                           start=at(zone, 2026, 11, 2 + n, 9 + n % 5, 15))
        invite(event, [people.teacher])
    series = make_series()
    sorted(series.events, key=lambda e: e.original_start)[4].status = EventStatus.CANCELLED
    invite(series, [people.teacher])
    db.session.commit()
    feed = icalendar.Calendar.from_ical(person_calendar(people.teacher,
                                                        now=datetime(2026, 11, 1, tzinfo=UTC)))
    by_uid: dict[str, list] = {}
    for vevent in feed.walk("VEVENT"):
        by_uid.setdefault(str(vevent["UID"]), []).append(vevent)
    for uid, components in by_uid.items():
        one = icalendar.Calendar()
        for key in ("VERSION", "PRODID"):
            one.add(key, feed[key])
        for timezone in feed.walk("VTIMEZONE"):
            one.add_component(timezone)
        for component in components:
            one.add_component(component)
        caldav.put(one.to_ical(), uid)
    found = caldav.expanded(*WIDE)
    assert len([v for v in found if str(v["UID"]) != series.uid]) == 12
    assert len(instants(found, series.uid)) == 7
