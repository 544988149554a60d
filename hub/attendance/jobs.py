"""The attendance job in the outbox worker loop: finalising events that have ended (provider
reports imported, the absent recorded, credit derived) and telling `signals.credited`."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError

from hub.attendance import services
from hub.attendance.models import Attendance
from hub.attendance.signals import send_credited
from hub.conferencing.models import ProviderReport, Room
from hub.core.types import utcnow
from hub.extensions import db
from hub.outbox.worker import register_job
from hub.scheduling.models import Event, EventStatus

log = logging.getLogger(__name__)

#: Finalise an event this long after its end (providers' reports come late) ...
FINALISE_AFTER = timedelta(minutes=15)
#: ... and again when a report arrives, until this long after its end.
FINALISE_UNTIL = timedelta(days=8)
FINALISE_EVERY_SECONDS = 120
#: Events finalised in one pass (the rest wait for the next).
BATCH = 50


def _stale() -> ColumnElement[bool]:
    """An event's records were never derived after its end, or are older than the newest
    provider report of its rooms (or it has none yet)."""
    oldest_record = select(func.min(Attendance.computed_at)).where(
        Attendance.event_id == Event.id).scalar_subquery()
    newest_report = select(func.max(ProviderReport.received_at)).join(
        Room, Room.id == ProviderReport.room_id).where(Room.event_id == Event.id) \
        .scalar_subquery()
    return or_(oldest_record.is_(None), oldest_record < Event.end_at,
               oldest_record < newest_report)


def due_events(now: datetime) -> list[int]:
    """Ids of the events the job finalises now (one query)."""
    return list(db.session.scalars(
        select(Event.id).where(
            Event.end_at <= now - FINALISE_AFTER, Event.end_at > now - FINALISE_UNTIL,
            Event.status.in_((EventStatus.SCHEDULED, EventStatus.COMPLETED)), _stale())
        .order_by(Event.end_at).limit(BATCH)))


def needs_finalising(event: Event, now: datetime) -> bool:
    """Whether an ended event's records are stale (the sheet finalises it before showing)."""
    return event.end_at <= now and db.session.scalar(
        select(Event.id).where(Event.id == event.id, _stale())) is not None


def finalise_due(now: datetime | None = None) -> int:
    """Finalise the due events, each committed on its own; an event another worker is
    finalising is skipped. Returns how many were finalised."""
    now = now or utcnow()
    done = 0
    for event_id in due_events(now):
        event = db.session.scalar(select(Event).where(Event.id == event_id)
                                  .with_for_update(skip_locked=True))
        if event is None:
            continue
        try:
            send_credited(event, services.finalise(event, now=now))
            db.session.commit()
        except IntegrityError:  # a join or another worker made the same row meanwhile
            db.session.rollback()
            log.info("attendance: finalising event %s postponed (concurrent change)", event_id)
            continue
        except Exception:  # noqa: BLE001 - one broken event must not hold up the others
            db.session.rollback()
            log.exception("attendance: finalising event %s failed", event_id)
            continue
        done += 1
    return done


def register_jobs() -> None:
    """Called when the attendance blueprint is registered (every app: web, worker, CLI)."""
    register_job("attendance.finalise", FINALISE_EVERY_SECONDS, finalise_due)
