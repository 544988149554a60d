"""Reminder emails before events (job "calendar.reminders" of the outbox worker loop).

Each event's Event.reminder_minutes ("1440,60" by default: a day and an hour before) says when.
Every pass looks at scheduled events starting within the longest offset allowed; for each
invitation still INVITED and not declined, of an active person, an offset is due once its time
has come and the event has not started. When several offsets are due at once (the person was
invited late, or the worker was stopped) only the nearest one is sent, and all are recorded.
An offset whose time passed before the person was invited is not sent at all (their invitation
has just told them).

Never twice: a ReminderSent row (invitation, offset, start) is inserted with ON CONFLICT DO
NOTHING … RETURNING in the same transaction as the emails, so of two workers only the one whose
insert went in sends. A moved event has a new start, hence new reminders. Cancelled events,
drafts, declined and removed people get none.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from email.utils import formataddr

from babel.dates import format_timedelta
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload

from hub.calendar import ics
from hub.calendar.invitations import (
    MAX_REMINDER_MINUTES,
    event_page_url,
    join_url,
    parse_offsets,
    rsvp_url,
)
from hub.calendar.messages import greeting_name, person_locale, short_when, times_for
from hub.calendar.models import ReminderSent
from hub.core.types import utcnow
from hub.directory.models import Person
from hub.extensions import db
from hub.outbox.services import enqueue_email
from hub.scheduling.models import Event, EventStatus, Invitation, InvitationState, PartStat


def _claim_rows(rows: list[dict]) -> set[tuple[int, int]]:
    """Insert ReminderSent rows, skipping those already there; (invitation, offset) of the
    rows this call inserted."""
    if not rows:
        return set()
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - the hub runs on SQLite and PostgreSQL
        dialect_insert = None
    if dialect_insert is not None:
        statement = (dialect_insert(ReminderSent).on_conflict_do_nothing()
                     .returning(ReminderSent.invitation_id, ReminderSent.minutes_before))
        result = db.session.execute(statement, rows)
        return {(r.invitation_id, r.minutes_before) for r in result}
    claimed = set()  # pragma: no cover
    for row in rows:  # pragma: no cover
        try:
            with db.session.begin_nested():
                db.session.execute(insert(ReminderSent), [row])
            claimed.add((row["invitation_id"], row["minutes_before"]))
        except Exception:  # noqa: BLE001
            continue
    return claimed  # pragma: no cover


def _letter(invitation: Invitation, event: Event, minutes: int, now: datetime) -> None:
    person = invitation.person
    locale = person_locale(person)
    with force_locale(locale):
        when_event, when_person = times_for(person, event.start_at, event.end_at,
                                            event.timezone, locale)
        context = {
            "name": greeting_name(person),
            "title": event.title,
            "format_label": event.format.label,
            "when_event": when_event,
            "when_person": when_person,
            "starts_in": format_timedelta(event.start_at - now, add_direction=True,
                                          locale=locale),
            "join_url": join_url(invitation),
            "event_url": event_page_url(event),
            "decline_url": rsvp_url(invitation, "declined"),
            "partstat": invitation.partstat,
        }
        title = event.title if len(event.title) <= 150 else event.title[:149] + "…"
        subject = _("Reminder: %(title)s, %(when)s", title=title,
                    when=short_when(event.start_at, ics.event_zone(person.timezone), locale))
        text = render_template("calendar/email/reminder.txt", **context)
        html = render_template("calendar/email/reminder.html", **context)
    enqueue_email(formataddr((person.full_name, person.email)), subject, text, html,
                  kind=f"reminder:{invitation.id}:{minutes}")


def send_due_reminders(now: datetime | None = None) -> int:
    """Queue every reminder that is due (the caller, or the worker loop, commits). Returns how
    many emails were queued."""
    now = now or utcnow()
    candidates = db.session.execute(
        select(Event.id, Event.start_at, Event.reminder_minutes)
        .where(Event.status == EventStatus.SCHEDULED, Event.start_at > now,
               Event.start_at <= now + timedelta(minutes=MAX_REMINDER_MINUTES))).all()
    due: dict[int, list[int]] = {}
    for row in candidates:
        offsets = parse_offsets(row.reminder_minutes)
        ready = [m for m in offsets if row.start_at - timedelta(minutes=m) <= now]
        if ready:
            due[row.id] = ready
    if not due:
        return 0
    invitations = db.session.scalars(
        select(Invitation)
        .where(Invitation.event_id.in_(list(due)), Invitation.state == InvitationState.INVITED,
               Invitation.partstat != PartStat.DECLINED)
        .options(selectinload(Invitation.person).selectinload(Person.organisation),
                 selectinload(Invitation.event))).all()
    rows: list[dict] = []
    wanted: dict[int, tuple[Invitation, int]] = {}
    for invitation in invitations:
        event = invitation.event
        if not invitation.person.active or "@" not in (invitation.person.email or ""):
            continue
        # Offsets whose moment came after the person was invited; the nearest one is sent.
        offsets = [m for m in due[event.id]
                   if event.start_at - timedelta(minutes=m) >= invitation.created_at]
        if not offsets:
            continue
        for minutes in offsets:
            rows.append({"invitation_id": invitation.id, "minutes_before": minutes,
                         "start_at": event.start_at, "queued_at": now})
        wanted[invitation.id] = (invitation, min(offsets))
    claimed = _claim_rows(rows)
    by_invitation: dict[int, set[int]] = defaultdict(set)
    for invitation_id, minutes in claimed:
        by_invitation[invitation_id].add(minutes)
    sent = 0
    for invitation_id, (invitation, nearest) in wanted.items():
        if nearest in by_invitation.get(invitation_id, ()):
            _letter(invitation, invitation.event, nearest, now)
            sent += 1
    return sent
