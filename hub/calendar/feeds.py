"""Subscribable calendars: a person's /feeds/<token>.ics, the public feeds of open events of an
organisation or a network, and /events/<id>.ics (METHOD:PUBLISH) for one event.

A person's feed holds the events they are invited to (not the ones they were removed from) and
those they have a part in, from a year back to two years ahead, drafts never; a series is one
master VEVENT with its RRULE, EXDATEs and overrides, as in the invitations. Cancelled events stay
in the feed with STATUS:CANCELLED, so a subscribed calendar crosses them out rather than keeping
a stale copy. The token is derived from CalendarFeed.nonce (stored hashed); rotating makes a new
nonce and the old address stops working.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from urllib.parse import quote

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from hub.calendar import ics
from hub.calendar.invitations import _EventFacts, _facts, _labels, details_for, event_page_url
from hub.calendar.messages import absolute, person_locale
from hub.calendar.models import CalendarFeed
from hub.core.tokens import derive_token, hash_token, new_nonce
from hub.core.types import utcnow
from hub.directory.models import Network, Organisation, Person
from hub.extensions import db
from hub.scheduling.models import (
    Event,
    EventHost,
    EventPerson,
    EventStatus,
    Invitation,
    InvitationState,
    Series,
)

TOKEN_PURPOSE = "feed"
#: The span a feed covers around now.
PAST = timedelta(days=366)
FUTURE = timedelta(days=2 * 366)
#: How often subscribed clients are asked to fetch again (REFRESH-INTERVAL, X-PUBLISHED-TTL).
REFRESH_MINUTES = 60


# -- the personal feed's token ---------------------------------------------------------------


def feed_token(feed: CalendarFeed) -> str:
    return derive_token(TOKEN_PURPOSE, feed.nonce)


def _new_nonce(feed: CalendarFeed) -> None:
    feed.nonce = new_nonce()
    feed.token_hash = hash_token(feed_token(feed))
    feed.rotated_at = utcnow()


def get_or_create_feed(person: Person) -> CalendarFeed:
    """The person's feed, made on first use and committed at once (a profile page shows it
    from a GET); a race with another request ends with the one row both read."""
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.person_id == person.id))
    if feed is not None:
        return feed
    feed = CalendarFeed(person_id=person.id)
    _new_nonce(feed)
    try:
        with db.session.begin_nested():
            db.session.add(feed)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.person_id == person.id))
        assert feed is not None
    return feed


def rotate_feed(person: Person) -> CalendarFeed:
    """A new address for the person's feed; the old one answers 404 from now (caller commits)."""
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.person_id == person.id))
    if feed is None:
        feed = CalendarFeed(person_id=person.id)
        db.session.add(feed)
    _new_nonce(feed)
    return feed


def find_feed(token: str) -> CalendarFeed | None:
    if not token or len(token) > 200:
        return None
    return db.session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash ==
                                                        hash_token(token)))


@dataclass(frozen=True)
class FeedLinks:
    """The addresses a profile shows: https (download), webcal:// (subscribe in Outlook, Apple,
    Thunderbird) and Google Calendar's "add by URL" page."""

    https: str
    webcal: str
    google: str


def links_for(path: str) -> FeedLinks:
    url = absolute(path)
    webcal = "webcal://" + url.split("://", 1)[-1]
    google = "https://calendar.google.com/calendar/r?cid=" + quote(webcal, safe="")
    return FeedLinks(https=url, webcal=webcal, google=google)


def feed_links(person: Person) -> FeedLinks:
    return links_for(f"/feeds/{feed_token(get_or_create_feed(person))}.ics")


# -- what goes in ----------------------------------------------------------------------------


def _event_options() -> list:
    return [selectinload(Event.people).selectinload(EventPerson.person),
            selectinload(Event.created_by), selectinload(Event.series)]


def _public_details(event: Event, labels: dict[str, str]) -> ics.Details:
    page = event_page_url(event)
    text = "\n\n".join(part for part in (ics.html_to_text(event.description_html),
                                         labels["page"] % {"url": page}) if part)
    return ics.Details(description=text, url=page, conference_label=labels["page_label"])


def _personal_details(event: Event, invitation: Invitation | None, facts: _EventFacts,
                      labels: dict[str, str]) -> ics.Details:
    if invitation is None:  # a part in the event (speaker, organiser) without an invitation
        return _public_details(event, labels)
    return details_for(event, invitation, facts, series=event.series_id is not None,
                       alarm=False, labels=labels)


def _components(events: Sequence[Event], invitations: dict[int, Invitation] | None,
                now: datetime) -> list:
    """VEVENTs for these events: singles as they are, the occurrences of a series as the whole
    series (every occurrence is loaded, so that EXDATEs and overrides are right).
    `invitations` (event id → the reader's invitation) makes them personal; a session of a
    series the reader is not invited to is an EXDATE."""
    sent_by = parseaddr(current_app.config["MAIL_FROM"])[1]
    labels = _labels()
    singles = [e for e in events if e.series_id is None]
    series_ids = sorted({e.series_id for e in events if e.series_id is not None})
    components = []
    for event in sorted(singles, key=lambda e: (e.start_at, e.id)):
        facts = _facts(event)
        details = (_personal_details(event, invitations.get(event.id), facts, labels)
                   if invitations is not None else _public_details(event, labels))
        components.append(ics.event_vevent(event, details, dtstamp=event.updated_at or now,
                                           organizer=facts.organizer, sent_by=sent_by))
    if not series_ids:
        return components
    occurrences: dict[int, list[Event]] = defaultdict(list)
    for event in db.session.scalars(select(Event).where(Event.series_id.in_(series_ids))
                                    .options(*_event_options())
                                    .order_by(Event.original_start, Event.start_at)):
        occurrences[event.series_id].append(event)
    chosen = {e.id for e in events}
    for series_id in series_ids:
        rows = occurrences[series_id]
        series = rows[0].series if rows else db.session.get(Series, series_id)
        if series is None or not rows:
            continue
        facts = {e.id: _facts(e) for e in rows}
        if invitations is not None:
            mine = {e.id for e in rows if e.id in invitations or e.id in chosen}
            excluded = [e for e in rows if e.id not in mine or e.status == EventStatus.DRAFT]
            fallback = next((invitations[e.id] for e in rows if e.id in invitations), None)

            def describe(event: Event, facts=facts, fallback=fallback) -> ics.Details:
                return _personal_details(event, invitations.get(event.id, fallback),
                                         facts[event.id], labels)
        else:
            excluded = [e for e in rows if e.id not in chosen]

            def describe(event: Event) -> ics.Details:
                return _public_details(event, labels)
        if all(e in excluded for e in rows):
            continue
        components += ics.series_vevents(
            series, rows, describe, dtstamp=series.updated_at or now,
            organizer=facts[rows[0].id].organizer, sent_by=sent_by, excluded=excluded,
            cancelled=all(e.status == EventStatus.CANCELLED for e in rows))
    return components


def person_events(person: Person, now: datetime | None = None
                  ) -> tuple[list[Event], dict[int, Invitation]]:
    """The events of a person's feed and their invitations (event id → invitation)."""
    now = now or utcnow()
    window = (Event.end_at >= now - PAST, Event.start_at <= now + FUTURE,
              Event.status != EventStatus.DRAFT)
    invitations = list(db.session.scalars(
        select(Invitation).join(Event, Event.id == Invitation.event_id)
        .where(Invitation.person_id == person.id, Invitation.state == InvitationState.INVITED,
               *window)
        .options(selectinload(Invitation.event).options(*_event_options()),
                 selectinload(Invitation.person))))
    by_event = {inv.event_id: inv for inv in invitations}
    events = {inv.event_id: inv.event for inv in invitations}
    parts = db.session.scalars(
        select(Event).join(EventPerson, EventPerson.event_id == Event.id)
        .where(EventPerson.person_id == person.id, *window)
        .options(*_event_options()))
    for event in parts:
        events.setdefault(event.id, event)
    removed = set(db.session.scalars(
        select(Invitation.event_id).where(Invitation.person_id == person.id,
                                          Invitation.state == InvitationState.REMOVED)))
    chosen = [e for e in events.values() if e.id in by_event or e.id not in removed]
    return chosen, by_event


def person_calendar(person: Person, now: datetime | None = None) -> bytes:
    """The person's feed as iCalendar (no METHOD: a subscription, not an iTIP message)."""
    now = now or utcnow()
    events, invitations = person_events(person, now)
    with force_locale(person_locale(person)):
        components = _components(events, invitations, now)
        name = _("Vmeste hub: %(name)s", name=person.short_name)
    return ics.calendar_bytes(components, method=None, name=name,
                              refresh_minutes=REFRESH_MINUTES)


def open_events(*, organisation: Organisation | None = None, network: Network | None = None,
                now: datetime | None = None) -> list[Event]:
    """Open (registration) events of an organisation (as a host) or of a network, published."""
    now = now or utcnow()
    query = (select(Event).where(Event.open_registration.is_(True),
                                 Event.status != EventStatus.DRAFT,
                                 Event.end_at >= now - PAST, Event.start_at <= now + FUTURE)
             .options(*_event_options()))
    if organisation is not None:
        query = query.where(Event.id.in_(select(EventHost.event_id).where(
            EventHost.organisation_id == organisation.id)))
    if network is not None:
        query = query.where(Event.network_id == network.id)
    return list(db.session.scalars(query.order_by(Event.start_at)))


def public_calendar(events: Iterable[Event], name: str, now: datetime | None = None) -> bytes:
    """A public feed: no personal links, the event page as the link."""
    now = now or utcnow()
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        components = _components(list(events), None, now)
    return ics.calendar_bytes(components, method=None, name=name,
                              refresh_minutes=REFRESH_MINUTES)


def event_calendar(event: Event, now: datetime | None = None) -> bytes:
    """/events/<id>.ics: the event (an occurrence: its whole series) as METHOD:PUBLISH, with
    the event page as the link (the personal join link is in the person's letter and feed)."""
    now = now or utcnow()
    components = _components([event], None, now)
    if event.series_id is not None and components:
        # Every session of the series, not only this one: rebuild with all of them chosen.
        rows = list(db.session.scalars(select(Event).where(Event.series_id == event.series_id,
                                                           Event.status != EventStatus.DRAFT)))
        components = _components(rows, None, now)
    return ics.calendar_bytes(components, method=ics.PUBLISH)
