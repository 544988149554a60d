"""Operations on events and series: plain functions over ``db.session``.

As in the directory: they check what they are given (hub.scheduling.spec), change rows and
flush, and **never commit**; bad input raises SchedulingError (``errors`` maps the event form's
field names to messages) before anything is written. Emails to invitees go through
hub.scheduling.notify, in the same transaction, and only for scheduled events::

    event = create_event(organiser, EventSpec(format=EventFormat.WEBINAR, title="…",
                         timezone="Asia/Yekaterinburg", start_date=date(2026, 10, 6),
                         start_time=time(15), end_time=time(16, 30), host_ids=[org.id],
                         audience_network_ids=[net.id]), publish=True)
    db.session.commit()

A series (a repeat rule in the spec) is stored as a Series and one Event per session (see
hub.scheduling.models). Editing a session of a series has a scope:

- ``Scope.ONE``: that session alone; it becomes ``detached`` and keeps its original_start (its
  RECURRENCE-ID) and the series' UID.
- ``Scope.FOLLOWING``: this session and the later ones. The series is split: the old one ends
  (UNTIL) just before this session, a new series (a new UID) starts with it. Editing the first
  session this way is the same as ``Scope.ALL``.
- ``Scope.ALL``: every session that has not ended. Changes of content (title, description,
  people, audience…) are made in place; a change of time or of the rule rewrites the sessions
  from the first upcoming one (in place when none has ended yet, else by a split, so that past
  sessions stay as they were held).

When sessions are rewritten they are matched to the new rule's dates: a session on the same
local date is kept (with its invitations, answers and, if it was cancelled, its cancellation);
the others are reused in order for the new dates, and any left over are cancelled.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import Select, and_, false, or_, select, true
from sqlalchemy.orm import aliased, selectinload

from hub.auth.permissions import is_municipal
from hub.conferencing import rooms
from hub.core.types import utcnow
from hub.directory.models import NetworkMember, Person, Role
from hub.directory.validation import InvalidValue
from hub.extensions import db
from hub.scheduling import notify
from hub.scheduling import recurrence as rec
from hub.scheduling.audience import fill_from_waiting_list, sync_invitations
from hub.scheduling.conflicts import Conflict, find_conflicts, network_member_ids
from hub.scheduling.models import (
    Event,
    EventAudience,
    EventFormat,
    EventHost,
    EventPerson,
    EventRole,
    EventStatus,
    Invitation,
    InvitationState,
    Series,
    SeriesPerson,
    new_uid,
)
from hub.scheduling.spec import (
    AUDIENCE_WARN,
    CleanEvent,
    EventSpec,
    SchedulingError,
    clean_spec,
)
from hub.scheduling.validation import local_to_utc

__all__ = [
    "Scope", "SchedulingError", "EventSpec", "create_event", "update_event", "publish_event",
    "cancel_event", "complete_event", "warnings_for", "visible_events", "has_part_in",
]

#: Changes that make the invitation say something else: SEQUENCE goes up, invitees are told.
NOTIFY_FIELDS = frozenset({"start_at", "end_at", "timezone", "title", "description_html",
                           "provider", "format"})
#: Roles the event form manages (organisers, mentors and interns are kept as they are).
FORM_ROLES = (EventRole.SPEAKER, EventRole.MODERATOR)


class Scope(enum.StrEnum):
    """Which sessions of a series an edit or a cancellation is for."""

    ONE = "one"
    FOLLOWING = "following"
    ALL = "all"


# --- writing fields -------------------------------------------------------------------------

_SIMPLE_FIELDS = ("format", "title", "description_html", "timezone", "network_id",
                  "open_registration", "capacity", "credit_hours", "board_enabled",
                  "reminder_minutes", "provider", "level", "required_checks",
                  "auto_certificates")


def _write(event: Event, clean: CleanEvent, start_at: datetime, end_at: datetime) -> set[str]:
    """Set the event's fields and its hosts, people and audience; return what changed."""
    changed: set[str] = set()
    for name in _SIMPLE_FIELDS:
        value = getattr(clean, name)
        if getattr(event, name) != value:
            setattr(event, name, value)
            changed.add(name)
    for name, value in (("start_at", start_at), ("end_at", end_at)):
        if getattr(event, name) != value:
            setattr(event, name, value)
            changed.add(name)
    if _sync_hosts(event, clean.host_ids):
        changed.add("hosts")
    if _sync_people(event, {(pid, EventRole.SPEAKER) for pid in clean.speaker_ids}
                    | {(pid, EventRole.MODERATOR) for pid in clean.moderator_ids}):
        changed.add("people")
    if _sync_audience(event, clean):
        changed.add("audience")
    return changed


def _sync_hosts(event: Event, ids: list[int]) -> bool:
    current = {h.organisation_id: h for h in event.hosts}
    wanted = set(ids)
    for org_id, host in current.items():
        if org_id not in wanted:
            event.hosts.remove(host)
    for org_id in ids:
        if org_id not in current:
            event.hosts.append(EventHost(organisation_id=org_id))
    return set(current) != wanted


def _sync_people(event: Event, wanted: set[tuple[int, EventRole]]) -> bool:
    current = {(p.person_id, p.role): p for p in event.people if p.role in FORM_ROLES}
    for key, row in current.items():
        if key not in wanted:
            event.people.remove(row)
    for person_id, role in sorted(wanted - current.keys()):
        event.people.append(EventPerson(person_id=person_id, role=role))
    return set(current) != wanted


def _audience_key(item: EventAudience) -> tuple[str, int]:
    if item.organisation_id is not None:
        return ("organisation", item.organisation_id)
    if item.network_id is not None:
        return ("network", item.network_id)
    return ("person", item.person_id or 0)


def _sync_audience(event: Event, clean: CleanEvent) -> bool:
    wanted = ([("organisation", i) for i in clean.audience_organisation_ids]
              + [("network", i) for i in clean.audience_network_ids]
              + [("person", i) for i in clean.audience_person_ids])
    current = {_audience_key(a): a for a in event.audience}
    for key, row in current.items():
        if key not in set(wanted):
            event.audience.remove(row)
    for kind, ident in wanted:
        if (kind, ident) not in current:
            event.audience.append(EventAudience(**{f"{kind}_id": ident}))
    return set(current) != set(wanted)


def _write_cohort(series: Series, cohort: list[tuple[int, int | None]]) -> bool:
    """Mentor and intern rows of a program (one row per person)."""
    wanted: dict[int, tuple[EventRole, int | None]] = {}
    for mentor, intern in cohort:
        wanted.setdefault(mentor, (EventRole.MENTOR, None))
        if intern is not None:
            wanted[intern] = (EventRole.INTERN, mentor)
    current = {m.person_id: m for m in series.cohort}
    changed = False
    for person_id, member in current.items():
        if person_id not in wanted:
            series.cohort.remove(member)
            changed = True
        elif (member.role, member.mentor_id) != wanted[person_id]:
            member.role, member.mentor_id = wanted[person_id]
            changed = True
    for person_id, (role, mentor_id) in wanted.items():
        if person_id not in current:
            series.cohort.append(SeriesPerson(person_id=person_id, role=role,
                                              mentor_id=mentor_id))
            changed = True
    return changed


def _after_change(event: Event, changed: set[str]) -> None:
    """Tell the invitees of a scheduled event (or of one session, on its own) what changed:
    new and removed people, then an update (a higher SEQUENCE) when what the invitation says
    changed."""
    if event.status != EventStatus.SCHEDULED:
        return
    told = bool(changed & NOTIFY_FIELDS)
    if told:
        event.sequence += 1
    db.session.flush()
    sync_invitations(event)
    if told and event.end_at > utcnow():
        notify.updates(event)
    if changed & {"capacity", "open_registration"}:
        fill_from_waiting_list(event)


def _invited_people(series: Series) -> set[int]:
    return set(db.session.scalars(
        select(Invitation.person_id).join(Invitation.event)
        .where(Event.series_id == series.id, Invitation.state == InvitationState.INVITED)))


def _sync_series(series: Series, sessions: Iterable[Event], *, told: bool) -> int:
    """Bring the invitations of `sessions` in line with their audiences and tell people about
    the series as a whole: newcomers get the series' REQUEST, people out of every session its
    CANCEL, everyone else an update when `told` (SEQUENCE raised) or when they were added to
    sessions. Returns the number of new invitations."""
    sessions = [s for s in sessions if s.status == EventStatus.SCHEDULED]
    if not sessions:
        return 0
    db.session.flush()
    before = _invited_people(series)
    new: list[Invitation] = []
    removed: list[Invitation] = []
    for session in sessions:
        added, gone = sync_invitations(session, send=False)
        new += added
        removed += gone
    newcomers = [i for i in new if i.person_id not in before]
    notify.requests(series, newcomers)
    notify.cancellations(series, removed)
    if told or len(newcomers) < len(new):
        notify.updates(series)
    return len(new)


def _organisers(event: Event) -> list[int]:
    return [p.person_id for p in event.people if p.role == EventRole.ORGANISER]


def _new_event(clean: CleanEvent, start_at: datetime, *, organiser_ids: Iterable[int],
               created_by_id: int | None, status: EventStatus,
               series: Series | None = None) -> Event:
    event = Event(status=status, created_by_id=created_by_id, format=clean.format,
                  title=clean.title, timezone=clean.timezone, start_at=start_at,
                  end_at=start_at + clean.duration)
    if series is not None:
        event.series = series
        event.uid = series.uid
        event.original_start = start_at
    _write(event, clean, start_at, start_at + clean.duration)
    for person_id in dict.fromkeys(organiser_ids):
        event.people.append(EventPerson(person_id=person_id, role=EventRole.ORGANISER))
    db.session.add(event)
    return event


# --- creating -------------------------------------------------------------------------------

def check(actor: Person, spec: EventSpec, event: Event | None = None,
          scope: Scope = Scope.ONE) -> CleanEvent:
    """Check a spec for a new event or a change of `event` (in `scope`), writing nothing:
    what create_event and update_event will accept (pass it to them as `clean`)."""
    if event is not None and event.series_id is not None and scope == Scope.ONE:
        spec.recurrence, spec.is_program, spec.cohort = None, False, []
    current_hosts = [h.organisation_id for h in event.hosts] if event is not None else []
    return clean_spec(spec, actor, current_host_ids=current_hosts,
                      current_provider=event.provider if event is not None else None)


def create_event(actor: Person, spec: EventSpec, *, publish: bool = False,
                 clean: CleanEvent | None = None) -> Event:
    """A new event (or a new series: then its first session) organised by `actor`, as a draft
    or, with `publish`, scheduled with its invitations sent. `clean`: check() already ran."""
    clean = clean or check(actor, spec)
    if clean.recurrence is not None:
        series = _new_series(clean, created_by_id=actor.id)
        events = [_new_event(clean, start, organiser_ids=[actor.id], created_by_id=actor.id,
                             status=EventStatus.DRAFT, series=series)
                  for start in clean.starts]
    else:
        events = [_new_event(clean, clean.start_at, organiser_ids=[actor.id],
                             created_by_id=actor.id, status=EventStatus.DRAFT)]
    db.session.flush()
    if publish:
        _publish(events)
    return events[0]


def _new_series(clean: CleanEvent, *, created_by_id: int | None, uid: str | None = None,
                rule: str | None = None, starts: list[datetime] | None = None) -> Series:
    assert clean.recurrence is not None
    starts = starts or clean.starts
    series = Series(title=clean.title, rrule=rule or clean.recurrence.to_rrule(clean.timezone),
                    timezone=clean.timezone, first_start=starts[0],
                    duration_minutes=_minutes(clean.duration), is_program=clean.is_program,
                    created_by_id=created_by_id, uid=uid or new_uid())
    _write_cohort(series, clean.cohort if clean.is_program else [])
    db.session.add(series)
    return series


def _minutes(duration: timedelta) -> int:
    return int(duration.total_seconds() // 60)


# --- status ---------------------------------------------------------------------------------

def _publish(events: Iterable[Event]) -> int:
    """Schedule drafts and send their invitations (a series' sessions: one letter a person)."""
    drafts = [e for e in events if e.status == EventStatus.DRAFT]
    for event in drafts:
        event.status = EventStatus.SCHEDULED
    db.session.flush()
    _rooms_follow(drafts)
    if drafts and drafts[0].series is not None:
        return _sync_series(drafts[0].series, drafts, told=False)
    return sum(len(sync_invitations(event)[0]) for event in drafts)


def _rooms_follow(events: Iterable[Event]) -> None:
    """Ask for, update or remove the events' conference rooms (hub.conferencing.rooms)."""
    for event in events:
        rooms.reconcile(event)


def publish_event(event: Event) -> int:
    """Schedule a draft and send its invitations (a series: every draft session). Returns the
    number of invitations made."""
    if event.status != EventStatus.DRAFT:
        raise SchedulingError({"status": _("Only a draft can be published.")})
    targets = [event]
    if event.series is not None:
        targets = [e for e in event.series.events if e.status == EventStatus.DRAFT]
    return _publish(targets)


def cancel_event(event: Event, scope: Scope = Scope.ONE) -> list[Event]:
    """Cancel an event, or sessions of its series (this one, the following ones, or every
    session that has not ended). Invitees of scheduled sessions are told; the rows stay (with
    their history). Returns the sessions cancelled."""
    if event.status in (EventStatus.CANCELLED, EventStatus.COMPLETED) and scope == Scope.ONE:
        raise SchedulingError({"status": _("This event is already %(status)s.",
                                           status=event.status.label.lower())})
    now = utcnow()
    series = event.series
    if series is None or scope == Scope.ONE:
        targets = [event]
    else:
        since = event.original_start or event.start_at
        targets = [e for e in series.events if e.end_at > now and (
            scope == Scope.ALL or (e.original_start or e.start_at) >= since)]
    cancelled = [t for t in targets
                 if t.status in (EventStatus.DRAFT, EventStatus.SCHEDULED)]
    was_scheduled = [t for t in cancelled if t.status == EventStatus.SCHEDULED]
    for target in cancelled:
        target.status = EventStatus.CANCELLED
    db.session.flush()
    _rooms_follow(cancelled)
    if not was_scheduled:
        return cancelled
    if series is None or scope == Scope.ONE:
        for target in was_scheduled:
            target.sequence += 1
            db.session.flush()
            if target.end_at > now:
                notify.event_cancelled(target)
    elif all(e.status == EventStatus.CANCELLED for e in series.events):
        series.sequence += 1
        db.session.flush()
        notify.event_cancelled(series)
    else:  # sessions held (or kept) remain: the series goes out again, cancelled ones excluded
        series.sequence += 1
        db.session.flush()
        notify.updates(series)
    return cancelled


def complete_event(event: Event) -> None:
    """Mark a scheduled event that has started as held."""
    if event.status != EventStatus.SCHEDULED:
        raise SchedulingError({"status": _("Only a scheduled event can be marked as held.")})
    if event.start_at > utcnow():
        raise SchedulingError({"status": _("An event can be marked as held once it has "
                                           "started.")})
    event.status = EventStatus.COMPLETED
    db.session.flush()


# --- editing --------------------------------------------------------------------------------

def update_event(actor: Person, event: Event, spec: EventSpec, scope: Scope = Scope.ONE, *,
                 clean: CleanEvent | None = None) -> Event:
    """Change an event (for a session of a series: in `scope`, see the module docstring).
    A single event given a repeat rule becomes the first session of a new series (same UID).
    Returns the edited event as it is now. `clean`: check() already ran."""
    edited = _update(actor, event, spec, scope, clean)
    db.session.flush()
    _rooms_follow(edited.series.events if edited.series is not None else [edited])
    return edited


def _update(actor: Person, event: Event, spec: EventSpec, scope: Scope,
            clean: CleanEvent | None) -> Event:
    if event.status == EventStatus.CANCELLED:
        raise SchedulingError({"status": _("A cancelled event cannot be changed.")})
    clean = clean or check(actor, spec, event, scope)
    if event.series_id is None:
        if clean.recurrence is None:
            _after_change(event, _write(event, clean, clean.start_at, clean.end_at))
            return event
        return _make_series(event, clean)
    if scope == Scope.ONE:
        changed = _write(event, clean, clean.start_at, clean.end_at)
        if changed:
            event.detached = True
        _after_change(event, changed)
        return event
    if clean.recurrence is None:
        raise SchedulingError({"repeat": _(
            "Choose how the series repeats, or change this session alone.")})
    return _rewrite_series(event, clean, scope)


def _make_series(event: Event, clean: CleanEvent) -> Event:
    """A single event becomes the first session of a series with its UID."""
    series = _new_series(clean, created_by_id=event.created_by_id, uid=event.uid)
    # The series' master VEVENT replaces the event's: its SEQUENCE must be higher.
    series.sequence = event.sequence + 1
    event.series, event.sequence = series, 0
    event.original_start = event.start_at
    db.session.flush()
    return _rewrite(series, [event], event, clean, clean.starts, clean.duration, split=False)


def _wall(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def _rewrite_series(event: Event, clean: CleanEvent, scope: Scope) -> Event:
    series = event.series
    assert series is not None and clean.recurrence is not None
    now = utcnow()
    sessions = sorted(series.events, key=lambda e: (e.original_start or e.start_at, e.id))
    if scope == Scope.ALL:
        upcoming = [e for e in sessions if e.end_at > now]
        if not upcoming:
            raise SchedulingError({"scope": _(
                "Every session of this series is over: change them one at a time.")})
        pivot = upcoming[0]
    else:
        if event.end_at <= now:
            raise SchedulingError({"scope": _(
                "This session is over: change it alone, or change all upcoming sessions.")})
        pivot = event
    pivot_start = pivot.original_start or pivot.start_at
    earlier = [e for e in sessions if (e.original_start or e.start_at) < pivot_start]
    later = [e for e in sessions if (e.original_start or e.start_at) >= pivot_start]

    # The form shows `event`; its change of wall-clock time (and date) moves every session.
    zone = clean.timezone
    shift = _wall(clean.start_at, zone) - _wall(event.start_at, event.timezone)
    try:
        first = local_to_utc((_wall(pivot_start, series.timezone) + shift).date(),
                             (_wall(pivot_start, series.timezone) + shift).time(), zone,
                             field=_("Start"))
    except InvalidValue as error:
        raise SchedulingError({"start_time": str(error)}) from None
    duration = clean.duration
    if duration == event.end_at - event.start_at:
        duration = timedelta(minutes=series.duration_minutes)
    rule = clean.recurrence.to_rrule(zone)
    try:
        starts = rec.expand(rule, first, zone)
    except InvalidValue as error:
        raise SchedulingError({"repeat": str(error)}) from None

    # Sessions cancelled because an earlier change of the rule dropped them come back if the
    # new rule has their date again; sessions cancelled one by one stay cancelled.
    try:
        ruled = set(rec.expand(series.rrule, series.first_start, series.timezone))
    except InvalidValue:
        ruled = set()
    dropped = {e.id for e in later
               if e.status == EventStatus.CANCELLED and e.original_start not in ruled}
    # Sessions already cancelled off the rule's dates do not count as a difference.
    wanted = set(starts)
    same_times = (wanted <= {e.original_start for e in later}
                  and all(e.status == EventStatus.CANCELLED for e in later
                          if e.original_start not in wanted)
                  and duration == timedelta(minutes=series.duration_minutes)
                  and zone == series.timezone)
    split = bool(earlier) and (scope == Scope.FOLLOWING or not same_times)
    if same_times and not split:
        cohort_changed = _write_cohort(series, clean.cohort if clean.is_program else [])
        series.title, series.is_program = clean.title, clean.is_program
        changed: set[str] = set()
        for session in later:
            changed |= _write(session, clean, session.start_at, session.end_at)
        told = bool(changed & NOTIFY_FIELDS)
        if told:
            series.sequence += 1
        db.session.flush()
        if changed or cohort_changed:
            _sync_series(series, later, told=told)
        if "capacity" in changed or "open_registration" in changed:
            for session in later:
                fill_from_waiting_list(session)
        return event

    if split:  # UNTIL is inclusive: the last session kept
        series.rrule = rec.with_end(series.rrule,
                                    until=earlier[-1].original_start or earlier[-1].start_at)
        series.sequence += 1
        target = _new_series(clean, created_by_id=series.created_by_id, rule=rule,
                             starts=starts)
        target.duration_minutes = _minutes(duration)
        db.session.flush()
    else:
        target = series
        series.rrule, series.first_start, series.timezone = rule, starts[0], zone
        series.duration_minutes = _minutes(duration)
        series.title, series.is_program = clean.title, clean.is_program
        _write_cohort(series, clean.cohort if clean.is_program else [])
        series.sequence += 1
    return _rewrite(target, later, event, clean, starts, duration, split=split,
                    old_series=series if split else None, dropped=dropped)


def _rewrite(target: Series, sessions: list[Event], edited: Event, clean: CleanEvent,
             starts: list[datetime], duration: timedelta, *, split: bool,
             old_series: Series | None = None, dropped: set[int] = frozenset()) -> Event:
    """Give `sessions` the new `starts` in `target` (see the module docstring: same local date
    kept, others reused in order, leftovers cancelled, missing ones created), then tell people:
    after a split the old series goes out again (ended by its UNTIL) and the new one is sent as
    a new invitation; in place, the series goes out as an update."""
    zone = ZoneInfo(target.timezone)

    def day(moment: datetime) -> object:
        return moment.astimezone(zone).date()

    by_day = {day(s.original_start or s.start_at): s for s in sessions}
    pairs: list[tuple[Event, datetime, bool]] = []  # (session, new start, same date)
    unmatched: list[datetime] = []
    for start in starts:
        session = by_day.pop(day(start), None)
        if session is None:
            unmatched.append(start)
        else:
            pairs.append((session, start, True))
    leftovers = sorted(by_day.values(), key=lambda s: (s.original_start or s.start_at, s.id))
    reused = min(len(leftovers), len(unmatched))
    pairs += [(session, start, False)
              for session, start in zip(leftovers, unmatched, strict=False)]
    extra_sessions, extra_starts = leftovers[reused:], unmatched[reused:]

    live = [s for s in sessions if s.status != EventStatus.CANCELLED]
    status = (EventStatus.DRAFT if live and all(s.status == EventStatus.DRAFT for s in live)
              else EventStatus.SCHEDULED)
    organisers = _organisers(edited) or [p for s in sessions for p in _organisers(s)]
    for session, start, same_day in pairs:
        if session.status == EventStatus.CANCELLED and (not same_day or session.id in dropped):
            session.status = status
        session.series, session.uid = target, target.uid
        _write(session, clean, start, start + duration)
        session.original_start, session.detached = start, False
    for session in extra_sessions:
        if session.status in (EventStatus.DRAFT, EventStatus.SCHEDULED):
            session.status = EventStatus.CANCELLED
    for start in extra_starts:
        _new_event(clean, start, organiser_ids=organisers, created_by_id=edited.created_by_id,
                   status=status, series=target)
    db.session.flush()
    db.session.refresh(target, ["events"])

    if status == EventStatus.SCHEDULED:
        if split and old_series is not None:
            notify.updates(old_series)  # its RRULE now ends before the moved sessions
            moved = [s for s in target.events if s.status == EventStatus.SCHEDULED]
            for session in moved:
                sync_invitations(session, send=False)
            invitations = [i for s in moved for i in s.invitations
                           if i.state == InvitationState.INVITED]
            for invitation in invitations:
                invitation.sent_sequence = None
            notify.requests(target, invitations)  # the sessions now travel under a new UID
        else:
            _sync_series(target, target.events, told=True)
        if clean.open_registration:
            for session in target.events:
                fill_from_waiting_list(session)
    if edited.series_id == target.id and edited.status != EventStatus.CANCELLED:
        return edited
    ordered = sorted(target.events, key=lambda e: e.start_at)
    return next((e for e in ordered if e.status != EventStatus.CANCELLED), ordered[0])


# --- warnings -------------------------------------------------------------------------------

@dataclass
class Warnings:
    """What the organiser should know before sending invitations (none of it blocks)."""

    conflicts: list[Conflict] = field(default_factory=list)
    audience_size: int = 0
    over_capacity: bool = False

    @property
    def large_audience(self) -> bool:
        return self.audience_size > AUDIENCE_WARN

    def __bool__(self) -> bool:
        return bool(self.conflicts) or self.large_audience or self.over_capacity


def warnings_for(actor: Person, clean: CleanEvent, event: Event | None = None,
                 scope: Scope = Scope.ONE) -> Warnings:
    """Conflicts of the people and organisations involved, and a large audience."""
    organisers = {actor.id} if event is None else set(_organisers(event))
    people = set(clean.speaker_ids) | set(clean.moderator_ids) | organisers
    organisations = (set(clean.host_ids) | set(clean.audience_organisation_ids)
                     | network_member_ids(clean.audience_network_ids))
    intervals = clean.intervals()
    if event is not None and event.series_id is not None and scope == Scope.ONE:
        intervals = [(clean.start_at, clean.end_at)]
    conflicts = find_conflicts(
        intervals, person_ids=people, organisation_ids=organisations,
        exclude_event_ids=[event.id] if event is not None else [],
        exclude_series_id=event.series_id if event is not None else None)
    return Warnings(conflicts=conflicts, audience_size=clean.audience_size,
                    over_capacity=clean.capacity is not None
                    and clean.audience_size > clean.capacity)


def conflicts_of(event: Event) -> list[Conflict]:
    """Current conflicts of a saved event (shown to its organisers on its page)."""
    if event.status not in (EventStatus.DRAFT, EventStatus.SCHEDULED):
        return []
    people = {p.person_id for p in event.people}
    organisations = ({h.organisation_id for h in event.hosts}
                     | {a.organisation_id for a in event.audience if a.organisation_id}
                     | network_member_ids(a.network_id for a in event.audience
                                          if a.network_id))
    return find_conflicts([(event.start_at, event.end_at)], person_ids=people,
                          organisation_ids=organisations, exclude_event_ids=[event.id])


# --- who sees what --------------------------------------------------------------------------

def _part_in(user: Person):  # type: ignore[no-untyped-def]
    """Events `user` is invited to, has a part in, or that concern their organisation."""
    ea = EventAudience
    return or_(
        Event.id.in_(select(Invitation.event_id).where(
            Invitation.person_id == user.id, Invitation.state != InvitationState.REMOVED)),
        Event.id.in_(select(EventPerson.event_id).where(EventPerson.person_id == user.id)),
        Event.id.in_(select(EventHost.event_id).where(
            EventHost.organisation_id == user.organisation_id)),
        Event.id.in_(select(ea.event_id).where(ea.organisation_id == user.organisation_id)),
        Event.id.in_(select(ea.event_id).join(NetworkMember,
                                              NetworkMember.network_id == ea.network_id)
                     .where(NetworkMember.organisation_id == user.organisation_id)),
        Event.series_id.in_(select(SeriesPerson.series_id).where(
            SeriesPerson.person_id == user.id)),
    )


def _editable(user: Person):  # type: ignore[no-untyped-def]
    if is_municipal(user):
        return true()
    conditions = [Event.id.in_(select(EventPerson.event_id).where(
        EventPerson.person_id == user.id, EventPerson.role == EventRole.ORGANISER))]
    if user.role == Role.ORG_COORDINATOR:
        conditions.append(Event.id.in_(select(EventHost.event_id).where(
            EventHost.organisation_id == user.organisation_id)))
    return or_(*conditions)


def visibility(user: Person):  # type: ignore[no-untyped-def]
    """A WHERE clause on Event: what `user` may see (hub.auth.permissions.can_view_event)."""
    if not user.is_authenticated or not user.active:
        return false()
    if is_municipal(user):
        return true()
    return or_(_editable(user), and_(Event.status != EventStatus.DRAFT,
                                     or_(Event.open_registration.is_(True), _part_in(user))))


def has_part_in(user: Person, event: Event) -> bool:
    """Invited to, with a part in, or concerning their organisation (one query)."""
    db.session.flush()
    return db.session.scalar(select(Event.id).where(Event.id == event.id,
                                                    _part_in(user))) is not None


def visible_events(user: Person, *, past: bool = False, event_format: EventFormat | None = None,
                   organisation_id: int | None = None, network_id: int | None = None,
                   mine: bool = False) -> Select[tuple[Event]]:
    """Events `user` may see, upcoming (soonest first) or past (latest first), filtered."""
    now = utcnow()
    statement = (select(Event).where(visibility(user))
                 .options(selectinload(Event.hosts).selectinload(EventHost.organisation)))
    if past:
        statement = statement.where(Event.end_at <= now).order_by(Event.start_at.desc(),
                                                                   Event.id.desc())
    else:
        statement = statement.where(Event.end_at > now).order_by(Event.start_at, Event.id)
    if event_format is not None:
        statement = statement.where(Event.format == event_format)
    if organisation_id is not None:
        statement = statement.where(Event.id.in_(select(EventHost.event_id).where(
            EventHost.organisation_id == organisation_id)))
    if network_id is not None:
        statement = statement.where(or_(
            Event.network_id == network_id,
            Event.id.in_(select(EventAudience.event_id).where(
                EventAudience.network_id == network_id))))
    if mine:
        statement = statement.where(or_(_part_in(user), _editable(user))
                                    if not is_municipal(user) else
                                    or_(_part_in(user), Event.created_by_id == user.id))
    return statement


def partner_organisation_ids(organisation_id: int) -> set[int]:
    """The organisation and every organisation it shares a network association with."""
    member = aliased(NetworkMember)
    partners = set(db.session.scalars(
        select(NetworkMember.organisation_id)
        .join(member, member.network_id == NetworkMember.network_id)
        .where(member.organisation_id == organisation_id)))
    return partners | {organisation_id}


def series_sessions(series: Series) -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.series_id == series.id)
                                   .order_by(Event.start_at, Event.id)))
