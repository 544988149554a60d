"""Conferencing pages: an organisation's provider settings, joining an event's room (the
organisers' button; invitees use /j/<token>), retrying a room, and providers' webhooks."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
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
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from hub.auth.permissions import can_edit_event, can_edit_organisation, can_view_event, require
from hub.auth.services import absolute_url
from hub.conferencing import accounts, joining, rooms
from hub.conferencing.forms import settings_form
from hub.conferencing.jobs import register_jobs
from hub.conferencing.models import ProviderAccount
from hub.conferencing.reports import receive_webhook
from hub.directory.models import Organisation
from hub.extensions import csrf, db, limiter
from hub.scheduling.models import Event, EventStatus
from integrations.conferencing import base as conf

bp = Blueprint("conferencing", __name__)
bp.record_once(lambda state: register_jobs())

#: The largest webhook body read (Zoom's and BigBlueButton's are a few KiB).
WEBHOOK_MAX_BYTES = 1024 * 1024


def redirect_to_room(link: conf.JoinLink) -> Response:
    """Send the browser to the provider; the URL may carry a personal token: never cache it
    nor leak it in a Referer."""
    response = redirect(link.url)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def not_ready_page(event: Event) -> tuple[str, int]:
    """The room is still being made (or failed): say so plainly, and look again shortly."""
    return render_template("conferencing/not_ready.html", event=event), 503


# -- joining and retrying -------------------------------------------------------------------


@bp.get("/events/<int:event_id>/join")
@login_required
def join_event(event_id: int):  # type: ignore[no-untyped-def]
    """Join from the event page (organisers, speakers, and invitees signed in)."""
    event = db.get_or_404(Event, event_id)
    require(can_view_event(current_user, event))
    if event.status != EventStatus.SCHEDULED:
        flash(_("This event is not scheduled: there is no room to join."), "error")
        return redirect(url_for("scheduling.event", event_id=event.id))
    link = joining.join_link(event, current_user)
    if link is None:
        db.session.commit()
        return not_ready_page(event)
    db.session.commit()
    return redirect_to_room(link)


@bp.post("/events/<int:event_id>/room/retry")
@login_required
def retry_room(event_id: int):  # type: ignore[no-untyped-def]
    event = db.get_or_404(Event, event_id)
    require(can_edit_event(current_user, event))
    room = rooms.room_of(event)
    if room is None:
        rooms.reconcile(event)
    else:
        rooms.retry(room)
    db.session.commit()
    flash(_("The room will be made again in a moment."), "success")
    return redirect(url_for("scheduling.event", event_id=event.id))


# -- an organisation's settings ---------------------------------------------------------------


def _organisation(organisation_id: int) -> Organisation:
    organisation = db.get_or_404(Organisation, organisation_id)
    require(can_edit_organisation(current_user, organisation))
    return organisation


def _provider(key: str) -> type[conf.Provider]:
    cls = conf.get(key)
    if cls is None:
        abort(404)
    return cls


def _cards(organisation: Organisation, forms: dict[str, FlaskForm]) -> list[dict[str, Any]]:
    cards = []
    for status in conf.statuses():
        account = accounts.get_account(organisation, status.key)
        form = forms.get(status.key) or settings_form(status.cls, account)
        cards.append({
            "status": status, "cls": status.cls, "account": account, "form": form,
            "needs_account": accounts.needs_account(status.key),
            "hook_url": (absolute_url("conferencing.hook", account_id=account.id)
                         if account is not None and status.cls.capabilities.webhooks else None),
        })
    return cards


def _settings_page(organisation: Organisation, forms: dict[str, FlaskForm] | None = None,
                   code: int = 200):  # type: ignore[no-untyped-def]
    return render_template("conferencing/settings.html", organisation=organisation,
                           cards=_cards(organisation, forms or {})), code


def _check_and_tell(cls: type[conf.Provider], account: ProviderAccount, *, saved: bool) -> None:
    """Check the connection, keep the result, and tell the coordinator what it was."""
    ok, message = accounts.check_account(account)
    db.session.commit()
    if ok:
        text = (_("%(provider)s: settings saved, the connection works.", provider=cls.label)
                if saved else _("%(provider)s: the connection works.", provider=cls.label))
        flash(text + (f" ({message})" if message else ""), "success")
    elif saved:
        flash(_("%(provider)s: settings saved, but the connection does not work: %(why)s",
                provider=cls.label, why=message), "error")
    else:
        flash(_("%(provider)s: the connection does not work: %(why)s", provider=cls.label,
                why=message), "error")


@bp.get("/organisations/<int:organisation_id>/conferencing")
@login_required
def settings(organisation_id: int):  # type: ignore[no-untyped-def]
    return _settings_page(_organisation(organisation_id))


@bp.post("/organisations/<int:organisation_id>/conferencing/<key>")
@login_required
def save_settings(organisation_id: int, key: str):  # type: ignore[no-untyped-def]
    organisation = _organisation(organisation_id)
    cls = _provider(key)
    form = settings_form(cls, accounts.get_account(organisation, key), formdata=request.form)
    if not form.validate():
        return _settings_page(organisation, {key: form}, 400)
    try:
        account = accounts.save_account(organisation, key, form.values(), current_user)
    except accounts.SettingsError as error:
        db.session.rollback()
        form.add_errors(error.errors)
        return _settings_page(organisation, {key: form}, 400)
    _check_and_tell(cls, account, saved=True)
    return redirect(url_for(".settings", organisation_id=organisation.id) + f"#{key}")


@bp.post("/organisations/<int:organisation_id>/conferencing/<key>/check")
@login_required
def check_settings(organisation_id: int, key: str):  # type: ignore[no-untyped-def]
    organisation = _organisation(organisation_id)
    cls = _provider(key)
    account = accounts.get_account(organisation, key)
    if account is None:
        flash(_("%(provider)s: enter the settings first.", provider=cls.label), "error")
    else:
        _check_and_tell(cls, account, saved=False)
    return redirect(url_for(".settings", organisation_id=organisation.id) + f"#{key}")


@bp.post("/organisations/<int:organisation_id>/conferencing/<key>/delete")
@login_required
def delete_settings(organisation_id: int, key: str):  # type: ignore[no-untyped-def]
    organisation = _organisation(organisation_id)
    cls = _provider(key)
    account = accounts.get_account(organisation, key)
    if account is not None:
        accounts.delete_account(account)
        db.session.commit()
        flash(_("%(provider)s: settings removed.", provider=cls.label), "success")
    return redirect(url_for(".settings", organisation_id=organisation.id))


# -- webhooks and callbacks -------------------------------------------------------------------


@bp.post("/conferencing/hooks/<int:account_id>")
@csrf.exempt
@limiter.limit("600 per minute")
def hook(account_id: int):  # type: ignore[no-untyped-def]
    """A provider's webhook (Zoom) or callback (BigBlueButton's analytics and recording-ready)
    for one account's rooms: verified by the provider's signature, stored once per message."""
    account = db.session.get(ProviderAccount, account_id)
    if account is None:
        return jsonify(error="unknown account"), 404
    if (request.content_length or 0) > WEBHOOK_MAX_BYTES:
        return jsonify(error="too large"), 413
    body = request.get_data(cache=False)
    try:
        headers = {name.lower(): value for name, value in request.headers.items()}
        result = receive_webhook(account, headers, body)
    except conf.WebhookRejected as error:
        current_app.logger.info("conferencing: webhook for account %s rejected: %s",
                                account_id, error)
        return jsonify(error="rejected"), 401
    except conf.ProviderError as error:  # settings unreadable: the provider should retry
        current_app.logger.warning("conferencing: webhook for account %s: %s", account_id, error)
        return jsonify(error="unavailable"), 503
    if result.reply is not None:
        return jsonify(result.reply)
    return "", 204
