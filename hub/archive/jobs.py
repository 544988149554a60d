"""The bank's jobs in the outbox worker loop: board exports after events, the weekly digest
(both safe in several workers at once)."""

from __future__ import annotations

from hub.outbox.worker import register_job

#: Seconds between passes.
AFTER_EVENT_EVERY_SECONDS = 300
DIGEST_EVERY_SECONDS = 900


def export_boards() -> int:
    from hub.archive.after_event import export_due_boards

    return export_due_boards()


def send_digests() -> int:
    from hub.archive.digest import send_due_digests

    return send_due_digests()


def register_jobs() -> None:
    """Called when the archive blueprint is registered (every app: web, worker, CLI)."""
    register_job("archive.after_event", AFTER_EVENT_EVERY_SECONDS, export_boards)
    register_job("archive.digest", DIGEST_EVERY_SECONDS, send_digests)
