"""Events and series: list, create, edit, cancel, the event page."""

from flask import Blueprint

bp = Blueprint("scheduling", __name__)
