"""One call for the command line (and anyone else with bytes in hand): read, plan, apply."""

from __future__ import annotations

from collections.abc import Callable

from hub.directory.importing.applying import ImportResult, apply_import
from hub.directory.importing.planning import ImportPlan, plan_import
from hub.directory.importing.reading import Table, read_table
from hub.directory.models import Organisation, Person


def run_import(data: bytes, filename: str = "", *, actor: Person | None = None,
               only_valid: bool = False, dry_run: bool = False,
               default_organisation: Organisation | None = None,
               progress: Callable[[int], None] | None = None,
               on_table: Callable[[Table], None] | None = None,
               ) -> tuple[ImportPlan, ImportResult | None]:
    """Read, check and (unless dry_run) apply a file. Raises FileRejected or ImportFailed."""
    table = read_table(data, filename, has_default_organisation=default_organisation is not None)
    if on_table is not None:
        on_table(table)
    plan = plan_import(table, actor=actor, default_organisation=default_organisation,
                       progress=progress)
    if dry_run:
        return plan, None
    return plan, apply_import(plan, only_valid=only_valid, progress=progress)
