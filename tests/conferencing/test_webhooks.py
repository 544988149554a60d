"""Providers' webhooks and callbacks at /conferencing/hooks/<account>: Zoom's signed webhooks
(participant joined, URL validation) and BigBlueButton's analytics callback (a JWT), stored
once per message however often they arrive; forged, stale and unknown ones change nothing.
And attendance fetched from a provider's report after the meeting."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta
from pathlib import Path

import jwt
import pytest

from hub.conferencing import accounts, reports
from hub.conferencing.models import (
    ProviderInterval,
    ProviderReport,
    Room,
    RoomRegistration,
    RoomState,
)
from hub.core.types import utcnow
from hub.extensions import db

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

ZOOM_SECRET = "whsec-zoom-secret-token-0000"
BBB_SECRET = "ECCJZNJWLPEA3YB6Y2LTQGQD3GJZ3F93kq7Zt2Xw"
MEETING_ID = "85746065432"
CALLBACK = Path(__file__).parent / "providers" / "bigbluebutton" / "analytics_callback.json"


@pytest.fixture
def zoom_room(people, make_event):  # type: ignore[no-untyped-def]
    account = accounts.save_account(
        people.coordinator.organisation, "zoom",
        {"account_id": "acc", "client_id": "cid", "client_secret": "csecret",
         "webhook_secret": ZOOM_SECRET}, people.coordinator)
    event = make_event(provider="zoom")
    room = Room(event=event, provider="zoom", account=account, state=RoomState.READY,
                external_id=MEETING_ID, join_url=f"https://us06web.zoom.us/j/{MEETING_ID}",
                data={"id": int(MEETING_ID), "kind": "meeting"})
    db.session.add(room)
    db.session.commit()
    return room


def _zoom_post(client, room, message: dict, *, secret: str = ZOOM_SECRET,  # type: ignore[no-untyped-def]
               sent: float | None = None):
    raw = json.dumps(message, ensure_ascii=False).encode()
    stamp = str(int(sent if sent is not None else time.time()))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + raw, hashlib.sha256)
    return client.post(f"/conferencing/hooks/{room.account_id}", data=raw, headers={
        "x-zm-signature": f"v0={digest.hexdigest()}", "x-zm-request-timestamp": stamp,
        "Content-Type": "application/json"})


def _joined(email: str, registrant: str = "") -> dict:
    return {"event": "meeting.participant_joined", "event_ts": 1796882700123, "payload": {
        "account_id": "acc", "object": {
            "id": MEETING_ID, "uuid": "4444AAAiAAAAAiAiAiiAii==", "topic": "Семинар",
            "participant": {"user_id": "16778240", "user_name": "Попова Анна",
                            "participant_uuid": "8Gv1lXs5QvWY8s0ZG5WzTw", "email": email,
                            "registrant_id": registrant,
                            "join_time": "2026-12-03T07:01:02Z"}}}}


def test_a_zoom_join_is_stored_once_and_matched_to_the_person(client, people, zoom_room):
    message = _joined(people.teacher.email)
    assert _zoom_post(client, zoom_room, message).status_code == 204
    assert _zoom_post(client, zoom_room, message).status_code == 204  # Zoom retried it
    [report] = db.session.query(ProviderReport).all()
    assert report.kind == "joined" and report.room_id == zoom_room.id
    [interval] = db.session.query(ProviderInterval).all()
    assert interval.person_id == people.teacher.id and interval.left_at is None
    assert interval.joined_at.isoformat() == "2026-12-03T07:01:02+00:00"


def test_a_zoom_registrant_is_matched_by_the_registration(client, people, zoom_room):
    db.session.add(RoomRegistration(room_id=zoom_room.id, person_id=people.other_teacher.id,
                                    join_url="https://us06web.zoom.us/w/1?tk=x",
                                    external_id="reg-sokolova"))
    db.session.commit()
    _zoom_post(client, zoom_room, _joined("", registrant="reg-sokolova"))
    [interval] = db.session.query(ProviderInterval).all()
    assert interval.person_id == people.other_teacher.id


@pytest.mark.parametrize("how", ["forged", "stale", "unsigned"])
def test_forged_stale_or_unsigned_zoom_webhooks_are_rejected(client, people, zoom_room, how):
    message = _joined(people.teacher.email)
    if how == "forged":
        response = _zoom_post(client, zoom_room, message, secret="not-the-secret")
    elif how == "stale":
        response = _zoom_post(client, zoom_room, message, sent=time.time() - 3600)
    else:
        response = client.post(f"/conferencing/hooks/{zoom_room.account_id}",
                               json=message)
    assert response.status_code == 401
    assert response.get_json() == {"error": "rejected"}
    assert db.session.query(ProviderReport).count() == 0


def test_zoom_url_validation_is_answered(client, zoom_room):
    response = _zoom_post(client, zoom_room, {"event": "endpoint.url_validation",
                                              "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"},
                                              "event_ts": 1654503849680})
    assert response.status_code == 200
    expected = hmac.new(ZOOM_SECRET.encode(), b"qgg8vlvZRS6UYooatFL8Aw",
                        hashlib.sha256).hexdigest()
    assert response.get_json() == {"plainToken": "qgg8vlvZRS6UYooatFL8Aw",
                                   "encryptedToken": expected}


def test_a_webhook_for_a_room_we_do_not_have_is_accepted_and_ignored(client, zoom_room):
    message = _joined("someone@example.org")
    message["payload"]["object"]["id"] = "11111111111"
    assert _zoom_post(client, zoom_room, message).status_code == 204
    assert db.session.query(ProviderReport).count() == 0


def test_a_webhook_too_large_is_refused(client, zoom_room):
    response = client.post(f"/conferencing/hooks/{zoom_room.account_id}",
                           data=b"x" * (1024 * 1024 + 1))
    assert response.status_code == 413


def test_bigbluebutton_analytics_callback_is_stored_once(client, people, make_event):
    account = accounts.save_account(
        people.coordinator.organisation, "bigbluebutton",
        {"api_url": "https://bbb.example.org/bigbluebutton/api", "secret": BBB_SECRET},
        people.coordinator)
    callback = json.loads(CALLBACK.read_text(encoding="utf-8"))
    room = Room(event=make_event(provider="bigbluebutton"), provider="bigbluebutton",
                account=account, state=RoomState.READY, external_id=callback["meeting_id"])
    db.session.add(room)
    db.session.commit()
    for attendee, person in zip(callback["data"]["attendees"], (people.coordinator,
                                                                people.teacher), strict=False):
        attendee["ext_user_id"] = f"p{person.id}"
    body = json.dumps(callback, ensure_ascii=False).encode()

    def post(secret: str):  # type: ignore[no-untyped-def]
        token = jwt.encode({"exp": int(time.time()) + 86400}, secret, algorithm="HS512")
        return client.post(f"/conferencing/hooks/{account.id}", data=body, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})

    assert post("a-forged-secret-of-someone-else").status_code == 401
    assert post(BBB_SECRET).status_code == 204
    assert post(BBB_SECRET).status_code == 204  # BBB may send it again
    [report] = db.session.query(ProviderReport).all()
    assert report.kind == "attendance"
    people_seen = {i.person_id for i in db.session.query(ProviderInterval)}
    assert {people.coordinator.id, people.teacher.id} <= people_seen


def test_attendance_is_fetched_once_the_meeting_is_over(people, make_event, endpoints):
    account = accounts.save_account(
        people.coordinator.organisation, "zoom",
        {"account_id": "acc", "client_id": "cid", "client_secret": "csecret"},
        people.coordinator)
    start = utcnow() - timedelta(hours=3)
    event = make_event(provider="zoom", start=start, minutes=90)
    room = Room(event=event, provider="zoom", account=account, state=RoomState.READY,
                external_id=MEETING_ID, data={"id": int(MEETING_ID), "kind": "meeting"})
    db.session.add(room)
    db.session.commit()
    endpoints.expect_request("/zoom-oauth/oauth/token", method="POST").respond_with_json(
        {"access_token": "tok", "token_type": "bearer", "expires_in": 3599})
    endpoints.expect_request(f"/zoom/report/meetings/{MEETING_ID}/participants").respond_with_json(
        {"page_size": 300, "total_records": 1, "next_page_token": "", "participants": [
            {"id": "x1", "user_id": "16778240", "name": "Попова Анна",
             "user_email": people.teacher.email, "join_time": "2026-12-03T07:01:02Z",
             "leave_time": "2026-12-03T08:30:00Z", "duration": 5338, "status": "in_meeting"}]})
    assert reports.fetch_due() == 1
    assert reports.fetch_due() == 0  # fetched once
    [interval] = db.session.query(ProviderInterval).all()
    assert interval.person_id == people.teacher.id
    assert interval.left_at.isoformat() == "2026-12-03T08:30:00+00:00"
