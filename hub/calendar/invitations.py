"""Calendar invitations by email: REQUEST, updates and CANCEL (iTIP over iMIP), one letter per
person, built by the outbox worker.

The scheduling side calls, inside the transaction that makes the change (it commits):

    queue_requests(event_or_series, invitations)       newly invited people
    queue_updates(event_or_series)                     after raising .sequence: everyone invited
    queue_cancellations(event_or_series, invitations)  people taken out of the audience
    queue_event_cancelled(event_or_series)             the event (or series) is cancelled

Each call writes one InvitationBatch row and nothing else, so the organiser's page answers at
once whatever the audience. The worker loop (job "calendar.invitations") expands a batch into
one outbox message per person, `BATCH_CHUNK` people per transaction: the chunk's messages, the
invitations' `sent_sequence` and the batch's progress commit together, so a worker that dies
mid-way leaves nothing half-sent and the next one goes on from the last chunk. Batches of the
same event (or series) run one after another, in the order they were made.

An event is one VEVENT with its own UID. An occurrence of a series travels as the series' UID
with RECURRENCE-ID; passing the Series itself sends each person one letter with the whole series
(RRULE, EXDATE for cancelled sessions and those the person is not invited to, overrides for
sessions changed on their own). Invitations to a series are the Invitation rows of its
occurrences; the person's link in the series' master VEVENT is their invitation to the next
session (/j/ and /rsvp/ on it act on the series: see hub/calendar/rsvp.py).

Who gets what, decided when the batch runs (so a batch never sends something stale):
REQUEST goes to invitations still INVITED of an event that is neither a draft nor cancelled;
UPDATE to every INVITED invitation whose last letter had another SEQUENCE; CANCEL to removed
people who had been sent something, and to everyone invited when the event is cancelled.
Deactivated people get nothing.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr

import nh3
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import aliased, selectinload

from hub.calendar import ics
from hub.calendar.messages import (
    absolute,
    greeting_name,
    person_locale,
    short_when,
    times_for,
)
from hub.calendar.models import BatchKind, BatchStatus, InvitationBatch
from hub.core.tokens import derive_token, hash_token, new_nonce
from hub.core.types import utcnow
from hub.directory.models import Person
from hub.extensions import db
from hub.outbox.services import Part, enqueue_email
from hub.scheduling.models import (
    Event,
    EventPerson,
    EventRole,
    EventStatus,
    Invitation,
    InvitationState,
    PartStat,
    Series,
)

log = logging.getLogger(__name__)

#: Token purpose of personal invitation links (/j/<token>, /rsvp/<token>).
TOKEN_PURPOSE = "invitation"
#: People per transaction when a batch is expanded.
BATCH_CHUNK = 100
#: A worker holds a batch this long per chunk before another may take it over.
BATCH_LEASE_SECONDS = 300
#: Tries before a batch is FAILED (its error is kept in last_error).
BATCH_MAX_ATTEMPTS = 5
#: Roles whose ATTENDEE is a CHAIR.
CHAIR_ROLES = frozenset({EventRole.ORGANISER, EventRole.SPEAKER, EventRole.MODERATOR})
#: Longest reminder offset accepted (four weeks).
MAX_REMINDER_MINUTES = 4 * 7 * 24 * 60

Target = Event | Series


# -- tokens and links ------------------------------------------------------------------------


def invitation_token(invitation: Invitation) -> str:
    """The personal token of an invitation (the same in every letter while the nonce stays)."""
    return derive_token(TOKEN_PURPOSE, invitation.nonce)


def issue_token(invitation: Invitation) -> None:
    """Give an invitation a new nonce (revoking the old link) and store its token's hash."""
    invitation.nonce = new_nonce()
    invitation.token_hash = hash_token(invitation_token(invitation))


def new_invitation(event: Event, person: Person, **values: object) -> Invitation:
    """A new Invitation with its token, added to the session (the caller commits)."""
    invitation = Invitation(event=event, person=person, **values)
    issue_token(invitation)
    db.session.add(invitation)
    return invitation


def find_invitation(token: str) -> Invitation | None:
    """The invitation a personal token belongs to, or None (unknown, or revoked)."""
    if not token or len(token) > 200:
        return None
    return db.session.scalar(select(Invitation).where(Invitation.token_hash == hash_token(token)))


def join_url(invitation: Invitation) -> str:
    return absolute(f"/j/{invitation_token(invitation)}")


def rsvp_url(invitation: Invitation, answer: str, *, series: bool = False) -> str:
    scope = "&scope=series" if series else ""
    return absolute(f"/rsvp/{invitation_token(invitation)}?answer={answer}{scope}")


def event_page_url(event: Event) -> str:
    return absolute(f"/events/{event.id}")


def parse_offsets(value: str | None) -> list[int]:
    """Reminder offsets ("1440,60") as minutes, in the order given, without junk or repeats."""
    offsets: list[int] = []
    for part in (value or "").replace(";", ",").split(","):
        part = part.strip()
        if part.isdigit() and 0 < int(part) <= MAX_REMINDER_MINUTES and int(part) not in offsets:
            offsets.append(int(part))
    return offsets


def reminder_offsets(event: Event) -> list[int]:
    """The event's reminder offsets in minutes (Event.reminder_minutes)."""
    return parse_offsets(event.reminder_minutes)


# -- the API used by scheduling --------------------------------------------------------------


def _person_ids(invitation_ids: Iterable[int]) -> list[int]:
    ids = list(invitation_ids)
    if not ids:
        return []
    rows = db.session.execute(select(Invitation.id, Invitation.person_id)
                              .where(Invitation.id.in_(ids))).all()
    person_of = {row.id: row.person_id for row in rows}
    return list(dict.fromkeys(person_of[i] for i in ids if i in person_of))


def _unstarted(kind: BatchKind, series_id: int) -> InvitationBatch | None:
    """The newest batch of this kind for this series that no worker has touched yet."""
    return db.session.scalars(
        select(InvitationBatch).where(
            InvitationBatch.kind == kind, InvitationBatch.series_id == series_id,
            InvitationBatch.status == BatchStatus.PENDING, InvitationBatch.done == 0,
            InvitationBatch.claimed_by == "", InvitationBatch.lease_until.is_(None))
        .order_by(InvitationBatch.id.desc()).limit(1)).first()


def _merge(batch: InvitationBatch, recipients: list[int] | None) -> bool:
    """Make an untouched batch of a series a whole-series batch that also writes to
    `recipients` (person ids; None: everyone, decided when it runs). Compare-and-swap: False
    when a worker took the batch meanwhile."""
    if batch.recipient_ids and recipients is not None:
        current = json.loads(batch.recipient_ids)
        if batch.event_id is not None:  # an occurrence's batch holds invitation ids
            current = _person_ids(current)
        merged: list[int] | None = list(dict.fromkeys([*current, *recipients]))
    else:
        merged = None
    result = db.session.execute(
        update(InvitationBatch)
        .where(InvitationBatch.id == batch.id, InvitationBatch.claimed_by == "",
               InvitationBatch.done == 0, InvitationBatch.status == BatchStatus.PENDING)
        .values(event_id=None, recipient_ids=json.dumps(merged) if merged is not None else "",
                total=len(merged) if merged is not None else None)
        .execution_options(synchronize_session=False))
    if result.rowcount:
        db.session.refresh(batch)
    return bool(result.rowcount)


def _queue(kind: BatchKind, target: Target,
           invitations: Sequence[Invitation] | None) -> InvitationBatch | None:
    """Write the batch (or fold it into an untouched one of the same series).

    An occurrence's REQUEST always becomes a whole-series letter for those people (they see
    the series, with EXDATEs for sessions they are not invited to). Other changes to one
    occurrence travel as that occurrence (RECURRENCE-ID), unless another occurrence of the same
    series already waits with the same kind of change: then one whole-series letter carries
    both (calling once per occurrence never sends a person one letter per session)."""
    db.session.flush()  # new events and invitations need their ids
    if invitations is not None and not invitations:
        return None
    if isinstance(target, Series):
        event_id, series_id = None, target.id
        recipients = (list(dict.fromkeys(i.person_id for i in invitations))
                      if invitations is not None else None)
    elif target.series_id is not None:
        series_id = target.series_id
        people = (list(dict.fromkeys(i.person_id for i in invitations))
                  if invitations is not None else None)
        pending = _unstarted(kind, series_id)
        if pending is not None and (pending.event_id != target.id or kind == BatchKind.REQUEST):
            if pending.event_id is None and pending.recipient_ids == "":
                return pending  # already everyone, decided when it runs
            if _merge(pending, people):
                return pending
        if kind == BatchKind.REQUEST:
            event_id, recipients = None, people
        elif pending is not None and pending.event_id == target.id and invitations is None:
            return pending  # the same change of the same occurrence is already waiting
        else:
            event_id = target.id
            recipients = ([i.id for i in invitations] if invitations is not None else None)
            recipients = list(dict.fromkeys(recipients)) if recipients is not None else None
    else:
        event_id, series_id = target.id, None
        recipients = (list(dict.fromkeys(i.id for i in invitations))
                      if invitations is not None else None)
    batch = InvitationBatch(kind=kind, event_id=event_id, series_id=series_id,
                            recipient_ids=json.dumps(recipients) if recipients is not None
                            else "", total=len(recipients) if recipients is not None else None)
    db.session.add(batch)
    db.session.flush()
    return batch


def queue_requests(target: Target, invitations: Iterable[Invitation]) -> InvitationBatch | None:
    """Invite these people (METHOD:REQUEST). `target` is an Event, an occurrence of a series
    or a Series; for a series (or an occurrence) each person gets one letter with the whole
    series. Returns the batch, or None when there is nobody."""
    invitations = list(invitations)
    for invitation in invitations:
        if not invitation.token_hash:
            issue_token(invitation)
    return _queue(BatchKind.REQUEST, target, invitations)


def queue_updates(target: Target) -> InvitationBatch | None:
    """Send the changed event (same UID, the SEQUENCE already raised by the caller) to everyone
    still invited."""
    return _queue(BatchKind.UPDATE, target, None)


def queue_cancellations(target: Target,
                        invitations: Iterable[Invitation]) -> InvitationBatch | None:
    """People taken out of the audience get a METHOD:CANCEL (of the event, the occurrence, or
    the whole series). Their invitations are marked REMOVED here."""
    invitations = list(invitations)
    for invitation in invitations:
        invitation.state = InvitationState.REMOVED
    return _queue(BatchKind.REMOVED, target, invitations)


def queue_event_cancelled(target: Target) -> InvitationBatch | None:
    """The event (an occurrence, or the whole series) is cancelled: METHOD:CANCEL with
    STATUS:CANCELLED to everyone who was sent the invitation."""
    return _queue(BatchKind.CANCELLED, target, None)


def pending_batches(target: Target) -> int:
    """Batches about this event (or its series) not yet sent: the organiser's page may say
    "invitations are being sent"."""
    db.session.flush()
    if isinstance(target, Series):
        where = InvitationBatch.series_id == target.id
    elif target.series_id is not None:
        where = InvitationBatch.series_id == target.series_id
    else:
        where = InvitationBatch.event_id == target.id
    return len(db.session.scalars(select(InvitationBatch.id).where(
        where, InvitationBatch.status == BatchStatus.PENDING)).all())


# -- building one letter ---------------------------------------------------------------------


@dataclass
class _EventFacts:
    """What every letter about one event shares (computed once per chunk)."""

    organizer: ics.Address | None
    chairs: frozenset[int]
    alarm_minutes: int | None


def _organizer(event: Event) -> ics.Address | None:
    people = sorted(event.people, key=lambda p: p.id)
    organiser = next((p.person for p in people if p.role == EventRole.ORGANISER), None)
    organiser = organiser or event.created_by
    if organiser is None:
        name, email = parseaddr(current_app.config["MAIL_FROM"])
        return ics.Address(email, name) if email else None
    return ics.Address(organiser.email, organiser.full_name)


def _facts(event: Event) -> _EventFacts:
    offsets = reminder_offsets(event)
    return _EventFacts(
        organizer=_organizer(event),
        chairs=frozenset(p.person_id for p in event.people if p.role in CHAIR_ROLES),
        alarm_minutes=offsets[0] if offsets else None,
    )


def _sender() -> str:
    return parseaddr(current_app.config["MAIL_FROM"])[1]


def _labels() -> dict[str, str]:
    """The translated templates of the texts inside a VEVENT, in the current locale (looked
    up once per letter or feed, not once per event)."""
    return {
        "join": _("Join online: %(url)s"),
        "answer": _("Answer the invitation: %(url)s"),
        "page": _("Event page: %(url)s"),
        "conference": _("Join the meeting"),
        "page_label": _("Event page"),
    }


def details_for(event: Event, invitation: Invitation, facts: _EventFacts, *,
                series: bool = False, alarm: bool = True, links: bool = True,
                labels: dict[str, str] | None = None) -> ics.Details:
    """The VEVENT's personal parts for this invitation (call inside force_locale): the person's
    join link in URL, LOCATION and DESCRIPTION (with the RSVP and event page links), the person
    as ATTENDEE with their answer, the alarm."""
    labels = labels or _labels()
    token = invitation_token(invitation)
    link = absolute(f"/j/{token}")
    answer = absolute(f"/rsvp/{token}?answer=accepted" + ("&scope=series" if series else ""))
    lines = [ics.html_to_text(event.description_html)]
    if links:  # not in a CANCEL: the links no longer lead anywhere
        lines += [labels["join"] % {"url": link}, labels["answer"] % {"url": answer}]
    lines.append(labels["page"] % {"url": event_page_url(event)})
    person = invitation.person
    return ics.Details(
        description="\n\n".join(line for line in lines if line),
        url=link,
        attendee=ics.Attendee(
            email=person.email, name=person.full_name,
            role="CHAIR" if person.id in facts.chairs else "REQ-PARTICIPANT",
            partstat=invitation.partstat.ical),
        alarm=(facts.alarm_minutes, event.title) if alarm and facts.alarm_minutes else None,
        conference_label=labels["conference"],
        transparent=invitation.partstat == PartStat.DECLINED,
    )


_MODES = {
    BatchKind.REQUEST: ("request", ics.REQUEST),
    BatchKind.UPDATE: ("update", ics.REQUEST),
    BatchKind.REMOVED: ("removed", ics.CANCEL),
    BatchKind.CANCELLED: ("cancelled", ics.CANCEL),
}


def _subject(mode: str, title: str, when: str, *, series: bool) -> str:
    title = title if len(title) <= 150 else title[:149] + "…"
    if series:
        subjects = {
            "request": _("Invitation to a series: %(title)s, from %(when)s"),
            "update": _("Series updated: %(title)s, from %(when)s"),
            "removed": _("Invitation to a series withdrawn: %(title)s"),
            "cancelled": _("Series cancelled: %(title)s"),
        }
    else:
        subjects = {
            "request": _("Invitation: %(title)s, %(when)s"),
            "update": _("Updated: %(title)s, %(when)s"),
            "removed": _("Invitation withdrawn: %(title)s, %(when)s"),
            "cancelled": _("Cancelled: %(title)s, %(when)s"),
        }
    return subjects[mode] % {"title": title, "when": when}


def _clean_html(markup: str) -> str:
    return nh3.clean(markup or "")


def _letter(person: Person, *, mode: str, method: str, payload: bytes, event: Event,
            invitation: Invitation, series: Series | None, sessions: Sequence[dict],
            kind: str) -> None:
    """Render the text and HTML parts (inside force_locale) and queue the letter."""
    locale = person_locale(person)
    when_event, when_person = times_for(person, event.start_at, event.end_at, event.timezone,
                                        locale)
    context = {
        "mode": mode,
        "name": greeting_name(person),
        "event": event,
        "series": series,
        "sessions": sessions,
        "title": event.title,
        "format_label": event.format.label,
        "when_event": when_event,
        "when_person": when_person,
        "description_text": ics.html_to_text(event.description_html),
        "description_html": _clean_html(event.description_html),
        "join_url": join_url(invitation),
        "event_url": event_page_url(event),
        "rsvp": {answer: rsvp_url(invitation, answer, series=series is not None)
                 for answer in ("accepted", "tentative", "declined")},
        "partstat": invitation.partstat,
        "organizer": _organizer(event),
    }
    subject = _subject(mode, series.title if series is not None else event.title,
                       short_when(event.start_at, ics.event_zone(person.timezone), locale),
                       series=series is not None)
    text = render_template("calendar/email/invitation.txt", **context)
    html = render_template("calendar/email/invitation.html", **context)
    calendar_part = Part(payload, "text", "calendar",
                         params=(("method", method), ("charset", "utf-8")))
    attachment = Part(payload, "application", "ics", filename="invite.ics",
                      params=(("name", "invite.ics"),))
    enqueue_email(formataddr((person.full_name, person.email)), subject, text, html,
                  kind=kind[:100], alternatives=[calendar_part], attachments=[attachment])


def _event_letter(batch: InvitationBatch, event: Event, invitation: Invitation,
                  facts: _EventFacts, now: datetime) -> bool:
    """One person's letter about one event or one occurrence. True when queued."""
    person = invitation.person
    mode, method = _MODES[batch.kind]
    # A CANCEL, to everyone or to one removed attendee, says STATUS:CANCELLED (clients then
    # remove the event or cross it out).
    cancelled = batch.kind in (BatchKind.CANCELLED, BatchKind.REMOVED)
    with force_locale(person_locale(person)):
        details = details_for(event, invitation, facts, links=not cancelled)
        component = ics.event_vevent(event, details, dtstamp=now, organizer=facts.organizer,
                                     sent_by=_sender(), cancelled=cancelled)
        payload = ics.calendar_bytes([component], method=method)
        _letter(person, mode=mode, method=method, payload=payload, event=event,
                invitation=invitation, series=None, sessions=(),
                kind=f"invitation-{mode}:{invitation.id}")
    invitation.sent_sequence = ics.occurrence_sequence(event)
    return True


def _wants_event_letter(kind: BatchKind, event: Event, invitation: Invitation) -> bool:
    if not invitation.person.active or "@" not in (invitation.person.email or ""):
        return False
    if kind == BatchKind.REQUEST:
        return (invitation.state == InvitationState.INVITED
                and event.status not in (EventStatus.DRAFT, EventStatus.CANCELLED))
    if kind == BatchKind.UPDATE:
        return (invitation.state == InvitationState.INVITED
                and event.status not in (EventStatus.DRAFT, EventStatus.CANCELLED)
                and invitation.sent_sequence != ics.occurrence_sequence(event))
    if kind == BatchKind.REMOVED:
        return invitation.state == InvitationState.REMOVED and invitation.sent_sequence is not None
    return invitation.state == InvitationState.INVITED and invitation.sent_sequence is not None


def _series_sessions(series: Series, occurrences: Sequence[Event], invited: set[int],
                     person: Person, locale: str) -> list[dict]:
    sessions = []
    for occurrence in occurrences:
        if occurrence.id not in invited and occurrence.status != EventStatus.CANCELLED:
            continue
        in_event, in_person = times_for(person, occurrence.start_at, occurrence.end_at,
                                        occurrence.timezone, locale)
        sessions.append({"when": in_event, "when_person": in_person,
                         "cancelled": occurrence.status == EventStatus.CANCELLED,
                         "title": occurrence.title if occurrence.title != series.title else ""})
    return sessions


def _series_letter(batch: InvitationBatch, series: Series, occurrences: Sequence[Event],
                   person: Person, invitations: dict[int, Invitation],
                   facts: dict[int, _EventFacts], now: datetime) -> bool:
    """One person's letter about a whole series, saying how the series stands for them now:
    a REQUEST (master, EXDATEs, overrides) while they are invited to a session that is not
    cancelled, else a CANCEL of the whole series if they had been told of it. True when
    queued."""
    if not person.active or "@" not in (person.email or ""):
        return False
    invited = {event_id for event_id, inv in invitations.items()
               if inv.state == InvitationState.INVITED}
    live = [e for e in occurrences if e.id in invited
            and e.status not in (EventStatus.CANCELLED, EventStatus.DRAFT)]
    ever_sent = any(inv.sent_sequence is not None for inv in invitations.values())
    kind = batch.kind
    if live:
        if kind == BatchKind.UPDATE and all(
                invitations[e.id].sent_sequence == ics.occurrence_sequence(e) for e in live):
            return False  # this person already has this version
        mode, method = ("update" if ever_sent else "request"), ics.REQUEST
    else:
        if not ever_sent:
            return False  # never told of the series: nothing to take back
        everything_cancelled = all(e.status == EventStatus.CANCELLED for e in occurrences)
        mode, method = ("cancelled" if everything_cancelled else "removed"), ics.CANCEL
    upcoming = [e for e in live if e.end_at > now] or live
    if upcoming:
        representative_event = upcoming[0]
    else:
        told = [e for e in occurrences if e.id in invitations] or list(occurrences)
        if not told:
            return False
        representative_event = next((e for e in told if e.end_at > now), told[-1])
    representative = invitations.get(representative_event.id) or next(
        iter(invitations.values()))
    locale = person_locale(person)
    with force_locale(locale):
        def describe(event: Event) -> ics.Details:
            invitation = invitations.get(event.id, representative)
            return details_for(event, invitation, facts[event.id], series=True,
                               links=method == ics.REQUEST)

        excluded = [e for e in occurrences if e.id not in invited]
        components = ics.series_vevents(
            series, occurrences, describe, dtstamp=now,
            organizer=facts[representative_event.id].organizer, sent_by=_sender(),
            excluded=excluded, cancelled=method == ics.CANCEL)
        if not components:
            return False
        payload = ics.calendar_bytes(components, method=method)
        sessions = _series_sessions(series, occurrences, invited, person, locale)
        _letter(person, mode=mode, method=method, payload=payload, event=representative_event,
                invitation=representative, series=series, sessions=sessions,
                kind=f"series-{mode}:{series.id}:{person.id}")
    for event in occurrences:
        invitation = invitations.get(event.id)
        if invitation is not None:
            invitation.sent_sequence = ics.occurrence_sequence(event)
    return True


# -- the worker side -------------------------------------------------------------------------


def _load_event(event_id: int) -> Event | None:
    return db.session.scalar(
        select(Event).where(Event.id == event_id).options(
            selectinload(Event.people).selectinload(EventPerson.person),
            selectinload(Event.series), selectinload(Event.created_by)))


def _initial_recipients(batch: InvitationBatch) -> list[int]:
    """Everyone to write to, for UPDATE and CANCELLED batches (frozen when the batch starts)."""
    if batch.event_id is not None:
        query = select(Invitation.id).where(
            Invitation.event_id == batch.event_id,
            Invitation.state == InvitationState.INVITED)
        if batch.kind == BatchKind.CANCELLED:
            query = query.where(Invitation.sent_sequence.is_not(None))
        return list(db.session.scalars(query.order_by(Invitation.id)))
    query = (select(Invitation.person_id, Invitation.id)
             .join(Event, Event.id == Invitation.event_id)
             .where(Event.series_id == batch.series_id,
                    Invitation.state == InvitationState.INVITED))
    if batch.kind == BatchKind.CANCELLED:
        query = query.where(Invitation.sent_sequence.is_not(None))
    rows = db.session.execute(query.order_by(Invitation.id)).all()
    return list(dict.fromkeys(row.person_id for row in rows))


def _send_chunk(batch: InvitationBatch, ids: Sequence[int], now: datetime) -> int:
    """Queue the letters of one chunk of a batch (not committed). Returns how many."""
    queued = 0
    if batch.series_id is not None and batch.event_id is None:
        series = db.session.get(Series, batch.series_id)
        if series is None:
            return 0
        occurrences = list(db.session.scalars(
            select(Event).where(Event.series_id == series.id).options(
                selectinload(Event.people).selectinload(EventPerson.person),
                selectinload(Event.created_by))
            .order_by(Event.original_start, Event.start_at)))
        facts = {e.id: _facts(e) for e in occurrences}
        rows = db.session.scalars(
            select(Invitation).join(Event, Event.id == Invitation.event_id)
            .where(Event.series_id == series.id, Invitation.person_id.in_(list(ids)))
            .options(selectinload(Invitation.person).selectinload(Person.organisation))
        ).all()
        by_person: dict[int, dict[int, Invitation]] = defaultdict(dict)
        people: dict[int, Person] = {}
        for row in rows:
            by_person[row.person_id][row.event_id] = row
            people[row.person_id] = row.person
        for person_id in ids:
            if person_id in people and _series_letter(batch, series, occurrences,
                                                      people[person_id], by_person[person_id],
                                                      facts, now):
                queued += 1
        return queued

    event = _load_event(batch.event_id) if batch.event_id is not None else None
    if event is None:
        return 0
    facts_one = _facts(event)
    rows = db.session.scalars(
        select(Invitation).where(Invitation.id.in_(list(ids)),
                                 Invitation.event_id == event.id)
        .options(selectinload(Invitation.person).selectinload(Person.organisation))).all()
    by_id = {row.id: row for row in rows}
    for invitation_id in ids:
        invitation = by_id.get(invitation_id)
        if invitation is not None and _wants_event_letter(batch.kind, event, invitation):
            queued += _event_letter(batch, event, invitation, facts_one, now)
    return queued


def _claim(now: datetime, worker: str) -> InvitationBatch | None:
    """Take the oldest due batch whose event (or series) has no older batch waiting."""
    older = aliased(InvitationBatch)
    same_target = or_(
        and_(InvitationBatch.series_id.is_not(None), older.series_id == InvitationBatch.series_id),
        and_(InvitationBatch.series_id.is_(None), older.event_id == InvitationBatch.event_id),
    )
    free = or_(InvitationBatch.lease_until.is_(None), InvitationBatch.lease_until < now)
    candidates = db.session.scalars(
        select(InvitationBatch.id)
        .where(InvitationBatch.status == BatchStatus.PENDING, free,
               ~exists(select(older.id).where(older.status == BatchStatus.PENDING,
                                              older.id < InvitationBatch.id, same_target)))
        .order_by(InvitationBatch.id).limit(5)).all()
    for batch_id in candidates:
        result = db.session.execute(
            update(InvitationBatch)
            .where(InvitationBatch.id == batch_id,
                   InvitationBatch.status == BatchStatus.PENDING,
                   or_(InvitationBatch.lease_until.is_(None), InvitationBatch.lease_until < now))
            .values(claimed_by=worker, attempts=InvitationBatch.attempts + 1,
                    lease_until=now + timedelta(seconds=BATCH_LEASE_SECONDS))
            .execution_options(synchronize_session=False))
        db.session.commit()
        if result.rowcount:
            return db.session.get(InvitationBatch, batch_id, populate_existing=True)
    db.session.commit()
    return None


def _advance(batch: InvitationBatch, worker: str, done_before: int,
             values: dict[str, object]) -> bool:
    """Move the batch on if the claim is still ours (compare-and-swap on the progress)."""
    result = db.session.execute(
        update(InvitationBatch)
        .where(InvitationBatch.id == batch.id, InvitationBatch.claimed_by == worker,
               InvitationBatch.done == done_before,
               InvitationBatch.status == BatchStatus.PENDING)
        .values(**values).execution_options(synchronize_session=False))
    return bool(result.rowcount)


def _work(batch: InvitationBatch, worker: str, deadline: float, chunk: int,
          queued: list[int]) -> None:
    """Expand a claimed batch chunk by chunk until it is done or the time is up; adds the
    letters committed to queued[0]."""
    batch_id = batch.id
    if not batch.recipient_ids:
        recipients = _initial_recipients(batch)
        if not _advance(batch, worker, 0, {"recipient_ids": json.dumps(recipients),
                                           "total": len(recipients)}):
            db.session.rollback()
            return
        db.session.commit()
        batch = db.session.get(InvitationBatch, batch_id, populate_existing=True)
    ids = json.loads(batch.recipient_ids)
    done = batch.done
    while True:
        now = utcnow()
        part = ids[done:done + chunk]
        count = _send_chunk(batch, part, now) if part else 0
        finished = done + len(part) >= len(ids)
        values: dict[str, object] = {"done": done + len(part),
                                     "lease_until": now + timedelta(seconds=BATCH_LEASE_SECONDS)}
        if finished:
            values.update(status=BatchStatus.DONE, finished_at=now, lease_until=None,
                          claimed_by="", last_error="")
        if not _advance(batch, worker, done, values):
            db.session.rollback()  # taken over: its letters go with the new owner
            log.warning("calendar: batch #%d was taken over by another worker", batch_id)
            return
        db.session.commit()
        queued[0] += count
        done += len(part)
        if finished:
            return
        if time.monotonic() > deadline:  # give the rest back for the next pass
            db.session.execute(
                update(InvitationBatch)
                .where(InvitationBatch.id == batch_id, InvitationBatch.claimed_by == worker)
                .values(lease_until=None, claimed_by="", attempts=InvitationBatch.attempts - 1)
                .execution_options(synchronize_session=False))
            db.session.commit()
            return
        batch = db.session.get(InvitationBatch, batch_id, populate_existing=True)


def _fail(batch_id: int, worker: str, error: Exception) -> None:
    db.session.rollback()
    batch = db.session.get(InvitationBatch, batch_id, populate_existing=True)
    if batch is None or batch.claimed_by != worker:
        return
    give_up = batch.attempts >= BATCH_MAX_ATTEMPTS
    batch.last_error = f"{type(error).__name__}: {error}"[:1000]
    batch.claimed_by = ""
    if give_up:
        batch.status = BatchStatus.FAILED
        batch.lease_until = None
    else:  # try again later, after a back-off
        batch.lease_until = utcnow() + timedelta(seconds=30 * 2 ** (batch.attempts - 1))
    db.session.commit()


def run_batches(*, budget_seconds: float = 20.0, chunk: int | None = None) -> int:
    """Expand pending invitation batches into outbox messages for about `budget_seconds`
    (the worker loop's job; safe to run in several workers at once). Returns the number of
    letters queued."""
    chunk = chunk or int(current_app.config.get("CALENDAR_BATCH_CHUNK", BATCH_CHUNK))
    deadline = time.monotonic() + budget_seconds
    worker = f"calendar/{secrets.token_hex(6)}"
    queued = [0]
    while time.monotonic() <= deadline:
        batch = _claim(utcnow(), worker)
        if batch is None:
            break
        batch_id = batch.id
        try:
            _work(batch, worker, deadline, chunk, queued)
        except Exception as exc:  # noqa: BLE001 - one broken batch must not stop the others
            log.exception("calendar: invitation batch #%d failed", batch_id)
            _fail(batch_id, worker, exc)
    return queued[0]
