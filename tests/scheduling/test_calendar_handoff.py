"""Scheduling hands invitations to the real hub.calendar.invitations: one batch per change,
about the event or, for changes of a whole series, about the series; the worker turns the
batches into one letter per person."""

from __future__ import annotations

import email
import email.policy
from datetime import date, time

import pytest
from sqlalchemy import select

from hub.calendar.invitations import run_batches
from hub.calendar.models import BatchKind, InvitationBatch
from hub.extensions import db
from hub.outbox.models import OutboxMessage
from hub.scheduling import services
from hub.scheduling.recurrence import FREQ_WEEKLY, Recurrence
from hub.scheduling.services import Scope

from .conftest import NEXT_YEAR, spec


@pytest.fixture
def calendar_calls():  # type: ignore[no-untyped-def]
    """Here the calls go through to the calendar domain (no recorder)."""
    return None


def batches() -> list[tuple[BatchKind, int | None, int | None]]:
    db.session.flush()
    return [(b.kind, b.event_id, b.series_id) for b in db.session.scalars(
        select(InvitationBatch).order_by(InvitationBatch.id))]


def calendar_part(message: OutboxMessage) -> str:
    """The text/calendar alternative of a queued letter, decoded."""
    parsed = email.message_from_string(message.mime, policy=email.policy.default)
    for part in parsed.walk():
        if part.get_content_type() == "text/calendar":
            return part.get_content()
    return ""


def letters() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_an_event_is_invited_updated_and_cancelled_through_the_calendar(people):
    own = people.coordinator.organisation_id
    event = services.create_event(people.coordinator, spec(
        host_ids=[own], audience_organisation_ids=[own]))
    assert batches() == []  # a draft sends nothing
    services.publish_event(event)
    db.session.commit()
    assert batches() == [(BatchKind.REQUEST, event.id, None)]
    run_batches(budget_seconds=10)
    assert sorted(m.to_addr.split("<")[-1].rstrip(">") for m in letters()) == [
        people.coordinator.email, people.teacher.email]
    assert all("METHOD:REQUEST" in calendar_part(m) for m in letters())

    services.update_event(people.coordinator, event, spec(
        host_ids=[own], audience_organisation_ids=[own], start_time=time(16),
        end_time=time(17)))
    services.cancel_event(event)
    db.session.commit()
    assert batches()[1:] == [(BatchKind.UPDATE, event.id, None),
                             (BatchKind.CANCELLED, event.id, None)]
    run_batches(budget_seconds=10)
    assert sum("METHOD:CANCEL" in calendar_part(m) for m in letters()) == 2


def test_a_series_is_one_letter_a_person(people):
    own = people.coordinator.organisation_id
    first = date(NEXT_YEAR, 2, 10)
    event = services.create_event(people.coordinator, spec(
        host_ids=[own], audience_organisation_ids=[own], start_date=first,
        recurrence=Recurrence(freq=FREQ_WEEKLY, weekdays=[first.weekday()], count=5)),
        publish=True)
    series = event.series
    db.session.commit()
    assert batches() == [(BatchKind.REQUEST, None, series.id)]
    run_batches(budget_seconds=10)
    assert len(letters()) == 2
    assert all("RRULE:FREQ=WEEKLY" in calendar_part(m) for m in letters())

    third = sorted(series.events, key=lambda e: e.start_at)[2]
    services.cancel_event(third)
    services.update_event(people.coordinator, event, spec(
        host_ids=[own], audience_organisation_ids=[own], start_date=first, title="Новое",
        recurrence=Recurrence(freq=FREQ_WEEKLY, weekdays=[first.weekday()], count=5)),
        Scope.ALL)
    db.session.commit()
    assert batches()[1:] == [(BatchKind.CANCELLED, third.id, series.id),
                             (BatchKind.UPDATE, None, series.id)]
