"""Pages of the directory: organisations, networks and people."""

from flask import Blueprint

bp = Blueprint("directory", __name__)


# Placeholders until the directory pages land (the names are final).
@bp.get("/organisations")
def organisations():  # type: ignore[no-untyped-def]
    return "organisations"


@bp.get("/networks")
def networks():  # type: ignore[no-untyped-def]
    return "networks"


@bp.get("/people")
def people():  # type: ignore[no-untyped-def]
    return "people"


@bp.get("/people/<int:person_id>")
def person(person_id: int):  # type: ignore[no-untyped-def]
    return "person"
