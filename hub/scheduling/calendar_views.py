"""Calendars in the hub: month, week and list views for a person, an organisation, a network."""

from flask import Blueprint

bp = Blueprint("calendar_views", __name__)
