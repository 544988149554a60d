"""Yandex Telemost (Яндекс Телемост) through the Telemost API of Yandex 360 for business.

The organisation enters an OAuth token issued by a user of its Yandex 360 for business
organisation for an app with the permissions telemost-api:conferences.create, .read and
.update ("Доступ к API"); every call sends it as `Authorization: OAuth <token>` to
https://cloud-api.yandex.net/v1/telemost-api. That user becomes each conference's organiser.

- create_room: «Создание видеовстречи» (POST /conferences, body {"waiting_room_level"}) answers
  {id, join_url}. When the room already has an id, «Просмотр параметров видеовстречи»
  (GET /conferences/{id}) returns it instead; a 404 there means it is gone: a new one is made.
- The event's organiser (spec.organiser_email) is made a co-host through «Добавление
  соорганизаторов» (PATCH /conferences/{id}/cohosts) so they can admit people from the
  waiting room. This is best effort: only Yandex accounts can be co-hosts, and an address that
  is not one must not stop the room from being made (the failure is logged, and tried again
  on the next update).
- update_room: a conference has no title and no time, so only the waiting room level (the
  setting) and the co-host are kept in step, through «Изменение параметров видеовстречи»
  (PATCH /conferences/{id}) and the co-host call above; nothing is sent when neither changed.
- delete_room: the API has no way to delete or end a conference, so a cancelled event's
  conference is left as it is and simply forgotten by the hub.
- join_link: everyone gets the conference's join_url. Telemost has no per-person links and no
  documented join URL parameter for a display name: people type their name (or are signed in
  with their Yandex account). There is no attendance API and no webhooks: the hub's own
  /j/<token> redirect is the record of who joined.
- check_connection: «Обмен токена на информацию о пользователе» of Yandex ID
  (GET https://login.yandex.ru/info?format=json) proves the token is valid and names its
  account; the Telemost permissions themselves are only proven by the first conference.

Base URLs come from `context.endpoints["telemost"]` and `context.endpoints["yandex_login"]`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import httpx

from integrations.conferencing.base import (
    N_,
    Capabilities,
    JoinLink,
    Participant,
    Provider,
    ProviderAuthError,
    ProviderConfigError,
    ProviderError,
    Room,
    RoomGone,
    RoomSpec,
    SettingField,
    register,
)
from integrations.conferencing.http import client, json_object, send

TELEMOST_API = "https://cloud-api.yandex.net/v1/telemost-api"
YANDEX_LOGIN = "https://login.yandex.ru"
NAME = "Yandex Telemost"

#: PUBLIC: no waiting room; ORGANIZATION: people outside the organisation wait to be admitted;
#: ADMINS: everyone but the organiser and co-hosts waits.
WAITING_ROOM_LEVELS = ("PUBLIC", "ORGANIZATION", "ADMINS")
#: Teachers from other schools are outside the organisation: they join without being admitted.
DEFAULT_WAITING_ROOM_LEVEL = "PUBLIC"

SCOPES = ("telemost-api:conferences.create, telemost-api:conferences.read and "
          "telemost-api:conferences.update")
#: What the organiser should do about an HTTP 401 (token refused) or 403 (access denied).
TOKEN_REFUSED = (f"The OAuth token is invalid, expired or revoked: issue a new one at "
                 f"oauth.yandex.ru for an app with the permissions {SCOPES}")
ACCESS_DENIED = (f"The token's account must be a user of a Yandex 360 for business "
                 f"organisation, and the token needs the permissions {SCOPES}")

log = logging.getLogger(__name__)


@register
class Telemost(Provider):
    key = "telemost"
    label = "Яндекс Телемост"
    capabilities = Capabilities(per_person_links=False, attendance=False, webhooks=False)
    settings_fields = (
        SettingField("oauth_token", N_("OAuth token"), secret=True,
                     help="Issued at oauth.yandex.ru by a user of your Yandex 360 for business "
                          f"organisation, for an app with the permissions {SCOPES}."),
        SettingField("waiting_room_level", N_("Waiting room"), required=False,
                     help=N_("PUBLIC (the default): everyone with the link joins at once, so "
                          "teachers from other schools need not be admitted. ORGANIZATION: "
                          "people outside your organisation wait until the organiser admits "
                          "them. ADMINS: everyone but the organiser and co-hosts waits.")),
    )

    # Settings ----------------------------------------------------------------------------

    @property
    def api(self) -> str:
        return (self.context.endpoints.get("telemost") or TELEMOST_API).rstrip("/")

    @property
    def login_api(self) -> str:
        return (self.context.endpoints.get("yandex_login") or YANDEX_LOGIN).rstrip("/")

    def _waiting_room_level(self) -> str:
        """The configured waiting room level, checked against the documented values."""
        level = (self.settings.get("waiting_room_level") or "").strip().upper()
        level = level or DEFAULT_WAITING_ROOM_LEVEL
        if level not in WAITING_ROOM_LEVELS:
            raise ProviderConfigError(f"{NAME}: the waiting room must be "
                                      f"{', '.join(WAITING_ROOM_LEVELS)}")
        return level

    def check_connection(self) -> str:
        self._waiting_room_level()
        with self._http() as http:
            response = self._send(http, "GET", f"{self.login_api}/info", what="check token",
                                  params={"format": "json"})
        account = json_object(response, what=f"{NAME}: check token", keys=("login",))
        return str(account.get("default_email") or account["login"])

    # Rooms -------------------------------------------------------------------------------

    def create_room(self, spec: RoomSpec, room: Room) -> Room:
        level = self._waiting_room_level()
        with self._http() as http:
            found = self._existing(http, room.external_id) if room.external_id else None
            if found is None:
                found = self._create(http, level)
                data = {**room.data, "waiting_room_level": level}
                data.pop("cohost", None)
            else:
                data = {**room.data, "waiting_room_level": found.get("waiting_room_level", level)}
            made = Room(external_id=found["id"], join_url=found["join_url"], data=data)
            return self._sync_cohost(http, spec, made)

    def update_room(self, spec: RoomSpec, room: Room) -> Room:
        if not room.external_id:
            return self.create_room(spec, room)
        level = self._waiting_room_level()
        with self._http() as http:
            if room.data.get("waiting_room_level") != level:
                self._send(http, "PATCH", self._conference_url(room.external_id),
                           what="update conference", json={"waiting_room_level": level})
                room = Room(external_id=room.external_id, join_url=room.join_url,
                            data={**room.data, "waiting_room_level": level})
            return self._sync_cohost(http, spec, room)

    def join_link(self, room: Room, participant: Participant) -> JoinLink:
        if not room.join_url:
            raise ProviderConfigError(f"{NAME}: the conference has not been made yet")
        return JoinLink(url=room.join_url)

    # Telemost API ------------------------------------------------------------------------

    def _existing(self, http: httpx.Client, conference_id: str) -> dict[str, Any] | None:
        """The conference with this id, or None when Telemost no longer has it."""
        try:
            response = self._send(http, "GET", self._conference_url(conference_id),
                                  what="read conference")
        except RoomGone:
            log.info("Telemost conference %s is gone; making a new one", conference_id)
            return None
        return _conference(response, what=f"{NAME}: read conference")

    def _create(self, http: httpx.Client, level: str) -> dict[str, Any]:
        response = self._send(http, "POST", f"{self.api}/conferences", what="create conference",
                              json={"waiting_room_level": level})
        return _conference(response, what=f"{NAME}: create conference")

    def _sync_cohost(self, http: httpx.Client, spec: RoomSpec, room: Room) -> Room:
        """Make the event's organiser a co-host once (best effort, see the module docstring)."""
        email = spec.organiser_email
        if not email or not room.external_id or room.data.get("cohost") == email:
            return room
        try:
            self._send(http, "PATCH", f"{self._conference_url(room.external_id)}/cohosts",
                       what="add co-host", json={"cohosts": [{"email": email}]})
        except ProviderError as error:
            log.warning("Telemost: %s was not made a co-host of %s: %s", email,
                        room.external_id, error)
            return room
        return Room(external_id=room.external_id, join_url=room.join_url,
                    data={**room.data, "cohost": email})

    def _conference_url(self, conference_id: str) -> str:
        return f"{self.api}/conferences/{quote(conference_id, safe='')}"

    @contextmanager
    def _http(self) -> Iterator[httpx.Client]:
        token = (self.settings.get("oauth_token") or "").strip()
        if not token:
            raise ProviderConfigError(f"{NAME}: enter the OAuth token in the settings")
        with client(self.context.timeout, headers={"Authorization": f"OAuth {token}"}) as http:
            yield http

    @staticmethod
    def _send(http: httpx.Client, method: str, url: str, *, what: str,
              **kwargs: Any) -> httpx.Response:
        """`send`, with what to do about a refused token added to 401 and 403 messages."""
        try:
            return send(http, method, url, what=f"{NAME}: {what}", **kwargs)
        except ProviderAuthError as error:
            advice = TOKEN_REFUSED if error.status == 401 else ACCESS_DENIED
            raise ProviderAuthError(f"{error}. {advice}", status=error.status) from error


def _conference(response: httpx.Response, *, what: str) -> dict[str, Any]:
    """A conference from Telemost's answer, with a non-empty id and join_url."""
    body = json_object(response, what=what, keys=("id", "join_url"))
    if not all(isinstance(body[k], str) and body[k] for k in ("id", "join_url")):
        raise ProviderError(f"{what}: the service's answer lacks id, join_url")
    return body
