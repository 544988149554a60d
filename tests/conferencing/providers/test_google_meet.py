"""Google Meet through the real google-api-python-client and google-auth.

Each test hands the provider googleapiclient's HttpMockSequence as its transport: the real
AuthorizedHttp signs in through it (the token request is the first answer) and the real
Calendar v3 / Meet v2 clients send their requests through it. The answers are recorded JSON in
google_meet/, in the formats the Calendar "Handle API errors" guide, the Event resource and the
Meet REST reference document. Nothing reaches the network.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google_auth_httplib2 import Request
from googleapiclient.http import HttpMockSequence

from integrations.conferencing.base import (
    Context,
    Interval,
    Participant,
    ProviderAuthError,
    ProviderConfigError,
    ProviderError,
    ProviderUnavailable,
    Room,
    RoomGone,
    RoomSpec,
)
from integrations.conferencing.google_meet import SCOPES, TOKEN_URI, GoogleMeet

FIXTURES = Path(__file__).parent / "google_meet"
EVENT_ID = "vmeste5h8cplbrge6e1lvtbhqvm5imt3bfrdi6"  # the id of spec "room-17" under `context`
MEET_URL = "https://meet.google.com/mhz-ktqr-wnv"
CALENDAR = "https://www.googleapis.com/calendar/v3/calendars/primary/events"
MEET = "https://meet.googleapis.com/v2/"
ORGANISER = "coordinator@ds22.example.org"
OAUTH = {"oauth_client_id": "418562003771-k2v0test.apps.googleusercontent.com",
         "oauth_client_secret": "GOCSPX-not-a-real-secret",
         "oauth_refresh_token": "1//0g-not-a-real-refresh-token"}
SECRETS = (OAUTH["oauth_client_secret"], OAUTH["oauth_refresh_token"], "PRIVATE KEY")
SA_EMAIL = "vmeste-hub@vmeste-test.iam.gserviceaccount.com"
SA_CLIENT_ID = "104729386512093847561"


class Transport(HttpMockSequence):
    """HttpMockSequence that can also fail: an exception in the sequence is raised."""

    def request(self, uri: str, method: str = "GET", body: Any = None, headers: Any = None,
                redirections: int = 1, connection_type: Any = None) -> Any:
        if isinstance(self._iterable[0], BaseException):
            self.request_sequence.append((uri, method, body, headers))
            raise self._iterable.pop(0)
        return super().request(uri, method, body, headers, redirections, connection_type)


def answer(status: int, name: str | None = None, **headers: str) -> tuple[dict, str]:
    """A recorded answer: the fixture `name` (JSON) with `status`; no name: an empty body."""
    body = (FIXTURES / name).read_text() if name else ""
    return {"status": str(status), "content-type": "application/json; charset=UTF-8",
            **headers}, body


TOKEN = answer(200, "token.json")


def provider(context: Context, settings: dict[str, str], *answers: Any,
             sleeps: list[float] | None = None) -> tuple[GoogleMeet, Transport]:
    http = Transport(list(answers))
    sleep = sleeps.append if sleeps is not None else _no_sleep
    return GoogleMeet(settings, context, http=http, sleep=sleep), http


def _no_sleep(seconds: float) -> None:
    raise AssertionError("the provider should not wait here")


def sent(http: Transport, index: int) -> tuple[str, str, dict[str, list[str]], Any, dict]:
    """Request `index`: method, URL without query, query, JSON body (or form), headers."""
    uri, method, body, headers = http.request_sequence[index]
    parts = urlsplit(uri)
    if isinstance(body, bytes):
        body = body.decode()
    if body and headers.get("content-type", "").startswith("application/json"):
        body = json.loads(body)
    elif body:
        body = parse_qs(body)
    return method, f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qs(parts.query), \
        body, headers


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def service_account(private_key: rsa.RSAPrivateKey) -> dict[str, str]:
    pem = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    key = {"type": "service_account", "project_id": "vmeste-test",
           "private_key_id": "3f1c0e5a9b7d2c4e6f8a0b1c2d3e4f5a6b7c8d9e", "private_key": pem,
           "client_email": SA_EMAIL, "client_id": SA_CLIENT_ID,
           "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": TOKEN_URI,
           "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
           "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
                                   "vmeste-hub%40vmeste-test.iam.gserviceaccount.com",
           "universe_domain": "googleapis.com"}
    return {"service_account_json": json.dumps(key, indent=2)}


def made_room() -> Room:
    return Room(external_id=EVENT_ID, join_url=MEET_URL,
                data={"event_id": EVENT_ID, "calendar_id": ORGANISER,
                      "meeting_code": "mhz-ktqr-wnv"})


def assert_no_secret(message: str) -> None:
    assert not any(secret in message for secret in SECRETS)


# -- the provider and its settings -----------------------------------------------------------


def test_describes_itself() -> None:
    assert GoogleMeet.key == "google_meet" and GoogleMeet.label == "Google Meet"
    caps = GoogleMeet.capabilities
    assert (caps.per_person_links, caps.attendance, caps.webhooks) == (False, True, False)
    fields = {f.name: f for f in GoogleMeet.settings_fields}
    assert set(fields) == {"service_account_json", "calendar_user", *OAUTH}
    assert not any(f.required for f in fields.values())
    assert fields["service_account_json"].secret and fields["service_account_json"].multiline
    assert fields["oauth_client_secret"].secret and fields["oauth_refresh_token"].secret
    assert GoogleMeet.missing_modules() == []


@pytest.mark.parametrize(("settings", "missing"), [
    ({}, ["service_account_json", *OAUTH]),
    ({"calendar_user": ORGANISER}, ["service_account_json", *OAUTH]),
    ({"oauth_client_id": "x"}, ["oauth_client_secret", "oauth_refresh_token"]),
    ({"service_account_json": "{...}"}, []),
    (OAUTH, []),
])
def test_missing_settings_asks_for_one_way(settings: dict[str, str], missing: list[str]) -> None:
    assert [f.name for f in GoogleMeet.missing_settings(settings)] == missing


def test_module_imports_without_the_google_libraries() -> None:
    code = ("import sys\n"
            "for name in ('googleapiclient', 'google', 'google_auth_httplib2', 'httplib2'):\n"
            "    sys.modules[name] = None\n"
            "from integrations.conferencing.google_meet import GoogleMeet\n"
            "print(GoogleMeet.missing_modules())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).parents[3], check=True)
    assert "googleapiclient" in result.stdout


def test_event_id_is_stable_base32hex_and_per_installation(context: Context) -> None:
    meet = GoogleMeet(OAUTH, context)
    assert meet.event_id("room-17") == EVENT_ID == meet.event_id("room-17")
    assert set(EVENT_ID) <= set("abcdefghijklmnopqrstuv0123456789") and len(EVENT_ID) >= 5
    assert meet.event_id("room-18") != EVENT_ID
    other = GoogleMeet(OAUTH, Context(secret="another installation"))
    assert other.event_id("room-17") != EVENT_ID


@pytest.mark.parametrize(("settings", "expected"), [
    ({}, "enter a service account key"),
    ({"oauth_client_id": "x", "oauth_refresh_token": "y"}, "needs the OAuth client ID, client"),
    ({**OAUTH, "service_account_json": "{}"}, "not both"),
    ({"service_account_json": "{not json"}, "not valid JSON"),
    ({"service_account_json": '{"installed": {"client_id": "x"}}'}, "not a service account"),
    ({"service_account_json": '{"type": "service_account", "private_key": "garbage"}'},
     "incomplete or damaged"),
])
def test_settings_errors_come_before_any_request(context: Context, spec: RoomSpec,
                                                 settings: dict[str, str], expected: str) -> None:
    meet, http = provider(context, settings)
    for call in (meet.check_connection, lambda: meet.create_room(spec, Room())):
        with pytest.raises(ProviderConfigError, match=expected):
            call()
    assert http.request_sequence == []


def test_service_account_needs_a_calendar_user(context: Context, spec: RoomSpec,
                                               service_account: dict[str, str]) -> None:
    meet, http = provider(context, service_account)
    without_organiser = RoomSpec(**{**spec.__dict__, "organiser_email": None})
    with pytest.raises(ProviderConfigError, match="enter a calendar user"):
        meet.create_room(without_organiser, Room())
    assert http.request_sequence == []


# -- credentials -------------------------------------------------------------------------------


def test_service_account_credentials_act_for_the_organiser(
        context: Context, service_account: dict[str, str],
        private_key: rsa.RSAPrivateKey) -> None:
    credentials = GoogleMeet(service_account, context).credentials(ORGANISER)
    assert credentials.service_account_email == SA_EMAIL
    assert tuple(credentials.scopes) == SCOPES
    assert SCOPES == ("https://www.googleapis.com/auth/calendar.events",
                      "https://www.googleapis.com/auth/meetings.space.readonly")

    http = Transport([TOKEN])
    credentials.refresh(Request(http))  # the JWT grant goes to the mock, not to Google
    assert credentials.token == "ya29.a0AfB_test-access-token"
    method, url, _, form, _ = sent(http, 0)
    assert (method, url) == ("POST", TOKEN_URI)
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    claims = jwt.decode(form["assertion"][0], private_key.public_key(), algorithms=["RS256"],
                        audience=TOKEN_URI)
    assert claims["iss"] == SA_EMAIL and claims["sub"] == ORGANISER
    assert claims["scope"].split() == list(SCOPES)


def test_calendar_user_setting_overrides_the_organiser(
        context: Context, spec: RoomSpec, service_account: dict[str, str],
        private_key: rsa.RSAPrivateKey) -> None:
    settings = {**service_account, "calendar_user": "events@ds22.example.org"}
    meet, http = provider(context, settings, TOKEN, answer(200, "event_success.json"))
    room = meet.create_room(spec, Room())
    form = sent(http, 0)[3]
    claims = jwt.decode(form["assertion"][0], private_key.public_key(), algorithms=["RS256"],
                        audience=TOKEN_URI)
    assert claims["sub"] == "events@ds22.example.org"
    assert room.data["calendar_id"] == "events@ds22.example.org"

    # Later calls act in the calendar the event was made in, whatever the settings say now.
    moved = {**service_account, "calendar_user": "someone-else@ds22.example.org"}
    meet, http = provider(context, moved, TOKEN, answer(204))
    meet.delete_room(room)
    claims = jwt.decode(sent(http, 0)[3]["assertion"][0], private_key.public_key(),
                        algorithms=["RS256"], audience=TOKEN_URI)
    assert claims["sub"] == "events@ds22.example.org"


def test_oauth_credentials_use_the_refresh_token(context: Context) -> None:
    credentials = GoogleMeet(OAUTH, context).credentials()
    assert credentials.client_id == OAUTH["oauth_client_id"]
    assert credentials.client_secret == OAUTH["oauth_client_secret"]
    assert credentials.refresh_token == OAUTH["oauth_refresh_token"]
    assert credentials.token_uri == TOKEN_URI and credentials.token is None

    http = Transport([TOKEN])
    credentials.refresh(Request(http))
    method, url, _, form, _ = sent(http, 0)
    assert (method, url) == ("POST", TOKEN_URI)
    assert form["grant_type"] == ["refresh_token"]
    assert form["refresh_token"] == [OAUTH["oauth_refresh_token"]]
    assert form["client_id"] == [OAUTH["oauth_client_id"]]


# -- create_room -------------------------------------------------------------------------------


def test_create_inserts_an_event_with_a_meet_conference(context: Context,
                                                        spec: RoomSpec) -> None:
    meet, http = provider(context, OAUTH, TOKEN, answer(200, "event_success.json"))
    room = meet.create_room(spec, Room(data={"kept": 1}))

    assert room == Room(external_id=EVENT_ID, join_url=MEET_URL,
                        data={"kept": 1, "event_id": EVENT_ID, "calendar_id": ORGANISER,
                              "meeting_code": "mhz-ktqr-wnv"})
    assert len(http.request_sequence) == 2
    assert sent(http, 0)[:2] == ("POST", TOKEN_URI)
    method, url, query, body, headers = sent(http, 1)
    assert (method, url) == ("POST", CALENDAR)
    assert query == {"conferenceDataVersion": ["1"], "sendUpdates": ["none"], "alt": ["json"]}
    assert headers["authorization"] == "Bearer ya29.a0AfB_test-access-token"
    assert body == {
        "id": EVENT_ID, "summary": spec.title, "description": "Работа с наборами Bee-Bot.",
        "start": {"dateTime": "2026-12-10T07:00:00+00:00", "timeZone": "Asia/Yekaterinburg"},
        "end": {"dateTime": "2026-12-10T08:30:00+00:00", "timeZone": "Asia/Yekaterinburg"},
        "conferenceData": {"createRequest": {
            "requestId": EVENT_ID, "conferenceSolutionKey": {"type": "hangoutsMeet"}}},
    }


def test_create_polls_while_the_conference_is_pending(context: Context, spec: RoomSpec) -> None:
    sleeps: list[float] = []
    meet, http = provider(context, OAUTH, TOKEN, answer(200, "event_pending.json"),
                          answer(200, "event_pending.json"), answer(200, "event_success.json"),
                          sleeps=sleeps)
    room = meet.create_room(spec, Room())
    assert room.join_url == MEET_URL and room.data["meeting_code"] == "mhz-ktqr-wnv"
    assert sleeps == [1.0, 2.0]
    for index in (2, 3):
        method, url, query, body, _ = sent(http, index)
        assert (method, url, body) == ("GET", f"{CALENDAR}/{EVENT_ID}", None)


def test_create_still_pending_is_retried_later_and_then_found(context: Context,
                                                              spec: RoomSpec) -> None:
    sleeps: list[float] = []
    pending = answer(200, "event_pending.json")
    meet, _ = provider(context, OAUTH, TOKEN, pending, pending, pending, pending, sleeps=sleeps)
    with pytest.raises(ProviderUnavailable, match="still creating the meeting link, will retry"):
        meet.create_room(spec, Room())
    assert sleeps == [1.0, 2.0, 4.0]

    # The hub's retry: the insert meets the event the first try made, which is ready now.
    meet, http = provider(context, OAUTH, TOKEN, answer(409, "error_duplicate.json"),
                          answer(200, "event_success.json"))
    assert meet.create_room(spec, Room()).join_url == MEET_URL
    assert sent(http, 1)[3]["id"] == EVENT_ID


def test_create_failure_is_an_error_for_the_organiser(context: Context, spec: RoomSpec) -> None:
    meet, _ = provider(context, OAUTH, TOKEN, answer(200, "event_failure.json"))
    with pytest.raises(ProviderError, match="could not create a Meet conference") as caught:
        meet.create_room(spec, Room())
    assert not caught.value.retryable


def test_create_after_a_lost_answer_gets_the_same_event(context: Context, spec: RoomSpec) -> None:
    meet, http = provider(context, OAUTH, TOKEN, answer(409, "error_duplicate.json"),
                          answer(200, "event_success.json"))
    room = meet.create_room(spec, Room())
    assert (room.external_id, room.join_url) == (EVENT_ID, MEET_URL)
    assert [sent(http, i)[:2] for i in (1, 2)] == [("POST", CALENDAR),
                                                   ("GET", f"{CALENDAR}/{EVENT_ID}")]


def test_create_restores_a_deleted_event_with_a_new_conference(context: Context,
                                                               spec: RoomSpec) -> None:
    meet, http = provider(context, OAUTH, TOKEN, answer(409, "error_duplicate.json"),
                          answer(200, "event_cancelled.json"), answer(200, "event_success.json"))
    assert meet.create_room(spec, Room()).join_url == MEET_URL
    method, url, query, body, _ = sent(http, 3)
    assert (method, url) == ("PATCH", f"{CALENDAR}/{EVENT_ID}")
    assert query["conferenceDataVersion"] == ["1"] and query["sendUpdates"] == ["none"]
    assert body["status"] == "confirmed" and body["summary"] == spec.title
    request = body["conferenceData"]["createRequest"]
    assert request["conferenceSolutionKey"] == {"type": "hangoutsMeet"}
    assert request["requestId"] != EVENT_ID  # the same id would be ignored


def test_create_for_a_made_room_asks_nothing(context: Context, spec: RoomSpec) -> None:
    meet, http = provider(context, OAUTH)
    assert meet.create_room(spec, made_room()) == made_room()
    assert http.request_sequence == []


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fixture", "status", "error", "expected"), [
    ("error_forbidden_for_service_accounts.json", 403, ProviderAuthError,
     f"needs domain-wide delegation.*admin console.*client ID {SA_CLIENT_ID}.*calendar.events"),
    ("error_invalid_conference_type.json", 400, ProviderAuthError,
     "may not have Google Meet conferences.*Google Workspace account"),
    ("error_insufficient_scopes.json", 403, ProviderAuthError,
     f"lacks a scope.*Domain-wide delegation.*{SA_CLIENT_ID}.*meetings.space.readonly"),
    ("error_api_disabled.json", 403, ProviderAuthError,
     "the Google Meet REST API is off in the Google Cloud project"),
    ("error_user_rate_limit.json", 403, ProviderUnavailable, "busy or limiting.*will retry"),
    ("error_backend.json", 500, ProviderUnavailable, r"busy or limiting requests \(HTTP 500\)"),
    ("error_bad_request.json", 400, ProviderError,
     r"refused the request \(HTTP 400\): The specified time range is empty"),
])
def test_create_errors_with_a_service_account(context: Context, spec: RoomSpec,
                                              service_account: dict[str, str], fixture: str,
                                              status: int, error: type[ProviderError],
                                              expected: str) -> None:
    meet, _ = provider(context, service_account, TOKEN, answer(status, fixture))
    with pytest.raises(error, match=expected) as caught:
        meet.create_room(spec, Room())
    assert type(caught.value) is error and caught.value.status == status
    assert str(caught.value).startswith("Google Meet: create the calendar event: ")
    assert_no_secret(str(caught.value))


def test_insufficient_scopes_with_an_oauth_grant(context: Context, spec: RoomSpec) -> None:
    meet, _ = provider(context, OAUTH, TOKEN, answer(403, "error_insufficient_scopes.json"))
    with pytest.raises(ProviderAuthError, match="connect the Google account again and allow"):
        meet.create_room(spec, Room())


def test_429_is_retried_later_with_retry_after(context: Context, spec: RoomSpec) -> None:
    meet, _ = provider(context, OAUTH, TOKEN,
                       answer(429, "error_rate_limit.json", **{"retry-after": "30"}))
    with pytest.raises(ProviderUnavailable, match="will retry") as caught:
        meet.create_room(spec, Room())
    assert (caught.value.status, caught.value.retry_after) == (429, 30.0)
    assert caught.value.retryable


def test_401_after_a_fresh_token_is_an_auth_error(context: Context, spec: RoomSpec) -> None:
    # AuthorizedHttp signs in again on 401 (twice) before giving up.
    rejected = answer(401, "error_auth.json")
    meet, http = provider(context, OAUTH, TOKEN, rejected, TOKEN, rejected, TOKEN, rejected)
    with pytest.raises(ProviderAuthError, match="did not accept the credentials; connect"):
        meet.create_room(spec, Room())
    assert len(http.request_sequence) == 6


@pytest.mark.parametrize(("failure", "expected"), [
    (TimeoutError("timed out"), "did not answer in time"),
    (ConnectionRefusedError(111, "Connection refused"), r"cannot be reached \(Connection"),
])
def test_network_failures_are_retried_later(context: Context, spec: RoomSpec,
                                            failure: Exception, expected: str) -> None:
    meet, _ = provider(context, OAUTH, TOKEN, failure)
    with pytest.raises(ProviderUnavailable, match=expected):
        meet.create_room(spec, Room())


@pytest.mark.parametrize(("body", "expected"), [
    ("<html><body>Service Unavailable</body></html>", "not JSON"),
    ('{"kind": "calendar#event"}', "answer lacks id"),
])
def test_malformed_answers(context: Context, spec: RoomSpec, body: str, expected: str) -> None:
    meet, _ = provider(context, OAUTH, TOKEN, ({"status": "200"}, body))
    with pytest.raises(ProviderError, match=expected) as caught:
        meet.create_room(spec, Room())
    assert not caught.value.retryable


def test_delegation_missing_at_sign_in(context: Context, spec: RoomSpec,
                                       service_account: dict[str, str]) -> None:
    meet, http = provider(context, service_account,
                          answer(401, "token_unauthorized_client.json"))
    with pytest.raises(ProviderAuthError) as caught:
        meet.create_room(spec, Room())
    message = str(caught.value)
    assert f"may not act for {ORGANISER}" in message
    assert f"allow client ID {SA_CLIENT_ID} the scopes {SCOPES[0]}, {SCOPES[1]}" in message
    assert_no_secret(message)
    assert len(http.request_sequence) == 1


def test_revoked_grant_at_sign_in(context: Context, spec: RoomSpec) -> None:
    meet, _ = provider(context, OAUTH, answer(400, "token_invalid_grant.json"))
    with pytest.raises(ProviderAuthError, match="revoked or has expired; connect") as caught:
        meet.create_room(spec, Room())
    assert_no_secret(str(caught.value))


# -- update, delete, join ----------------------------------------------------------------------


def test_update_patches_title_and_times(context: Context, spec: RoomSpec) -> None:
    moved = RoomSpec(**{**spec.__dict__, "title": "Семинар-практикум (перенесён)",
                        "start": datetime(2026, 12, 11, 7, 0, tzinfo=UTC),
                        "end": datetime(2026, 12, 11, 8, 30, tzinfo=UTC)})
    meet, http = provider(context, OAUTH, TOKEN, answer(200, "event_updated.json"))
    assert meet.update_room(moved, made_room()) == made_room()
    method, url, query, body, _ = sent(http, 1)
    assert (method, url) == ("PATCH", f"{CALENDAR}/{EVENT_ID}")
    assert query == {"conferenceDataVersion": ["1"], "sendUpdates": ["none"], "alt": ["json"]}
    assert body == {
        "summary": "Семинар-практикум (перенесён)", "description": "Работа с наборами Bee-Bot.",
        "start": {"dateTime": "2026-12-11T07:00:00+00:00", "timeZone": "Asia/Yekaterinburg"},
        "end": {"dateTime": "2026-12-11T08:30:00+00:00", "timeZone": "Asia/Yekaterinburg"},
    }


def test_update_of_an_event_deleted_in_the_calendar(context: Context, spec: RoomSpec) -> None:
    meet, _ = provider(context, OAUTH, TOKEN, answer(404, "error_not_found.json"))
    with pytest.raises(RoomGone, match="no such calendar event.*deleted in the calendar"):
        meet.update_room(spec, made_room())


def test_update_of_a_room_never_made_creates_it(context: Context, spec: RoomSpec) -> None:
    meet, http = provider(context, OAUTH, TOKEN, answer(200, "event_success.json"))
    assert meet.update_room(spec, Room()).join_url == MEET_URL
    assert sent(http, 1)[:2] == ("POST", CALENDAR)


def test_delete_removes_the_event(context: Context) -> None:
    meet, http = provider(context, OAUTH, TOKEN, answer(204))
    meet.delete_room(made_room())
    method, url, query, body, _ = sent(http, 1)
    assert (method, url, query["sendUpdates"], body) == (
        "DELETE", f"{CALENDAR}/{EVENT_ID}", ["none"], None)


@pytest.mark.parametrize("fixture", ["error_not_found.json", "error_deleted.json"])
def test_delete_of_an_event_already_gone_is_fine(context: Context, fixture: str) -> None:
    status = 404 if "not_found" in fixture else 410
    meet, _ = provider(context, OAUTH, TOKEN, answer(status, fixture))
    meet.delete_room(made_room())


def test_delete_when_google_is_down_is_retried(context: Context) -> None:
    meet, _ = provider(context, OAUTH, TOKEN, answer(503, "error_backend.json"))
    with pytest.raises(ProviderUnavailable):
        meet.delete_room(made_room())


def test_delete_of_a_room_never_made_asks_nothing(context: Context) -> None:
    meet, http = provider(context, OAUTH)
    meet.delete_room(Room())
    assert http.request_sequence == []


def test_join_link_is_the_shared_meet_url(context: Context) -> None:
    meet, http = provider(context, OAUTH)
    person = Participant(key="p5", name="Анна Петрова", email="anna@ds22.example.org")
    link = meet.join_link(made_room(), person)
    assert (link.url, link.expires_at) == (MEET_URL, None)
    with pytest.raises(ProviderUnavailable, match="not ready yet"):
        meet.join_link(Room(), person)
    assert http.request_sequence == []


# -- attendance --------------------------------------------------------------------------------


def test_attendance_reads_every_session_of_every_participant(context: Context) -> None:
    meet, http = provider(context, OAUTH, TOKEN, answer(200, "conference_records.json"),
                          answer(200, "participants_page1.json"),
                          answer(200, "participants_page2.json"),
                          answer(200, "sessions_anna.json"), answer(200, "sessions_guest.json"))
    intervals = meet.fetch_attendance(made_room())

    anna = "users/117263409876123456789"
    assert intervals == [
        Interval(joined_at=datetime(2026, 12, 10, 7, 41, 10, 235911, tzinfo=UTC),
                 left_at=datetime(2026, 12, 10, 8, 30, 55, 4417, tzinfo=UTC),
                 name="Анна Петрова", external_user_id=anna),
        Interval(joined_at=datetime(2026, 12, 10, 6, 59, 3, 812650, tzinfo=UTC),
                 left_at=datetime(2026, 12, 10, 7, 35, 20, 118002, tzinfo=UTC),
                 name="Анна Петрова", external_user_id=anna),
        Interval(joined_at=datetime(2026, 12, 10, 7, 2, 17, 250316, tzinfo=UTC),
                 left_at=datetime(2026, 12, 10, 8, 29, 40, 771093, tzinfo=UTC),
                 name="Гость ДОУ 22"),
    ]
    record = f"{MEET}conferenceRecords/a5c6f1d2-8e0b-4c3a-9f7d-2b1e4c6a8d90"
    requests = [sent(http, i)[:3] for i in range(1, 6)]
    assert requests[0] == ("GET", f"{MEET}conferenceRecords",
                           {"filter": ['space.meeting_code = "mhz-ktqr-wnv"'], "alt": ["json"]})
    assert requests[1] == ("GET", f"{record}/participants", {"alt": ["json"]})
    assert requests[2] == ("GET", f"{record}/participants",
                           {"alt": ["json"], "pageToken": ["ChAKDgoMMzE4NDAwMjcSAggB"]})
    assert requests[3][:2] == ("GET", f"{record}/participants/20117533/participantSessions")
    assert requests[4][:2] == ("GET", f"{record}/participants/31840027/participantSessions")


def test_attendance_of_a_room_without_a_meeting_code_is_empty(context: Context) -> None:
    meet, http = provider(context, OAUTH)
    assert meet.fetch_attendance(Room()) == []
    assert http.request_sequence == []


def test_attendance_without_the_meet_scope(context: Context) -> None:
    meet, _ = provider(context, OAUTH, TOKEN, answer(403, "error_meet_scope.json"))
    with pytest.raises(ProviderAuthError, match="read the attendance: the organiser's Google "
                                                "authorisation does not cover"):
        meet.fetch_attendance(made_room())


def test_attendance_answer_without_resource_names(context: Context) -> None:
    meet, _ = provider(context, OAUTH, TOKEN,
                       ({"status": "200"}, '{"conferenceRecords": [{"startTime": "x"}]}'))
    with pytest.raises(ProviderError, match="lacks conferenceRecords"):
        meet.fetch_attendance(made_room())


# -- check_connection --------------------------------------------------------------------------


def test_check_connection_reads_the_calendar_and_meeting_records(context: Context) -> None:
    meet, http = provider(context, OAUTH, TOKEN, answer(200, "events_list.json"),
                          ({"status": "200"}, "{}"))
    assert meet.check_connection() == ORGANISER
    assert sent(http, 1)[:3] == ("GET", CALENDAR, {"maxResults": ["1"], "alt": ["json"]})
    assert sent(http, 2)[:3] == ("GET", f"{MEET}conferenceRecords",
                                 {"pageSize": ["1"], "alt": ["json"]})


def test_check_connection_names_the_missing_api(context: Context,
                                                service_account: dict[str, str]) -> None:
    settings = {**service_account, "calendar_user": ORGANISER}
    meet, _ = provider(context, settings, TOKEN, answer(200, "events_list.json"),
                       answer(403, "error_api_disabled.json"))
    with pytest.raises(ProviderAuthError, match="read meeting records: the Google Meet REST "
                                                "API is off"):
        meet.check_connection()


def test_check_connection_of_a_service_account_without_a_user(
        context: Context, service_account: dict[str, str]) -> None:
    meet, http = provider(context, service_account)
    assert meet.check_connection().startswith(f"service account {SA_EMAIL}; ")
    assert http.request_sequence == []


def test_endpoints_come_from_the_context(spec: RoomSpec) -> None:
    context = Context(secret="test-secret-key-for-providers", endpoints={
        "google_calendar": "http://127.0.0.1:8765/calendar/v3/",
        "google_meet": "http://127.0.0.1:8765/",
        "google_oauth_token": "http://127.0.0.1:8765/token"})
    meet, http = provider(context, OAUTH, TOKEN, answer(200, "event_success.json"),
                          ({"status": "200"}, "{}"))
    assert meet.fetch_attendance(meet.create_room(spec, Room())) == []
    assert [sent(http, i)[1] for i in range(3)] == [
        "http://127.0.0.1:8765/token", "http://127.0.0.1:8765/calendar/v3/calendars/primary/events",
        "http://127.0.0.1:8765/v2/conferenceRecords"]
