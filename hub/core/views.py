"""The home page, the language switch and the health check."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import text

from hub.core.safety import safe_next_url
from hub.extensions import db

bp = Blueprint("core", __name__)


@bp.get("/")
@login_required
def home():  # type: ignore[no-untyped-def]
    return render_template("core/home.html")


@bp.get("/lang/<code>")
def set_language(code: str):  # type: ignore[no-untyped-def]
    """Switch the interface language and go back to the page the viewer was on."""
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        if current_user.is_authenticated and current_user.locale != code:
            current_user.locale = code
            db.session.commit()
    return redirect(safe_next_url(request.args.get("next"), url_for("core.home")))


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    """Liveness: 200 with the database status (503 when the database does not answer)."""
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "down"; the reason is logged
        current_app.logger.warning("healthz: database check failed: %s", exc)
        db.session.rollback()
        database = "unavailable"
    status = 200 if database == "ok" else 503
    return jsonify(status="ok" if status == 200 else "degraded", database=database), status
