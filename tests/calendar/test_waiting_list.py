"""A decline from the letter frees a place: the first in the waiting line moves in and is sent
their invitation."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from hub.calendar.invitations import invitation_token, run_batches
from hub.calendar.models import BatchKind, BatchStatus, InvitationBatch
from hub.core.types import utcnow
from hub.extensions import db
from hub.scheduling import audience
from hub.scheduling.models import Invitation, InvitationState, PartStat


def pending_requests(event_id: int) -> list[list[int]]:
    return [json.loads(b.recipient_ids) for b in db.session.scalars(
        select(InvitationBatch).where(InvitationBatch.kind == BatchKind.REQUEST,
                                      InvitationBatch.event_id == event_id,
                                      InvitationBatch.status == BatchStatus.PENDING))]


def test_a_decline_gives_the_place_to_the_first_in_line(client, people, make_event):
    event = make_event(start=utcnow() + timedelta(days=10), capacity=1, open_registration=True)
    accepted = audience.register(event, people.teacher)
    waiting = audience.register(event, people.other_teacher)
    db.session.commit()
    assert (accepted.state, accepted.partstat) == (InvitationState.INVITED, PartStat.ACCEPTED)
    assert waiting.state == InvitationState.WAITLISTED
    run_batches()  # the first invitation goes out
    assert pending_requests(event.id) == []

    response = client.post(f"/rsvp/{invitation_token(accepted)}", data={"answer": "declined"})
    assert response.status_code == 302

    db.session.expire_all()
    accepted = db.session.get(Invitation, accepted.id)
    waiting = db.session.get(Invitation, waiting.id)
    assert accepted.partstat == PartStat.DECLINED
    assert (waiting.state, waiting.partstat) == (InvitationState.INVITED, PartStat.ACCEPTED)
    assert pending_requests(event.id) == [[waiting.id]]
    assert audience.places_left(event) == 0


def test_a_tentative_answer_moves_nobody(client, people, make_event):
    event = make_event(start=utcnow() + timedelta(days=10), capacity=1, open_registration=True)
    accepted = audience.register(event, people.teacher)
    waiting = audience.register(event, people.other_teacher)
    db.session.commit()

    client.post(f"/rsvp/{invitation_token(accepted)}", data={"answer": "tentative"})
    db.session.expire_all()
    assert db.session.get(Invitation, waiting.id).state == InvitationState.WAITLISTED
