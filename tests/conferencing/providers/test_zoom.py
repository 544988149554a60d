"""Zoom against a local server answering in the formats of Zoom's OAuth and REST API docs."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from integrations.conferencing import base, zoom
from integrations.conferencing.base import (
    Context,
    Interval,
    Participant,
    ProviderAuthError,
    ProviderConfigError,
    ProviderError,
    ProviderUnavailable,
    Recording,
    Registration,
    Role,
    Room,
    RoomGone,
    RoomSpec,
    WebhookEvent,
    WebhookKind,
    WebhookRejected,
)
from integrations.conferencing.zoom import Zoom
from tests.conferencing.providers.conftest import Clock

ACCOUNT_ID = "lAAAAAbCdEfGhIjKlMn"
CLIENT_ID = "nKjH7sQ2TqWx1yZ0aB9c"
CLIENT_SECRET = "s3cr3t-Zoom-Client-Secret-0123456789"
WEBHOOK_SECRET = "wh-Secret-Token-abcdef0123456789"
TOKEN = "eyJhbGciOiJIUzUxMiJ9.first-access-token"
SECOND_TOKEN = "eyJhbGciOiJIUzUxMiJ9.second-access-token"
MEETING_ID = 85746065432
MEETING_UUID = "aDYlohsHRtCd4ii1uC2+hA=="
JOIN_URL = f"https://us06web.zoom.us/j/{MEETING_ID}?pwd=Zk9sR2tQa1VkT3c"
START_URL = f"https://us06web.zoom.us/s/{MEETING_ID}?zak=eyJ0eXAiOiJKV1QiLCJzdiI6Ij"
HOST = "coordinator@ds22.example.org"
SETTINGS = {"account_id": ACCOUNT_ID, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "webhook_secret": WEBHOOK_SECRET}
SECRETS = (CLIENT_SECRET, WEBHOOK_SECRET, TOKEN, SECOND_TOKEN)
MEETING_ROOM = Room(external_id=str(MEETING_ID), join_url=JOIN_URL,
                    data={"id": MEETING_ID, "uuid": MEETING_UUID, "kind": "meeting"})


@pytest.fixture(autouse=True)
def fresh_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no cached token (the cache lives as long as the process)."""
    monkeypatch.setattr(zoom, "TOKENS", zoom.TokenCache())


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits `with_backoff` asked for, instead of sleeping."""
    waited: list[float] = []
    monkeypatch.setattr(zoom, "backoff_sleep", waited.append)
    return waited


@pytest.fixture
def api_context(context: Context, httpserver: HTTPServer) -> Context:
    return dataclasses.replace(context, endpoints={"zoom": httpserver.url_for("/v2"),
                                                   "zoom_oauth": httpserver.url_for("/")})


def provider(api_context: Context, **settings: str) -> Zoom:
    return Zoom({**SETTINGS, **settings}, api_context)


def requests_made(httpserver: HTTPServer, path_prefix: str = "") -> list[Request]:
    return [r for r, _ in httpserver.log if r.path.startswith(path_prefix)]


def api_requests(httpserver: HTTPServer) -> list[Request]:
    return requests_made(httpserver, "/v2/")


def token_requests(httpserver: HTTPServer) -> list[Request]:
    return requests_made(httpserver, "/oauth/token")


def body(request: Request) -> object:
    return json.loads(request.get_data())


def expect_token(httpserver: HTTPServer, token: str = TOKEN, expires_in: int = 3599) -> None:
    """One «Server-to-Server OAuth» token, as Zoom answers it."""
    httpserver.expect_oneshot_request("/oauth/token", method="POST").respond_with_json({
        "access_token": token, "token_type": "bearer", "expires_in": expires_in,
        "scope": "meeting:write:admin meeting:read:admin report:read:admin user:read:admin",
        "api_url": "https://api.zoom.us"})


def zoom_error(code: int, message: str) -> dict[str, object]:
    return {"code": code, "message": message}


def meeting_answer(meeting_id: int = MEETING_ID, **fields: object) -> dict[str, object]:
    """«Create a meeting»'s answer (HTTP 201), trimmed to the usual fields."""
    return {
        "uuid": MEETING_UUID, "id": meeting_id, "host_id": "KDcuGIm1QgePTO8WbOqwIQ",
        "host_email": HOST, "topic": "Семинар", "type": 2, "status": "waiting",
        "start_time": "2026-12-10T07:00:00Z", "duration": 90, "timezone": "Asia/Yekaterinburg",
        "created_at": "2026-12-01T10:00:00Z", "start_url": START_URL, "join_url": JOIN_URL,
        "password": "k3Lp9", "registration_url":
            f"https://us06web.zoom.us/meeting/register/tZ0ld-{meeting_id}",
        "settings": {"waiting_room": True, "approval_type": 0}, "pre_schedule": False,
        **fields}


def assert_bearer(request: Request, token: str = TOKEN) -> None:
    assert request.headers["Authorization"] == f"Bearer {token}"


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


# -- registry and settings ----------------------------------------------------------------------


def test_registered_with_settings_and_capabilities() -> None:
    assert base.get("zoom") is Zoom
    assert Zoom.label == "Zoom"
    assert Zoom.capabilities == base.Capabilities(
        per_person_links=True, registration=True, attendance=True, webhooks=True)
    fields = {f.name: f for f in Zoom.settings_fields}
    assert list(fields) == ["account_id", "client_id", "client_secret", "webhook_secret",
                            "host_user"]
    assert fields["client_secret"].secret and fields["webhook_secret"].secret
    assert not fields["webhook_secret"].required and not fields["host_user"].required
    assert Zoom.missing_modules() == []
    assert [f.name for f in Zoom.missing_settings({"account_id": ACCOUNT_ID})] == [
        "client_id", "client_secret"]


def test_without_credentials_nothing_is_sent(api_context: Context, httpserver: HTTPServer,
                                             spec: RoomSpec) -> None:
    with pytest.raises(ProviderConfigError, match="account ID, client ID and client secret"):
        Zoom({"account_id": ACCOUNT_ID, "client_id": CLIENT_ID}, api_context).create_room(
            spec, Room())
    assert httpserver.log == []


# -- access tokens ------------------------------------------------------------------------------


def expect_user(httpserver: HTTPServer, user: str = "me", **fields: object) -> None:
    httpserver.expect_request(f"/v2/users/{user}", method="GET").respond_with_json({
        "id": "KDcuGIm1QgePTO8WbOqwIQ", "first_name": "Ольга", "last_name": "Смирнова",
        "display_name": "Ольга Смирнова", "email": HOST, "type": 2, "status": "active",
        **fields})


def test_the_token_is_fetched_once_for_calls_of_two_instances(
        api_context: Context, httpserver: HTTPServer) -> None:
    expect_token(httpserver)
    expect_user(httpserver)

    assert provider(api_context).check_connection() == HOST
    assert provider(api_context).check_connection() == HOST

    (fetch,) = token_requests(httpserver)
    assert fetch.method == "POST"
    assert fetch.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(fetch.get_data(as_text=True)) == {
        "grant_type": ["account_credentials"], "account_id": [ACCOUNT_ID]}
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert fetch.headers["Authorization"] == f"Basic {basic}"
    reads = api_requests(httpserver)
    assert [(r.method, r.path) for r in reads] == [("GET", "/v2/users/me")] * 2
    for read in reads:
        assert_bearer(read)


def test_an_expiring_token_is_fetched_again(api_context: Context, httpserver: HTTPServer,
                                            clock: Clock) -> None:
    expect_token(httpserver, expires_in=3600)
    expect_token(httpserver, token=SECOND_TOKEN, expires_in=3600)
    expect_user(httpserver)

    provider(api_context).check_connection()
    clock.value += timedelta(minutes=54)  # still more than the five-minute margin left
    provider(api_context).check_connection()
    clock.value += timedelta(minutes=2)
    provider(api_context).check_connection()

    assert len(token_requests(httpserver)) == 2
    first, second, third = api_requests(httpserver)
    assert_bearer(first)
    assert_bearer(second)
    assert_bearer(third, SECOND_TOKEN)


def test_other_credentials_get_their_own_token(api_context: Context,
                                               httpserver: HTTPServer) -> None:
    expect_token(httpserver)
    expect_token(httpserver, token=SECOND_TOKEN)
    expect_user(httpserver)

    provider(api_context).check_connection()
    provider(api_context, client_secret="a-rotated-secret").check_connection()

    assert len(token_requests(httpserver)) == 2


def test_a_refused_token_is_replaced_once(api_context: Context, httpserver: HTTPServer) -> None:
    expect_token(httpserver)
    expect_token(httpserver, token=SECOND_TOKEN)
    httpserver.expect_oneshot_request("/v2/users/me").respond_with_json(
        zoom_error(124, "Invalid access token."), status=401)
    expect_user(httpserver)

    assert provider(api_context).check_connection() == HOST

    assert len(token_requests(httpserver)) == 2
    refused, accepted = api_requests(httpserver)
    assert_bearer(refused)
    assert_bearer(accepted, SECOND_TOKEN)
    # the new token is the cached one now
    provider(api_context).check_connection()
    assert len(token_requests(httpserver)) == 2
    assert_bearer(api_requests(httpserver)[-1], SECOND_TOKEN)


def test_a_token_refused_twice_is_an_auth_error(api_context: Context,
                                                httpserver: HTTPServer) -> None:
    expect_token(httpserver)
    expect_token(httpserver, token=SECOND_TOKEN)
    httpserver.expect_request("/v2/users/me").respond_with_json(
        zoom_error(124, "Invalid access token."), status=401)

    with pytest.raises(ProviderAuthError, match="HTTP 401") as caught:
        provider(api_context).check_connection()

    assert caught.value.status == 401
    assert len(token_requests(httpserver)) == 2
    assert len(api_requests(httpserver)) == 2
    assert_no_secret(str(caught.value))


def test_wrong_client_credentials(api_context: Context, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/oauth/token", method="POST").respond_with_json(
        {"reason": "Invalid client_id or client_secret", "error": "invalid_client"},
        status=401)

    with pytest.raises(ProviderAuthError, match="client ID or client secret is wrong") as caught:
        provider(api_context).check_connection()

    assert api_requests(httpserver) == []
    assert_no_secret(str(caught.value))


def test_a_wrong_account_id(api_context: Context, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/oauth/token", method="POST").respond_with_json(
        {"reason": "Invalid request : Bad Request", "error": "invalid_request"}, status=400)

    with pytest.raises(ProviderAuthError, match="check the account ID"):
        provider(api_context).check_connection()


def test_a_token_answer_without_a_token(api_context: Context, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/oauth/token", method="POST").respond_with_json(
        {"token_type": "bearer", "expires_in": 3599})

    with pytest.raises(ProviderError, match="lacks access_token, expires_in"):
        provider(api_context).check_connection()


def test_missing_scopes_are_named(api_context: Context, httpserver: HTTPServer,
                                  spec: RoomSpec) -> None:
    expect_token(httpserver)
    expect_token(httpserver, token=SECOND_TOKEN)
    httpserver.expect_request("/v2/users/me/meetings", method="POST").respond_with_json(
        zoom_error(4711, "Invalid access token, does not contain scopes:"
                         "[meeting:write:meeting:admin, meeting:write:meeting]."), status=400)

    with pytest.raises(ProviderAuthError, match="meeting:write:meeting:admin") as caught:
        provider(api_context).create_room(spec, Room())

    assert "Scopes page" in str(caught.value)
    # a token issued before the scopes were added is not kept: the second try gets a new one
    assert len(token_requests(httpserver)) == 2


# -- check_connection ---------------------------------------------------------------------------


def test_check_connection_reads_the_host_user(api_context: Context,
                                              httpserver: HTTPServer) -> None:
    expect_token(httpserver)
    expect_user(httpserver, HOST, type=1)

    found = provider(api_context, host_user=f" {HOST} ").check_connection()

    assert found.startswith(HOST) and "Basic user" in found
    assert api_requests(httpserver)[0].path == f"/v2/users/{HOST}"


def test_an_unknown_host_user(api_context: Context, httpserver: HTTPServer) -> None:
    expect_token(httpserver)
    httpserver.expect_request("/v2/users/nobody@example.org").respond_with_json(
        zoom_error(1001, "User does not exist: nobody@example.org."), status=404)

    with pytest.raises(ProviderError, match="check the Host user setting") as caught:
        provider(api_context, host_user="nobody@example.org").check_connection()

    assert not isinstance(caught.value, RoomGone)
    assert "nobody@example.org" in str(caught.value)


# -- create_room --------------------------------------------------------------------------------


def test_create_schedules_a_meeting_with_registration(api_context: Context,
                                                      httpserver: HTTPServer,
                                                      spec: RoomSpec) -> None:
    expect_token(httpserver)
    httpserver.expect_oneshot_request("/v2/users/me/meetings", method="POST").respond_with_json(
        meeting_answer(), status=201)

    room = provider(api_context).create_room(spec, Room(data={"kept": 1}))

    assert room == Room(external_id=str(MEETING_ID), join_url=JOIN_URL, data={
        "kept": 1, "id": MEETING_ID, "uuid": MEETING_UUID, "kind": "meeting"})
    assert "zak=" not in repr(room)  # the host's start_url is not kept
    (create,) = api_requests(httpserver)
    assert create.method == "POST"
    assert create.headers["Content-Type"] == "application/json"
    assert_bearer(create)
    assert body(create) == {
        "topic": spec.title, "type": 2, "start_time": "2026-12-10T07:00:00Z", "duration": 90,
        "timezone": "Asia/Yekaterinburg", "agenda": "Работа с наборами Bee-Bot.",
        "settings": {"approval_type": 0, "registration_type": 1,
                     "meeting_authentication": False, "registrants_confirmation_email": False,
                     "waiting_room": True, "join_before_host": False, "mute_upon_entry": True}}


def test_create_cuts_long_texts_and_uses_the_host_user(api_context: Context,
                                                       httpserver: HTTPServer,
                                                       spec: RoomSpec) -> None:
    expect_token(httpserver)
    httpserver.expect_oneshot_request(f"/v2/users/{HOST}/meetings", method="POST") \
        .respond_with_json(meeting_answer(), status=201)
    spec = dataclasses.replace(spec, title="Т" * 250, description="о" * 2500)

    provider(api_context, host_user=HOST).create_room(spec, Room())

    sent = body(api_requests(httpserver)[0])
    assert isinstance(sent, dict)
    assert sent["topic"] == "Т" * 200 and sent["agenda"] == "о" * 2000


def test_create_schedules_a_webinar(api_context: Context, httpserver: HTTPServer,
                                    spec: RoomSpec) -> None:
    expect_token(httpserver)
    httpserver.expect_oneshot_request("/v2/users/me/webinars", method="POST").respond_with_json(
        meeting_answer(91234567890, type=5, join_url="https://us06web.zoom.us/w/91234567890"),
        status=201)

    room = provider(api_context).create_room(dataclasses.replace(spec, webinar=True), Room())

    assert room.external_id == "91234567890"
    assert room.join_url == "https://us06web.zoom.us/w/91234567890"
    assert room.data["kind"] == "webinar"
    sent = body(api_requests(httpserver)[0])
    assert isinstance(sent, dict)
    assert sent["type"] == 5
    assert sent["settings"] == {"approval_type": 0, "registration_type": 1,
                                "meeting_authentication": False,
                                "registrants_confirmation_email": False}


def test_create_returns_the_meeting_the_room_already_names(
        api_context: Context, httpserver: HTTPServer, spec: RoomSpec) -> None:
    expect_token(httpserver)
    httpserver.expect_oneshot_request(f"/v2/meetings/{MEETING_ID}", method="GET") \
        .respond_with_json(meeting_answer())
    earlier = Room(external_id=str(MEETING_ID), data={"kind": "meeting",
                                                      "registrants": {"r1": "p1"}})

    room = provider(api_context).create_room(spec, earlier)

    assert room.external_id == str(MEETING_ID) and room.join_url == JOIN_URL
    assert room.data["registrants"] == {"r1": "p1"}
    assert [(r.method, r.path) for r in api_requests(httpserver)] == [
        ("GET", f"/v2/meetings/{MEETING_ID}")]


def test_create_makes_a_new_meeting_when_the_old_one_is_gone(
        api_context: Context, httpserver: HTTPServer, spec: RoomSpec) -> None:
    expect_token(httpserver)
    httpserver.expect_oneshot_request("/v2/meetings/111", method="GET").respond_with_json(
        zoom_error(3001, "Meeting does not exist: 111."), status=404)
    httpserver.expect_oneshot_request("/v2/users/me/meetings", method="POST").respond_with_json(
        meeting_answer(), status=201)
    earlier = Room(external_id="111", join_url="https://us06web.zoom.us/j/111",
                   data={"id": 111, "kind": "meeting", "registrants": {"r1": "p1"}})

    room = provider(api_context).create_room(spec, earlier)

    assert room.external_id == str(MEETING_ID)
    assert "registrants" not in room.data  # those registrations belonged to the old meeting
    assert [(r.method, r.path) for r in api_requests(httpserver)] == [
        ("GET", "/v2/meetings/111"), ("POST", "/v2/users/me/meetings")]


@pytest.mark.parametrize("answer", [b"<html>Bad gateway</html>", b'{"id": 1}',
                                    b'{"id": null, "join_url": ""}'])
def test_an_unreadable_create_answer(api_context: Context, httpserver: HTTPServer,
                                     spec: RoomSpec, answer: bytes) -> None:
    expect_token(httpserver)
    httpserver.expect_request("/v2/users/me/meetings", method="POST").respond_with_data(
        answer, status=201, content_type="application/json")

    with pytest.raises(ProviderError, match="Zoom: create meeting") as caught:
        provider(api_context).create_room(spec, Room())

    assert not caught.value.retryable


# -- update and delete --------------------------------------------------------------------------


def test_update_sends_the_new_title_and_time(api_context: Context, httpserver: HTTPServer,
                                             spec: RoomSpec) -> None:
    expect_token(httpserver)
    httpserver.expect_oneshot_request(f"/v2/meetings/{MEETING_ID}", method="PATCH") \
        .respond_with_data("", status=204)
    spec = dataclasses.replace(spec, title="Перенесено", start=spec.start + timedelta(hours=1),
                               end=spec.end + timedelta(hours=2))

    assert provider(api_context).update_room(spec, MEETING_ROOM) == MEETING_ROOM

    (patch,) = api_requests(httpserver)
    sent = body(patch)
    assert isinstance(sent, dict)
    assert (sent["topic"], sent["start_time"], sent["duration"]) == (
        "Перенесено", "2026-12-10T08:00:00Z", 150)
    assert_bearer(patch)


def test_update_of_a_meeting_deleted_in_zoom(api_context: Context, httpserver: HTTPServer,
                                             spec: RoomSpec) -> None:
    expect_token(httpserver)
    httpserver.expect_request(f"/v2/meetings/{MEETING_ID}", method="PATCH").respond_with_json(
        zoom_error(3001, f"Meeting does not exist: {MEETING_ID}."), status=404)

    with pytest.raises(RoomGone, match="Meeting does not exist"):
        provider(api_context).update_room(spec, MEETING_ROOM)


def test_delete_removes_the_webinar_and_a_gone_one_is_fine(api_context: Context,
                                                           httpserver: HTTPServer) -> None:
    expect_token(httpserver)
    httpserver.expect_oneshot_request("/v2/webinars/912", method="DELETE") \
        .respond_with_data("", status=204)
    httpserver.expect_oneshot_request("/v2/webinars/912", method="DELETE").respond_with_json(
        zoom_error(3001, "Webinar does not exist: 912."), status=404)
    webinar = Room(external_id="912", data={"kind": "webinar"})

    provider(api_context).delete_room(webinar)
    provider(api_context).delete_room(webinar)
    provider(api_context).delete_room(Room())  # never made: nothing to delete

    assert [(r.method, r.path) for r in api_requests(httpserver)] == [
        ("DELETE", "/v2/webinars/912")] * 2


# -- registration -------------------------------------------------------------------------------


def batch_answer(request: Request) -> Response:
    """«Perform batch registration»'s answer: each registrant with a join URL of their own."""
    sent = json.loads(request.get_data())
    return Response(json.dumps({"registrants": [
        {"email": r["email"].upper(), "registrant_id": f"reg-{r['email'].split('@')[0]}",
         "participant_pin_code": 380112,
         "join_url": f"https://us06web.zoom.us/w/{MEETING_ID}?tk=tk-{r['email'].split('@')[0]}"}
        for r in sent["registrants"]]}), status=201, content_type="application/json")


def people(count: int) -> list[Participant]:
    return [Participant(key=f"p{n}", name=f"Педагог {n}", email=f"t{n}@school.example.org")
            for n in range(count)]


def test_register_in_batches_of_thirty(api_context: Context, httpserver: HTTPServer) -> None:
    expect_token(httpserver)
    httpserver.expect_request(f"/v2/meetings/{MEETING_ID}/batch_registrants",
                              method="POST").respond_with_handler(batch_answer)
    room = dataclasses.replace(MEETING_ROOM, data=dict(MEETING_ROOM.data))
    no_email = Participant(key="p999", name="Без почты")

    made = provider(api_context).register(room, [*people(65), no_email])

    batches = api_requests(httpserver)
    assert [len(body(r)["registrants"]) for r in batches] == [30, 30, 5]  # type: ignore[index]
    first = body(batches[0])
    assert first["auto_approve"] is True  # type: ignore[index]
    assert first["registrants_confirmation_email"] is False  # type: ignore[index]
    assert first["registrants"][0] == {  # type: ignore[index]
        "email": "t0@school.example.org", "first_name": "Педагог 0"}
    for request in batches:
        assert_bearer(request)
    assert len(made) == 65
    assert made[64] == Registration(
        key="p64", join_url=f"https://us06web.zoom.us/w/{MEETING_ID}?tk=tk-t64",
        external_id="reg-t64")
    assert room.data["registrants"]["reg-t7"] == "p7"
    assert len(token_requests(httpserver)) == 1


def test_register_for_a_webinar(api_context: Context, httpserver: HTTPServer) -> None:
    expect_token(httpserver)
    httpserver.expect_request("/v2/webinars/912/batch_registrants",
                              method="POST").respond_with_handler(batch_answer)

    made = provider(api_context).register(
        Room(external_id="912", data={"kind": "webinar"}), people(2))

    assert [r.key for r in made] == ["p0", "p1"]
    assert body(api_requests(httpserver)[0]) == {"auto_approve": True, "registrants": [
        {"email": "t0@school.example.org", "first_name": "Педагог 0"},
        {"email": "t1@school.example.org", "first_name": "Педагог 1"}]}


def test_register_waits_when_rate_limited(api_context: Context, httpserver: HTTPServer,
                                          sleeps: list[float]) -> None:
    expect_token(httpserver)
    httpserver.expect_oneshot_request(f"/v2/meetings/{MEETING_ID}/batch_registrants") \
        .respond_with_json(zoom_error(429, "You have reached the maximum per-second rate limit "
                                           "for this API. Try again later."), status=429,
                           headers={"Retry-After": "1", "X-RateLimit-Category": "Medium",
                                    "X-RateLimit-Type": "QPS"})
    httpserver.expect_request(f"/v2/meetings/{MEETING_ID}/batch_registrants") \
        .respond_with_handler(batch_answer)

    made = provider(api_context).register(MEETING_ROOM, people(3))

    assert sleeps == [1.0]
    assert len(made) == 3
    assert len(api_requests(httpserver)) == 2


def test_register_gives_up_when_still_rate_limited(api_context: Context,
                                                   httpserver: HTTPServer,
                                                   sleeps: list[float]) -> None:
    expect_token(httpserver)
    httpserver.expect_request(f"/v2/meetings/{MEETING_ID}/batch_registrants") \
        .respond_with_json(zoom_error(429, "Too many requests."), status=429)

    with pytest.raises(ProviderUnavailable, match="too many requests") as caught:
        provider(api_context).register(MEETING_ROOM, people(1))

    assert caught.value.status == 429 and caught.value.retryable
    assert sleeps == [2.0, 4.0, 8.0]  # no Retry-After: doubling waits


def test_register_before_the_meeting_exists(api_context: Context) -> None:
    with pytest.raises(ProviderConfigError, match="not been made yet"):
        provider(api_context).register(Room(), people(1))


# -- join links ---------------------------------------------------------------------------------


def test_join_links(api_context: Context, httpserver: HTTPServer) -> None:
    zoom_provider = provider(api_context)
    registered = Participant(key="p1", name="Анна", registered_url=f"{JOIN_URL}&tk=abc")
    host = Participant(key="p2", name="Ольга", role=Role.HOST)
    guest = Participant(key="p3", name="Пётр")

    assert zoom_provider.join_link(MEETING_ROOM, registered).url == f"{JOIN_URL}&tk=abc"
    assert zoom_provider.join_link(MEETING_ROOM, host).url == JOIN_URL
    assert zoom_provider.join_link(MEETING_ROOM, guest).expires_at is None
    with pytest.raises(ProviderConfigError):
        zoom_provider.join_link(Room(), guest)
    assert httpserver.log == []


# -- attendance ---------------------------------------------------------------------------------


def report_row(name: str, joined: str, left: str, *, email: str = "",
               registrant: str = "", status: str = "in_meeting") -> dict[str, object]:
    """A row of «Get meeting participant reports»."""
    return {"id": "", "user_id": "16778240", "name": name, "user_email": email,
            "join_time": joined, "leave_time": left, "duration": 60, "attentiveness_score": "",
            "failover": False, "status": status, "customer_key": "", "registrant_id": registrant,
            "participant_user_id": ""}


def at(clock_time: str) -> datetime:
    return datetime.fromisoformat(f"2026-12-10T{clock_time}+00:00")


def test_attendance_pages_are_read_and_rejoins_merged(api_context: Context,
                                                      httpserver: HTTPServer) -> None:
    expect_token(httpserver)
    path = f"/v2/report/meetings/{MEETING_ID}/participants"
    first_query = {"page_size": "300", "include_fields": "registrant_id"}
    httpserver.expect_oneshot_request(path, query_string=first_query).respond_with_json({
        "page_count": 2, "page_size": 300, "total_records": 6, "next_page_token": "Tva2CuIdTgsv8",
        "participants": [
            report_row("Анна", "2026-12-10T06:55:00Z", "2026-12-10T07:00:00Z",
                       registrant="reg-anna", status="in_waiting_room"),
            report_row("Анна", "2026-12-10T07:00:00Z", "2026-12-10T07:40:00Z",
                       registrant="reg-anna"),
            report_row("Анна (телефон)", "2026-12-10T07:30:00Z", "2026-12-10T07:50:00Z",
                       registrant="reg-anna"),
            report_row("Ольга Смирнова", "2026-12-10T06:58:00Z", "2026-12-10T07:20:00Z",
                       email=HOST)]})
    httpserver.expect_oneshot_request(path, query_string={
        **first_query, "next_page_token": "Tva2CuIdTgsv8"}).respond_with_json({
            "page_count": 2, "page_size": 300, "total_records": 6, "next_page_token": "",
            "participants": [
                report_row("Ольга", "2026-12-10T07:20:00Z", "2026-12-10T08:30:00Z",
                           email=HOST.upper()),
                report_row("Анна", "2026-12-10T08:00:00Z", "2026-12-10T08:10:00.660Z",
                           registrant="reg-anna")]})
    room = dataclasses.replace(MEETING_ROOM, data={**MEETING_ROOM.data,
                                                   "registrants": {"reg-anna": "p17"}})

    intervals = provider(api_context).fetch_attendance(room)

    assert intervals == [
        Interval(at("06:58:00"), at("08:30:00"), email=HOST, name="Ольга Смирнова"),
        Interval(at("07:00:00"), at("07:50:00"), person_key="p17", name="Анна",
                 external_user_id="reg-anna"),
        Interval(at("08:00:00"), at("08:10:00.660000"), person_key="p17", name="Анна",
                 external_user_id="reg-anna"),
    ]
    for request in api_requests(httpserver):
        assert_bearer(request)


def test_webinar_attendance_without_mapping(api_context: Context,
                                            httpserver: HTTPServer) -> None:
    expect_token(httpserver)
    httpserver.expect_request("/v2/report/webinars/912/participants").respond_with_json({
        "page_size": 300, "total_records": 1, "next_page_token": "", "participants": [
            report_row("Пётр", "2026-12-10T07:05:00Z", "", registrant="reg-petr"),
            report_row("Пётр", "2026-12-10T07:30:00Z", "2026-12-10T07:35:00Z",
                       registrant="reg-petr"),
            {"name": "no times"}]})

    intervals = provider(api_context).fetch_attendance(
        Room(external_id="912", data={"kind": "webinar"}))

    # a stay without a leave time (still there) swallows the later one
    assert intervals == [Interval(at("07:05:00"), None, name="Пётр",
                                  external_user_id="reg-petr")]


def test_attendance_stops_on_a_repeated_page_token(api_context: Context,
                                                   httpserver: HTTPServer) -> None:
    expect_token(httpserver)
    httpserver.expect_request(f"/v2/report/meetings/{MEETING_ID}/participants") \
        .respond_with_json({"next_page_token": "same", "participants": []})

    assert provider(api_context).fetch_attendance(MEETING_ROOM) == []
    assert len(api_requests(httpserver)) == 2


def test_attendance_of_a_meeting_zoom_has_no_report_for(api_context: Context,
                                                        httpserver: HTTPServer) -> None:
    expect_token(httpserver)
    httpserver.expect_request(f"/v2/report/meetings/{MEETING_ID}/participants") \
        .respond_with_json(zoom_error(3001, "Meeting does not exist."), status=404)

    with pytest.raises(RoomGone):
        provider(api_context).fetch_attendance(MEETING_ROOM)
    assert provider(api_context).fetch_attendance(Room()) == []


# -- HTTP failures ------------------------------------------------------------------------------


def test_forbidden(api_context: Context, httpserver: HTTPServer, spec: RoomSpec) -> None:
    expect_token(httpserver)
    expect_token(httpserver, token=SECOND_TOKEN)
    httpserver.expect_request("/v2/users/me/meetings", method="POST").respond_with_json(
        zoom_error(200, "No permission."), status=403)

    with pytest.raises(ProviderAuthError, match=r"HTTP 403\): No permission") as caught:
        provider(api_context).create_room(spec, Room())

    assert_no_secret(str(caught.value))
    # tried once more with a new token (permissions may have changed since it was issued)
    assert len(token_requests(httpserver)) == len(api_requests(httpserver)) == 2


def test_rate_limited_create_is_retried_later(api_context: Context, httpserver: HTTPServer,
                                              spec: RoomSpec) -> None:
    expect_token(httpserver)
    httpserver.expect_request("/v2/users/me/meetings", method="POST").respond_with_json(
        zoom_error(429, "You have reached the maximum per-second rate limit for this API."),
        status=429, headers={"Retry-After": "3"})

    with pytest.raises(ProviderUnavailable) as caught:
        provider(api_context).create_room(spec, Room())

    assert caught.value.retry_after == 3.0
    assert len(api_requests(httpserver)) == 1  # the hub's worker retries, not the call


def test_server_error(api_context: Context, httpserver: HTTPServer, spec: RoomSpec) -> None:
    expect_token(httpserver)
    httpserver.expect_request("/v2/users/me/meetings", method="POST").respond_with_data(
        "upstream failed", status=502)

    with pytest.raises(ProviderUnavailable, match="HTTP 502"):
        provider(api_context).create_room(spec, Room())


def test_token_server_error(api_context: Context, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/oauth/token", method="POST").respond_with_data(
        "maintenance", status=503)

    with pytest.raises(ProviderUnavailable, match="get access token"):
        provider(api_context).check_connection()


def test_timeout(api_context: Context, httpserver: HTTPServer, spec: RoomSpec) -> None:
    expect_token(httpserver)

    def slow(request: Request) -> Response:
        time.sleep(0.6)
        return Response(json.dumps(meeting_answer()), status=201,
                        content_type="application/json")

    httpserver.expect_request("/v2/users/me/meetings", method="POST").respond_with_handler(slow)

    with pytest.raises(ProviderUnavailable, match="did not answer in time"):
        provider(dataclasses.replace(api_context, timeout=0.3)).create_room(spec, Room())


# -- webhooks -----------------------------------------------------------------------------------


NOW = datetime(2026, 12, 10, 6, 0, tzinfo=UTC)  # the conftest clock


def signed(message: object, *, secret: str = WEBHOOK_SECRET,
           sent: datetime = NOW) -> tuple[dict[str, str], bytes]:
    """Headers and body of a webhook as Zoom signs it."""
    raw = json.dumps(message, ensure_ascii=False).encode()
    stamp = str(int(sent.timestamp()))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + raw, hashlib.sha256)
    return ({"X-Zm-Signature": f"v0={digest.hexdigest()}", "X-Zm-Request-Timestamp": stamp,
             "Content-Type": "application/json", "User-Agent": "Zoom Marketplace/1.0a"}, raw)


def participant_event(event: str, **participant: object) -> dict[str, object]:
    return {"event": event, "event_ts": 1796882700123, "payload": {
        "account_id": ACCOUNT_ID, "object": {
            "id": str(MEETING_ID), "uuid": MEETING_UUID, "host_id": "KDcuGIm1QgePTO8WbOqwIQ",
            "topic": "Семинар", "type": 2, "start_time": "2026-12-10T07:00:00Z",
            "timezone": "Asia/Yekaterinburg", "duration": 90, "participant": {
                "user_id": "16778240", "user_name": "Анна Петрова", "id": "",
                "participant_uuid": "8Gv1lXs5QvWY8s0ZG5WzTw", "email": "anna@ds22.example.org",
                "registrant_id": "reg-anna", "participant_user_id": "", **participant}}}}


def test_participant_joined(api_context: Context) -> None:
    headers, raw = signed(participant_event("meeting.participant_joined",
                                            join_time="2026-12-10T07:01:02Z"))

    result = provider(api_context).verify_webhook(headers, raw)

    assert result.reply is None
    assert result.events == (WebhookEvent(
        WebhookKind.JOINED, str(MEETING_ID),
        f"zoom:meeting.participant_joined:{MEETING_UUID}:8Gv1lXs5QvWY8s0ZG5WzTw:"
        "2026-12-10T07:01:02Z",
        (Interval(at("07:01:02"), None, email="anna@ds22.example.org", name="Анна Петрова",
                  external_user_id="reg-anna"),)),)


def test_webinar_participant_left(api_context: Context) -> None:
    headers, raw = signed(participant_event("webinar.participant_left",
                                            leave_time="2026-12-10T08:15:00Z",
                                            leave_reason="left the meeting", registrant_id="",
                                            email=""))

    (event,) = provider(api_context).verify_webhook(headers, raw).events

    assert event.kind == WebhookKind.LEFT and event.external_id == str(MEETING_ID)
    assert event.intervals == (Interval(at("08:15:00"), at("08:15:00"), name="Анна Петрова"),)


def test_meeting_ended(api_context: Context) -> None:
    message = {"event": "meeting.ended", "event_ts": 1796888000000, "payload": {
        "account_id": ACCOUNT_ID, "object": {"id": MEETING_ID, "uuid": MEETING_UUID,
                                             "end_time": "2026-12-10T08:31:00Z"}}}

    (event,) = provider(api_context).verify_webhook(*signed(message)).events

    assert event == WebhookEvent(WebhookKind.ENDED, str(MEETING_ID),
                                 f"zoom:meeting.ended:{MEETING_UUID}")


def test_a_replayed_webhook_has_the_same_dedupe_key(api_context: Context) -> None:
    message = participant_event("meeting.participant_joined", join_time="2026-12-10T07:01:02Z")
    zoom_provider = provider(api_context)

    first = zoom_provider.verify_webhook(*signed(message)).events
    again = zoom_provider.verify_webhook(*signed(message, sent=NOW + timedelta(seconds=40))).events
    rejoined = zoom_provider.verify_webhook(*signed(participant_event(
        "meeting.participant_joined", join_time="2026-12-10T07:20:00Z"))).events

    assert first[0].dedupe_key == again[0].dedupe_key
    assert rejoined[0].dedupe_key != first[0].dedupe_key


def test_url_validation_is_answered(api_context: Context) -> None:
    message = {"event": "endpoint.url_validation", "event_ts": 1796882700000,
               "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}}

    result = provider(api_context).verify_webhook(*signed(message))

    assert result.events == ()
    assert result.reply == {"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": hmac.new(
        WEBHOOK_SECRET.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256).hexdigest()}


def test_an_unknown_event_is_accepted_with_nothing_to_store(api_context: Context) -> None:
    message = {"event": "meeting.sharing_started", "event_ts": 1, "payload": {"object": {}}}

    result = provider(api_context).verify_webhook(*signed(message))

    assert result.events == () and result.reply is None


@pytest.mark.parametrize("change", ["forged", "other secret", "body changed", "unsigned",
                                    "no timestamp", "bad timestamp", "stale", "future"])
def test_a_webhook_that_does_not_verify_is_rejected(api_context: Context, change: str) -> None:
    message = participant_event("meeting.participant_joined", join_time="2026-12-10T07:01:02Z")
    headers, raw = signed(message, secret="another-secret" if change == "other secret" else
                          WEBHOOK_SECRET,
                          sent=NOW + {"stale": timedelta(minutes=-6),
                                      "future": timedelta(minutes=6)}.get(change, timedelta()))
    if change == "forged":
        headers["X-Zm-Signature"] = "v0=" + "0" * 64
    elif change == "body changed":
        raw = raw.replace(b"reg-anna", b"reg-evil")
    elif change == "unsigned":
        del headers["X-Zm-Signature"]
    elif change == "no timestamp":
        del headers["X-Zm-Request-Timestamp"]
    elif change == "bad timestamp":
        headers["X-Zm-Request-Timestamp"] = "yesterday"

    with pytest.raises(WebhookRejected) as caught:
        provider(api_context).verify_webhook(headers, raw)
    assert_no_secret(str(caught.value))


def test_an_unsigned_url_validation_is_rejected(api_context: Context) -> None:
    headers, raw = signed({"event": "endpoint.url_validation",
                           "payload": {"plainToken": "abc"}}, secret="guess")

    with pytest.raises(WebhookRejected, match="signature"):
        provider(api_context).verify_webhook(headers, raw)


@pytest.mark.parametrize("raw", [
    b"not json", b"[1, 2]", b'{"event": "meeting.participant_joined"}',
    b'{"event": "meeting.participant_joined", "payload": {"object": {"id": 1}}}',
    b'{"event": "meeting.participant_joined", "payload": {"object": {"id": 1, '
    b'"participant": {"join_time": "soon"}}}}',
    b'{"event": "meeting.ended", "payload": {"object": {}}}',
    b'{"event": "endpoint.url_validation", "payload": {}}',
    "{\"event\": \"\xff\"}".encode("latin-1"),
])
def test_a_malformed_webhook_is_rejected(api_context: Context, raw: bytes) -> None:
    stamp = str(int(NOW.timestamp()))
    digest = hmac.new(WEBHOOK_SECRET.encode(), f"v0:{stamp}:".encode() + raw, hashlib.sha256)
    headers = {"x-zm-signature": f"v0={digest.hexdigest()}", "x-zm-request-timestamp": stamp}

    with pytest.raises(WebhookRejected):
        provider(api_context).verify_webhook(headers, raw)


def test_webhooks_are_off_without_a_secret_token(api_context: Context) -> None:
    headers, raw = signed(participant_event("meeting.participant_joined",
                                            join_time="2026-12-10T07:01:02Z"))

    with pytest.raises(WebhookRejected, match="webhooks are off"):
        provider(api_context, webhook_secret="").verify_webhook(headers, raw)


# -- recording.completed -------------------------------------------------------------------------

RECORDING_COMPLETED = Path(__file__).parent / "zoom" / "recording_completed.json"
SHARE_URL = "https://us06web.zoom.us/rec/share/Qg75t7xZBtEbAkjdlgbfdngBBBB.mWxE3nQ2"


def recording_completed() -> dict[str, object]:
    """Zoom's «recording.completed» for the meeting: an MP4, an M4A and the chat."""
    return json.loads(RECORDING_COMPLETED.read_text(encoding="utf-8"))


def test_recording_completed_gives_the_share_page(api_context: Context) -> None:
    (event,) = provider(api_context).verify_webhook(*signed(recording_completed())).events

    assert event == WebhookEvent(
        WebhookKind.RECORDING, str(MEETING_ID),
        f"zoom:recording.completed:{MEETING_UUID}:{SHARE_URL}",
        recordings=(Recording(url=SHARE_URL,
                              title="Семинар-практикум «Образовательная робототехника в ДОУ»",
                              started_at=at("07:01:55")),))
    assert "download" not in repr(event) and "download-token" not in repr(event)


def test_recording_completed_twice_has_the_same_dedupe_key(api_context: Context) -> None:
    zoom_provider = provider(api_context)
    first = zoom_provider.verify_webhook(*signed(recording_completed())).events
    again = zoom_provider.verify_webhook(
        *signed(recording_completed(), sent=NOW + timedelta(minutes=2))).events

    assert again == first


@pytest.mark.parametrize("change", [
    lambda meeting: meeting.pop("share_url"),
    lambda meeting: meeting.update(share_url=""),
    lambda meeting: meeting.update(share_url="javascript:alert(1)"),
    lambda meeting: meeting.pop("id"),
], ids=["no-share-url", "empty-share-url", "not-https", "no-meeting-id"])
def test_a_malformed_recording_completed_is_rejected(api_context: Context, change) -> None:
    message = recording_completed()
    change(message["payload"]["object"])  # type: ignore[index]

    with pytest.raises(WebhookRejected):
        provider(api_context).verify_webhook(*signed(message))


def test_a_forged_recording_completed_is_rejected(api_context: Context) -> None:
    with pytest.raises(WebhookRejected, match="signature"):
        provider(api_context).verify_webhook(*signed(recording_completed(), secret="guess"))
