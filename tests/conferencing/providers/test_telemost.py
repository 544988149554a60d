"""Yandex Telemost against a local server answering in the Telemost API's documented formats."""

from __future__ import annotations

import dataclasses
import json
import logging
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from integrations.conferencing import base
from integrations.conferencing.base import (
    Context,
    Participant,
    ProviderAuthError,
    ProviderConfigError,
    ProviderError,
    ProviderUnavailable,
    Role,
    Room,
    RoomGone,
    RoomSpec,
)
from integrations.conferencing.telemost import Telemost

TOKEN = "y0_AgAAAABsecretTelemostToken-0123456789"
API = "/v1/telemost-api"
CONFERENCE_ID = "12345678901234"
JOIN_URL = f"https://telemost.yandex.ru/j/{CONFERENCE_ID}"
ORGANISER = "coordinator@ds22.example.org"


@pytest.fixture
def api_context(context: Context, httpserver: HTTPServer) -> Context:
    return dataclasses.replace(context, endpoints={
        "telemost": httpserver.url_for(API), "yandex_login": httpserver.url_for("/")})


def provider(api_context: Context, **settings: str) -> Telemost:
    return Telemost({"oauth_token": TOKEN, **settings}, api_context)


def requests_made(httpserver: HTTPServer) -> list[Request]:
    return [request for request, _ in httpserver.log]


def body(request: Request) -> object:
    return json.loads(request.get_data())


def error_body(message: str, error: str = "Error") -> dict[str, object]:
    """An error answer as the Telemost API documents it."""
    return {"error": error, "description": message, "message": message, "details": {}}


def expect_create(httpserver: HTTPServer, conference_id: str = CONFERENCE_ID) -> None:
    httpserver.expect_oneshot_request(f"{API}/conferences", method="POST").respond_with_json(
        {"id": conference_id, "join_url": f"https://telemost.yandex.ru/j/{conference_id}"},
        status=201)


def expect_cohosts(httpserver: HTTPServer, conference_id: str = CONFERENCE_ID,
                   status: int = 204, answer: dict | None = None) -> None:
    expected = httpserver.expect_oneshot_request(f"{API}/conferences/{conference_id}/cohosts",
                                                 method="PATCH")
    if answer is None:
        expected.respond_with_data("", status=status)
    else:
        expected.respond_with_json(answer, status=status)


def assert_authorised(request: Request) -> None:
    assert request.headers["Authorization"] == f"OAuth {TOKEN}"


# -- registry and settings -----------------------------------------------------------------


def test_registered_with_brand_settings_and_capabilities() -> None:
    assert base.get("telemost") is Telemost
    assert Telemost.label == "Яндекс Телемост"
    assert Telemost.capabilities == base.Capabilities(
        per_person_links=False, registration=False, attendance=False, webhooks=False)
    fields = {f.name: f for f in Telemost.settings_fields}
    assert fields["oauth_token"].secret and fields["oauth_token"].required
    assert "telemost-api:conferences.create" in fields["oauth_token"].help
    assert not fields["waiting_room_level"].required
    assert Telemost.missing_modules() == []
    assert [f.name for f in Telemost.missing_settings({})] == ["oauth_token"]


def test_without_a_token_nothing_is_sent(api_context: Context, httpserver: HTTPServer,
                                         spec: RoomSpec) -> None:
    with pytest.raises(ProviderConfigError, match="OAuth token"):
        Telemost({}, api_context).create_room(spec, Room())
    assert httpserver.log == []


def test_an_unknown_waiting_room_level_is_refused(api_context: Context, httpserver: HTTPServer,
                                                  spec: RoomSpec) -> None:
    with pytest.raises(ProviderConfigError, match="PUBLIC, ORGANIZATION, ADMINS"):
        provider(api_context, waiting_room_level="everyone").create_room(spec, Room())
    with pytest.raises(ProviderConfigError):
        provider(api_context, waiting_room_level="closed").check_connection()
    assert httpserver.log == []


# -- create_room ------------------------------------------------------------------------------


def test_create_makes_a_public_conference_and_the_organiser_a_cohost(
        api_context: Context, httpserver: HTTPServer, spec: RoomSpec) -> None:
    expect_create(httpserver)
    expect_cohosts(httpserver)

    room = provider(api_context).create_room(spec, Room())

    assert room == Room(external_id=CONFERENCE_ID, join_url=JOIN_URL,
                        data={"waiting_room_level": "PUBLIC", "cohost": ORGANISER})
    create, cohosts = requests_made(httpserver)
    assert (create.method, create.path) == ("POST", f"{API}/conferences")
    assert create.headers["Content-Type"] == "application/json"
    assert body(create) == {"waiting_room_level": "PUBLIC"}
    assert (cohosts.method, cohosts.path) == ("PATCH", f"{API}/conferences/{CONFERENCE_ID}/cohosts")
    assert body(cohosts) == {"cohosts": [{"email": ORGANISER}]}
    for request in (create, cohosts):
        assert_authorised(request)


def test_create_uses_the_configured_waiting_room_level(
        api_context: Context, httpserver: HTTPServer, spec: RoomSpec) -> None:
    expect_create(httpserver)
    spec = dataclasses.replace(spec, organiser_email=None)

    room = provider(api_context, waiting_room_level=" organization ").create_room(spec, Room())

    (create,) = requests_made(httpserver)  # no organiser: no co-host call
    assert body(create) == {"waiting_room_level": "ORGANIZATION"}
    assert room.data == {"waiting_room_level": "ORGANIZATION"}


def test_create_returns_the_conference_the_room_already_names(
        api_context: Context, httpserver: HTTPServer, spec: RoomSpec) -> None:
    httpserver.expect_oneshot_request(f"{API}/conferences/{CONFERENCE_ID}", method="GET") \
        .respond_with_json({"id": CONFERENCE_ID, "join_url": JOIN_URL, "access_level": "PUBLIC",
                            "waiting_room_level": "PUBLIC", "sip_id": "1234567890"})
    earlier = Room(external_id=CONFERENCE_ID, data={"cohost": ORGANISER, "other": 1})

    room = provider(api_context).create_room(spec, earlier)

    assert room == Room(external_id=CONFERENCE_ID, join_url=JOIN_URL, data={
        "cohost": ORGANISER, "other": 1, "waiting_room_level": "PUBLIC"})
    (read,) = requests_made(httpserver)  # no second conference, the co-host is already there
    assert (read.method, read.path) == ("GET", f"{API}/conferences/{CONFERENCE_ID}")
    assert_authorised(read)


def test_create_makes_a_new_conference_when_the_old_one_is_gone(
        api_context: Context, httpserver: HTTPServer, spec: RoomSpec) -> None:
    httpserver.expect_oneshot_request(f"{API}/conferences/old-1", method="GET").respond_with_json(
        error_body("Conference not found", "ConferenceNotFound"), status=404)
    expect_create(httpserver)
    expect_cohosts(httpserver)
    earlier = Room(external_id="old-1", join_url="https://telemost.yandex.ru/j/old-1",
                   data={"waiting_room_level": "PUBLIC", "cohost": ORGANISER})

    room = provider(api_context).create_room(spec, earlier)

    assert (room.external_id, room.join_url) == (CONFERENCE_ID, JOIN_URL)
    assert room.data == {"waiting_room_level": "PUBLIC", "cohost": ORGANISER}
    assert [(r.method, r.path) for r in requests_made(httpserver)] == [
        ("GET", f"{API}/conferences/old-1"), ("POST", f"{API}/conferences"),
        ("PATCH", f"{API}/conferences/{CONFERENCE_ID}/cohosts")]


def test_an_organiser_without_a_yandex_account_does_not_stop_the_room(
        api_context: Context, httpserver: HTTPServer, spec: RoomSpec,
        caplog: pytest.LogCaptureFixture) -> None:
    expect_create(httpserver)
    expect_cohosts(httpserver, status=400, answer=error_body(
        "Users not found", "NoSuchUserPrincipalsFound") | {"details": {"emails": ORGANISER}})

    with caplog.at_level(logging.WARNING):
        room = provider(api_context).create_room(spec, Room())

    assert room.external_id == CONFERENCE_ID
    assert "cohost" not in room.data
    assert ORGANISER in caplog.text and "co-host" in caplog.text
    assert TOKEN not in caplog.text

    # the next update tries again
    expect_cohosts(httpserver)
    room = provider(api_context).update_room(spec, room)
    assert room.data["cohost"] == ORGANISER
    assert requests_made(httpserver)[-1].path == f"{API}/conferences/{CONFERENCE_ID}/cohosts"


# -- update, delete, join ---------------------------------------------------------------------


def test_update_sends_nothing_when_nothing_telemost_keeps_changed(
        api_context: Context, httpserver: HTTPServer, spec: RoomSpec) -> None:
    room = Room(external_id=CONFERENCE_ID, join_url=JOIN_URL,
                data={"waiting_room_level": "PUBLIC", "cohost": ORGANISER})
    moved = dataclasses.replace(spec, title="Новое название", start=spec.start.replace(hour=9))

    assert provider(api_context).update_room(moved, room) == room
    assert httpserver.log == []


def test_update_changes_the_waiting_room_level(api_context: Context, httpserver: HTTPServer,
                                               spec: RoomSpec) -> None:
    httpserver.expect_oneshot_request(f"{API}/conferences/{CONFERENCE_ID}", method="PATCH") \
        .respond_with_json({"id": CONFERENCE_ID, "join_url": JOIN_URL,
                            "waiting_room_level": "ADMINS"})
    room = Room(external_id=CONFERENCE_ID, join_url=JOIN_URL,
                data={"waiting_room_level": "PUBLIC", "cohost": ORGANISER})

    updated = provider(api_context, waiting_room_level="ADMINS").update_room(spec, room)

    assert updated == Room(external_id=CONFERENCE_ID, join_url=JOIN_URL,
                           data={"waiting_room_level": "ADMINS", "cohost": ORGANISER})
    (patch,) = requests_made(httpserver)
    assert (patch.method, patch.path) == ("PATCH", f"{API}/conferences/{CONFERENCE_ID}")
    assert body(patch) == {"waiting_room_level": "ADMINS"}
    assert_authorised(patch)


def test_update_of_a_conference_gone_at_telemost(api_context: Context, httpserver: HTTPServer,
                                                 spec: RoomSpec) -> None:
    httpserver.expect_oneshot_request(f"{API}/conferences/{CONFERENCE_ID}", method="PATCH") \
        .respond_with_json(error_body("Conference not found", "ConferenceNotFound"), status=404)
    room = Room(external_id=CONFERENCE_ID, join_url=JOIN_URL, data={})

    with pytest.raises(RoomGone, match="not found"):
        provider(api_context).update_room(spec, room)


def test_update_of_a_room_never_made_creates_it(api_context: Context, httpserver: HTTPServer,
                                                spec: RoomSpec) -> None:
    expect_create(httpserver)
    expect_cohosts(httpserver)

    room = provider(api_context).update_room(spec, Room())

    assert room.external_id == CONFERENCE_ID
    assert requests_made(httpserver)[0].method == "POST"


def test_delete_leaves_the_conference_alone(api_context: Context,
                                            httpserver: HTTPServer) -> None:
    provider(api_context).delete_room(Room(external_id=CONFERENCE_ID, join_url=JOIN_URL))
    assert httpserver.log == []


def test_everyone_joins_by_the_conference_link(api_context: Context,
                                               httpserver: HTTPServer) -> None:
    room = Room(external_id=CONFERENCE_ID, join_url=JOIN_URL, data={})
    telemost = provider(api_context)
    host = Participant(key="p1", name="Ирина Петровна", role=Role.HOST)
    teacher = Participant(key="p2", name="Анна Сергеевна", email="anna@school.example.org")

    assert telemost.join_link(room, host) == telemost.join_link(room, teacher)
    link = telemost.join_link(room, teacher)
    assert (link.url, link.expires_at) == (JOIN_URL, None)
    with pytest.raises(ProviderConfigError, match="not been made"):
        telemost.join_link(Room(), teacher)
    assert httpserver.log == []


# -- check_connection -------------------------------------------------------------------------


def test_check_connection_names_the_tokens_account(api_context: Context,
                                                   httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/info", method="GET", query_string="format=json") \
        .respond_with_json({"id": "1000034426", "login": "ivan", "client_id": "4760187d81bc4b77",
                            "default_email": "ivan@ds22.example.org", "psuid": "1.AAceCw"})

    assert provider(api_context).check_connection() == "ivan@ds22.example.org"
    (request,) = requests_made(httpserver)
    assert_authorised(request)
    assert TOKEN not in request.query_string.decode()


def test_check_connection_without_email_permission_names_the_login(
        api_context: Context, httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/info").respond_with_json(
        {"id": "1000034426", "login": "ivan", "client_id": "4760187d", "psuid": "1.AAceCw"})

    assert provider(api_context).check_connection() == "ivan"


def test_check_connection_with_a_revoked_token(api_context: Context,
                                               httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/info").respond_with_data("", status=401)

    with pytest.raises(ProviderAuthError) as caught:
        provider(api_context).check_connection()

    assert "issue a new one" in str(caught.value)
    assert TOKEN not in str(caught.value)


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("answer", "error_type", "words"), [
    (lambda r: r.respond_with_json(error_body("Unauthorized", "UnauthorizedError"), status=401),
     ProviderAuthError,
     ("HTTP 401", "issue a new one", "telemost-api:conferences.create",
      "telemost-api:conferences.read", "telemost-api:conferences.update")),
    (lambda r: r.respond_with_json(error_body("Api is restricted to organizations",
                                              "ApiRestrictedToOrganizations"), status=403),
     ProviderAuthError,
     ("HTTP 403", "Api is restricted to organizations", "Yandex 360 for business",
      "telemost-api:conferences.create")),
    (lambda r: r.respond_with_json(error_body("Too many requests"), status=429,
                                   headers={"Retry-After": "7"}),
     ProviderUnavailable, ("too many requests",)),
    (lambda r: r.respond_with_data("Internal Server Error", status=500),
     ProviderUnavailable, ("HTTP 500",)),
    (lambda r: r.respond_with_json(error_body("Service unavailable"), status=503),
     ProviderUnavailable, ("HTTP 503",)),
    (lambda r: r.respond_with_data("<html>Bad gateway</html>", status=201,
                                   content_type="text/html"),
     ProviderError, ("not JSON",)),
    (lambda r: r.respond_with_json({"id": CONFERENCE_ID}, status=201),
     ProviderError, ("lacks id, join_url",)),
    (lambda r: r.respond_with_json({"id": CONFERENCE_ID, "join_url": None}, status=201),
     ProviderError, ("lacks id, join_url",)),
    (lambda r: r.respond_with_json([{"id": CONFERENCE_ID, "join_url": JOIN_URL}], status=201),
     ProviderError, ("lacks id, join_url",)),
], ids=["401", "403", "429", "500", "503", "html", "no-join-url", "null-join-url", "list"])
def test_create_failures(api_context: Context, httpserver: HTTPServer, spec: RoomSpec,
                         answer, error_type: type[ProviderError], words: tuple[str, ...]) -> None:
    answer(httpserver.expect_oneshot_request(f"{API}/conferences", method="POST"))

    with pytest.raises(ProviderError) as caught:
        provider(api_context).create_room(spec, Room())

    error = caught.value
    assert type(error) is error_type
    message = str(error)
    assert message.startswith("Yandex Telemost: create conference")
    for word in words:
        assert word in message
    assert TOKEN not in message
    assert TOKEN not in repr(error.args)
    (create,) = requests_made(httpserver)
    assert_authorised(create)


def test_create_timeout(api_context: Context, httpserver: HTTPServer, spec: RoomSpec) -> None:
    received: list[Request] = []

    def sleeping(request: Request) -> Response:
        received.append(request)
        time.sleep(1.0)
        return Response("{}", status=201, content_type="application/json")

    httpserver.expect_oneshot_request(f"{API}/conferences", method="POST") \
        .respond_with_handler(sleeping)

    with pytest.raises(ProviderUnavailable, match="did not answer in time") as caught:
        provider(dataclasses.replace(api_context, timeout=0.3)).create_room(spec, Room())

    assert caught.value.retryable
    assert TOKEN not in str(caught.value)
    (create,) = received
    assert_authorised(create)


def test_rate_limit_carries_retry_after(api_context: Context, httpserver: HTTPServer,
                                        spec: RoomSpec) -> None:
    httpserver.expect_oneshot_request(f"{API}/conferences", method="POST").respond_with_json(
        error_body("Too many requests"), status=429, headers={"Retry-After": "7"})

    with pytest.raises(ProviderUnavailable) as caught:
        provider(api_context).create_room(spec, Room())

    assert (caught.value.status, caught.value.retry_after, caught.value.retryable) == (429, 7.0,
                                                                                        True)


def test_a_forbidden_read_is_not_taken_for_a_gone_conference(
        api_context: Context, httpserver: HTTPServer, spec: RoomSpec) -> None:
    httpserver.expect_oneshot_request(f"{API}/conferences/{CONFERENCE_ID}", method="GET") \
        .respond_with_json(error_body("Access to the conference is denied"), status=403)

    with pytest.raises(ProviderAuthError, match="HTTP 403") as caught:
        provider(api_context).create_room(spec, Room(external_id=CONFERENCE_ID))

    assert caught.value.status == 403
    assert [r.method for r in requests_made(httpserver)] == ["GET"]  # no second conference
