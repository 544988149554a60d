"""Saving the credit rules of the event formats, and deriving again the credit of every past
event whose format's rule changed (from the raw intervals, which a rule never rewrites)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from hub.attendance import credit, services
from hub.attendance.models import Attendance, CreditRule
from hub.attendance.signals import send_credited
from hub.core.types import utcnow
from hub.directory.models import Person
from hub.extensions import db
from hub.scheduling.models import Event, EventFormat

MAX_LATE_MINUTES = 120


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
    return record.computed_status, record.credited, record.hours


def recompute_formats(formats: list[EventFormat], rules: dict[EventFormat, credit.Rule],
                      now: datetime) -> tuple[int, int]:
    """Every past event of the formats with records derived again; returns (events, records
    whose status or credit changed)."""
    events = db.session.scalars(select(Event).where(
        Event.format.in_(formats), Event.end_at <= now,
        select(Attendance.id).where(Attendance.event_id == Event.id).exists())).all()
    changed = 0
    for event in events:
        before = {r.id: _state(r) for r in db.session.scalars(
            select(Attendance).where(Attendance.event_id == event.id))}
        records = services.recompute_event(event, rule=rules[event.format], now=now)
        changed += sum(1 for r in records if before.get(r.id) != _state(r))
        send_credited(event, records)
    return len(events), changed
