"""The methodical bank's blueprint. Its routes live in modules by subject, imported at the
bottom: material_views (adding, editing, downloading materials), bank_views (the bank's pages
and search)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("archive", __name__)

from hub.archive import bank_views, material_views  # noqa: E402,F401
