"""Flask commands: `flask demo`, `flask directory import`, `flask outbox work`."""

from __future__ import annotations

from flask import Flask


def register_commands(app: Flask) -> None:
    """Attach every command group to the app."""
    from hub.demo import demo_command

    app.cli.add_command(demo_command)

    from hub.outbox.cli import outbox_cli

    app.cli.add_command(outbox_cli)
