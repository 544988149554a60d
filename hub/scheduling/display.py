"""How event times read on pages: in the viewer's zone (named), and in the event's own zone.

Registered as Jinja filters by the scheduling blueprint:

- ``event|event_when`` — «вторник, 10 февраля 2027 г., 15:00–16:30 (Europe/Moscow)» in the
  viewer's zone; ``event|event_when(event.timezone)`` — the same in the event's own zone;
- ``moment|event_daytime``, ``event_date``, ``event_time`` — parts, in the viewer's zone.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from flask import Blueprint
from flask_babel import get_locale, get_timezone


def viewer_zone() -> str:
    zone = get_timezone()  # pytz under Flask-Babel 4 (.zone); zoneinfo has .key
    return getattr(zone, "zone", None) or getattr(zone, "key", None) or str(zone)


def _local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def when_range(start: datetime, end: datetime, zone: str | None = None, *,
               date_format: str = "full", with_zone: bool = True) -> str:
    """A start–end range in `zone` (the viewer's by default): one date when both are on it."""
    zone = zone or viewer_zone()
    locale = get_locale()
    first, last = _local(start, zone), _local(end, zone)
    day = babel_dates.format_date(first.date(), date_format, locale=locale)
    begins = babel_dates.format_time(first.time(), "short", locale=locale)
    ends = babel_dates.format_time(last.time(), "short", locale=locale)
    if first.date() == last.date():
        text = f"{day}, {begins}–{ends}"
    else:
        other_day = babel_dates.format_date(last.date(), date_format, locale=locale)
        text = f"{day}, {begins} – {other_day}, {ends}"
    return f"{text} ({zone})" if with_zone else text


def when(event: object, zone: str | None = None, date_format: str = "full",
         with_zone: bool = True) -> str:
    return when_range(event.start_at, event.end_at, zone,  # type: ignore[attr-defined]
                      date_format=date_format, with_zone=with_zone)


def daytime(moment: datetime | None, zone: str | None = None) -> str:
    if moment is None:
        return ""
    local = _local(moment, zone or viewer_zone())
    locale = get_locale()
    return (f"{babel_dates.format_date(local.date(), 'medium', locale=locale)}, "
            f"{babel_dates.format_time(local.time(), 'short', locale=locale)}")


def time_only(moment: datetime, zone: str | None = None) -> str:
    return babel_dates.format_time(_local(moment, zone or viewer_zone()).time(), "short",
                                   locale=get_locale())


def date_only(moment: datetime, zone: str | None = None, date_format: str = "medium") -> str:
    return babel_dates.format_date(_local(moment, zone or viewer_zone()).date(), date_format,
                                   locale=get_locale())


def register(bp: Blueprint) -> None:
    bp.add_app_template_filter(when, "event_when")
    bp.add_app_template_filter(daytime, "event_daytime")
    bp.add_app_template_filter(time_only, "event_time")
    bp.add_app_template_filter(date_only, "event_date")
    bp.add_app_template_global(viewer_zone, "viewer_zone")
