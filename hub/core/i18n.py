"""Language and time zone of the current viewer (Flask-Babel selectors)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, available_timezones

from flask import current_app, has_request_context, session
from flask_login import current_user

#: Time zones offered in forms: Russia's zones first, then every other IANA name.
RUSSIAN_TIMEZONES = (
    "Europe/Kaliningrad", "Europe/Moscow", "Europe/Samara", "Asia/Yekaterinburg", "Asia/Omsk",
    "Asia/Novosibirsk", "Asia/Krasnoyarsk", "Asia/Irkutsk", "Asia/Yakutsk", "Asia/Vladivostok",
    "Asia/Magadan", "Asia/Kamchatka",
)


def is_valid_timezone(name: str) -> bool:
    return name in _all_timezones()


def _all_timezones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES


_ZONES: frozenset[str] | None = None


def timezone_choices() -> list[tuple[str, str]]:
    others = sorted(_all_timezones() - set(RUSSIAN_TIMEZONES))
    return [(z, z) for z in (*RUSSIAN_TIMEZONES, *others)]


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    if has_request_context() and current_user.is_authenticated:
        return current_user.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
