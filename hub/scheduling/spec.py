"""What an event form (or the CLI, or demo data) asks for, and its checks.

`EventSpec` is the raw request: local date and time in the event's zone, ids of organisations,
networks and people, an optional repeat rule and cohort. `clean_spec()` checks everything it
can before anything is written and returns a `CleanEvent` (UTC instants, sanitised HTML, the
expanded session starts of a series) or raises `SchedulingError` whose ``errors`` map each
wrong field (the event form's field names) to a message for the user.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from hub.auth.permissions import can_host_with
from hub.conferencing import accounts as conferencing
from hub.core.i18n import is_valid_timezone
from hub.directory.models import Network, NetworkMember, Organisation, Person
from hub.directory.validation import InvalidValue, clean_text
from hub.extensions import db
from hub.scheduling import recurrence as rec
from hub.scheduling.models import EventFormat, Level
from hub.scheduling.validation import local_to_utc, parse_reminders, sanitize_description

TITLE_MAX = 300
#: Longest event (a methodical week spans days; a conference two or three).
DURATION_MAX = timedelta(days=31)
CAPACITY_MAX = 100_000
CREDIT_HOURS_MAX = 200.0
#: Presence checks (rotating codes) an event may require.
REQUIRED_CHECKS_MAX = 10
#: An audience beyond this is refused; beyond AUDIENCE_WARN the form asks to confirm.
AUDIENCE_MAX = 10_000
AUDIENCE_WARN = 1_000
#: People × sessions of one series.
SERIES_INVITATIONS_MAX = 100_000
#: How far from today an event may be placed.
YEARS_AHEAD = 5
YEARS_BACK = 2


class SchedulingError(InvalidValue):
    """Input the scheduling services cannot accept; ``errors`` maps fields to messages."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(" ".join(self.errors.values()))


class _Errors(dict[str, str]):
    def check(self, name: str, clean: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return clean(*args, **kwargs)
        except InvalidValue as error:
            self.setdefault(name, str(error))
            return None

    def raise_if_any(self) -> None:
        if self:
            raise SchedulingError(self)


@dataclass
class EventSpec:
    """An event as asked for. Dates and times are local to `timezone`."""

    format: EventFormat | int
    title: str
    timezone: str
    start_date: date
    start_time: time
    end_time: time
    #: None: the same day as the start.
    end_date: date | None = None
    description: str = ""
    host_ids: list[int] = field(default_factory=list)
    network_id: int | None = None
    speaker_ids: list[int] = field(default_factory=list)
    moderator_ids: list[int] = field(default_factory=list)
    audience_organisation_ids: list[int] = field(default_factory=list)
    audience_network_ids: list[int] = field(default_factory=list)
    audience_person_ids: list[int] = field(default_factory=list)
    open_registration: bool = False
    capacity: int | None = None
    credit_hours: float | None = None
    board_enabled: bool = True
    level: Level | int = Level.MUNICIPAL
    required_checks: int = 0
    auto_certificates: bool = True
    reminder_minutes: str = "1440,60"
    #: Conferencing provider key (integrations/conferencing).
    provider: str = "jitsi"
    recurrence: rec.Recurrence | None = None
    is_program: bool = False
    #: A program's cohort: (mentor id, intern id or None).
    cohort: list[tuple[int, int | None]] = field(default_factory=list)


@dataclass
class CleanEvent:
    """A checked EventSpec, ready to be written."""

    format: EventFormat
    title: str
    description_html: str
    timezone: str
    start_at: datetime
    end_at: datetime
    host_ids: list[int]
    network_id: int | None
    speaker_ids: list[int]
    moderator_ids: list[int]
    audience_organisation_ids: list[int]
    audience_network_ids: list[int]
    audience_person_ids: list[int]
    open_registration: bool
    capacity: int | None
    credit_hours: float | None
    board_enabled: bool
    reminder_minutes: str
    level: Level = Level.MUNICIPAL
    required_checks: int = 0
    auto_certificates: bool = True
    provider: str = "jitsi"
    recurrence: rec.Recurrence | None = None
    #: A series: the starts of its sessions (UTC), first_start first.
    starts: list[datetime] = field(default_factory=list)
    is_program: bool = False
    cohort: list[tuple[int, int | None]] = field(default_factory=list)
    #: People the audience reaches (for warnings), counted before saving.
    audience_size: int = 0

    @property
    def duration(self) -> timedelta:
        return self.end_at - self.start_at

    def intervals(self) -> list[tuple[datetime, datetime]]:
        """Every session's (start, end): the one event, or each session of the series."""
        starts = self.starts or [self.start_at]
        return [(s, s + self.duration) for s in starts]


def _ids(values: Iterable[Any]) -> list[int]:
    """Distinct ids in order (bad values are the caller's problem: forms coerce them)."""
    seen: list[int] = []
    for value in values:
        ident = int(value)
        if ident not in seen:
            seen.append(ident)
    return seen


def _existing(model: type, ids: list[int], *, active_only: bool = True) -> set[int]:
    if not ids:
        return set()
    statement = select(model.id).where(model.id.in_(ids))
    if active_only:
        statement = statement.where(model.active.is_(True))
    return set(db.session.scalars(statement))


def count_audience(organisation_ids: Iterable[int], network_ids: Iterable[int],
                   person_ids: Iterable[int], extra_ids: Iterable[int] = ()) -> int:
    """How many active people an audience reaches (one query)."""
    orgs, nets = list(organisation_ids), list(network_ids)
    people = list(set(person_ids) | set(extra_ids))
    conditions = []
    if orgs:
        conditions.append(Person.organisation_id.in_(orgs))
    if nets:
        conditions.append(Person.organisation_id.in_(
            select(NetworkMember.organisation_id).where(NetworkMember.network_id.in_(nets))))
    if people:
        conditions.append(Person.id.in_(people))
    if not conditions:
        return 0
    return db.session.scalar(
        select(func.count(Person.id)).where(Person.active.is_(True), or_(*conditions))) or 0


def clean_spec(spec: EventSpec, actor: Person, *, current_host_ids: Iterable[int] = (),
               current_provider: str | None = None, today: date | None = None) -> CleanEvent:
    """Check an EventSpec (see the module docstring). `actor` is who saves it: an
    organisation coordinator's events are hosted by their organisation. The conferencing
    provider must be set up for a host (or the actor's) organisation, unless it is the one
    the event already has."""
    errors = _Errors()
    today = today or date.today()

    event_format = errors.check("format", _format, spec.format)
    title = errors.check("title", clean_text, spec.title, max_length=TITLE_MAX, required=True,
                         field=_("Title"))
    description = errors.check("description", sanitize_description, spec.description)
    zone = errors.check("timezone", _zone, spec.timezone)
    reminders = errors.check("reminder_minutes", parse_reminders, spec.reminder_minutes)

    start_at = end_at = None
    earliest = today - timedelta(days=366 * YEARS_BACK)
    latest = today + timedelta(days=366 * YEARS_AHEAD)
    end_day = spec.end_date or spec.start_date
    for name, day in (("start_date", spec.start_date), ("end_date", end_day)):
        if not earliest <= day <= latest:
            errors.setdefault(name, _(
                "Choose a date between %(first)s and %(last)s.", first=earliest.isoformat(),
                last=latest.isoformat()))
    if zone and not errors.keys() & {"start_date", "end_date"}:
        start_at = errors.check("start_time", local_to_utc, spec.start_date, spec.start_time,
                                zone, field=_("Start"))
        end_at = errors.check("end_time", local_to_utc, end_day, spec.end_time, zone,
                              field=_("End"))
    if start_at and end_at:
        if end_at <= start_at:
            key = "end_date" if spec.end_date and spec.end_date != spec.start_date else "end_time"
            errors.setdefault(key, _("The end must be after the start."))
        elif end_at - start_at > DURATION_MAX:
            errors.setdefault("end_date", _("An event can last at most %(n)d days.",
                                            n=DURATION_MAX.days))

    host_ids = _ids(spec.host_ids)
    if not host_ids:
        errors.setdefault("hosts", _("Choose at least one host organisation."))
    else:
        known = _existing(Organisation, host_ids, active_only=False)
        active = _existing(Organisation, host_ids)
        current = set(current_host_ids)
        if set(host_ids) - known:
            errors.setdefault("hosts", _("Choose host organisations from the list."))
        elif set(host_ids) - active - current:
            errors.setdefault("hosts", _("A deactivated organisation cannot host new events."))
        elif not can_host_with(actor, host_ids):
            errors.setdefault("hosts", _(
                "Your organisation must be one of the hosts of the events you plan."))

    if spec.provider != current_provider:
        why = conferencing.check_choice(spec.provider, [*host_ids, actor.organisation_id])
        if why is not None:
            errors.setdefault("provider", _("This conferencing service cannot be used: "
                                            "%(why)s.", why=why))

    network_id = spec.network_id
    if network_id is not None and network_id not in _existing(Network, [network_id],
                                                                active_only=False):
        errors.setdefault("network_id", _("Choose a network from the list."))

    speaker_ids = _ids(spec.speaker_ids)
    moderator_ids = _ids(spec.moderator_ids)
    audience_person_ids = _ids(spec.audience_person_ids)
    for name, ids in (("speakers", speaker_ids), ("moderators", moderator_ids),
                      ("audience_people", audience_person_ids)):
        if set(ids) - _existing(Person, ids):
            errors.setdefault(name, _("Some of these people are unknown or deactivated."))
    audience_org_ids = _ids(spec.audience_organisation_ids)
    if set(audience_org_ids) - _existing(Organisation, audience_org_ids, active_only=False):
        errors.setdefault("audience_organisations", _("Choose organisations from the list."))
    audience_net_ids = _ids(spec.audience_network_ids)
    if set(audience_net_ids) - _existing(Network, audience_net_ids, active_only=False):
        errors.setdefault("audience_networks", _("Choose networks from the list."))

    capacity = spec.capacity
    if capacity is not None and not 1 <= capacity <= CAPACITY_MAX:
        errors.setdefault("capacity", _("Places: a number from 1 to %(n)d, or empty for no "
                                        "limit.", n=CAPACITY_MAX))
    credit_hours = spec.credit_hours
    if credit_hours is not None and not 0 <= credit_hours <= CREDIT_HOURS_MAX:
        errors.setdefault("credit_hours", _("Credit hours: from 0 to %(n)d, or empty for the "
                                            "duration.", n=int(CREDIT_HOURS_MAX)))

    level = errors.check("level", _level, spec.level)
    required_checks = spec.required_checks
    if isinstance(required_checks, bool) or not isinstance(required_checks, int) \
            or not 0 <= required_checks <= REQUIRED_CHECKS_MAX:
        errors.setdefault("required_checks", _("Presence checks: a number from 0 to %(max)d.",
                                               max=REQUIRED_CHECKS_MAX))

    cohort = list(spec.cohort)
    if spec.is_program and spec.recurrence is None:
        errors.setdefault("is_program", _("A program is a series: choose how it repeats."))
    if cohort:
        cohort_ids = [i for pair in cohort for i in pair if i is not None]
        if set(cohort_ids) - _existing(Person, cohort_ids):
            errors.setdefault("cohort", _("Some of these people are unknown or deactivated."))
        interns = [intern for _mentor, intern in cohort if intern is not None]
        mentors = {mentor for mentor, _intern in cohort}
        if len(interns) != len(set(interns)):
            errors.setdefault("cohort", _("An intern can have only one mentor."))
        elif mentors & set(interns):
            errors.setdefault("cohort", _("A person cannot be both a mentor and an intern."))

    starts: list[datetime] = []
    if spec.recurrence is not None and start_at is not None and zone:
        try:
            starts = rec.build(spec.recurrence, start_at, zone)
        except InvalidValue as error:
            errors.setdefault("repeat", str(error))

    audience_size = 0
    if not errors:
        extra = [*speaker_ids, *moderator_ids, *(i for pair in cohort for i in pair if i)]
        audience_size = count_audience(audience_org_ids, audience_net_ids,
                                       audience_person_ids, extra)
        if audience_size > AUDIENCE_MAX:
            errors.setdefault("audience_organisations", _(
                "This audience is %(n)d people; at most %(max)d can be invited to one event.",
                n=audience_size, max=AUDIENCE_MAX))
        elif starts and audience_size * len(starts) > SERIES_INVITATIONS_MAX:
            errors.setdefault("repeat", _(
                "This series would send %(total)d personal invitations (%(people)d people, "
                "%(sessions)d sessions); at most %(max)d. Invite fewer people or plan fewer "
                "sessions.", total=audience_size * len(starts), people=audience_size,
                sessions=len(starts), max=SERIES_INVITATIONS_MAX))
    errors.raise_if_any()
    assert event_format is not None and title is not None and zone is not None
    assert start_at is not None and end_at is not None
    return CleanEvent(
        format=event_format, title=title, description_html=description or "", timezone=zone,
        start_at=start_at, end_at=end_at, host_ids=host_ids, network_id=network_id,
        speaker_ids=speaker_ids, moderator_ids=moderator_ids,
        audience_organisation_ids=audience_org_ids, audience_network_ids=audience_net_ids,
        audience_person_ids=audience_person_ids, open_registration=bool(spec.open_registration),
        capacity=capacity, credit_hours=credit_hours, board_enabled=bool(spec.board_enabled),
        reminder_minutes=reminders or "", provider=spec.provider, recurrence=spec.recurrence,
        level=level, required_checks=required_checks,
        auto_certificates=bool(spec.auto_certificates),
        starts=starts, is_program=bool(spec.is_program) and spec.recurrence is not None,
        cohort=cohort, audience_size=audience_size)


def _format(value: Any) -> EventFormat:
    try:
        return EventFormat(int(value))
    except (TypeError, ValueError):
        raise InvalidValue(_("Choose a format from the list.")) from None


def _level(value: Any) -> Level:
    try:
        return Level(int(value))
    except (TypeError, ValueError):
        raise InvalidValue(_("Choose a level from the list.")) from None


def _zone(value: str | None) -> str:
    name = (value or "").strip()
    if not name or len(name) > 64 or not is_valid_timezone(name):
        raise InvalidValue(_("Choose a time zone from the list."))
    return name
