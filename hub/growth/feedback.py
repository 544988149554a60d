"""Feedback on events: a short survey (a rating 1–5, what was useful, free text) emailed to
each participant after an event, answered once through a personal link; results per event and
per organiser.

Who is asked: every person (not a guest) whose attendance record shows they came (any status
but absent or excused), except the people who ran the event (organisers, speakers, moderators,
mentors: they are credited without evidence of presence, and the results are theirs). The job
looks at events that ended between SURVEY_WINDOW and SURVEY_DELAY ago, so people whose
attendance is recorded late (a provider's report) are still asked. Never twice: a request is
one row per event and person, inserted with ON CONFLICT DO NOTHING … RETURNING in the same
transaction as its email, so of two workers only the one whose insert went in sends.

The link's token is random (secrets.token_urlsafe); only its SHA-256 is stored.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formataddr

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import selectinload

from hub.attendance.credit import HOST_ROLES
from hub.attendance.models import Attendance, Status
from hub.calendar.ics import event_zone
from hub.calendar.messages import absolute, greeting_name, person_locale, span_text
from hub.core.tokens import hash_token
from hub.core.types import utcnow
from hub.directory.models import Person
from hub.extensions import db
from hub.growth.models import FeedbackRequest
from hub.outbox.services import enqueue_email
from hub.scheduling.models import Event, EventPerson, EventRole, EventStatus

#: Surveys go out this long after an event ends …
SURVEY_DELAY = timedelta(hours=1)
#: … and no later than this after its end.
SURVEY_WINDOW = timedelta(days=7)
#: Requests made in one pass at most (the next pass makes the rest).
BATCH = 500
#: Longest free-text answer kept.
COMMENT_MAX = 2000
#: What a participant may tick as useful: key (stored) and label.
USEFUL = {
    "theory": _l("Theory"),
    "examples": _l("Practical examples"),
    "materials": _l("Materials"),
    "discussion": _l("Discussion"),
    "board": _l("The board"),
}
RATINGS = (1, 2, 3, 4, 5)
#: Statuses that say the person did not come.
NOT_THERE = (Status.ABSENT, Status.EXCUSED)


def new_token() -> str:
    """A fresh survey token (the email carries it; the database keeps its hash)."""
    return secrets.token_urlsafe(32)


def survey_url(token: str) -> str:
    return absolute(f"/feedback/{token}")


def clean_text(value: str, limit: int) -> str:
    """Plain text as typed, without NUL characters (PostgreSQL refuses them), trimmed."""
    return value.replace("\x00", "").strip()[:limit]


# -- queueing surveys --------------------------------------------------------------------------

def _due(now: datetime) -> list[tuple[Event, Person]]:
    """(event, person) pairs that should get a survey and have none yet."""
    status = func.coalesce(Attendance.override_status, Attendance.computed_status)
    asked = exists().where(FeedbackRequest.event_id == Attendance.event_id,
                           FeedbackRequest.person_id == Attendance.person_id)
    rows = db.session.execute(
        select(Attendance.event_id, Attendance.person_id).join(Event)
        .join(Person, Person.id == Attendance.person_id)
        .where(Event.end_at <= now - SURVEY_DELAY, Event.end_at > now - SURVEY_WINDOW,
               Event.status.in_((EventStatus.SCHEDULED, EventStatus.COMPLETED)),
               status.not_in(NOT_THERE), Attendance.role.not_in(list(HOST_ROLES)),
               Person.active.is_(True), Person.email.contains("@"), ~asked)
        .order_by(Attendance.event_id, Attendance.person_id).limit(BATCH)).all()
    events = {e.id: e for e in db.session.scalars(
        select(Event).where(Event.id.in_({r.event_id for r in rows})))}
    people = {p.id: p for p in db.session.scalars(
        select(Person).where(Person.id.in_({r.person_id for r in rows}))
        .options(selectinload(Person.organisation)))}
    return [(events[r.event_id], people[r.person_id]) for r in rows]


def _claim(rows: list[dict]) -> set[tuple[int, int]]:
    """Insert the requests, skipping those already there; (event, person) of those inserted."""
    if not rows:
        return set()
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = (insert(FeedbackRequest).on_conflict_do_nothing()
                 .returning(FeedbackRequest.event_id, FeedbackRequest.person_id))
    return {(r.event_id, r.person_id) for r in db.session.execute(statement, rows)}


def _letter(event: Event, person: Person, token: str) -> None:
    locale = person_locale(person)
    with force_locale(locale):
        context = {
            "name": greeting_name(person), "title": event.title,
            "format_label": event.format.label, "url": survey_url(token),
            "when": span_text(event.start_at, event.end_at, event_zone(person.timezone),
                              locale),
        }
        title = event.title if len(event.title) <= 150 else event.title[:149] + "…"
        subject = _("How was «%(title)s»? A short survey", title=title)
        text = render_template("growth/email/feedback.txt", **context)
        html = render_template("growth/email/feedback.html", **context)
    enqueue_email(formataddr((person.full_name, person.email)), subject, text, html,
                  kind=f"feedback:{event.id}:{person.id}")


def queue_surveys(now: datetime | None = None) -> int:
    """Make the due survey requests and queue their emails (the caller, or the worker loop,
    commits). Returns how many were queued."""
    now = now or utcnow()
    due = _due(now)
    tokens = {(e.id, p.id): new_token() for e, p in due}
    claimed = _claim([{"event_id": e.id, "person_id": p.id, "sent_at": now,
                       "token_hash": hash_token(tokens[e.id, p.id])} for e, p in due])
    for event, person in due:
        if (event.id, person.id) in claimed:
            _letter(event, person, tokens[event.id, person.id])
    return len(claimed)


# -- answering ---------------------------------------------------------------------------------

def find(token: str) -> FeedbackRequest | None:
    """The request a survey link stands for, or None for an unknown link."""
    if not token or len(token) > 128:
        return None
    return db.session.scalar(select(FeedbackRequest).where(
        FeedbackRequest.token_hash == hash_token(token)))


def useful_keys(value: str) -> list[str]:
    """The stored useful parts as a list of known keys."""
    chosen = set(value.split(","))
    return [key for key in USEFUL if key in chosen]


def answer(request: FeedbackRequest, rating: int, useful: list[str], comment: str,
           now: datetime | None = None) -> bool:
    """Save the answer unless the request was answered already (False then); the caller
    commits. The values must be valid (the form checks them): a rating of 1–5, known keys."""
    if rating not in RATINGS or not set(useful) <= set(USEFUL):
        raise ValueError("invalid answer")
    result = db.session.execute(
        update(FeedbackRequest)
        .where(FeedbackRequest.id == request.id, FeedbackRequest.answered_at.is_(None))
        .values(rating=rating, useful=",".join(k for k in USEFUL if k in useful),
                comment=clean_text(comment, COMMENT_MAX), answered_at=now or utcnow())
        .execution_options(synchronize_session=False))
    db.session.refresh(request)
    return bool(result.rowcount)


# -- results -----------------------------------------------------------------------------------

@dataclass
class Results:
    """What the participants of one event answered."""

    sent: int = 0
    answered: int = 0
    average: float | None = None
    ratings: dict[int, int] = field(default_factory=lambda: dict.fromkeys(RATINGS, 0))
    useful: dict[str, int] = field(default_factory=lambda: dict.fromkeys(USEFUL, 0))
    #: (rating, comment, answered_at) of the answers with a comment, latest first.
    comments: list[tuple[int | None, str, datetime]] = field(default_factory=list)


def event_results(event: Event) -> Results:
    """The event's survey figures (answers without names)."""
    results = Results()
    requests = db.session.scalars(select(FeedbackRequest).where(
        FeedbackRequest.event_id == event.id).order_by(FeedbackRequest.answered_at.desc()))
    total = 0
    for request in requests:
        results.sent += 1
        if request.answered_at is None:
            continue
        results.answered += 1
        if request.rating in results.ratings:
            results.ratings[request.rating] += 1
            total += request.rating
        for key in useful_keys(request.useful):
            results.useful[key] += 1
        if request.comment:
            results.comments.append((request.rating, request.comment, request.answered_at))
    rated = sum(results.ratings.values())
    results.average = round(total / rated, 2) if rated else None
    return results


@dataclass(frozen=True)
class OrganiserRow:
    """One organiser's events and what their participants answered."""

    person: Person
    events: int
    sent: int
    answered: int
    average: float | None


def organiser_summary(organisation_id: int | None = None,
                      now: datetime | None = None) -> list[OrganiserRow]:
    """Per organiser (EventRole.ORGANISER) of held events: events, surveys sent, answers and
    the average rating; only the people of one organisation when it is given."""
    now = now or utcnow()
    statement = (
        select(Person, func.count(func.distinct(Event.id)), func.count(FeedbackRequest.id),
               func.count(FeedbackRequest.answered_at), func.avg(FeedbackRequest.rating))
        .select_from(EventPerson)
        .join(Event, Event.id == EventPerson.event_id)
        .join(Person, Person.id == EventPerson.person_id)
        .outerjoin(FeedbackRequest, FeedbackRequest.event_id == Event.id)
        .where(EventPerson.role == EventRole.ORGANISER, Event.end_at <= now,
               Event.status.in_((EventStatus.SCHEDULED, EventStatus.COMPLETED)))
        .group_by(Person.id).order_by(Person.search_key, Person.id))
    if organisation_id is not None:
        statement = statement.where(Person.organisation_id == organisation_id)
    return [OrganiserRow(person, events, sent, answered,
                         round(float(average), 2) if average is not None else None)
            for person, events, sent, answered, average in db.session.execute(statement)]
