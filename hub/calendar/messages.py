"""Texts of calendar emails: times in the reader's and the event's zones, in the reader's
language, and the links a letter carries. No Flask request is needed (the worker renders)."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from babel.dates import format_date, format_datetime, format_time
from flask import current_app

from hub.calendar.ics import event_zone
from hub.directory.models import Person


def person_locale(person: Person) -> str:
    """The language of letters to `person`: theirs, or the hub's default (Russian)."""
    languages = current_app.config["LANGUAGES"]
    if person.locale in languages:
        return person.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def zone_label(zone: tzinfo, moment: datetime) -> str:
    """«Asia/Yekaterinburg, UTC+5»: the IANA name and the offset at that moment."""
    name = getattr(zone, "key", None) or "UTC"
    offset = moment.astimezone(zone).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    shift = f"{hours}:{rest:02d}" if rest else f"{hours}"
    return f"{name}, UTC{sign}{shift}" if minutes else f"{name}, UTC"


def span_text(start: datetime, end: datetime, zone: tzinfo, locale: str) -> str:
    """«Thursday, December 3, 2026, 10:00–11:30 (Asia/Yekaterinburg, UTC+5)»."""
    first, last = start.astimezone(zone), end.astimezone(zone)
    day = format_date(first.date(), "full", locale=locale)
    begin = format_time(first, "HH:mm", tzinfo=zone, locale=locale)
    finish = format_time(last, "HH:mm", tzinfo=zone, locale=locale)
    if last.date() != first.date():
        finish = f"{format_date(last.date(), 'long', locale=locale)}, {finish}"
    return f"{day}, {begin}–{finish} ({zone_label(zone, first)})"


def short_when(start: datetime, zone: tzinfo, locale: str) -> str:
    """For subjects: «3 Dec 2026, 10:00 (Asia/Yekaterinburg)»."""
    moment = format_datetime(start, "d MMM y, HH:mm", tzinfo=zone, locale=locale)
    return f"{moment} ({getattr(zone, 'key', None) or 'UTC'})"


def same_clock(a: tzinfo, b: tzinfo, start: datetime, end: datetime) -> bool:
    """Two zones that show the same wall-clock times for this span."""
    return all(moment.astimezone(a).utcoffset() == moment.astimezone(b).utcoffset()
               for moment in (start, end))


def times_for(person: Person, start: datetime, end: datetime, event_timezone: str,
              locale: str) -> tuple[str, str | None]:
    """(the time in the event's zone, the time in the reader's zone or None when the reader's
    clock shows the same)."""
    event_tz = event_zone(event_timezone)
    person_tz = event_zone(person.timezone)
    in_event = span_text(start, end, event_tz, locale)
    if same_clock(event_tz, person_tz, start, end):
        return in_event, None
    return in_event, span_text(start, end, person_tz, locale)


def absolute(path: str) -> str:
    """An address for emails and calendars: BASE_URL + path."""
    return current_app.config["BASE_URL"].rstrip("/") + path


def greeting_name(person: Person) -> str:
    """How a Russian letter addresses a colleague: first name and patronymic."""
    return " ".join(p for p in (person.first_name, person.patronymic) if p) or person.full_name


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)
