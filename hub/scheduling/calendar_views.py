"""Calendars in the hub: month, week and list views of a person's, an organisation's and a
network's events, filtered by format, every time in the viewer's zone.

Thin views: read the query string, ask who may see what, let hub.scheduling.calendars find the
events and hub.scheduling.calendar_grid lay them out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import ColumnElement

from hub.auth.permissions import can_view_person, require
from hub.core.types import utcnow
from hub.directory.models import Network, Organisation, Person
from hub.extensions import db
from hub.scheduling import calendars
from hub.scheduling.calendar_grid import VIEWS, build_page, parse_date, place_events
from hub.scheduling.models import EventFormat, EventStatus

bp = Blueprint("calendar_views", __name__)

#: At most this many format filters are read from a query string.
FORMATS_MAX = len(EventFormat)


def zone_label(zone: str, when: datetime | None = None) -> str:
    """«Asia/Yekaterinburg (UTC+05:00)»: the zone named, with its offset then."""
    offset = (when or utcnow()).astimezone(ZoneInfo(zone)).strftime("%z")
    return f"{zone} (UTC{offset[:3]}:{offset[3:]})"


def _formats_arg() -> list[EventFormat]:
    chosen: list[EventFormat] = []
    for value in request.args.getlist("format")[:FORMATS_MAX * 2]:
        try:
            fmt = EventFormat(int(value))
        except (TypeError, ValueError):
            continue
        if fmt not in chosen:
            chosen.append(fmt)
    return chosen


def _render(kind: str, subject: Any, scope: ColumnElement[bool], title: str,
            person: Person | None = None):  # type: ignore[no-untyped-def]
    zone = current_user.timezone
    now = utcnow()
    today = now.astimezone(ZoneInfo(zone)).date()
    view = request.args.get("view", "month")
    if view not in VIEWS:
        view = "month"
    anchor = parse_date(request.args.get("date"), today)
    formats = _formats_arg()
    page = build_page(view, anchor, today, zone)
    events = calendars.events_between(scope, current_user, page.start_utc, page.end_utc,
                                      formats, limit=calendars.PAGE_EVENTS_MAX + 1)
    truncated = len(events) > calendars.PAGE_EVENTS_MAX
    events = events[:calendars.PAGE_EVENTS_MAX]
    place_events(page, events)
    ids = [e.id for e in events]
    roles = calendars.roles_of(person, ids) if person is not None else {}
    answers = calendars.answers_of(person, ids) if person is not None else {}
    endpoint = request.endpoint or "calendar_views.mine"
    view_args = dict(request.view_args or {})

    def link(**changes: Any) -> str:
        args: dict[str, Any] = {"view": view, "date": page.anchor.isoformat(),
                                "format": [int(f) for f in formats]}
        args.update(changes)
        return url_for(endpoint, **view_args, **args)

    return render_template(
        "scheduling/calendar.html", kind=kind, subject=subject, title=title, page=page,
        formats=formats, all_formats=list(EventFormat), link=link, roles=roles,
        answers=answers, zone_label=zone_label(zone), statuses=EventStatus,
        truncated=truncated, events_max=calendars.PAGE_EVENTS_MAX,
        event_url=lambda event: f"/events/{event.id}", views=VIEWS)


@bp.get("/calendar")
@login_required
def mine():  # type: ignore[no-untyped-def]
    """The signed-in person's own events."""
    return _render("person", current_user, calendars.person_scope(current_user),
                   _("My calendar"), person=current_user)


@bp.get("/people/<int:person_id>/calendar")
@login_required
def person(person_id: int):  # type: ignore[no-untyped-def]
    target = db.get_or_404(Person, person_id)
    require(can_view_person(current_user, target))
    title = (_("My calendar") if target.id == current_user.id
             else _("Calendar of %(name)s", name=target.short_name))
    return _render("person", target, calendars.person_scope(target), title, person=target)


@bp.get("/organisations/<int:organisation_id>/calendar")
@login_required
def organisation(organisation_id: int):  # type: ignore[no-untyped-def]
    org = db.get_or_404(Organisation, organisation_id)
    return _render("organisation", org, calendars.organisation_scope(org),
                   _("Calendar of %(name)s", name=org.short_name))


@bp.get("/networks/<int:network_id>/calendar")
@login_required
def network(network_id: int):  # type: ignore[no-untyped-def]
    net = db.get_or_404(Network, network_id)
    return _render("network", net, calendars.network_scope(net),
                   _("Calendar of «%(name)s»", name=net.name))
