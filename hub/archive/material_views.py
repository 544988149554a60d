"""Adding, showing, editing, publishing and downloading materials, and the event page's list.

Who may add: to an event, its editors, the people with a part in it (speakers, moderators…) and
organisation coordinators who may see it; to a plan item, those who may edit the plan and the
responsible organisation's people; standing alone, anyone signed in (for their organisation).
A material nobody may see is a 404 (its existence is not told), and anonymous visitors are sent
to sign in first."""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from hub.archive import services
from hub.archive.access import may_manage, may_view, network_ids_of
from hub.archive.forms import MaterialForm
from hub.archive.models import Material, MaterialKind, Visibility
from hub.archive.storage import StorageError, StoredFileMissing, storage
from hub.archive.uploads import megabytes
from hub.archive.views import bp
from hub.auth.permissions import can_edit_event, can_view_event, require
from hub.core.routing import MAX_ID
from hub.core.safety import safe_next_url
from hub.directory.models import Network, Person, Role
from hub.extensions import db
from hub.scheduling.models import Event, EventFormat, PlanItem
from hub.scheduling.plan import can_edit_plan

log = logging.getLogger(__name__)

#: The routes that take a file: their request limit is the bank's, not MAX_CONTENT_LENGTH.
UPLOAD_ENDPOINTS = frozenset({"archive.material_new", "archive.material_edit"})


def upload_limit() -> int:
    """The largest request the upload routes accept: the file limit and room for the form."""
    config = current_app.config
    return int(config["ARCHIVE_MAX_BYTES"]) + int(config["ARCHIVE_FORM_ALLOWANCE"])


@bp.url_value_preprocessor
def _raise_upload_limit(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Runs before every before_request (the CSRF check reads the form), so the limit holds
    from the first byte read."""
    if endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = upload_limit()


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge):  # type: ignore[no-untyped-def]
    """Over the request limit: a clear message, and nothing stored."""
    message = _("The file is too large: at most %(limit)s MB.",
                limit=megabytes(int(current_app.config["ARCHIVE_MAX_BYTES"])))
    if request.endpoint == "archive.material_new" and current_user.is_authenticated:
        try:
            event, plan_item = _targets()
        except HTTPException:
            event = plan_item = None
        if _may_add(event, plan_item):
            form = _prepared_form(MaterialForm(formdata=None), event, plan_item, None)
            return _render_form(form, event, plan_item, None, error=message, status=413)
    if request.endpoint == "archive.material_edit" and current_user.is_authenticated:
        material = db.session.get(Material, (request.view_args or {}).get("material_id", 0))
        if material is not None and may_manage(current_user, material):
            form = _prepared_form(MaterialForm(formdata=None), material.event,
                                  material.plan_item, material)
            _filled(form, material)
            return _render_form(form, material.event, material.plan_item, material,
                                error=message, status=413)
    return render_template("core/error.html", code=413, message=message), 413


# -- who may add ----------------------------------------------------------------------------

def may_add_to_event(user: Person, event: Event) -> bool:
    """The event's editors, the people with a part in it and coordinators who may see it."""
    if not user.is_authenticated or not user.active:
        return False
    if can_edit_event(user, event) or any(p.person_id == user.id for p in event.people):
        return True
    return user.role == Role.ORG_COORDINATOR and can_view_event(user, event)


def may_add_to_plan_item(user: Person, item: PlanItem) -> bool:
    """Those who may edit the plan, and the people of the responsible organisation."""
    return bool(user.is_authenticated and user.active) and (
        can_edit_plan(user, item.plan.network) or user.organisation_id == item.responsible_id)


def _may_add(event: Event | None, plan_item: PlanItem | None) -> bool:
    if event is not None:
        return may_add_to_event(current_user, event)
    if plan_item is not None:
        return may_add_to_plan_item(current_user, plan_item)
    return bool(current_user.is_authenticated and current_user.active)


def _by_arg(model: type[Event] | type[PlanItem], name: str) -> Any:
    """The row whose id is in ?<name>=, None without one, 404 for a bad or unknown id."""
    if not request.args.get(name):
        return None
    value = request.args.get(name, type=int)
    row = db.session.get(model, value) if value is not None and 0 < value <= MAX_ID else None
    if row is None:
        abort(404)
    return row


def _targets() -> tuple[Event | None, PlanItem | None]:
    """The event or plan item named by ?event= or ?plan_item= (an event brings its item)."""
    event = _by_arg(Event, "event")
    if event is not None:
        item = db.session.get(PlanItem, event.plan_item_id) if event.plan_item_id else None
        return event, item
    return None, _by_arg(PlanItem, "plan_item")


# -- the form -------------------------------------------------------------------------------

def _event_people(event: Event | None) -> list[Person]:
    if event is None:
        return []
    return list({p.person_id: p.person for p in sorted(event.people, key=lambda p: p.id)}
                .values())


def _prepared_form(form: MaterialForm, event: Event | None, plan_item: PlanItem | None,
                   material: Material | None) -> MaterialForm:
    """Choices for this organisation and event; defaults for a new material."""
    organisation_id = material.organisation_id if material else current_user.organisation_id
    networks = db.session.scalars(select(Network).where(
        Network.id.in_(network_ids_of(organisation_id)) if organisation_id else False)
        .order_by(Network.name)).all()
    form.network_id.choices = [("", _("Every network of the organisation")),
                               *((n.id, n.name) for n in networks)]
    people = _event_people(event)
    form.event_authors.choices = [(p.id, p.full_name) for p in people]
    if material is None and not form.is_submitted():
        if current_user.id in {p.id for p in people}:
            form.event_authors.data = [current_user.id]
        else:
            form.authors.data = current_user.email
        source = event or plan_item
        form.format.data = int(source.format) if source is not None else None
        if event is not None and event.network_id in {n.id for n in networks}:
            form.network_id.data = event.network_id
    return form


def _filled(form: MaterialForm, material: Material) -> None:
    form.title.data = material.title
    form.description.data = material.description
    form.url.data = material.url
    form.format.data = int(material.format) if material.format else None
    form.visibility.data = int(material.visibility)
    form.network_id.data = material.network_id
    people_ids = {choice[0] for choice in form.event_authors.choices}
    form.event_authors.data = [a.person_id for a in material.authors if a.person_id in people_ids]
    form.authors.data = "\n".join(a.person.email for a in material.authors
                                  if a.person_id not in people_ids)
    form.topics.data = ", ".join(t.label for t in material.tags if t.kind.name == "TOPIC")
    form.age_groups.data = ", ".join(t.label for t in material.tags if t.kind.name == "AGE_GROUP")


def _details(form: MaterialForm, event: Event | None) -> services.Details:
    """The form's fields as services.Details; raises MaterialError listing every problem."""
    people = {p.id: p for p in _event_people(event)}
    chosen = [people[i] for i in form.event_authors.data or [] if i in people]
    details = services.Details(
        title=form.title.data or "", description=form.description.data or "",
        topics=form.topics.data or "", age_groups=form.age_groups.data or "",
        format=EventFormat(form.format.data) if form.format.data else None,
        visibility=Visibility(form.visibility.data), network_id=form.network_id.data)
    try:
        details.authors = [*chosen, *services.people_by_emails(form.authors.data)]
    except services.MaterialError as error:
        raise services.MaterialError(
            error.errors | services.details_errors(details, current_user, event)) from None
    return details


def _render_form(form: MaterialForm, event: Event | None, plan_item: PlanItem | None,
                 material: Material | None, *, error: str | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    return render_template(
        "archive/material_form.html", form=form, event=event, plan_item=plan_item,
        material=material, error=error, MaterialKind=MaterialKind,
        max_size=megabytes(int(current_app.config["ARCHIVE_MAX_BYTES"]))), status


def _show_errors(form: MaterialForm, error: services.MaterialError) -> None:
    for name, message in error.errors.items():
        field = getattr(form, name, form.title)
        field.errors = [*field.errors, message]


def _uploaded() -> Any:
    upload = request.files.get("file")
    return upload if upload is not None and upload.filename else None


@bp.route("/materials/new", methods=["GET", "POST"])
@login_required
def material_new():  # type: ignore[no-untyped-def]
    event, plan_item = _targets()
    require(_may_add(event, plan_item))
    form = _prepared_form(MaterialForm(), event, plan_item, None)
    if request.method == "GET":
        return _render_form(form, event, plan_item, None)
    if not form.validate_on_submit():
        return _render_form(form, event, plan_item, None, status=400)
    try:
        details = _details(form, event)
        if form.kind.data == "link":
            material = services.create_link_material(current_user, details, form.url.data,
                                                     event=event, plan_item=plan_item)
        elif (upload := _uploaded()) is None:
            raise services.MaterialError({"file": _("Choose a file to upload.")})
        else:
            material = services.create_file_material(current_user, details, upload.stream,
                                                     upload.filename, event=event,
                                                     plan_item=plan_item)
        db.session.commit()
    except services.MaterialError as error:
        db.session.rollback()
        _show_errors(form, error)
        return _render_form(form, event, plan_item, None, status=413 if error.too_large else 400)
    except StorageError:
        db.session.rollback()
        log.exception("archive: storing an upload failed")
        abort(503)
    flash(_("The material is added."), "success")
    return redirect(url_for(".material", material_id=material.id))


# -- one material ---------------------------------------------------------------------------

def _material(material_id: int) -> Material:
    """The material if the viewer may see it: anonymous visitors sign in first, others 404."""
    material = db.session.get(Material, material_id)
    if material is None:
        abort(404)
    if not may_view(current_user, material):
        if not current_user.is_authenticated:
            abort(current_app.login_manager.unauthorized())
        abort(404)
    return material


def _managed(material_id: int) -> Material:
    material = _material(material_id)
    require(may_manage(current_user, material))
    return material


@bp.get("/materials/<int:material_id>")
def material(material_id: int):  # type: ignore[no-untyped-def]
    material = _material(material_id)
    event_link = material.event is not None and current_user.is_authenticated and (
        can_view_event(current_user, material.event))
    return render_template("archive/material.html", material=material, MaterialKind=MaterialKind,
                           can_manage=may_manage(current_user, material), event_link=event_link,
                           size=megabytes(material.size) if material.size else None)


@bp.route("/materials/<int:material_id>/edit", methods=["GET", "POST"])
@login_required
def material_edit(material_id: int):  # type: ignore[no-untyped-def]
    material = _managed(material_id)
    event, plan_item = material.event, material.plan_item
    form = _prepared_form(MaterialForm(), event, plan_item, material)
    if request.method == "GET":
        _filled(form, material)
        return _render_form(form, event, plan_item, material)
    if not form.validate_on_submit():
        return _render_form(form, event, plan_item, material, status=400)
    upload = _uploaded()
    try:
        services.update_material(material, _details(form, event), url=form.url.data,
                                 stream=upload.stream if upload else None,
                                 filename=upload.filename if upload else None)
        db.session.commit()
    except services.MaterialError as error:
        db.session.rollback()
        _show_errors(form, error)
        return _render_form(form, event, plan_item, material,
                            status=413 if error.too_large else 400)
    except StorageError:
        db.session.rollback()
        log.exception("archive: storing an upload failed")
        abort(503)
    flash(_("The changes are saved."), "success")
    return redirect(url_for(".material", material_id=material.id))


@bp.post("/materials/<int:material_id>/delete")
@login_required
def material_delete(material_id: int):  # type: ignore[no-untyped-def]
    material = _managed(material_id)
    event = material.event
    services.delete_material(material)
    db.session.commit()
    flash(_("The material is deleted."), "success")
    if event is not None and can_view_event(current_user, event):
        return redirect(url_for("scheduling.event", event_id=event.id) + "#materials")
    return redirect(url_for(".bank_search"))


def _set_published(material_id: int, published: bool):  # type: ignore[no-untyped-def]
    material = _managed(material_id)
    services.set_published(material, published)
    db.session.commit()
    flash(_("The material is published.") if published else
          _("The material is unpublished: only those who manage it see it."), "success")
    return redirect(safe_next_url(request.form.get("next"),
                                  url_for(".material", material_id=material.id)))


@bp.post("/materials/<int:material_id>/publish")
@login_required
def material_publish(material_id: int):  # type: ignore[no-untyped-def]
    return _set_published(material_id, True)


@bp.post("/materials/<int:material_id>/unpublish")
@login_required
def material_unpublish(material_id: int):  # type: ignore[no-untyped-def]
    return _set_published(material_id, False)


@bp.get("/materials/<int:material_id>/download")
def material_download(material_id: int):  # type: ignore[no-untyped-def]
    material = _material(material_id)
    if material.kind in (MaterialKind.LINK, MaterialKind.RECORDING):
        return redirect(material.url)
    if not material.storage_key:
        abort(404)
    try:
        stream = storage().open(material.storage_key)
    except StoredFileMissing:
        log.warning("archive: the file of material %d is missing", material.id)
        abort(404)
    except StorageError:
        log.exception("archive: reading the file of material %d failed", material.id)
        abort(503)
    response = send_file(stream, mimetype=material.content_type or "application/octet-stream",
                         as_attachment=True, download_name=material.filename or "material",
                         conditional=False, etag=False, max_age=0)
    response.content_length = material.size or None
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# -- the event page -------------------------------------------------------------------------

@bp.app_template_global("event_materials_panel")
def event_materials_panel(event: Event) -> dict[str, Any]:
    """What templates/archive/_event_materials.html shows the viewer of an event page."""
    user = current_user
    materials = [m for m in services.materials_of_event(event) if may_view(user, m)]
    return {"materials": materials,
            "managed": {m.id for m in materials if may_manage(user, m)},
            "can_add": user.is_authenticated and may_add_to_event(user, event)}
