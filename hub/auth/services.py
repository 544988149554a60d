"""Sign-in operations: password checks with lockout, emailed single-use tokens, password changes.

Plain functions over the database session, with no request objects, so that views and CLI
commands share them. They add and flush; the caller commits (emails queued here go out with
the caller's transaction, or not at all).

Tokens and passwords are never logged. Only the SHA-256 of an emailed token is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from hub.auth.models import AuthToken, TokenPurpose
from hub.auth.passwords import hash_password, needs_rehash, verify_password
from hub.core.types import utcnow
from hub.directory.models import Person
from hub.extensions import db
from hub.outbox.services import enqueue_email

log = logging.getLogger(__name__)

#: Which page each emailed token opens.
_TOKEN_ENDPOINTS = {
    TokenPurpose.SIGN_IN: "auth.link_signin",
    TokenPurpose.PASSWORD_RESET: "auth.reset_password",
}

_dummy_hash: str | None = None


def _burn_time(password: str) -> None:
    """Verify against a throwaway hash so that an unknown or locked account answers as slowly as
    a real check (no account enumeration by timing)."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password(secrets.token_urlsafe(16))
    verify_password(_dummy_hash, password)


# --- people -------------------------------------------------------------------------------


def find_person_by_email(email: str) -> Person | None:
    """The person with this address (addresses are stored lower-cased), active or not."""
    email = (email or "").strip().lower()
    if not email:
        return None
    return db.session.scalar(select(Person).where(Person.email == email))


def is_locked(person: Person) -> bool:
    return person.locked_until is not None and person.locked_until > utcnow()


def clear_lockout(person: Person) -> None:
    person.failed_logins = 0
    person.locked_until = None


def session_fingerprint(person: Person) -> str:
    """Changes whenever the password does: a session carrying an older value is signed out."""
    key = current_app.config["SECRET_KEY"].encode()
    data = f"{person.id}:{person.password_hash}".encode()
    return hmac.new(key, data, hashlib.sha256).hexdigest()[:32]


# --- password sign-in ---------------------------------------------------------------------


@dataclass(frozen=True)
class LoginAttempt:
    """The outcome of a password check. `person` is set only on success."""

    person: Person | None
    #: True when this failure locked the account (for the log; never shown differently).
    locked_now: bool = False

    @property
    def ok(self) -> bool:
        return self.person is not None


def authenticate(email: str, password: str) -> LoginAttempt:
    """Check an address and password, counting consecutive failures per account.

    Unknown addresses, deactivated people, locked accounts and wrong passwords all fail the
    same way, so the caller shows one message. After LOGIN_MAX_FAILURES failures in a row the
    account is locked for LOGIN_LOCK_MINUTES; attempts during the lock are not checked and do
    not extend it. Success clears the counter and upgrades an outdated hash.
    """
    person = find_person_by_email(email)
    if person is None or not person.active or is_locked(person):
        _burn_time(password)
        return LoginAttempt(None)

    if not person.password_hash:  # signs in by emailed link only
        _burn_time(password)
        return LoginAttempt(None, locked_now=_count_failure(person))
    if not verify_password(person.password_hash, password):
        return LoginAttempt(None, locked_now=_count_failure(person))

    if needs_rehash(person.password_hash):
        person.password_hash = hash_password(password)
    clear_lockout(person)
    db.session.flush()
    return LoginAttempt(person)


def _count_failure(person: Person) -> bool:
    """One more failure (atomic in SQL, so parallel attempts all count); lock at the limit."""
    config = current_app.config
    db.session.execute(
        update(Person).where(Person.id == person.id)
        .values(failed_logins=Person.failed_logins + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(person, ["failed_logins"])
    if person.failed_logins < config["LOGIN_MAX_FAILURES"]:
        return False
    person.failed_logins = 0
    person.locked_until = utcnow() + timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
    db.session.flush()
    log.warning("sign-in: person %s locked after %s failed attempts",
                person.id, config["LOGIN_MAX_FAILURES"])
    return True


def signed_in_by_link(person: Person) -> None:
    """The mailbox was proven: a lock on password attempts no longer needs to hold."""
    clear_lockout(person)
    db.session.flush()


# --- emailed tokens -----------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(person: Person, purpose: TokenPurpose) -> str:
    """Create a single-use token for `person`; returns the token itself (only its hash is kept)."""
    minutes = _lifetime_minutes(purpose)
    token = secrets.token_urlsafe(32)
    db.session.add(AuthToken(person_id=person.id, purpose=purpose, token_hash=hash_token(token),
                             expires_at=utcnow() + timedelta(minutes=minutes)))
    db.session.flush()
    return token


def _lifetime_minutes(purpose: TokenPurpose) -> int:
    key = "SIGNIN_LINK_MINUTES" if purpose == TokenPurpose.SIGN_IN else "PASSWORD_RESET_MINUTES"
    return int(current_app.config[key])


def absolute_url(endpoint: str, **values: object) -> str:
    """An absolute link for an email, built on BASE_URL (works outside a request, e.g. CLI)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["BASE_URL"].rstrip("/") + path


def token_url(token: str, purpose: TokenPurpose) -> str:
    return absolute_url(_TOKEN_ENDPOINTS[purpose], token=token)


def find_valid_token(token: str, purpose: TokenPurpose) -> AuthToken | None:
    """The unused, unexpired token of an active person, without using it up."""
    if not token or len(token) > 200:
        return None
    row = db.session.scalar(select(AuthToken).where(AuthToken.token_hash == hash_token(token),
                                                    AuthToken.purpose == purpose))
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    if not row.person.active:
        return None
    return row


def consume_token(token: str, purpose: TokenPurpose) -> Person | None:
    """Use a token up and return its person; None when it is unknown, expired or already used.

    The used mark is a conditional UPDATE, so of two simultaneous requests only one wins.
    """
    row = find_valid_token(token, purpose)
    if row is None:
        return None
    now = utcnow()
    result = db.session.execute(
        update(AuthToken)
        .where(AuthToken.id == row.id, AuthToken.used_at.is_(None), AuthToken.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    db.session.refresh(row)
    return row.person


def revoke_tokens(person: Person, purposes: tuple[TokenPurpose, ...] | None = None) -> int:
    """Mark every outstanding token of `person` (of the given purposes) as used."""
    query = update(AuthToken).where(AuthToken.person_id == person.id,
                                    AuthToken.used_at.is_(None))
    if purposes:
        query = query.where(AuthToken.purpose.in_([int(p) for p in purposes]))
    result = db.session.execute(query.values(used_at=utcnow())
                                .execution_options(synchronize_session=False))
    return result.rowcount or 0


# --- emails -------------------------------------------------------------------------------


def _email_locale(person: Person, fallback: str | None = None) -> str:
    languages = current_app.config["LANGUAGES"]
    for code in (person.locale, fallback):
        if code in languages:
            return code
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _greeting_name(person: Person) -> str:
    """How a Russian letter addresses a colleague: first name and patronymic."""
    return " ".join(p for p in (person.first_name, person.patronymic) if p) or person.full_name


def _send(person: Person, template: str, subject: object, kind: str, locale: str | None,
          **context: object) -> None:
    """Queue an email from templates/auth/email/<template>.txt and .html, in the person's
    language. `subject` is a lazy string, translated in that language."""
    with force_locale(_email_locale(person, locale)):
        context = {"person": person, "name": _greeting_name(person), **context}
        text = render_template(f"auth/email/{template}.txt", **context)
        html = render_template(f"auth/email/{template}.html", **context)
        enqueue_email(person.email, str(subject), text, html, kind=kind)


def send_sign_in_link(person: Person, locale: str | None = None) -> None:
    """Email `person` a single-use sign-in link (the caller commits)."""
    token = issue_token(person, TokenPurpose.SIGN_IN)
    _send(person, "sign_in_link", _l("Your sign-in link to Vmeste hub"), "auth.sign_in_link",
          locale, url=token_url(token, TokenPurpose.SIGN_IN),
          minutes=_lifetime_minutes(TokenPurpose.SIGN_IN))


def send_password_reset(person: Person, locale: str | None = None) -> None:
    """Email `person` a single-use link to set a new password (the caller commits)."""
    token = issue_token(person, TokenPurpose.PASSWORD_RESET)
    _send(person, "password_reset", _l("Set a new password for Vmeste hub"), "auth.password_reset",
          locale, url=token_url(token, TokenPurpose.PASSWORD_RESET),
          minutes=_lifetime_minutes(TokenPurpose.PASSWORD_RESET))


def request_sign_in_link(email: str, locale: str | None = None) -> bool:
    """Send a link if the address belongs to an active person. The answer shown to the visitor
    must not depend on the result (True when a link was queued)."""
    person = find_person_by_email(email)
    if person is None or not person.active:
        return False
    send_sign_in_link(person, locale)
    return True


def request_password_reset(email: str, locale: str | None = None) -> bool:
    """Like request_sign_in_link, for a password reset link."""
    person = find_person_by_email(email)
    if person is None or not person.active:
        return False
    send_password_reset(person, locale)
    return True


# --- passwords ----------------------------------------------------------------------------


def set_password(person: Person, password: str, locale: str | None = None) -> None:
    """Store a new password, end the lockout, cancel outstanding emailed links, and tell the
    person by email (in case it was not them). Sessions signed in with the old password end
    (see session_fingerprint)."""
    had_password = bool(person.password_hash)
    person.password_hash = hash_password(password)
    clear_lockout(person)
    revoke_tokens(person)
    db.session.flush()
    _send(person, "password_changed",
          _l("Your Vmeste hub password was changed") if had_password
          else _l("A password was set for your Vmeste hub account"),
          "auth.password_changed", locale, forgot_url=absolute_url("auth.forgot_password"))


def reset_password(token: str, password: str, locale: str | None = None) -> Person | None:
    """Use a reset token and set the password; None when the token no longer works."""
    person = consume_token(token, TokenPurpose.PASSWORD_RESET)
    if person is None:
        return None
    set_password(person, password, locale)
    return person


def check_current_password(person: Person, password: str) -> bool:
    """For the change-password form; a person without a password needs none."""
    if not person.password_hash:
        return True
    return verify_password(person.password_hash, password or "")
