"""The growth blueprint. Its routes live in modules by subject, imported at the bottom:
certificate_views (certificates, /verify/<code>), portfolio_views (portfolios and their
exports), internship_views (the digital internship), feedback_views (surveys after events)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("growth", __name__)

from hub.growth import (  # noqa: E402,F401
    certificate_views,
    feedback_views,
    internship_views,
    portfolio_views,
)
