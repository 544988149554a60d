"""Demo attendance: for every event of the demo term that has been held, the evidence a real
meeting leaves (join clicks, pages left open, the organiser's marks), then each event
finalised by the real services and its credit announced (certificates follow), so sheets,
portfolios, certificates and reports have something to show."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from hub.attendance import services
from hub.attendance.models import AttendanceInterval, Source, Status
from hub.attendance.signals import send_credited
from hub.extensions import db
from hub.scheduling.models import Event, EventStatus, InvitationState, PartStat

USER_AGENTS = (
    "Mozilla/5.0 (Linux; Android 13; SM-A145F) AppleWebKit/537.36 Chrome/119.0 Mobile Safari",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 YaBrowser/23.11 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
)


def seed_attendance(rng: random.Random, now: datetime) -> int:
    """Evidence and records for the held events; returns how many records were made."""
    events = db.session.scalars(
        select(Event).where(Event.status == EventStatus.COMPLETED, Event.end_at <= now)
        .options(selectinload(Event.invitations), selectinload(Event.people))).all()
    made = 0
    for event in events:
        for invitation in event.invitations:
            if invitation.state != InvitationState.INVITED:
                continue
            likely = 0.9 if invitation.partstat == PartStat.ACCEPTED else 0.25
            if rng.random() < likely:
                _attend(rng, event, services.record_of(event, invitation.person))
        records = services.finalise(event, now=now)
        _excuse_one(rng, records, event)
        send_credited(event, records)  # certificates, as for a real event
        made += len(records)
    db.session.flush()
    return made


def _attend(rng: random.Random, event: Event, record) -> None:  # type: ignore[no-untyped-def]
    """A join a few minutes either side of the start; some people only had the page open and
    left early."""
    minutes = (event.end_at - event.start_at).total_seconds() / 60
    joined = event.start_at + timedelta(minutes=rng.choice((-7, -3, -1, 0, 2, 4, 12, 25)))
    ip = f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    if rng.random() < 0.8:  # clicked the link and (as far as the hub can see) stayed
        source, left = Source.JOIN_LINK, None
    else:  # had the event page open and closed it early
        source = Source.PRESENCE
        left = joined + timedelta(minutes=minutes * rng.uniform(0.3, 0.7))
    record.intervals.append(AttendanceInterval(
        source=source, started_at=joined, ended_at=left, ip=ip,
        user_agent=rng.choice(USER_AGENTS), client_key=f"demo-{record.id}"))


def _excuse_one(rng: random.Random, records: list, event: Event) -> None:  # type: ignore[type-arg]
    """The organiser excuses one absent person now and then (with the reason kept)."""
    absent = [r for r in records if r.person_id and r.computed_status == Status.ABSENT]
    organiser = next((p.person for p in event.people), None)
    if absent and organiser is not None and rng.random() < 0.3:
        services.set_override(rng.choice(absent), Status.EXCUSED,
                              "Курсы повышения квалификации (приказ по ОО)", organiser)
