"""Importing people from CSV or XLSX: upload, preview, confirm (coordinators only).

The uploaded file waits on the server (hub.directory.importing, "Stored uploads") under a random
token tied to the uploader; the preview and the confirmation both read and check it again, so
what is imported is always what the directory allows at that moment.
"""

from __future__ import annotations

from collections import Counter

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
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import SelectField

from hub.auth.permissions import coordinators_only, is_municipal
from hub.directory import importing
from hub.directory.importing import (
    COLUMN_TITLES,
    TEMPLATE_HEADERS,
    FileRejected,
    ImportFailed,
    ImportPlan,
    RowAction,
    StoredUpload,
)
from hub.directory.models import Organisation
from hub.extensions import db

bp = Blueprint("people_import", __name__, url_prefix="/people/import")

PAGE_SIZE = 100
#: Bad rows listed above the table on the preview (all of them are in the table's filter).
BAD_ROWS_LISTED = 200


class UploadForm(FlaskForm):
    file = FileField(_l("File (CSV or XLSX)"))
    organisation = SelectField(_l("Organisation for rows that do not name one"), coerce=int,
                               choices=[], validate_choice=False)


def _max_bytes() -> int:
    return int(current_app.config.get("IMPORT_MAX_BYTES", importing.DEFAULT_MAX_BYTES))


def _own_default_organisation() -> Organisation | None:
    """An organisation coordinator's rows without an organisation go to their own."""
    return None if is_municipal(current_user) else current_user.organisation


def _organisation_choices() -> list[tuple[int, str]]:
    organisations = db.session.scalars(
        select(Organisation).where(Organisation.active.is_(True))
        .order_by(Organisation.short_name)
    )
    return [(0, _("— none: every row names its organisation —"))] + [
        (org.id, org.short_name) for org in organisations]


def _render_upload(form: UploadForm, error: str | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    return render_template(
        "directory/import_upload.html", form=form, error=error,
        max_size=importing.format_size(_max_bytes()),
        own_organisation=_own_default_organisation(),
        headers=TEMPLATE_HEADERS,
    ), status


@bp.route("", methods=["GET", "POST"])
@coordinators_only
def upload():  # type: ignore[no-untyped-def]
    form = UploadForm()
    if is_municipal(current_user):
        form.organisation.choices = _organisation_choices()
    if request.method == "GET":
        return _render_upload(form)
    if not form.validate_on_submit():
        return _render_upload(form, _("The form has expired. Please choose the file again."), 400)

    storage = request.files.get("file")
    if storage is None or not storage.filename:
        return _render_upload(form, _("Choose a CSV or XLSX file to import."), 400)
    data = storage.stream.read(_max_bytes() + 1)
    default_organisation = _own_default_organisation()
    if is_municipal(current_user) and form.organisation.data:
        default_organisation = db.session.get(Organisation, form.organisation.data)
        if default_organisation is None or not default_organisation.active:
            return _render_upload(form, _("Choose an organisation from the list."), 400)
    try:
        importing.read_table(data, storage.filename,
                             has_default_organisation=default_organisation is not None)
    except FileRejected as error:
        return _render_upload(form, str(error), 400)
    stored = importing.save_upload(
        data, owner_id=current_user.id, filename=storage.filename,
        default_organisation_id=default_organisation.id if default_organisation else None)
    return redirect(url_for(".preview", token=stored.token))


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge):  # type: ignore[no-untyped-def]
    """The upload is over the app's request limit: say so on the upload page."""
    if not current_user.is_authenticated or current_user.role.value not in (1, 2):
        return render_template("core/error.html", code=413,
                               message=_("The file is too large.")), 413
    form = UploadForm(formdata=None)
    if is_municipal(current_user):
        form.organisation.choices = _organisation_choices()
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or _max_bytes()
    return _render_upload(
        form, _("The file is too large: the hub accepts files up to %(size)s.",
                size=importing.format_size(min(limit, _max_bytes()))), 413)


def _load(token: str) -> StoredUpload:
    stored = importing.load_upload(token, owner_id=current_user.id)
    if stored is None:
        abort(404)
    return stored


def _plan(stored: StoredUpload) -> ImportPlan | None:
    """Read and check the stored file again; None (with a message) when it is gone or bad."""
    data = importing.read_upload(stored)
    default = None
    if stored.default_organisation_id:
        default = db.session.get(Organisation, stored.default_organisation_id)
    if data is None:
        flash(_("The uploaded file is no longer available. Please upload it again."), "error")
        return None
    try:
        table = importing.read_table(data, stored.filename,
                                     has_default_organisation=default is not None)
    except FileRejected as error:
        importing.discard_upload(stored)
        flash(str(error), "error")
        return None
    return importing.plan_import(table, actor=current_user, default_organisation=default)


@bp.get("/<token>")
@coordinators_only
def preview(token: str):  # type: ignore[no-untyped-def]
    stored = _load(token)
    if stored.status == "done":
        return redirect(url_for(".result", token=token))
    plan = _plan(stored)
    if plan is None:
        return redirect(url_for(".upload"))

    show = request.args.get("show", "all")
    if show not in {"all", *(a.value for a in RowAction)}:
        show = "all"
    rows = plan.rows if show == "all" else [r for r in plan.rows if r.action.value == show]
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    default = (db.session.get(Organisation, stored.default_organisation_id)
               if stored.default_organisation_id else None)
    bad_rows = plan.bad_rows
    return render_template(
        "directory/import_preview.html", stored=stored, plan=plan, counts=plan.counts,
        table=plan.table, bad_rows=bad_rows[:BAD_ROWS_LISTED], bad_total=len(bad_rows),
        rows=rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE], show=show, page=page, pages=pages,
        fingerprint=plan.fingerprint(), default_organisation=default,
        column_titles=COLUMN_TITLES, RowAction=RowAction,
        delimiter_name=_("tab") if plan.table.delimiter == "\t" else f"«{plan.table.delimiter}»",
    )


@bp.post("/<token>")
@coordinators_only
def confirm(token: str):  # type: ignore[no-untyped-def]
    stored = _load(token)
    if stored.status == "done":
        return redirect(url_for(".result", token=token))
    only_valid = request.form.get("only_valid") in ("1", "y", "yes", "on", "true")
    if not importing.claim_upload(stored):
        flash(_("This file is being imported already."), "warning")
        return redirect(url_for(".preview", token=token))
    try:
        stored = _load(token)  # another request may have finished it meanwhile
        if stored.status == "done":
            return redirect(url_for(".result", token=token))
        plan = _plan(stored)
        if plan is None:
            return redirect(url_for(".upload"))
        bad = len(plan.bad_rows)
        seen = request.form.get("fingerprint", "")
        if seen and seen != plan.fingerprint():
            flash(_("The directory has changed since the preview was shown. Check the updated "
                    "preview and confirm again."), "warning")
            return redirect(url_for(".preview", token=token))
        if bad and not only_valid:
            flash(_("Nothing was imported: the file has %(n)d bad rows. Fix them and upload the "
                    "file again, or choose “import only the valid rows”.", n=bad), "error")
            return redirect(url_for(".preview", token=token))
        if not plan.valid_rows:
            flash(_("Nothing to import: every row of the file is bad."), "error")
            return redirect(url_for(".preview", token=token))
        try:
            result = importing.apply_import(plan, only_valid=only_valid)
        except ImportFailed as error:
            flash(str(error), "error")
            return redirect(url_for(".preview", token=token))
        importing.finish_upload(stored, result, [r.report_line for r in plan.bad_rows])
    finally:
        importing.release_upload(stored)
    current_app.logger.info(
        "people import by %s from %r: %d created, %d updated, %d unchanged, %d skipped",
        current_user.email, stored.filename, result.created, result.updated, result.unchanged,
        result.skipped)
    flash(_("Import finished: %(created)d created, %(updated)d updated, %(unchanged)d "
            "unchanged.", created=result.created, updated=result.updated,
            unchanged=result.unchanged), "success")
    return redirect(url_for(".result", token=token))


@bp.get("/<token>/result")
@coordinators_only
def result(token: str):  # type: ignore[no-untyped-def]
    stored = _load(token)
    if stored.status != "done" or stored.result is None:
        return redirect(url_for(".preview", token=token))
    return render_template("directory/import_result.html", stored=stored, result=stored.result)


@bp.post("/<token>/cancel")
@coordinators_only
def cancel(token: str):  # type: ignore[no-untyped-def]
    stored = _load(token)
    if stored.status != "done":
        importing.discard_upload(stored)
        flash(_("The upload was cancelled; nothing was imported."), "info")
    return redirect(url_for(".upload"))


@bp.get("/template.<fmt>")
@coordinators_only
def template(fmt: str):  # type: ignore[no-untyped-def]
    """An empty file with the Russian headers, to fill in and upload."""
    if fmt == "csv":
        return Response(importing.template_csv(), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": _attachment("csv")})
    if fmt == "xlsx":
        if is_municipal(current_user):
            organisations = list(db.session.scalars(
                select(Organisation).where(Organisation.active.is_(True))
                .order_by(Organisation.short_name)))
        else:
            organisations = [current_user.organisation]
        return Response(
            importing.template_xlsx(_unambiguous_names(organisations)),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": _attachment("xlsx")})
    abort(404)


def _attachment(ext: str) -> str:
    # RFC 6266: an ASCII fallback and the Russian name for browsers that take it.
    return (f"attachment; filename=people-template.{ext}; "
            f"filename*=UTF-8''%D0%BF%D0%B5%D0%B4%D0%B0%D0%B3%D0%BE%D0%B3%D0%B8.{ext}")


def _unambiguous_names(organisations: list[Organisation]) -> list[str]:
    """Short names, or the full name where two organisations share a short one."""
    short = Counter(o.short_name for o in organisations)
    return [o.short_name if short[o.short_name] == 1 else o.full_name for o in organisations]
