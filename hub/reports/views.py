"""The reports blueprint: reporting periods, organisations' reports, the dashboard."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports", __name__)
