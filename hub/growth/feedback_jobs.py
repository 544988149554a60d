"""Feedback's job in the outbox worker loop: surveys after events (safe in several workers at
once: a request is claimed by a unique row)."""

from __future__ import annotations

from hub.outbox.worker import register_job

#: Seconds between passes.
SURVEYS_EVERY_SECONDS = 300


def queue_surveys() -> int:
    from hub.growth.feedback import queue_surveys as run

    return run()


def register_jobs() -> None:
    """Called when the growth blueprint is registered (every app: web, worker, CLI)."""
    register_job("growth.feedback", SURVEYS_EVERY_SECONDS, queue_surveys)
