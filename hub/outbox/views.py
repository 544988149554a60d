"""/dev/mail: the mail the outbox has sent, readable in development only."""

from flask import Blueprint

bp = Blueprint("dev_mail", __name__, url_prefix="/dev/mail")


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    return "mail"
