"""Presence checks with rotating codes: the organiser's display (code, QR, countdown) and its
JSON, opening and closing rounds, and the participant's page where the code is typed.

Participants are people signed in, or people who opened their personal join link in this
browser without signing in (hub.board.access.joined_invitation); anyone else is sent to sign
in. GET never changes anything: a QR code only fills in the form."""

from __future__ import annotations

from typing import Any

import segno
from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.attendance import checkins
from hub.attendance.checkins import CheckinError, Result
from hub.attendance.models import CheckRound
from hub.attendance.views import bp
from hub.auth.permissions import can_edit_event, can_view_event, require
from hub.auth.services import absolute_url
from hub.board.access import joined_invitation
from hub.core.types import utcnow
from hub.directory.models import Person
from hub.extensions import db, limiter
from hub.scheduling.models import Event, EventStatus

#: HTTP status of the participant's page for each answer that is not a success.
STATUS = {Result.ALREADY: 200, Result.NO_ROUND: 409, Result.BAD_FORMAT: 400,
          Result.WRONG_CODE: 400, Result.NOT_PARTICIPANT: 403, Result.RATE_LIMITED: 429}


def _event(event_id: int) -> Event:
    return db.get_or_404(Event, event_id)


def _ip_limit() -> str:
    return current_app.config.get("CHECKIN_IP_LIMIT") or checkins.IP_LIMIT


def _participant(event: Event) -> Person | None:
    """Who is checking in: the signed-in person, else the person whose join link for this
    event was opened in this browser."""
    if current_user.is_authenticated:
        return current_user
    invitation = joined_invitation(event.id)
    if invitation is None or not invitation.person.active:
        return None
    return invitation.person


def _qr_svg(url: str) -> str:
    """The URL as a QR code, inline SVG (no outside service)."""
    return segno.make(url, error="m").svg_inline(
        border=2, omitsize=True, svgclass="checkin-qr-svg", dark="#000", light="#fff")


def _state(event: Event) -> dict[str, Any]:
    """What the display shows now: the open round's code, QR, countdowns and count."""
    now = utcnow()
    check_round = checkins.open_round_of(event, now)
    if check_round is None:
        return {"open": False, "round_id": None}
    code = checkins.current_code(check_round, now)
    url = absolute_url("attendance.checkin", event_id=event.id, code=code)
    return {"open": True, "round_id": check_round.id, "code": code, "url": url,
            "qr_svg": _qr_svg(url),
            "seconds_left": round(checkins.seconds_to_rotation(now), 2),
            "closes_in": max(0, int((check_round.closes_at - now).total_seconds())),
            "count": checkins.count_of(check_round),
            "required_checks": event.required_checks}


# -- the organiser -----------------------------------------------------------------------------

@bp.get("/events/<int:event_id>/checkin/display")
@login_required
def checkin_display(event_id: int):  # type: ignore[no-untyped-def]
    """A page to show on the big screen (or share): the code, its QR, the countdown."""
    event = _event(event_id)
    require(can_edit_event(current_user, event))
    return render_template(
        "attendance/checkin_display.html", event=event, state=_state(event),
        rounds=checkins.rounds_with_counts(event), why_not=checkins.why_not_open(event),
        default_minutes=checkins.DEFAULT_MINUTES, max_minutes=checkins.MAX_MINUTES,
        checkin_address=absolute_url("attendance.checkin", event_id=event.id).split("://")[-1])


@bp.get("/events/<int:event_id>/checkin/code.json")
def checkin_code(event_id: int):  # type: ignore[no-untyped-def]
    """The display's state, polled by static/js/checkin.js (organisers only)."""
    event = _event(event_id)
    if not current_user.is_authenticated or not can_edit_event(current_user, event):
        return jsonify(error="forbidden", message=_("You do not have access to this page.")), 403
    response = jsonify(_state(event))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/events/<int:event_id>/checkin/rounds")
@login_required
def checkin_open(event_id: int):  # type: ignore[no-untyped-def]
    """Open a check round (or go on with the one open) and show it."""
    event = _event(event_id)
    require(can_edit_event(current_user, event))
    raw = (request.form.get("minutes") or "").strip()
    try:
        minutes = int(raw) if raw else checkins.DEFAULT_MINUTES
        checkins.open_round(event, current_user, minutes)
    except ValueError as error:
        db.session.rollback()
        message = str(error) if isinstance(error, CheckinError) else _(
            "A check lasts from 1 to %(n)d minutes.", n=checkins.MAX_MINUTES)
        flash(message, "error")
        return redirect(url_for("scheduling.event", event_id=event.id))
    db.session.commit()
    return redirect(url_for(".checkin_display", event_id=event.id))


@bp.post("/events/<int:event_id>/checkin/rounds/<int:round_id>/close")
@login_required
def checkin_close(event_id: int, round_id: int):  # type: ignore[no-untyped-def]
    """Close a round early."""
    event = _event(event_id)
    require(can_edit_event(current_user, event))
    check_round = db.session.get(CheckRound, round_id)
    if check_round is None or check_round.event_id != event.id:
        abort(404)
    checkins.close_round(check_round)
    db.session.commit()
    flash(_("The check is closed: %(n)d checked in.", n=checkins.count_of(check_round)),
          "success")
    if request.form.get("back") == "event":
        return redirect(url_for("scheduling.event", event_id=event.id))
    return redirect(url_for(".checkin_display", event_id=event.id))


# -- the participant ---------------------------------------------------------------------------

@bp.route("/events/<int:event_id>/checkin", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
def checkin(event_id: int):  # type: ignore[no-untyped-def]
    """Type the code shown by the organiser (prefilled from ?code= when arriving by QR)."""
    event = _event(event_id)
    person = _participant(event)
    if person is None:
        return current_app.login_manager.unauthorized()
    if current_user.is_authenticated:
        require(can_view_event(person, event) or checkins.is_participant(event, person))
    if request.method == "GET":
        typed = checkins.clean_code(request.args.get("code", "")) or ""
        return _checkin_page(event, person, typed)
    answer = checkins.verify_and_record(event, person, request.form.get("code", ""),
                                        request.remote_addr or "")
    db.session.commit()
    if answer.result == Result.OK:
        flash(answer.result.message, "success")
        return redirect(url_for(".checkin", event_id=event.id))
    kept = checkins.clean_code(request.form.get("code", "")) or ""
    if answer.result in (Result.WRONG_CODE, Result.RATE_LIMITED):
        kept = ""
    return _checkin_page(event, person, kept, answer.result), STATUS[answer.result]


def _checkin_page(event: Event, person: Person, typed: str,
                  result: Result | None = None) -> str:
    now = utcnow()
    rounds = checkins.answerable_rounds(event, now)
    record = checkins.record_for(event, person)
    done = checkins.answered(record, rounds)
    return render_template(
        "attendance/checkin.html", event=event, person=person, typed=typed, result=result,
        open_round=checkins.open_round_of(event, now),
        answered_all=bool(rounds) and done >= {r.id for r in rounds},
        passed=record.checks_passed if record is not None else 0,
        participant=checkins.is_participant(event, person),
        organiser=current_user.is_authenticated and can_edit_event(current_user, event))


# -- the panel on the event page ---------------------------------------------------------------

@bp.app_template_global()
def checkin_panel(event: Event) -> dict[str, Any] | None:
    """What templates/attendance/_checkin_panel.html shows to the viewer, or None."""
    if not current_user.is_authenticated or event.status not in (EventStatus.SCHEDULED,
                                                                 EventStatus.COMPLETED):
        return None
    now = utcnow()
    if can_edit_event(current_user, event):
        rounds = checkins.rounds_with_counts(event)
        return {"organiser": True, "open_round": checkins.open_round_of(event, now),
                "rounds": rounds, "why_not": checkins.why_not_open(event, now),
                "default_minutes": checkins.DEFAULT_MINUTES,
                "max_minutes": checkins.MAX_MINUTES}
    open_round = checkins.open_round_of(event, now)
    if (open_round is None and not event.required_checks) \
            or not checkins.is_participant(event, current_user):
        return None
    record = checkins.record_for(event, current_user)
    return {"organiser": False, "open_round": open_round,
            "answered": bool(open_round) and bool(checkins.answered(record, [open_round])),
            "passed": record.checks_passed if record is not None else 0}
