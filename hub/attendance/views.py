"""The attendance blueprint. Its routes live in modules by subject, imported at the bottom:
join_views (/j/<token> window and presence), sheet_views (the organiser's sheet, credit rules),
checkin_views (presence checks with rotating codes)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("attendance", __name__)

from hub.attendance import checkin_views, join_views, sheet_views  # noqa: E402,F401
