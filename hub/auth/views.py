"""Sign-in, sign-out, emailed sign-in links and password reset."""

from flask import Blueprint

bp = Blueprint("auth", __name__)


# Placeholders until the sign-in pages land (the names are final).
@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    return "login"


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    return "logout"
