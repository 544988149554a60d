"""`flask conferencing ...`: the state of the providers and rooms, and re-encrypting stored
credentials after a new key is put first in SETTINGS_ENCRYPTION_KEYS."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from hub.conferencing.models import ProviderAccount, Room
from hub.core import secrets
from hub.extensions import db
from integrations.conferencing import base as conf

conferencing_cli = AppGroup("conferencing", help="Conferencing providers and rooms.")


@conferencing_cli.command("status")
def status_command() -> None:
    """Print each provider (available or why not) and how many rooms are in each state."""
    for status in conf.statuses():
        state = "available" if status.available else f"unavailable: {status.unavailable_reason}"
        click.echo(f"{status.key:14} {state}")
    counts = db.session.execute(select(Room.provider, Room.state, func.count())
                                .group_by(Room.provider, Room.state)).all()
    for provider, state, count in counts:
        click.echo(f"rooms {provider:14} {state.name.lower():8} {count}")


@conferencing_cli.command("rekey")
def rekey_command() -> None:
    """Re-encrypt every organisation's stored credentials with the first key."""
    accounts = db.session.scalars(select(ProviderAccount)).all()
    try:
        for account in accounts:
            account.secrets_encrypted = secrets.rotate(account.secrets_encrypted)
    except secrets.SecretsUnavailable as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"re-encrypted the settings of {len(accounts)} provider accounts")
