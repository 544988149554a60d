"""The digital internship: each mentor–intern pair's progress through a program, and the
mentor's confirmation that an intern has completed it.

An intern can complete a program once they were credited for at least the program's
`completion_percent` of ALL its planned sessions (cancelled ones aside), not of those held so
far: completion becomes possible only near the end. The intern's own mentor then confirms; the
program's organisers (whoever may edit its sessions, and the series' creator) may confirm
instead when there is no mentor or the mentor cannot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hub.attendance.models import Attendance, GrowthRole
from hub.auth.permissions import is_municipal
from hub.core.types import utcnow
from hub.directory.models import Person, Role
from hub.extensions import db
from hub.growth.certificates import issue_for_completion
from hub.growth.models import InternshipCompletion
from hub.scheduling.models import (
    Event,
    EventHost,
    EventPerson,
    EventRole,
    EventStatus,
    Series,
    SeriesPerson,
)

#: Longest comment kept with a confirmation (the column's size).
COMMENT_MAX = 1000


class InternshipError(ValueError):
    """A confirmation that cannot be made. Its message is the reason, a key the page words:
    not_intern, not_allowed, already, not_reached."""


class State(Enum):
    """Where a pair stands."""

    IN_PROGRESS = "in_progress"
    OUT_OF_REACH = "out_of_reach"  # too few sessions left to reach the threshold
    READY = "ready"  # threshold reached, waiting for the mentor
    COMPLETED = "completed"


@dataclass(frozen=True)
class Sessions:
    """The program's sessions: planned (not cancelled) and held so far."""

    planned: int
    held: int
    needed: int  # credited sessions an intern needs


@dataclass(frozen=True)
class PairProgress:
    """One mentor–intern pair of a program."""

    intern: Person
    mentor: Person | None
    sessions: Sessions
    credited: int
    mentor_hours: float
    completion: InternshipCompletion | None

    @property
    def percent(self) -> int:
        """Credited sessions as a share of all planned sessions."""
        planned = self.sessions.planned
        return self.credited * 100 // planned if planned else 0

    @property
    def reached(self) -> bool:
        return self.sessions.planned > 0 and self.credited >= self.sessions.needed

    @property
    def state(self) -> State:
        if self.completion is not None:
            return State.COMPLETED
        if self.reached:
            return State.READY
        left = self.sessions.planned - self.sessions.held
        if self.credited + left < self.sessions.needed:
            return State.OUT_OF_REACH
        return State.IN_PROGRESS


def sessions_of(series: Series, now: datetime | None = None) -> Sessions:
    """Count the program's planned and held sessions (held: ended, neither cancelled nor draft)."""
    now = now or utcnow()
    planned = [e for e in series.events if e.status != EventStatus.CANCELLED]
    held = [e for e in planned if e.end_at <= now and e.status != EventStatus.DRAFT]
    needed = math.ceil(len(planned) * series.completion_percent / 100)
    return Sessions(planned=len(planned), held=len(held), needed=max(needed, 1))


def _credited(series: Series, person_ids: set[int]) -> dict[int, int]:
    rows = db.session.execute(
        select(Attendance.person_id, func.count(Attendance.id))
        .where(Attendance.event_id.in_([e.id for e in series.events]),
               Attendance.person_id.in_(person_ids), Attendance.credited.is_(True))
        .group_by(Attendance.person_id))
    return {person_id: count for person_id, count in rows}


def _mentor_hours(series: Series, mentor_ids: set[int]) -> dict[int, float]:
    rows = db.session.execute(
        select(Attendance.person_id, func.sum(Attendance.hours))
        .where(Attendance.event_id.in_([e.id for e in series.events]),
               Attendance.person_id.in_(mentor_ids), Attendance.role == GrowthRole.MENTOR,
               Attendance.credited.is_(True))
        .group_by(Attendance.person_id))
    return {person_id: round(float(hours or 0), 2) for person_id, hours in rows}


def interns_of(series: Series) -> list[SeriesPerson]:
    """The program's interns (with their mentors), by name."""
    members = [m for m in series.cohort if m.role == EventRole.INTERN]
    return sorted(members, key=lambda m: (m.person.search_key or m.person.full_name, m.id))


def progress(series: Series, now: datetime | None = None) -> list[PairProgress]:
    """Every mentor–intern pair of the program, with its numbers (a few queries in all)."""
    sessions = sessions_of(series, now)
    interns = interns_of(series)
    credited = _credited(series, {m.person_id for m in interns})
    hours = _mentor_hours(series, {m.mentor_id for m in interns if m.mentor_id is not None})
    completions = {c.intern_id: c for c in db.session.scalars(
        select(InternshipCompletion).where(InternshipCompletion.series_id == series.id))}
    return [PairProgress(intern=m.person, mentor=m.mentor, sessions=sessions,
                         credited=credited.get(m.person_id, 0),
                         mentor_hours=hours.get(m.mentor_id, 0.0) if m.mentor_id else 0.0,
                         completion=completions.get(m.person_id))
            for m in interns]


# -- who may see and confirm -------------------------------------------------------------------

def can_manage(user: Person, series: Series) -> bool:
    """The program's organisers: whoever may edit one of its sessions (can_edit_event's rule,
    in one query), or created the series."""
    if not user.is_authenticated or not user.active:
        return False
    if series.created_by_id == user.id or is_municipal(user):
        return True
    sessions = select(Event.id).where(Event.series_id == series.id)
    organiser = select(EventPerson.id).where(
        EventPerson.event_id.in_(sessions), EventPerson.person_id == user.id,
        EventPerson.role == EventRole.ORGANISER)
    if db.session.scalar(organiser.limit(1)) is not None:
        return True
    host = select(EventHost.id).where(EventHost.event_id.in_(sessions),
                                      EventHost.organisation_id == user.organisation_id)
    return user.role == Role.ORG_COORDINATOR and db.session.scalar(host.limit(1)) is not None


def sees_all(user: Person, series: Series) -> bool:
    """Every pair: the organisers, the municipal coordinator, and the coordinators of an
    organisation one of the cohort belongs to."""
    if is_municipal(user) or can_manage(user, series):
        return True
    return user.role == Role.ORG_COORDINATOR and any(
        m.person.organisation_id == user.organisation_id for m in series.cohort)


def visible_pairs(user: Person, series: Series, pairs: list[PairProgress]
                  ) -> list[PairProgress]:
    """The pairs `user` may see: all of them, a mentor's own pairs, or an intern's own row."""
    if sees_all(user, series):
        return pairs
    return [p for p in pairs if p.intern.id == user.id
            or (p.mentor is not None and p.mentor.id == user.id)]


def can_view(user: Person, series: Series) -> bool:
    """The progress page at all: a program, and someone who sees at least one pair."""
    if not series.is_program or not user.is_authenticated:
        return False
    return sees_all(user, series) or any(
        m.person_id == user.id or m.mentor_id == user.id for m in series.cohort)


def can_confirm(user: Person, series: Series, member: SeriesPerson) -> bool:
    """The intern's own mentor, or the program's organisers as a fallback."""
    return (member.mentor_id is not None and member.mentor_id == user.id) \
        or can_manage(user, series)


# -- confirming ----------------------------------------------------------------------------------

def member_of(series: Series, intern_id: int) -> SeriesPerson | None:
    """The cohort's intern with this person id, if any."""
    return next((m for m in series.cohort
                 if m.person_id == intern_id and m.role == EventRole.INTERN), None)


def confirm(series: Series, intern: Person, actor: Person, comment: str = "",
            now: datetime | None = None) -> InternshipCompletion:
    """Record that the intern completed the program and issue their completion certificate
    (the caller commits). Raises InternshipError when the actor may not, the threshold is
    not reached, or it is done already."""
    member = member_of(series, intern.id) if series.is_program else None
    if member is None:
        raise InternshipError("not_intern")
    if not can_confirm(actor, series, member):
        raise InternshipError("not_allowed")
    pair = next(p for p in progress(series, now) if p.intern.id == intern.id)
    if pair.completion is not None:
        raise InternshipError("already")
    if not pair.reached:
        raise InternshipError("not_reached")
    completion = InternshipCompletion(
        series=series, intern=intern, mentor_id=member.mentor_id or actor.id,
        attended_percent=pair.percent, confirmed_by_id=actor.id,
        comment=comment.replace("\x00", "").strip()[:COMMENT_MAX], confirmed_at=now or utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(completion)
    except IntegrityError:  # confirmed meanwhile by someone else
        raise InternshipError("already") from None
    issue_for_completion(completion, actor)
    return completion
