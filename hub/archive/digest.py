"""The weekly digest of new materials, for the people who asked for it (DigestSubscription).

Once a week per subscriber (the first digest at the next pass after subscribing), the job
claims the subscription by moving its `last_sent_at` to now with an UPDATE that only matches
the value it read (a compare-and-swap: of two workers only one moves it), and in the same
transaction queues one letter, in the person's language, with the materials visible to them
that appeared in the bank since the previous digest (the last seven days for the first one).
Nothing is sent when nothing appeared; the week still counts.

The unsubscribe link carries a token signed with the app's secret (itsdangerous, salted), so
that it works without sign-in and cannot be made for someone else."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import formataddr

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, or_, select, update

from hub.archive import bank
from hub.archive.models import DigestSubscription
from hub.calendar.messages import absolute, greeting_name, person_locale
from hub.core.types import utcnow
from hub.directory.models import Person
from hub.extensions import db
from hub.outbox.services import enqueue_email

#: How often a subscriber gets a digest.
EVERY = timedelta(days=7)
#: Materials listed in one letter at most (the letter links the bank for the rest).
LETTER_LIMIT = 30
#: Subscriptions handled in one pass at most (the next pass does the rest).
BATCH = 200
SALT = "archive.digest-unsubscribe"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def unsubscribe_token(person: Person) -> str:
    """The person's signed unsubscribe token (the same every time)."""
    return _serializer().dumps({"p": person.id})


def person_of_token(token: str) -> Person | None:
    """The person an unsubscribe token stands for; None for a tampered or unknown one."""
    if len(token) > 200:
        return None
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    person_id = data.get("p") if isinstance(data, dict) else None
    return db.session.get(Person, person_id) if isinstance(person_id, int) else None


def is_subscribed(person: Person) -> bool:
    if not getattr(person, "is_authenticated", False):
        return False
    return db.session.scalar(select(DigestSubscription.id).where(
        DigestSubscription.person_id == person.id)) is not None


def set_subscribed(person: Person, wanted: bool) -> None:
    """Subscribe or unsubscribe (nothing changes when already so); the caller commits."""
    if not wanted:
        db.session.execute(delete(DigestSubscription).where(
            DigestSubscription.person_id == person.id))
    elif not is_subscribed(person):
        db.session.add(DigestSubscription(person_id=person.id))
        db.session.flush()


def _claim(subscription_id: int, old: datetime | None, now: datetime) -> bool:
    """Move the subscription's last_sent_at from `old` to `now`, unless someone else did."""
    same = (DigestSubscription.last_sent_at.is_(None) if old is None
            else DigestSubscription.last_sent_at == old)
    result = db.session.execute(
        update(DigestSubscription).where(DigestSubscription.id == subscription_id, same)
        .values(last_sent_at=now).execution_options(synchronize_session=False))
    return bool(result.rowcount)


def _letter(person: Person, materials: list, since: datetime) -> None:
    locale = person_locale(person)
    with force_locale(locale):
        context = {
            "name": greeting_name(person), "materials": materials[:LETTER_LIMIT],
            "more": len(materials) > LETTER_LIMIT,
            "bank_url": absolute("/bank/new"), "absolute": absolute,
            "unsubscribe_url": absolute(f"/bank/digest/unsubscribe/{unsubscribe_token(person)}"),
            "year_label": bank.school_year_label,
        }
        subject = _("New in the methodical bank this week")
        text = render_template("archive/email/digest.txt", **context)
        html = render_template("archive/email/digest.html", **context)
    enqueue_email(formataddr((person.full_name, person.email)), subject, text, html,
                  kind=f"digest:{person.id}:{since:%Y%m%d}")


def send_due_digests(now: datetime | None = None) -> int:
    """Queue the digests that are due, each claimed and committed on its own. Returns how many
    letters were queued."""
    now = now or utcnow()
    due = db.session.execute(
        select(DigestSubscription.id, DigestSubscription.last_sent_at, DigestSubscription.person_id)
        .where(or_(DigestSubscription.last_sent_at.is_(None),
                   DigestSubscription.last_sent_at <= now - EVERY))
        .order_by(DigestSubscription.id).limit(BATCH)).all()
    db.session.commit()
    sent = 0
    for row in due:
        if not _claim(row.id, row.last_sent_at, now):
            db.session.rollback()
            continue
        person = db.session.get(Person, row.person_id)
        since = row.last_sent_at or now - EVERY
        materials = (bank.new_materials(person, since=since, until=now, limit=LETTER_LIMIT + 1)
                     if person is not None and person.active and "@" in person.email else [])
        if materials:
            _letter(person, materials, since)
            sent += 1
        db.session.commit()
    return sent
