"""The figures of organisations' reports, computed in the database with a few grouped queries
(one per kind of figure, never one per record or per organisation), so that the municipal
report for every organisation stays fast. docs/reports.md defines each figure; in short:

- a period's dates are read in each organisation's own zone (Organisation.timezone, else
  Europe/Moscow): an event is in the period when its start falls from 00:00 of `starts_on` to
  24:00 of `ends_on` there;
- counted events are those not cancelled and not drafts (EVENT_COUNTED);
- events: hosted by the organisation (EventHost), by format and by level;
- participants: the organisation's people with a record that is not absent or excused at any
  counted event, plus guests (records without a person) at the events it hosted;
- teachers / hours: the organisation's teachers with a credited record; credited hours of all
  its people; the share of its active teachers with at least one credited event;
- internship: its interns in programs with sessions in the period, completions confirmed, and
  the average share of the held sessions they were credited for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, and_, case, distinct, func, or_, select

from hub.attendance.models import Attendance, Status
from hub.core.types import utcnow
from hub.directory.models import Organisation, OrgKind, Person, Role
from hub.extensions import db
from hub.growth.models import InternshipCompletion
from hub.scheduling.models import (
    Event,
    EventHost,
    EventRole,
    EventStatus,
    Level,
    Series,
    SeriesPerson,
)

#: The zone of an organisation whose own zone is missing or unknown.
DEFAULT_ZONE = "Europe/Moscow"
#: Event statuses that count (not cancelled, not a draft).
EVENT_COUNTED = (EventStatus.SCHEDULED, EventStatus.COMPLETED)
#: Record statuses that count as taking part (not absent, not excused).
TOOK_PART = (Status.PRESENT, Status.LATE, Status.LEFT_EARLY)


class Span(Protocol):
    """Anything with municipal dates: a ReportPeriod, or a school year."""

    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class Dates:
    """A plain span of dates (a school year on the dashboard)."""

    starts_on: date
    ends_on: date


def zone_of(name: str | None) -> ZoneInfo:
    """The zone by its IANA name, or DEFAULT_ZONE when it is empty or unknown."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def bounds(span: Span, zone: str | None) -> tuple[datetime, datetime]:
    """[00:00 of the first day, 00:00 after the last day) in `zone`, as UTC."""
    tz = zone_of(zone)
    start = datetime.combine(span.starts_on, time(0), tz).astimezone(UTC)
    end = datetime.combine(span.ends_on + timedelta(days=1), time(0), tz).astimezone(UTC)
    return start, end


@dataclass(frozen=True)
class Window:
    """A span's bounds in each zone the organisations use (one query to find them)."""

    per_zone: dict[str, tuple[datetime, datetime]]

    @classmethod
    def of(cls, span: Span) -> Window:
        zones = set(db.session.scalars(select(Organisation.timezone).distinct()))
        return cls({zone: bounds(span, zone) for zone in zones | {DEFAULT_ZONE}})

    def holds(self, start_at: Any, zone_column: Any) -> ColumnElement[bool]:
        """`start_at` falls in the span read in the zone `zone_column` names: one condition
        per zone, inside an outer range that the event-time index serves."""
        lowest = min(lo for lo, _ in self.per_zone.values())
        highest = max(hi for _, hi in self.per_zone.values())
        return and_(start_at >= lowest, start_at < highest, or_(*(
            and_(zone_column == zone, start_at >= lo, start_at < hi)
            for zone, (lo, hi) in self.per_zone.items())))


def reporting_organisations(organisation_ids: Iterable[int] | None = None) -> list[Organisation]:
    """Organisations that report: active and not the education office (or these ones), in
    list order."""
    query = select(Organisation).order_by(Organisation.sort_key, Organisation.id)
    if organisation_ids is None:
        query = query.where(Organisation.active.is_(True),
                            Organisation.kind != OrgKind.EDUCATION_OFFICE)
    else:
        query = query.where(Organisation.id.in_(list(organisation_ids)))
    return list(db.session.scalars(query))


def empty() -> dict[str, Any]:
    """The figures of an organisation with nothing in the period."""
    return {"events": 0, "events_by_format": {}, "events_by_level": {}, "participants": 0,
            "participants_people": 0, "participants_guests": 0, "teachers_credited": 0,
            "credited_records": 0, "hours": 0.0, "active_teachers": 0,
            "active_teachers_credited": 0, "teacher_share_percent": None, "interns": 0,
            "interns_completed": 0, "intern_attendance_percent": None}


def figures(span: Span, organisation_ids: Iterable[int] | None = None,
            now: datetime | None = None) -> dict[int, dict[str, Any]]:
    """Every figure of each organisation (the reporting ones when `organisation_ids` is None)
    for the span, keyed by organisation id; JSON-ready (enum names as keys)."""
    ids = [o.id for o in reporting_organisations(organisation_ids)]
    result: dict[int, dict[str, Any]] = {org_id: empty() for org_id in ids}
    if not ids:
        return result
    window = Window.of(span)
    _events(window, ids, result)
    _people(window, ids, result)
    _guests(window, ids, result)
    _teachers(ids, result)
    _internship(window, ids, result, now or utcnow())
    for row in result.values():
        row["participants"] = row["participants_people"] + row["participants_guests"]
        row["hours"] = round(row["hours"], 2)
        if row["active_teachers"]:
            row["teacher_share_percent"] = round(
                100 * row["active_teachers_credited"] / row["active_teachers"], 1)
    return result


def _events(window: Window, ids: list[int], result: dict[int, dict[str, Any]]) -> None:
    """Events hosted, by format and level (an event has one of each, so the counts add up)."""
    rows = db.session.execute(
        select(EventHost.organisation_id, Event.format, Event.level, func.count(Event.id))
        .join(Event, Event.id == EventHost.event_id)
        .join(Organisation, Organisation.id == EventHost.organisation_id)
        .where(EventHost.organisation_id.in_(ids), Event.status.in_(EVENT_COUNTED),
               window.holds(Event.start_at, Organisation.timezone))
        .group_by(EventHost.organisation_id, Event.format, Event.level))
    for org_id, fmt, level, count in rows:
        row = result[org_id]
        row["events"] += count
        by_format, by_level = row["events_by_format"], row["events_by_level"]
        by_format[fmt.name] = by_format.get(fmt.name, 0) + count
        by_level[Level(level).name] = by_level.get(Level(level).name, 0) + count


def _people(window: Window, ids: list[int], result: dict[int, dict[str, Any]]) -> None:
    """What the organisation's people did at counted events in the span, hosted by anyone."""
    status = func.coalesce(Attendance.override_status, Attendance.computed_status)
    teacher = Person.role == Role.TEACHER
    credited = Attendance.credited.is_(True)
    rows = db.session.execute(
        select(Person.organisation_id,
               func.count(distinct(case((status.in_(TOOK_PART), Person.id)))),
               func.count(distinct(case((and_(credited, teacher), Person.id)))),
               func.count(distinct(case((and_(credited, teacher, Person.active.is_(True)),
                                         Person.id)))),
               func.count(case((credited, Attendance.id))),
               func.coalesce(func.sum(case((credited, Attendance.hours), else_=0.0)), 0.0))
        .select_from(Attendance)
        .join(Event, Event.id == Attendance.event_id)
        .join(Person, Person.id == Attendance.person_id)
        .join(Organisation, Organisation.id == Person.organisation_id)
        .where(Person.organisation_id.in_(ids), Event.status.in_(EVENT_COUNTED),
               window.holds(Event.start_at, Organisation.timezone))
        .group_by(Person.organisation_id))
    for org_id, took_part, teachers, active_teachers, records, hours in rows:
        result[org_id].update(participants_people=took_part, teachers_credited=teachers,
                              active_teachers_credited=active_teachers,
                              credited_records=records, hours=float(hours or 0))


def _guests(window: Window, ids: list[int], result: dict[int, dict[str, Any]]) -> None:
    """Guests (records without a person) who took part in the events each organisation
    hosted: once per event, as nothing recognises a guest across events."""
    status = func.coalesce(Attendance.override_status, Attendance.computed_status)
    rows = db.session.execute(
        select(EventHost.organisation_id, func.count(Attendance.id))
        .select_from(Attendance)
        .join(Event, Event.id == Attendance.event_id)
        .join(EventHost, EventHost.event_id == Event.id)
        .join(Organisation, Organisation.id == EventHost.organisation_id)
        .where(EventHost.organisation_id.in_(ids), Attendance.person_id.is_(None),
               status.in_(TOOK_PART), Event.status.in_(EVENT_COUNTED),
               window.holds(Event.start_at, Organisation.timezone))
        .group_by(EventHost.organisation_id))
    for org_id, count in rows:
        result[org_id]["participants_guests"] = count


def _teachers(ids: list[int], result: dict[int, dict[str, Any]]) -> None:
    """Active teachers of each organisation now."""
    rows = db.session.execute(
        select(Person.organisation_id, func.count(Person.id))
        .where(Person.organisation_id.in_(ids), Person.role == Role.TEACHER,
               Person.active.is_(True))
        .group_by(Person.organisation_id))
    for org_id, count in rows:
        result[org_id]["active_teachers"] = count


def _internship(window: Window, ids: list[int], result: dict[int, dict[str, Any]],
                now: datetime) -> None:
    """Interns in programs with counted sessions in the span: how many, how many completed,
    and the average share of the held sessions (ended by `now`) they were credited for."""
    held = Event.end_at <= now
    rows = db.session.execute(
        select(Person.organisation_id, SeriesPerson.series_id, SeriesPerson.person_id,
               func.count(distinct(case((held, Event.id)))),
               func.count(distinct(case((and_(held, Attendance.credited.is_(True)),
                                         Event.id)))))
        .select_from(SeriesPerson)
        .join(Series, and_(Series.id == SeriesPerson.series_id, Series.is_program.is_(True)))
        .join(Person, Person.id == SeriesPerson.person_id)
        .join(Organisation, Organisation.id == Person.organisation_id)
        .join(Event, and_(Event.series_id == SeriesPerson.series_id,
                          Event.status.in_(EVENT_COUNTED),
                          window.holds(Event.start_at, Organisation.timezone)))
        .outerjoin(Attendance, and_(Attendance.event_id == Event.id,
                                    Attendance.person_id == SeriesPerson.person_id))
        .where(SeriesPerson.role == EventRole.INTERN, Person.organisation_id.in_(ids))
        .group_by(Person.organisation_id, SeriesPerson.series_id, SeriesPerson.person_id)).all()
    if not rows:
        return
    completed = set(tuple(pair) for pair in db.session.execute(
        select(InternshipCompletion.series_id, InternshipCompletion.intern_id)
        .where(InternshipCompletion.series_id.in_({r[1] for r in rows}))))
    shares: dict[int, list[float]] = defaultdict(list)
    for org_id, series_id, person_id, sessions, attended in rows:
        row = result[org_id]
        row["interns"] += 1
        row["interns_completed"] += (series_id, person_id) in completed
        if sessions:
            shares[org_id].append(100 * attended / sessions)
    for org_id, values in shares.items():
        result[org_id]["intern_attendance_percent"] = round(sum(values) / len(values), 1)


def distinct_events(span: Span, organisation_ids: Iterable[int]) -> list[Any]:
    """(id, format, level, start, zone of a host) of each counted event hosted by these
    organisations in the span, each event once (for totals and the dashboard's months)."""
    ids = list(organisation_ids)
    if not ids:
        return []
    rows = db.session.execute(
        select(Event.id, Event.format, Event.level, Event.start_at,
               func.min(Organisation.timezone))
        .join(EventHost, EventHost.event_id == Event.id)
        .join(Organisation, Organisation.id == EventHost.organisation_id)
        .where(EventHost.organisation_id.in_(ids), Event.status.in_(EVENT_COUNTED),
               Window.of(span).holds(Event.start_at, Organisation.timezone))
        .group_by(Event.id, Event.format, Event.level, Event.start_at)
        .order_by(Event.start_at))
    return list(rows)
