"""Joining and presence: the page a join link shows outside its window (/j/<token> itself is
hub/calendar/views.py's), presence reports from the event page and the board, revoking a
person's link, and the template helpers of the event page's attendance panel."""

from __future__ import annotations

from datetime import datetime, timedelta

from babel.dates import format_datetime
from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from hub.attendance import links, services
from hub.attendance.models import Attendance
from hub.attendance.views import bp
from hub.auth.permissions import can_edit_event, require
from hub.board.access import joined_invitation
from hub.calendar.ics import event_zone
from hub.calendar.messages import person_locale, times_for, zone_label
from hub.core.safety import safe_next_url
from hub.core.types import utcnow
from hub.directory.models import Person
from hub.extensions import db, limiter
from hub.scheduling.models import Event, Invitation, InvitationState

#: Pages of an event load the presence script from this long before its join window opens.
PRESENCE_LEAD = timedelta(hours=2)


# -- the join link outside its window ------------------------------------------------------


def join_wait_page(invitation: Invitation, moment: links.Moment, now: datetime) -> Response:
    """Before the window: when the link opens, in the person's zone (the page looks again by
    itself); after the end: the event has ended. Call inside the person's language."""
    person, event = invitation.person, invitation.event
    locale = session.get("lang") or person_locale(person)
    when_event, when_person = times_for(person, event.start_at, event.end_at, event.timezone,
                                        locale)
    zone = event_zone(person.timezone)
    opens_at = links.window(event)[0]
    seconds = int((opens_at - now).total_seconds()) + 2
    page = render_template(
        "attendance/join_wait.html", event=event, ended=moment == links.Moment.ENDED,
        when_event=when_event, when_person=when_person,
        opens=format_datetime(opens_at, "d MMMM y, HH:mm", tzinfo=zone, locale=locale),
        opens_zone=zone_label(zone, opens_at),
        refresh=min(max(seconds, 15), 600) if moment == links.Moment.BEFORE else None)
    db.session.commit()  # the join link remembered in the session; nothing recorded
    response = Response(page)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


# -- presence ------------------------------------------------------------------------------


def _expected(event: Event, person: Person) -> bool:
    """Invited, with a part in the event, or already on its attendance record."""
    if any(p.person_id == person.id for p in event.people):
        return True
    if db.session.scalar(select(Invitation.id).where(
            Invitation.event_id == event.id, Invitation.person_id == person.id,
            Invitation.state == InvitationState.INVITED)) is not None:
        return True
    return db.session.scalar(select(Attendance.id).where(
        Attendance.event_id == event.id, Attendance.person_id == person.id)) is not None


def presence_person(event: Event) -> Person | None:
    """Whose presence this browser reports: the signed-in person, else the person whose join
    link it opened; None for anyone the event does not expect."""
    if current_user.is_authenticated and current_user.active and _expected(event,
                                                                          current_user):
        return current_user
    invitation = joined_invitation(event.id)
    if invitation is not None and invitation.person.active:
        return invitation.person
    return None


def _presence_key() -> str:
    """One person on one event (a school's teachers may share one address)."""
    event_id = (request.view_args or {}).get("event_id")
    if current_user.is_authenticated:
        return f"presence:{event_id}:p{current_user.id}"
    invitation = joined_invitation(event_id) if isinstance(event_id, int) else None
    if invitation is not None:
        return f"presence:{event_id}:p{invitation.person_id}"
    return f"presence:{event_id}:{request.remote_addr}"


def _refusal(message: str, status: int) -> tuple[Response, int]:
    return jsonify(ok=False, error=message), status


@bp.post("/events/<int:event_id>/presence")
@limiter.limit(lambda: current_app.config["PRESENCE_RATE_LIMIT"], key_func=_presence_key)
def presence(event_id: int):  # type: ignore[no-untyped-def]
    """The event page or its board is open (static/js/presence.js, once a minute while the
    page is visible): extend this browser's presence interval. Outside the join window, or
    for an event not held, 204 and nothing recorded."""
    event = db.session.get(Event, event_id)
    if event is None:
        return _refusal(_("There is no such event."), 404)
    person = presence_person(event)
    if person is None:
        return _refusal(_("Only the event's participants report their presence."), 403)
    now = utcnow()
    if event.status not in links.LIVE or links.moment(event, now) != links.Moment.OPEN:
        return Response(status=204)
    record = services.record_of(event, person)
    services.record_presence(record, client_key=links.client_key(),
                             ip=request.remote_addr or "",
                             user_agent=request.user_agent.string, now=now)
    db.session.commit()
    return jsonify(ok=True)


def presence_tag(event: Event) -> Markup:
    """The presence script for the event's pages, when this viewer's presence counts and the
    event is near; else nothing."""
    now = utcnow()
    opens_at, ends_at = links.window(event)
    if event.status not in links.LIVE or not opens_at - PRESENCE_LEAD <= now < ends_at:
        return Markup("")
    if presence_person(event) is None:
        return Markup("")
    return Markup('<script src="{}" data-presence-url="{}" data-presence-end="{}" defer>'
                  "</script>").format(url_for("static", filename="js/presence.js"),
                                      url_for("attendance.presence", event_id=event.id),
                                      int(ends_at.timestamp() * 1000))


# -- revoking a link -----------------------------------------------------------------------


@bp.post("/events/<int:event_id>/attendance/<int:invitation_id>/revoke-link")
@login_required
def revoke_link(event_id: int, invitation_id: int):  # type: ignore[no-untyped-def]
    """The organiser revokes a person's join link (e.g. it was used from two places): the
    old link stops working and the person gets a letter with a new one."""
    event = db.session.get(Event, event_id)
    if event is None:
        abort(404)
    require(can_edit_event(current_user, event))
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.event_id != event.id:
        abort(404)
    name = invitation.person.full_name
    if links.revoke(invitation):
        flash(_("The old link of %(name)s no longer works. A letter with the new link is on "
                "its way to them.", name=name), "success")
    else:
        flash(_("The old link of %(name)s no longer works.", name=name), "success")
    db.session.commit()
    return redirect(safe_next_url(request.form.get("next"),
                                  url_for("attendance.sheet", event_id=event.id)))


@bp.app_context_processor
def _attendance_helpers() -> dict:
    """For templates/attendance/_event_panel.html and the pages of an event."""
    return {"presence_tag": presence_tag, "shared_link_count": links.shared_count}
