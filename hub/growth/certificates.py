"""Participation certificates: issuing (by hand, automatically on credit, on completing the
internship), revoking, finding by code, and who may see or manage them.

A certificate copies what it says (holder, event, date, hours, role, organisers) when it is
issued. Every function changes the session and leaves the commit to its caller."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import date
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from hub.attendance.models import Attendance, GrowthRole
from hub.auth.permissions import can_edit_event, is_coordinator_of, is_municipal
from hub.core.types import utcnow
from hub.directory.models import Organisation, Person
from hub.extensions import db
from hub.growth.models import Certificate, InternshipCompletion
from hub.scheduling.models import Event, EventHost, Series

#: Letters and digits that cannot be mistaken for one another when read aloud or typed
#: (no I, O, 0, 1): 32 symbols, 5 bits each.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
#: 16 symbols: 80 random bits, printed in groups of four.
CODE_LENGTH = 16
_NOT_CODE = re.compile(r"[\s\-]+")
_CODE_SHAPE = re.compile(r"[A-Z0-9]{1,32}")


class CertificateError(ValueError):
    """A certificate cannot be issued or revoked; the message says why (shown to the user)."""


def new_code() -> str:
    """A random code of CODE_LENGTH symbols from CODE_ALPHABET."""
    return "".join(secrets.choice(CODE_ALPHABET) for _position in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """A code as typed or scanned (any case, spaces, dashes) in its stored form."""
    return _NOT_CODE.sub("", text or "").upper()[:CODE_LENGTH * 2]


def printed_code(code: str) -> str:
    """The code in groups of four for reading aloud: ABCD-EFGH-JKLM-NPQR."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def by_code(text: str) -> Certificate | None:
    """The certificate with this code (as typed), or None."""
    code = normalise_code(text)
    if not _CODE_SHAPE.fullmatch(code):
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == code))


def organisers_of(event_ids: Iterable[int]) -> str:
    """The host organisations' short names, in name order, comma-separated (one query)."""
    names = db.session.scalars(
        select(Organisation.short_name).join(EventHost, EventHost.organisation_id
                                             == Organisation.id)
        .where(EventHost.event_id.in_(list(event_ids))).distinct())
    return ", ".join(sorted(names))[:600]


def local_date(event: Event) -> date:
    """The day the event was held, in its own zone."""
    return event.start_at.astimezone(ZoneInfo(event.timezone)).date()


def _save(certificate: Certificate) -> Certificate | None:
    """Add the certificate in a savepoint: None when its attendance got one meanwhile; a new
    code when the (improbable) code collides."""
    for _attempt in range(5):
        certificate.code = new_code()
        try:
            with db.session.begin_nested():
                db.session.add(certificate)
            return certificate
        except IntegrityError:
            if certificate.attendance_id is not None and db.session.scalar(
                    select(Certificate.id).where(
                        Certificate.attendance_id == certificate.attendance_id)):
                return None
    raise CertificateError("no free certificate code")  # pragma: no cover - 2**80 codes


def certificate_of(record: Attendance) -> Certificate | None:
    """The record's certificate, valid or revoked."""
    return db.session.scalar(select(Certificate).where(Certificate.attendance_id == record.id))


def _check(record: Attendance) -> None:
    """Refuse a guest's record and one without credit."""
    if record.person_id is None:
        raise CertificateError(_("A guest without an account gets no certificate."))
    if not record.credited:
        raise CertificateError(_("Only a credited attendance earns a certificate."))


def _issue(record: Attendance, actor: Person | None, organisers: str) -> Certificate:
    """A new certificate of a checked record (the one made meanwhile if another was faster)."""
    event = record.event
    certificate = Certificate(
        person_id=record.person_id, event_id=event.id, attendance_id=record.id,
        holder_name=record.person.full_name[:300], title=event.title[:300],
        format=event.format, organisers=organisers, held_on=local_date(event),
        hours=round(record.hours, 2), role=record.role,
        issued_by_id=actor.id if actor is not None else None)
    return _save(certificate) or certificate_of(record)  # type: ignore[return-value]


def issue_for(record: Attendance, actor: Person | None = None) -> Certificate:
    """The record's certificate, issued now unless it has one (idempotent). Only a person's
    credited record earns one; `actor` None means issued automatically."""
    _check(record)
    existing = certificate_of(record)
    if existing is not None:
        return existing
    return _issue(record, actor, organisers_of([record.event_id]))


def issue_missing(event: Event, actor: Person | None = None,
                  records: Iterable[Attendance] | None = None) -> list[Certificate]:
    """Certificates for the event's credited records of people that have none yet (all its
    records, or those given). Returns the new ones."""
    if records is None:
        records = db.session.scalars(select(Attendance).where(
            Attendance.event_id == event.id, Attendance.credited.is_(True),
            Attendance.person_id.is_not(None)).options(selectinload(Attendance.person)))
    wanted = [r for r in records if r.credited and r.person_id is not None]
    if not wanted:
        return []
    have = set(db.session.scalars(select(Certificate.attendance_id).where(
        Certificate.event_id == event.id, Certificate.attendance_id.is_not(None))))
    organisers = organisers_of([event.id])
    return [_issue(r, actor, organisers) for r in wanted if r.id not in have]


def issue_automatically(event: Event, records: Iterable[Attendance]) -> list[Certificate]:
    """For events with automatic certificates: one for each credited record without one.
    Connected to hub.attendance.signals.credited; safe to call again."""
    if not event.auto_certificates:
        return []
    return issue_missing(event, None, records)


def on_credited(event: Event, records: Iterable[Attendance] = ()) -> None:
    """The receiver of the `credited` signal."""
    issue_automatically(event, records)


def revoke(certificate: Certificate, actor: Person, reason: str) -> None:
    """Revoke with who, when and why (a reason is required; revoking twice keeps the first)."""
    reason = (reason or "").replace("\x00", "").strip()
    if not reason:
        raise CertificateError(_("Give the reason for revoking the certificate."))
    if certificate.revoked_at is not None:
        return
    certificate.revoked_at = utcnow()
    certificate.revoked_by_id = actor.id
    certificate.revoke_reason = reason[:500]


def program_hours(series_id: int, person_id: int) -> float:
    """The person's credited hours over a program's sessions (one query)."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(Attendance.hours), 0.0)).join(Event)
        .where(Event.series_id == series_id, Attendance.person_id == person_id,
               Attendance.credited.is_(True)))
    return round(float(total or 0.0), 2)


def issue_for_completion(completion: InternshipCompletion,
                         actor: Person | None = None) -> Certificate:
    """The intern's certificate of completing the program (idempotent per program and intern):
    hours are the intern's credited hours in it, the date the day the mentor confirmed."""
    existing = db.session.scalar(select(Certificate).where(
        Certificate.series_id == completion.series_id,
        Certificate.person_id == completion.intern_id))
    if existing is not None:
        return existing
    series: Series = completion.series
    session_ids = db.session.scalars(select(Event.id).where(Event.series_id == series.id))
    certificate = Certificate(
        person_id=completion.intern_id, series_id=series.id,
        holder_name=completion.intern.full_name[:300], title=series.title[:300],
        organisers=organisers_of(session_ids),
        held_on=completion.confirmed_at.astimezone(ZoneInfo(series.timezone)).date(),
        hours=program_hours(series.id, completion.intern_id), role=GrowthRole.INTERN,
        issued_by_id=actor.id if actor is not None else None)
    return _save(certificate) or certificate


# -- who may ----------------------------------------------------------------------------------

def can_download(user: Person, certificate: Certificate) -> bool:
    """The holder, the event's organisers and editors, coordinators of the holder's
    organisation, the municipal coordinator."""
    if not user.is_authenticated:
        return False
    if user.id == certificate.person_id or is_municipal(user):
        return True
    if is_coordinator_of(user, certificate.person.organisation_id):
        return True
    return certificate.event is not None and can_edit_event(user, certificate.event)


def can_revoke(user: Person, certificate: Certificate) -> bool:
    """The event's organisers (and its editors) and the municipal coordinator."""
    if not user.is_authenticated:
        return False
    if is_municipal(user):
        return True
    return certificate.event is not None and can_edit_event(user, certificate.event)
