"""Jinja filters and globals: dates in the viewer's zone, enum labels, the language switch."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app
from flask_babel import format_date, format_datetime, get_locale, get_timezone


def localtime(value: datetime | None, fmt: str = "medium") -> str:
    """A UTC datetime shown in the viewer's zone and locale, with the zone named."""
    if value is None:
        return ""
    zone = get_timezone()  # pytz under Flask-Babel 4 (.zone); zoneinfo has .key
    return f"{format_datetime(value, fmt)} ({getattr(zone, 'zone', None) or zone})"


def percent_class(value: float | None) -> str:
    """The class pct-N (static/css/hub.css) that makes a bar N% long, N rounded into 0..100:
    the CSS allows no style="" attributes."""
    return f"pct-{min(100, max(0, round(value or 0)))}"


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["pct"] = percent_class
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
    app.jinja_env.globals["languages"] = lambda: current_app.config["LANGUAGES"]
