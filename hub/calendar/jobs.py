"""The calendar's jobs in the outbox worker loop (hub.outbox.worker.register_job): expanding
invitation batches into emails, and reminders. Both are safe to run in several workers at once
(batches are claimed by compare-and-swap, reminders by a unique row)."""

from __future__ import annotations

from flask import current_app

from hub.outbox.worker import register_job

#: Seconds between reminder passes.
REMINDER_EVERY_SECONDS = 60


def expand_invitations() -> int:
    from hub.calendar.invitations import run_batches

    budget = float(current_app.config.get("CALENDAR_BATCH_BUDGET_SECONDS", 20.0))
    return run_batches(budget_seconds=budget)


def queue_reminders() -> int:
    from hub.calendar.reminders import send_due_reminders

    return send_due_reminders()


def register_jobs() -> None:
    """Called when the calendar blueprint is registered (every app: web, worker, CLI)."""
    register_job("calendar.invitations", 0, expand_invitations)  # every pass of the loop
    register_job("calendar.reminders", REMINDER_EVERY_SECONDS, queue_reminders)
