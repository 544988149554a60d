"""The joint plan of a network association: items, approvals, export."""

from flask import Blueprint

bp = Blueprint("plan", __name__)
