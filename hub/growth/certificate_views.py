"""Certificates: the PDF, issuing by the organiser, revoking, the public verification page,
and what the event page's panel shows."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import func, select

from hub.attendance.models import Attendance
from hub.attendance.signals import credited
from hub.auth.permissions import can_edit_event, require
from hub.core.routing import MAX_ID
from hub.core.types import utcnow
from hub.extensions import db, limiter
from hub.growth import certificates
from hub.growth.certificate_pdf import certificate_pdf
from hub.growth.models import Certificate
from hub.growth.views import bp
from hub.scheduling.models import Event

#: Public look-ups per address: enough for a hall of people scanning, too few to guess codes.
VERIFY_LIMIT = "30 per minute"


@bp.record_once
def _connect(state: Any) -> None:
    """Issue certificates automatically when an event's records earn credit."""
    credited.connect(certificates.on_credited)


def _event_page(event: Event) -> Any:
    return redirect(url_for("scheduling.event", event_id=event.id, _anchor="certificates"))


@bp.get("/certificates/<int:certificate_id>.pdf")
@login_required
def certificate_download(certificate_id: int):  # type: ignore[no-untyped-def]
    certificate = db.get_or_404(Certificate, certificate_id)
    require(certificates.can_download(current_user, certificate))
    response = Response(certificate_pdf(certificate), mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="certificate-{certificate.code}.pdf"')
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _one_record(event: Event, raw: str) -> Attendance | None:
    """The event's record named by the form's attendance_id, or None."""
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= MAX_ID:
        return None
    return db.session.scalar(select(Attendance).where(Attendance.id == int(raw),
                                                      Attendance.event_id == event.id))


@bp.post("/events/<int:event_id>/certificates")
@login_required
def certificates_issue(event_id: int):  # type: ignore[no-untyped-def]
    event = db.get_or_404(Event, event_id)
    require(can_edit_event(current_user, event))
    if event.end_at > utcnow():
        flash(_("Certificates are issued after the event."), "error")
        return _event_page(event)
    raw = request.form.get("attendance_id", "")
    if raw:
        record = _one_record(event, raw)
        if record is None:
            flash(_("There is no such attendance record at this event."), "error")
            return _event_page(event)
        try:
            certificates.issue_for(record, current_user)
        except certificates.CertificateError as error:
            flash(str(error), "error")
            return _event_page(event)
        db.session.commit()
        flash(_("The certificate is issued."), "success")
        return _event_page(event)
    made = certificates.issue_missing(event, current_user)
    db.session.commit()
    if made:
        flash(ngettext("%(num)d certificate issued.", "%(num)d certificates issued.",
                       len(made)), "success")
    else:
        flash(_("Every credited participant already has a certificate."), "info")
    return _event_page(event)


@bp.post("/certificates/<int:certificate_id>/revoke")
@login_required
def certificate_revoke(certificate_id: int):  # type: ignore[no-untyped-def]
    certificate = db.get_or_404(Certificate, certificate_id)
    require(certificates.can_revoke(current_user, certificate))
    try:
        certificates.revoke(certificate, current_user, request.form.get("reason", ""))
    except certificates.CertificateError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("The certificate is revoked."), "success")
    if certificate.event is not None:
        return _event_page(certificate.event)
    return redirect(url_for("growth.portfolio_of_person", person_id=certificate.person_id))


@bp.get("/verify/<code>")
@limiter.limit(VERIFY_LIMIT)
def verify(code: str):  # type: ignore[no-untyped-def]
    """Public: whether the certificate is valid, with only what it prints."""
    certificate = certificates.by_code(code)
    if certificate is None:
        return render_template("growth/verify.html", certificate=None,
                               code=code.strip()[:40]), 404
    return render_template("growth/verify.html", certificate=certificate,
                           code=certificates.printed_code(certificate.code))


@bp.app_template_global("certificate_panel")
def certificate_panel(event: Event) -> dict[str, Any]:
    """What templates/growth/_event_panel.html shows the viewer of an event page."""
    panel: dict[str, Any] = {"editor": False, "mine": None, "issued": 0, "certificates": []}
    if not current_user.is_authenticated:
        return panel
    panel["mine"] = db.session.scalar(select(Certificate).where(
        Certificate.event_id == event.id, Certificate.person_id == current_user.id))
    if can_edit_event(current_user, event) and event.end_at <= utcnow():
        panel["editor"] = True
        panel["certificates"] = list(db.session.scalars(
            select(Certificate).where(Certificate.event_id == event.id)
            .order_by(Certificate.holder_name, Certificate.id)))
        panel["issued"] = sum(1 for c in panel["certificates"] if c.valid)
        panel["missing"] = db.session.scalar(
            select(func.count(Attendance.id)).where(
                Attendance.event_id == event.id, Attendance.credited.is_(True),
                Attendance.person_id.is_not(None),
                ~select(Certificate.id).where(
                    Certificate.attendance_id == Attendance.id).exists())) or 0
    return panel
