"""Conferencing's jobs in the outbox worker loop: making, updating and removing rooms, asking
for rooms that scheduling did not (a safety net), and fetching attendance after meetings."""

from __future__ import annotations

from hub.outbox.worker import register_job

#: Seconds between the slower passes.
RECONCILE_EVERY_SECONDS = 300
ATTENDANCE_EVERY_SECONDS = 300


def process_rooms() -> int:
    from hub.conferencing.rooms import process_due

    return process_due()


def reconcile_upcoming() -> int:
    from hub.conferencing.rooms import reconcile_upcoming as run

    return run()


def fetch_attendance() -> int:
    from hub.conferencing.reports import fetch_due

    return fetch_due()


def register_jobs() -> None:
    """Called when the conferencing blueprint is registered (every app: web, worker, CLI)."""
    register_job("conferencing.rooms", 0, process_rooms)  # every pass of the loop
    register_job("conferencing.reconcile", RECONCILE_EVERY_SECONDS, reconcile_upcoming)
    register_job("conferencing.attendance", ATTENDANCE_EVERY_SECONDS, fetch_attendance)
