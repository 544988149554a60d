"""The reports' job in the outbox worker loop: reminders of report deadlines."""

from __future__ import annotations

from hub.outbox.worker import register_job

#: Seconds between reminder passes (reminders are due by the day, not the minute).
REMINDER_EVERY_SECONDS = 600


def queue_reminders() -> int:
    from hub.reports.reminders import send_due_reminders

    return send_due_reminders()


def register_jobs() -> None:
    """Called when the reports blueprint is registered (every app: web, worker, CLI)."""
    register_job("reports.reminders", REMINDER_EVERY_SECONDS, queue_reminders)
