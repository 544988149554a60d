"""The organiser's attendance sheet (/events/<id>/attendance), its actions and exports, a
participant's own record, and the municipal coordinator's credit rules (/attendance/rules)."""

from __future__ import annotations

from datetime import UTC, timedelta
from time import perf_counter
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import func, select

from hub.attendance import credit, rules, services, sheet
from hub.attendance.jobs import needs_finalising, register_jobs
from hub.attendance.models import Attendance, Status
from hub.attendance.sheet_forms import GuestForm, IntervalForm, MergeForm, OverrideForm
from hub.attendance.signals import send_credited
from hub.attendance.views import bp
from hub.auth.permissions import can_edit_event, can_view_event, municipal_only, require
from hub.core.types import utcnow
from hub.directory.models import Person
from hub.extensions import db
from hub.scheduling.display import viewer_zone, when_range
from hub.scheduling.models import Event, EventFormat, Invitation, InvitationState

bp.record_once(lambda state: register_jobs())


def _editable_event(event_id: int) -> Event:
    event = db.get_or_404(Event, event_id)
    require(can_edit_event(current_user, event))
    return event


def _record(event: Event, record_id: int) -> Attendance:
    record = db.session.get(Attendance, record_id)
    if record is None or record.event_id != event.id:
        abort(404)
    return record


def _invited(event: Event) -> list[Person]:
    return list(db.session.scalars(
        select(Person).join(Invitation, Invitation.person_id == Person.id).where(
            Invitation.event_id == event.id, Invitation.state == InvitationState.INVITED)
        .order_by(Person.surname, Person.first_name, Person.id)))


def _local_input(event: Event, moment: Any) -> str:
    return moment.astimezone(ZoneInfo(event.timezone)).strftime("%Y-%m-%dT%H:%M")


def _sheet_page(event: Event, errors: list[str] | None = None, status: int = 200) -> Any:
    rows = sheet.rows(event)
    page = render_template(
        "attendance/sheet.html", event=event, rows=rows, totals=sheet.totals(rows),
        status_order=sheet.STATUS_ORDER, statuses=Status, errors=errors or [],
        override_form=OverrideForm(formdata=None), guest_form=GuestForm(formdata=None),
        unseen=_choices([row.record.person for row in rows if row.invitation_id
                         and not row.sources and row.record.override_status is None]),
        interval_form=IntervalForm(formdata=None),
        default_from=_local_input(event, event.start_at),
        default_to=_local_input(event, event.end_at),
        ended=event.end_at <= utcnow(), zone=viewer_zone(), one_day=timedelta(days=1))
    return page, status


def _choices(people: list[Any]) -> list[tuple[Any, str]]:
    """A select of people: the invited who were not seen are the likely match of a guest."""
    return [("", _("— choose —"))] + [(p.id, p.full_name) for p in people]


def _form_errors(form: Any) -> list[str]:
    return [f"{form[name].label.text}: {message}" for name, messages in form.errors.items()
            for message in messages]


def _done(event: Event, message: str, records: list[Attendance]) -> Any:
    """Tell the receivers when the event has ended, commit, and go back to the sheet."""
    if event.end_at <= utcnow():
        send_credited(event, records)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("attendance.sheet", event_id=event.id))


# -- the sheet -----------------------------------------------------------------------------------

@bp.get("/events/<int:event_id>/attendance", endpoint="sheet")
@login_required
def sheet_page(event_id: int) -> Any:
    """Everyone expected and everyone seen, with their status and credit (organisers)."""
    event = _editable_event(event_id)
    if needs_finalising(event, utcnow()):  # ended, and the job has not caught up yet
        send_credited(event, services.finalise(event))
    elif event.end_at > utcnow():  # during the meeting: joins and presence derived now
        services.ensure_records(event)
        services.recompute_event(event)
    db.session.commit()
    return _sheet_page(event)


@bp.get("/events/<int:event_id>/attendance.<any(csv, xlsx):fmt>")
@login_required
def sheet_export(event_id: int, fmt: str) -> Response:
    """The sheet as CSV (UTF-8 with a BOM) or XLSX, times in the viewer's zone."""
    event = _editable_event(event_id)
    rows = sheet.rows(event)
    zone = viewer_zone()
    if fmt == "csv":
        body, mimetype = sheet.as_csv(event, rows, zone), "text/csv; charset=utf-8"
    else:
        body = sheet.as_xlsx(event, rows, zone)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename={sheet.filename(event, fmt)}"})


@bp.post("/events/<int:event_id>/attendance/<int:record_id>/override")
@login_required
def sheet_override(event_id: int, record_id: int) -> Any:
    """Set or clear the organiser's mark; the reason is required either way."""
    event = _editable_event(event_id)
    record = _record(event, record_id)
    form = OverrideForm()
    if not form.validate():
        return _sheet_page(event, _form_errors(form), 400)
    services.set_override(record, form.chosen(), form.reason.data, current_user)
    message = (_("%(name)s: the mark is cleared.", name=record.display_name)
               if form.chosen() is None else
               _("%(name)s is marked “%(status)s”.", name=record.display_name,
                 status=form.chosen().label))
    return _done(event, message, [record])


@bp.post("/events/<int:event_id>/attendance/guests")
@login_required
def sheet_add_guest(event_id: int) -> Any:
    """A guest without an account (merged into a person later, if they get one)."""
    event = _editable_event(event_id)
    form = GuestForm()
    if not form.validate():
        return _sheet_page(event, _form_errors(form), 400)
    record = services.add_guest(event, form.name.data, form.email.data or "", current_user)
    services.recompute(record)
    return _done(event, _("Guest %(name)s added.", name=record.guest_name), [record])


@bp.post("/events/<int:event_id>/attendance/<int:record_id>/merge")
@login_required
def sheet_merge(event_id: int, record_id: int) -> Any:
    """Move a guest's evidence into a person's record (an invited person, or by email)."""
    event = _editable_event(event_id)
    record = _record(event, record_id)
    if record.person_id is not None:
        return _sheet_page(event, [_("%(name)s is not a guest: there is nothing to merge.",
                                     name=record.display_name)], 400)
    form = MergeForm()
    form.person_id.choices = _choices(_invited(event))
    if not form.validate():
        return _sheet_page(event, _form_errors(form), 400)
    if form.person_id.data is not None:
        person = db.session.get(Person, form.person_id.data)
    else:
        person = db.session.scalar(select(Person).where(
            func.lower(Person.email) == form.email.data))
    if person is None:
        return _sheet_page(event, [_("Nobody in the hub has the email %(email)s.",
                                     email=form.email.data)], 400)
    guest = record.display_name
    target = services.merge_guest(record, person, current_user)
    return _done(event, _("%(guest)s is merged into %(person)s.", guest=guest,
                          person=person.full_name), [target])


@bp.post("/events/<int:event_id>/attendance/<int:record_id>/intervals")
@login_required
def sheet_interval(event_id: int, record_id: int) -> Any:
    """An interval the organiser enters, in the event's zone, within the event's time."""
    event = _editable_event(event_id)
    record = _record(event, record_id)
    form = IntervalForm()
    if not form.validate():
        return _sheet_page(event, _form_errors(form), 400)
    zone = ZoneInfo(event.timezone)
    started = form.started.data.replace(tzinfo=zone).astimezone(UTC)
    ended = form.ended.data.replace(tzinfo=zone).astimezone(UTC)
    if ended <= started:
        return _sheet_page(event, [_("The interval must end after it starts.")], 400)
    if started < event.start_at or ended > event.end_at:
        return _sheet_page(event, [_(
            "The interval must lie within the event's time: %(when)s.",
            when=when_range(event.start_at, event.end_at, event.timezone))], 400)
    services.record_manual(record, started, ended, form.note.data or "", current_user)
    return _done(event, _("%(name)s: an interval of %(minutes)d min added.",
                          name=record.display_name,
                          minutes=round((ended - started).total_seconds() / 60)), [record])


@bp.post("/events/<int:event_id>/attendance/recompute")
@login_required
def sheet_recompute(event_id: int) -> Any:
    """Derive every record again now (after the event: import providers' reports first)."""
    event = _editable_event(event_id)
    if event.end_at <= utcnow():
        records = services.finalise(event)
    else:
        services.ensure_records(event)
        records = services.recompute_event(event)
    return _done(event, ngettext("%(num)d record recomputed.", "%(num)d records recomputed.",
                                 len(records)), records)


# -- a participant's own record ----------------------------------------------------------------

@bp.get("/events/<int:event_id>/attendance/me")
@login_required
def my_attendance(event_id: int) -> Any:
    """What the hub recorded of the viewer's attendance of the event."""
    event = db.get_or_404(Event, event_id)
    require(can_view_event(current_user, event))
    record = db.session.scalar(select(Attendance).where(
        Attendance.event_id == event.id, Attendance.person_id == current_user.id))
    if record is not None and event.end_at > utcnow():  # evidence of the meeting so far
        services.recompute(record)
        db.session.commit()
    return render_template("attendance/mine.html", event=event, record=record,
                           sources=sorted({i.source for i in record.intervals}) if record
                           else [])


# -- credit rules --------------------------------------------------------------------------------

def _parse_rules(form: Any) -> tuple[dict[EventFormat, credit.Rule], dict[str, str]]:
    """The rules as posted, and a message per wrong field (its input's name)."""
    wanted: dict[EventFormat, credit.Rule] = {}
    errors: dict[str, str] = {}
    for fmt in EventFormat:
        values = {}
        for name, high in (("percent", 100), ("late", rules.MAX_LATE_MINUTES)):
            key = f"{name}-{fmt.value}"
            raw = (form.get(key) or "").strip()
            if not (raw.isascii() and raw.isdigit()) or int(raw) > high:
                errors[key] = (_("%(format)s: the presence must be a whole number from 0 to "
                                 "100 %%.", format=fmt.label) if name == "percent" else
                               _("%(format)s: the late minutes must be a whole number from 0 "
                                 "to %(max)d.", format=fmt.label, max=high))
                continue
            values[name] = int(raw)
        if len(values) == 2:
            wanted[fmt] = credit.Rule(values["percent"], form.get(f"checks-{fmt.value}") == "1",
                                      values["late"])
    return wanted, errors


@bp.route("/attendance/rules", methods=["GET", "POST"])
@municipal_only
def credit_rules() -> Any:
    """The credit rule of every event format; saving recomputes the past events' credit."""
    current = credit.rules()
    if request.method == "POST":
        wanted, errors = _parse_rules(request.form)
        if errors:
            return render_template("attendance/rules.html", formats=EventFormat,
                                   values=request.form, errors=errors, current=current), 400
        began = perf_counter()
        saved = rules.save(wanted, current_user)
        db.session.commit()
        if not saved.formats:
            flash(_("Nothing changed."), "success")
        else:
            flash(_("Rules saved for %(formats)s. Past events recomputed: %(events)d "
                    "(%(seconds).1f s); records whose status or credit changed: %(records)d.",
                    formats=", ".join(str(f.label) for f in saved.formats),
                    events=saved.events, records=saved.records,
                    seconds=perf_counter() - began), "success")
        return redirect(url_for("attendance.credit_rules"))
    return render_template("attendance/rules.html", formats=EventFormat, values=None,
                           errors={}, current=current)
