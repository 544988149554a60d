"""The conferencing Provider interface, its value types and the registry.

A provider is a class that talks to one conferencing service. The hub (hub/conferencing/)
creates one instance per use, with the organisation's settings and a `Context`, and calls:

- `create_room(spec, room)` — make the conference for an event; idempotent: given the `room`
  the provider returned earlier (or a half-made one), it returns the same conference;
- `update_room(spec, room)` — the event's title or time changed;
- `delete_room(room)` — the event was cancelled (a room already gone is not an error);
- `register(room, people)` — for providers whose per-person links need registering first
  (Zoom registrants): returns each person's join URL;
- `join_link(room, participant)` — the URL a person is sent to from /j/<token>, with their
  display name and role, and until when it works;
- `fetch_attendance(room)` — join/leave intervals per person after the meeting;
- `verify_webhook(headers, body)` — check an incoming webhook or callback and read it;
- `check_connection()` — the settings page's "check connection" button.

Every call that reaches the network raises `ProviderError` (or a subclass) on failure: the
hub retries `ProviderUnavailable` with back-off and shows the message of the others to the
organiser. Messages are written for the organiser; they never contain a secret.

Nothing here imports from hub/: providers get what they need from `Context`.
"""

from __future__ import annotations

import importlib.util
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar
from urllib.parse import urlsplit

# -- errors --------------------------------------------------------------------------------


class ProviderError(Exception):
    """A provider call failed; `str(error)` is a message for the organiser (no secrets)."""

    #: Whether trying again later may succeed (the hub's worker retries these with back-off).
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        #: The HTTP status the provider answered, if any.
        self.status = status
        #: Seconds the provider asked us to wait (HTTP 429 Retry-After), if it said.
        self.retry_after = retry_after


class ProviderUnavailable(ProviderError):
    """The provider is down, timed out, is rate-limiting us or answered 5xx: try again later."""

    retryable = True


class ProviderAuthError(ProviderError):
    """The credentials are wrong, expired or lack a permission: the organiser must fix them."""


class ProviderConfigError(ProviderError):
    """The settings are incomplete or invalid (found before any request is made)."""


class RoomGone(ProviderError):
    """The conference no longer exists at the provider (deleted there, or expired)."""


class WebhookRejected(Exception):
    """An incoming webhook or callback failed verification (forged, stale or replayed)."""


def N_(message: str) -> str:
    """Mark a setting's label or help for translation: the hub translates it when shown."""
    return message


# -- value types ---------------------------------------------------------------------------


class Role(StrEnum):
    """A person's part in the conference."""

    HOST = "host"
    ATTENDEE = "attendee"


@dataclass(frozen=True)
class Capabilities:
    """What a provider can do beyond creating rooms."""

    #: Each person gets a link of their own (named, role-aware) rather than one shared URL.
    per_person_links: bool = False
    #: People must be registered at the provider before they get their link (Zoom).
    registration: bool = False
    #: The provider reports who attended and when (API, report or callback).
    attendance: bool = False
    #: The provider sends webhooks or callbacks to the hub.
    webhooks: bool = False


@dataclass(frozen=True)
class SettingField:
    """One setting a provider needs from the organisation (shown on the settings page)."""

    name: str
    #: The label, as an untranslated English msgid (the hub translates it).
    label: str
    #: Secrets are stored encrypted and never shown back.
    secret: bool = False
    required: bool = True
    #: Shown under the field: where to find this value.
    help: str = ""
    #: A long value (a JSON key file): shown as a text area.
    multiline: bool = False


@dataclass(frozen=True)
class RoomSpec:
    """What the provider is told about the event."""

    #: Stable and unique per event (the hub's room id), usable as the provider's meeting id.
    key: str
    title: str
    start: datetime
    end: datetime
    #: The event's IANA zone.
    timezone: str
    description: str = ""
    #: The organiser's email (Google: the calendar the event is made in; Zoom: the host user).
    organiser_email: str | None = None
    #: A webinar (one speaks, many listen) rather than a meeting: Zoom makes a Zoom Webinar.
    webinar: bool = False
    #: Where the provider should send webhooks or callbacks for this room, if it takes a URL.
    callback_url: str | None = None

    @property
    def minutes(self) -> int:
        return max(1, round((self.end - self.start).total_seconds() / 60))


@dataclass
class Room:
    """The conference as the hub stores it: the provider reads and returns this.

    `data` is the provider's own JSON (stored in the room's JSON column); only the provider
    that wrote it reads it.
    """

    #: The conference's id at the provider (None until it is created).
    external_id: str | None = None
    #: The URL anybody with the link joins by (None where there is none, e.g. BigBlueButton).
    join_url: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Participant:
    """A person about to join: from their invitation."""

    #: Stable per person (the same for every event): "p<person id>".
    key: str
    name: str
    email: str | None = None
    role: Role = Role.ATTENDEE
    #: The join URL the provider gave at registration (providers with `registration`).
    registered_url: str | None = None


@dataclass(frozen=True)
class JoinLink:
    url: str
    #: When the URL stops working (None: as long as the room exists).
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Registration:
    """A person registered at the provider (Zoom registrants)."""

    key: str
    join_url: str
    external_id: str | None = None


@dataclass(frozen=True)
class Interval:
    """A person in the conference from `joined_at` to `left_at` (None: still there)."""

    joined_at: datetime
    left_at: datetime | None
    #: The hub's participant key, when the provider echoes it back (BBB userID, Zoom registrant).
    person_key: str | None = None
    email: str | None = None
    name: str | None = None
    #: The provider's own id for the person, if any.
    external_user_id: str | None = None


class WebhookKind(StrEnum):
    JOINED = "joined"
    LEFT = "left"
    ENDED = "ended"
    #: A whole meeting's attendance at once (BigBlueButton's analytics callback).
    ATTENDANCE = "attendance"
    #: The meeting's recording can be watched (Zoom's recording.completed, BigBlueButton's
    #: recording-ready callback).
    RECORDING = "recording"


@dataclass(frozen=True)
class Recording:
    """A recording of the meeting, as people open it (never a URL carrying an access token)."""

    url: str
    #: The provider's name for it (the meeting's topic); empty: the hub names it.
    title: str = ""
    started_at: datetime | None = None


@dataclass(frozen=True)
class WebhookEvent:
    kind: WebhookKind
    #: The conference's id at the provider (to find the hub's room).
    external_id: str
    #: Unique per message: a message seen twice is stored once.
    dedupe_key: str
    intervals: tuple[Interval, ...] = ()
    #: What a RECORDING event reports.
    recordings: tuple[Recording, ...] = ()


@dataclass(frozen=True)
class WebhookResult:
    """What a verified webhook says: events to store, and/or a JSON reply to send back."""

    events: tuple[WebhookEvent, ...] = ()
    #: A body to answer with (Zoom's URL-validation challenge); None: an empty 204/200.
    reply: dict[str, Any] | None = None


@dataclass(frozen=True)
class Context:
    """What a provider may use from the hub."""

    #: The app's SECRET_KEY (Jitsi derives room names and signs JWTs with it).
    secret: str
    #: Seconds for each HTTP request.
    timeout: float = 15.0
    #: The clock (tests move it).
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    #: Base URLs of the providers' APIs, overriding the public ones (tests, self-hosted).
    endpoints: Mapping[str, str] = field(default_factory=dict)


# -- the interface ---------------------------------------------------------------------------


class Provider(ABC):
    """One conferencing service. Subclasses set the class attributes and implement the calls."""

    #: Registry key, stored on events and rooms ("jitsi", "bigbluebutton", ...).
    key: ClassVar[str]
    #: Shown to people (a brand name: not translated).
    label: ClassVar[str]
    capabilities: ClassVar[Capabilities] = Capabilities()
    #: What the organisation must enter; empty: works with no settings (Jitsi).
    settings_fields: ClassVar[Sequence[SettingField]] = ()
    #: Python modules the provider needs (it is listed as unavailable without them).
    requires_modules: ClassVar[Sequence[str]] = ()
    #: Whether its calls reach the network (False: the hub makes rooms at once, in the request).
    needs_network: ClassVar[bool] = True

    def __init__(self, settings: Mapping[str, str], context: Context) -> None:
        self.settings = dict(settings)
        self.context = context

    # Settings ----------------------------------------------------------------------------

    @classmethod
    def missing_modules(cls) -> list[str]:
        return [m for m in cls.requires_modules if not _importable(m)]

    @classmethod
    def missing_settings(cls, settings: Mapping[str, str]) -> list[SettingField]:
        return [f for f in cls.settings_fields if f.required and not settings.get(f.name)]

    def check_connection(self) -> str:
        """Make one harmless authenticated call; return what was found (e.g. the account name).

        Raises ProviderError with the reason when the settings do not work."""
        return ""

    # Rooms -------------------------------------------------------------------------------

    @abstractmethod
    def create_room(self, spec: RoomSpec, room: Room) -> Room:
        """Create the conference, or return the one `room` already names (idempotent)."""

    def update_room(self, spec: RoomSpec, room: Room) -> Room:
        """Tell the provider the event changed. The default: nothing to tell."""
        return room

    def delete_room(self, room: Room) -> None:  # noqa: B027 - most providers keep nothing
        """End and remove the conference; a conference already gone is not an error."""

    def register(self, room: Room, people: Sequence[Participant]) -> list[Registration]:
        """Register people for their personal links (only providers with `registration`)."""
        raise NotImplementedError(f"{self.key} has no registration")

    @abstractmethod
    def join_link(self, room: Room, participant: Participant) -> JoinLink:
        """The URL that takes `participant` into the conference (no network call if possible)."""

    def fetch_attendance(self, room: Room) -> list[Interval]:
        """Who was in the conference and when (only providers with `attendance`)."""
        return []

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookResult:
        """Check an incoming webhook's signature and freshness and read it. `headers` names
        are lower-case ("x-zm-signature", "authorization"); `body` is the raw request body.

        Raises WebhookRejected when it is forged, stale or malformed."""
        raise WebhookRejected(f"{self.key} takes no webhooks")


def _importable(module: str) -> bool:
    """Whether `module` can be imported (a dotted name whose parent is missing: no)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ModuleNotFoundError, ValueError):
        return False


# -- the registry ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderStatus:
    """A registered provider and whether this installation can use it."""

    cls: type[Provider]
    #: Why it cannot be used (None: it can).
    unavailable_reason: str | None

    @property
    def key(self) -> str:
        return self.cls.key

    @property
    def available(self) -> bool:
        return self.unavailable_reason is None


_registry: dict[str, type[Provider]] = {}


def register(cls: type[Provider]) -> type[Provider]:
    """Class decorator: make the provider known under `cls.key`."""
    _registry[cls.key] = cls
    return cls


def get(key: str) -> type[Provider] | None:
    _load_builtin()
    return _registry.get(key)


def statuses() -> list[ProviderStatus]:
    """Every provider in registry order, with the reason it is unavailable where it is."""
    _load_builtin()
    result = []
    order = {key: n for n, key in enumerate(BUILTIN)}
    for cls in sorted(_registry.values(), key=lambda c: order.get(c.key, len(order))):
        missing = cls.missing_modules()
        reason = f"missing Python package: {', '.join(missing)}" if missing else None
        result.append(ProviderStatus(cls, reason))
    return result


#: The built-in providers, in the order they are offered (the default first).
BUILTIN = ("jitsi", "bigbluebutton", "google_meet", "zoom", "telemost")


def _load_builtin() -> None:
    """Import the built-in provider modules; one that fails to import is skipped, not fatal."""
    if _loaded:
        return
    _loaded.append(True)
    import importlib
    import logging

    for name in BUILTIN:
        try:
            importlib.import_module(f"integrations.conferencing.{name}")
        except ImportError as error:  # a missing optional library must not break start-up
            logging.getLogger(__name__).warning("conferencing provider %s not loaded: %s",
                                                name, error)


_loaded: list[bool] = []


def secure_url(url: str) -> bool:
    """An https URL, or plain http to this machine (a development server)."""
    parts = urlsplit(url)
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
    return bool(parts.netloc) and (parts.scheme == "https"
                                   or (parts.scheme == "http" and loopback))


def utc(value: datetime) -> datetime:
    """`value` as an aware UTC datetime (naive values are taken as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
