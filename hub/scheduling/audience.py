"""Who is invited to an event, their Invitation rows, and the waiting list of open events.

The audience of an event is its chosen organisations (their active people), whole networks
(the active people of every member organisation), chosen people, its speakers and moderators,
and for a program every member of the cohort. `resolve_audience()` answers it in one query,
whatever its size. `sync_invitations()` brings the Invitation rows in line with it: new people
get a row (and an email), people taken out are marked REMOVED (and get a CANCEL). People who
registered themselves for an open event stay, whatever the audience says.

Open events take registrations up to their capacity; the rest wait in line (WAITLISTED, in the
order they registered) and move in, first come first served, as places free up.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from hub.core.tokens import derive_token, hash_token, new_nonce
from hub.core.types import utcnow
from hub.directory.models import NetworkMember, Person
from hub.extensions import db
from hub.scheduling import notify
from hub.scheduling.models import (
    Event,
    EventAudience,
    EventPerson,
    EventRole,
    EventStatus,
    Invitation,
    InvitationState,
    PartStat,
    SeriesPerson,
)
from hub.scheduling.spec import SchedulingError

#: Roles whose people are invited (organisers plan it; they are not sent invitations).
INVITED_ROLES = (EventRole.SPEAKER, EventRole.MODERATOR, EventRole.MENTOR, EventRole.INTERN)
#: The purpose string of invitation tokens (hub.core.tokens.derive_token).
TOKEN_PURPOSE = "invitation"


def audience_condition(event: Event):  # type: ignore[no-untyped-def]
    """A WHERE clause on Person: in the audience of `event` (active or not)."""
    ea = EventAudience
    conditions = [
        Person.organisation_id.in_(
            select(ea.organisation_id).where(ea.event_id == event.id,
                                             ea.organisation_id.is_not(None))),
        Person.organisation_id.in_(
            select(NetworkMember.organisation_id)
            .join(ea, ea.network_id == NetworkMember.network_id)
            .where(ea.event_id == event.id)),
        Person.id.in_(select(ea.person_id).where(ea.event_id == event.id,
                                                 ea.person_id.is_not(None))),
        Person.id.in_(select(EventPerson.person_id).where(
            EventPerson.event_id == event.id, EventPerson.role.in_(INVITED_ROLES))),
    ]
    if event.series_id is not None and event.series is not None and event.series.is_program:
        conditions.append(Person.id.in_(
            select(SeriesPerson.person_id).where(SeriesPerson.series_id == event.series_id)))
    return or_(*conditions)


def resolve_audience(event: Event) -> set[int]:
    """The ids of the active people invited to `event` (one query)."""
    db.session.flush()
    return set(db.session.scalars(
        select(Person.id).where(Person.active.is_(True), audience_condition(event))))


def new_invitation(event: Event, person_id: int, **values: object) -> Invitation:
    """An Invitation row with a fresh personal token (only its hash is stored)."""
    nonce = new_nonce()
    return Invitation(event_id=event.id, person_id=person_id, nonce=nonce,
                      token_hash=hash_token(derive_token(TOKEN_PURPOSE, nonce)),
                      state=values.pop("state", InvitationState.INVITED),
                      partstat=values.pop("partstat", PartStat.NEEDS_ACTION), **values)


def personal_token(invitation: Invitation) -> str:
    """The person's token for /j/<token> and /rsvp/<token> (derived, never stored)."""
    return derive_token(TOKEN_PURPOSE, invitation.nonce)


def sync_invitations(event: Event, *, send: bool = True
                     ) -> tuple[list[Invitation], list[Invitation]]:
    """Make the Invitation rows match the audience; return (new, removed).

    Only a scheduled event that has not ended is synced (a draft sends nothing; publishing it
    syncs). New and returning people are sent a REQUEST, people taken out a CANCEL (unless
    `send` is False: the caller tells them otherwise). A few queries, whatever the size.
    """
    if event.status != EventStatus.SCHEDULED or event.end_at <= utcnow():
        return [], []
    wanted = resolve_audience(event)
    existing = {inv.person_id: inv for inv in db.session.scalars(
        select(Invitation).where(Invitation.event_id == event.id))}
    new: list[Invitation] = []
    removed: list[Invitation] = []
    for person_id, invitation in existing.items():
        if person_id in wanted:
            if invitation.state != InvitationState.INVITED:
                invitation.state = InvitationState.INVITED
                invitation.sent_sequence = None
                new.append(invitation)
        elif invitation.registered_at is None and invitation.state != InvitationState.REMOVED:
            was_invited = invitation.state == InvitationState.INVITED
            invitation.state = InvitationState.REMOVED
            if was_invited:
                removed.append(invitation)
    created = [new_invitation(event, person_id) for person_id in sorted(wanted - existing.keys())]
    db.session.add_all(created)
    db.session.flush()
    new += created
    if send:
        notify.requests(event, new)
        notify.cancellations(event, removed)
    return new, removed


# --- open registration and the waiting list -------------------------------------------------

def places_taken(event: Event) -> int:
    """Invited people who have not declined, not counting those with a part in the event."""
    return db.session.scalar(
        select(func.count(Invitation.id)).where(
            Invitation.event_id == event.id,
            Invitation.state == InvitationState.INVITED,
            Invitation.partstat != PartStat.DECLINED,
            Invitation.person_id.not_in(
                select(EventPerson.person_id).where(EventPerson.event_id == event.id)))) or 0


def places_left(event: Event) -> int | None:
    """Free places, or None when the event has no limit."""
    if event.capacity is None:
        return None
    return max(0, event.capacity - places_taken(event))


def waiting_list(event: Event) -> list[Invitation]:
    """The people waiting for a place, first come first."""
    return list(db.session.scalars(
        select(Invitation).where(Invitation.event_id == event.id,
                                 Invitation.state == InvitationState.WAITLISTED)
        .order_by(Invitation.registered_at, Invitation.id)))


def invitation_of(event: Event, person: Person) -> Invitation | None:
    return db.session.scalar(select(Invitation).where(
        Invitation.event_id == event.id, Invitation.person_id == person.id))


def register(event: Event, person: Person) -> Invitation:
    """Register `person` for an open event: invited while places last, else on the waiting
    list. Registering again changes nothing."""
    if not event.open_registration:
        raise SchedulingError({"register": _("This event does not take registrations.")})
    if event.status != EventStatus.SCHEDULED or event.end_at <= utcnow():
        raise SchedulingError({"register": _("Registration for this event is closed.")})
    invitation = invitation_of(event, person)
    if invitation is not None and invitation.state != InvitationState.REMOVED:
        return invitation
    if invitation is None:
        invitation = new_invitation(event, person.id, state=InvitationState.WAITLISTED)
        db.session.add(invitation)
    invitation.registered_at = utcnow()
    invitation.state = InvitationState.WAITLISTED
    invitation.partstat = PartStat.NEEDS_ACTION
    invitation.sent_sequence = None
    db.session.flush()
    left = places_left(event)
    if left is None or left > 0:
        invitation.state = InvitationState.INVITED
        invitation.partstat = PartStat.ACCEPTED
        db.session.flush()
        notify.requests(event, [invitation])
    return invitation


def unregister(event: Event, person: Person) -> list[Invitation]:
    """Withdraw a registration (or leave the waiting list); the first in line moves in.
    Returns the invitations of the people who moved in."""
    invitation = invitation_of(event, person)
    if invitation is None or invitation.registered_at is None or \
            invitation.state == InvitationState.REMOVED:
        raise SchedulingError({"register": _("You are not registered for this event.")})
    was_invited = invitation.state == InvitationState.INVITED
    invitation.state = InvitationState.REMOVED
    invitation.registered_at = None
    db.session.flush()
    if was_invited:
        notify.cancellations(event, [invitation])
    return fill_from_waiting_list(event)


def fill_from_waiting_list(event: Event) -> list[Invitation]:
    """Move people from the waiting list into free places (first come first); each gets their
    invitation. Call after a place frees up (a cancelled registration, a decline, more
    places). Returns the invitations of the people who moved in."""
    if event.status != EventStatus.SCHEDULED or event.end_at <= utcnow():
        return []
    moved: list[Invitation] = []
    left = places_left(event)
    for invitation in waiting_list(event):
        if left is not None and left <= 0:
            break
        invitation.state = InvitationState.INVITED
        invitation.partstat = PartStat.ACCEPTED
        invitation.sent_sequence = None
        moved.append(invitation)
        if left is not None:
            left -= 1
    db.session.flush()
    notify.requests(event, moved)
    return moved


def rsvp_counts(event: Event) -> dict[PartStat, int]:
    """Answers of the invited people (every PartStat present)."""
    rows = db.session.execute(
        select(Invitation.partstat, func.count(Invitation.id))
        .where(Invitation.event_id == event.id, Invitation.state == InvitationState.INVITED)
        .group_by(Invitation.partstat)).all()
    counts = dict.fromkeys(PartStat, 0)
    counts.update({partstat: n for partstat, n in rows})
    return counts


def invitations_with_people(event: Event, states: Sequence[InvitationState] = (
        InvitationState.INVITED,), limit: int | None = None) -> list[Invitation]:
    """Invitations of `event` with their people loaded, ordered by name."""
    from sqlalchemy.orm import contains_eager

    statement = (select(Invitation).join(Invitation.person)
                 .options(contains_eager(Invitation.person))
                 .where(Invitation.event_id == event.id, Invitation.state.in_(states))
                 .order_by(Person.search_key, Person.id))
    if limit is not None:
        statement = statement.limit(limit)
    return list(db.session.scalars(statement))
