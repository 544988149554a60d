"""The methodical bank (методический банк, виртуальный архив): materials from events and
standing alone, their authors and tags, and who gets the weekly digest."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.core.types import IntEnum, LabelledEnum, UTCDateTime, utcnow
from hub.directory.models import Network, Organisation, Person
from hub.extensions import db
from hub.scheduling.models import Event, EventFormat, PlanItem


class MaterialKind(LabelledEnum):
    """What a material is."""

    FILE = 1
    LINK = 2
    BOARD_EXPORT = 3
    RECORDING = 4

    @classmethod
    def labels(cls) -> dict:
        return {
            cls.FILE: _l("File"),
            cls.LINK: _l("Link"),
            cls.BOARD_EXPORT: _l("Board export"),
            cls.RECORDING: _l("Recording"),
        }


class Visibility(LabelledEnum):
    """Who may find and open a material."""

    PUBLIC = 1
    NETWORK = 2
    ORGANISATION = 3

    @classmethod
    def labels(cls) -> dict:
        return {
            cls.PUBLIC: _l("Everyone"),
            cls.NETWORK: _l("The network"),
            cls.ORGANISATION: _l("The organisation"),
        }


class TagKind(LabelledEnum):
    """The facets a material is tagged with (the event format is a column of its own)."""

    TOPIC = 1
    AGE_GROUP = 2

    @classmethod
    def labels(cls) -> dict:
        return {cls.TOPIC: _l("Topic"), cls.AGE_GROUP: _l("Age group")}


class Material(db.Model):
    """One item of the bank: an uploaded file, a link, a board's export or a recording."""

    __tablename__ = "material"
    __table_args__ = (
        Index("ix_material_published", "published", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MaterialKind] = mapped_column(IntEnum(MaterialKind))
    title: Mapped[str] = mapped_column(String(300))
    #: Plain text (shown escaped, searched).
    description: Mapped[str] = mapped_column(Text, default="")
    #: For links and recordings: an http(s) URL.
    url: Mapped[str] = mapped_column(String(2000), default="")
    #: For files: the storage key (hub/archive/storage.py), the cleaned original name, the
    #: content type found from the bytes, and the size.
    storage_key: Mapped[str] = mapped_column(String(200), default="")
    filename: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(120), default="")
    size: Mapped[int] = mapped_column(default=0)
    #: What the material belongs to (all optional: a material may stand alone).
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="SET NULL"),
                                                 index=True)
    plan_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_item.id", ondelete="SET NULL"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"),
                                                        index=True)
    network_id: Mapped[int | None] = mapped_column(ForeignKey("network.id"), index=True)
    #: The event format it comes from or suits (a filter of the bank).
    format: Mapped[EventFormat | None] = mapped_column(IntEnum(EventFormat))
    #: The school year's first calendar year (2026 for 2026/2027): a filter of the bank.
    year: Mapped[int] = mapped_column(index=True)
    visibility: Mapped[Visibility] = mapped_column(IntEnum(Visibility),
                                                   default=Visibility.NETWORK)
    #: Shown in the bank; the organiser may unpublish what came in automatically.
    published: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: The title, the description and the tags' labels as the search indexes them (folded
    #: words, hub/archive/search_text.py), kept up to date on every flush by
    #: hub/archive/search_index.py; hub/archive/search_schema.py builds the index over them.
    search_title: Mapped[str] = mapped_column(Text, default="", deferred=True)
    search_description: Mapped[str] = mapped_column(Text, default="", deferred=True)
    search_tags: Mapped[str] = mapped_column(Text, default="", deferred=True)

    event: Mapped[Event | None] = relationship()
    plan_item: Mapped[PlanItem | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    network: Mapped[Network | None] = relationship()
    created_by: Mapped[Person | None] = relationship()
    authors: Mapped[list[MaterialAuthor]] = relationship(
        back_populates="material", cascade="all, delete-orphan", order_by="MaterialAuthor.id")
    tags: Mapped[list[MaterialTag]] = relationship(
        back_populates="material", cascade="all, delete-orphan", order_by="MaterialTag.id")


class MaterialAuthor(db.Model):
    """A person who made the material."""

    __tablename__ = "material_author"
    __table_args__ = (UniqueConstraint("material_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("material.id", ondelete="CASCADE"),
                                             index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)

    material: Mapped[Material] = relationship(back_populates="authors")
    person: Mapped[Person] = relationship()


class MaterialTag(db.Model):
    """A topic or an age group of a material (free words, folded for filtering)."""

    __tablename__ = "material_tag"
    __table_args__ = (
        UniqueConstraint("material_id", "kind", "value"),
        Index("ix_material_tag_value", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("material.id", ondelete="CASCADE"),
                                             index=True)
    kind: Mapped[TagKind] = mapped_column(IntEnum(TagKind))
    #: As typed (shown), e.g. «Робототехника», «5–6 лет».
    label: Mapped[str] = mapped_column(String(100))
    #: fold_for_search(label): what filters compare.
    value: Mapped[str] = mapped_column(String(100))

    material: Mapped[Material] = relationship(back_populates="tags")


class DigestSubscription(db.Model):
    """A teacher who asked for the weekly digest of new materials."""

    __tablename__ = "digest_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), unique=True)
    subscribed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the last digest was made, sent or not (the next one covers what appeared since).
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship()


# The search index: its DDL made and dropped with the material table, its upkeep on flush.
from hub.archive import search_index, search_schema  # noqa: E402,F401

search_schema.attach(Material.__table__)
