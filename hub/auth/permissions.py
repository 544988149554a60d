"""Who may do what. Every view asks these functions; a refusal is a 403."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import TYPE_CHECKING, Any

from flask import abort
from flask_login import current_user, login_required

from hub.directory.models import Organisation, Person, Role

if TYPE_CHECKING:
    from hub.scheduling.models import Event


def is_municipal(user: Person) -> bool:
    return user.role == Role.MUNICIPAL_COORDINATOR


def is_coordinator_of(user: Person, organisation_id: int) -> bool:
    return user.role == Role.ORG_COORDINATOR and user.organisation_id == organisation_id


def can_manage_people_of(user: Person, organisation_id: int) -> bool:
    """Create, edit, import and deactivate people of an organisation."""
    return is_municipal(user) or is_coordinator_of(user, organisation_id)


def can_list_people(user: Person) -> bool:
    """The people list: municipal coordinators (everyone) and organisation coordinators (own)."""
    return user.role in (Role.MUNICIPAL_COORDINATOR, Role.ORG_COORDINATOR)


def visible_organisation_id(user: Person) -> int | None:
    """The only organisation whose people `user` may list, or None for all of them."""
    return None if is_municipal(user) else user.organisation_id


def can_view_person(user: Person, person: Person) -> bool:
    return user.id == person.id or can_manage_people_of(user, person.organisation_id)


def can_edit_person(user: Person, person: Person) -> bool:
    """Edit every field of a person (an organisation coordinator never edits a municipal one)."""
    if is_municipal(user):
        return True
    return (is_coordinator_of(user, person.organisation_id)
            and person.role != Role.MUNICIPAL_COORDINATOR)


def can_edit_own_profile(user: Person, person: Person) -> bool:
    """Anyone may change their own phone, time zone and interface language."""
    return user.id == person.id


def can_deactivate_person(user: Person, person: Person) -> bool:
    """Deactivate or reactivate; nobody deactivates themselves (they would be locked out)."""
    return user.id != person.id and can_edit_person(user, person)


def assignable_roles(user: Person) -> list[Role]:
    """Roles `user` may give: only a municipal coordinator grants the municipal role."""
    if is_municipal(user):
        return list(Role)
    if user.role == Role.ORG_COORDINATOR:
        return [Role.ORG_COORDINATOR, Role.TEACHER]
    return []


def can_change_role(user: Person, person: Person) -> bool:
    """Nobody changes their own role (a coordinator cannot lock themselves out by accident)."""
    return user.id != person.id and can_edit_person(user, person)


def can_view_organisation_people(user: Person, organisation: Organisation) -> bool:
    return can_manage_people_of(user, organisation.id)


def can_edit_organisation(user: Person, organisation: Organisation) -> bool:
    """Edit an organisation's details: municipal, or that organisation's coordinator."""
    return can_manage_people_of(user, organisation.id)


def can_change_organisation_kind(user: Person) -> bool:
    return is_municipal(user)


def can_create_organisation(user: Person) -> bool:
    return is_municipal(user)


def can_deactivate_organisation(user: Person) -> bool:
    return is_municipal(user)


def can_view_inactive(user: Person) -> bool:
    """See deactivated organisations and networks in lists."""
    return is_municipal(user)


def can_manage_networks(user: Person) -> bool:
    return is_municipal(user)


# --- events (hub.scheduling) ----------------------------------------------------------------

def can_create_events(user: Person) -> bool:
    """Plan events: municipal coordinators (any host), organisation coordinators (their own
    organisation among the hosts)."""
    return user.role in (Role.MUNICIPAL_COORDINATOR, Role.ORG_COORDINATOR)


def can_host_with(user: Person, organisation_ids: Iterable[int]) -> bool:
    """May `user` save an event hosted by these organisations? An organisation coordinator's
    events are hosted by their own organisation (partners may co-host)."""
    if is_municipal(user):
        return True
    return user.role == Role.ORG_COORDINATOR and user.organisation_id in set(organisation_ids)


def is_event_organiser(user: Person, event: Event) -> bool:
    """Listed as an organiser of the event (its creator is)."""
    from hub.scheduling.models import EventRole

    return any(p.person_id == user.id and p.role == EventRole.ORGANISER for p in event.people)


def can_edit_event(user: Person, event: Event) -> bool:
    """Edit, publish, cancel, complete; see drafts, answers and conflicts: municipal
    coordinators, coordinators of a host organisation, and the event's organisers."""
    if not user.is_authenticated or not user.active:
        return False
    if is_municipal(user) or is_event_organiser(user, event):
        return True
    return (user.role == Role.ORG_COORDINATOR
            and any(h.organisation_id == user.organisation_id for h in event.hosts))


def can_view_event(user: Person, event: Event) -> bool:
    """The event page. Drafts: organisers only. Otherwise: anyone who may edit it, open events,
    the people invited or with a part in it, and the people of its host and audience
    organisations (a whole network's audience included)."""
    from hub.scheduling.models import EventStatus

    if can_edit_event(user, event):
        return True
    if event.status == EventStatus.DRAFT or not user.is_authenticated:
        return False
    if event.open_registration:
        return True
    from hub.scheduling.services import has_part_in

    return has_part_in(user, event)


def can_view_event_anonymously(event: Event) -> bool:
    """Open, published events have a public page (guests join them from a link)."""
    from hub.scheduling.models import EventStatus

    return event.open_registration and event.status != EventStatus.DRAFT


def can_see_responses(user: Person, event: Event) -> bool:
    """Who answered what (RSVP counts and names), the waiting list, conflicts."""
    return can_edit_event(user, event)


def can_register(user: Person, event: Event) -> bool:
    """Register for an open event (or join its waiting list): anyone signed in, while the
    event is scheduled and has not ended."""
    from hub.core.types import utcnow
    from hub.scheduling.models import EventStatus

    return (user.is_authenticated and user.active and event.open_registration
            and event.status == EventStatus.SCHEDULED and event.end_at > utcnow())


def role_required(*roles: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Sign-in required, then one of `roles` (403 otherwise)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def require(allowed: bool) -> None:
    """Abort with 403 unless `allowed`."""
    if not allowed:
        abort(403)


coordinators_only = role_required(Role.MUNICIPAL_COORDINATOR, Role.ORG_COORDINATOR)
municipal_only = role_required(Role.MUNICIPAL_COORDINATOR)
