"""The directory: organisations, network associations and people."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.core.types import IntEnum, LabelledEnum, UTCDateTime, utcnow
from hub.extensions import db

_SPACES = re.compile(r"\s+")


def fold_for_search(*parts: str | None) -> str:
    """Text folded for case-insensitive search, the same on SQLite and PostgreSQL.

    SQLite's lower() folds only ASCII and PostgreSQL's depends on the database locale, so the
    directory stores this folded copy (Unicode casefold, ё → е, collapsed spaces) in `search_key`
    columns and compares it with the query folded the same way.
    """
    text = " ".join(p for p in parts if p)
    text = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    return _SPACES.sub(" ", text).strip()


_DIGITS = re.compile(r"\d+")


def natural_sort_key(*parts: str | None) -> str:
    """fold_for_search with numbers zero-padded, so «№ 3» sorts before «№ 22»."""
    return _DIGITS.sub(lambda m: m.group().zfill(8), fold_for_search(*parts))[:200]


class OrgKind(LabelledEnum):
    """What kind of organisation this is."""

    KINDERGARTEN = 1
    SCHOOL = 2
    SUPPLEMENTARY = 3
    SOCIAL_PARTNER = 4
    EDUCATION_OFFICE = 5

    @classmethod
    def labels(cls) -> dict:
        return {
            cls.KINDERGARTEN: _l("Kindergarten"),
            cls.SCHOOL: _l("School"),
            cls.SUPPLEMENTARY: _l("Supplementary education centre"),
            cls.SOCIAL_PARTNER: _l("Social partner"),
            cls.EDUCATION_OFFICE: _l("Education office"),
        }


class Category(LabelledEnum):
    """A teacher's qualification category (квалификационная категория)."""

    NONE = 0
    FIRST = 1
    HIGHEST = 2
    METHODIST = 3
    MENTOR = 4

    @classmethod
    def labels(cls) -> dict:
        return {
            cls.NONE: _l("No category"),
            cls.FIRST: _l("First category"),
            cls.HIGHEST: _l("Highest category"),
            cls.METHODIST: _l("Teacher-methodologist"),
            cls.MENTOR: _l("Teacher-mentor"),
        }


class Role(LabelledEnum):
    """What a person may do in the hub."""

    MUNICIPAL_COORDINATOR = 1
    ORG_COORDINATOR = 2
    TEACHER = 3

    @classmethod
    def labels(cls) -> dict:
        return {
            cls.MUNICIPAL_COORDINATOR: _l("Municipal coordinator"),
            cls.ORG_COORDINATOR: _l("Organisation coordinator"),
            cls.TEACHER: _l("Teacher"),
        }


class Organisation(db.Model):
    """An educational organisation (ДОУ, СОШ, УДО), a social partner or the education office."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Full official name, e.g. МБДОУ «Детский сад № 22 «Яблонька»».
    full_name: Mapped[str] = mapped_column(String(300))
    #: Short name used in lists, e.g. «Детский сад № 22».
    short_name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[OrgKind] = mapped_column(IntEnum(OrgKind))
    #: The town or district (муниципальное образование).
    municipality: Mapped[str] = mapped_column(String(120))
    #: IANA time zone name, e.g. Asia/Yekaterinburg.
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    #: Deactivated organisations stay for history but are hidden from choices.
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: fold_for_search(short name, full name, municipality); kept up to date on every flush.
    search_key: Mapped[str] = mapped_column(String(600), default="", server_default="")
    #: natural_sort_key(short name): the order of organisation lists («№ 3» before «№ 22»).
    sort_key: Mapped[str] = mapped_column(String(200), default="", server_default="")

    people: Mapped[list[Person]] = relationship(back_populates="organisation")

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.short_name!r}>"


class Person(UserMixin, db.Model):
    """A person in the directory, and the account they sign in with."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    surname: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    patronymic: Mapped[str] = mapped_column(String(100), default="")
    #: Lower-cased; unique across the hub; the sign-in name.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    position: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[Category] = mapped_column(IntEnum(Category), default=Category.NONE)
    role: Mapped[Role] = mapped_column(IntEnum(Role), default=Role.TEACHER)
    #: IANA zone; empty means the organisation's zone.
    timezone_override: Mapped[str] = mapped_column(String(64), default="")
    #: Preferred interface language ("ru" or "en"); empty means the hub's default.
    locale: Mapped[str] = mapped_column(String(8), default="")
    #: argon2 hash; empty for people who only sign in by emailed link.
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    #: Consecutive failed password attempts, and the lock they caused.
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: fold_for_search(surname, first name, patronymic, email); kept up to date on every flush.
    #: Also the sort key of people lists (surname first, ё sorted as е).
    search_key: Mapped[str] = mapped_column(String(600), default="", server_default="")

    organisation: Mapped[Organisation] = relationship(back_populates="people")

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.surname, self.first_name, self.patronymic) if p)

    @property
    def short_name(self) -> str:
        """Surname and initials, e.g. «Иванова М. П.»."""
        initials = " ".join(f"{p[0]}." for p in (self.first_name, self.patronymic) if p)
        return f"{self.surname} {initials}".strip()

    @property
    def timezone(self) -> str:
        return self.timezone_override or self.organisation.timezone

    @property
    def is_active(self) -> bool:  # Flask-Login: deactivated people cannot sign in
        return self.active

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.email!r}>"


class Network(db.Model):
    """A network association (сетевое объединение) of organisations for a school year."""

    __tablename__ = "network"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    #: The school year as "2026/2027".
    school_year: Mapped[str] = mapped_column(String(9))
    description: Mapped[str] = mapped_column(String(2000), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    members: Mapped[list[NetworkMember]] = relationship(
        back_populates="network", cascade="all, delete-orphan", order_by="NetworkMember.id"
    )


class NetworkMember(db.Model):
    """An organisation's membership in a network, with its coordinator there."""

    __tablename__ = "network_member"
    __table_args__ = (UniqueConstraint("network_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("network.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: The member's network coordinator (сетевой координатор ОО).
    coordinator_id: Mapped[int] = mapped_column(ForeignKey("person.id"))

    network: Mapped[Network] = relationship(back_populates="members")
    organisation: Mapped[Organisation] = relationship()
    coordinator: Mapped[Person] = relationship()


@event.listens_for(Organisation, "before_insert")
@event.listens_for(Organisation, "before_update")
def _organisation_search_key(mapper, connection, target: Organisation) -> None:  # type: ignore[no-untyped-def]
    target.search_key = fold_for_search(target.short_name, target.full_name, target.municipality)
    target.sort_key = natural_sort_key(target.short_name)


@event.listens_for(Person, "before_insert")
@event.listens_for(Person, "before_update")
def _person_search_key(mapper, connection, target: Person) -> None:  # type: ignore[no-untyped-def]
    target.search_key = fold_for_search(target.surname, target.first_name, target.patronymic,
                                        target.email)
