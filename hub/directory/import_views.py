"""Importing people from CSV or XLSX: upload, preview, confirm."""

from flask import Blueprint

bp = Blueprint("people_import", __name__)
