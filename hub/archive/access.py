"""Who may find and open a material, as a Python check for one material and as a SQL condition
for lists and search. They agree, but for the event's editors, who manage an unpublished
material from the event's page rather than find it in the bank
(tests/archive/test_access_rules.py).

- everyone (anonymous visitors included): published public materials;
- signed-in people: also published materials of the networks their organisation belongs to
  (a material's network, or, without one, any network of its organisation) and of their own
  organisation;
- the municipal coordinator: everything;
- unpublished materials: their creator, their authors, the coordinators of their
  organisation and the municipal coordinator (and, on the event's page and the material's own
  page, whoever may edit the event).

In the bank (lists and search), a material of an event appears once the event has ended; the
event's own page shows it before that to those who may see it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from hub.archive.models import Material, MaterialAuthor, Visibility
from hub.auth.permissions import can_edit_event, is_coordinator_of, is_municipal
from hub.core.types import utcnow
from hub.directory.models import NetworkMember, Person
from hub.scheduling.models import Event


def network_ids_of(organisation_id: int) -> set[int]:
    from hub.extensions import db

    return set(db.session.scalars(select(NetworkMember.network_id).where(
        NetworkMember.organisation_id == organisation_id)))


def may_manage(user: Person | None, material: Material) -> bool:
    """Edit, unpublish, delete: the creator, an author, the organisation's coordinators, the
    event's editors, the municipal coordinator."""
    if user is None or not user.is_authenticated:
        return False
    return (is_municipal(user) or material.created_by_id == user.id
            or any(a.person_id == user.id for a in material.authors)
            or (material.organisation_id is not None
                and is_coordinator_of(user, material.organisation_id))
            or (material.event is not None and can_edit_event(user, material.event)))


def may_view(user: Person | None, material: Material) -> bool:
    """Open the material's page and download it."""
    if may_manage(user, material):
        return True
    if not material.published:
        return False
    if material.visibility == Visibility.PUBLIC:
        return True
    if user is None or not user.is_authenticated:
        return False
    if material.organisation_id == user.organisation_id:
        return True
    if material.visibility == Visibility.NETWORK:
        mine = network_ids_of(user.organisation_id)
        if material.network_id is not None:
            return material.network_id in mine
        return material.organisation_id is not None and bool(
            mine & network_ids_of(material.organisation_id))
    return False


def visible(user: Person | None, *, in_bank: bool = True,
            now: datetime | None = None) -> ColumnElement[bool]:
    """The SQL condition on Material for what `user` may find (see the module docstring)."""
    now = now or utcnow()
    shown = Material.published.is_(True)
    in_time: ColumnElement[bool] = true()
    if in_bank:
        ended = select(Event.id).where(Event.id == Material.event_id, Event.end_at <= now)
        in_time = or_(Material.event_id.is_(None), ended.exists())
    if user is None or not user.is_authenticated:
        return and_(in_time, shown, Material.visibility == Visibility.PUBLIC)
    if is_municipal(user):
        return in_time
    my_networks = select(NetworkMember.network_id).where(
        NetworkMember.organisation_id == user.organisation_id)
    partner_orgs = select(NetworkMember.organisation_id).where(
        NetworkMember.network_id.in_(my_networks))
    readable = or_(
        Material.visibility == Visibility.PUBLIC,
        Material.organisation_id == user.organisation_id,
        and_(Material.visibility == Visibility.NETWORK, or_(
            Material.network_id.in_(my_networks),
            and_(Material.network_id.is_(None), Material.organisation_id.in_(partner_orgs)))),
    )
    own = or_(Material.created_by_id == user.id,
              select(MaterialAuthor.id).where(MaterialAuthor.material_id == Material.id,
                                              MaterialAuthor.person_id == user.id).exists(),
              and_(Material.organisation_id == user.organisation_id,
                   true() if is_coordinator_of(user, user.organisation_id) else false()))
    return and_(in_time, or_(and_(shown, readable), own))
