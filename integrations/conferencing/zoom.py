"""Zoom meetings and webinars through a Server-to-Server OAuth app of the organisation's account.

The organisation creates a Server-to-Server OAuth app in the Zoom App Marketplace and enters
its account ID, client ID and client secret. Every call sends a bearer token from «Server-to-
Server OAuth» (POST https://zoom.us/oauth/token, form grant_type=account_credentials and
account_id, HTTP Basic client_id:client_secret). A token lasts an hour: it is kept in a cache
shared by every provider instance of the process (the hub makes an instance per call) until
five minutes before it expires. When the API refuses a token (HTTP 401 or 403, e.g. scopes
added since it was issued) the token is dropped, a new one fetched and the call tried once
more. The API is https://api.zoom.us/v2.

- create_room: «Create a meeting» (POST /users/{userId}/meetings, type 2: scheduled) or, for a
  webinar, «Create a webinar» (POST /users/{userId}/webinars, type 5). The host is the "Host
  user" setting (an email of a user in the Zoom account, or "me": the app's creator); the
  event's organiser is not used, as they are rarely a user of the Zoom account. Registration is
  on with automatic approval (approval_type 0) so that everyone gets a personal link; meetings
  have a waiting room and start muted. Room.external_id is the numeric meeting id, Room.data
  keeps {"id", "uuid", "kind": "meeting" | "webinar"}. When the room already has an id, «Get a
  meeting» / «Get a webinar» (GET /meetings/{id}, /webinars/{id}) returns it instead; a 404
  there means it is gone and a new one is made. A meeting stays a meeting (and a webinar a
  webinar) once made.
- update_room: «Update a meeting» / «Update a webinar» (PATCH) with the title, time and agenda.
- delete_room: «Delete a meeting» / «Delete a webinar» (DELETE); a 404 is not an error.
- register: «Perform batch registration» (POST /meetings/{id}/batch_registrants, and the
  webinar one, POST /webinars/{id}/batch_registrants), 30 people per request, auto-approved,
  without Zoom's confirmation email (the hub sends the invitations). A request Zoom rate-limits
  (HTTP 429) is tried again in place (`with_backoff`). Zoom needs an email: people without
  one are not registered and join by the meeting's link, which opens Zoom's registration form.
  The registrant ids are also written to room.data["registrants"] ({registrant id: person
  key}) for `fetch_attendance`, for callers that store the room's data afterwards.
- join_link: a person's registered URL; otherwise the meeting's join URL. Hosts get the join
  URL too and sign in with the Zoom account of the host user: the API's start_url carries a
  host token and expires two hours after it is issued, so it is never handed out.
- fetch_attendance: «Get meeting participant reports» (GET /report/meetings/{id}/participants,
  page_size 300, next_page_token, include_fields=registrant_id) or «Get webinar participant
  reports» (GET /report/webinars/{id}/participants). Zoom writes a row per stay (a person who
  rejoins has several); rows in the waiting room are left out, and overlapping or touching
  stays of one person (by registrant, else email, else name) are merged, so no time counts
  twice. The report covers the meeting's latest instance and needs a paid Zoom plan.
- verify_webhook: Zoom's event notifications, signed with the app's secret token: the header
  x-zm-signature is "v0=" + hex HMAC-SHA256(secret token, "v0:{x-zm-request-timestamp}:{raw
  body}"); messages more than five minutes from now are refused. «endpoint.url_validation»
  (signed too) is answered with {plainToken, encryptedToken}; meeting.participant_joined /
  _left and meeting.ended (and the webinar.* ones) become events; other events are accepted
  with nothing to store. A participant's interval carries their email, name and registrant id
  (external_user_id); a "left" one starts at the join time when Zoom gives it, else at the
  leave time. The dedupe key is made of the event, the meeting instance, the participant and
  the time, so a message delivered twice is stored once. «recording.completed» becomes a
  RECORDING event with the recording's share_url (the page people open, behind the
  recording's passcode if it has one; never a file's download_url, which carries an access
  token), deduplicated by the meeting instance and that URL. Without a secret token the
  webhooks are off.
- check_connection: «Get a user» (GET /users/{userId}) for the host user.

A daily rate limit answers HTTP 429 with Retry-After as a date, which `http.retry_after`
ignores: the hub's own back-off then applies, and Zoom's message says when it resets.

Base URLs come from `context.endpoints["zoom"]` (the API, with /v2) and
`context.endpoints["zoom_oauth"]`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

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
    Registration,
    Room,
    RoomGone,
    RoomSpec,
    SettingField,
    WebhookEvent,
    WebhookKind,
    WebhookRejected,
    WebhookResult,
    register,
    utc,
)
from integrations.conferencing.http import client, json_object, send, with_backoff

ZOOM_API = "https://api.zoom.us/v2"
ZOOM_OAUTH = "https://zoom.us"
NAME = "Zoom"

#: Zoom's limits: topic and agenda lengths, a registrant's first name, registrants per batch
#: request, rows per report page.
TOPIC_LIMIT = 200
AGENDA_LIMIT = 2000
FIRST_NAME_LIMIT = 64
BATCH_SIZE = 30
PAGE_SIZE = 300
#: Meeting type 2: a scheduled meeting; webinar type 5: a webinar.
MEETING_TYPES = {"meeting": 2, "webinar": 5}
#: A token is taken as expired this long before Zoom says it is.
TOKEN_MARGIN = timedelta(minutes=5)
#: Webhooks whose timestamp is further than this from now are refused (replay protection).
WEBHOOK_WINDOW = timedelta(minutes=5)
#: Zoom's error code for a user that does not exist.
USER_NOT_FOUND = 1001
#: Zoom's error code for a token that lacks the scopes a call needs.
MISSING_SCOPES = 4711
#: Webhook events and what they report.
WEBHOOK_KINDS = {
    "meeting.participant_joined": WebhookKind.JOINED,
    "webinar.participant_joined": WebhookKind.JOINED,
    "meeting.participant_left": WebhookKind.LEFT,
    "webinar.participant_left": WebhookKind.LEFT,
    "meeting.ended": WebhookKind.ENDED,
    "webinar.ended": WebhookKind.ENDED,
    "recording.completed": WebhookKind.RECORDING,
}

#: How `register` waits between rate-limited tries (tests replace it).
backoff_sleep: Callable[[float], None] = time.sleep

log = logging.getLogger(__name__)


class TokenCache:
    """Access tokens by credentials, shared by every Zoom provider of the process (threads)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._tokens: dict[str, tuple[str, datetime]] = {}

    def get(self, key: str, now: datetime,
            fetch: Callable[[], tuple[str, timedelta]]) -> str:
        """The cached token, or a new one from `fetch` (one fetch at a time per key)."""
        with self._lock(key):
            cached = self._tokens.get(key)
            if cached is not None and cached[1] > now:
                return cached[0]
            token, lifetime = fetch()
            self._tokens[key] = (token, now + lifetime - TOKEN_MARGIN)
            return token

    def drop(self, key: str, token: str) -> None:
        """Forget `token` (unless another thread has replaced it already)."""
        with self._lock(key):
            cached = self._tokens.get(key)
            if cached is not None and cached[0] == token:
                del self._tokens[key]

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


TOKENS = TokenCache()


@register
class Zoom(Provider):
    key = "zoom"
    label = "Zoom"
    capabilities = Capabilities(per_person_links=True, registration=True, attendance=True,
                                webhooks=True)
    settings_fields = (
        SettingField("account_id", N_("Account ID"),
                     help=N_("Of your Server-to-Server OAuth app: Zoom App Marketplace, Manage, "
                          "the app, App Credentials.")),
        SettingField("client_id", N_("Client ID"), help=N_("On the same App Credentials page.")),
        SettingField("client_secret", N_("Client secret"), secret=True,
                     help=N_("On the same App Credentials page. The app needs the scopes to "
                          "write meetings and webinars, read users and read reports.")),
        SettingField("webhook_secret", N_("Webhook secret token"), secret=True, required=False,
                     help=N_("The app's Secret Token (Features, Access), for event "
                          "subscriptions to participant joined/left and meeting ended. Empty: "
                          "webhooks are off.")),
        SettingField("host_user", N_("Host user"), required=False,
                     help=N_("The email of the Zoom user who hosts the meetings (a licensed user "
                          "for personal links and attendance reports). Empty: the user who "
                          "created the app.")),
    )

    # Settings ----------------------------------------------------------------------------

    @property
    def api(self) -> str:
        return (self.context.endpoints.get("zoom") or ZOOM_API).rstrip("/")

    @property
    def oauth(self) -> str:
        return (self.context.endpoints.get("zoom_oauth") or ZOOM_OAUTH).rstrip("/")

    @property
    def host_user(self) -> str:
        return self.settings.get("host_user", "").strip() or "me"

    def _credentials(self) -> tuple[str, str, str]:
        """(account id, client id, client secret); ProviderConfigError if one is missing."""
        account_id, client_id, client_secret = (
            self.settings.get(name, "").strip()
            for name in ("account_id", "client_id", "client_secret"))
        if not (account_id and client_id and client_secret):
            raise ProviderConfigError(f"{NAME}: enter the account ID, client ID and client "
                                      "secret of the Server-to-Server OAuth app")
        return account_id, client_id, client_secret

    def check_connection(self) -> str:
        with self._http() as http:
            user = json_object(self._api(http, "GET", self._user_path(), what="read host user"),
                               what=f"{NAME}: read host user", keys=("email",))
        found = str(user["email"])
        if user.get("type") == 1:
            found += (" (a Basic user: personal links and attendance reports need a Licensed "
                      "user)")
        return found

    # Rooms -------------------------------------------------------------------------------

    def create_room(self, spec: RoomSpec, room: Room) -> Room:
        with self._http() as http:
            if room.external_id:
                found = self._existing(http, room)
                if found is not None:
                    return found
            kind = "webinar" if spec.webinar else "meeting"
            response = self._api(http, "POST", f"{self._user_path()}/{kind}s",
                                 what=f"create {kind}", json=_meeting_body(spec, kind))
        data = {k: v for k, v in room.data.items() if k != "registrants"}
        return _room(response, kind, data, what=f"{NAME}: create {kind}")

    def update_room(self, spec: RoomSpec, room: Room) -> Room:
        if not room.external_id:
            return self.create_room(spec, room)
        kind = _kind(room)
        with self._http() as http:
            self._api(http, "PATCH", _room_path(room), what=f"update {kind}",
                      json=_meeting_body(spec, kind))
        return room

    def delete_room(self, room: Room) -> None:
        if not room.external_id:
            return
        with self._http() as http:
            try:
                self._api(http, "DELETE", _room_path(room), what=f"delete {_kind(room)}")
            except RoomGone:
                log.info("Zoom %s %s was already deleted", _kind(room), room.external_id)

    def register(self, room: Room, people: Sequence[Participant]) -> list[Registration]:
        if not room.external_id:
            raise ProviderConfigError(f"{NAME}: the meeting has not been made yet")
        with_email = [p for p in people if p.email]
        made: list[Registration] = []
        with self._http() as http:
            for start in range(0, len(with_email), BATCH_SIZE):
                batch = with_email[start:start + BATCH_SIZE]
                call = functools.partial(self._register_batch, http, room, batch)
                made += with_backoff(call, sleep=backoff_sleep)
        room.data.setdefault("registrants", {}).update(
            {r.external_id: r.key for r in made if r.external_id})
        return made

    def join_link(self, room: Room, participant: Participant) -> JoinLink:
        url = participant.registered_url or room.join_url
        if not url:
            raise ProviderConfigError(f"{NAME}: the meeting has not been made yet")
        return JoinLink(url=url)

    def fetch_attendance(self, room: Room) -> list[Interval]:
        if not room.external_id:
            return []
        kind = _kind(room)
        path = f"/report{_room_path(room)}/participants"
        rows: list[dict[str, Any]] = []
        params: dict[str, Any] = {"page_size": PAGE_SIZE, "include_fields": "registrant_id"}
        seen: set[str] = set()
        with self._http() as http:
            while True:
                page = json_object(self._api(http, "GET", path, what=f"read {kind} report",
                                             params=params),
                                   what=f"{NAME}: read {kind} report")
                rows += _objects(page, "participants")
                token = page.get("next_page_token")
                if not token or token in seen:
                    break
                seen.add(token)
                params = {**params, "next_page_token": token}
        return _merge_stays(rows, room.data.get("registrants") or {})

    # Webhooks ----------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookResult:
        secret = self.settings.get("webhook_secret", "").strip()
        if not secret:
            raise WebhookRejected(f"{NAME}: webhooks are off (no secret token in the settings)")
        self._check_signature(secret, {k.lower(): v for k, v in headers.items()}, body)
        try:
            message = json.loads(body)
        except ValueError as error:
            raise WebhookRejected(f"{NAME}: the webhook is not JSON") from error
        if not isinstance(message, dict) or not isinstance(message.get("payload"), dict):
            raise WebhookRejected(f"{NAME}: the webhook has no payload")
        event, payload = message.get("event"), message["payload"]
        if event == "endpoint.url_validation":
            return WebhookResult(reply=_url_validation(secret, payload))
        kind = WEBHOOK_KINDS.get(str(event))
        if kind is None:
            return WebhookResult()
        if kind == WebhookKind.RECORDING:
            return WebhookResult(events=(_recording_event(payload),))
        return WebhookResult(events=(_webhook_event(str(event), kind, payload),))

    def _check_signature(self, secret: str, headers: Mapping[str, str], body: bytes) -> None:
        """Refuse a webhook that is unsigned, forged or not from the last few minutes."""
        stamp, signature = headers.get("x-zm-request-timestamp"), headers.get("x-zm-signature")
        if not stamp or not signature:
            raise WebhookRejected(f"{NAME}: the webhook is not signed")
        try:
            sent = int(stamp)
        except ValueError as error:
            raise WebhookRejected(f"{NAME}: the webhook's timestamp is not a number") from error
        if abs(self.context.now().timestamp() - sent) > WEBHOOK_WINDOW.total_seconds():
            raise WebhookRejected(f"{NAME}: the webhook is stale (replayed or delayed)")
        expected = "v0=" + _hmac_hex(secret, b"v0:" + stamp.encode() + b":" + body)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise WebhookRejected(f"{NAME}: the webhook's signature does not match")

    # Zoom API ----------------------------------------------------------------------------

    def _existing(self, http: httpx.Client, room: Room) -> Room | None:
        """The meeting or webinar the room names, or None when Zoom no longer has it."""
        kind = _kind(room)
        try:
            response = self._api(http, "GET", _room_path(room), what=f"read {kind}")
        except RoomGone:
            log.info("Zoom %s %s is gone; making a new one", kind, room.external_id)
            return None
        return _room(response, kind, room.data, what=f"{NAME}: read {kind}")

    def _register_batch(self, http: httpx.Client, room: Room,
                        people: Sequence[Participant]) -> list[Registration]:
        """One «Perform batch registration» request (at most BATCH_SIZE people)."""
        kind = _kind(room)
        body: dict[str, Any] = {"auto_approve": True, "registrants": [
            {"email": p.email, "first_name": p.name[:FIRST_NAME_LIMIT]} for p in people]}
        if kind == "meeting":
            body["registrants_confirmation_email"] = False
        response = self._api(http, "POST", f"{_room_path(room)}/batch_registrants",
                             what="register participants", json=body)
        answer = json_object(response, what=f"{NAME}: register participants",
                             keys=("registrants",))
        by_email = {str(r.get("email", "")).lower(): r for r in _objects(answer, "registrants")
                    if r.get("join_url")}
        made = []
        for person in people:
            found = by_email.get((person.email or "").lower())
            if found is None:
                log.warning("Zoom did not register participant %s for %s %s", person.key,
                            kind, room.external_id)
                continue
            made.append(Registration(key=person.key, join_url=str(found["join_url"]),
                                     external_id=found.get("registrant_id")))
        return made

    def _user_path(self) -> str:
        return f"/users/{quote(self.host_user, safe='@')}"

    @contextmanager
    def _http(self) -> Iterator[httpx.Client]:
        self._credentials()
        with client(self.context.timeout,
                    event_hooks={"response": [_raise_documented_error]}) as http:
            yield http

    def _api(self, http: httpx.Client, method: str, path: str, *, what: str,
             **kwargs: Any) -> httpx.Response:
        """Call the API with a cached token; a refused token is renewed and the call retried."""
        url = f"{self.api}{path}"
        token = self._token(http)
        try:
            return self._send(http, method, url, token, what=what, **kwargs)
        except ProviderAuthError:
            TOKENS.drop(self._cache_key(), token)
        log.info("Zoom refused the access token; trying once more with a new one")
        return self._send(http, method, url, self._token(http), what=what, **kwargs)

    @staticmethod
    def _send(http: httpx.Client, method: str, url: str, token: str, *, what: str,
              **kwargs: Any) -> httpx.Response:
        return send(http, method, url, what=f"{NAME}: {what}",
                    headers={"Authorization": f"Bearer {token}"}, **kwargs)

    def _token(self, http: httpx.Client) -> str:
        return TOKENS.get(self._cache_key(), self.context.now(),
                          functools.partial(self._fetch_token, http))

    def _fetch_token(self, http: httpx.Client) -> tuple[str, timedelta]:
        """A new access token and its lifetime from «Server-to-Server OAuth»."""
        account_id, client_id, client_secret = self._credentials()
        what = f"{NAME}: get access token"
        response = send(http, "POST", f"{self.oauth}/oauth/token", what=what,
                        auth=(client_id, client_secret),
                        data={"grant_type": "account_credentials", "account_id": account_id})
        body = json_object(response, what=what, keys=("access_token", "expires_in"))
        token, lifetime = body["access_token"], body["expires_in"]
        if not (isinstance(token, str) and token and isinstance(lifetime, int | float)):
            raise ProviderError(f"{what}: the service's answer lacks access_token, expires_in")
        return token, timedelta(seconds=lifetime)

    def _cache_key(self) -> str:
        """The token cache's key: a hash of where and with what credentials tokens are got."""
        return hashlib.sha256("\n".join((self.oauth, *self._credentials())).encode()).hexdigest()


# -- requests and answers ---------------------------------------------------------------------


def _kind(room: Room) -> str:
    return "webinar" if room.data.get("kind") == "webinar" else "meeting"


def _room_path(room: Room) -> str:
    return f"/{_kind(room)}s/{quote(room.external_id or '', safe='')}"


def _meeting_body(spec: RoomSpec, kind: str) -> dict[str, Any]:
    """What «Create a meeting» / «Create a webinar» (and their updates) are sent."""
    settings: dict[str, Any] = {"approval_type": 0, "registration_type": 1,
                                "meeting_authentication": False,
                                "registrants_confirmation_email": False}
    if kind == "meeting":
        settings |= {"waiting_room": True, "join_before_host": False, "mute_upon_entry": True}
    return {
        "topic": spec.title[:TOPIC_LIMIT], "type": MEETING_TYPES[kind],
        "start_time": utc(spec.start).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration": spec.minutes, "timezone": spec.timezone,
        "agenda": spec.description[:AGENDA_LIMIT], "settings": settings,
    }


def _room(response: httpx.Response, kind: str, data: Mapping[str, Any], *, what: str) -> Room:
    """The Room for a meeting or webinar in Zoom's answer (it needs id and join_url)."""
    body = json_object(response, what=what, keys=("id", "join_url"))
    if not (isinstance(body["id"], int | str) and body["id"]
            and isinstance(body["join_url"], str) and body["join_url"]):
        raise ProviderError(f"{what}: the service's answer lacks id, join_url")
    return Room(external_id=str(body["id"]), join_url=body["join_url"],
                data={**data, "id": body["id"], "uuid": body.get("uuid"), "kind": kind})


def _objects(body: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    """The JSON objects in the list `body[key]` (nothing when it is absent or not a list)."""
    value = body.get(key)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _raise_documented_error(response: httpx.Response) -> None:
    """httpx response hook: raise the Zoom errors that deserve their own advice (the others
    are left to `send`)."""
    if not 400 <= response.status_code < 500 or response.status_code == 429:
        return
    response.read()
    try:
        body = response.json()
    except ValueError:
        return
    if not isinstance(body, dict):
        return
    status = response.status_code
    message = str(body.get("message") or body.get("reason") or "")[:200]
    if body.get("error") == "invalid_client":
        raise ProviderAuthError(f"{NAME}: the client ID or client secret is wrong: copy both "
                                "again from the app's App Credentials page", status=status)
    if "error" in body and "reason" in body:
        raise ProviderAuthError(f"{NAME}: the app's credentials were refused ({message}): check "
                                "the account ID and that the app is activated", status=status)
    if body.get("code") == MISSING_SCOPES or "does not contain scopes" in message:
        raise ProviderAuthError(f"{NAME}: the app lacks a permission ({message}): add the "
                                "scope on the app's Scopes page in the Zoom App Marketplace",
                                status=status)
    if body.get("code") == USER_NOT_FOUND:
        raise ProviderError(f"{NAME}: the host user is not a user of this Zoom account "
                            f"({message}): check the Host user setting", status=status)


# -- attendance -------------------------------------------------------------------------------


def _parse_time(value: Any) -> datetime | None:
    """A Zoom time ("2026-12-10T07:03:12Z"), or None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return utc(datetime.fromisoformat(value))
    except (ValueError, OverflowError):  # OverflowError: 0001-01-01T00:00+05:00 in UTC
        return None


def _merge_stays(rows: Sequence[Mapping[str, Any]],
                 registrants: Mapping[str, str]) -> list[Interval]:
    """One Interval per stay in the report, with a person's overlapping or touching stays
    merged and the waiting room left out."""
    people: dict[str, list[Interval]] = {}
    for row in rows:
        joined = _parse_time(row.get("join_time"))
        if joined is None or row.get("status") == "in_waiting_room":
            continue
        registrant = row.get("registrant_id") or None
        stay = Interval(joined_at=joined, left_at=_parse_time(row.get("leave_time")),
                        person_key=registrants.get(registrant or ""),
                        email=row.get("user_email") or None, name=row.get("name") or None,
                        external_user_id=registrant)
        who = (stay.person_key or registrant or (stay.email or "").lower() or stay.name
               or str(row.get("id", "")))
        people.setdefault(who, []).append(stay)
    merged = [m for stays in people.values() for m in _merge(stays)]
    return sorted(merged, key=lambda i: (i.joined_at, i.name or ""))


def _merge(stays: list[Interval]) -> list[Interval]:
    """One person's stays with overlapping or touching ones joined (None: still there)."""
    result: list[Interval] = []
    for stay in sorted(stays, key=lambda i: i.joined_at):
        last = result[-1] if result else None
        if last is None or (last.left_at is not None and stay.joined_at > last.left_at):
            result.append(stay)
            continue
        left = (None if last.left_at is None or stay.left_at is None
                else max(last.left_at, stay.left_at))
        result[-1] = Interval(joined_at=last.joined_at, left_at=left,
                              person_key=last.person_key or stay.person_key,
                              email=last.email or stay.email, name=last.name or stay.name,
                              external_user_id=last.external_user_id or stay.external_user_id)
    return result


# -- webhooks ---------------------------------------------------------------------------------


def _hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _url_validation(secret: str, payload: Mapping[str, Any]) -> dict[str, str]:
    """The answer to «endpoint.url_validation»: the plain token and its HMAC."""
    plain = payload.get("plainToken")
    if not isinstance(plain, str) or not plain:
        raise WebhookRejected(f"{NAME}: the URL validation has no plainToken")
    try:
        token = plain.encode()
    except UnicodeEncodeError as error:  # a lone surrogate, sent as a JSON escape
        raise WebhookRejected(f"{NAME}: the URL validation's plainToken is not text") from error
    return {"plainToken": plain, "encryptedToken": _hmac_hex(secret, token)}


def _webhook_event(event: str, kind: WebhookKind, payload: Mapping[str, Any]) -> WebhookEvent:
    """A participant joined/left or meeting ended notification as a WebhookEvent."""
    meeting = payload.get("object")
    if not isinstance(meeting, dict) or not meeting.get("id"):
        raise WebhookRejected(f"{NAME}: the webhook names no meeting")
    external_id, instance = str(meeting["id"]), meeting.get("uuid") or meeting["id"]
    if kind == WebhookKind.ENDED:
        return WebhookEvent(kind, external_id, f"zoom:{event}:{instance}")
    person = meeting.get("participant")
    field = "join_time" if kind == WebhookKind.JOINED else "leave_time"
    at = _parse_time(person.get(field)) if isinstance(person, dict) else None
    if at is None:
        raise WebhookRejected(f"{NAME}: the webhook has no participant with a {field}")
    who = person.get("participant_uuid") or person.get("user_id") or person.get("user_name")
    stay = Interval(joined_at=_parse_time(person.get("join_time")) or at,
                    left_at=at if kind == WebhookKind.LEFT else None,
                    email=person.get("email") or None, name=person.get("user_name") or None,
                    external_user_id=person.get("registrant_id") or None)
    return WebhookEvent(kind, external_id, f"zoom:{event}:{instance}:{who}:{person[field]}",
                        (stay,))


def _recording_event(payload: Mapping[str, Any]) -> WebhookEvent:
    """«recording.completed» as a RECORDING event with the recording's share page."""
    meeting = payload.get("object")
    if not isinstance(meeting, dict) or not meeting.get("id"):
        raise WebhookRejected(f"{NAME}: the webhook names no meeting")
    share_url = meeting.get("share_url")
    if not isinstance(share_url, str) or not share_url.startswith("https://"):
        raise WebhookRejected(f"{NAME}: the recording webhook has no share_url")
    files = meeting.get("recording_files")
    starts = [_parse_time(f.get("recording_start")) for f in files
              if isinstance(f, dict)] if isinstance(files, list) else []
    topic = meeting.get("topic")
    recording = Recording(url=share_url, title=topic if isinstance(topic, str) else "",
                          started_at=min((s for s in starts if s is not None), default=None))
    instance = meeting.get("uuid") or meeting["id"]
    return WebhookEvent(WebhookKind.RECORDING, str(meeting["id"]),
                        f"zoom:recording.completed:{instance}:{share_url}",
                        recordings=(recording,))
