"""Public calendar URLs: /events/<id>.ics, /feeds/<token>.ics, /rsvp/<token>, /j/<token>."""

from flask import Blueprint

bp = Blueprint("calendar", __name__)
