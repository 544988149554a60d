"""Writing an ImportPlan to the database in one transaction, and the one-line summary of what
was (or would be) done.

The upsert writes Person rows directly (see _create_person / _update_person) because a region's
file has tens of thousands of rows; switch these two functions to hub.directory.services once it
offers bulk-friendly create/update.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.exc import SQLAlchemyError

from hub.directory.importing.planning import ImportPlan, PersonValues, RowAction
from hub.directory.models import Category, Person, Role
from hub.extensions import db


class ImportFailed(RuntimeError):
    """The database refused the import; nothing was written. str(error) is for the user."""


@dataclass
class ImportResult:
    imported: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # bad rows left out with "only the valid rows"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def apply_import(plan: ImportPlan, *, only_valid: bool = False,
                 progress: Callable[[int], None] | None = None) -> ImportResult:
    """Write the plan in one transaction. Nothing is written when a row is bad and
    `only_valid` is not chosen. The plan must come from plan_import in this same session."""
    bad = len(plan.bad_rows)
    if bad and not only_valid:
        return ImportResult(imported=False, skipped=bad)
    result = ImportResult(imported=True, skipped=bad)
    try:
        new_people: list[Person] = []
        for row in plan.rows:
            if row.action is RowAction.CREATE:
                assert row.values is not None
                new_people.append(_create_person(row.values))
                result.created += 1
            elif row.action is RowAction.UPDATE:
                assert row.values is not None and row.person is not None
                _update_person(row.person, row.values)
                result.updated += 1
            elif row.action is RowAction.UNCHANGED:
                result.unchanged += 1
            if progress is not None:
                progress(1)
        db.session.add_all(new_people)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.exception("people import failed")
        raise ImportFailed(_("The directory changed while the file was being imported (or the "
                             "database refused it). Nothing was imported; please try again.")
                           ) from None
    return result


def _create_person(values: PersonValues) -> Person:
    """A new teacher; they sign in by emailed link until they set a password."""
    return Person(
        surname=values.surname, first_name=values.first_name, patronymic=values.patronymic,
        email=values.email, organisation_id=values.organisation_id,
        position=values.position or "", phone=values.phone or "",
        category=values.category if values.category is not None else Category.NONE,
        role=Role.TEACHER, password_hash="", timezone_override="", locale="", active=True,
    )


def _update_person(person: Person, values: PersonValues) -> None:
    """Update what the file gives; the role, password and activity stay as they are."""
    person.surname = values.surname
    person.first_name = values.first_name
    person.patronymic = values.patronymic
    person.organisation_id = values.organisation_id
    if values.position is not None:
        person.position = values.position
    if values.phone is not None:
        person.phone = values.phone
    if values.category is not None:
        person.category = values.category


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------

def summary_line(plan: ImportPlan, result: ImportResult | None = None, *,
                 dry_run: bool = False) -> str:
    counts = plan.counts
    bad = counts[RowAction.ERROR]
    seen = _("%(total)d rows: %(valid)d valid (%(create)d new, %(update)d to update, "
             "%(unchanged)d unchanged), %(bad)d bad.", total=counts["total"],
             valid=counts["total"] - bad, create=counts[RowAction.CREATE],
             update=counts[RowAction.UPDATE], unchanged=counts[RowAction.UNCHANGED], bad=bad)
    if dry_run or result is None:
        return seen + " " + _("Dry run: nothing imported.")
    if not result.imported:
        return seen + " " + _("Nothing imported: fix the bad rows, or import only the valid "
                              "rows (--only-valid).")
    done = _("Imported: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.",
             created=result.created, updated=result.updated, unchanged=result.unchanged)
    if result.skipped:
        done += " " + ngettext("%(num)d bad row skipped.", "%(num)d bad rows skipped.",
                               result.skipped)
    return seen + " " + done
