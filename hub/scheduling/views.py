"""Events and series: list, create, edit, publish, cancel, the event page, registration.

Thin views: read the request, ask hub.auth.permissions, call hub.scheduling.services, render.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import MethodNotAllowed, NotFound

from hub.attendance import links as join_links
from hub.auth.permissions import (
    can_create_events,
    can_edit_event,
    can_register,
    can_see_responses,
    can_view_event,
    can_view_event_anonymously,
    coordinators_only,
    is_municipal,
    require,
)
from hub.conferencing import accounts as conferencing
from hub.conferencing import rooms
from hub.core.i18n import is_valid_timezone
from hub.core.routing import MAX_ID
from hub.core.types import utcnow
from hub.directory import services as directory
from hub.directory.models import Network, Person
from hub.extensions import db
from hub.scheduling import audience, display, services
from hub.scheduling import recurrence as rec
from hub.scheduling.forms import CancelForm, EventForm
from hub.scheduling.models import (
    Event,
    EventFormat,
    EventRole,
    EventStatus,
    InvitationState,
    PartStat,
    Series,
)
from hub.scheduling.services import SchedulingError, Scope
from hub.scheduling.spec import AUDIENCE_WARN

bp = Blueprint("scheduling", __name__)
display.register(bp)

PER_PAGE = 30
#: Names of invitees shown on the event page (the rest on the responses page).
NAMES_ON_PAGE = 100

E = TypeVar("E")


# --- helpers ------------------------------------------------------------------------------

def _event(event_id: int) -> Event:
    return db.get_or_404(Event, event_id)


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value <= MAX_ID else None


def _show_errors(form: EventForm, errors: dict[str, str]) -> None:
    """Put the services' errors next to their fields (or at the top of the form)."""
    for name, message in errors.items():
        field = getattr(form, name, None) if name not in ("status", "register") else None
        if field is None or not hasattr(field, "errors"):
            form.form_errors.append(message)
        else:
            field.errors = [*field.errors, message]


def _save(form: EventForm, action: Callable[[], E]) -> E | None:
    """Run a service and commit; on bad input roll back, show why and return None."""
    try:
        result = action()
        db.session.commit()
        return result
    except SchedulingError as error:
        db.session.rollback()
        _show_errors(form, error.errors)
    except IntegrityError:
        db.session.rollback()
        form.form_errors.append(_("Someone else has just saved a conflicting change. "
                                  "Please check the form and try again."))
    return None


def _choices(form: EventForm, event: Event | None) -> None:
    """Organisations and networks to choose from: active ones, and those already chosen."""
    current_orgs: set[int] = set()
    current_nets: set[int] = set()
    if event is not None:
        current_orgs = {h.organisation_id for h in event.hosts} | {
            a.organisation_id for a in event.audience if a.organisation_id}
        current_nets = {a.network_id for a in event.audience if a.network_id}
        if event.network_id:
            current_nets.add(event.network_id)
    organisations = directory.active_organisations(include=current_orgs)
    org_choices = [(o.id, o.short_name) for o in organisations]
    form.hosts.choices = org_choices
    form.audience_organisations.choices = org_choices
    nets = list(db.session.scalars(
        select(Network).where(Network.active.is_(True) | Network.id.in_(current_nets or {0}))
        .order_by(Network.name, Network.id)))
    net_choices = [(n.id, f"{n.name} ({n.school_year})") for n in nets]
    form.network_id.choices = [("", "—"), *net_choices]
    form.audience_networks.choices = net_choices
    host_ids = ([h.organisation_id for h in event.hosts] if event is not None else [])
    form.provider.choices = [
        (c.key, c.label if c.reason is None or c.key == (event and event.provider)
         else f"{c.label} — {c.reason}")
        for c in conferencing.choices([*host_ids, current_user.organisation_id])]


def _defaults(form: EventForm) -> None:
    """A new event: tomorrow 15:00–16:30 in the organiser's zone, hosted by their organisation."""
    zone = current_user.timezone if is_valid_timezone(current_user.timezone) else "Europe/Moscow"
    tomorrow = (utcnow().astimezone(ZoneInfo(zone)) + timedelta(days=1)).date()
    form.timezone.data = zone
    form.start_date.data = tomorrow
    form.start_time.data, form.end_time.data = time(15), time(16, 30)
    form.format.data = int(EventFormat.WEBINAR)
    form.board_enabled.data = True
    form.reminder_minutes.data = "1440, 60"
    if not is_municipal(current_user):
        form.hosts.data = [current_user.organisation_id]
    form.ends.data, form.count.data, form.interval.data = "count", 10, 1


def _route_exists(path: str) -> bool:
    """Whether the hub answers `path` (the calendar domain's personal links)."""
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(path, method="GET")
        return True
    except (NotFound, MethodNotAllowed):
        return False
    except Exception:  # noqa: BLE001 - a redirect or the like: the route is there
        return True


def _form_page(form: EventForm, event: Event | None, warnings: Any = None):  # type: ignore[no-untyped-def]
    if warnings:
        form.confirmed.data = "1"  # the next "publish" goes ahead: the warnings were shown
    return render_template(
        "scheduling/event_form.html", form=form, event=event, warnings=warnings,
        can_view=lambda other: can_view_event(current_user, other),
        audience_warn=AUDIENCE_WARN, weekday_names=rec.WEEKDAY_NAMES,
        setpos_labels=rec.SETPOS_LABELS)


def _submitted_scope(form: EventForm, event: Event | None) -> Scope:
    if event is None or event.series_id is None:
        return Scope.ONE
    try:
        return Scope(form.scope.data or "one")
    except ValueError:
        return Scope.ONE


# --- list ---------------------------------------------------------------------------------

@bp.get("/events")
@login_required
def events():  # type: ignore[no-untyped-def]
    try:
        event_format = EventFormat(int(request.args.get("format", "")))
    except (TypeError, ValueError):
        event_format = None
    organisation_id = _int_arg("organisation")
    network_id = _int_arg("network")
    past = request.args.get("when") == "past"
    mine = request.args.get("mine") == "1"
    statement = services.visible_events(
        current_user, past=past, event_format=event_format, organisation_id=organisation_id,
        network_id=network_id, mine=mine)
    page = db.paginate(statement, page=max(1, min(request.args.get("page", 1, type=int) or 1,
                                                  100_000)),
                       per_page=PER_PAGE, error_out=False)
    organisations = directory.active_organisations(include=[organisation_id or 0])
    networks = list(db.session.scalars(select(Network).where(Network.active.is_(True))
                                       .order_by(Network.name)))
    return render_template(
        "scheduling/events.html", page=page, formats=EventFormat, event_format=event_format,
        organisations=organisations, networks=networks, organisation_id=organisation_id,
        network_id=network_id, past=past, mine=mine,
        can_create=can_create_events(current_user),
        filtered=bool(event_format or organisation_id or network_id or mine))


# --- create and edit ----------------------------------------------------------------------

@bp.route("/events/new", methods=["GET", "POST"])
@coordinators_only
def event_new():  # type: ignore[no-untyped-def]
    require(can_create_events(current_user))
    form = EventForm()
    _choices(form, None)
    if not form.is_submitted():
        _defaults(form)
        return _form_page(form, None)
    warnings = None
    if form.validate():
        spec = form.to_spec()
        if spec is not None:
            publish = bool(form.publish.data)
            clean = _save(form, lambda: services.check(current_user, spec))
            if clean is not None:
                warnings = services.warnings_for(current_user, clean)
                if not (publish and warnings and form.confirmed.data != "1"):
                    event = _save(form, lambda: services.create_event(
                        current_user, spec, publish=publish, clean=clean))
                    if event is not None:
                        _flash_saved(event, publish, created=True)
                        return redirect(url_for(".event", event_id=event.id))
    return _form_page(form, None, warnings)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@login_required
def event_edit(event_id: int):  # type: ignore[no-untyped-def]
    event = _event(event_id)
    require(can_edit_event(current_user, event))
    if event.status == EventStatus.CANCELLED:
        flash(_("A cancelled event cannot be changed."), "error")
        return redirect(url_for(".event", event_id=event.id))
    form = EventForm()
    _choices(form, event)
    if not form.is_submitted():
        form.fill_from(event)
        if event.series is None:
            form.ends.data, form.count.data, form.interval.data = "count", 10, 1
        return _form_page(form, event)
    warnings = None
    if form.validate():
        spec = form.to_spec()
        if spec is not None:
            scope = _submitted_scope(form, event)
            publish = bool(form.publish.data) and event.status == EventStatus.DRAFT
            clean = _save(form, lambda: services.check(current_user, spec, event, scope))
            if clean is not None:
                warnings = services.warnings_for(current_user, clean, event, scope)
                sends = publish or event.status == EventStatus.SCHEDULED
                if not (sends and warnings and form.confirmed.data != "1"):
                    def change() -> Event:
                        edited = services.update_event(current_user, event, spec, scope,
                                                       clean=clean)
                        if publish:
                            services.publish_event(edited)
                        return edited

                    edited = _save(form, change)
                    if edited is not None:
                        _flash_saved(edited, publish, created=False)
                        return redirect(url_for(".event", event_id=edited.id))
    return _form_page(form, event, warnings)


def _flash_saved(event: Event, published: bool, *, created: bool) -> None:
    if event.series is not None and created:
        count = len(event.series.events)
        flash(ngettext("Series saved: %(num)d session.", "Series saved: %(num)d sessions.",
                       count), "success")
    if published:
        flash(_("Published: the invitations are on their way."), "success")
    elif created and event.status == EventStatus.DRAFT:
        flash(_("Saved as a draft: only the organisers see it. Publish it to send the "
                "invitations."), "success")
    else:
        flash(_("Changes saved."), "success")


# --- status -------------------------------------------------------------------------------

def _change_status(event_id: int, change: Callable[[Event], str]):  # type: ignore[no-untyped-def]
    """Apply `change` (it returns the message to show) to an event the viewer may edit,
    commit, and go back to the event page; a refusal is shown instead and changes nothing."""
    event = _event(event_id)
    require(can_edit_event(current_user, event))
    try:
        message = change(event)
        db.session.commit()
        flash(message, "success")
    except SchedulingError as error:
        db.session.rollback()
        flash(" ".join(error.errors.values()), "error")
    return redirect(url_for(".event", event_id=event.id))


@bp.post("/events/<int:event_id>/publish")
@login_required
def event_publish(event_id: int):  # type: ignore[no-untyped-def]
    def publish(event: Event) -> str:
        services.publish_event(event)
        return _("Published: the invitations are on their way.")

    return _change_status(event_id, publish)


@bp.post("/events/<int:event_id>/cancel")
@login_required
def event_cancel(event_id: int):  # type: ignore[no-untyped-def]
    def cancel(event: Event) -> str:
        try:
            scope = Scope(CancelForm().scope.data or "one") if event.series_id else Scope.ONE
        except ValueError:
            scope = Scope.ONE
        cancelled = services.cancel_event(event, scope)
        if len(cancelled) == 1:
            return _("Cancelled. The invitees are told.")
        return ngettext("%(num)d session cancelled. The invitees are told.",
                        "%(num)d sessions cancelled. The invitees are told.", len(cancelled))

    return _change_status(event_id, cancel)


@bp.post("/events/<int:event_id>/complete")
@login_required
def event_complete(event_id: int):  # type: ignore[no-untyped-def]
    def complete(event: Event) -> str:
        services.complete_event(event)
        return _("Marked as held.")

    return _change_status(event_id, complete)


# --- registration -------------------------------------------------------------------------

@bp.post("/events/<int:event_id>/register")
@login_required
def event_register(event_id: int):  # type: ignore[no-untyped-def]
    event = _event(event_id)
    require(can_view_event(current_user, event))
    if not can_register(current_user, event):
        flash(_("Registration for this event is closed."), "error")
        return redirect(url_for(".event", event_id=event.id))
    try:
        invitation = audience.register(event, current_user)
        db.session.commit()
    except SchedulingError as error:
        db.session.rollback()
        flash(" ".join(error.errors.values()), "error")
        return redirect(url_for(".event", event_id=event.id))
    except IntegrityError:  # registered twice at the same moment: the first one counts
        db.session.rollback()
        return redirect(url_for(".event", event_id=event.id))
    if invitation.state == InvitationState.WAITLISTED:
        flash(_("The event is full: you are on the waiting list. You will get the invitation "
                "by email if a place frees up."), "info")
    else:
        flash(_("You are registered. The invitation is on its way to %(email)s.",
                email=current_user.email), "success")
    return redirect(url_for(".event", event_id=event.id))


@bp.post("/events/<int:event_id>/unregister")
@login_required
def event_unregister(event_id: int):  # type: ignore[no-untyped-def]
    event = _event(event_id)
    require(can_view_event(current_user, event))
    try:
        audience.unregister(event, current_user)
        db.session.commit()
        flash(_("Your registration is withdrawn."), "success")
    except SchedulingError as error:
        db.session.rollback()
        flash(" ".join(error.errors.values()), "error")
    return redirect(url_for(".event", event_id=event.id))


# --- the event page -----------------------------------------------------------------------

@bp.get("/events/<int:event_id>")
def event(event_id: int):  # type: ignore[no-untyped-def]
    event = _event(event_id)
    if not current_user.is_authenticated:
        if not can_view_event_anonymously(event):
            return current_app.login_manager.unauthorized()
        return render_template("scheduling/event.html", **_page(event, public=True))
    require(can_view_event(current_user, event))
    return render_template("scheduling/event.html", **_page(event, public=False))


def _page(event: Event, *, public: bool) -> dict[str, Any]:
    now = utcnow()
    context: dict[str, Any] = {
        "event": event, "public": public, "now": now,
        "speakers": [p.person for p in event.people if p.role == EventRole.SPEAKER],
        "moderators": [p.person for p in event.people if p.role == EventRole.MODERATOR],
        "organisers": [p.person for p in event.people if p.role == EventRole.ORGANISER],
        # The join button shows while the personal join link lets people in.
        "in_window": join_links.window(event)[0] <= now < event.end_at
        and event.status == EventStatus.SCHEDULED,
        "ended": event.end_at <= now,
        "places_left": audience.places_left(event) if event.capacity else None,
        "can_edit": False, "invitation": None, "join_url": None, "rsvp_urls": None,
        "series_index": None, "provider_label": conferencing.label(event.provider),
    }
    if event.series is not None:
        sessions = sorted(event.series.events, key=lambda e: (e.start_at, e.id))
        context["series_index"] = (sessions.index(event) + 1, len(sessions))
    if public:
        return context
    user = current_user
    invitation = audience.invitation_of(event, user)
    can_edit = can_edit_event(user, event)
    has_role = any(p.person_id == user.id for p in event.people)
    context.update(can_edit=can_edit, invitation=invitation,
                   can_register=can_register(user, event), cancel_form=CancelForm())
    invited = invitation is not None and invitation.state == InvitationState.INVITED
    if invited:
        token = audience.personal_token(invitation)
        if _route_exists(f"/rsvp/{token}"):
            context["rsvp_urls"] = {a: f"/rsvp/{token}?answer={a}"
                                    for a in ("accepted", "tentative", "declined")}
        if _route_exists(f"/j/{token}"):
            context["join_url"] = f"/j/{token}"
    if context["join_url"] is None and (invited or can_edit or has_role):
        context["join_url"] = url_for("conferencing.join_event", event_id=event.id)
    if can_edit:
        context["room"] = rooms.room_of(event)
    if invitation is not None and invitation.state == InvitationState.WAITLISTED:
        line = audience.waiting_list(event)
        context["waiting_position"] = next(
            (n for n, i in enumerate(line, start=1) if i.id == invitation.id), None)
    if can_see_responses(user, event):
        context["counts"] = audience.rsvp_counts(event)
        context["invitees"] = audience.invitations_with_people(event, limit=NAMES_ON_PAGE)
        context["waiting"] = audience.invitations_with_people(
            event, (InvitationState.WAITLISTED,), limit=NAMES_ON_PAGE)
        context["conflicts"] = services.conflicts_of(event)
        context["can_view"] = lambda other: can_view_event(user, other)
        context["partstats"] = PartStat
    return context


@bp.get("/events/<int:event_id>/responses")
@login_required
def event_responses(event_id: int):  # type: ignore[no-untyped-def]
    """Everyone invited, with their answers (organisers)."""
    event = _event(event_id)
    require(can_see_responses(current_user, event))
    answer = request.args.get("answer", "")
    states = (InvitationState.INVITED, InvitationState.WAITLISTED, InvitationState.REMOVED)
    rows = audience.invitations_with_people(event, states)
    try:
        chosen = PartStat[answer.upper().replace("-", "_")] if answer else None
    except KeyError:
        chosen = None
    if chosen is not None:
        rows = [r for r in rows if r.partstat == chosen and r.state == InvitationState.INVITED]
    return render_template("scheduling/responses.html", event=event, rows=rows, chosen=chosen,
                           counts=audience.rsvp_counts(event), partstats=PartStat,
                           states=InvitationState)


# --- series -------------------------------------------------------------------------------

@bp.get("/series/<int:series_id>")
@login_required
def series(series_id: int):  # type: ignore[no-untyped-def]
    item = db.get_or_404(Series, series_id)
    sessions = sorted(item.events, key=lambda e: (e.start_at, e.id))
    visible = [e for e in sessions if can_view_event(current_user, e)]
    require(bool(visible))
    editable = any(can_edit_event(current_user, e) for e in sessions)
    try:
        rule = rec.parse_rrule(item.rrule, item.timezone).describe()
    except (ValueError, IndexError):
        rule = item.rrule
    cohort = sorted(item.cohort, key=lambda m: (m.role != EventRole.MENTOR, m.id))
    return render_template("scheduling/series.html", series=item, sessions=visible,
                           rule=rule, can_edit=editable, cohort=cohort, now=utcnow())


# --- people for the address fields --------------------------------------------------------

@bp.get("/events/people.json")
@coordinators_only
def people_json():  # type: ignore[no-untyped-def]
    """People whose name or email contains the query, for the form's address fields: anyone
    for a municipal coordinator; for an organisation coordinator, the people of their own
    organisation and of its partners in network associations (as the directory shows them)."""
    query = request.args.get("q", "", type=str).strip()[:100]
    if len(query) < 2:
        return jsonify(people=[])
    statement = directory.search_people(query)
    if not is_municipal(current_user):
        statement = statement.where(Person.organisation_id.in_(
            services.partner_organisation_ids(current_user.organisation_id)))
    rows = db.session.scalars(statement.limit(20))
    return jsonify(people=[{"name": p.full_name, "email": p.email,
                            "organisation": p.organisation.short_name} for p in rows])
