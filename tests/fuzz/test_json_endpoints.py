"""The routes that take or give JSON, fed bodies generated from their schemas (tests/fuzz/
schemas.py), valid and invalid: never a 500; a refusal is a 4xx with a JSON reason; a refused
request changes nothing in the database; a valid, signed webhook is taken (2xx).

Routes: POST /conferencing/hooks/<account> (Zoom webhooks, BigBlueButton's analytics and
recording-ready callbacks), POST /events/<id>/presence, GET /boards/<id>/state.json (with the
guest header), GET /events/<id>/checkin/code.json, GET /events/people.json?q=.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import example, given
from hypothesis import strategies as st

from hub.board.services import ensure_board
from hub.conferencing import accounts
from hub.conferencing.models import ProviderAccount, Room, RoomState
from hub.core.types import utcnow
from hub.directory.models import Person
from hub.extensions import db, limiter
from hub.scheduling.models import Event
from tests.calendar.conftest import invite, make_event  # noqa: F401
from tests.conftest import login
from tests.fuzz import schemas
from tests.fuzz.conftest import new_rows, table_counts

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

ZOOM_SECRET = "whsec-zoom-secret-token-0000"
BBB_SECRET = "ECCJZNJWLPEA3YB6Y2LTQGQD3GJZ3F93kq7Zt2Xw"
JSON = {"Accept": "application/json"}


def assert_answer(response: Any, *, changed: bool, before: dict[str, tuple[int, int]]) -> None:
    """Never a 500; a 4xx says why in JSON and leaves the database as it was."""
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if response.status_code >= 400:
        assert response.is_json and response.get_json().get("error"), response.data[:200]
        assert not changed or table_counts() == before


@pytest.fixture
def zoom_account(people, make_event) -> ProviderAccount:  # type: ignore[no-untyped-def]  # noqa: F811
    account = accounts.save_account(
        people.coordinator.organisation, "zoom",
        {"account_id": "acc", "client_id": "cid", "client_secret": "csecret",
         "webhook_secret": ZOOM_SECRET}, people.coordinator)
    db.session.add(Room(event=make_event(provider="zoom"), provider="zoom", account=account,
                        state=RoomState.READY, external_id=schemas.ZOOM_MEETING,
                        data={"id": int(schemas.ZOOM_MEETING), "kind": "meeting"}))
    db.session.commit()
    return account


def zoom_post(client: FlaskClient, account_id: int, raw: bytes, *, secret: str = ZOOM_SECRET,
              age: float = 0.0) -> Any:
    limiter.reset()  # the hook allows 600 a minute; a deep run sends more
    stamp = str(int(time.time() - age))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + raw, hashlib.sha256)
    return client.post(f"/conferencing/hooks/{account_id}", data=raw, headers={
        "x-zm-signature": f"v0={digest.hexdigest()}", "x-zm-request-timestamp": stamp,
        "Content-Type": "application/json"})


@given(st.sampled_from(schemas.ZOOM).flatmap(schemas.valid))
@example({"event": "meeting.participant_joined", "payload": {"object": {  # was a 500
    "id": schemas.ZOOM_MEETING, "participant": {"join_time": "2026-12-03T07:01:02Z",
                                                "user_name": "\x00\ud800"}}}})
def test_valid_signed_zoom_webhooks_are_taken(client, zoom_account, message):
    with new_rows():
        response = zoom_post(client, zoom_account.id, schemas.body(message))
        assert response.status_code in (200, 204), response.get_data(as_text=True)[:300]
        if message["event"] == "endpoint.url_validation":
            assert response.get_json()["plainToken"] == message["payload"]["plainToken"]


@given(message=schemas.invalid(schemas.ZOOM), forged=st.sampled_from(["", "secret", "stale"]))
@example(message={"event": "endpoint.url_validation", "payload": {"plainToken": "\ud800"}},
         forged="")  # was a 500
@example(message={"event": "meeting.participant_left", "payload": {"object": {  # was a 500
    "id": schemas.ZOOM_MEETING, "participant": {"leave_time": "0001-01-01T00:00:00+05:00"}}}},
         forged="")
def test_invalid_or_forged_zoom_webhooks_change_nothing(client, zoom_account, message, forged):
    with new_rows() as before:
        raw = schemas.body(message)
        if forged == "secret":
            response = zoom_post(client, zoom_account.id, raw, secret="not-the-secret")
        elif forged == "stale":
            response = zoom_post(client, zoom_account.id, raw, age=3600)
        else:
            response = zoom_post(client, zoom_account.id, raw)
        assert_answer(response, changed=True, before=before)
        if forged:
            assert response.status_code == 401


@pytest.fixture
def bbb_account(people, make_event) -> ProviderAccount:  # type: ignore[no-untyped-def]  # noqa: F811
    account = accounts.save_account(
        people.coordinator.organisation, "bigbluebutton",
        # Nothing listens there: a signed recording-ready callback's getRecordings fails at
        # once (the hub answers 503, so that the server retries) and never leaves the machine.
        {"api_url": "http://127.0.0.1:9/bigbluebutton/api", "secret": BBB_SECRET},
        people.coordinator)
    db.session.add(Room(event=make_event(provider="bigbluebutton"), provider="bigbluebutton",
                        account=account, state=RoomState.READY,
                        external_id=schemas.BBB_MEETING))
    db.session.commit()
    return account


def bbb_post(client: FlaskClient, account_id: int, raw: bytes, *, secret: str = BBB_SECRET,
             algorithm: str = "HS512", expires: int = 86400, content_type: str = "") -> Any:
    limiter.reset()
    token = jwt.encode({"exp": int(time.time()) + expires}, secret, algorithm=algorithm)
    return client.post(f"/conferencing/hooks/{account_id}", data=raw, headers={
        "Authorization": f"Bearer {token}",
        "Content-Type": content_type or "application/json"})


@given(schemas.valid(schemas.BBB_ANALYTICS))
@example({"meeting_id": schemas.BBB_MEETING, "internal_meeting_id": "x", "data": {  # a 500
    "attendees": [{"name": "\x00", "ext_user_id": "p\ud800", "joins": ["2026-12-03T07:00Z"]},
                  {"ext_user_id": "p²", "joins": ["2026-12-03T07:00Z"]},
                  {"ext_user_id": "p" + "9" * 30, "joins": ["2026-12-03T07:00Z"]},
                  {"ext_user_id": "p" + "9" * 18, "joins": ["2026-12-03T07:00Z"]}]}})
def test_valid_signed_bigbluebutton_callbacks_are_taken(client, bbb_account, callback):
    with new_rows():
        response = bbb_post(client, bbb_account.id, schemas.body(callback))
        assert response.status_code == 204, response.get_data(as_text=True)[:300]


_forms = st.one_of(
    st.just(b"signed_parameters="), st.just(b"signed_parameters=a&signed_parameters=b"),
    st.builds(lambda claims, secret, alg: b"signed_parameters=" + jwt.encode(
        claims, secret, algorithm=alg).encode(),
        st.dictionaries(st.sampled_from(["meeting_id", "record_id"]), schemas.json_values),
        st.sampled_from([BBB_SECRET, "forged"]), st.sampled_from(["HS256", "HS512"])),
    st.binary(max_size=200))


@given(raw=st.one_of(schemas.invalid([schemas.BBB_ANALYTICS]).map(schemas.body), _forms),
       how=st.sampled_from(["", "forged", "expired", "HS256"]))
@example(raw=b"signed_parameters=" + jwt.encode({"meeting_id": 1}, BBB_SECRET,
                                                algorithm="HS256").encode(), how="")
@example(raw=schemas.body({"meeting_id": schemas.BBB_MEETING, "internal_meeting_id": "x",
                           "data": {"attendees": [{"joins": ["0001-01-01T00:00:00+14:00"]}]}}),
         how="")  # was a 500
@example(raw=b"signed_parameters=" + jwt.encode({"meeting_id": "0", "record_id": "0"},
                                                BBB_SECRET, algorithm="HS256").encode(), how="")
def test_invalid_or_forged_bigbluebutton_callbacks_change_nothing(client, bbb_account, raw, how):
    with new_rows() as before:
        response = bbb_post(client, bbb_account.id, raw,
                            secret="forged" if how == "forged" else BBB_SECRET,
                            algorithm="HS256" if how == "HS256" else "HS512",
                            expires=-7200 if how == "expired" else 86400,
                            content_type="application/x-www-form-urlencoded")
        if response.status_code == 503:  # signed: the hub asked the (absent) server
            assert response.get_json() == {"error": "unavailable"} and not how
            assert table_counts() == before
        else:
            assert_answer(response, changed=True, before=before)
        assert response.status_code != 204 or not how


@given(account=st.integers(-2, 10**30), raw=st.binary(max_size=300),
       headers=st.dictionaries(st.sampled_from(["Authorization", "x-zm-signature",
                                                "x-zm-request-timestamp", "Content-Type"]),
                               st.text(st.characters(codec="latin-1", exclude_characters="\r\n"),
                                       max_size=60)))
def test_any_request_to_a_hook_is_answered_in_json(client, zoom_account, bbb_account, account,
                                                   raw, headers):
    limiter.reset()
    before = table_counts()
    response = client.post(f"/conferencing/hooks/{account}", data=raw,
                           headers={**JSON, **headers})
    assert_answer(response, changed=True, before=before)


# -- presence, the board's state, the check-in display, the address lookup ------------------


@pytest.fixture
def live_event(make_event, invite, people) -> Event:  # type: ignore[no-untyped-def]  # noqa: F811
    """A meeting under way: the teacher invited."""
    event = make_event(start=utcnow() - timedelta(minutes=10), minutes=90)
    invite(event, [people.teacher])
    return event


_bodies = st.one_of(st.just(schemas.body({})), schemas.invalid([schemas.PRESENCE])
                    .map(schemas.body), st.binary(max_size=200))
_types = st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded",
                          "multipart/form-data; boundary=x", ""])


@given(raw=_bodies, content_type=_types, who=st.sampled_from(["teacher", "stranger", "nobody"]))
def test_presence_answers_in_json(app, live_event, people, raw, content_type, who):
    client = signed_in(app, {"teacher": people.teacher, "stranger": people.other_teacher}
                       .get(who))
    with new_rows() as before:
        response = client.post(f"/events/{live_event.id}/presence", data=raw,
                               headers={**JSON, "Content-Type": content_type})
        assert_answer(response, changed=True, before=before)
        if who == "teacher":
            assert response.status_code == 200 and response.get_json() == {"ok": True}
        else:
            assert response.status_code == 403


_header_text = st.text(st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=700)


@given(guest=_header_text, signed_in_=st.booleans())
def test_board_state_answers_in_json(app, live_event, people, guest, signed_in_):
    board = ensure_board(live_event)
    db.session.commit()
    client = signed_in(app, people.teacher if signed_in_ else None)
    before = table_counts()
    response = client.get(f"/boards/{board.id}/state.json",
                          headers={**JSON, "X-Board-Guest": guest})
    assert_answer(response, changed=True, before=before)
    assert response.status_code == (200 if signed_in_ else 403)
    assert response.is_json


@given(who=st.sampled_from(["coordinator", "teacher", "nobody"]), event_id=st.integers(-1, 10**20))
def test_checkin_code_answers_in_json(app, live_event, people, who, event_id):
    client = signed_in(app, getattr(people, who, None))
    path_id = live_event.id if event_id % 2 else event_id
    response = client.get(f"/events/{path_id}/checkin/code.json", headers=JSON)
    assert response.status_code < 500 and response.is_json
    if path_id == live_event.id:
        assert response.status_code == (200 if who == "coordinator" else 403)


@given(query=st.text(max_size=120))
@example("\x00")
@example("%_\\")
def test_people_lookup_answers_in_json(coordinator_client, query):
    response = coordinator_client.get("/events/people.json", query_string={"q": query})
    assert response.status_code == 200
    people = response.get_json()["people"]
    assert isinstance(people, list) and len(people) <= 20


@pytest.fixture
def coordinator_client(app, people) -> FlaskClient:  # type: ignore[no-untyped-def]
    return signed_in(app, people.coordinator)


def signed_in(app: Flask, person: Person | None) -> FlaskClient:
    """A new client, signed in as `person` unless None (the login limit reset first: the
    examples of one test sign in many times a minute)."""
    limiter.reset()
    client = app.test_client()
    if person is not None:
        assert login(client, person).status_code == 302
    return client
