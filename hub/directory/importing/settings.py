"""The limits of an import: the defaults, and the app's setting that overrides each."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, has_app_context

#: Defaults for settings that config.py may override.
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_ROWS = 50_000
#: An XLSX is a ZIP: refuse one that unpacks to more than this (a "zip bomb").
DEFAULT_MAX_UNPACKED_BYTES = 200 * 1024 * 1024
#: How long an uploaded file waits for its confirmation.
DEFAULT_UPLOAD_TTL = timedelta(hours=2)


def setting(name: str, default: Any) -> Any:
    """The app's value of `name`, or `default` outside an app context."""
    return current_app.config.get(name, default) if has_app_context() else default
