"""Subscribable calendars: a person's feed (and rotating its address), the public feeds of open
events, /events/<id>.ics, and the profile box with webcal:// and Google links."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import unquote

import icalendar

from hub.calendar.feeds import feed_links, feed_token, get_or_create_feed
from hub.core.types import utcnow
from hub.directory.models import Network
from hub.extensions import db
from hub.scheduling.models import EventHost, EventStatus, InvitationState, PartStat
from tests.calendar.conftest import at


def parse(response) -> icalendar.Calendar:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.data)


def summaries(calendar: icalendar.Calendar) -> set[str]:
    return {str(v["SUMMARY"]) for v in calendar.walk("VEVENT")}


def test_a_persons_feed_has_their_events_and_no_one_elses(client, people, make_event,
                                                          make_series, invite):
    mine = make_event(title="Мой семинар")
    declined = make_event(title="Отказалась")
    removed = make_event(title="Убрали из списка")
    cancelled = make_event(title="Отменён", status=EventStatus.CANCELLED)
    draft = make_event(title="Черновик", status=EventStatus.DRAFT)
    make_event(title="Чужое событие")
    series = make_series()
    invite(series, [people.teacher])
    rows = invite(mine, [people.teacher]) + invite(declined, [people.teacher]) + invite(
        removed, [people.teacher]) + invite(cancelled, [people.teacher]) + invite(
        draft, [people.teacher])
    rows[1].partstat = PartStat.DECLINED
    rows[2].state = InvitationState.REMOVED
    db.session.commit()
    token = feed_token(get_or_create_feed(people.teacher))
    response = client.get(f"/feeds/{token}.ics")
    calendar = parse(response)
    assert "METHOD" not in calendar
    assert str(calendar["X-WR-CALNAME"]).startswith("Vmeste hub: Попова")
    assert summaries(calendar) == {"Мой семинар", "Отказалась", "Отменён",
                                   "Занятие цифровой интернатуры"}
    by_title = {str(v["SUMMARY"]): v for v in calendar.walk("VEVENT")}
    assert by_title["Отказалась"]["TRANSP"] == "TRANSPARENT"
    assert by_title["Отказалась"]["ATTENDEE"].params["PARTSTAT"] == "DECLINED"
    assert by_title["Отменён"]["STATUS"] == "CANCELLED"
    assert "/j/" in str(by_title["Мой семинар"]["URL"])
    assert by_title["Занятие цифровой интернатуры"].get("RRULE")
    assert response.headers["Cache-Control"].startswith("private")
    again = client.get(f"/feeds/{token}.ics", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_a_speaker_sees_their_event_without_an_invitation(client, people, make_event):
    make_event(title="Я организатор", organiser=people.teacher)
    token = feed_token(get_or_create_feed(people.teacher))
    calendar = parse(client.get(f"/feeds/{token}.ics"))
    assert summaries(calendar) == {"Я организатор"}
    [vevent] = calendar.walk("VEVENT")
    assert re.fullmatch(r"http://localhost/events/\d+", str(vevent["URL"]))


def test_rotating_the_feed_kills_the_old_address(client, people, login_as):
    old = feed_token(get_or_create_feed(people.teacher))
    assert client.get(f"/feeds/{old}.ics").status_code == 200
    login_as(people.teacher)
    response = client.post("/feeds/rotate", data={"next": "/feeds"})
    assert response.status_code == 302 and response.headers["Location"] == "/feeds"
    db.session.expire_all()
    new = feed_token(get_or_create_feed(people.teacher))
    assert new != old
    assert client.get(f"/feeds/{old}.ics").status_code == 404
    assert client.get(f"/feeds/{new}.ics").status_code == 200
    page = client.get("/feeds").get_data(as_text=True)
    assert "new address" in page and new in page


def test_the_feed_box_offers_webcal_google_and_a_rotate_button(client, people, login_as):
    login_as(people.teacher)
    page = client.get("/feeds").get_data(as_text=True)
    links = feed_links(people.teacher)
    assert links.webcal.startswith("webcal://localhost/feeds/") and links.webcal.endswith(".ics")
    assert links.https == "http://localhost" + links.webcal.removeprefix("webcal://localhost")
    assert links.google.startswith("https://calendar.google.com/calendar/r?cid=")
    assert unquote(links.google.split("cid=", 1)[1]) == links.webcal
    assert f'href="{links.webcal}"' in page
    assert links.google.replace("&", "&amp;") in page or links.google in page
    assert 'action="/feeds/rotate"' in page and 'method="post"' in page
    assert "Add to Google Calendar" in page


def test_a_deactivated_persons_feed_is_gone(client, people):
    token = feed_token(get_or_create_feed(people.teacher))
    people.teacher.active = False
    db.session.commit()
    assert client.get(f"/feeds/{token}.ics").status_code == 404


def test_public_feeds_list_open_events_only(client, people, make_event):
    organisation_id = people.coordinator.organisation_id
    network = Network(name="«Пчёлки Bee-Bot»", school_year="2026/2027")
    db.session.add(network)
    open_event = make_event(title="Открытый вебинар", open_registration=True, network=network)
    closed = make_event(title="Только для своих", network=network)
    open_draft = make_event(title="Открытый черновик", open_registration=True,
                            status=EventStatus.DRAFT, network=network)
    for event in (open_event, closed, open_draft):
        event.hosts.append(EventHost(organisation_id=organisation_id))
    db.session.commit()
    for path in (f"/feeds/organisations/{organisation_id}.ics",
                 f"/feeds/networks/{network.id}.ics"):
        response = client.get(path)
        calendar = parse(response)
        assert summaries(calendar) == {"Открытый вебинар"}
        [vevent] = calendar.walk("VEVENT")
        assert "ATTENDEE" not in vevent and "/j/" not in str(vevent["URL"])
        assert response.headers["Cache-Control"].startswith("public")


def test_event_ics_of_an_occurrence_is_its_whole_series(client, people, make_series, login_as):
    series = make_series(zone="Asia/Krasnoyarsk", first=at("Asia/Krasnoyarsk",
                                                            2026, 12, 22, 11, 0))
    rows = sorted(series.events, key=lambda e: e.original_start)
    rows[1].status = EventStatus.CANCELLED
    db.session.commit()
    login_as(people.municipal)
    response = client.get(f"/events/{rows[3].id}.ics")
    calendar = parse(response)
    assert calendar["METHOD"] == "PUBLISH"
    assert "attachment" in response.headers["Content-Disposition"]
    [master] = calendar.walk("VEVENT")
    assert master["UID"] == series.uid and master.get("RRULE") and master.get("EXDATE")


def test_old_events_leave_the_feed(client, people, make_event, invite):
    old = make_event(title="Давно прошло", start=utcnow() - timedelta(days=500))
    recent = make_event(title="Недавно", start=utcnow() - timedelta(days=30))
    invite(old, [people.teacher])
    invite(recent, [people.teacher])
    token = feed_token(get_or_create_feed(people.teacher))
    assert summaries(parse(client.get(f"/feeds/{token}.ics"))) == {"Недавно"}
