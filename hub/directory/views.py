"""Pages of the directory: organisations, network associations and people.

Thin views: read the request, ask hub.auth.permissions, call hub.directory.services, render.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from wtforms import Form

from hub.auth.permissions import (
    assignable_roles,
    can_change_organisation_kind,
    can_change_role,
    can_create_organisation,
    can_deactivate_organisation,
    can_deactivate_person,
    can_edit_organisation,
    can_edit_own_profile,
    can_edit_person,
    can_list_people,
    can_manage_networks,
    can_manage_people_of,
    can_view_inactive,
    can_view_organisation_people,
    can_view_person,
    coordinators_only,
    is_municipal,
    municipal_only,
    require,
    visible_organisation_id,
)
from hub.directory import services
from hub.directory.forms import (
    NETWORK_ROWS_ADD,
    NETWORK_ROWS_MIN,
    NetworkForm,
    OrganisationForm,
    PersonForm,
    ProfileForm,
    person_timezone_choices,
)
from hub.directory.models import Category, Network, Organisation, OrgKind, Person, Role
from hub.extensions import db

bp = Blueprint("directory", __name__)

PER_PAGE = 30
#: People shown on an organisation's page before "show all".
ORG_PAGE_PEOPLE = 50
QUERY_MAX = 200

E = TypeVar("E")


# --- helpers ------------------------------------------------------------------------------

def _query_arg() -> str:
    return request.args.get("q", "", type=str).strip()[:QUERY_MAX]


def _page_arg() -> int:
    return max(1, min(request.args.get("page", 1, type=int) or 1, 100_000))


def _enum_arg(enum_class: Callable[[int], E], name: str) -> E | None:
    try:
        return enum_class(int(request.args.get(name, "")))
    except (TypeError, ValueError):
        return None


def _fields_by_name(form: Form) -> dict[str, Any]:
    """Every field of a form by its HTML name, nested rows included (members-0-organisation)."""
    found: dict[str, Any] = {}
    for field in form:
        found[field.name] = field
        for entry in getattr(field, "entries", ()):
            found[entry.name] = entry
            for sub in getattr(entry, "form", ()):
                found[sub.name] = sub
    return found


def _show_errors(form: Form, errors: Mapping[str, str], aliases: Mapping[str, str] = {}) -> None:
    """Put the services' errors next to the fields they concern (or at the top of the form)."""
    fields = _fields_by_name(form)
    for name, message in errors.items():
        field = fields.get(aliases.get(name, name))
        if field is None or not hasattr(field, "errors"):
            form.form_errors.append(message)
        else:
            field.errors = [*field.errors, message]


def _save(form: Form, action: Callable[[], E], aliases: Mapping[str, str] = {}) -> E | None:
    """Run a service and commit; on bad input roll back, show why and return None."""
    try:
        result = action()
        db.session.commit()
        return result
    except services.DirectoryError as error:
        db.session.rollback()
        _show_errors(form, error.errors, aliases)
    except IntegrityError:
        # Two people saved the same email at the same moment: the database said no.
        db.session.rollback()
        form.form_errors.append(_("Someone else has just saved a conflicting change. "
                                  "Please check the form and try again."))
    return None


def _get(model: type[E], ident: int) -> E:
    return db.get_or_404(model, ident)


# --- organisations ------------------------------------------------------------------------

@bp.get("/organisations")
@login_required
def organisations():  # type: ignore[no-untyped-def]
    query = _query_arg()
    kind = _enum_arg(OrgKind, "kind")
    show_inactive = can_view_inactive(current_user) and request.args.get("inactive") == "1"
    statement = services.search_organisations(query, kind=kind, include_inactive=show_inactive)
    page = db.paginate(statement, page=_page_arg(), per_page=PER_PAGE, error_out=False)
    counts = services.people_counts(o.id for o in page.items)
    return render_template(
        "directory/organisations.html", page=page, counts=counts, query=query, kind=kind,
        kinds=OrgKind, show_inactive=show_inactive,
        can_see_inactive=can_view_inactive(current_user),
        can_create=can_create_organisation(current_user))


@bp.get("/organisations/<int:organisation_id>")
@login_required
def organisation(organisation_id: int):  # type: ignore[no-untyped-def]
    org = _get(Organisation, organisation_id)
    people = None
    people_total = 0
    if can_view_organisation_people(current_user, org):
        people = db.session.scalars(
            services.search_people(organisation_id=org.id).limit(ORG_PAGE_PEOPLE)).all()
        people_total = services.people_counts([org.id]).get(org.id, 0)
    networks = db.session.scalars(services.search_networks(
        organisation_id=org.id, include_inactive=False)).all()
    return render_template(
        "directory/organisation.html", org=org, people=people, people_total=people_total,
        networks=networks, can_edit=can_edit_organisation(current_user, org),
        can_deactivate=can_deactivate_organisation(current_user),
        can_add_person=can_manage_people_of(current_user, org.id) and org.active)


@bp.route("/organisations/new", methods=["GET", "POST"])
@municipal_only
def organisation_new():  # type: ignore[no-untyped-def]
    form = OrganisationForm()
    if not form.is_submitted():
        form.timezone.data = "Europe/Moscow"
        form.kind.data = int(OrgKind.KINDERGARTEN)
    if form.validate_on_submit():
        org = _save(form, lambda: services.create_organisation(
            full_name=form.full_name.data, short_name=form.short_name.data,
            kind=form.kind.data, municipality=form.municipality.data,
            timezone=form.timezone.data))
        if org is not None:
            flash(_("Organisation “%(name)s” created.", name=org.short_name), "success")
            return redirect(url_for(".organisation", organisation_id=org.id))
    return render_template("directory/organisation_form.html", form=form, org=None)


@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
@login_required
def organisation_edit(organisation_id: int):  # type: ignore[no-untyped-def]
    org = _get(Organisation, organisation_id)
    require(can_edit_organisation(current_user, org))
    form = OrganisationForm(obj=org)
    if not form.is_submitted():
        form.kind.data = int(org.kind)
    if not can_change_organisation_kind(current_user):
        del form.kind
    if form.validate_on_submit():
        changes = {"full_name": form.full_name.data, "short_name": form.short_name.data,
                   "municipality": form.municipality.data, "timezone": form.timezone.data}
        if "kind" in form:
            changes["kind"] = form.kind.data
        if _save(form, lambda: services.update_organisation(org, **changes)) is not None:
            flash(_("Changes saved."), "success")
            return redirect(url_for(".organisation", organisation_id=org.id))
    return render_template("directory/organisation_form.html", form=form, org=org)


@bp.post("/organisations/<int:organisation_id>/deactivate")
@municipal_only
def organisation_deactivate(organisation_id: int):  # type: ignore[no-untyped-def]
    org = _get(Organisation, organisation_id)
    require(can_deactivate_organisation(current_user))
    if org.id == current_user.organisation_id:
        flash(_("You cannot deactivate your own organisation."), "error")
    else:
        services.set_organisation_active(org, False)
        db.session.commit()
        flash(_("“%(name)s” is deactivated: it is kept with its history but no longer offered "
                "in lists.", name=org.short_name), "success")
    return redirect(url_for(".organisation", organisation_id=org.id))


@bp.post("/organisations/<int:organisation_id>/reactivate")
@municipal_only
def organisation_reactivate(organisation_id: int):  # type: ignore[no-untyped-def]
    org = _get(Organisation, organisation_id)
    require(can_deactivate_organisation(current_user))
    services.set_organisation_active(org, True)
    db.session.commit()
    flash(_("“%(name)s” is active again.", name=org.short_name), "success")
    return redirect(url_for(".organisation", organisation_id=org.id))


# --- networks -----------------------------------------------------------------------------

@bp.get("/networks")
@login_required
def networks():  # type: ignore[no-untyped-def]
    query = _query_arg()
    show_inactive = can_view_inactive(current_user) and request.args.get("inactive") == "1"
    statement = services.search_networks(query, include_inactive=show_inactive)
    page = db.paginate(statement, page=_page_arg(), per_page=PER_PAGE, error_out=False)
    return render_template(
        "directory/networks.html", page=page, query=query, show_inactive=show_inactive,
        can_see_inactive=can_view_inactive(current_user),
        can_manage=can_manage_networks(current_user))


@bp.get("/networks/<int:network_id>")
@login_required
def network(network_id: int):  # type: ignore[no-untyped-def]
    net = _get(Network, network_id)
    return render_template("directory/network.html", net=net,
                           can_manage=can_manage_networks(current_user),
                           can_view_person=lambda p: can_view_person(current_user, p))


def _network_choices(form: NetworkForm, net: Network | None) -> list[Person]:
    """Fill every row's choices; returns the coordinator candidates for the template."""
    current_orgs = [m.organisation_id for m in net.members] if net else []
    current_people = [m.coordinator_id for m in net.members] if net else []
    organisations = services.active_organisations(include=current_orgs)
    candidates = services.coordinator_candidates(include=current_people)
    org_choices = [("", "—"), *((o.id, o.short_name) for o in organisations)]
    person_choices = [("", "—"), *((p.id, p.short_name) for p in candidates)]
    for row in form.members:
        row.form.organisation.choices = org_choices
        row.form.coordinator.choices = person_choices
    return candidates


def _network_form_page(form: NetworkForm, net: Network | None):  # type: ignore[no-untyped-def]
    candidates = _network_choices(form, net)
    return render_template("directory/network_form.html", form=form, net=net,
                           candidates=candidates)


def _network_submit(form: NetworkForm, net: Network | None):  # type: ignore[no-untyped-def]
    """Handle a POST of the network form: more rows, or validate and save."""
    _network_choices(form, net)
    if form.add_rows.data:
        for _n in range(NETWORK_ROWS_ADD):
            if len(form.members) < form.members.max_entries:
                form.members.append_entry()
        return None
    if not form.validate():
        return None
    rows = [i for i, row in enumerate(form.members) if not row.form.is_blank]
    # The services number the members they are given; show their errors on the form's rows.
    aliases = {f"members-{n}-{part}": f"members-{i}-{part}"
               for n, i in enumerate(rows) for part in ("organisation", "coordinator")}
    values = {"name": form.name.data, "school_year": form.school_year.data,
              "description": form.description.data, "members": form.member_specs()}
    if net is None:
        return _save(form, lambda: services.create_network(**values), aliases)
    return _save(form, lambda: services.update_network(net, **values), aliases)


@bp.route("/networks/new", methods=["GET", "POST"])
@municipal_only
def network_new():  # type: ignore[no-untyped-def]
    form = NetworkForm()
    if not form.is_submitted():
        while len(form.members) < NETWORK_ROWS_MIN:
            form.members.append_entry()
    else:
        saved = _network_submit(form, None)
        if saved is not None:
            flash(_("Network “%(name)s” created.", name=saved.name), "success")
            return redirect(url_for(".network", network_id=saved.id))
    return _network_form_page(form, None)


@bp.route("/networks/<int:network_id>/edit", methods=["GET", "POST"])
@municipal_only
def network_edit(network_id: int):  # type: ignore[no-untyped-def]
    net = _get(Network, network_id)
    if request.method == "GET":
        form = NetworkForm(data={
            "name": net.name, "school_year": net.school_year, "description": net.description,
            "members": [{"organisation": m.organisation_id, "coordinator": m.coordinator_id}
                        for m in net.members]})
        for _n in range(max(2, NETWORK_ROWS_MIN - len(net.members))):
            form.members.append_entry()
    else:
        form = NetworkForm()
        if form.is_submitted():
            saved = _network_submit(form, net)
            if saved is not None:
                flash(_("Changes saved."), "success")
                return redirect(url_for(".network", network_id=net.id))
    return _network_form_page(form, net)


@bp.post("/networks/<int:network_id>/deactivate")
@municipal_only
def network_deactivate(network_id: int):  # type: ignore[no-untyped-def]
    net = _get(Network, network_id)
    services.set_network_active(net, False)
    db.session.commit()
    flash(_("The network “%(name)s” is deactivated.", name=net.name), "success")
    return redirect(url_for(".network", network_id=net.id))


@bp.post("/networks/<int:network_id>/reactivate")
@municipal_only
def network_reactivate(network_id: int):  # type: ignore[no-untyped-def]
    net = _get(Network, network_id)
    services.set_network_active(net, True)
    db.session.commit()
    flash(_("The network “%(name)s” is active again.", name=net.name), "success")
    return redirect(url_for(".network", network_id=net.id))


# --- people -------------------------------------------------------------------------------

_STATUS = {"active": True, "inactive": False, "all": None}


@bp.get("/people")
@coordinators_only
def people():  # type: ignore[no-untyped-def]
    require(can_list_people(current_user))
    query = _query_arg()
    only_org = visible_organisation_id(current_user)
    organisation_id = request.args.get("organisation", type=int)
    if only_org is not None:
        # A coordinator sees their own organisation; asking for another one is refused.
        require(organisation_id in (None, only_org))
        organisation_id = only_org
    role = _enum_arg(Role, "role")
    category = _enum_arg(Category, "category")
    status = request.args.get("status", "active")
    if status not in _STATUS:
        status = "active"
    statement = services.search_people(query, organisation_id=organisation_id, role=role,
                                       category=category, active=_STATUS[status])
    page = db.paginate(statement, page=_page_arg(), per_page=PER_PAGE, error_out=False)
    organisations = (services.active_organisations(include=[organisation_id or 0])
                     if only_org is None else [])
    return render_template(
        "directory/people.html", page=page, query=query, organisation_id=organisation_id,
        role=role, category=category, status=status, organisations=organisations,
        roles=Role, categories=Category, single_org=only_org is not None,
        can_add=True, import_url=_import_url())


def _import_url() -> str | None:
    """The people import page, when that blueprint offers one."""
    for endpoint in ("people_import.upload", "people_import.index", "people_import.start"):
        if endpoint in current_app.view_functions:
            return url_for(endpoint)
    return None


@bp.get("/people/<int:person_id>")
@login_required
def person(person_id: int):  # type: ignore[no-untyped-def]
    target = _get(Person, person_id)
    require(can_view_person(current_user, target))
    return render_template(
        "directory/person.html", person=target,
        networks=services.coordinated_networks(target),
        can_edit=can_edit_person(current_user, target) or can_edit_own_profile(current_user,
                                                                                 target),
        can_deactivate=can_deactivate_person(current_user, target),
        password_url=(url_for("auth.change_password")
                      if target.id == current_user.id
                      and "auth.change_password" in current_app.view_functions else None))


def _person_form(target: Person | None, organisation_id: int | None = None) -> PersonForm:
    """A person form with the organisations and roles the signed-in person may choose."""
    form = PersonForm(obj=target)
    if is_municipal(current_user):
        orgs = services.active_organisations(include=[target.organisation_id] if target else [])
    else:
        orgs = [current_user.organisation]
    form.organisation_id.choices = [(o.id, o.short_name) for o in orgs]
    roles = assignable_roles(current_user)
    if target is not None and target.role not in roles:
        roles = [*roles, target.role]
    form.role.choices = [(int(r), r.label) for r in roles]
    zone = target.organisation.timezone if target else ""
    form.timezone_override.choices = person_timezone_choices(zone)
    if not form.is_submitted():
        if target is None:
            form.role.data = int(Role.TEACHER)
            form.category.data = int(Category.NONE)
            allowed = {o.id for o in orgs}
            if organisation_id in allowed:
                form.organisation_id.data = organisation_id
            elif len(orgs) == 1:
                form.organisation_id.data = orgs[0].id
        else:
            form.role.data = int(target.role)
            form.category.data = int(target.category)
    if target is not None and not can_change_role(current_user, target):
        del form.role
    return form


def _person_values(form: PersonForm) -> dict[str, Any]:
    values = {name: form[name].data for name in PersonForm.FIELD_ORDER if name in form}
    values["organisation"] = values.pop("organisation_id")
    return values


@bp.route("/people/new", methods=["GET", "POST"])
@coordinators_only
def person_new():  # type: ignore[no-untyped-def]
    form = _person_form(None, request.args.get("organisation", type=int))
    if form.validate_on_submit():
        values = _person_values(form)
        require(can_manage_people_of(current_user, values["organisation"]))
        created = _save(form, lambda: services.create_person(**values),
                        {"organisation": "organisation_id"})
        if created is not None:
            flash(_("%(name)s is added to the directory.", name=created.full_name), "success")
            return redirect(url_for(".person", person_id=created.id))
    return render_template("directory/person_form.html", form=form, person=None,
                           profile_only=False)


@bp.route("/people/<int:person_id>/edit", methods=["GET", "POST"])
@login_required
def person_edit(person_id: int):  # type: ignore[no-untyped-def]
    target = _get(Person, person_id)
    full = can_edit_person(current_user, target)
    require(full or can_edit_own_profile(current_user, target))
    if full:
        form: ProfileForm = _person_form(target)
    else:
        form = ProfileForm(obj=target)
        form.timezone_override.choices = person_timezone_choices(target.organisation.timezone)
    if form.validate_on_submit():
        if full:
            values = _person_values(form)  # type: ignore[arg-type]
            require(can_manage_people_of(current_user, values["organisation"]))
        else:
            values = {"phone": form.phone.data, "timezone_override": form.timezone_override.data,
                      "locale": form.locale.data}
        saved = _save(form, lambda: services.update_person(target, **values),
                      {"organisation": "organisation_id"})
        if saved is not None:
            if target.id == current_user.id:
                if target.locale:
                    session["lang"] = target.locale
                else:
                    session.pop("lang", None)
            flash(_("Changes saved."), "success")
            return redirect(url_for(".person", person_id=target.id))
    return render_template("directory/person_form.html", form=form, person=target,
                           profile_only=not full)


def _set_person_active(person_id: int, active: bool):  # type: ignore[no-untyped-def]
    target = _get(Person, person_id)
    require(can_deactivate_person(current_user, target))
    services.set_person_active(target, active)
    db.session.commit()
    if active:
        flash(_("%(name)s is active again and can sign in.", name=target.full_name), "success")
    else:
        flash(_("%(name)s is deactivated and can no longer sign in. Their history is kept.",
                name=target.full_name), "success")
        networks = services.coordinated_networks(target)
        if networks:
            flash(_("%(name)s coordinates %(networks)s: choose a new coordinator there.",
                    name=target.short_name,
                    networks=", ".join(f"«{n.name}»" for n in networks)), "warning")
    return redirect(url_for(".person", person_id=target.id))


@bp.post("/people/<int:person_id>/deactivate")
@login_required
def person_deactivate(person_id: int):  # type: ignore[no-untyped-def]
    return _set_person_active(person_id, False)


@bp.post("/people/<int:person_id>/reactivate")
@login_required
def person_reactivate(person_id: int):  # type: ignore[no-untyped-def]
    return _set_person_active(person_id, True)
