"""How Flask-Login finds the signed-in person."""

from __future__ import annotations

from hub.directory.models import Person
from hub.extensions import db, login


@login.user_loader
def load_person(person_id: str) -> Person | None:
    """The person of the session cookie; None (signed out) if unknown or deactivated."""
    if not person_id.isdigit():
        return None
    person = db.session.get(Person, int(person_id))
    return person if person is not None and person.active else None
