"""The bank's lists (not the search, hub.archive.search): what appeared lately, an
organisation's shelf, a network's and an event's materials, and the choices of the filters.

A material "appears" in the bank when it is made, or, for a material of an event, when the
event ends if that is later (access.visible hides it until then): `appeared_at` is that moment,
which "new this week" and the weekly digest count from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby

from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlalchemy.orm import selectinload

from hub.archive.access import visible
from hub.archive.models import Material, MaterialAuthor, MaterialTag, TagKind
from hub.core.types import utcnow
from hub.directory.models import NetworkMember, Organisation, Person
from hub.extensions import db
from hub.scheduling.models import Event, EventFormat

#: "New this week".
NEW_WINDOW = timedelta(days=7)
#: Materials shown at most on a list page (the search pages the rest).
LIST_LIMIT = 200


def appeared_at() -> ColumnElement[datetime]:
    """When the material appeared in the bank: made, or its event's end if later."""
    ended = select(Event.end_at).where(Event.id == Material.event_id).scalar_subquery()
    return case((ended > Material.created_at, ended), else_=Material.created_at)


def _loaded(statement: Select) -> Select:
    return statement.options(
        selectinload(Material.tags), selectinload(Material.organisation),
        selectinload(Material.event),
        selectinload(Material.authors).selectinload(MaterialAuthor.person))


def of_network(network_id: int) -> ColumnElement[bool]:
    """Materials of the network, or (without a network) of one of its member organisations."""
    members = select(NetworkMember.organisation_id).where(NetworkMember.network_id == network_id)
    return or_(Material.network_id == network_id,
               Material.network_id.is_(None) & Material.organisation_id.in_(members))


def new_materials(viewer: Person | None, *, since: datetime | None = None,
                  until: datetime | None = None, where: Sequence[ColumnElement[bool]] = (),
                  limit: int = LIST_LIMIT) -> list[Material]:
    """Materials visible to `viewer` that appeared after `since` (default: a week ago) and up
    to `until` (default: now), newest first."""
    now = until or utcnow()
    since = since if since is not None else now - NEW_WINDOW
    moment = appeared_at()
    statement = (select(Material)
                 .where(visible(viewer, now=now), moment > since, moment <= now, *where)
                 .order_by(moment.desc(), Material.id.desc()).limit(limit))
    return list(db.session.scalars(_loaded(statement)))


@dataclass(frozen=True)
class ShelfGroup:
    """One school year and format of an organisation's shelf."""

    year: int
    format: EventFormat | None
    materials: list[Material]


def shelf(viewer: Person | None, organisation_id: int) -> list[ShelfGroup]:
    """The organisation's materials visible to `viewer`, by school year (newest first), then
    format, each group newest first."""
    statement = (select(Material)
                 .where(visible(viewer), Material.organisation_id == organisation_id)
                 .order_by(Material.year.desc(), Material.created_at.desc(), Material.id.desc())
                 .limit(LIST_LIMIT))
    groups: list[ShelfGroup] = []
    for year, rows in groupby(db.session.scalars(_loaded(statement)), key=lambda m: m.year):
        by_format: dict[EventFormat | None, list[Material]] = {}
        for material in rows:
            by_format.setdefault(material.format, []).append(material)
        for fmt in sorted(by_format, key=lambda f: (f is None, int(f or 0))):
            groups.append(ShelfGroup(year, fmt, by_format[fmt]))
    return groups


def of_event(event_id: int, viewer: Person | None, *, in_bank: bool) -> list[Material]:
    """The event's materials: those `viewer` may find in the bank (`in_bank`), or every one,
    for the caller to check one by one (access.may_view)."""
    condition = [Material.event_id == event_id]
    if in_bank:
        condition.append(visible(viewer))
    statement = select(Material).where(*condition).order_by(Material.kind, Material.created_at,
                                                            Material.id)
    return list(db.session.scalars(_loaded(statement)))


@dataclass(frozen=True)
class Choices:
    """What the bank's filters offer: only values some visible material has."""

    formats: list[EventFormat]
    topics: list[tuple[str, str]]  # (value, label)
    age_groups: list[tuple[str, str]]
    organisations: list[tuple[int, str]]
    years: list[int]


def _tags(kind: TagKind, condition: ColumnElement[bool]) -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(MaterialTag.value, func.min(MaterialTag.label))
        .join(Material, Material.id == MaterialTag.material_id)
        .where(MaterialTag.kind == kind, condition)
        .group_by(MaterialTag.value).order_by(MaterialTag.value)).all()
    return [(value, label) for value, label in rows]


def choices(viewer: Person | None, where: Sequence[ColumnElement[bool]] = ()) -> Choices:
    """The filters' values among the materials `viewer` may find (and `where`)."""
    condition = visible(viewer)
    for extra in where:
        condition = condition & extra
    formats = db.session.scalars(select(Material.format).where(
        condition, Material.format.is_not(None)).distinct()).all()
    organisations = db.session.execute(
        select(Organisation.id, Organisation.short_name)
        .where(Organisation.id.in_(select(Material.organisation_id).where(condition)))
        .order_by(Organisation.sort_key, Organisation.short_name)).all()
    years = db.session.scalars(select(Material.year).where(condition).distinct()
                               .order_by(Material.year.desc())).all()
    return Choices(formats=sorted(formats), topics=_tags(TagKind.TOPIC, condition),
                   age_groups=_tags(TagKind.AGE_GROUP, condition),
                   organisations=[(i, name) for i, name in organisations], years=list(years))


def school_year_label(year: int) -> str:
    """2026 → «2026/2027»."""
    return f"{year}/{year + 1}"
