"""The joint plan of a network association: items, approvals, planned against held, export.

Thin views: read the request, ask hub.scheduling.plan who may do what, call its services,
render or redirect.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RoutingException

from hub.auth.permissions import require
from hub.core.types import utcnow
from hub.directory.models import Network
from hub.extensions import db
from hub.scheduling import plan as services
from hub.scheduling.calendars import visible_to
from hub.scheduling.models import Event, EventFormat, PlanItem, PlanStatus
from hub.scheduling.plan_forms import ApproveForm, PlanItemForm

bp = Blueprint("plan", __name__)


# --- helpers ------------------------------------------------------------------------------

def _network(network_id: int) -> Network:
    return db.get_or_404(Network, network_id)


def _item(network: Network, item_id: int) -> PlanItem:
    item = services.item_of(network, item_id)
    if item is None:
        abort(404)
    return item


def _month_label(year: int, month: int) -> str:
    label = format_date(date(year, month, 1), "LLLL y")
    return label[:1].upper() + label[1:]


def _fill_choices(form: PlanItemForm, network: Network, item: PlanItem | None = None) -> None:
    months = services.school_year_months(network)
    if item is not None and (item.year, item.month) not in months:
        months = [(item.year, item.month), *months]
    form.month.choices = [("", "—")] + [
        (services.month_value(y, m), _month_label(y, m)) for y, m in months]
    organisations = services.members_for_choice(
        network, include=[item.responsible_id] if item else [])
    form.responsible.choices = [("", "—")] + [(o.id, o.short_name) for o in organisations]
    form.format.choices = [("", "—"), *EventFormat.choices()]


def _save(form: PlanItemForm, action):  # type: ignore[no-untyped-def]
    """Run a service and commit; on bad input roll back and show why next to the fields."""
    try:
        result = action()
        db.session.commit()
        return result if result is not None else True
    except services.PlanError as error:
        db.session.rollback()
        for name, message in error.errors.items():
            field = getattr(form, name, None)
            if field is not None and hasattr(field, "errors"):
                field.errors = [*field.errors, message]
            else:
                form.form_errors.append(message)
    return None


def _values(form: PlanItemForm) -> dict:
    return {"month": form.month.data, "topic": form.topic.data, "format": form.format.data,
            "responsible": form.responsible.data}


def _visible_event_ids(plan) -> set[int]:  # type: ignore[no-untyped-def]
    if plan is None or not plan.items:
        return set()
    ids = [i.id for i in plan.items]
    return set(db.session.scalars(
        select(Event.id).where(Event.plan_item_id.in_(ids), visible_to(current_user))))


def _show(network: Network, form: PlanItemForm | None = None, status_code: int = 200):
    plan = services.plan_of(network)
    can_edit = services.can_edit_plan(current_user, network)
    if form is None and can_edit:
        form = PlanItemForm(formdata=None)
        _fill_choices(form, network)
    my_member = services.member_of(current_user, network)
    rows = services.approval_rows(plan, network)
    mine = next((r for r in rows if my_member and r.member.id == my_member.id), None)
    return render_template(
        "scheduling/plan.html", net=network, plan=plan, rows=rows,
        status=services.plan_status(plan, network), statuses=PlanStatus,
        progress=services.plan_progress(plan, network), form=form if can_edit else None,
        can_edit=can_edit, can_approve=services.can_approve_plan(current_user, network),
        my_row=mine, approve_form=ApproveForm(formdata=None),
        visible_ids=_visible_event_ids(plan), event_url=lambda e: f"/events/{e.id}",
        month_label=_month_label), status_code


def _event_page(event_id: int) -> str | None:
    """Where to continue with a new draft: the event's edit page, else its page, when the
    scheduling blueprint has them."""
    adapter = current_app.url_map.bind("localhost")
    for path in (f"/events/{event_id}/edit", f"/events/{event_id}"):
        try:
            adapter.match(path, method="GET")
        except (NotFound, MethodNotAllowed):
            continue
        except RoutingException:  # e.g. a redirect to the canonical URL: the page exists
            return path
        return path
    return None


# --- pages --------------------------------------------------------------------------------

@bp.get("/networks/<int:network_id>/plan")
@login_required
def show(network_id: int):  # type: ignore[no-untyped-def]
    network = _network(network_id)
    require(services.can_view_plan(current_user, network))
    return _show(network)


@bp.post("/networks/<int:network_id>/plan/items")
@login_required
def add_item(network_id: int):  # type: ignore[no-untyped-def]
    network = _network(network_id)
    require(services.can_edit_plan(current_user, network))
    form = PlanItemForm()
    _fill_choices(form, network)
    if form.validate_on_submit():
        item = _save(form, lambda: services.add_item(network, **_values(form)))
        if item is not None:
            flash(_("Item added: %(topic)s.", topic=item.topic), "success")
            return redirect(url_for(".show", network_id=network.id, _anchor=f"item-{item.id}"))
    return _show(network, form)


@bp.route("/networks/<int:network_id>/plan/items/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit_item(network_id: int, item_id: int):  # type: ignore[no-untyped-def]
    network = _network(network_id)
    item = _item(network, item_id)
    require(services.can_edit_plan(current_user, network))
    if request.method == "GET":
        form = PlanItemForm(formdata=None, data={
            "month": services.month_value(item.year, item.month), "topic": item.topic,
            "format": int(item.format), "responsible": item.responsible_id})
    else:
        form = PlanItemForm()
    _fill_choices(form, network, item)
    if form.validate_on_submit():
        version = item.plan.version
        changed = _save(form, lambda: services.update_item(item, **_values(form)))
        if changed is not None:
            if changed is True and item.plan.version != version:
                flash(_("Changes saved. The plan is now version %(n)d: every member's "
                        "coordinator is asked to approve it again.", n=item.plan.version),
                      "warning")
            else:
                flash(_("Changes saved.") if changed is True else _("Nothing has changed."),
                      "success")
            return redirect(url_for(".show", network_id=network.id, _anchor=f"item-{item.id}"))
    return render_template("scheduling/plan_item_form.html", net=network, item=item, form=form,
                           approved=any(a.version == item.plan.version
                                        for a in item.plan.approvals))


@bp.post("/networks/<int:network_id>/plan/items/<int:item_id>/delete")
@login_required
def delete_item(network_id: int, item_id: int):  # type: ignore[no-untyped-def]
    network = _network(network_id)
    item = _item(network, item_id)
    require(services.can_edit_plan(current_user, network))
    topic = item.topic
    try:
        services.delete_item(item)
        db.session.commit()
        flash(_("Item deleted: %(topic)s.", topic=topic), "success")
    except services.PlanError as error:
        db.session.rollback()
        for message in error.errors.values():
            flash(message, "error")
    return redirect(url_for(".show", network_id=network.id))


@bp.post("/networks/<int:network_id>/plan/approve")
@login_required
def approve(network_id: int):  # type: ignore[no-untyped-def]
    network = _network(network_id)
    require(services.can_approve_plan(current_user, network))
    form = ApproveForm()
    try:
        approval = services.approve(network, current_user, form.version.data)
        db.session.commit()
        flash(_("You approved version %(n)d of the plan for %(org)s.", n=approval.version,
                org=approval.organisation.short_name), "success")
    except services.PlanError as error:
        db.session.rollback()
        for message in error.errors.values():
            flash(message, "error")
    except IntegrityError:  # the same approval sent twice at once: the first one counts
        db.session.rollback()
        flash(_("Your approval is recorded."), "success")
    return redirect(url_for(".show", network_id=network.id, _anchor="approvals"))


@bp.post("/networks/<int:network_id>/plan/items/<int:item_id>/event")
@login_required
def make_event(network_id: int, item_id: int):  # type: ignore[no-untyped-def]
    network = _network(network_id)
    item = _item(network, item_id)
    require(services.can_edit_plan(current_user, network))
    try:
        event = services.create_event_from_item(item, current_user)
        db.session.commit()
    except services.PlanError as error:
        db.session.rollback()
        for message in error.errors.values():
            flash(message, "error")
        return redirect(url_for(".show", network_id=network.id, _anchor=f"item-{item.id}"))
    target = _event_page(event.id)
    flash(_("A draft event is made from the plan item. Set its date, time and audience, then "
            "publish it."), "success")
    return redirect(target or url_for(".show", network_id=network.id, _anchor=f"item-{item.id}"))


@bp.get("/networks/<int:network_id>/plan.xlsx")
@login_required
def export(network_id: int):  # type: ignore[no-untyped-def]
    network = _network(network_id)
    require(services.can_view_plan(current_user, network))
    data = services.export_xlsx(network, current_user.timezone, utcnow())
    name = services.export_filename(network)
    ascii_name = f"plan-{network.id}-{network.school_year.replace('/', '-')}.xlsx"
    response = Response(
        data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    # RFC 6266: an ASCII fallback and the Russian name for browsers that take it.
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}")
    return response
