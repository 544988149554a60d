"""Google Meet: each event becomes a Google Calendar event that carries a Meet conference.

The calls (Google Calendar API v3 and Google Meet REST API v2, via google-api-python-client):

- create_room: Calendar `events.insert` into the primary calendar with
  `conferenceData.createRequest` (conferenceSolutionKey "hangoutsMeet"),
  `conferenceDataVersion=1` and `sendUpdates=none`. We choose the event id (an HMAC of the
  room key, base32hex), so an insert retried after a lost answer gets 409 "duplicate" and
  `events.get` returns the event the first try made. A duplicate that was deleted
  (status "cancelled") or whose conference failed is restored with `events.patch` and a new
  createRequest. Google makes the conference asynchronously: while
  `createRequest.status.statusCode` is "pending" we `events.get` again (POLL_DELAYS); still
  pending, we raise ProviderUnavailable and the hub's retry finds the event by its id;
  "failure" raises ProviderError.
- update_room: `events.patch` (title, description, times). delete_room: `events.delete`
  (404 or 410: already gone).
- join_link: the event's hangoutLink, the same for everybody (Meet has no personal links).
- fetch_attendance: Meet `conferenceRecords.list` (filter `space.meeting_code = "..."`),
  `conferenceRecords.participants.list` and
  `conferenceRecords.participants.participantSessions.list`, all paged: one Interval per
  session. Google keeps conference records for 30 days.
- check_connection: `events.list` (maxResults=1) on the primary calendar (its answer names the
  calendar) and `conferenceRecords.list` (pageSize=1), so both scopes are tried.

Authorisation, exactly one of:

- a service account with domain-wide delegation (Google Workspace): it acts as the calendar
  user (the "calendar_user" setting, else the event's organiser; a room keeps the calendar it
  was made in). The admin console must allow its client ID the SCOPES.
- an organiser's OAuth grant: client ID, client secret and refresh token.

Requests go through httplib2 (the client library's transport) rather than httpx, so
`_execute` maps failures itself, the same way http.py does: timeouts, 5xx, 429 and rate-limit
reasons → ProviderUnavailable; 401/403 → ProviderAuthError with what to fix; 404/410 →
RoomGone. Base URLs: context.endpoints "google_calendar" (default
https://www.googleapis.com/calendar/v3/), "google_meet" (https://meet.googleapis.com/) and
"google_oauth_token" (the OAuth grant's token endpoint).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from integrations.conferencing.base import (
    N_,
    Capabilities,
    Context,
    Interval,
    JoinLink,
    Participant,
    Provider,
    ProviderAuthError,
    ProviderConfigError,
    ProviderError,
    ProviderUnavailable,
    Room,
    RoomGone,
    RoomSpec,
    SettingField,
    register,
    utc,
)

SCOPES = (
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/meetings.space.readonly",
)
TOKEN_URI = "https://oauth2.googleapis.com/token"
OAUTH_FIELDS = ("oauth_client_id", "oauth_client_secret", "oauth_refresh_token")
#: Seconds to wait before each events.get while Google is still making the conference.
POLL_DELAYS = (1.0, 2.0, 4.0)
#: Error reasons (Calendar `errors[].reason`, Meet `details[].reason` and `status`).
RATE_LIMITED = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded",
                          "RATE_LIMIT_EXCEEDED", "RESOURCE_EXHAUSTED"})
SCOPE_MISSING = frozenset({"insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"})
API_DISABLED = frozenset({"accessNotConfigured", "SERVICE_DISABLED"})
API_NAMES = {"calendar-json.googleapis.com": "Google Calendar API",
             "meet.googleapis.com": "Google Meet REST API"}
DELEGATION_PAGE = "Security → Access and data control → API controls → Domain-wide delegation"


@register
class GoogleMeet(Provider):
    key = "google_meet"
    label = "Google Meet"
    capabilities = Capabilities(per_person_links=False, attendance=True, webhooks=False)
    settings_fields = (
        SettingField("service_account_json", N_("Service account key (JSON)"), secret=True,
                     required=False, multiline=True,
                     help="Google Workspace: the JSON key of a service account with "
                          "domain-wide delegation for the scopes " + ", ".join(SCOPES) + ". "
                          "Leave empty to use an organiser's Google account instead."),
        SettingField("calendar_user", N_("Calendar user"), required=False,
                     help=N_("With a service account: the Workspace user whose calendar holds "
                          "the events, e.g. events@school.example.org. Empty: each event's "
                          "organiser.")),
        SettingField("oauth_client_id", N_("OAuth client ID"), required=False,
                     help=N_("With an organiser's Google account: the OAuth client from the "
                          "Google Cloud console.")),
        SettingField("oauth_client_secret", N_("OAuth client secret"), secret=True,
                     required=False),
        SettingField("oauth_refresh_token", N_("OAuth refresh token"), secret=True,
                     required=False,
                     help=N_("Given when the organiser allows access to their calendar.")),
    )
    #: google-auth (google.oauth2) comes with both; a dotted name here would make
    #: Provider.missing_modules raise when the "google" package is absent.
    requires_modules = ("googleapiclient", "google_auth_httplib2", "httplib2")

    def __init__(self, settings: Mapping[str, str], context: Context, *, http: Any = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(settings, context)
        #: The transport under the credentials (default: httplib2.Http with the context's
        #: timeout); tests pass googleapiclient.http.HttpMockSequence.
        self._transport = http
        self._sleep = sleep
        self._authorized: dict[str | None, Any] = {}

    # Settings and credentials --------------------------------------------------------------

    @classmethod
    def missing_settings(cls, settings: Mapping[str, str]) -> list[SettingField]:
        """Nothing once one way is complete; else what the way begun (or either way) lacks."""
        filled = {f.name for f in cls.settings_fields if (settings.get(f.name) or "").strip()}
        if "service_account_json" in filled or filled >= set(OAUTH_FIELDS):
            return []
        wanted = set(OAUTH_FIELDS) - filled if filled & set(OAUTH_FIELDS) \
            else {"service_account_json", *OAUTH_FIELDS}
        return [f for f in cls.settings_fields if f.name in wanted]

    def _setting(self, name: str) -> str:
        return (self.settings.get(name) or "").strip()

    @property
    def uses_service_account(self) -> bool:
        """Which way is set up; ProviderConfigError unless exactly one is complete."""
        service_account = bool(self._setting("service_account_json"))
        oauth = [bool(self._setting(name)) for name in OAUTH_FIELDS]
        if service_account and any(oauth):
            raise ProviderConfigError("Google Meet: fill in either the service account key or "
                                      "the OAuth fields, not both")
        if service_account or all(oauth):
            return service_account
        if any(oauth):
            raise ProviderConfigError("Google Meet: an organiser's Google account needs the "
                                      "OAuth client ID, client secret and refresh token")
        raise ProviderConfigError("Google Meet: enter a service account key (Google Workspace) "
                                  "or connect an organiser's Google account")

    def _service_account_info(self) -> dict[str, Any]:
        try:
            info = json.loads(self._setting("service_account_json"))
        except ValueError as error:
            raise ProviderConfigError("Google Meet: the service account key is not valid "
                                      "JSON; paste the whole key file") from error
        if not isinstance(info, dict) or info.get("type") != "service_account":
            raise ProviderConfigError("Google Meet: the key is not a service account key "
                                      "file; create a JSON key for the service account")
        return info

    def _service_account(self) -> Any:
        """The service account's credentials, acting for nobody yet."""
        from google.oauth2 import service_account

        try:
            return service_account.Credentials.from_service_account_info(
                self._service_account_info(), scopes=list(SCOPES))
        except ValueError as error:
            raise ProviderConfigError("Google Meet: the service account key is incomplete or "
                                      "damaged; create a new JSON key and paste it whole") \
                from error

    def credentials(self, user: str | None = None) -> Any:
        """google-auth credentials: the service account acting as `user`, or the OAuth grant."""
        if self.uses_service_account:
            if not user:
                raise ProviderConfigError("Google Meet: the event has no organiser email; enter "
                                          "a calendar user in the Google Meet settings")
            return self._service_account().with_subject(user)
        from google.oauth2.credentials import Credentials

        # No scopes: the grant has its own, and asking for others at refresh is refused.
        return Credentials(None, refresh_token=self._setting("oauth_refresh_token"),
                           client_id=self._setting("oauth_client_id"),
                           client_secret=self._setting("oauth_client_secret"),
                           token_uri=self.context.endpoints.get("google_oauth_token")
                           or TOKEN_URI)

    def _user(self, spec: RoomSpec | None = None, room: Room | None = None) -> str | None:
        """Whom a service account acts as: the room's calendar, the setting, the organiser."""
        if not self.uses_service_account:
            return None
        return ((room.data.get("calendar_id") if room else None)
                or self._setting("calendar_user") or (spec.organiser_email if spec else None))

    # Transport -----------------------------------------------------------------------------

    def _http(self, user: str | None) -> Any:
        """An authorised transport acting as `user` (one per user: one token each)."""
        if user not in self._authorized:
            import google_auth_httplib2
            import httplib2

            transport = self._transport or httplib2.Http(timeout=self.context.timeout)
            self._authorized[user] = google_auth_httplib2.AuthorizedHttp(
                self.credentials(user), http=transport)
        return self._authorized[user]

    def _service(self, name: str, version: str, endpoint: str, user: str | None) -> Any:
        from googleapiclient.discovery import build

        base = self.context.endpoints.get(endpoint)
        return build(name, version, http=self._http(user), static_discovery=True,
                     cache_discovery=False, client_options={"api_endpoint": base} if base else None)

    def _events(self, user: str | None) -> Any:
        return self._service("calendar", "v3", "google_calendar", user).events()

    def _records(self, user: str | None) -> Any:
        return self._service("meet", "v2", "google_meet", user).conferenceRecords()

    def _execute(self, request: Any, what: str, user: str | None,
                 keys: tuple[str, ...] = ()) -> dict[str, Any]:
        """Run one API request whose answer is a JSON object with `keys`."""
        body = self._send(request, what, user)
        if not isinstance(body, dict):  # the client library hands back a body it cannot parse
            raise ProviderError(f"{what}: Google answered something that is not JSON")
        if any(k not in body for k in keys):
            raise ProviderError(f"{what}: Google's answer lacks {', '.join(keys)}")
        return body

    def _send(self, request: Any, what: str, user: str | None) -> Any:
        """Run one API request (`what` names it); every failure becomes a ProviderError."""
        import httplib2
        from google.auth import exceptions as auth_errors
        from googleapiclient.errors import HttpError

        try:
            return request.execute()
        except HttpError as error:
            raise self._http_error(error, what) from error
        except auth_errors.RefreshError as error:
            raise self._refresh_error(error, what, user) from error
        except TimeoutError as error:
            raise ProviderUnavailable(f"{what}: Google did not answer in time") from error
        except (auth_errors.TransportError, httplib2.HttpLib2Error, OSError) as error:
            raise ProviderUnavailable(f"{what}: Google cannot be reached "
                                      f"({type(error).__name__})") from error

    # Error messages ------------------------------------------------------------------------

    def _http_error(self, error: Any, what: str) -> ProviderError:
        status = error.status_code
        detail = _error_detail(error.content)
        reasons = _reasons(detail)
        message = str(detail.get("message") or error.reason or "")[:200]
        if "forbiddenForServiceAccounts" in reasons:
            return ProviderAuthError(f"{what}: a service account needs domain-wide delegation "
                                     f"to create events; {self._delegation_hint()}",
                                     status=status)
        if message.startswith("Invalid conference type value"):
            return ProviderAuthError(f"{what}: this calendar may not have Google Meet "
                                     "conferences (a personal Google account, or Meet is off "
                                     "for the organisation); use a Google Workspace account "
                                     "with Google Meet turned on", status=status)
        if reasons & SCOPE_MISSING:
            return ProviderAuthError(f"{what}: {self._scope_hint()}", status=status)
        if reasons & API_DISABLED:
            api = API_NAMES.get(_service_name(detail), "Google Calendar API or Meet REST API")
            return ProviderAuthError(f"{what}: the {api} is off in the Google Cloud project of "
                                     "these credentials; enable it there (APIs & Services)",
                                     status=status)
        if status == 429 or status >= 500 or reasons & RATE_LIMITED:
            return ProviderUnavailable(f"{what}: Google is busy or limiting requests "
                                       f"(HTTP {status}), will retry", status=status,
                                       retry_after=_retry_after(error.resp))
        if status == 401:
            return ProviderAuthError(f"{what}: Google did not accept the credentials; "
                                     f"{self._reconnect_hint()}", status=status)
        if status in (404, 410):
            return RoomGone(f"{what}: Google has no such calendar event (HTTP {status}); it "
                            "may have been deleted in the calendar", status=status)
        if status == 403:
            return ProviderAuthError(f"{what}: Google denied access: {message}", status=status)
        return ProviderError(f"{what}: Google refused the request (HTTP {status}): {message}",
                             status=status)

    def _refresh_error(self, error: Any, what: str, user: str | None) -> ProviderError:
        """The message for a failed sign-in (google.auth RefreshError) at the token endpoint."""
        if getattr(error, "retryable", False):
            return ProviderUnavailable(f"{what}: Google's sign-in is unavailable, will retry")
        code, description = _refresh_reason(error)
        if not self.uses_service_account:
            if code == "invalid_grant":
                return ProviderAuthError(f"{what}: the organiser's Google authorisation was "
                                         "revoked or has expired; connect the Google account "
                                         "again")
            if code in ("invalid_client", "unauthorized_client"):
                return ProviderAuthError(f"{what}: Google does not accept the OAuth client ID "
                                         "or secret; check them in the Google Cloud console")
        elif code == "unauthorized_client":
            return ProviderAuthError(f"{what}: the service account may not act for {user}; "
                                     f"{self._delegation_hint()}")
        elif code == "invalid_grant":
            return ProviderAuthError(f"{what}: Google refused the service account for {user} "
                                     f"({description}); check that this user exists in your "
                                     "Google Workspace and that the key is not deleted")
        reason = ": ".join(part for part in (code, description) if part) or "no reason given"
        return ProviderAuthError(f"{what}: Google refused to sign in ({reason}); "
                                 f"{self._reconnect_hint()}")

    def _delegation_hint(self) -> str:
        client_id = self._service_account_info().get("client_id", "")
        return (f"in the Google Workspace admin console ({DELEGATION_PAGE}) allow client ID "
                f"{client_id} the scopes {', '.join(SCOPES)}")

    def _scope_hint(self) -> str:
        if self.uses_service_account:
            return "the service account lacks a scope; " + self._delegation_hint()
        return ("the organiser's Google authorisation does not cover calendar events and Meet "
                "records; connect the Google account again and allow both")

    def _reconnect_hint(self) -> str:
        if self.uses_service_account:
            return "check the service account key and its domain-wide delegation"
        return "connect the organiser's Google account again"

    # Rooms ---------------------------------------------------------------------------------

    def event_id(self, room_key: str) -> str:
        """Our Calendar event id for a room: stable, base32hex, distinct per installation."""
        digest = hmac.new(self.context.secret.encode(), f"google_meet:{room_key}".encode(),
                          hashlib.sha256).digest()[:20]
        return "vmeste" + base64.b32hexencode(digest).decode().lower()

    def create_room(self, spec: RoomSpec, room: Room) -> Room:
        if room.join_url and room.data.get("event_id"):
            return room
        user = self._user(spec, room)
        event = self._insert(spec, room.data.get("event_id") or self.event_id(spec.key), user)
        event = self._await_conference(event, user)
        return self._room(event, user, room)

    def _insert(self, spec: RoomSpec, event_id: str, user: str | None) -> dict[str, Any]:
        """events.insert; on 409 the event the earlier try made (restored if need be)."""
        events = self._events(user)
        body = {**_event_body(spec), "id": event_id,
                "conferenceData": _create_request(event_id)}
        try:
            return self._execute(events.insert(calendarId="primary", body=body,
                                               conferenceDataVersion=1, sendUpdates="none"),
                                 "Google Meet: create the calendar event", user, keys=("id",))
        except ProviderError as error:
            if error.status != 409:
                raise
        event = self._get(event_id, user)
        if event.get("status") == "cancelled" or _conference_status(event) in ("failure", None):
            event = self._execute(events.patch(
                calendarId="primary", eventId=event_id, conferenceDataVersion=1,
                sendUpdates="none", body={**_event_body(spec), "status": "confirmed",
                                          "conferenceData": _create_request(uuid.uuid4().hex)}),
                "Google Meet: restore the calendar event", user, keys=("id",))
        return event

    def _get(self, event_id: str, user: str | None) -> dict[str, Any]:
        return self._execute(self._events(user).get(calendarId="primary", eventId=event_id),
                             "Google Meet: read the calendar event", user, keys=("id",))

    def _await_conference(self, event: dict[str, Any], user: str | None) -> dict[str, Any]:
        """The event once Google has made its conference (polling while it is pending)."""
        for delay in POLL_DELAYS:
            if _conference_status(event) != "pending":
                break
            self._sleep(delay)
            event = self._get(event["id"], user)
        status = _conference_status(event)
        if status == "pending":
            raise ProviderUnavailable("Google Meet: Google is still creating the meeting link, "
                                      "will retry")
        if status != "success" or not _join_url(event):
            raise ProviderError("Google Meet: Google could not create a Meet conference for "
                                "this event; check that Google Meet is on for the organiser's "
                                "account, then try again")
        return event

    def _room(self, event: dict[str, Any], user: str | None, room: Room) -> Room:
        conference = event.get("conferenceData") or {}
        calendar_id = user or (event.get("organizer") or {}).get("email")
        return Room(external_id=event["id"], join_url=_join_url(event) or room.join_url,
                    data={**room.data, "event_id": event["id"], "calendar_id": calendar_id,
                          "meeting_code": conference.get("conferenceId")
                          or room.data.get("meeting_code")})

    def update_room(self, spec: RoomSpec, room: Room) -> Room:
        event_id = room.data.get("event_id")
        if not event_id:
            return self.create_room(spec, room)
        user = self._user(spec, room)
        event = self._execute(self._events(user).patch(
            calendarId="primary", eventId=event_id, body=_event_body(spec),
            conferenceDataVersion=1, sendUpdates="none"),
            "Google Meet: update the calendar event", user, keys=("id",))
        return self._room(event, user, room)

    def delete_room(self, room: Room) -> None:
        event_id = room.data.get("event_id")
        if not event_id:
            return
        user = self._user(room=room)
        with contextlib.suppress(RoomGone):  # deleted already: what we wanted
            self._send(self._events(user).delete(calendarId="primary", eventId=event_id,
                                                 sendUpdates="none"),
                       "Google Meet: delete the calendar event", user)

    def join_link(self, room: Room, participant: Participant) -> JoinLink:
        if not room.join_url:
            raise ProviderUnavailable("Google Meet: the meeting link is not ready yet; try "
                                      "again in a minute")
        return JoinLink(url=room.join_url)

    # Attendance ----------------------------------------------------------------------------

    def fetch_attendance(self, room: Room) -> list[Interval]:
        code = room.data.get("meeting_code")
        if not code:
            return []
        user = self._user(room=room)
        records = self._records(user)
        participants = records.participants()
        sessions = participants.participantSessions()
        intervals = []
        for record in list(self._pages(records, "conferenceRecords", user,
                                       filter=f'space.meeting_code = "{code}"')):
            for person in list(self._pages(participants, "participants", user,
                                           parent=record["name"])):
                for session in self._pages(sessions, "participantSessions", user,
                                           parent=person["name"]):
                    if session.get("startTime"):
                        intervals.append(_interval(person, session))
        return intervals

    def _pages(self, collection: Any, field: str, user: str | None,
               **params: str) -> Iterator[dict[str, Any]]:
        """Every item of a paged Meet `list` (items are objects with a resource name)."""
        what = "Google Meet: read the attendance"
        request = collection.list(**params)
        while request is not None:
            page = self._execute(request, what, user)
            items = page.get(field, [])
            if not isinstance(items, list) or not all(
                    isinstance(item, dict) and "name" in item for item in items):
                raise ProviderError(f"{what}: Google's answer lacks {field}")
            yield from items
            request = collection.list_next(request, page)

    # Connection ----------------------------------------------------------------------------

    def check_connection(self) -> str:
        user = self._user()
        if self.uses_service_account and not user:
            email = self._service_account().service_account_email
            return (f"service account {email}; its delegation is tried with the first event "
                    "(no calendar user set)")
        calendar = self._execute(self._events(user).list(calendarId="primary", maxResults=1),
                                 "Google Meet: read the calendar", user)
        self._execute(self._records(user).list(pageSize=1), "Google Meet: read meeting records",
                      user)
        return str(calendar.get("summary") or user or "")


# -- helpers -------------------------------------------------------------------------------


def _event_body(spec: RoomSpec) -> dict[str, Any]:
    return {"summary": spec.title, "description": spec.description,
            "start": {"dateTime": utc(spec.start).isoformat(), "timeZone": spec.timezone},
            "end": {"dateTime": utc(spec.end).isoformat(), "timeZone": spec.timezone}}


def _create_request(request_id: str) -> dict[str, Any]:
    return {"createRequest": {"requestId": request_id,
                              "conferenceSolutionKey": {"type": "hangoutsMeet"}}}


def _conference_status(event: Mapping[str, Any]) -> str | None:
    """The createRequest's statusCode ("pending", "success", "failure"); None: no conference."""
    conference = event.get("conferenceData") or {}
    status = (conference.get("createRequest") or {}).get("status") or {}
    return status.get("statusCode") or ("success" if _join_url(event) else None)


def _join_url(event: Mapping[str, Any]) -> str | None:
    """The hangoutLink, else the conference's video entry point."""
    entry_points = (event.get("conferenceData") or {}).get("entryPoints") or []
    video = [p.get("uri") for p in entry_points if p.get("entryPointType") == "video"]
    return event.get("hangoutLink") or next(iter(video), None)


def _interval(person: Mapping[str, Any], session: Mapping[str, Any]) -> Interval:
    signed_in = person.get("signedinUser") or {}
    who = signed_in or person.get("anonymousUser") or person.get("phoneUser") or {}
    return Interval(joined_at=_time(session["startTime"]),
                    left_at=_time(session["endTime"]) if session.get("endTime") else None,
                    name=who.get("displayName"), external_user_id=signed_in.get("user"))


def _time(value: str) -> datetime:
    """An RFC 3339 timestamp from Google ("2026-12-10T07:01:02.123456789Z") as UTC."""
    try:
        return utc(datetime.fromisoformat(value))
    except (TypeError, ValueError) as error:
        raise ProviderError(f"Google Meet: read the attendance: bad timestamp {value!r}") \
            from error


def _error_detail(content: bytes) -> dict[str, Any]:
    """The "error" object of a Google error body; {} when there is none."""
    try:
        detail = json.loads(content).get("error")
    except (ValueError, AttributeError):
        return {}
    return detail if isinstance(detail, dict) else {}


def _reasons(detail: Mapping[str, Any]) -> set[str]:
    """Every reason an error names: Calendar's errors[].reason, details[].reason, status."""
    items = [*(detail.get("errors") or []), *(detail.get("details") or [])]
    reasons = {item.get("reason") for item in items if isinstance(item, dict)}
    return {r for r in (*reasons, detail.get("status")) if isinstance(r, str)}


def _service_name(detail: Mapping[str, Any]) -> str:
    """The API an error's ErrorInfo names ("calendar-json.googleapis.com"), or ""."""
    for item in detail.get("details") or []:
        if isinstance(item, dict) and isinstance(item.get("metadata"), dict):
            return str(item["metadata"].get("service", ""))
    return ""


def _retry_after(resp: Mapping[str, str]) -> float | None:
    try:
        return max(0.0, float(resp.get("retry-after", "")))
    except ValueError:
        return None


def _refresh_reason(error: Exception) -> tuple[str, str]:
    """The OAuth error code and description of a RefreshError ("invalid_grant", "...")."""
    data = error.args[1] if len(error.args) > 1 else None
    if isinstance(data, dict):
        return str(data.get("error", "")), str(data.get("error_description", ""))[:200]
    code, _, description = str(error.args[0] if error.args else "").partition(":")
    return code.strip(), description.strip()[:200]
