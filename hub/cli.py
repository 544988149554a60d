"""Flask commands, registered here from their domains: `flask demo` (hub/demo.py),
`flask directory import` (hub/directory/cli.py), `flask outbox work|status|retry`
(hub/outbox/cli.py), `flask conferencing status|rekey` (hub/conferencing/cli.py)."""

from __future__ import annotations

from flask import Flask


def register_commands(app: Flask) -> None:
    """Attach every command group to the app."""
    from hub.conferencing.cli import conferencing_cli
    from hub.demo import demo_command
    from hub.directory.cli import directory_cli
    from hub.outbox.cli import outbox_cli

    app.cli.add_command(demo_command)
    app.cli.add_command(directory_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(conferencing_cli)
