"""A person's professional-growth record for a period: the events they attended with role,
status and credited hours, the totals by format, role, level and month, their certificates.

Plain functions over the session (two queries for a portfolio), so that views, exports and
reports share one definition of the period and the sums."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select

from hub.attendance.models import Attendance, GrowthRole, Status
from hub.auth.permissions import is_coordinator_of, is_municipal
from hub.directory.models import Person, Role
from hub.extensions import db
from hub.growth.models import Certificate
from hub.scheduling.models import Event, EventFormat, EventStatus, Level

#: The longest period a portfolio covers (a whole attestation cycle is five years).
MAX_DAYS = 5 * 366 + 1
#: The years a period may start or end in.
MIN_YEAR, MAX_YEAR = 2000, 2100
#: Statuses that mean the person was there.
ATTENDED = frozenset({Status.PRESENT, Status.LATE, Status.LEFT_EARLY})


class PeriodError(ValueError):
    """The period asked for is not a valid one; the message says why."""


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both days included, in the person's zone."""

    start: date
    end: date

    def bounds(self, zone: str) -> tuple[datetime, datetime]:
        """[start 00:00, the day after end 00:00) in `zone`, as UTC."""
        tz = ZoneInfo(zone)
        begin = datetime.combine(self.start, time(), tz)
        finish = datetime.combine(self.end + timedelta(days=1), time(), tz)
        return begin.astimezone(UTC), finish.astimezone(UTC)

    def months(self) -> list[date]:
        """The first day of every month the period touches."""
        months, day = [], self.start.replace(day=1)
        while day <= self.end:
            months.append(day)
            day = (day + timedelta(days=32)).replace(day=1)
        return months


def school_year(day: date) -> Period:
    """The school year (1 September – 31 August) that `day` falls in."""
    first = day.year if day.month >= 9 else day.year - 1
    return Period(date(first, 9, 1), date(first + 1, 8, 31))


def today_in(zone: str, now: datetime | None = None) -> date:
    """The date in `zone` now."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(zone)).date()


def _parse_day(text: str, which: str) -> date:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(_("The %(which)s date %(value)s is not a date: use YYYY-MM-DD, "
                            "e.g. 2026-09-01.", which=which, value=text[:20])) from None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise PeriodError(_("Choose dates between %(first)d and %(last)d.", first=MIN_YEAR,
                            last=MAX_YEAR))
    return day


def parse_period(start: str | None, end: str | None, zone: str,
                 now: datetime | None = None) -> Period:
    """The period from the query's ?from=&to= (YYYY-MM-DD); either missing is taken from the
    current school year in `zone`. Raises PeriodError with a message for the user."""
    default = school_year(today_in(zone, now))
    begin = _parse_day(start, _("start")) if start and start.strip() else default.start
    finish = _parse_day(end, _("end")) if end and end.strip() else default.end
    if finish < begin:
        raise PeriodError(_("The period ends before it starts."))
    if (finish - begin).days > MAX_DAYS:
        raise PeriodError(_("The period is too long: choose at most five years."))
    return Period(begin, finish)


@dataclass(frozen=True)
class Entry:
    """One event of the portfolio."""

    attendance_id: int
    event_id: int
    title: str
    format: EventFormat
    level: Level
    role: GrowthRole
    status: Status
    credited: bool
    hours: float
    day: date


@dataclass(frozen=True)
class Group:
    """A line of a breakdown: what (a format, role or level, or a month's first day), how many
    credited events, how many hours."""

    key: object
    events: int
    hours: float


@dataclass
class Summary:
    """The totals of a portfolio's entries."""

    events: int = 0
    credited_events: int = 0
    hours: float = 0.0
    by_format: list[Group] = field(default_factory=list)
    by_role: list[Group] = field(default_factory=list)
    by_level: list[Group] = field(default_factory=list)
    by_month: list[Group] = field(default_factory=list)


@dataclass
class Portfolio:
    """Everything the page and the exports show."""

    person: Person
    period: Period
    zone: str
    entries: list[Entry]
    summary: Summary
    certificates: list[Certificate]


def entries_for(person_id: int, period: Period, zone: str) -> list[Entry]:
    """The person's records of held or scheduled events starting in the period (in `zone`),
    where they were there or earned credit (or were excused); oldest first. One query."""
    begin, finish = period.bounds(zone)
    rows = db.session.execute(
        select(Attendance.id, Attendance.role, Attendance.computed_status,
               Attendance.override_status, Attendance.credited, Attendance.hours,
               Event.id, Event.title, Event.format, Event.level, Event.start_at)
        .join(Event, Event.id == Attendance.event_id)
        .where(Attendance.person_id == person_id, Event.start_at >= begin,
               Event.start_at < finish,
               Event.status.in_([EventStatus.SCHEDULED, EventStatus.COMPLETED]))
        .order_by(Event.start_at, Event.id))
    tz = ZoneInfo(zone)
    entries = []
    for (record_id, role, computed, override, credited, hours, event_id, title, fmt, level,
         start_at) in rows:
        status = override if override is not None else computed
        if not credited and status not in ATTENDED and status != Status.EXCUSED:
            continue
        entries.append(Entry(record_id, event_id, title, fmt, level, role, status, credited,
                             round(hours if credited else 0.0, 2),
                             start_at.astimezone(tz).date()))
    return entries


def _groups(entries: list[Entry], key: str, order: list) -> list[Group]:  # type: ignore[type-arg]
    """Credited events and hours per value of the entries' `key`, in `order`, skipping none."""
    counts: dict[object, int] = defaultdict(int)
    hours: dict[object, float] = defaultdict(float)
    for entry in entries:
        if entry.credited:
            value = getattr(entry, key) if key != "month" else entry.day.replace(day=1)
            counts[value] += 1
            hours[value] += entry.hours
    return [Group(value, counts[value], round(hours[value], 2)) for value in order
            if key == "month" or counts[value]]


def summarise(entries: list[Entry], period: Period) -> Summary:
    """Totals and breakdowns (credited events and hours) of the entries."""
    credited = [e for e in entries if e.credited]
    return Summary(
        events=len(entries), credited_events=len(credited),
        hours=round(sum(e.hours for e in credited), 2),
        by_format=_groups(entries, "format", list(EventFormat)),
        by_role=_groups(entries, "role", list(GrowthRole)),
        by_level=_groups(entries, "level", list(Level)),
        by_month=_groups(entries, "month", period.months()))


def certificates_for(person_id: int, period: Period) -> list[Certificate]:
    """The person's certificates dated in the period, oldest first. One query."""
    return list(db.session.scalars(
        select(Certificate).where(Certificate.person_id == person_id,
                                  Certificate.held_on >= period.start,
                                  Certificate.held_on <= period.end)
        .order_by(Certificate.held_on, Certificate.id)))


def portfolio_of(person: Person, period: Period) -> Portfolio:
    """The person's portfolio for the period, in their zone."""
    zone = person.timezone
    entries = entries_for(person.id, period, zone)
    return Portfolio(person, period, zone, entries, summarise(entries, period),
                     certificates_for(person.id, period))


def can_view_portfolio(user: Person, person: Person) -> bool:
    """The person, coordinators of their organisation, the municipal coordinator."""
    if not user.is_authenticated:
        return False
    return (user.id == person.id or is_municipal(user)
            or is_coordinator_of(user, person.organisation_id))


def colleagues_of(user: Person) -> list[Person]:
    """The people whose portfolios an organisation coordinator picks from: the active people of
    their organisation, by surname (one query). Others get none: a region has too many people
    for a list, so the municipal coordinator opens /people/<id>/portfolio."""
    if user.role != Role.ORG_COORDINATOR:
        return []
    return list(db.session.scalars(select(Person).where(
        Person.organisation_id == user.organisation_id, Person.active.is_(True))
        .order_by(Person.search_key, Person.id)))
