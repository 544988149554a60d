"""BigBlueButton against a local HTTP server answering as bbb-web does (XML recorded in
bigbluebutton/), and its analytics callback with JWTs made by PyJWT."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from integrations.conferencing import base
from integrations.conferencing.base import (
    Context,
    Interval,
    Participant,
    ProviderAuthError,
    ProviderConfigError,
    ProviderError,
    ProviderUnavailable,
    Recording,
    Role,
    Room,
    RoomSpec,
    WebhookEvent,
    WebhookKind,
    WebhookRejected,
)
from integrations.conferencing.bigbluebutton import BigBlueButton
from tests.conferencing.providers.conftest import Clock

# BigBlueButton's secrets are ~40 characters: shorter than PyJWT recommends for HS512.
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

FIXTURES = Path(__file__).parent / "bigbluebutton"
API = "/bigbluebutton/api"
SECRET = "ECCJZNJWLPEA3YB6Y2LTQGQD3GJZ3F93kq7Zt2Xw"
MEETING_ID = "vmeste-room-17-1a2b3c4d"
CREATE_TIME = "1796021700123"
ANNA = Participant(key="p12", name="Анна Сергеевна Петрова", email="anna@ds22.example.org",
                   role=Role.HOST)
IVAN = Participant(key="p34", name="Иван Кузнецов & Co", role=Role.ATTENDEE)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def serve(httpserver: HTTPServer, call: str, answer: str) -> None:
    """Answer `call` with the recorded XML `answer` (a file name) as bbb-web does."""
    httpserver.expect_request(f"{API}/{call}", method="GET").respond_with_data(
        fixture(answer), content_type="text/xml;charset=utf-8")


def verified(call: str, query: str,
             algorithm: Callable[..., Any] = hashlib.sha256) -> dict[str, str]:
    """Check the checksum as bbb-web does (the raw query string without it) and return the
    parameters."""
    signed, _, checksum = query.rpartition("&checksum=")
    assert checksum == algorithm((call + signed + SECRET).encode()).hexdigest()
    return dict(parse_qsl(signed, keep_blank_values=True))


def received(httpserver: HTTPServer) -> tuple[str, dict[str, str]]:
    """The call name and verified parameters of the last request the server received."""
    request = httpserver.log[-1][0]
    assert request.method == "GET"
    assert request.path.startswith(f"{API}/")
    call = request.path.removeprefix(f"{API}/")
    return call, verified(call, request.query_string.decode("ascii"))


@pytest.fixture
def bbb(httpserver: HTTPServer, context: Context) -> BigBlueButton:
    local = replace(context, endpoints={"bigbluebutton": httpserver.url_for(API)})
    return BigBlueButton({"secret": SECRET}, local)


@pytest.fixture
def room(bbb: BigBlueButton, spec: RoomSpec) -> Room:
    """A room as create_room made it (update_room: the same data, without the network)."""
    return bbb.update_room(spec, Room(external_id=MEETING_ID))


def test_is_registered_and_needs_no_optional_library() -> None:
    assert base.get("bigbluebutton") is BigBlueButton
    assert BigBlueButton.missing_modules() == []
    assert [f.name for f in BigBlueButton.missing_settings({})] == ["api_url", "secret"]
    caps = BigBlueButton.capabilities
    assert (caps.per_person_links, caps.attendance, caps.webhooks, caps.registration) == (
        True, True, True, False)


# -- create_room / update_room -----------------------------------------------------------------


def test_create_room_checks_the_server_and_keeps_the_create_parameters(
        bbb: BigBlueButton, spec: RoomSpec, httpserver: HTTPServer) -> None:
    serve(httpserver, "isMeetingRunning", "is_meeting_running.xml")

    made = bbb.create_room(spec, Room())

    assert made.external_id is not None and made.external_id.startswith("vmeste-room-17-")
    assert made.join_url is None
    assert received(httpserver) == ("isMeetingRunning", {"meetingID": made.external_id})
    create = made.data["create"]
    assert create["name"] == spec.title
    assert create["record"] == "true"
    assert create["welcome"] == "Работа с наборами Bee-Bot."
    assert create["meta_analytics-callback-url"] == spec.callback_url
    assert create["meta_bbb-recording-ready-url"] == spec.callback_url
    assert create["meetingKeepEvents"] == "true"
    assert 2 <= len(create["attendeePW"]) <= 64 and 2 <= len(create["moderatorPW"]) <= 64
    assert create["attendeePW"] != create["moderatorPW"]
    assert made.data["end"] == "2026-12-10T08:30:00+00:00"


def test_create_room_again_keeps_the_meeting_id_and_passwords(
        bbb: BigBlueButton, spec: RoomSpec, httpserver: HTTPServer) -> None:
    serve(httpserver, "isMeetingRunning", "is_meeting_running.xml")
    first = bbb.create_room(spec, Room())

    again = bbb.create_room(replace(spec, title="Робототехника: перенос"), first)

    assert again.external_id == first.external_id
    for password in ("attendeePW", "moderatorPW"):
        assert again.data["create"][password] == first.data["create"][password]
    assert again.data["create"]["name"] == "Робототехника: перенос"


def test_update_room_is_local_and_escapes_the_welcome_message(bbb: BigBlueButton,
                                                              spec: RoomSpec, room: Room) -> None:
    later = replace(spec, description="<b>Bee-Bot</b> & " + "я" * 600, callback_url=None,
                    end=spec.end + timedelta(hours=1))

    updated = bbb.update_room(later, room)

    create = updated.data["create"]
    assert create["welcome"].startswith("&lt;b&gt;Bee-Bot&lt;/b&gt; &amp; яяя")
    assert create["welcome"].count("я") == 500 - len("<b>Bee-Bot</b> & ")
    assert "meta_analytics-callback-url" not in create and "meetingKeepEvents" not in create
    assert create["moderatorPW"] == room.data["create"]["moderatorPW"]
    assert updated.data["end"] == "2026-12-10T09:30:00+00:00"


def test_a_room_key_with_other_characters_gives_a_valid_meeting_id(
        bbb: BigBlueButton, spec: RoomSpec, httpserver: HTTPServer) -> None:
    serve(httpserver, "isMeetingRunning", "is_meeting_running.xml")

    made = bbb.create_room(replace(spec, key="room 17/ёж,2"), Room())

    assert made.external_id is not None
    assert made.external_id.startswith("vmeste-room-17-2-")
    assert all(c.isascii() and (c.isalnum() or c in "-_") for c in made.external_id)


# -- join_link ---------------------------------------------------------------------------------


def test_join_link_starts_the_meeting_and_signs_the_join_url(
        bbb: BigBlueButton, room: Room, clock: Clock, httpserver: HTTPServer) -> None:
    serve(httpserver, "create", "create.xml")
    clock.value = datetime(2026, 12, 10, 6, 55, tzinfo=UTC)

    link = bbb.join_link(room, IVAN)

    call, params = received(httpserver)
    assert call == "create"
    assert params == {"meetingID": MEETING_ID, **room.data["create"],
                      "duration": str(95 + 120)}  # until 08:30, plus two hours
    assert params["name"] == "Семинар-практикум «Образовательная робототехника в ДОУ»"
    assert link.expires_at is None
    parts = urlsplit(link.url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == httpserver.url_for(f"{API}/join")
    assert verified("join", parts.query) == {
        "fullName": "Иван Кузнецов & Co", "meetingID": MEETING_ID, "role": "VIEWER",
        "userID": "p34", "createTime": CREATE_TIME, "redirect": "true"}
    assert "%D0%98%D0%B2%D0%B0%D0%BD+%D0%9A" in parts.query  # UTF-8, form-encoded
    assert len(httpserver.log) == 1  # the join itself is the person's browser's request


def test_the_host_joins_as_moderator(bbb: BigBlueButton, room: Room,
                                     httpserver: HTTPServer) -> None:
    serve(httpserver, "create", "create.xml")

    link = bbb.join_link(room, ANNA)

    params = verified("join", urlsplit(link.url).query)
    assert (params["role"], params["userID"], params["fullName"]) == (
        "MODERATOR", "p12", "Анна Сергеевна Петрова")


def test_join_link_again_is_idempotent_for_a_running_meeting(
        bbb: BigBlueButton, room: Room, httpserver: HTTPServer) -> None:
    serve(httpserver, "create", "create.xml")
    first = bbb.join_link(room, ANNA)
    httpserver.clear()
    serve(httpserver, "create", "create_duplicate.xml")

    second = bbb.join_link(room, IVAN)

    assert verified("join", urlsplit(first.url).query)["createTime"] == CREATE_TIME
    assert verified("join", urlsplit(second.url).query)["createTime"] == CREATE_TIME
    call, params = received(httpserver)
    assert call == "create" and params["attendeePW"] == room.data["create"]["attendeePW"]


def test_join_link_for_a_meeting_recreated_after_it_expired_uses_the_new_create_time(
        bbb: BigBlueButton, room: Room, httpserver: HTTPServer) -> None:
    later = fixture("create.xml").replace(CREATE_TIME, "1796630400456")
    httpserver.expect_request(f"{API}/create").respond_with_data(later, content_type="text/xml")

    link = bbb.join_link(room, IVAN)

    assert verified("join", urlsplit(link.url).query)["createTime"] == "1796630400456"


def test_join_link_after_the_end_still_gives_the_meeting_two_hours(
        bbb: BigBlueButton, room: Room, clock: Clock, httpserver: HTTPServer) -> None:
    serve(httpserver, "create", "create.xml")
    clock.value = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)

    bbb.join_link(room, ANNA)

    assert received(httpserver)[1]["duration"] == "120"


def test_join_link_needs_a_made_room(bbb: BigBlueButton, httpserver: HTTPServer) -> None:
    with pytest.raises(ProviderConfigError, match="not been made"):
        bbb.join_link(Room(), IVAN)
    assert httpserver.log == []


def test_id_not_unique_is_explained(bbb: BigBlueButton, room: Room,
                                    httpserver: HTTPServer) -> None:
    serve(httpserver, "create", "id_not_unique.xml")

    with pytest.raises(ProviderError, match="running with other passwords") as caught:
        bbb.join_link(room, ANNA)
    assert not caught.value.retryable


def test_a_create_answer_without_create_time_is_an_error(
        bbb: BigBlueButton, room: Room, httpserver: HTTPServer) -> None:
    body = "<response><returncode>SUCCESS</returncode><meetingID>x</meetingID></response>"
    httpserver.expect_request(f"{API}/create").respond_with_data(body, content_type="text/xml")

    with pytest.raises(ProviderError, match="lacks createTime"):
        bbb.join_link(room, ANNA)


# -- checksum and settings ---------------------------------------------------------------------


@pytest.mark.parametrize("name, algorithm", [("sha1", hashlib.sha1), ("SHA512", hashlib.sha512),
                                             ("", hashlib.sha256)])
def test_the_checksum_algorithm_is_the_organisations_choice(
        context: Context, room: Room, name: str, algorithm: Callable[..., Any]) -> None:
    provider = BigBlueButton({"api_url": "https://bbb.example.org/bigbluebutton/api",
                              "secret": SECRET, "checksum": name}, context)

    url = provider.signed_url("end", {"meetingID": MEETING_ID})

    assert url.startswith("https://bbb.example.org/bigbluebutton/api/end?meetingID=")
    assert verified("end", urlsplit(url).query, algorithm) == {"meetingID": MEETING_ID}


def test_a_call_without_parameters_is_signed_too(bbb: BigBlueButton) -> None:
    query = urlsplit(bbb.signed_url("getMeetings", {})).query
    assert query == "checksum=" + hashlib.sha256(("getMeetings" + SECRET).encode()).hexdigest()


@pytest.mark.parametrize("settings, message", [
    ({"api_url": "https://bbb.example.org/bigbluebutton/api", "secret": SECRET,
      "checksum": "md5"}, "sha1, sha256, sha384 or sha512"),
    ({"api_url": "https://bbb.example.org/bigbluebutton/api"}, "shared secret"),
    ({"secret": SECRET}, "API URL"),
])
def test_incomplete_settings_fail_before_any_request(context: Context, spec: RoomSpec,
                                                     settings: dict[str, str],
                                                     message: str) -> None:
    with pytest.raises(ProviderConfigError, match=message):
        BigBlueButton(settings, context).create_room(spec, Room())


def test_the_url_bbb_conf_prints_gets_its_api_suffix(
        context: Context, spec: RoomSpec, httpserver: HTTPServer) -> None:
    serve(httpserver, "isMeetingRunning", "is_meeting_running.xml")
    provider = BigBlueButton({"api_url": httpserver.url_for("/bigbluebutton/"),
                              "secret": SECRET}, context)

    provider.create_room(spec, Room())

    assert httpserver.log[0][0].path == f"{API}/isMeetingRunning"


# -- check_connection --------------------------------------------------------------------------


def test_check_connection_reads_the_version_and_checks_the_secret(
        bbb: BigBlueButton, httpserver: HTTPServer) -> None:
    httpserver.expect_request(API).respond_with_data(fixture("api_root.xml"),
                                                     content_type="text/xml")
    serve(httpserver, "isMeetingRunning", "is_meeting_running.xml")

    found = bbb.check_connection()

    assert found == f"{urlsplit(httpserver.url_for('/')).netloc} (BigBlueButton 3.0.4)"
    assert httpserver.log[0][0].query_string == b""  # the API root takes no checksum
    assert received(httpserver)[0] == "isMeetingRunning"


def test_check_connection_with_a_wrong_secret_says_what_to_do(
        bbb: BigBlueButton, httpserver: HTTPServer) -> None:
    httpserver.expect_request(API).respond_with_data(fixture("api_root.xml"),
                                                     content_type="text/xml")
    serve(httpserver, "isMeetingRunning", "checksum_error.xml")

    with pytest.raises(ProviderAuthError, match="bbb-conf --secret") as caught:
        bbb.check_connection()
    assert SECRET not in str(caught.value)


def test_check_connection_wants_https(context: Context) -> None:
    provider = BigBlueButton({"api_url": "http://bbb.example.org/bigbluebutton/api",
                              "secret": SECRET}, context)
    with pytest.raises(ProviderConfigError, match="https://"):
        provider.check_connection()


# -- delete_room -------------------------------------------------------------------------------


def test_delete_room_ends_the_meeting(bbb: BigBlueButton, room: Room,
                                      httpserver: HTTPServer) -> None:
    serve(httpserver, "end", "end.xml")

    bbb.delete_room(room)

    assert received(httpserver) == ("end", {"meetingID": MEETING_ID,
                                            "password": room.data["create"]["moderatorPW"]})


def test_delete_room_of_a_meeting_not_running_is_no_error(
        bbb: BigBlueButton, room: Room, httpserver: HTTPServer) -> None:
    serve(httpserver, "end", "not_found.xml")

    bbb.delete_room(room)

    assert received(httpserver)[0] == "end"


def test_delete_room_never_made_calls_nothing(bbb: BigBlueButton, httpserver: HTTPServer) -> None:
    bbb.delete_room(Room())
    assert httpserver.log == []


# -- failures ----------------------------------------------------------------------------------


def test_checksum_error_is_an_auth_error(bbb: BigBlueButton, room: Room,
                                         httpserver: HTTPServer) -> None:
    serve(httpserver, "create", "checksum_error.xml")

    with pytest.raises(ProviderAuthError, match="checksum algorithm") as caught:
        bbb.join_link(room, ANNA)
    assert SECRET not in str(caught.value)


def test_server_error_is_retried_later(bbb: BigBlueButton, room: Room,
                                       httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"{API}/create").respond_with_data("Bad Gateway", status=502)

    with pytest.raises(ProviderUnavailable, match="HTTP 502"):
        bbb.join_link(room, ANNA)


def test_rate_limit_carries_retry_after(bbb: BigBlueButton, room: Room,
                                        httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"{API}/end").respond_with_data(
        "", status=429, headers={"Retry-After": "30"})

    with pytest.raises(ProviderUnavailable) as caught:
        bbb.delete_room(room)
    assert caught.value.retry_after == 30.0


@pytest.mark.parametrize("status", [401, 403])
def test_a_proxy_refusing_access_is_an_auth_error(bbb: BigBlueButton, room: Room, status: int,
                                                  httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"{API}/create").respond_with_data("Forbidden", status=status)

    with pytest.raises(ProviderAuthError, match=f"HTTP {status}"):
        bbb.join_link(room, ANNA)


def test_404_means_a_wrong_api_url(bbb: BigBlueButton, spec: RoomSpec,
                                   httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"{API}/isMeetingRunning").respond_with_data("Not Found",
                                                                           status=404)

    with pytest.raises(ProviderConfigError, match="/bigbluebutton/api"):
        bbb.create_room(spec, Room())


def test_a_timeout_is_retried_later(bbb: BigBlueButton, room: Room,
                                    httpserver: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.6)
        return Response(fixture("create.xml"), content_type="text/xml")

    httpserver.expect_request(f"{API}/create").respond_with_handler(slow)
    bbb.context = replace(bbb.context, timeout=0.3)

    with pytest.raises(ProviderUnavailable, match="did not answer in time"):
        bbb.join_link(room, ANNA)


@pytest.mark.parametrize("body", [
    "<response><returncode>SUCCESS</returncode>",  # cut short
    "<html><body><h1>Welcome to BigBlueButton</h1></body></html>",  # the landing page
    "",
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]>'
    "<response><returncode>SUCCESS</returncode><createTime>&a;</createTime></response>",
])
def test_an_answer_that_is_not_bbb_xml_is_an_error(bbb: BigBlueButton, room: Room, body: str,
                                                   httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"{API}/create").respond_with_data(body, content_type="text/xml")

    with pytest.raises(ProviderError, match="not BigBlueButton's; check the API URL"):
        bbb.join_link(room, ANNA)


def test_another_failure_shows_the_servers_message(bbb: BigBlueButton, room: Room,
                                                   httpserver: HTTPServer) -> None:
    body = ("<response><returncode>FAILED</returncode><messageKey>validationError</messageKey>"
            "<message>Meeting name must be between 2 and 256 characters.</message></response>")
    httpserver.expect_request(f"{API}/create").respond_with_data(body, content_type="text/xml")

    with pytest.raises(ProviderError, match=r"\(validationError\): Meeting name must be"):
        bbb.join_link(room, ANNA)


# -- the analytics callback --------------------------------------------------------------------

CALLBACK = (FIXTURES / "analytics_callback.json").read_bytes()
SENT = datetime(2026, 12, 10, 8, 41, tzinfo=UTC)


def token(secret: str = SECRET, algorithm: str = "HS512", **claims) -> str:
    """A token as post_events_analytics_callback.rb makes it: {exp: sent + 24 h}."""
    claims.setdefault("exp", int((SENT + timedelta(hours=24)).timestamp()))
    return jwt.encode(claims, secret, algorithm=algorithm, headers={"typ": "JWT"})


def headers(value: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "Authorization": f"Bearer {value}",
            "User-Agent": "BigBlueButton Analytics Callback"}


@pytest.fixture
def hooks(bbb: BigBlueButton, clock: Clock) -> BigBlueButton:
    clock.value = SENT + timedelta(seconds=2)
    return bbb


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2026, 12, 10, hour, minute, second, tzinfo=UTC)


def test_a_valid_callback_gives_the_meetings_attendance(hooks: BigBlueButton) -> None:
    result = hooks.verify_webhook(headers(token()), CALLBACK)

    assert result.reply is None
    (event,) = result.events
    assert event.kind == WebhookKind.ATTENDANCE
    assert event.external_id == MEETING_ID
    assert event.dedupe_key == ("bigbluebutton:2b1e1a6f4f3c7b2d9a8e5c4b3a2f1e0d9c8b7a6f"
                                "-1796021700123")
    anna = dict(person_key="p12", name="Анна Сергеевна Петрова", external_user_id="p12")
    ivan = dict(person_key="p34", name="Иван Кузнецов", external_user_id="p34")
    assert event.intervals == (
        Interval(at(6, 56, 10), at(8, 30), **anna),
        # two tabs at once (07:30–07:40) count once; back from 07:50 to the end
        Interval(at(7, 2), at(7, 45), **ivan),
        Interval(at(7, 50), at(8, 30), **ivan),
    )


def test_the_same_callback_twice_has_the_same_dedupe_key(hooks: BigBlueButton,
                                                         clock: Clock) -> None:
    sent = headers(token())
    first = hooks.verify_webhook(sent, CALLBACK)
    clock.value += timedelta(hours=23)  # a replay while the token is still valid

    again = hooks.verify_webhook(sent, CALLBACK)

    assert again.events[0].dedupe_key == first.events[0].dedupe_key
    assert again == first


def test_an_expired_token_is_rejected(hooks: BigBlueButton, clock: Clock) -> None:
    sent = headers(token())
    clock.value += timedelta(hours=24, minutes=5)

    with pytest.raises(WebhookRejected, match="expired"):
        hooks.verify_webhook(sent, CALLBACK)


HS512_HEADER = "eyJhbGciOiJIUzUxMiJ9"  # {"alg":"HS512"}


def _resigned_tail(value: str) -> str:
    """`value` with the last characters of its signature changed."""
    return value[:-4] + ("BBBB" if value.endswith("AAAA") else "AAAA")


@pytest.mark.parametrize("make, message", [
    (lambda: token(secret="another-server-secret-000000000000000000"), "signature"),
    (lambda: _resigned_tail(token()), "signature"),
    (lambda: token(algorithm="HS256"), "HS512"),
    (lambda: jwt.encode({"exp": 4102444800}, None, algorithm="none"), "malformed"),
    (lambda: jwt.encode({"exp": 4102444800}, None, algorithm="none") + "c2ln", "HS512"),
    (lambda: jwt.encode({"sub": "x"}, SECRET, algorithm="HS512"), "no expiry"),
    (lambda: jwt.encode({"exp": "tomorrow"}, SECRET, algorithm="HS512"), "no expiry"),
    (lambda: "not-a-jwt", "malformed"),
    (lambda: "a.b.c.d", "malformed"),
    (lambda: f"{HS512_HEADER}.e30.A", "malformed"),  # a signature that is not base64
    (lambda: "W10.e30.c2ln", "malformed"),  # a header that is not a JSON object
], ids=["other-secret", "changed-signature", "hs256", "alg-none", "alg-none-signed",
        "no-exp", "exp-not-a-number", "not-a-jwt", "four-parts", "bad-base64", "header-list"])
def test_a_forged_or_malformed_token_is_rejected(hooks: BigBlueButton, make,
                                                 message: str) -> None:
    with pytest.raises(WebhookRejected, match=message):
        hooks.verify_webhook(headers(make()), CALLBACK)


@pytest.mark.parametrize("sent", [{}, {"Authorization": "Basic dXNlcjpwYXNz"},
                                  {"Authorization": "Bearer "}])
def test_a_callback_without_a_bearer_token_is_rejected(hooks: BigBlueButton,
                                                       sent: dict[str, str]) -> None:
    with pytest.raises(WebhookRejected, match="bearer token"):
        hooks.verify_webhook(sent, CALLBACK)


def test_header_names_are_case_insensitive(hooks: BigBlueButton) -> None:
    result = hooks.verify_webhook({"authorization": f"bearer {token()}"}, CALLBACK)
    assert result.events[0].external_id == MEETING_ID


def _edited(change) -> bytes:
    payload = json.loads(CALLBACK)
    change(payload)
    return json.dumps(payload).encode()


@pytest.mark.parametrize("body", [
    b"not json",
    b"[]",
    _edited(lambda p: p.pop("internal_meeting_id")),
    _edited(lambda p: p.update(meeting_id=17)),
    _edited(lambda p: p.update(data="attendees")),
    _edited(lambda p: p["data"].update(attendees={"p12": {}})),
    _edited(lambda p: p["data"]["attendees"].append("p56")),
    _edited(lambda p: p["data"]["attendees"][0].update(joins=["yesterday"])),
    _edited(lambda p: p["data"]["attendees"][0].update(leaves="2026-12-10T08:30:00Z")),
])
def test_a_malformed_callback_body_is_rejected(hooks: BigBlueButton, body: bytes) -> None:
    with pytest.raises(WebhookRejected, match="malformed"):
        hooks.verify_webhook(headers(token()), body)


def test_a_meeting_nobody_joined_gives_an_empty_attendance(hooks: BigBlueButton) -> None:
    body = _edited(lambda p: p["data"].update(attendees=[]))

    (event,) = hooks.verify_webhook(headers(token()), body).events

    assert event.intervals == ()


def test_a_join_without_a_leave_is_still_open(hooks: BigBlueButton) -> None:
    def only_joins(payload: dict[str, Any]) -> None:
        payload["data"]["attendees"] = [{"ext_user_id": "w_k961xjhcwvn2", "name": "Гость",
                                         "joins": ["2026-12-10T07:00:00.000+05:00"],
                                         "leaves": []}]

    (event,) = hooks.verify_webhook(headers(token()), _edited(only_joins)).events

    assert event.intervals == (Interval(at(2, 0), None, person_key="w_k961xjhcwvn2",
                                        name="Гость", external_user_id="w_k961xjhcwvn2"),)


def test_without_a_secret_no_callback_is_accepted(context: Context) -> None:
    provider = BigBlueButton({"api_url": "https://bbb.example.org/bigbluebutton/api"}, context)
    with pytest.raises(WebhookRejected, match="no shared secret"):
        provider.verify_webhook(headers(token()), CALLBACK)


# -- the recording-ready callback ----------------------------------------------------------------

RECORD_ID = "2b1e1a6f4f3c7b2d9a8e5c4b3a2f1e0d9c8b7a6f-1796021700123"
PLAYBACK = f"https://bbb.example.org/playback/presentation/2.3/{RECORD_ID}"
FORM = {"Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "BigBlueButton Recording Ready Callback"}


def recording_ready(secret: str = SECRET, algorithm: str = "HS256", **claims: str) -> bytes:
    """The body recording_ready_callback.rb posts: signed_parameters = JWT {meeting_id,
    record_id}, HS256 with the shared secret, no expiry."""
    payload = {"meeting_id": MEETING_ID, "record_id": RECORD_ID, **claims}
    return urlencode({"signed_parameters": jwt.encode(payload, secret,
                                                      algorithm=algorithm)}).encode()


def test_a_recording_ready_callback_gives_the_presentation_playback(
        bbb: BigBlueButton, httpserver: HTTPServer) -> None:
    serve(httpserver, "getRecordings", "get_recordings.xml")

    result = bbb.verify_webhook(FORM, recording_ready())

    assert received(httpserver) == ("getRecordings", {"recordID": RECORD_ID})
    assert result.events == (WebhookEvent(
        WebhookKind.RECORDING, MEETING_ID, f"bigbluebutton:recording:{RECORD_ID}",
        recordings=(Recording(url=PLAYBACK,
                              title="Семинар-практикум «Образовательная робототехника в ДОУ»",
                              started_at=datetime(2026, 12, 10, 7, 0, 5,
                                                  tzinfo=UTC)),)),)


@pytest.mark.parametrize("answer", ["get_recordings_none.xml", "get_recordings_unpublished.xml"])
def test_a_recording_not_published_gives_nothing(bbb: BigBlueButton, httpserver: HTTPServer,
                                                 answer: str) -> None:
    serve(httpserver, "getRecordings", answer)

    assert bbb.verify_webhook(FORM, recording_ready()).events == ()


@pytest.mark.parametrize("make, message", [
    (lambda: recording_ready(secret="another-server-secret-000000000000000000"), "signature"),
    (lambda: recording_ready(algorithm="HS512"), "HS256"),
    (lambda: urlencode({"signed_parameters": "not-a-jwt"}).encode(), "malformed"),
    (lambda: urlencode({"signed_parameters": jwt.encode(
        {"meeting_id": MEETING_ID}, SECRET, algorithm="HS256")}).encode(), "malformed"),
    (lambda: recording_ready() + b"&signed_parameters=x", "malformed"),
], ids=["other-secret", "hs512", "not-a-jwt", "no-record-id", "twice"])
def test_a_forged_or_malformed_recording_ready_callback_is_rejected(
        bbb: BigBlueButton, httpserver: HTTPServer, make, message: str) -> None:
    with pytest.raises(WebhookRejected, match=message):
        bbb.verify_webhook(FORM, make())
    assert httpserver.log == []  # nothing asked of the server


def test_get_recordings_failing_is_a_provider_error(bbb: BigBlueButton,
                                                    httpserver: HTTPServer) -> None:
    serve(httpserver, "getRecordings", "checksum_error.xml")
    with pytest.raises(ProviderAuthError, match="read the recording"):
        bbb.verify_webhook(FORM, recording_ready())


def test_get_recordings_down_is_retryable(bbb: BigBlueButton, httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"{API}/getRecordings").respond_with_data("oops", status=500)
    with pytest.raises(ProviderUnavailable, match="HTTP 500"):
        bbb.verify_webhook(FORM, recording_ready())
