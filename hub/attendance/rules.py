"""Saving the credit rules of the event formats, and deriving again the credit of every past
event whose format's rule changed (from the raw intervals, which a rule never rewrites)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from hub.attendance import credit, services
from hub.attendance.models import Attendance, CheckIn, CreditRule
from hub.attendance.signals import send_credited
from hub.conferencing.models import ProviderInterval, Room
from hub.core.types import utcnow
from hub.directory.models import Person
from hub.extensions import db
from hub.scheduling.models import Event, EventFormat

MAX_LATE_MINUTES = 120
#: Past events recomputed together (their records loaded in a few queries).
CHUNK = 100


@dataclass(frozen=True)
class Saved:
    """What saving changed: the formats, the past events derived again, the records whose
    status or credit changed."""

    formats: list[EventFormat]
    events: int
    records: int


def save(wanted: dict[EventFormat, credit.Rule], actor: Person,
         now: datetime | None = None) -> Saved:
    """Store the rules that differ from the current ones and recompute the past events of
    those formats. The caller commits."""
    current = credit.rules()
    changed = [fmt for fmt, rule in wanted.items() if rule != current[fmt]]
    if not changed:
        return Saved([], 0, 0)
    stored = {row.format: row for row in db.session.scalars(
        select(CreditRule).where(CreditRule.format.in_(changed)))}
    for fmt in changed:
        row = stored.get(fmt) or CreditRule(format=fmt)
        rule = wanted[fmt]
        row.min_presence_percent = rule.min_presence_percent
        row.checks_instead = rule.checks_instead
        row.late_minutes = rule.late_minutes
        row.updated_by_id = actor.id
        db.session.add(row)
    db.session.flush()
    events, records = recompute_formats(changed, wanted, now or utcnow())
    return Saved(changed, events, records)


def _state(record: Attendance) -> tuple:
    return (record.computed_status, record.credited, record.hours, record.minutes,
            record.first_seen_at, record.last_seen_at, record.checks_passed)


def recompute_formats(formats: list[EventFormat], rules: dict[EventFormat, credit.Rule],
                      now: datetime) -> tuple[int, int]:
    """Every past event of the formats with records derived again, CHUNK events at a time
    (a few queries per chunk); only the records whose outcome changed are written, and the
    receivers of `credited` hear of the events that had one. Returns (events, records
    changed)."""
    event_ids = list(db.session.scalars(select(Event.id).where(
        Event.format.in_(formats), Event.end_at <= now,
        select(Attendance.id).where(Attendance.event_id == Event.id).exists())
        .order_by(Event.id)))
    changed = 0
    for at in range(0, len(event_ids), CHUNK):
        changed += _recompute_chunk(event_ids[at:at + CHUNK], rules, now)
    return len(event_ids), changed


def _recompute_chunk(event_ids: list[int], rules: dict[EventFormat, credit.Rule],
                     now: datetime) -> int:
    events = {e.id: e for e in db.session.scalars(select(Event).where(Event.id.in_(event_ids)))}
    records = db.session.scalars(select(Attendance).where(Attendance.event_id.in_(event_ids))
                                 .options(selectinload(Attendance.intervals))).all()
    reported = set(db.session.scalars(
        select(Room.event_id).join(ProviderInterval, ProviderInterval.room_id == Room.id)
        .where(Room.event_id.in_(event_ids)).distinct()))
    checks = dict(db.session.execute(
        select(CheckIn.attendance_id, func.count(CheckIn.id)).join(Attendance)
        .where(Attendance.event_id.in_(event_ids)).group_by(CheckIn.attendance_id)).all())
    by_event: dict[int, list[Attendance]] = defaultdict(list)
    touched: set[int] = set()
    changed = 0
    for record in records:
        event = events[record.event_id]
        by_event[event.id].append(record)
        before, stamp = _state(record), record.computed_at
        passed = checks.get(record.id, 0)
        services.derive(record, event, rule=rules[event.format],
                        provider_data=event.id in reported, checks_passed=passed,
                        held=services.held(event, now))
        if _state(record) == before:
            record.computed_at = stamp  # nothing changed: nothing written
        else:
            changed += 1
            touched.add(event.id)
    db.session.flush()
    for event_id in sorted(touched):
        send_credited(events[event_id], by_event[event_id])
    return changed
