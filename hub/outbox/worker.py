"""The outbox worker loop: `flask outbox work`, or a background thread in the dev server."""

from flask import Flask


def start_background_worker(app: Flask) -> None:
    """Start the outbox worker as a daemon thread of this process."""
