"""An event's room through its life: made when the event is scheduled, pending while the
provider is down (the event saved all the same), retried with back-off, failed with a message
the organiser sees, retried by the organiser, replaced when the provider changes, removed
when the event is cancelled; and /j/<token> leading to it, or saying plainly it is not ready.

Yandex Telemost stands for the providers that need the network: its real client code talks
to a local HTTP server that answers as Telemost's API documents."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from hub.calendar.invitations import invitation_token
from hub.conferencing import rooms
from hub.conferencing.models import Room, RoomAction, RoomState
from hub.core.types import utcnow
from hub.extensions import db
from hub.scheduling import services
from hub.scheduling.models import EventHost, EventStatus


def _telemost_event(make_event, people):  # type: ignore[no-untyped-def]
    event = make_event(provider="telemost")
    event.hosts.append(EventHost(organisation_id=people.coordinator.organisation_id))
    db.session.commit()
    return event


def _later() -> object:
    return utcnow() + timedelta(days=2)


def test_a_jitsi_room_is_made_at_once_when_the_event_is_published(people, make_event):
    event = make_event(status=EventStatus.DRAFT)
    services.publish_event(event)
    db.session.commit()
    room = rooms.room_of(event)
    assert room.state == RoomState.READY and room.provider == "jitsi"
    assert room.join_url == f"https://meet.jit.si/{room.external_id}"
    assert room.external_id.startswith("vmeste-") and len(room.external_id) == 31


def test_jitsi_rooms_are_unguessable_and_follow_the_configured_server(app, people, make_event):
    first, second = make_event(), make_event()
    names = {rooms.reconcile(e).external_id for e in (first, second)}
    assert len(names) == 2
    app.config["JITSI_BASE_URL"] = "https://jitsi.lesnogorsk.example.org"
    try:
        third = rooms.reconcile(make_event())
        assert third.join_url.startswith("https://jitsi.lesnogorsk.example.org/vmeste-")
    finally:
        app.config["JITSI_BASE_URL"] = "https://meet.jit.si"


def test_the_worker_makes_the_room_and_the_join_link_leads_there(
        client, people, make_event, invite, telemost_account, conference):
    conference()
    event = _telemost_event(make_event, people)
    [invitation] = invite(event, [people.teacher])
    link = f"/j/{invitation_token(invitation)}"

    with time_machine.travel(event.start_at - timedelta(minutes=10)):  # the link is open
        response = client.get(link)  # the room is asked for, not made in the request
        assert response.status_code == 503
        assert "not ready yet" in response.get_data(as_text=True)
        assert rooms.room_of(event).state == RoomState.PENDING

        assert rooms.process_due() == 1
        room = rooms.room_of(event)
        assert (room.state, room.external_id) == (RoomState.READY, "68031451")
        assert room.account_id == telemost_account.id
        response = client.get(link)
        assert response.status_code == 302
    assert response.headers["Location"] == "https://telemost.yandex.ru/j/68031451"
    assert response.headers["Cache-Control"] == "no-store"


def test_a_provider_that_is_down_leaves_the_room_pending_and_is_retried_with_backoff(
        client, people, make_event, invite, login_as, telemost_account, conference):
    conference(503, 503)
    event = _telemost_event(make_event, people)
    room = rooms.reconcile(event)
    db.session.commit()

    rooms.process_due()
    assert room.state == RoomState.PENDING and room.attempts == 1
    assert "HTTP 503" in room.last_error
    first_wait = room.next_attempt_at - utcnow()
    assert timedelta(seconds=20) < first_wait < timedelta(seconds=40)
    assert rooms.process_due() == 0  # not due yet

    rooms.process_due(now=_later())
    assert room.attempts == 2
    assert room.next_attempt_at - utcnow() > first_wait  # the wait grows

    login_as(people.coordinator)  # the organiser sees the state on the event page
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "being prepared" in page and "HTTP 503" in page

    rooms.process_due(now=_later())
    assert room.state == RoomState.READY and room.last_error == ""


def test_a_refusal_fails_the_room_until_the_organiser_retries(
        client, people, make_event, login_as, telemost_account, endpoints, conference):
    endpoints.expect_oneshot_request("/telemost/conferences", method="POST").respond_with_json(
        {"error": "UnauthorizedError", "description": "Unauthorized"}, status=401)
    conference()
    event = _telemost_event(make_event, people)
    room = rooms.reconcile(event)
    db.session.commit()
    rooms.process_due()
    assert room.state == RoomState.FAILED
    assert "issue a new one" in room.last_error
    assert rooms.process_due(now=_later()) == 0  # failed rooms wait for a person

    login_as(people.coordinator)
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "failed" in page and "issue a new one" in page
    response = client.post(f"/events/{event.id}/room/retry")
    assert response.status_code == 302
    db.session.expire_all()
    assert rooms.room_of(event).state == RoomState.PENDING
    rooms.process_due()
    assert rooms.room_of(event).state == RoomState.READY


def test_a_teacher_may_not_retry_a_room(client, people, make_event, login_as):
    event = make_event()
    login_as(people.teacher)
    assert client.post(f"/events/{event.id}/room/retry").status_code == 403


def test_changing_the_event_updates_the_room_and_cancelling_removes_it(people, make_event):
    event = make_event()
    room = rooms.reconcile(event)
    name = room.external_id
    event.title = "Семинар-практикум (перенесён)"
    assert rooms.reconcile(event) is room and room.external_id == name
    assert room.state == RoomState.READY and room.synced_fingerprint == rooms.fingerprint(event)
    services.cancel_event(event)
    db.session.commit()
    assert room.state == RoomState.DELETED and rooms.room_of(event) is None


def test_a_new_provider_replaces_the_room(people, make_event, telemost_account, conference):
    conference()
    event = _telemost_event(make_event, people)
    old = rooms.reconcile(event)
    rooms.process_due()
    assert old.state == RoomState.READY
    event.provider = "jitsi"
    new = rooms.reconcile(event)
    db.session.commit()
    assert new.id != old.id and new.state == RoomState.READY and new.provider == "jitsi"
    # Telemost has no way to remove a conference: the old room is forgotten by the worker.
    assert (old.state, old.action) == (RoomState.PENDING, RoomAction.DELETE)
    rooms.process_due()
    assert old.state == RoomState.DELETED


def test_an_event_without_settings_for_its_provider_says_what_to_do(people, make_event):
    event = _telemost_event(make_event, people)
    room = rooms.reconcile(event)
    db.session.commit()
    rooms.process_due()
    assert room.state == RoomState.FAILED
    assert "None of the host organisations has settings" in room.last_error


def test_upcoming_events_without_a_room_get_one_from_the_safety_net(people, make_event):
    first, second = make_event(), make_event()
    make_event(status=EventStatus.DRAFT)
    assert rooms.reconcile_upcoming() == 2
    assert db.session.query(Room).count() == 2
    assert rooms.reconcile_upcoming() == 0
    assert {rooms.room_of(e).state for e in (first, second)} == {RoomState.READY}


def test_two_workers_never_take_the_same_room(people, make_event, telemost_account,
                                              conference):
    conference()
    event = _telemost_event(make_event, people)
    rooms.reconcile(event)
    db.session.commit()
    now = utcnow()
    taken = rooms.claim(now)
    assert len(taken) == 1
    assert rooms.claim(now) == []  # the first worker's lease holds it
    assert len(rooms.claim(now + rooms.LEASE + timedelta(seconds=1))) == 1  # until it expires
