"""`flask directory import`: people from a CSV or XLSX file, with the web import's report."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

directory_cli = AppGroup("directory", help="The directory of organisations and people.")


@directory_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--only-valid", is_flag=True,
              help="Import the valid rows even when some rows are bad.")
@click.option("--organisation", "organisation_name", metavar="NAME",
              help="Organisation (short or full name) for rows that do not name one.")
@click.option("--dry-run", is_flag=True, help="Check and report; change nothing.")
def directory_import(file: str, only_valid: bool, organisation_name: str | None,
                     dry_run: bool) -> None:
    """Import people from a CSV or XLSX FILE (ФИО, организация, должность, email, телефон,
    категория). Prints `line N: reason` for every bad row; exits with 1 when a row is bad and
    nothing was imported."""
    from flask import current_app
    from flask_babel import gettext as _

    from hub.directory import importing
    from hub.directory.validation import InvalidValue

    max_bytes = current_app.config.get("IMPORT_MAX_BYTES", importing.DEFAULT_MAX_BYTES)
    with open(file, "rb") as handle:
        data = handle.read(max_bytes + 1)
    try:
        default = importing.organisation_by_name(organisation_name) if organisation_name else None
        table = importing.read_table(data, file, has_default_organisation=default is not None)
        with click.progressbar(length=len(table.rows), label=_("Checking rows"),
                               file=sys.stderr) as bar:
            plan = importing.plan_import(table, default_organisation=default, progress=bar.update)
        if dry_run:
            result = None
        elif plan.bad_rows and not only_valid:
            result = importing.apply_import(plan)  # imports nothing and says so
        else:
            with click.progressbar(length=len(plan.rows), label=_("Importing"),
                                   file=sys.stderr) as bar:
                result = importing.apply_import(plan, only_valid=only_valid,
                                                progress=bar.update)
    except (InvalidValue, importing.FileRejected, importing.ImportFailed) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    for row in plan.bad_rows:
        click.echo(row.report_line)
    click.echo(importing.summary_line(plan, result, dry_run=dry_run))
    if plan.bad_rows and (result is None or not result.imported):
        sys.exit(1)
