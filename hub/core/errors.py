"""Friendly error pages (HTML) and JSON errors for API-style requests; never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json"
    )


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood. Please check the form and try again."),
        403: _("You do not have access to this page."),
        404: _("This page does not exist."),
        405: _("This action is not allowed here."),
        413: _("The file is too large."),
        429: _("Too many attempts. Please wait a little and try again."),
        500: _("Something went wrong on our side. The team has been notified."),
        503: _("The server is busy right now; nothing was saved. Please try again in a "
               "moment."),
    }


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        code = error.code or 500
        message = _messages().get(code, error.description or "")
        if _wants_json():
            return jsonify(error=error.name, message=message), code
        return render_template("core/error.html", code=code, message=message), code

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):  # type: ignore[no-untyped-def]
        message = _("The form has expired or came from another site. "
                    "Reload the page and try again.")
        if _wants_json():
            return jsonify(error="CSRF", message=message), 400
        return render_template("core/error.html", code=400, message=message), 400

    @app.errorhandler(PoolTimeout)
    def busy(error: PoolTimeout):  # type: ignore[no-untyped-def]
        """Every database connection stayed busy for DATABASE_POOL_TIMEOUT: refuse quickly."""
        log.warning("no database connection free for %s %s", request.method, request.path)
        return http_error(ServiceUnavailable())

    @app.errorhandler(Exception)
    def unexpected(error: Exception):  # type: ignore[no-untyped-def]
        log.exception("unhandled error on %s %s", request.method, request.path)
        return http_error(InternalServerError())
