"""Jitsi Meet: random room names, the server setting, the person's name on the pre-join
screen, and the optional JWT of prosody's token authentication (checked with PyJWT)."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import jwt
import pytest

from integrations.conferencing import base as conf
from integrations.conferencing.jitsi import Jitsi

APP_SECRET = "jitsi-app-secret-of-the-school-server"


def _fragment(url: str) -> dict[str, object]:
    pairs = (part.split("=", 1) for part in urlsplit(url).fragment.split("&"))
    return {key: json.loads(unquote(value)) for key, value in pairs}


def test_rooms_are_random_and_kept_once_made(context, spec):
    provider = Jitsi({}, context)
    room = provider.create_room(spec, conf.Room())
    other = provider.create_room(spec, conf.Room())
    assert room.external_id != other.external_id
    assert room.external_id.startswith("vmeste-") and len(room.external_id) == 31
    assert room.join_url == f"https://meet.jit.si/{room.external_id}"
    assert provider.create_room(spec, room).external_id == room.external_id  # idempotent


def test_a_self_hosted_server_is_used(context, spec):
    provider = Jitsi({"base_url": "https://meet.lesnogorsk.example.org/"}, context)
    room = provider.create_room(spec, conf.Room())
    assert room.join_url.startswith("https://meet.lesnogorsk.example.org/vmeste-")
    assert provider.check_connection() == "meet.lesnogorsk.example.org"
    with pytest.raises(conf.ProviderConfigError, match="https://"):
        Jitsi({"base_url": "http://insecure.example.org"}, context).check_connection()


def test_the_join_link_names_the_person_without_a_token(context, spec):
    provider = Jitsi({}, context)
    room = provider.create_room(spec, conf.Room())
    who = conf.Participant(key="p7", name="Попова Анна Сергеевна", email="anna@example.org")
    link = provider.join_link(room, who)
    assert link.url.startswith(room.join_url + "#") and link.expires_at is None
    assert _fragment(link.url)["userInfo.displayName"] == "Попова Анна Сергеевна"
    assert _fragment(link.url)["userInfo.email"] == "anna@example.org"
    assert "jwt=" not in link.url


def test_token_authentication_gives_each_person_a_jwt_for_the_one_room(context, spec, clock):
    settings = {"base_url": "https://meet.lesnogorsk.example.org", "jwt_app_id": "vmeste",
                "jwt_app_secret": APP_SECRET}
    provider = Jitsi(settings, context)
    room = provider.create_room(spec, conf.Room())
    host = provider.join_link(room, conf.Participant(key="p1", name="Кузнецова Е. В.",
                                                     role=conf.Role.HOST))
    guest = provider.join_link(room, conf.Participant(key="p2", name="Соколова И. П."))
    assert host.expires_at == spec.end + timedelta(hours=2)

    def claims(link: conf.JoinLink) -> dict:
        token = parse_qs(urlsplit(link.url).query)["jwt"][0]
        return jwt.decode(token, APP_SECRET, algorithms=["HS256"], audience="vmeste",
                          options={"verify_nbf": False, "verify_exp": False})

    mine, theirs = claims(host), claims(guest)
    assert mine["room"] == theirs["room"] == room.external_id
    assert (mine["iss"], mine["sub"]) == ("vmeste", "meet.lesnogorsk.example.org")
    assert mine["context"]["user"] == {"id": "p1", "name": "Кузнецова Е. В.", "email": "",
                                       "moderator": True}
    assert mine["moderator"] is True and theirs["moderator"] is False
    assert mine["exp"] == int(host.expires_at.timestamp())
    with pytest.raises(jwt.InvalidSignatureError):  # signed with the app secret only
        jwt.decode(parse_qs(urlsplit(host.url).query)["jwt"][0], "another-secret",
                   algorithms=["HS256"], audience="vmeste")


def test_a_half_configured_token_authentication_is_refused(context, spec):
    provider = Jitsi({"jwt_app_id": "vmeste"}, context)
    with pytest.raises(conf.ProviderConfigError, match="both"):
        provider.check_connection()
    room = provider.create_room(spec, conf.Room())
    with pytest.raises(conf.ProviderConfigError, match="both"):
        provider.join_link(room, conf.Participant(key="p1", name="Кузнецова"))


def test_jitsi_is_listed_as_available_and_needs_no_settings():
    status = next(s for s in conf.statuses() if s.key == "jitsi")
    assert status.available and not Jitsi.missing_settings({})
    assert not Jitsi.needs_network
