"""Checking every row of a Table against the organisations and the people already in the
directory, and deciding what each row would do: an ImportPlan of RowResults. Nothing is written."""

from __future__ import annotations

import enum
import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from hub.auth.permissions import can_edit_person, can_manage_people_of
from hub.directory.importing.columns import Column
from hub.directory.importing.reading import SourceRow, Table
from hub.directory.models import Category, Organisation, Person
from hub.directory.validation import (
    InvalidValue,
    clean_name_part,
    clean_text,
    normalize_email,
    normalize_phone,
    organisation_key,
    parse_category,
    parse_full_name,
)
from hub.extensions import db

#: Rows of people are fetched this many emails at a time (well under every database's limit).
EMAIL_CHUNK = 500

POSITION_MAX = 200
ORGANISATION_MAX = 300


class RowAction(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    ERROR = "error"


@dataclass
class PersonValues:
    """A row's clean values; None means "not given": an update keeps what the hub has."""

    surname: str
    first_name: str
    patronymic: str
    email: str
    organisation_id: int
    position: str | None = None
    phone: str | None = None
    category: Category | None = None


@dataclass
class Change:
    field: str
    old: str
    new: str


@dataclass
class RowResult:
    """What one row of the file would do (and, for the preview, what it says)."""

    line: int
    action: RowAction
    errors: list[str] = field(default_factory=list)
    full_name: str = ""
    email: str = ""
    organisation: str = ""
    position: str = ""
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    values: PersonValues | None = None
    person: Person | None = None

    @property
    def reason(self) -> str:
        return " ".join(self.errors)

    @property
    def report_line(self) -> str:
        """`line N: reason` — the prefix stays exactly this in every language."""
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportPlan:
    table: Table
    rows: list[RowResult]

    @property
    def bad_rows(self) -> list[RowResult]:
        return [r for r in self.rows if r.action is RowAction.ERROR]

    @property
    def valid_rows(self) -> list[RowResult]:
        return [r for r in self.rows if r.action is not RowAction.ERROR]

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys((a.value for a in RowAction), 0)
        for row in self.rows:
            counts[row.action.value] += 1
        counts["total"] = len(self.rows)
        return counts

    def fingerprint(self) -> str:
        """Changes when what the rows would do changes (to notice a stale preview)."""
        digest = hashlib.sha256()
        for row in self.rows:
            digest.update(f"{row.line}:{row.action.value};".encode())
        return digest.hexdigest()[:32]


@dataclass
class _OrganisationIndex:
    by_key: dict[str, list[Organisation]]
    by_id: dict[int, Organisation]

    @classmethod
    def load(cls) -> _OrganisationIndex:
        by_key: dict[str, list[Organisation]] = defaultdict(list)
        by_id: dict[int, Organisation] = {}
        for org in db.session.scalars(select(Organisation).order_by(Organisation.id)):
            by_id[org.id] = org
            for key in {organisation_key(org.short_name), organisation_key(org.full_name)}:
                if key:
                    by_key[key].append(org)
        return cls(dict(by_key), by_id)

    def find(self, name: str) -> list[Organisation]:
        """Organisations called `name`; an active one wins over deactivated namesakes."""
        found = self.by_key.get(organisation_key(name), [])
        if len(found) > 1:
            active = [org for org in found if org.active]
            if len(active) == 1:
                return active
        return found


def organisation_by_name(name: str) -> Organisation:
    """The one organisation called `name` (short or full), or InvalidValue."""
    found = _OrganisationIndex.load().find(name)
    if not found:
        raise InvalidValue(_("Unknown organisation “%(name)s”.", name=name[:120]))
    if len(found) > 1:
        raise InvalidValue(_("“%(name)s” matches several organisations; write its full name.",
                             name=name[:120]))
    return found[0]


def plan_import(table: Table, *, actor: Person | None = None,
                default_organisation: Organisation | None = None,
                progress: Callable[[int], None] | None = None) -> ImportPlan:
    """Check every row and decide what it would do. `actor` is the coordinator importing
    (None: the command line, which may import into any organisation). Nothing is written."""
    organisations = _OrganisationIndex.load()
    results: list[RowResult] = []
    first_line_of_email: dict[str, int] = {}
    for row in table.rows:
        result = _check_row(row, table, organisations, default_organisation, actor)
        if result.values is not None:
            email = result.values.email
            if email in first_line_of_email:
                result.errors.append(_("The email %(email)s is already on line %(line)d.",
                                       email=email, line=first_line_of_email[email]))
            else:
                first_line_of_email[email] = row.line
        results.append(result)
        if progress is not None:
            progress(1)

    existing = _people_by_email([r.values.email for r in results if r.values and not r.errors])
    for result in results:
        if result.errors:
            result.action = RowAction.ERROR
            result.values = None
            continue
        assert result.values is not None
        person = existing.get(result.values.email)
        if person is None:
            result.action = RowAction.CREATE
            continue
        if actor is not None and not can_edit_person(actor, person):
            if person.organisation_id != actor.organisation_id:
                result.errors.append(_(
                    "%(email)s belongs to a person of another organisation (%(organisation)s); "
                    "only the municipal coordinator can move people between organisations.",
                    email=person.email,
                    organisation=_short_name(organisations, person.organisation_id)))
            else:
                result.errors.append(_("%(email)s belongs to a person (%(role)s) whom you may "
                                       "not change.", email=person.email,
                                       role=person.role.label))
            result.action = RowAction.ERROR
            result.values = None
            continue
        result.person = person
        result.changes = _changes(person, result.values, organisations)
        result.action = RowAction.UPDATE if result.changes else RowAction.UNCHANGED
        if not person.active:
            result.notes.append(_("This person is deactivated and stays so."))
    return ImportPlan(table, results)


def _short_name(organisations: _OrganisationIndex, organisation_id: int) -> str:
    org = organisations.by_id.get(organisation_id)
    return org.short_name if org else ""


def _check_row(row: SourceRow, table: Table, organisations: _OrganisationIndex,
               default_organisation: Organisation | None, actor: Person | None) -> RowResult:
    cells = row.cells
    result = RowResult(line=row.line, action=RowAction.ERROR)
    errors = result.errors
    result.full_name = _preview_text(_raw_name(cells))
    result.email = _preview_text(cells.get(Column.EMAIL, ""))
    result.organisation = _preview_text(cells.get(Column.ORGANISATION, ""))
    result.position = _preview_text(cells.get(Column.POSITION, ""))

    surname = first_name = patronymic = ""
    try:
        surname, first_name, patronymic = _name_of(cells)
        result.full_name = " ".join(p for p in (surname, first_name, patronymic) if p)
    except InvalidValue as error:
        errors.append(str(error))

    email = ""
    try:
        raw_email = cells.get(Column.EMAIL, "").strip()
        if raw_email.lower().startswith("mailto:"):
            raw_email = raw_email[len("mailto:"):]
        email = normalize_email(raw_email)
        result.email = email
    except InvalidValue as error:
        errors.append(str(error))

    organisation = _organisation_of(cells, organisations, default_organisation, actor, errors)
    if organisation is not None:
        result.organisation = organisation.short_name

    position = phone = category = None
    if Column.POSITION in cells:
        try:
            position = clean_text(cells[Column.POSITION], max_length=POSITION_MAX,
                                  field=_l("Position")) or None
        except InvalidValue as error:
            errors.append(str(error))
    if Column.PHONE in cells:
        try:
            phone = normalize_phone(cells[Column.PHONE]) or None
        except InvalidValue as error:
            errors.append(str(error))
    if Column.CATEGORY in cells and cells[Column.CATEGORY].strip():
        try:
            category = parse_category(cells[Column.CATEGORY])
        except InvalidValue as error:
            errors.append(str(error))

    if email:  # keeps the duplicate check working even when another cell is bad
        result.values = PersonValues(
            surname=surname, first_name=first_name, patronymic=patronymic, email=email,
            organisation_id=organisation.id if organisation else 0,
            position=position, phone=phone, category=category)
    return result


def _raw_name(cells: dict[Column, str]) -> str:
    parts = [cells.get(c, "") for c in (Column.SURNAME, Column.FIRST_NAME, Column.PATRONYMIC)]
    if any(p.strip() for p in parts):
        return " ".join(p.strip() for p in parts if p.strip())
    return cells.get(Column.FULL_NAME, "")


def _name_of(cells: dict[Column, str]) -> tuple[str, str, str]:
    has_parts = Column.SURNAME in cells and Column.FIRST_NAME in cells
    if has_parts and (cells[Column.SURNAME].strip() or cells[Column.FIRST_NAME].strip()
                      or Column.FULL_NAME not in cells):
        return (clean_name_part(cells[Column.SURNAME], _l("Surname")),
                clean_name_part(cells[Column.FIRST_NAME], _l("First name")),
                clean_name_part(cells.get(Column.PATRONYMIC, ""), _l("Patronymic"),
                                required=False))
    return parse_full_name(cells.get(Column.FULL_NAME, ""))


def _organisation_of(cells: dict[Column, str], organisations: _OrganisationIndex,
                     default: Organisation | None, actor: Person | None,
                     errors: list[str]) -> Organisation | None:
    try:
        name = clean_text(cells.get(Column.ORGANISATION, ""), max_length=ORGANISATION_MAX,
                          field=_l("Organisation"))
    except InvalidValue as error:
        errors.append(str(error))
        return None
    if not name:
        if default is None:
            errors.append(_("Organisation is required."))
            return None
        organisation = default
    else:
        found = organisations.find(name)
        if not found:
            errors.append(_("Unknown organisation “%(name)s”.", name=name[:120]))
            return None
        if len(found) > 1:
            errors.append(_("“%(name)s” matches several organisations; write its full name.",
                            name=name[:120]))
            return None
        organisation = found[0]
    if not organisation.active:
        errors.append(_("The organisation “%(name)s” is deactivated.",
                        name=organisation.short_name))
        return None
    if actor is not None and not can_manage_people_of(actor, organisation.id):
        errors.append(_("You may import people only into your own organisation (%(own)s), "
                        "not into “%(name)s”.", own=actor.organisation.short_name,
                        name=organisation.short_name))
        return None
    return organisation


def _preview_text(value: str) -> str:
    """A cell as the preview shows it: one line, at most 120 characters."""
    text = re.sub(r"\s+", " ", value).strip()
    return text if len(text) <= 120 else text[:119] + "…"


def _people_by_email(emails: Sequence[str]) -> dict[str, Person]:
    people: dict[str, Person] = {}
    unique = sorted(set(emails))
    for start in range(0, len(unique), EMAIL_CHUNK):
        chunk = unique[start:start + EMAIL_CHUNK]
        for person in db.session.scalars(select(Person).where(Person.email.in_(chunk))):
            people[person.email.lower()] = person
    return people


def _changes(person: Person, values: PersonValues,
             organisations: _OrganisationIndex) -> list[Change]:
    """What the row would change; unchanged fields cost no translation lookup."""
    changes: list[Change] = []

    def compare(label: Any, old: Any, new: Any) -> None:
        if new is not None and old != new:
            changes.append(Change(str(label), str(old or ""), str(new or "")))

    compare(_l("Surname"), person.surname, values.surname)
    compare(_l("First name"), person.first_name, values.first_name)
    compare(_l("Patronymic"), person.patronymic, values.patronymic)
    if person.organisation_id != values.organisation_id:
        compare(_l("Organisation"), _short_name(organisations, person.organisation_id),
                _short_name(organisations, values.organisation_id))
    compare(_l("Position"), person.position, values.position)
    compare(_l("Phone"), person.phone, values.phone)
    if values.category is not None and person.category != values.category:
        changes.append(Change(_("Category"), person.category.label, values.category.label))
    return changes
