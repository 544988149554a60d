"""Answers to invitations from the email, without signing in (/rsvp/<token>?answer=…).

The letter's links only open a page with a confirm button; the answer is recorded by its POST.
Mail scanners (Microsoft Safe Links, antivirus gateways, Gmail's image proxy) fetch every link
of a letter, all three answers included: recording on GET would leave whichever came last.

An answer given from a series letter (scope=series) applies to every session of the series
still to come to which the person is invited; from an event's letter, to that event only.
Declined people get no reminders; the answer shows in the PARTSTAT of later letters and feeds.
A decline frees a place: on an event with a capacity the first in its waiting line moves in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from hub.core.types import utcnow
from hub.extensions import db
from hub.scheduling.audience import fill_from_waiting_list
from hub.scheduling.models import Event, EventStatus, Invitation, InvitationState, PartStat

#: The answers a link may carry, as the ?answer= values.
ANSWERS: dict[str, PartStat] = {
    "accepted": PartStat.ACCEPTED,
    "tentative": PartStat.TENTATIVE,
    "declined": PartStat.DECLINED,
}


def parse_answer(value: str | None) -> PartStat | None:
    return ANSWERS.get((value or "").strip().lower())


def answer_key(partstat: PartStat) -> str | None:
    return next((key for key, value in ANSWERS.items() if value == partstat), None)


def why_closed(invitation: Invitation, now: datetime | None = None) -> str | None:
    """Why this invitation cannot be answered now ("cancelled", "ended"), or None."""
    now = now or utcnow()
    event = invitation.event
    if event.status == EventStatus.CANCELLED:
        return "cancelled"
    if event.end_at <= now and not _later_sessions(invitation, now):
        return "ended"
    return None


def _later_sessions(invitation: Invitation, now: datetime) -> list[Invitation]:
    """The person's invitations to sessions of the same series that have not ended."""
    event = invitation.event
    if event.series_id is None:
        return []
    return list(db.session.scalars(
        select(Invitation).join(Event, Event.id == Invitation.event_id)
        .where(Event.series_id == event.series_id,
               Invitation.person_id == invitation.person_id,
               Invitation.state == InvitationState.INVITED,
               Event.status != EventStatus.CANCELLED, Event.end_at > now)
        .order_by(Event.start_at)))


def covered(invitation: Invitation, *, series: bool, now: datetime | None = None
            ) -> list[Invitation]:
    """The invitations an answer applies to."""
    now = now or utcnow()
    if series and invitation.event.series_id is not None:
        return _later_sessions(invitation, now)
    return [invitation]


def record_answer(invitation: Invitation, answer: PartStat, *, series: bool = False,
                  now: datetime | None = None) -> list[Invitation]:
    """Record the answer (the caller commits); returns the invitations changed.

    A decline on an event with a capacity gives the freed place to the first person on its
    waiting list (who is sent their invitation)."""
    now = now or utcnow()
    changed = []
    freed = []
    for row in covered(invitation, series=series, now=now):
        if row.state != InvitationState.INVITED:
            continue
        if row.partstat != answer:
            if answer == PartStat.DECLINED and row.event.capacity is not None:
                freed.append(row.event)
            row.partstat = answer
        row.answered_at = now
        changed.append(row)
    if freed:
        db.session.flush()
        for event in freed:
            fill_from_waiting_list(event)
    return changed


def answer_counts(event: Event) -> dict[PartStat, int]:
    """How many invited people gave each answer (every answer present, zero when none)."""
    rows = db.session.execute(
        select(Invitation.partstat, func.count())
        .where(Invitation.event_id == event.id, Invitation.state == InvitationState.INVITED)
        .group_by(Invitation.partstat)).all()
    counts = dict.fromkeys(PartStat, 0)
    counts.update({partstat: n for partstat, n in rows})
    return counts
