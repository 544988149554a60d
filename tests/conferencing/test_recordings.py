"""Recordings providers report, through the real hook route: Zoom's signed
«recording.completed» and BigBlueButton's recording-ready callback (a JWT, then getRecordings
served locally) become one RECORDING material of the event, however often they arrive; forged
ones, and a server that fails to answer, add nothing. The materials show in the bank once the
event is over."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import jwt
import pytest
from sqlalchemy import select

from hub.archive.access import visible
from hub.archive.models import Material, MaterialKind
from hub.conferencing import accounts
from hub.conferencing.models import ProviderReport, Room, RoomState
from hub.core.types import utcnow
from hub.extensions import db
from tests.conferencing.test_webhooks import (  # noqa: F401 - zoom_room is a fixture
    BBB_SECRET,
    MEETING_ID,
    _zoom_post,
    zoom_room,
)

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

PROVIDERS = Path(__file__).parent / "providers"
SHARE_URL = "https://us06web.zoom.us/rec/share/Qg75t7xZBtEbAkjdlgbfdngBBBB.mWxE3nQ2"
BBB_MEETING = "vmeste-room-17-1a2b3c4d"
RECORD_ID = "2b1e1a6f4f3c7b2d9a8e5c4b3a2f1e0d9c8b7a6f-1796021700123"
PLAYBACK = f"https://bbb.example.org/playback/presentation/2.3/{RECORD_ID}"
API = "/bigbluebutton/api"


def recordings() -> list[Material]:
    return list(db.session.scalars(select(Material).where(
        Material.kind == MaterialKind.RECORDING)))


def recording_completed() -> dict:
    """Zoom's documented «recording.completed» for MEETING_ID."""
    message = json.loads((PROVIDERS / "zoom" / "recording_completed.json").read_text("utf-8"))
    message["payload"]["object"]["id"] = int(MEETING_ID)
    return message


@pytest.fixture
def ended_zoom_room(zoom_room: Room) -> Room:  # noqa: F811 - the imported fixture
    """The Zoom room of an event that ended an hour ago."""
    zoom_room.event.start_at = utcnow() - timedelta(hours=3)
    zoom_room.event.end_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    return zoom_room


def test_zoom_recording_completed_adds_the_share_page_once(client, people, ended_zoom_room):
    message = recording_completed()
    assert _zoom_post(client, ended_zoom_room, message).status_code == 204
    assert _zoom_post(client, ended_zoom_room, message).status_code == 204  # Zoom retried it

    [material] = recordings()
    assert material.event_id == ended_zoom_room.event_id and material.url == SHARE_URL
    assert material.title == message["payload"]["object"]["topic"]
    assert material.published
    assert db.session.query(ProviderReport).count() == 0
    assert not any("download" in m.url for m in recordings())


def test_a_zoom_recording_is_in_the_bank_after_the_event(client, login_as, people,
                                                         ended_zoom_room):
    _zoom_post(client, ended_zoom_room, recording_completed())

    [material] = recordings()
    found = db.session.scalars(select(Material.id).where(visible(people.teacher))).all()
    assert material.id in found
    login_as(people.teacher)
    assert material.title in client.get("/bank").get_data(as_text=True)


def test_a_forged_zoom_recording_is_refused_and_adds_nothing(client, ended_zoom_room):
    response = _zoom_post(client, ended_zoom_room, recording_completed(), secret="guess")

    assert response.status_code == 401 and response.get_json() == {"error": "rejected"}
    assert recordings() == []


def test_a_zoom_recording_of_a_room_we_do_not_have_is_ignored(client, ended_zoom_room):
    message = recording_completed()
    message["payload"]["object"]["id"] = 11111111111

    assert _zoom_post(client, ended_zoom_room, message).status_code == 204
    assert recordings() == []


# -- BigBlueButton ------------------------------------------------------------------------------


@pytest.fixture
def bbb_room(people, make_event, httpserver) -> Room:  # type: ignore[no-untyped-def]
    """A BigBlueButton room whose API is the local `httpserver`, of an event that ended."""
    account = accounts.save_account(
        people.coordinator.organisation, "bigbluebutton",
        {"api_url": httpserver.url_for(API), "secret": BBB_SECRET}, people.coordinator)
    event = make_event(provider="bigbluebutton", start=utcnow() - timedelta(hours=3))
    room = Room(event=event, provider="bigbluebutton", account=account,
                state=RoomState.READY, external_id=BBB_MEETING)
    db.session.add(room)
    db.session.commit()
    return room


def post_recording_ready(client, room: Room, secret: str = BBB_SECRET):  # type: ignore[no-untyped-def]
    """The form recording_ready_callback.rb posts: signed_parameters, a JWT (HS256)."""
    token = jwt.encode({"meeting_id": BBB_MEETING, "record_id": RECORD_ID}, secret,
                       algorithm="HS256")
    return client.post(f"/conferencing/hooks/{room.account_id}",
                       data=urlencode({"signed_parameters": token}),
                       content_type="application/x-www-form-urlencoded")


def serve_recordings(httpserver, answer: str) -> None:  # type: ignore[no-untyped-def]
    """getRecordings answered with a recorded XML `answer` (a file name), as bbb-web does."""
    body = (PROVIDERS / "bigbluebutton" / answer).read_text("utf-8")
    httpserver.expect_request(f"{API}/getRecordings", method="GET").respond_with_data(
        body, content_type="text/xml;charset=utf-8")


def test_bbb_recording_ready_adds_the_playback_once(client, people, httpserver, bbb_room):
    serve_recordings(httpserver, "get_recordings.xml")

    assert post_recording_ready(client, bbb_room).status_code == 204
    assert post_recording_ready(client, bbb_room).status_code == 204  # sent again

    [material] = recordings()
    assert material.event_id == bbb_room.event_id and material.url == PLAYBACK
    found = db.session.scalars(select(Material.id).where(visible(people.teacher))).all()
    assert material.id in found
    request = httpserver.log[0][0]
    assert request.path == f"{API}/getRecordings" and request.args["recordID"] == RECORD_ID
    assert "checksum" in request.args


def test_a_forged_bbb_recording_ready_is_refused_without_asking_the_server(
        client, httpserver, bbb_room):
    response = post_recording_ready(client, bbb_room, secret="a-forged-secret-of-someone-else")

    assert response.status_code == 401 and response.get_json() == {"error": "rejected"}
    assert httpserver.log == [] and recordings() == []


def test_a_bbb_recording_not_published_yet_adds_nothing(client, httpserver, bbb_room):
    serve_recordings(httpserver, "get_recordings_unpublished.xml")

    assert post_recording_ready(client, bbb_room).status_code == 204
    assert recordings() == []


@pytest.mark.parametrize("failure", ["FAILED", "HTTP 500"])
def test_get_recordings_failing_adds_nothing_and_answers_503(client, httpserver, bbb_room,
                                                             failure):
    if failure == "FAILED":
        serve_recordings(httpserver, "checksum_error.xml")
    else:
        httpserver.expect_request(f"{API}/getRecordings").respond_with_data(
            "Internal Server Error", status=500)

    response = post_recording_ready(client, bbb_room)

    assert response.status_code == 503 and response.get_json() == {"error": "unavailable"}
    assert recordings() == []
