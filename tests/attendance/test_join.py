"""The personal join link /j/<token>: its window, the record of a join (once per browser, two
browsers flagged to the organiser), revoking a link, and what it says outside its window."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from hub.attendance import services
from hub.attendance.links import CLIENT_KEY
from hub.attendance.models import Attendance, AttendanceInterval, Source
from hub.board.access import JOINED_SESSION_KEY
from hub.calendar.invitations import invitation_token
from hub.calendar.models import InvitationBatch
from hub.conferencing import rooms
from hub.extensions import db
from hub.scheduling.models import Event, EventStatus, Invitation

PHONE = "Mozilla/5.0 (Linux; Android 13; SM-A135F) AppleWebKit/537.36 Chrome/120 Mobile"
LAPTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120 Safari/537"


def invitation_of(event: Event, person) -> Invitation:  # type: ignore[no-untyped-def]
    return db.session.scalars(select(Invitation).where(
        Invitation.event_id == event.id, Invitation.person_id == person.id)).one()


def link(invitation: Invitation) -> str:
    return f"/j/{invitation_token(invitation)}"


def joins() -> list[AttendanceInterval]:
    db.session.expire_all()
    return list(db.session.scalars(select(AttendanceInterval).where(
        AttendanceInterval.source == Source.JOIN_LINK).order_by(AttendanceInterval.id)))


def record_of(event: Event, person) -> Attendance | None:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return db.session.scalar(select(Attendance).where(
        Attendance.event_id == event.id, Attendance.person_id == person.id))


def test_before_the_window_the_page_says_when_it_opens_in_the_persons_zone(
        client, app, event, people) -> None:
    # 10:00 in Yekaterinburg is 08:00 in Moscow (the teacher's zone): open from 07:30.
    response = client.get(link(invitation_of(event, people.teacher)))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "07:30" in page and "Europe/Moscow, UTC+3" in page
    assert '<meta http-equiv="refresh" content="600">' in page  # a week ahead: every 10 min
    assert f'href="/events/{event.id}"' in page
    assert response.headers["Cache-Control"] == "no-store"
    # The other teacher lives in Yekaterinburg: the same moment is 09:30 for her.
    other = app.test_client().get(link(invitation_of(event, people.other_teacher)))
    assert "09:30" in other.get_data(as_text=True)
    assert joins() == [] and db.session.scalar(select(func.count(Attendance.id))) == 0
    # Shortly before the window the page looks again just after it opens.
    with time_machine.travel(event.start_at - timedelta(minutes=31), tick=False):
        page = client.get(link(invitation_of(event, people.teacher))).get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="62">' in page


def test_in_the_window_the_join_is_recorded_and_the_person_sent_to_the_room(
        client, event, people) -> None:
    invitation = invitation_of(event, people.teacher)
    with time_machine.travel(event.start_at - timedelta(minutes=29)):
        response = client.get(link(invitation), headers={"User-Agent": PHONE})
    assert response.status_code == 302
    room = rooms.room_of(event)
    assert response.headers["Location"].startswith(room.join_url + "#")
    assert response.headers["Cache-Control"] == "no-store"
    [join] = joins()
    assert (join.ip, join.user_agent, join.ended_at) == ("127.0.0.1", PHONE, None)
    assert abs(join.started_at - (event.start_at - timedelta(minutes=29))) < timedelta(seconds=5)
    assert len(join.client_key) >= 16
    record = record_of(event, people.teacher)
    assert join.attendance_id == record.id and not record.shared_link


def test_clicking_twice_from_the_same_browser_counts_once(client, app, event, people) -> None:
    invitation = invitation_of(event, people.teacher)
    with time_machine.travel(event.start_at + timedelta(minutes=2)):
        assert client.get(link(invitation), headers={"User-Agent": PHONE}).status_code == 302
        assert client.get(link(invitation), headers={"User-Agent": PHONE}).status_code == 302
        # A double tap: the second request left before the first one's cookie came back.
        assert app.test_client().get(link(invitation),
                                     headers={"User-Agent": PHONE}).status_code == 302
        assert client.head(link(invitation)).status_code == 302  # link checkers: nothing
    assert len(joins()) == 1
    assert not record_of(event, people.teacher).shared_link


@pytest.mark.postgres
def test_simultaneous_clicks_from_one_browser_count_once(app, event, people) -> None:
    """Eight requests of one browser at the same moment (its cookie already set), the person's
    record already made (by the page's presence, say): the lock on the invitation lets one of
    them record the join."""
    services.record_of(event, people.teacher)
    db.session.commit()
    url = link(invitation_of(event, people.teacher))
    clients = [app.test_client() for _ in range(8)]
    for client in clients:
        with client.session_transaction() as session:
            session[CLIENT_KEY] = "one-browser-key-0123456789abcdef"
    start = threading.Barrier(len(clients))
    answers: list[int] = []

    def click(client) -> None:  # type: ignore[no-untyped-def]
        start.wait()
        answers.append(client.get(url).status_code)

    with time_machine.travel(event.start_at):
        threads = [threading.Thread(target=click, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert answers == [302] * len(clients)
    assert len(joins()) == 1
    assert db.session.scalar(select(func.count(Attendance.id))) == 1


def test_a_link_used_from_two_places_at_once_is_flagged_to_the_organiser(
        client, app, event, people, login_as) -> None:
    invitation = invitation_of(event, people.teacher)
    with time_machine.travel(event.start_at + timedelta(minutes=1)):
        app.test_client().get(link(invitation), headers={"User-Agent": PHONE})
        app.test_client().get(link(invitation), headers={"User-Agent": LAPTOP})
        assert len(joins()) == 2
        assert record_of(event, people.teacher).shared_link
        login_as(people.coordinator)
        page = client.get(f"/events/{event.id}").get_data(as_text=True)
        assert "1 person's link was used from two places at once." in page
        assert "See who in the attendance sheet" in page
        assert f'href="/events/{event.id}/attendance"' in page
        client.post("/logout")
        login_as(people.teacher)
        page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "two places at once" not in page


def test_after_the_end_the_link_says_the_event_has_ended(client, event, people) -> None:
    with time_machine.travel(event.end_at + timedelta(seconds=1)):
        response = client.get(link(invitation_of(event, people.teacher)))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "The event has ended" in page
    assert f'href="/events/{event.id}"' in page and "refresh" not in page
    assert joins() == []


def test_cancelled_and_draft_events_record_nothing(client, event, people, make_event,
                                                   invite) -> None:
    draft = make_event(title="Черновик", status=EventStatus.DRAFT)
    [draft_invitation] = invite(draft, [people.teacher])
    event.status = EventStatus.CANCELLED
    db.session.commit()
    with time_machine.travel(event.start_at):
        cancelled = client.get(link(invitation_of(event, people.teacher)))
        not_published = client.get(link(draft_invitation))
    assert cancelled.status_code == 410 and "cancelled" in cancelled.get_data(as_text=True)
    assert not_published.status_code == 404
    assert joins() == []


def test_a_revoked_link_stops_working_and_the_person_gets_a_new_one(
        client, app, event, people, login_as) -> None:
    invitation = invitation_of(event, people.teacher)
    old = link(invitation)
    shared = app.test_client()
    with time_machine.travel(event.start_at):
        assert shared.get(old).status_code == 302
        login_as(people.coordinator)
        response = client.post(
            f"/events/{event.id}/attendance/{invitation.id}/revoke-link")
        assert response.status_code == 302
        assert response.headers["Location"] == f"/events/{event.id}/attendance"
        flashed = client.get(f"/events/{event.id}").get_data(as_text=True)
        assert "no longer works" in flashed and "new link" in flashed
        db.session.expire_all()
        assert db.session.scalar(select(func.count(InvitationBatch.id))) == 1  # the letter
        gone = shared.get(old)
        assert gone.status_code == 404 and "Link not valid" in gone.get_data(as_text=True)
        # The browser that had opened the old link is no longer let in as the teacher.
        with shared.session_transaction() as session:
            assert session[JOINED_SESSION_KEY][str(event.id)][0] == invitation.id
        assert shared.post(f"/events/{event.id}/presence").status_code == 403
        fresh = app.test_client().get(link(db.session.get(Invitation, invitation.id)))
    assert fresh.status_code == 302


def test_only_the_events_organisers_revoke_links(client, event, people, login_as,
                                                 make_event, invite) -> None:
    invitation = invitation_of(event, people.teacher)
    token = invitation_token(invitation)
    url = f"/events/{event.id}/attendance/{invitation.id}/revoke-link"
    assert "/login" in client.post(url).headers["Location"]
    login_as(people.teacher)
    assert client.post(url).status_code == 403
    client.post("/logout")
    login_as(people.coordinator)
    other = make_event(title="Круглый стол «Преемственность детского сада и школы»")
    [elsewhere] = invite(other, [people.teacher])
    assert client.post(f"/events/{event.id}/attendance/{elsewhere.id}/revoke-link"
                       ).status_code == 404
    assert client.get(url).status_code == 405
    db.session.expire_all()
    assert invitation_token(db.session.get(Invitation, invitation.id)) == token


def test_a_series_link_leads_to_the_session_on_now(client, people, make_series,
                                                   invite) -> None:
    series = make_series()
    rows = invite(series, [people.teacher])
    first, third = rows[0], rows[2]
    with time_machine.travel(third.event.start_at + timedelta(minutes=5)):
        response = client.get(link(first))  # the link of the series' letter
    assert response.status_code == 302
    assert response.headers["Location"].startswith(rooms.room_of(third.event).join_url)
    [join] = joins()
    assert join.attendance.event_id == third.event_id
    with time_machine.travel(rows[3].event.start_at - timedelta(hours=3)):
        page = client.get(link(first)).get_data(as_text=True)  # between sessions: the next
    assert "Your link is correct" in page


def test_bad_links_answer_a_friendly_page(client) -> None:
    for token in ("garbage", "x" * 5000, "%D0%BF%D1%80%D0%B8%D0%B2%D0%B5%D1%82"):
        response = client.get(f"/j/{token}")
        assert response.status_code == 404, token
        assert "Link not valid" in response.get_data(as_text=True)
    for path in ("/j/%00%ff", "/j/../../etc/passwd", "/j/"):
        assert client.get(path).status_code == 404, path  # never a 500
    assert client.post("/j/garbage").status_code == 405
    assert joins() == []
