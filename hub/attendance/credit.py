"""From raw evidence to a status and credit: merging intervals without double counting, and the
credit rule of the event's format. Pure functions over plain values, so that reports, the sheet
and the tests share one definition."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.attendance.models import CreditRule, GrowthRole, Status
from hub.extensions import db
from hub.scheduling.models import EventFormat

#: Roles that run the event: credited for it once it has been held, whatever the evidence.
HOST_ROLES = frozenset({GrowthRole.ORGANISER, GrowthRole.SPEAKER, GrowthRole.MODERATOR,
                        GrowthRole.MENTOR})


@dataclass(frozen=True)
class Rule:
    """A format's credit rule (CreditRule's values, or the defaults)."""

    min_presence_percent: int = 80
    checks_instead: bool = True
    late_minutes: int = 10


DEFAULT_RULE = Rule()


def rules() -> dict[EventFormat, Rule]:
    """Every format's rule (defaults where the coordinator set none)."""
    stored = {row.format: Rule(row.min_presence_percent, row.checks_instead, row.late_minutes)
              for row in db.session.scalars(db.select(CreditRule))}
    return {fmt: stored.get(fmt, DEFAULT_RULE) for fmt in EventFormat}


def merge(intervals: Iterable[tuple[datetime, datetime]], start: datetime,
          end: datetime) -> list[tuple[datetime, datetime]]:
    """The intervals clipped to [start, end] and joined where they overlap or touch."""
    clipped = sorted((max(a, start), min(b, end)) for a, b in intervals)
    merged: list[tuple[datetime, datetime]] = []
    for a, b in clipped:
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


@dataclass(frozen=True)
class Outcome:
    status: Status
    minutes: int
    first_seen: datetime | None
    last_seen: datetime | None
    credited: bool


def evaluate(*, intervals: Iterable[tuple[datetime, datetime]], start: datetime, end: datetime,
             checks_passed: int, required_checks: int, role: GrowthRole, rule: Rule,
             held: bool, override: Status | None = None) -> Outcome:
    """The status and credit of one person at one event.

    - minutes: the merged intervals within the event's time (overlaps count once);
    - credit (only once the event has been held): hosts always; otherwise the presence checks
      when the event requires them and the rule says so, else presence covering at least
      `min_presence_percent` of the event;
    - status: absent without any evidence; late when first seen more than `late_minutes`
      after the start; left early when last seen more than `late_minutes` before the end or
      not credited; present otherwise;
    - the organiser's override (kept apart from the computed status, which is returned)
      decides the credit: present credits, absent and excused do not, late and left early
      keep the computed credit.
    """
    merged = merge(intervals, start, end)
    seconds = sum((b - a).total_seconds() for a, b in merged)
    minutes = round(seconds / 60)
    first = merged[0][0] if merged else None
    last = merged[-1][1] if merged else None
    duration = (end - start).total_seconds()
    if required_checks > 0 and rule.checks_instead:
        earned = checks_passed >= required_checks
    else:
        earned = duration > 0 and seconds * 100 >= rule.min_presence_percent * duration
    is_host = role in HOST_ROLES
    slack = timedelta(minutes=rule.late_minutes)
    if not merged and checks_passed == 0:
        status = Status.PRESENT if is_host and held else Status.ABSENT
    elif first is not None and first > start + slack:
        status = Status.LATE
    elif (last is not None and last < end - slack) or not (earned or is_host):
        status = Status.LEFT_EARLY
    else:
        status = Status.PRESENT
    credited = held and (earned or is_host)
    if override is not None:
        if override == Status.PRESENT:
            credited = held
        elif override in (Status.ABSENT, Status.EXCUSED):
            credited = False
    return Outcome(status, minutes, first, last, credited)
