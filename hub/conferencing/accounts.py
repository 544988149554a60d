"""Organisations' provider settings: saving them (secrets encrypted), checking the connection,
and making a Provider for a room or an account."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from hub.conferencing.models import ProviderAccount
from hub.core import secrets
from hub.core.types import utcnow
from hub.directory.models import Organisation, Person
from hub.extensions import db
from integrations.conferencing import base as conf

log = logging.getLogger(__name__)

#: The provider an event gets unless the organiser picks another.
DEFAULT_PROVIDER = "jitsi"


class SettingsError(ValueError):
    """Settings that cannot be saved; `errors` maps field names to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def context() -> conf.Context:
    """What providers get from the app: the secret, the timeout, the endpoints, the clock."""
    config = current_app.config
    return conf.Context(secret=config["SECRET_KEY"],
                        timeout=float(config.get("CONFERENCING_TIMEOUT", 15.0)),
                        now=utcnow, endpoints=dict(config.get("CONFERENCING_ENDPOINTS") or {}))


def provider_class(key: str) -> type[conf.Provider]:
    cls = conf.get(key)
    if cls is None:
        raise conf.ProviderConfigError(f"Unknown conferencing provider: {key}")
    return cls


def settings_of(account: ProviderAccount | None) -> dict[str, str]:
    """The account's settings, secrets decrypted (never to be rendered or logged)."""
    if account is None:
        return {}
    values = {k: str(v) for k, v in (account.settings or {}).items()}
    try:
        values.update(secrets.decrypt(account.secrets_encrypted))
    except secrets.SecretsUnavailable as error:
        raise conf.ProviderConfigError(str(error)) from error
    return values


def defaults_for(key: str) -> dict[str, str]:
    """Installation-wide settings of a provider that needs no account (Jitsi's server)."""
    if key == "jitsi":
        return {"base_url": current_app.config.get("JITSI_BASE_URL", "")}
    return {}


def make_provider(key: str, account: ProviderAccount | None) -> conf.Provider:
    settings = {**defaults_for(key), **{k: v for k, v in settings_of(account).items() if v}}
    return provider_class(key)(settings, context())


# -- which providers an event may use --------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """A provider as offered on the event form."""

    key: str
    label: str
    #: Why it cannot be chosen for these organisers (None: it can).
    reason: str | None


def needs_account(key: str) -> bool:
    cls = conf.get(key)
    return cls is not None and bool(cls.missing_settings({}))


def accounts_of(organisation_ids: Iterable[int]) -> dict[str, list[ProviderAccount]]:
    ids = list(dict.fromkeys(organisation_ids))
    found: dict[str, list[ProviderAccount]] = {}
    if not ids:
        return found
    rows = db.session.scalars(select(ProviderAccount).where(
        ProviderAccount.organisation_id.in_(ids))).all()
    for account in sorted(rows, key=lambda a: ids.index(a.organisation_id)):
        found.setdefault(account.provider, []).append(account)
    return found


def account_for(key: str, organisation_ids: Iterable[int]) -> ProviderAccount | None:
    """The first of the organisations (in order) that has settings for the provider."""
    return next(iter(accounts_of(organisation_ids).get(key, [])), None)


def choices(organisation_ids: Iterable[int]) -> list[Choice]:
    """Every provider, with the reason it cannot be used by these organisations where so."""
    accounts = accounts_of(organisation_ids)
    result = []
    for status in conf.statuses():
        reason = None
        if not status.available:
            reason = _("not installed on this server (%(why)s)", why=status.unavailable_reason)
        elif needs_account(status.key) and status.key not in accounts:
            reason = _("not set up for the host organisations")
        result.append(Choice(status.key, status.cls.label, reason))
    return result


def check_choice(key: str, organisation_ids: Iterable[int]) -> str | None:
    """Why `key` cannot be used for an event of these organisations (None: it can)."""
    for choice in choices(organisation_ids):
        if choice.key == key:
            return choice.reason
    return _("Unknown conferencing service.")


# -- saving and checking ---------------------------------------------------------------------


def get_account(organisation: Organisation, key: str) -> ProviderAccount | None:
    return db.session.scalar(select(ProviderAccount).where(
        ProviderAccount.organisation_id == organisation.id, ProviderAccount.provider == key))


def save_account(organisation: Organisation, key: str, values: Mapping[str, str],
                 actor: Person) -> ProviderAccount:
    """Store the organisation's settings for a provider. An empty secret field keeps the
    stored secret ("leave empty to keep"); `clear_<name>` in `values` removes it."""
    cls = provider_class(key)
    account = get_account(organisation, key) or ProviderAccount(
        organisation_id=organisation.id, provider=key, settings={}, secret_names=[])
    try:
        stored = settings_of(account)
    except conf.ProviderConfigError:  # unreadable with today's keys: what is entered now counts
        stored = {}
    public: dict[str, str] = {}
    secret_values: dict[str, str] = {}
    for setting in cls.settings_fields:
        value = (values.get(setting.name) or "").strip()
        if setting.secret:
            if values.get(f"clear_{setting.name}"):
                value = ""
            elif not value:
                value = stored.get(setting.name, "")
            if value:
                secret_values[setting.name] = value
        elif value:
            public[setting.name] = value
    missing = cls.missing_settings({**public, **secret_values})
    if missing:
        raise SettingsError({f.name: _("Fill this in.") for f in missing})
    try:
        account.secrets_encrypted = secrets.encrypt(secret_values)
    except secrets.SecretsUnavailable as error:
        raise SettingsError({"": str(error)}) from error
    account.settings = public
    account.secret_names = sorted(secret_values)
    account.updated_by_id = actor.id
    account.checked_at, account.check_ok, account.check_message = None, None, ""
    db.session.add(account)
    db.session.flush()
    log.info("conferencing: %s settings of organisation %s saved by person %s (secrets: %s)",
             key, organisation.id, actor.id, ", ".join(account.secret_names) or "none")
    return account


def delete_account(account: ProviderAccount) -> None:
    """Forget the settings. Rooms already made with them keep working at the provider, but
    the hub can no longer update them: they are detached."""
    from hub.conferencing.models import Room

    for room in db.session.scalars(select(Room).where(Room.account_id == account.id)):
        room.account_id = None
    db.session.delete(account)
    db.session.flush()


def check_account(account: ProviderAccount) -> tuple[bool, str]:
    """Try the settings against the provider; remember and return (worked, what it said)."""
    try:
        found = make_provider(account.provider, account).check_connection()
        ok, message = True, found
    except conf.ProviderError as error:
        ok, message = False, str(error)
    account.checked_at, account.check_ok, account.check_message = utcnow(), ok, message[:2000]
    db.session.flush()
    return ok, message


def label(key: str) -> str:
    """The provider's name for people ("Jitsi Meet"); the key itself if it is unknown."""
    cls = conf.get(key)
    return cls.label if cls is not None else key
