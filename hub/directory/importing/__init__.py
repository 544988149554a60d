"""Importing people from a CSV or XLSX file, the way education offices keep their lists.

Three steps, shared by the web pages (import_views.py) and `flask directory import`:

1. read_table(data, filename)  — recognise the file (CSV in UTF-8/UTF-16/Windows-1251/KOI8-R,
   `;` `,` or tab; XLSX, first sheet), find the header and the columns, keep each row with its
   line in the file (the header is line 1). A file that cannot be read at all raises FileRejected.
2. plan_import(table, actor=...) — check every row with the directory's shared validation and
   decide what it would do: create, update (matched by email), unchanged, or error with the
   reasons. Organisations and existing people are loaded in bulk: no query per row.
3. apply_import(plan, only_valid=...) — write everything in one transaction, or nothing when a
   row is bad and "only the valid rows" was not chosen.

Uploads waiting between the preview and the confirmation are kept under instance/imports/
(see uploads.py): the client only ever sees a random token.

The modules, in the order they are used:

  settings.py   the limits (file size, rows, unpacked XLSX, upload lifetime) and their settings
  columns.py    the columns an import knows and the headers that name them
  reading.py    step 1: file kind, encoding, delimiter, header → Table; FileRejected
  planning.py   step 2: rows checked against organisations and people → ImportPlan of RowResults
  applying.py   step 3: apply_import → ImportResult or ImportFailed; summary_line
  uploads.py    stored uploads: save, load, claim, release, finish, discard, sweep
  templates.py  the CSV and XLSX templates to download
  pipeline.py   run_import: the three steps in one call

Callers import from this package (`from hub.directory import importing`); the names below are
what they use.
"""

from hub.directory.importing.applying import (
    ImportFailed,
    ImportResult,
    apply_import,
    summary_line,
)
from hub.directory.importing.columns import COLUMN_TITLES, TEMPLATE_HEADERS, Column
from hub.directory.importing.pipeline import run_import
from hub.directory.importing.planning import (
    ImportPlan,
    RowAction,
    organisation_by_name,
    plan_import,
)
from hub.directory.importing.reading import FileRejected, format_size, read_table
from hub.directory.importing.settings import DEFAULT_MAX_BYTES
from hub.directory.importing.templates import template_csv, template_xlsx
from hub.directory.importing.uploads import (
    StoredUpload,
    claim_upload,
    discard_upload,
    finish_upload,
    load_upload,
    read_upload,
    release_upload,
    save_upload,
    sweep_expired_uploads,
)

__all__ = [
    "DEFAULT_MAX_BYTES", "COLUMN_TITLES", "TEMPLATE_HEADERS", "Column",
    "FileRejected", "format_size", "read_table",
    "ImportPlan", "RowAction", "organisation_by_name", "plan_import",
    "ImportFailed", "ImportResult", "apply_import", "summary_line",
    "StoredUpload", "claim_upload", "discard_upload", "finish_upload", "load_upload",
    "read_upload", "release_upload", "save_upload", "sweep_expired_uploads",
    "template_csv", "template_xlsx", "run_import",
]
