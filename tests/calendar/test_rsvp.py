"""Answering from the letter without signing in, and the personal join link."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import quote

import icalendar
import time_machine
from sqlalchemy import select

from hub.calendar.invitations import invitation_token, issue_token, queue_requests, queue_updates
from hub.calendar.rsvp import answer_counts
from hub.conferencing import rooms
from hub.core.types import utcnow
from hub.extensions import db
from hub.scheduling.models import EventStatus, Invitation, InvitationState, PartStat
from tests.calendar.conftest import calendar_part


def fresh(invitation: Invitation) -> Invitation:
    db.session.expire_all()
    return db.session.get(Invitation, invitation.id)


def test_opening_the_link_records_nothing_the_button_does(client, people, make_event, invite):
    event = make_event()
    [invitation] = invite(event, [people.teacher])
    token = invitation_token(invitation)
    page = client.get(f"/rsvp/{token}?answer=declined")  # what a mail scanner does
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert event.title in body and "Will you attend?" in body
    assert re.search(r'value="declined" checked', body)
    assert "10:00–11:30 (Asia/Yekaterinburg, UTC+5)" in body  # the event's zone
    assert "08:00–09:30 (Europe/Moscow, UTC+3)" in body  # and the teacher's
    assert page.headers["Cache-Control"] == "no-store"
    assert fresh(invitation).partstat == PartStat.NEEDS_ACTION

    answered = client.post(f"/rsvp/{token}", data={"answer": "accepted"})
    assert answered.status_code == 302
    assert fresh(invitation).partstat == PartStat.ACCEPTED
    assert fresh(invitation).answered_at is not None
    shown = client.get(answered.headers["Location"])
    assert "your answer is recorded: Accepted" in shown.get_data(as_text=True)
    assert answer_counts(event)[PartStat.ACCEPTED] == 1


def test_a_bad_answer_is_explained_and_nothing_changes(client, people, make_event, invite):
    event = make_event()
    [invitation] = invite(event, [people.teacher])
    response = client.post(f"/rsvp/{invitation_token(invitation)}", data={"answer": "yes!!"})
    assert response.status_code == 400
    assert "Choose an answer." in response.get_data(as_text=True)
    assert fresh(invitation).partstat == PartStat.NEEDS_ACTION


def test_the_form_works_with_csrf_on(app, client, people, make_event, invite):
    event = make_event()
    [invitation] = invite(event, [people.teacher])
    token = invitation_token(invitation)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = client.get(f"/rsvp/{token}?answer=tentative").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        refused = client.post(f"/rsvp/{token}", data={"answer": "tentative"})
        answered = client.post(f"/rsvp/{token}", data={"answer": "tentative",
                                                       "csrf_token": csrf})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert refused.status_code == 400 and answered.status_code == 302
    assert fresh(invitation).partstat == PartStat.TENTATIVE


def test_a_series_answer_covers_the_sessions_to_come(client, people, make_series, invite):
    series = make_series()
    rows = sorted(invite(series, [people.teacher]), key=lambda i: i.event.start_at)
    past = rows[0].event
    past.start_at = utcnow() - timedelta(days=2)
    past.end_at = past.start_at + timedelta(hours=1)
    db.session.commit()
    response = client.post(f"/rsvp/{invitation_token(rows[3])}",
                           data={"answer": "declined", "scope": "series"})
    assert response.status_code == 302 and "scope=series" in response.headers["Location"]
    states = [fresh(r).partstat for r in rows]
    assert states == [PartStat.NEEDS_ACTION] + [PartStat.DECLINED] * 7
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "It applies to the 7 sessions still to come." in shown
    single = client.post(f"/rsvp/{invitation_token(rows[5])}", data={"answer": "accepted"})
    assert single.status_code == 302
    assert fresh(rows[5]).partstat == PartStat.ACCEPTED
    assert fresh(rows[4]).partstat == PartStat.DECLINED


def test_cancelled_removed_and_ended_events_cannot_be_answered(client, people, make_event,
                                                               invite):
    cancelled = make_event(status=EventStatus.CANCELLED)
    [c] = invite(cancelled, [people.teacher])
    page = client.get(f"/rsvp/{invitation_token(c)}?answer=accepted").get_data(as_text=True)
    assert "This event has been cancelled" in page and "<form" not in page.split("<main")[1]
    assert client.post(f"/rsvp/{invitation_token(c)}",
                       data={"answer": "accepted"}).status_code == 409
    removed = make_event(title="Другое")
    [r] = invite(removed, [people.teacher])
    r.state = InvitationState.REMOVED
    ended = make_event(title="Прошедшее", start=utcnow() - timedelta(days=1))
    [e] = invite(ended, [people.teacher])
    db.session.commit()
    assert client.get(f"/rsvp/{invitation_token(r)}?answer=accepted").status_code == 404
    assert client.post(f"/rsvp/{invitation_token(e)}",
                       data={"answer": "accepted"}).status_code == 409
    assert "answers are closed" in client.get(f"/rsvp/{invitation_token(e)}").get_data(
        as_text=True)
    assert fresh(c).partstat == fresh(e).partstat == PartStat.NEEDS_ACTION


def test_the_answer_shows_in_the_next_letter(smtp_server, client, people, make_event, invite,
                                             deliver):
    event = make_event()
    [invitation] = invite(event, [people.teacher])
    queue_requests(event, [invitation])
    deliver()
    client.post(f"/rsvp/{invitation_token(invitation)}", data={"answer": "tentative"})
    event = db.session.get(type(event), event.id)
    event.sequence += 1
    event.title = "Семинар (перенесён в другой зал)"
    queue_updates(event)
    deliver()
    first, update = smtp_server.messages
    parsed = icalendar.Calendar.from_ical(calendar_part(update)[1])
    [vevent] = parsed.walk("VEVENT")
    assert vevent["ATTENDEE"].params["PARTSTAT"] == "TENTATIVE"


def test_join_link_goes_to_the_events_room(client, people, make_event, make_series, invite):
    event = make_event()
    [invitation] = invite(event, [people.teacher])
    with time_machine.travel(event.start_at):  # the link opens shortly before the start
        response = client.get(f"/j/{invitation_token(invitation)}")
    assert response.status_code == 302
    room = rooms.room_of(event)
    assert response.headers["Location"].startswith(room.join_url + "#")
    assert room.join_url.startswith("https://meet.jit.si/vmeste-")
    assert quote(json.dumps(people.teacher.full_name, ensure_ascii=False)) \
        in response.headers["Location"]  # the name is filled in on Jitsi's pre-join screen
    series = make_series()
    rows = invite(series, [people.teacher])
    urls = set()
    for r in rows:
        with time_machine.travel(r.event.start_at):
            urls.add(client.get(f"/j/{invitation_token(r)}").headers["Location"])
    assert len(urls) == len(rows)  # every session has its own room


def test_a_revoked_or_cancelled_join_link_is_a_friendly_page(client, people, make_event,
                                                             invite):
    event = make_event()
    [invitation] = invite(event, [people.teacher])
    old = invitation_token(invitation)
    issue_token(invitation)  # a new nonce revokes the old link
    db.session.commit()
    with time_machine.travel(event.start_at):  # inside the window of the link
        gone = client.get(f"/j/{old}")
        assert gone.status_code == 404 and "Link not valid" in gone.get_data(as_text=True)
        assert client.get(f"/j/{invitation_token(invitation)}").status_code == 302
        event.status = EventStatus.CANCELLED
        db.session.commit()
        cancelled = client.get(f"/j/{invitation_token(invitation)}")
        assert cancelled.status_code == 410
        assert "cancelled" in cancelled.get_data(as_text=True)
    assert db.session.scalars(select(Invitation)).one().state == InvitationState.INVITED
