"""Who may do what. Every view asks these functions; a refusal is a 403."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required

from hub.directory.models import Organisation, Person, Role


def is_municipal(user: Person) -> bool:
    return user.role == Role.MUNICIPAL_COORDINATOR


def is_coordinator_of(user: Person, organisation_id: int) -> bool:
    return user.role == Role.ORG_COORDINATOR and user.organisation_id == organisation_id


def can_manage_people_of(user: Person, organisation_id: int) -> bool:
    """Create, edit, import and deactivate people of an organisation."""
    return is_municipal(user) or is_coordinator_of(user, organisation_id)


def can_view_person(user: Person, person: Person) -> bool:
    return user.id == person.id or can_manage_people_of(user, person.organisation_id)


def can_edit_person(user: Person, person: Person) -> bool:
    return can_manage_people_of(user, person.organisation_id)


def can_edit_organisation(user: Person, organisation: Organisation) -> bool:
    return can_manage_people_of(user, organisation.id)


def can_create_organisation(user: Person) -> bool:
    return is_municipal(user)


def can_manage_networks(user: Person) -> bool:
    return is_municipal(user)


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
