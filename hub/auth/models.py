"""Single-use tokens emailed for passwordless sign-in and password reset."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.core.types import IntEnum, UTCDateTime, utcnow
from hub.directory.models import Person
from hub.extensions import db


class TokenPurpose(enum.IntEnum):
    SIGN_IN = 1
    PASSWORD_RESET = 2


class AuthToken(db.Model):
    """An emailed single-use token; only its SHA-256 hash is stored."""

    __tablename__ = "auth_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(IntEnum(TokenPurpose))
    #: hex SHA-256 of the token sent by email.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Set when the token is used; a used token never works again.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    person: Mapped[Person] = relationship()
