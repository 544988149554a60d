"""Public calendar URLs: /events/<id>.ics, /feeds/<token>.ics, /rsvp/<token>, /j/<token>, the
public feeds of organisations and networks, and the person's own feed page (/feeds)."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.calendar import feeds, rsvp
from hub.calendar.ics import event_zone
from hub.calendar.invitations import find_invitation, invitation_token
from hub.calendar.jobs import register_jobs
from hub.calendar.messages import person_locale, times_for
from hub.core.safety import safe_next_url
from hub.directory.models import Network, Organisation
from hub.extensions import db, limiter
from hub.scheduling.models import Event, EventStatus, InvitationState

bp = Blueprint("calendar", __name__)
bp.record_once(lambda state: register_jobs())

ICS_TYPE = "text/calendar; charset=utf-8"
#: Unknown or revoked tokens of /j/, /rsvp/ and /feeds/ per client address: a scan, not a
#: school behind one address (links that work never count).
TOKEN_MISS_LIMIT = "30 per minute"
token_miss_limit = limiter.shared_limit(
    TOKEN_MISS_LIMIT, scope="calendar-token-miss",
    deduct_when=lambda response: response.status_code == 404)


@bp.app_context_processor
def _feed_helpers() -> dict:
    """`calendar_feed_links(person)` for templates/calendar/_feed_box.html."""
    return {"calendar_feed_links": feeds.feed_links}


def _calendar_response(data: bytes, filename: str, *, private: bool,
                       attachment: bool = False) -> Response:
    response = Response(data, mimetype="text/calendar")
    response.headers["Content-Type"] = ICS_TYPE
    disposition = "attachment" if attachment else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["Cache-Control"] = ("private, max-age=300" if private
                                         else "public, max-age=900")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.add_etag()
    return response.make_conditional(request)


def _gone(message: str, code: int = 404):  # type: ignore[no-untyped-def]
    return render_template("calendar/link_gone.html", message=message), code


def _person_language(person):  # type: ignore[no-untyped-def]
    """Pages opened from a letter speak the letter's language unless the visitor chose one."""
    return force_locale(session.get("lang") or person_locale(person))


# -- /events/<id>.ics ------------------------------------------------------------------------


@bp.get("/events/<int:event_id>.ics")
def event_ics(event_id: int):  # type: ignore[no-untyped-def]
    """The event as iCalendar (PUBLISH). Open events: anyone; others: whoever may see the
    event page; drafts: their organisers only (404 for anyone else)."""
    from hub.auth.permissions import can_view_event, can_view_event_anonymously

    event = db.session.get(Event, event_id)
    if event is None:
        abort(404)
    if not can_view_event_anonymously(event):
        if not current_user.is_authenticated:
            if event.status == EventStatus.DRAFT:
                abort(404)
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if not can_view_event(current_user, event):
            abort(404 if event.status == EventStatus.DRAFT else 403)
    return _calendar_response(feeds.event_calendar(event), f"event-{event.id}.ics",
                              private=not can_view_event_anonymously(event), attachment=True)


# -- feeds -----------------------------------------------------------------------------------


@bp.get("/feeds/<token>.ics")
@token_miss_limit
def person_feed(token: str):  # type: ignore[no-untyped-def]
    """A person's subscribable calendar; the token is the only key (calendar apps cannot sign
    in). An unknown or rotated token answers 404."""
    feed = feeds.find_feed(token)
    if feed is None or not feed.person.active:
        abort(404)
    return _calendar_response(feeds.person_calendar(feed.person), "vmeste-hub.ics",
                              private=True)


def _public_feed(target: Organisation | Network | None, filename: str):  # type: ignore[no-untyped-def]
    """The open events of an active organisation or network, as a public calendar."""
    if target is None or not target.active:
        abort(404)
    if isinstance(target, Organisation):
        events, name = feeds.open_events(organisation=target), target.short_name
    else:
        events, name = feeds.open_events(network=target), target.name
    return _calendar_response(feeds.public_calendar(events, f"Vmeste hub: {name}"), filename,
                              private=False)


@bp.get("/feeds/organisations/<int:organisation_id>.ics")
def organisation_feed(organisation_id: int):  # type: ignore[no-untyped-def]
    """Open events hosted by an organisation (public)."""
    return _public_feed(db.session.get(Organisation, organisation_id),
                        f"organisation-{organisation_id}.ics")


@bp.get("/feeds/networks/<int:network_id>.ics")
def network_feed(network_id: int):  # type: ignore[no-untyped-def]
    """Open events of a network association (public)."""
    return _public_feed(db.session.get(Network, network_id), f"network-{network_id}.ics")


@bp.get("/feeds")
@login_required
def my_feed():  # type: ignore[no-untyped-def]
    """The signed-in person's calendar subscription (the box the profile page includes)."""
    return render_template("calendar/feed.html", person=current_user)


@bp.post("/feeds/rotate")
@login_required
def rotate_feed():  # type: ignore[no-untyped-def]
    """A new address for the signed-in person's feed; the old one stops working."""
    feeds.rotate_feed(current_user)
    db.session.commit()
    flash(_("Your calendar has a new address. Subscribe again with it: the old address no "
            "longer works."), "success")
    return redirect(safe_next_url(request.form.get("next"), url_for("calendar.my_feed")))


# -- /rsvp/<token> ---------------------------------------------------------------------------


def _rsvp_invitation(token: str):  # type: ignore[no-untyped-def]
    invitation = find_invitation(token)
    if invitation is None or invitation.state != InvitationState.INVITED \
            or invitation.event.status == EventStatus.DRAFT:
        return None
    return invitation


def _rsvp_page(invitation, token: str, *, chosen, series: bool, saved: bool,  # type: ignore[no-untyped-def]
               error: str | None = None, code: int = 200):
    person = invitation.person
    event = invitation.event
    with _person_language(person):
        locale = session.get("lang") or person_locale(person)
        when_event, when_person = times_for(person, event.start_at, event.end_at,
                                            event.timezone, locale)
        covered = rsvp.covered(invitation, series=series)
        page = render_template(
            "calendar/rsvp.html", invitation=invitation, event=event, person=person,
            token=token, chosen=chosen, series=series and event.series_id is not None,
            sessions=len(covered), saved=saved, error=error, closed=rsvp.why_closed(invitation),
            when_event=when_event, when_person=when_person, answers=rsvp.ANSWERS,
            answer_key=rsvp.answer_key(invitation.partstat),
            zone=event_zone(event.timezone))
    response = Response(page, status=code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/rsvp/<token>")
@token_miss_limit
def rsvp_page(token: str):  # type: ignore[no-untyped-def]
    """The confirm page an RSVP link opens: nothing is recorded by a GET (mail scanners open
    every link of a letter)."""
    invitation = _rsvp_invitation(token)
    if invitation is None:
        return _gone(_("This invitation link is not valid any more. The organiser may have "
                       "changed the list of participants."))
    chosen = rsvp.parse_answer(request.args.get("answer"))
    return _rsvp_page(invitation, token, chosen=chosen, series=request.args.get("scope") ==
                      "series", saved=request.args.get("saved") == "1")


@bp.post("/rsvp/<token>")
@token_miss_limit
def rsvp_answer(token: str):  # type: ignore[no-untyped-def]
    """Record the answer, then show it (post/redirect/get)."""
    invitation = _rsvp_invitation(token)
    if invitation is None:
        return _gone(_("This invitation link is not valid any more. The organiser may have "
                       "changed the list of participants."))
    series = request.form.get("scope") == "series"
    answer = rsvp.parse_answer(request.form.get("answer"))
    if answer is None:
        return _rsvp_page(invitation, token, chosen=None, series=series, saved=False,
                          error=_("Choose an answer."), code=400)
    if rsvp.why_closed(invitation) is not None:
        return _rsvp_page(invitation, token, chosen=answer, series=series, saved=False,
                          code=409)
    rsvp.record_answer(invitation, answer, series=series)
    db.session.commit()
    return redirect(url_for("calendar.rsvp_page", token=invitation_token(invitation),
                            answer=rsvp.answer_key(answer), saved=1,
                            **({"scope": "series"} if series else {})))


# -- /j/<token> ------------------------------------------------------------------------------


@bp.get("/j/<token>")
@token_miss_limit
def join(token: str):  # type: ignore[no-untyped-def]
    """A person's join link: to the event's conference room, through the provider's link for
    them (made now, so a room made late or changed needs no new letter). It lets people in
    from JOIN_OPENS_MINUTES_BEFORE the start until the end, recording the join once per
    browser (hub/attendance/links.py); before that a page says when it opens, in the person's
    zone, and after the end that the event has ended. While the room is not ready, a page
    says so. A series' link leads to the person's current or next session."""
    from hub.attendance import links
    from hub.attendance.join_views import join_wait_page
    from hub.board.access import remember_join
    from hub.conferencing.joining import join_link
    from hub.conferencing.views import not_ready_page, redirect_to_room
    from hub.core.types import utcnow

    invitation = find_invitation(token)
    if invitation is None or invitation.state != InvitationState.INVITED \
            or invitation.event.status == EventStatus.DRAFT:
        return _gone(_("This link to join is not valid any more. The organiser may have "
                       "changed the list of participants; look for a newer letter."))
    now = utcnow()
    invitation = links.current_invitation(invitation, now)
    event = invitation.event
    with _person_language(invitation.person):
        if event.status == EventStatus.CANCELLED:
            return _gone(_("This event has been cancelled."), 410)
        remember_join(invitation)
        moment = links.moment(event, now)
        if moment != links.Moment.OPEN:
            return join_wait_page(invitation, moment, now)
        if request.method == "GET":  # a HEAD (link checkers) records nothing
            links.record_click(invitation, ip=request.remote_addr or "",
                               user_agent=request.user_agent.string, now=now)
        link = join_link(event, invitation.person)
        db.session.commit()
        if link is None:
            return not_ready_page(event)
    return redirect_to_room(link)
