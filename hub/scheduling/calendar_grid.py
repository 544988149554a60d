"""The layout of a calendar page: which days it shows and which events fall on each day.

Pure date arithmetic, no database and no request: a page is a range of days in the viewer's
time zone (a month grid of whole weeks, one week, or a month as a list); each event is placed on
every local day it covers, so a methodical week shows on each of its days.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hub.scheduling.models import Event

VIEWS = ("month", "week", "list")
#: The earliest and latest dates a page may show (anything else is clamped).
FIRST_DATE = date(2000, 1, 1)
LAST_DATE = date(2099, 12, 31)


@dataclass
class Placed:
    """An event as one day shows it."""

    event: Event
    #: Start and end in the viewer's zone.
    start: datetime
    end: datetime
    #: The event began on an earlier day / goes on after this day.
    continued: bool = False
    continues: bool = False

    @property
    def own_start(self) -> datetime | None:
        """The start in the event's own zone, when that zone differs from the viewer's."""
        zone = self.event.timezone
        if not zone or zone == getattr(self.start.tzinfo, "key", None):
            return None
        try:
            return self.event.start_at.astimezone(ZoneInfo(zone))
        except (ValueError, KeyError):  # an unknown zone name: show the viewer's time only
            return None


@dataclass
class Day:
    day: date
    in_range: bool = True
    is_today: bool = False
    events: list[Placed] = field(default_factory=list)

    @property
    def is_weekend(self) -> bool:
        return self.day.weekday() >= 5


@dataclass
class Page:
    """One calendar page: its days (a month grid comes as whole weeks), and where prev/next go."""

    view: str
    anchor: date
    first: date  # first day shown
    last: date  # last day shown (inclusive)
    today: date
    zone: str
    days: list[Day]
    previous: date
    following: date

    @property
    def weeks(self) -> list[list[Day]]:
        return [self.days[i:i + 7] for i in range(0, len(self.days), 7)]

    @property
    def start_utc(self) -> datetime:
        return local_midnight(self.first, self.zone)

    @property
    def end_utc(self) -> datetime:
        return local_midnight(self.last + timedelta(days=1), self.zone)

    @property
    def event_count(self) -> int:
        return len({p.event.id for d in self.days if d.in_range for p in d.events})

    @property
    def days_with_events(self) -> list[Day]:
        return [d for d in self.days if d.in_range and d.events]


def clamp(day: date) -> date:
    return min(max(day, FIRST_DATE), LAST_DATE)


def parse_date(value: str | None, default: date) -> date:
    """A YYYY-MM-DD (or YYYY-MM) date from a query string; `default` when it is not one."""
    text = (value or "").strip()[:10]
    try:
        if len(text) == 7:
            return clamp(date.fromisoformat(text + "-01"))
        return clamp(date.fromisoformat(text))
    except ValueError:
        return default


def local_midnight(day: date, zone: str) -> datetime:
    """The instant a local day begins in `zone` (aware)."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone))


def add_months(day: date, months: int) -> date:
    """The first of the month `months` after day's month."""
    index = day.year * 12 + day.month - 1 + months
    return clamp(date(index // 12, index % 12 + 1, 1))


def build_page(view: str, anchor: date, today: date, zone: str) -> Page:
    """The days of a page (no events yet)."""
    if view not in VIEWS:
        view = "month"
    anchor = clamp(anchor)
    if view == "week":
        first = anchor - timedelta(days=anchor.weekday())
        last = first + timedelta(days=6)
        in_range_first, in_range_last = first, last
        previous, following = clamp(first - timedelta(days=7)), clamp(first + timedelta(days=7))
    else:
        month_first = anchor.replace(day=1)
        month_last = month_first.replace(day=calendar.monthrange(anchor.year, anchor.month)[1])
        in_range_first, in_range_last = month_first, month_last
        if view == "month":  # whole weeks, Monday first
            first = month_first - timedelta(days=month_first.weekday())
            last = month_last + timedelta(days=6 - month_last.weekday())
        else:
            first, last = month_first, month_last
        previous, following = add_months(anchor, -1), add_months(anchor, 1)
    days = []
    current = first
    while current <= last:
        days.append(Day(current, in_range=in_range_first <= current <= in_range_last,
                        is_today=current == today))
        current += timedelta(days=1)
    return Page(view=view, anchor=anchor, first=first, last=last, today=today, zone=zone,
                days=days, previous=previous, following=following)


def place_events(page: Page, events: list[Event]) -> Page:
    """Put each event on every day of the page it covers, in the page's zone."""
    zone = ZoneInfo(page.zone)
    by_day = {d.day: d for d in page.days}
    for event in events:
        start = event.start_at.astimezone(zone)
        end = event.end_at.astimezone(zone)
        # An event that ends at midnight does not cover the day that begins then.
        last_day = (end - timedelta(microseconds=1)).date() if end > start else start.date()
        day = max(start.date(), page.first)
        while day <= min(last_day, page.last):
            by_day[day].events.append(Placed(
                event=event, start=start, end=end,
                continued=day > start.date(), continues=day < last_day))
            day += timedelta(days=1)
    return page
