"""The personal join link's rules: when it lets people in, which session a series' link leads
to, recording a click once per browser, and revoking a link.

A browser is known by a random key kept in its Flask session (`client_key()`); the same key
marks its presence reports, so that two browsers on one link can be told apart."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from enum import Enum

from flask import current_app, session
from sqlalchemy import func, select, update

from hub.attendance import services
from hub.attendance.models import Attendance, AttendanceInterval, Source
from hub.calendar.invitations import issue_token, queue_requests
from hub.core.types import utcnow
from hub.extensions import db
from hub.scheduling.models import Event, EventStatus, Invitation, InvitationState

#: Session key of the browser's random key.
CLIENT_KEY = "attendance_client"
#: A second click from the same address and browser this soon after the first, before its
#: cookie came back (a double tap), is the same browser, not a shared link.
DOUBLE_TAP = timedelta(seconds=30)
#: Statuses in which an event can be joined (a held event until its end).
LIVE = (EventStatus.SCHEDULED, EventStatus.COMPLETED)


class Moment(Enum):
    """Where `now` is relative to an event's join window."""

    BEFORE = "before"
    OPEN = "open"
    ENDED = "ended"


def opens_before() -> timedelta:
    return timedelta(minutes=current_app.config["JOIN_OPENS_MINUTES_BEFORE"])


def window(event: Event) -> tuple[datetime, datetime]:
    """From JOIN_OPENS_MINUTES_BEFORE the start to the end."""
    return services.join_window(event, opens_before())


def moment(event: Event, now: datetime) -> Moment:
    opens, ends = window(event)
    if now < opens:
        return Moment.BEFORE
    return Moment.OPEN if now < ends else Moment.ENDED


def current_invitation(invitation: Invitation, now: datetime) -> Invitation:
    """The invitation a click acts on. A series' letter carries one session's link for the
    whole series: it leads to the person's earliest session that has not ended (the one on
    now, or the next); without one, to its own session."""
    if invitation.event.series_id is None:
        return invitation
    found = db.session.scalars(
        select(Invitation).join(Event, Event.id == Invitation.event_id)
        .where(Event.series_id == invitation.event.series_id,
               Invitation.person_id == invitation.person_id,
               Invitation.state == InvitationState.INVITED,
               Event.status.in_(LIVE), Event.end_at > now)
        .order_by(Event.start_at, Event.id).limit(1)).first()
    return found or invitation


def client_key() -> str:
    """This browser's random key (made and kept in its session on first use)."""
    return _browser_key()[0]


def _browser_key() -> tuple[str, bool]:
    """The key, and whether it was made just now."""
    key = session.get(CLIENT_KEY)
    if isinstance(key, str) and 16 <= len(key) <= 64:
        return key, False
    key = session[CLIENT_KEY] = secrets.token_urlsafe(24)
    return key, True


def record_click(invitation: Invitation, *, ip: str, user_agent: str,
                 now: datetime | None = None) -> Attendance:
    """Record a click inside the window, once per browser (the caller commits).

    The invitation's row is locked first (an UPDATE, which serialises concurrent clicks on one
    link on PostgreSQL and SQLite alike, the making of the person's record included). A
    browser whose key was just made and that matches, by address and user agent, a join
    started within DOUBLE_TAP is the same browser clicking twice before its cookie came
    back: it takes that join's key."""
    now = now or utcnow()
    key, fresh_key = _browser_key()
    db.session.execute(update(Invitation).where(Invitation.id == invitation.id)
                       .values(nonce=Invitation.nonce)
                       .execution_options(synchronize_session=False))
    if fresh_key:
        earlier = db.session.scalar(
            select(AttendanceInterval.client_key).join(Attendance).where(
                Attendance.event_id == invitation.event_id,
                Attendance.person_id == invitation.person_id,
                AttendanceInterval.source == Source.JOIN_LINK,
                AttendanceInterval.ended_at.is_(None),
                AttendanceInterval.ip == ip[:64],
                AttendanceInterval.user_agent == user_agent[:300],
                AttendanceInterval.started_at >= now - DOUBLE_TAP).limit(1))
        if earlier:
            key = session[CLIENT_KEY] = earlier
    return services.record_join(invitation, ip=ip, user_agent=user_agent, client_key=key,
                                now=now)


def revoke(invitation: Invitation) -> bool:
    """A new token for the person's invitation (and, in a series, for their other sessions,
    whose letter carried the same links): every old link stops working, a browser that
    opened one included. The person, if invited to a session still to come, is sent a letter
    with the new links. Returns whether a letter was queued (the caller commits)."""
    event = invitation.event
    changed = [invitation]
    if event.series_id is not None:
        changed = list(db.session.scalars(
            select(Invitation).join(Event, Event.id == Invitation.event_id)
            .where(Event.series_id == event.series_id,
                   Invitation.person_id == invitation.person_id)))
    now = utcnow()
    for row in changed:
        issue_token(row)
    upcoming = [row for row in changed if row.state == InvitationState.INVITED
                and row.event.status == EventStatus.SCHEDULED and row.event.end_at > now]
    if upcoming:
        queue_requests(event.series if event.series is not None else event, upcoming[:1])
    return bool(upcoming)


def shared_count(event: Event) -> int:
    """People whose join link was used from two places at once."""
    return db.session.scalar(select(func.count(Attendance.id)).where(
        Attendance.event_id == event.id, Attendance.shared_link.is_(True))) or 0
