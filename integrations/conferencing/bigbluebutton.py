"""BigBlueButton: a server the organisation runs (or rents), named by its API URL and secret.

BigBlueButton meetings exist only while they run: the server removes a meeting nobody joins
within minutes of its `create` (meetingExpireIfNoUserJoinedInMinutes) and one everybody has
left (meetingExpireWhenLastUserLeftInMinutes). A room made when the event is published is
therefore a meeting id and the parameters to start it with, not a meeting:

- `create_room` chooses the meeting id (`vmeste-<room key>-<random>`, kept as the room's
  external id) and the parameters of the API's `create` call (name, welcome message, the
  deprecated but still needed attendeePW/moderatorPW, record, the analytics and
  recording-ready callbacks) and keeps them in Room.data. It makes one authenticated call,
  `isMeetingRunning`, so that a wrong URL or secret shows when the event is published rather
  than when people join.
- `join_link` calls `create`, which is idempotent and which the API reference recommends
  calling "before returning the join URL to the user": it starts the meeting, or answers
  `duplicateWarning` with the running one. It then signs a `join` URL locally for that
  meeting: fullName, role MODERATOR or VIEWER (BigBlueButton 2.4+), userID = the person's key
  (echoed back in attendance), createTime of the meeting just created or found (so the URL
  stops working once this meeting ends and is created again) and redirect=true. So a join
  link costs one call, and never rests on a stale createTime however early the room was made.
- `delete_room` calls `end`; a meeting that is not running (messageKey notFound) is no error.
- `check_connection` reads the server version from the API root and calls `isMeetingRunning`.

Every call is a GET whose query ends with checksum = hash(call name + query string + shared
secret) ("API Security Model"), sha256 unless the organisation picks sha1, sha384 or sha512.
Answers are XML: `<response><returncode>SUCCESS|FAILED</returncode><messageKey>...`;
checksumError is a wrong secret (ProviderAuthError). Bodies with a DTD are refused unparsed.
attendeePW/moderatorPW are sent because without them a second `create` for a running meeting
fails with idNotUnique instead of being idempotent (bigbluebutton issue 16690).

Attendance comes by callback. With `meta_analytics-callback-url` (and meetingKeepEvents=true,
so the events are kept without recording) the server POSTs the meeting's learning analytics
after it ends (record-and-playback post_events_analytics_callback.rb): JSON with meeting_id,
internal_meeting_id and data.attendees[] (ext_user_id, name, joins[], leaves[]), and the header
`Authorization: Bearer <JWT>` — HS512 with the shared secret, claims {"exp": sent + 24 h}.
`verify_webhook` checks the token (HS512 only, signature, expiry on the context's clock) and
returns one ATTENDANCE event per meeting, deduplicated by internal_meeting_id, so a callback
sent twice is stored once. The JWT does not sign the body (it proves only that the sender
knows the secret), so the hub must match meeting_id to its own rooms. `fetch_attendance` stays
the default [] (getMeetingInfo lists who is in now, without join or leave times).

Recordings come by callback too. Meetings are created with record=true (the moderator starts
and stops the recording; nothing is recorded otherwise) and `meta_bbb-recording-ready-url`,
the same hook URL as the analytics callback. Once a recording is published the server POSTs
the form field `signed_parameters` (record-and-playback post_publish
recording_ready_callback.rb): a JWT, HS256 with the shared secret, claims {meeting_id,
record_id} and no expiry. `verify_webhook` tells the two callbacks apart by that field,
checks the token, then asks `getRecordings?recordID=<record_id>` (signed like every call) for
the recording's playback URL (<recording><playback><format><url>, the "presentation" format
first) and returns one RECORDING event, deduplicated by the record id. A recording not
published yet gives no event: the server calls once, after publishing, so this is rare and
not retried; an API failure is a ProviderError, which the hub answers 503.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import html
import json
import math
import re
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from integrations.conferencing import http
from integrations.conferencing.base import (
    N_,
    Capabilities,
    Interval,
    JoinLink,
    Participant,
    Provider,
    ProviderAuthError,
    ProviderConfigError,
    ProviderError,
    Recording,
    Role,
    Room,
    RoomGone,
    RoomSpec,
    SettingField,
    WebhookEvent,
    WebhookKind,
    WebhookRejected,
    WebhookResult,
    register,
    secure_url,
    utc,
)

#: The checksum algorithms bbb-web accepts (its supportedChecksumAlgorithms), by setting value.
CHECKSUMS: dict[str, Callable[..., Any]] = {
    "sha1": hashlib.sha1, "sha256": hashlib.sha256,
    "sha384": hashlib.sha384, "sha512": hashlib.sha512,
}
DEFAULT_CHECKSUM = "sha256"
#: How long a meeting may run past the event's planned end (create's `duration`).
OVERTIME = timedelta(hours=2)
#: The longest welcome message sent (create is a GET: the URL must stay short).
WELCOME_CHARS = 500
#: The clock difference allowed when checking the analytics callback's expiry.
JWT_LEEWAY = timedelta(minutes=1)
#: A JWT segment: base64url without padding.
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")

_BAD_CALLBACK = "BigBlueButton: the analytics callback is malformed"
_BAD_TOKEN = "BigBlueButton: the callback's token is malformed"
_BAD_RECORDING = "BigBlueButton: the recording-ready callback is malformed"
#: The playback format people watch, offered first when a recording has several.
PLAYBACK_FORMAT = "presentation"


@register
class BigBlueButton(Provider):
    key = "bigbluebutton"
    label = "BigBlueButton"
    capabilities = Capabilities(per_person_links=True, attendance=True, webhooks=True)
    settings_fields = (
        SettingField("api_url", N_("Server API URL"),
                     help=N_("The URL shown by `bbb-conf --secret` on the server, e.g. "
                          "https://bbb.example.org/bigbluebutton/api")),
        SettingField("secret", N_("Shared secret"), secret=True,
                     help=N_("The Secret shown by `bbb-conf --secret` (securitySalt).")),
        SettingField("checksum", N_("Checksum algorithm"), required=False,
                     help=N_("sha256 (empty), sha1, sha384 or sha512: one the server accepts.")),
    )

    # Settings ----------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """The API's base URL; "…/bigbluebutton/" as bbb-conf prints it gets its "api"."""
        url = (self.settings.get("api_url") or self.context.endpoints.get(self.key) or "")
        url = url.strip().rstrip("/")
        if not url:
            raise ProviderConfigError("BigBlueButton: enter the server's API URL "
                                      "(shown by `bbb-conf --secret`)")
        return url if url.endswith("/api") else url + "/api"

    def _secret(self) -> str:
        secret = (self.settings.get("secret") or "").strip()
        if not secret:
            raise ProviderConfigError("BigBlueButton: enter the shared secret "
                                      "(shown by `bbb-conf --secret`)")
        return secret

    def _hash(self) -> Callable[..., Any]:
        name = (self.settings.get("checksum") or DEFAULT_CHECKSUM).strip().lower()
        if name not in CHECKSUMS:
            raise ProviderConfigError("BigBlueButton: the checksum algorithm must be sha1, "
                                      "sha256, sha384 or sha512")
        return CHECKSUMS[name]

    def signed_url(self, call: str, params: Mapping[str, str]) -> str:
        """The URL of API call `call` with `params` and its checksum."""
        query = urlencode(params)
        checksum = self._hash()((call + query + self._secret()).encode()).hexdigest()
        return f"{self.api_url}/{call}?{query + '&' if query else ''}checksum={checksum}"

    def check_connection(self) -> str:
        configured = (self.settings.get("api_url") or "").strip()
        if configured and not secure_url(configured):
            raise ProviderConfigError("BigBlueButton: the API URL must start with https://")
        version = self._get(self.api_url, what="BigBlueButton: read the server version")
        self._call("isMeetingRunning", {"meetingID": "vmeste-connection-check"},
                   what="BigBlueButton: check the shared secret")
        found = urlsplit(self.api_url).netloc
        bbb_version = version.findtext("bbbVersion")
        return f"{found} (BigBlueButton {bbb_version})" if bbb_version else found

    # Rooms -------------------------------------------------------------------------------

    def create_room(self, spec: RoomSpec, room: Room) -> Room:
        meeting_id = room.external_id or _new_meeting_id(spec.key)
        self._call("isMeetingRunning", {"meetingID": meeting_id},
                   what="BigBlueButton: check the server")
        return Room(external_id=meeting_id, data=_room_data(spec, room.data))

    def update_room(self, spec: RoomSpec, room: Room) -> Room:
        """Keep the new name and times for the next `create` (a running meeting keeps its
        name: BigBlueButton cannot rename one)."""
        return Room(external_id=room.external_id, data=_room_data(spec, room.data))

    def delete_room(self, room: Room) -> None:
        if room.external_id is None:
            return
        params = {"meetingID": room.external_id}
        password = room.data.get("create", {}).get("moderatorPW")
        if password:
            params["password"] = password
        with contextlib.suppress(RoomGone):  # not running: nothing to end
            self._call("end", params, what="BigBlueButton: end the meeting")

    def join_link(self, room: Room, participant: Participant) -> JoinLink:
        """Start the meeting (or find it running) and sign the person's join URL for it."""
        meeting_id, create_time = self._start(room)
        params = {
            "fullName": participant.name.strip() or participant.key,
            "meetingID": meeting_id,
            "role": "MODERATOR" if participant.role == Role.HOST else "VIEWER",
            "userID": participant.key,
            "createTime": create_time,
            "redirect": "true",
        }
        return JoinLink(url=self.signed_url("join", params))

    def _start(self, room: Room) -> tuple[str, str]:
        """The API's `create` with the room's parameters (idempotent for a running meeting):
        the meeting id and the createTime of the meeting now running."""
        create = room.data.get("create")
        if room.external_id is None or not isinstance(create, dict):
            raise ProviderConfigError("BigBlueButton: the room has not been made yet")
        what = "BigBlueButton: start the meeting"
        params = {"meetingID": room.external_id, **create,
                  "duration": str(self._duration(room))}
        create_time = self._call("create", params, what=what).findtext("createTime")
        if not create_time:
            raise ProviderError(f"{what}: the server's answer lacks createTime")
        return room.external_id, create_time.strip()

    def _duration(self, room: Room) -> int:
        """Minutes from now until the event's end plus OVERTIME (BigBlueButton ends the
        meeting then; it counts from `create`)."""
        now = self.context.now()
        end = room.data.get("end")
        left = max(datetime.fromisoformat(end) - now, timedelta()) if end else timedelta()
        return math.ceil((left + OVERTIME).total_seconds() / 60)

    # Webhooks ----------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookResult:
        """Check the analytics or recording-ready callback's JWT and read what it reports."""
        secret = (self.settings.get("secret") or "").strip()
        if not secret:
            raise WebhookRejected("BigBlueButton: no shared secret is set")
        signed = _signed_parameters(body)
        if signed is not None:
            claims = _signed_claims(signed, secret, "HS256")
            return WebhookResult(events=self._recording_events(claims))
        _verify_jwt(_bearer_token(headers), secret, self.context.now())
        return WebhookResult(events=(_attendance_event(body),))

    def _recording_events(self, claims: Mapping[str, Any]) -> tuple[WebhookEvent, ...]:
        """The published recording the callback names, from getRecordings (none: not yet)."""
        meeting_id, record_id = claims.get("meeting_id"), claims.get("record_id")
        if not (isinstance(meeting_id, str) and meeting_id and isinstance(record_id, str)
                and record_id):
            raise WebhookRejected(_BAD_RECORDING)
        answer = self._call("getRecordings", {"recordID": record_id},
                            what="BigBlueButton: read the recording")
        recording = _published_recording(answer, record_id)
        if recording is None:
            return ()
        return (WebhookEvent(WebhookKind.RECORDING, meeting_id,
                             f"bigbluebutton:recording:{record_id}",
                             recordings=(recording,)),)

    # HTTP --------------------------------------------------------------------------------

    def _call(self, call: str, params: Mapping[str, str], *, what: str) -> ET.Element:
        return self._get(self.signed_url(call, params), what=what)

    def _get(self, url: str, *, what: str) -> ET.Element:
        """GET an API URL and return its SUCCESS <response>; ProviderError otherwise."""
        with http.client(self.context.timeout) as client:
            try:
                response = http.send(client, "GET", url, what=what)
            except RoomGone as error:  # the API answers every call, so 404 is a wrong URL
                raise ProviderConfigError(
                    f"{what}: there is no BigBlueButton API at this address; the API URL "
                    "usually ends with /bigbluebutton/api", status=404) from error
        root = _response_xml(response, what=what)
        if root.findtext("returncode", "").strip() != "SUCCESS":
            raise _failure(root, what=what)
        return root


# -- room parameters ---------------------------------------------------------------------------


def _new_meeting_id(room_key: str) -> str:
    """Letters, digits, dashes and underscores (as the API asks), unique per installation."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", room_key)[:64]
    return f"vmeste-{slug}-{secrets.token_hex(4)}"


def _room_data(spec: RoomSpec, old: Mapping[str, Any]) -> dict[str, Any]:
    """Room.data: the `create` parameters (passwords kept from `old`) and the event's end."""
    before = old.get("create") or {}
    create = {
        "name": (spec.title.strip() or spec.key)[:256],
        "attendeePW": before.get("attendeePW") or secrets.token_urlsafe(12),
        "moderatorPW": before.get("moderatorPW") or secrets.token_urlsafe(12),
        "record": "true",
    }
    if spec.description.strip():
        create["welcome"] = html.escape(spec.description.strip()[:WELCOME_CHARS])
    if spec.callback_url:
        create["meetingKeepEvents"] = "true"
        create["meta_analytics-callback-url"] = spec.callback_url
        create["meta_bbb-recording-ready-url"] = spec.callback_url
    return {**old, "create": create, "end": utc(spec.end).isoformat()}


# -- answers -----------------------------------------------------------------------------------


def _response_xml(response: httpx.Response, *, what: str) -> ET.Element:
    """The answer's <response> element; ProviderError for anything else (or a DTD)."""
    not_api = ProviderError(f"{what}: the server's answer is not BigBlueButton's; check the "
                            "API URL")
    lowered = response.content.lower()
    if b"<!doctype" in lowered or b"<!entity" in lowered:
        raise not_api
    try:
        root = ET.fromstring(response.content)
    except ET.ParseError as error:
        raise not_api from error
    if root.tag != "response" or root.find("returncode") is None:
        raise not_api
    return root


def _failure(root: ET.Element, *, what: str) -> ProviderError:
    """The error for a FAILED answer, by its messageKey."""
    key = (root.findtext("messageKey") or "").strip()
    message = " ".join((root.findtext("message") or "").split())[:200]
    if key == "checksumError":
        return ProviderAuthError(f"{what}: the server rejected the checksum; copy the shared "
                                 "secret again from `bbb-conf --secret` and check the checksum "
                                 "algorithm")
    if key == "notFound":
        return RoomGone(f"{what}: the meeting is not running")
    if key == "idNotUnique":
        return ProviderError(f"{what}: a meeting with this room's id is running with other "
                             "passwords; end it on the server, then try again")
    detail = f": {message}" if message else ""
    return ProviderError(f"{what}: the server refused the request ({key or 'FAILED'}){detail}")


# -- the analytics callback --------------------------------------------------------------------


def _bearer_token(headers: Mapping[str, str]) -> str:
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise WebhookRejected("BigBlueButton: the callback has no bearer token")
    return token.strip()


def _b64decode(segment: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except binascii.Error as error:
        raise WebhookRejected(_BAD_TOKEN) from error


def _b64json(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64decode(segment))
    except ValueError as error:
        raise WebhookRejected(_BAD_TOKEN) from error
    if not isinstance(value, dict):
        raise WebhookRejected(_BAD_TOKEN)
    return value


def _signed_claims(token: str, secret: str, algorithm: str) -> dict[str, Any]:
    """The claims of a JWT signed with `secret` by `algorithm` (HS256 or HS512)."""
    parts = token.split(".")
    if len(parts) != 3 or not all(_SEGMENT.fullmatch(p) for p in parts):
        raise WebhookRejected(_BAD_TOKEN)
    if _b64json(parts[0]).get("alg") != algorithm:
        raise WebhookRejected(
            f"BigBlueButton: the callback's token is not signed with {algorithm}")
    digest = hashlib.sha512 if algorithm == "HS512" else hashlib.sha256
    expected = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode(), digest).digest()
    if not hmac.compare_digest(expected, _b64decode(parts[2])):
        raise WebhookRejected("BigBlueButton: the callback's signature does not match")
    return _b64json(parts[1])


def _verify_jwt(token: str, secret: str, now: datetime) -> dict[str, Any]:
    """The claims of an HS512 JWT signed with `secret` and not expired at `now`."""
    claims = _signed_claims(token, secret, "HS512")
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise WebhookRejected("BigBlueButton: the callback's token has no expiry")
    if exp < (now - JWT_LEEWAY).timestamp():
        raise WebhookRejected("BigBlueButton: the callback's token has expired")
    return claims


def _attendance_event(body: bytes) -> WebhookEvent:
    """One ATTENDANCE event from the callback's JSON, deduplicated by the meeting instance."""
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise WebhookRejected(_BAD_CALLBACK) from error
    if not isinstance(payload, dict):
        raise WebhookRejected(_BAD_CALLBACK)
    meeting_id, internal_id = payload.get("meeting_id"), payload.get("internal_meeting_id")
    data = payload.get("data")
    attendees = (data.get("attendees") or []) if isinstance(data, dict) else None
    if not (isinstance(meeting_id, str) and meeting_id and isinstance(internal_id, str)
            and internal_id and isinstance(attendees, list)):
        raise WebhookRejected(_BAD_CALLBACK)
    intervals = tuple(i for attendee in attendees for i in _attendee_intervals(attendee))
    return WebhookEvent(kind=WebhookKind.ATTENDANCE, external_id=meeting_id,
                        dedupe_key=f"bigbluebutton:{internal_id}", intervals=intervals)


def _attendee_intervals(attendee: object) -> list[Interval]:
    """The attendee's time in the meeting: joins and leaves merged, so sessions in two tabs
    at once count once."""
    if not isinstance(attendee, dict):
        raise WebhookRejected(_BAD_CALLBACK)
    user_id = attendee.get("ext_user_id")
    user_id = str(user_id) if user_id not in (None, "") else None
    name = attendee.get("name") if isinstance(attendee.get("name"), str) else None
    steps = sorted([(t, 1) for t in _times(attendee.get("joins"))]
                   + [(t, -1) for t in _times(attendee.get("leaves"))],
                   key=lambda step: (step[0], -step[1]))
    spans: list[tuple[datetime, datetime | None]] = []
    inside, since = 0, datetime.min
    for at, step in steps:
        if step > 0:
            since = at if inside == 0 else since
            inside += 1
        elif inside > 0:  # a leave without a join before it is ignored
            inside -= 1
            if inside == 0:
                spans.append((since, at))
    if inside:
        spans.append((since, None))
    return [Interval(joined_at=joined, left_at=left, person_key=user_id, name=name,
                     external_user_id=user_id) for joined, left in spans]


def _times(values: object) -> list[datetime]:
    """ISO 8601 timestamps ("2021-09-23T16:08:29.000+00:00") as aware UTC datetimes."""
    if values is None:
        return []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise WebhookRejected(_BAD_CALLBACK)
    try:
        return [utc(datetime.fromisoformat(v)) for v in values]
    except (ValueError, OverflowError) as error:  # OverflowError: before year 1 in UTC
        raise WebhookRejected(_BAD_CALLBACK) from error


# -- the recording-ready callback --------------------------------------------------------------


def _signed_parameters(body: bytes) -> str | None:
    """The recording-ready callback's JWT (its form field), or None for another callback."""
    try:
        form = parse_qs(body.decode("ascii"), strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return None
    values = form.get("signed_parameters")
    if values is None:
        return None
    if len(values) != 1:
        raise WebhookRejected(_BAD_RECORDING)
    return values[0].strip()


def _published_recording(answer: ET.Element, record_id: str) -> Recording | None:
    """The recording's playback page from getRecordings' answer; None until it is published."""
    for recording in answer.iterfind("recordings/recording"):
        if (recording.findtext("recordID") or "").strip() != record_id:
            continue
        if (recording.findtext("published") or "").strip() != "true":
            return None
        url = _playback_url(recording)
        if url is None:
            return None
        return Recording(url=url, title=(recording.findtext("name") or "").strip(),
                         started_at=_millis(recording.findtext("startTime")))
    return None


def _playback_url(recording: ET.Element) -> str | None:
    """The URL of the presentation playback, else of the first format with an https URL."""
    formats = sorted(recording.iterfind("playback/format"),
                     key=lambda f: (f.findtext("type") or "").strip() != PLAYBACK_FORMAT)
    urls = [(f.findtext("url") or "").strip() for f in formats]
    return next((u for u in urls if secure_url(u)), None)


def _millis(value: str | None) -> datetime | None:
    """A time in milliseconds since the epoch ("1796021700123") as an aware UTC datetime."""
    try:
        return datetime.fromtimestamp(int((value or "").strip()) / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None
