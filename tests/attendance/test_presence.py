"""Presence: the event page and the board report, once a minute, that they are open; the
reports extend one interval per browser, count for the people the event expects only, and
only during the event (from the join link's opening to the end)."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from hub.attendance import services
from hub.attendance.models import Attendance, AttendanceInterval, Source
from hub.board.services import ensure_board
from hub.calendar.invitations import invitation_token
from hub.extensions import db
from hub.scheduling.models import Event, EventStatus, Invitation


def presence(event: Event) -> str:
    return f"/events/{event.id}/presence"


def reports() -> list[AttendanceInterval]:
    db.session.expire_all()
    return list(db.session.scalars(select(AttendanceInterval).where(
        AttendanceInterval.source == Source.PRESENCE).order_by(AttendanceInterval.id)))


def test_reports_from_a_signed_in_participant_extend_one_interval(
        client, event, people, login_as) -> None:
    login_as(people.teacher)
    start = event.start_at + timedelta(minutes=5)
    for minute in range(3):
        with time_machine.travel(start + timedelta(minutes=minute), tick=False):
            response = client.post(presence(event), headers={"User-Agent": "Firefox"})
        assert response.status_code == 200 and response.get_json() == {"ok": True}
    [interval] = reports()
    assert interval.started_at == start
    assert interval.ended_at == start + timedelta(minutes=2, seconds=90)
    assert (interval.ip, interval.user_agent) == ("127.0.0.1", "Firefox")
    record = interval.attendance
    services.recompute(record, now=start + timedelta(minutes=3))  # as the sheet derives it
    assert record.person_id == people.teacher.id and record.minutes == 4
    db.session.commit()
    with time_machine.travel(start + timedelta(minutes=20), tick=False):  # the tab came back
        client.post(presence(event))
    assert len(reports()) == 2


def test_a_join_and_the_pages_presence_count_once(client, event, people) -> None:
    """Intervals from every source are merged per person without double counting."""
    invitation = db.session.scalars(select(Invitation).where(
        Invitation.person_id == people.teacher.id)).one()
    with time_machine.travel(event.start_at, tick=False):
        client.get(f"/j/{invitation_token(invitation)}")  # not signed in: the link's session
        assert client.post(presence(event)).status_code == 200
    record = db.session.scalars(select(Attendance)).one()
    assert {i.source for i in record.intervals} == {Source.JOIN_LINK, Source.PRESENCE}
    services.recompute(record, now=event.start_at + timedelta(minutes=1))  # as the sheet does
    assert record.minutes == 90  # the join stands until the end; the overlap counts once
    assert {i.client_key for i in record.intervals} == {record.intervals[0].client_key}


def test_strangers_are_refused(client, app, event, people, login_as) -> None:
    with time_machine.travel(event.start_at):
        anonymous = client.post(presence(event))
        assert anonymous.status_code == 403 and anonymous.get_json()["error"]
        login_as(people.municipal)  # may see every event, but is not expected at this one
        assert client.post(presence(event)).status_code == 403
        assert client.post("/events/999999/presence").status_code == 404
        assert client.post("/events/2147483648/presence").status_code == 404
        assert client.get(presence(event)).status_code == 405
    assert reports() == []


def test_the_organiser_counts_too(client, event, people, login_as) -> None:
    login_as(people.coordinator)
    with time_machine.travel(event.start_at):
        assert client.post(presence(event)).status_code == 200
    assert reports()[0].attendance.person_id == people.coordinator.id


def test_outside_the_event_nothing_is_recorded(client, event, people, login_as) -> None:
    login_as(people.teacher)
    for moment in (event.start_at - timedelta(minutes=31), event.end_at):
        with time_machine.travel(moment, tick=False):
            assert client.post(presence(event)).status_code == 204
    event.status = EventStatus.CANCELLED
    db.session.commit()
    with time_machine.travel(event.start_at):
        assert client.post(presence(event)).status_code == 204
    assert reports() == [] and db.session.scalar(select(Attendance.id)) is None


def test_a_browser_reporting_too_often_is_slowed_down(client, event, people, login_as) -> None:
    login_as(people.teacher)
    with time_machine.travel(event.start_at):
        answers = [client.post(presence(event), headers={"Accept": "application/json"})
                   for _ in range(13)]
    assert [a.status_code for a in answers[:12]] == [200] * 12
    assert answers[12].status_code == 429 and answers[12].is_json


def test_the_pages_load_the_script_for_participants_near_the_time(
        client, app, event, people, login_as) -> None:
    event.board_enabled = True
    ensure_board(event)
    db.session.commit()
    login_as(people.teacher)
    tag = f'data-presence-url="/events/{event.id}/presence"'
    with time_machine.travel(event.start_at - timedelta(minutes=10)):
        page = client.get(f"/events/{event.id}").get_data(as_text=True)
        board = client.get(f"/events/{event.id}/board").get_data(as_text=True)
    assert tag in page and "/static/js/presence.js" in page and tag in board
    assert f'data-presence-end="{int(event.end_at.timestamp() * 1000)}"' in page
    assert tag not in client.get(f"/events/{event.id}").get_data(as_text=True)  # a week ahead
    with time_machine.travel(event.start_at):
        client.post("/logout")
        login_as(people.municipal)
        assert tag not in client.get(f"/events/{event.id}").get_data(as_text=True)
        stranger = app.test_client()
        assert tag not in stranger.get(f"/events/{event.id}/board").get_data(as_text=True)
