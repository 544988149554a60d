"""Recording attendance evidence and keeping each person's record up to date.

Every function here changes the session and leaves the commit to its caller. After new
evidence, `recompute(record)` derives the record's minutes, status and credit again
(hub/attendance/credit.py); `recompute_event` does it for a whole event (after a rule change,
a provider import, when the sheet is shown, or when the event is finalised). The evidence
that streams in during a meeting (join clicks, presence reports) is only stored: its records
are derived when somebody looks, and when the event is finalised."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from hub.attendance import credit
from hub.attendance.models import (
    Attendance,
    AttendanceInterval,
    AttendanceLog,
    CheckIn,
    GrowthRole,
    Source,
    Status,
)
from hub.conferencing.models import ProviderInterval, ProviderReport, Room
from hub.core.types import utcnow
from hub.directory.models import Person
from hub.extensions import db
from hub.scheduling.models import (
    Event,
    EventStatus,
    Invitation,
    InvitationState,
    SeriesPerson,
)

#: A presence report keeps the page counted as open this long (the page reports every minute).
PRESENCE_GRACE = timedelta(seconds=90)


# -- records -----------------------------------------------------------------------------------

def role_of(event: Event, person_id: int) -> GrowthRole:
    """The most prominent part the person has in the event: their part in the event, else
    their part in the program's cohort, else participant."""
    parts = [GrowthRole(int(p.role)) for p in event.people if p.person_id == person_id]
    if not parts and event.series is not None and event.series.is_program:
        parts = [GrowthRole(int(m.role)) for m in event.series.cohort
                 if m.person_id == person_id]
    return min(parts, default=GrowthRole.PARTICIPANT)


def record_of(event: Event, person: Person) -> Attendance:
    """The person's record for the event, made on first use (safe against a concurrent maker)."""
    found = db.session.scalar(select(Attendance).where(
        Attendance.event_id == event.id, Attendance.person_id == person.id))
    if found is not None:
        return found
    record = Attendance(event_id=event.id, person_id=person.id, role=role_of(event, person.id))
    try:
        with db.session.begin_nested():
            db.session.add(record)
    except IntegrityError:  # made meanwhile by another request
        return db.session.scalars(select(Attendance).where(
            Attendance.event_id == event.id, Attendance.person_id == person.id)).one()
    return record


def add_guest(event: Event, name: str, email: str, actor: Person) -> Attendance:
    """A guest without an account, added by the organiser (merged into a person later)."""
    record = Attendance(event_id=event.id, guest_name=name.strip()[:300],
                        guest_email=email.strip().lower()[:254])
    db.session.add(record)
    db.session.flush()
    _log(record, actor, "guest", f"{record.guest_name} <{record.guest_email}>")
    return record


def merge_guest(record: Attendance, person: Person, actor: Person) -> Attendance:
    """Move a guest's evidence into the person's record (made if needed) and drop the guest."""
    event = record.event
    target = record_of(event, person)
    for interval in list(record.intervals):
        interval.attendance = target
    for check in db.session.scalars(select(CheckIn).where(CheckIn.attendance_id == record.id)):
        if db.session.scalar(select(CheckIn.id).where(CheckIn.round_id == check.round_id,
                                                     CheckIn.attendance_id == target.id)):
            db.session.delete(check)
        else:
            check.attendance_id = target.id
    if record.override_status is not None and target.override_status is None:
        target.override_status = record.override_status
        target.override_reason = record.override_reason
        target.override_by_id, target.override_at = record.override_by_id, record.override_at
    _log(target, actor, "merge", f"{record.guest_name} <{record.guest_email}>")
    db.session.flush()
    db.session.delete(record)
    db.session.flush()
    recompute(target)
    return target


def set_override(record: Attendance, status: Status | None, reason: str,
                 actor: Person) -> None:
    """The organiser's mark (None clears it), with who, when and why."""
    record.override_status = status
    record.override_reason = reason.strip()[:500] if status is not None else ""
    record.override_by_id = actor.id if status is not None else None
    record.override_at = utcnow() if status is not None else None
    _log(record, actor, "override",
         f"{status.name if status is not None else 'cleared'}: {reason.strip()[:400]}")
    recompute(record)


def _log(record: Attendance, actor: Person | None, action: str, detail: str) -> None:
    db.session.add(AttendanceLog(event_id=record.event_id, attendance_id=record.id,
                                 actor_id=actor.id if actor else None, action=action,
                                 detail=detail))


# -- evidence ----------------------------------------------------------------------------------

def join_window(event: Event, opens_before: timedelta) -> tuple[datetime, datetime]:
    """When the personal join link lets people in: from `opens_before` the start to the end."""
    return event.start_at - opens_before, event.end_at


def record_join(invitation: Invitation, *, ip: str, user_agent: str, client_key: str,
                now: datetime | None = None) -> Attendance:
    """A click on the personal join link inside its window. The same browser clicking again
    while its join is open adds nothing; a second browser while the first one's join is open
    flags the record (a link shared or used from two places at once)."""
    now = now or utcnow()
    record = record_of(invitation.event, invitation.person)
    open_joins = db.session.scalars(select(AttendanceInterval).where(
        AttendanceInterval.attendance_id == record.id,
        AttendanceInterval.source == Source.JOIN_LINK,
        AttendanceInterval.ended_at.is_(None)).with_for_update()).all()
    if any(i.client_key == client_key for i in open_joins):
        return record
    if open_joins:
        record.shared_link = True
    record.intervals.append(AttendanceInterval(
        source=Source.JOIN_LINK, started_at=now, ip=ip[:64], user_agent=user_agent[:300],
        client_key=client_key[:64]))
    db.session.flush()
    return record


def record_presence(record: Attendance, *, client_key: str, ip: str, user_agent: str,
                    now: datetime | None = None) -> None:
    """A page of the event (the event page, its board) reports that it is open: extend this
    browser's running presence interval, or start one."""
    now = now or utcnow()
    running = db.session.scalar(select(AttendanceInterval).where(
        AttendanceInterval.attendance_id == record.id,
        AttendanceInterval.source == Source.PRESENCE,
        AttendanceInterval.client_key == client_key[:64],
        AttendanceInterval.ended_at >= now - timedelta(seconds=5)).order_by(
        AttendanceInterval.ended_at.desc()).limit(1))
    if running is not None:
        running.ended_at = now + PRESENCE_GRACE
    else:
        record.intervals.append(AttendanceInterval(
            source=Source.PRESENCE, started_at=now,
            ended_at=now + PRESENCE_GRACE, ip=ip[:64], user_agent=user_agent[:300],
            client_key=client_key[:64]))
    db.session.flush()


def record_manual(record: Attendance, started_at: datetime, ended_at: datetime, note: str,
                  actor: Person) -> None:
    """An interval the organiser enters (e.g. a participant who was in the room by phone)."""
    record.intervals.append(AttendanceInterval(
        source=Source.ORGANISER, started_at=started_at, ended_at=ended_at,
        note=note.strip()[:500], created_by_id=actor.id))
    _log(record, actor, "interval", f"{started_at.isoformat()}–{ended_at.isoformat()} {note}")
    db.session.flush()
    recompute(record)


def import_provider(event: Event) -> int:
    """Bring the providers' stored attendance of the event's rooms into the records: each raw
    row once (matched to a person by our key or email when it was stored; else a guest record
    by the name and email the provider gave). Intervals whose raw row is gone (a fetch replaced
    by a newer one) are dropped first. Returns the intervals imported."""
    touched: dict[int, Attendance] = {record.id: record for record in _drop_orphans(event)}
    rows = db.session.execute(
        select(ProviderInterval, Person).join(ProviderReport)
        .join(Room, Room.id == ProviderInterval.room_id)
        .outerjoin(Person, Person.id == ProviderInterval.person_id)
        .where(Room.event_id == event.id)
        .where(~select(AttendanceInterval.id).where(
            AttendanceInterval.provider_interval_id == ProviderInterval.id).exists())).all()
    guests: dict[tuple[str, str], Attendance] = {}
    for raw, person in rows:
        if raw.joined_at is None:
            continue
        if person is not None:
            record = record_of(event, person)
        else:
            key = ((raw.email or "").lower(), raw.name or "")
            record = guests.get(key) or _guest_record(event, *key)
            guests[key] = record
        record.intervals.append(AttendanceInterval(
            source=Source.PROVIDER, started_at=raw.joined_at,
            ended_at=raw.left_at or event.end_at, provider_interval_id=raw.id,
            note=(raw.name or "")[:500]))
        touched[record.id] = record
    db.session.flush()
    for record in touched.values():
        recompute(record)
    return sum(1 for raw, _ in rows if raw.joined_at is not None)


def _drop_orphans(event: Event) -> list[Attendance]:
    """Remove the event's imported intervals whose raw provider row is gone; returns their
    records."""
    orphans = list(db.session.scalars(
        select(AttendanceInterval).join(Attendance)
        .where(Attendance.event_id == event.id, AttendanceInterval.source == Source.PROVIDER)
        .where(~select(ProviderInterval.id).where(
            ProviderInterval.id == AttendanceInterval.provider_interval_id).exists())))
    records = [interval.attendance for interval in orphans]
    for interval, record in zip(orphans, records, strict=True):
        record.intervals.remove(interval)
    db.session.flush()
    return records


def _guest_record(event: Event, email: str, name: str) -> Attendance:
    found = db.session.scalar(select(Attendance).where(
        Attendance.event_id == event.id, Attendance.person_id.is_(None),
        Attendance.guest_email == email[:254], Attendance.guest_name == name[:300]))
    if found is not None:
        return found
    record = Attendance(event_id=event.id, guest_name=name[:300] or email[:300],
                        guest_email=email[:254])
    db.session.add(record)
    db.session.flush()
    return record


# -- deriving ----------------------------------------------------------------------------------

def _has_provider_data(event_id: int) -> bool:
    return db.session.scalar(select(ProviderInterval.id).join(
        Room, Room.id == ProviderInterval.room_id).where(Room.event_id == event_id).limit(1)) \
        is not None


def spans(intervals: list[AttendanceInterval], event: Event,
          provider_data: bool) -> list[tuple[datetime, datetime]]:
    """The time each interval stands for. A join with nothing after it stands until the end of
    the event (the hub cannot see inside the conference), unless the conference provider
    reported who was in the room: then its report says how long people stayed, and joins
    count only their moment."""
    result = []
    for interval in intervals:
        end = interval.ended_at
        if end is None:
            end = interval.started_at if provider_data else max(event.end_at,
                                                                 interval.started_at)
        result.append((interval.started_at, end))
    return result


def recompute(record: Attendance, *, rule: credit.Rule | None = None,
              provider_data: bool | None = None, now: datetime | None = None) -> None:
    """Derive the record's minutes, status and credit from its evidence."""
    event = record.event
    if provider_data is None:
        provider_data = _has_provider_data(event.id)
    checks = db.session.scalar(select(db.func.count(CheckIn.id)).where(
        CheckIn.attendance_id == record.id)) or 0
    derive(record, event, rule=rule or credit.rules()[event.format],
           provider_data=provider_data, checks_passed=checks, held=held(event, now or utcnow()))


def derive(record: Attendance, event: Event, *, rule: credit.Rule, provider_data: bool,
           checks_passed: int, held: bool) -> None:
    """Evaluate the record by the rule (hub/attendance/credit.py) and store the outcome: the
    one place every recomputation goes through."""
    outcome = credit.evaluate(
        intervals=spans(record.intervals, event, provider_data), start=event.start_at,
        end=event.end_at, checks_passed=checks_passed, required_checks=event.required_checks,
        role=record.role, rule=rule, held=held, override=record.override_status)
    record.computed_status = outcome.status
    record.minutes = outcome.minutes
    record.first_seen_at, record.last_seen_at = outcome.first_seen, outcome.last_seen
    record.checks_passed = checks_passed
    record.credited = outcome.credited
    record.hours = round(event.hours, 2) if outcome.credited else 0.0
    record.computed_at = utcnow()


def held(event: Event, now: datetime) -> bool:
    """Whether the event has taken place (ended, and neither cancelled nor a draft)."""
    return event.end_at <= now and event.status not in (EventStatus.CANCELLED,
                                                          EventStatus.DRAFT)


def ensure_records(event: Event) -> None:
    """A record for everyone expected at the event: the invited, the people with a part and a
    program's cohort (so that the absent show as absent)."""
    expected = {i.person_id for i in event.invitations if i.state == InvitationState.INVITED}
    expected |= {p.person_id for p in event.people}
    if event.series is not None and event.series.is_program:
        expected |= {m.person_id for m in db.session.scalars(select(SeriesPerson).where(
            SeriesPerson.series_id == event.series_id))}
    have = set(db.session.scalars(select(Attendance.person_id).where(
        Attendance.event_id == event.id, Attendance.person_id.is_not(None))))
    for person_id in sorted(expected - have):
        db.session.add(Attendance(event_id=event.id, person_id=person_id,
                                  role=role_of(event, person_id)))
    db.session.flush()


def recompute_event(event: Event, *, rule: credit.Rule | None = None,
                    now: datetime | None = None) -> list[Attendance]:
    """Every record of the event derived again (one query for the evidence)."""
    rule = rule or credit.rules()[event.format]
    provider_data = _has_provider_data(event.id)
    records = list(db.session.scalars(select(Attendance).where(
        Attendance.event_id == event.id).options(selectinload(Attendance.intervals))))
    checks: dict[int, int] = defaultdict(int)
    for attendance_id, count in db.session.execute(
            select(CheckIn.attendance_id, db.func.count(CheckIn.id))
            .join(Attendance).where(Attendance.event_id == event.id)
            .group_by(CheckIn.attendance_id)):
        checks[attendance_id] = count
    taken_place = held(event, now or utcnow())
    for record in records:
        derive(record, event, rule=rule, provider_data=provider_data,
               checks_passed=checks[record.id], held=taken_place)
    return records


def finalise(event: Event, now: datetime | None = None) -> list[Attendance]:
    """After the event: import what providers reported, make the missing records and derive
    every record (idempotent: run again after late reports)."""
    import_provider(event)
    ensure_records(event)
    return recompute_event(event, now=now)
