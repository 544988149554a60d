"""Jitsi Meet: the default provider. No account and no API: a room exists once it is joined.

- Room names are random (120 bits), made once per event and kept in the room's row, so they
  are unguessable and do not move when the app's secret is rotated.
- The server is https://meet.jit.si unless the organisation (or JITSI_BASE_URL) names a
  self-hosted one.
- For servers with token authentication (prosody `token` auth), set the application id and
  secret: each join link then carries a JWT (HS256) for the one room, naming the person and
  whether they are a moderator, that expires two hours after the event ends.
- The person's name is filled in through the URL fragment (userInfo.displayName), so the
  pre-join screen already shows it; the fragment never reaches the Jitsi server's logs.
"""

from __future__ import annotations

import base64
import json
import secrets
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode, urlsplit

from integrations.conferencing.base import (
    N_,
    Capabilities,
    JoinLink,
    Participant,
    Provider,
    ProviderConfigError,
    Role,
    Room,
    RoomSpec,
    SettingField,
    register,
    secure_url,
    utc,
)

PUBLIC_SERVER = "https://meet.jit.si"
#: Random bytes in a room name (base32: 24 characters).
ROOM_BYTES = 15
#: How long after the event's end a JWT still lets people (re)join.
JWT_GRACE = timedelta(hours=2)


@register
class Jitsi(Provider):
    key = "jitsi"
    label = "Jitsi Meet"
    capabilities = Capabilities(per_person_links=True)
    settings_fields = (
        SettingField("base_url", N_("Server address"), required=False,
                     help=N_("For a self-hosted server, e.g. https://meet.school.example.org. "
                          "Empty: the public server meet.jit.si.")),
        SettingField("jwt_app_id", N_("Application id (token authentication)"), required=False,
                     help=N_("Only for servers that require a JWT: the app_id of prosody's "
                          "token authentication.")),
        SettingField("jwt_app_secret", N_("Application secret (token authentication)"),
                     secret=True, required=False,
                     help=N_("The app_secret that goes with the application id.")),
    )
    requires_modules = ("jwt",)
    needs_network = False

    @property
    def base_url(self) -> str:
        base = (self.settings.get("base_url") or self.context.endpoints.get("jitsi")
                or PUBLIC_SERVER)
        return base.rstrip("/")

    @property
    def uses_jwt(self) -> bool:
        return bool(self.settings.get("jwt_app_id") or self.settings.get("jwt_app_secret"))

    def check_connection(self) -> str:
        parts = urlsplit(self.base_url)
        if not secure_url(self.base_url):
            raise ProviderConfigError("Jitsi: the server address must start with https://")
        if self.uses_jwt and not (self.settings.get("jwt_app_id")
                                  and self.settings.get("jwt_app_secret")):
            raise ProviderConfigError("Jitsi: token authentication needs both the application "
                                      "id and the secret")
        return parts.netloc

    def create_room(self, spec: RoomSpec, room: Room) -> Room:
        name = room.external_id or "vmeste-" + base64.b32encode(
            secrets.token_bytes(ROOM_BYTES)).decode().lower()
        return Room(external_id=name, join_url=f"{self.base_url}/{name}",
                    data={**room.data, "end": utc(spec.end).isoformat()})

    def update_room(self, spec: RoomSpec, room: Room) -> Room:
        return Room(external_id=room.external_id, join_url=f"{self.base_url}/{room.external_id}",
                    data={**room.data, "end": utc(spec.end).isoformat()})

    def join_link(self, room: Room, participant: Participant) -> JoinLink:
        if room.external_id is None:
            raise ProviderConfigError("Jitsi: the room has not been made yet")
        url = f"{self.base_url}/{room.external_id}"
        expires_at = None
        if self.uses_jwt:
            expires_at = self._expiry(room)
            url += "?" + urlencode({"jwt": self._token(room.external_id, participant,
                                                       expires_at)})
        fragment = {"userInfo.displayName": participant.name,
                    "config.prejoinConfig.enabled": True}
        if participant.email:
            fragment["userInfo.email"] = participant.email
        url += "#" + "&".join(f"{k}={quote(json.dumps(v, ensure_ascii=False))}"
                              for k, v in fragment.items())
        return JoinLink(url=url, expires_at=expires_at)

    def _expiry(self, room: Room) -> datetime:
        now = self.context.now()
        end = room.data.get("end")
        until = datetime.fromisoformat(end) + JWT_GRACE if end else now + JWT_GRACE
        return max(until, now + JWT_GRACE)

    def _token(self, room_name: str, who: Participant, expires_at: datetime) -> str:
        import jwt

        app_id, secret = self.settings.get("jwt_app_id"), self.settings.get("jwt_app_secret")
        if not (app_id and secret):
            raise ProviderConfigError("Jitsi: token authentication needs both the application "
                                      "id and the secret")
        moderator = who.role == Role.HOST
        now = self.context.now()
        claims = {
            "iss": app_id, "aud": app_id, "sub": urlsplit(self.base_url).hostname or "*",
            "room": room_name, "nbf": int((now - timedelta(minutes=5)).timestamp()),
            "exp": int(expires_at.timestamp()), "moderator": moderator,
            "context": {"user": {"id": who.key, "name": who.name, "email": who.email or "",
                                 "moderator": moderator}},
        }
        return jwt.encode(claims, secret, algorithm="HS256")
