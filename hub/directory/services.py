"""Operations on the directory: organisations, network associations and people.

Plain functions over ``db.session``, shared by the pages, the people import and the CLI:

- they validate and normalise what they are given (with hub.directory.validation), so a caller
  may pass raw text from a form or a spreadsheet cell;
- they add or change rows and flush, but **never commit**: the caller commits, or rolls back,
  so a batch (an import of 500 people) is all or nothing;
- bad input raises :class:`DirectoryError` before anything is changed; ``error.errors`` maps each
  wrong field (the keyword argument's name, e.g. ``"email"``) to a message fit for the user.

People, in short::

    person = find_person_by_email("Ivanova@Example.org")        # None when unknown
    person = create_person(surname="Иванова", first_name="Мария", patronymic="Петровна",
                           email="ivanova@example.org", organisation=org,
                           position="воспитатель", category="высшая")
    update_person(person, phone="8 912 000-00-00", position="старший воспитатель")
    db.session.commit()
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from hub.core.i18n import is_valid_timezone
from hub.directory.models import (
    Category,
    Network,
    NetworkMember,
    Organisation,
    OrgKind,
    Person,
    Role,
    fold_for_search,
)
from hub.directory.validation import (
    InvalidValue,
    clean_name_part,
    clean_text,
    normalize_email,
    normalize_phone,
    parse_category,
)
from hub.extensions import db

#: Longest texts, as the columns allow.
ORG_FULL_NAME_MAX = 300
ORG_SHORT_NAME_MAX = 120
MUNICIPALITY_MAX = 120
POSITION_MAX = 200
NETWORK_NAME_MAX = 300
DESCRIPTION_MAX = 2000
#: A search looks at no more than this many words of the query.
SEARCH_WORDS_MAX = 6


class DirectoryError(InvalidValue):
    """Input the directory cannot accept. ``errors`` maps field names to user-facing messages."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(" ".join(self.errors.values()))


class _Errors(dict[str, str]):
    """Collects every field's error, so that a form can show them all at once."""

    def check(self, field: str, clean: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return clean(*args, **kwargs)
        except InvalidValue as error:
            self.setdefault(field, str(error))
            return None

    def raise_if_any(self) -> None:
        if self:
            raise DirectoryError(self)


# --- shared checks ------------------------------------------------------------------------

def clean_plain_name(value: str | None, field: str, max_length: int) -> str:
    """The name of an organisation or a network: required text without markup (no < or >)."""
    text = clean_text(value, max_length=max_length, required=True, field=field)
    if "<" in text or ">" in text:
        raise InvalidValue(_("%(field)s may not contain the characters < and >.", field=field))
    return text


def clean_timezone(value: str | None, *, allow_empty: bool = False) -> str:
    """An IANA time zone name such as Asia/Yekaterinburg (empty only when allowed)."""
    name = (value or "").strip()
    if not name and allow_empty:
        return ""
    if not name:
        raise InvalidValue(_("Time zone is required."))
    if len(name) > 64 or not is_valid_timezone(name):
        raise InvalidValue(_("“%(value)s” is not a known time zone.", value=name[:64]))
    return name


def clean_locale(value: str | None) -> str:
    """An interface language of the hub ("ru", "en"), or empty for the hub's default."""
    code = (value or "").strip().lower()
    languages = current_app.config["LANGUAGES"] if has_app_context() else ("ru", "en")
    if code and code not in languages:
        raise InvalidValue(_("“%(value)s” is not a language of the hub.", value=code[:8]))
    return code


def parse_school_year(value: str | None) -> str:
    """A school year as "2026/2027": two consecutive years (a dash is accepted for the slash)."""
    text = clean_text(value, max_length=20, required=True, field=_("School year"))
    parts = text.replace(" ", "").replace("–", "/").replace("—", "/").replace("-", "/").split("/")
    if (len(parts) != 2 or not all(len(p) == 4 and p.isascii() and p.isdigit() for p in parts)):
        raise InvalidValue(_("Write the school year as two years, e.g. 2026/2027."))
    first, second = int(parts[0]), int(parts[1])
    if second != first + 1:
        raise InvalidValue(_("A school year spans two consecutive years, e.g. 2026/2027."))
    if not 2000 <= first <= 2099:
        raise InvalidValue(_("The school year must be between 2000/2001 and 2099/2100."))
    return f"{first}/{second}"


def _enum(enum_class: type, value: Any, field: str) -> Any:
    try:
        return enum_class(int(value))
    except (TypeError, ValueError):
        raise InvalidValue(_("Choose a value of %(field)s from the list.", field=field)) from None


def _category(value: Any) -> Category:
    if isinstance(value, str) and not value.strip().isdigit():
        return parse_category(value)
    return _enum(Category, value, _("Category"))


def _get(model: type, value: Any) -> Any:
    """A row given as itself or as its id; None when there is no such row."""
    if isinstance(value, model):
        return value
    try:
        ident = int(value)
    except (TypeError, ValueError):
        return None
    return db.session.get(model, ident)


# --- organisations ------------------------------------------------------------------------

def find_organisation_by_name(name: str | None) -> Organisation | None:
    """The organisation whose full or short name is `name`, ignoring case, ё/е and spacing.

    Active organisations win over deactivated ones with the same name.
    """
    key = fold_for_search(name)
    if not key:
        return None
    candidates = db.session.scalars(
        select(Organisation)
        .where(Organisation.search_key.contains(key, autoescape=True))
        .order_by(Organisation.active.desc(), Organisation.id)
    )
    for organisation in candidates:
        names = (organisation.full_name, organisation.short_name)
        if key in {fold_for_search(n) for n in names}:
            return organisation
    return None


def _clean_organisation(values: Mapping[str, Any], current: Organisation | None) -> dict[str, Any]:
    errors = _Errors()
    clean: dict[str, Any] = {}
    checks = {
        "full_name": lambda v: clean_plain_name(v, _("Full name"), ORG_FULL_NAME_MAX),
        "short_name": lambda v: clean_plain_name(v, _("Short name"), ORG_SHORT_NAME_MAX),
        "kind": lambda v: _enum(OrgKind, v, _("Kind")),
        "municipality": lambda v: clean_text(v, max_length=MUNICIPALITY_MAX, required=True,
                                             field=_("Municipality")),
        "timezone": clean_timezone,
    }
    for field, value in values.items():
        if field not in checks:
            raise TypeError(f"unknown organisation field {field!r}")
        clean[field] = errors.check(field, checks[field], value)
    if clean.get("full_name"):
        same = find_organisation_by_name(clean["full_name"])
        if same is not None and same is not current and (
            fold_for_search(same.full_name) == fold_for_search(clean["full_name"])
        ):
            errors.setdefault("full_name", _("An organisation with this full name already exists."))
    errors.raise_if_any()
    return clean


def create_organisation(*, full_name: str, short_name: str, kind: OrgKind | int,
                        municipality: str, timezone: str = "Europe/Moscow") -> Organisation:
    """A new active organisation. The full name must be new (ignoring case)."""
    values = _clean_organisation(
        {"full_name": full_name, "short_name": short_name, "kind": kind,
         "municipality": municipality, "timezone": timezone}, None)
    organisation = Organisation(**values)
    db.session.add(organisation)
    db.session.flush()
    return organisation


def update_organisation(organisation: Organisation, **changes: Any) -> Organisation:
    """Change any of full_name, short_name, kind, municipality, timezone."""
    values = _clean_organisation(changes, organisation)
    for field, value in values.items():
        setattr(organisation, field, value)
    db.session.flush()
    return organisation


def set_organisation_active(organisation: Organisation, active: bool) -> None:
    """Deactivate (hide from choices, keep history) or reactivate. Its people stay as they are."""
    organisation.active = active
    db.session.flush()


def search_organisations(query: str = "", *, kind: OrgKind | None = None,
                         include_inactive: bool = False) -> Select[tuple[Organisation]]:
    """Organisations whose names or municipality contain every word of `query`, sorted by name."""
    statement = select(Organisation)
    for word in fold_for_search(query).split()[:SEARCH_WORDS_MAX]:
        statement = statement.where(Organisation.search_key.contains(word, autoescape=True))
    if kind is not None:
        statement = statement.where(Organisation.kind == kind)
    if not include_inactive:
        statement = statement.where(Organisation.active.is_(True))
    return statement.order_by(Organisation.sort_key, Organisation.id)


def people_counts(organisation_ids: Iterable[int]) -> dict[int, int]:
    """The number of active people of each organisation."""
    ids = list(organisation_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Person.organisation_id, func.count(Person.id))
        .where(Person.organisation_id.in_(ids), Person.active.is_(True))
        .group_by(Person.organisation_id)
    )
    return {org_id: count for org_id, count in rows}


def active_organisations(include: Iterable[int] = ()) -> list[Organisation]:
    """Active organisations for a choice list, plus those in `include` (current values)."""
    ids = [i for i in include if i]
    condition = Organisation.active.is_(True)
    if ids:
        condition = condition | Organisation.id.in_(ids)
    return list(db.session.scalars(
        select(Organisation).where(condition).order_by(Organisation.sort_key, Organisation.id)))


# --- people -------------------------------------------------------------------------------

def find_person_by_email(email: str | None) -> Person | None:
    """The person with this email (case-insensitive), active or not; None when unknown."""
    try:
        key = normalize_email(email)
    except InvalidValue:
        return None
    return db.session.scalar(select(Person).where(Person.email == key))


_PERSON_FIELDS = ("surname", "first_name", "patronymic", "email", "phone", "organisation",
                  "position", "category", "role", "timezone_override", "locale")


def _clean_person(values: Mapping[str, Any], current: Person | None) -> dict[str, Any]:
    errors = _Errors()
    clean: dict[str, Any] = {}
    checks = {
        "surname": lambda v: clean_name_part(v, _("Surname")),
        "first_name": lambda v: clean_name_part(v, _("First name")),
        "patronymic": lambda v: clean_name_part(v, _("Patronymic"), required=False),
        "email": normalize_email,
        "phone": normalize_phone,
        "position": lambda v: clean_text(v, max_length=POSITION_MAX, field=_("Position")),
        "category": _category,
        "role": lambda v: _enum(Role, v, _("Role")),
        "timezone_override": lambda v: clean_timezone(v, allow_empty=True),
        "locale": clean_locale,
    }
    for field, value in values.items():
        if field == "organisation":
            organisation = _get(Organisation, value)
            if organisation is None:
                errors["organisation"] = _("Choose an organisation from the list.")
            elif not organisation.active and (
                current is None or current.organisation_id != organisation.id
            ):
                errors["organisation"] = _("The organisation “%(name)s” is deactivated.",
                                           name=organisation.short_name)
            clean["organisation"] = organisation
        elif field in checks:
            clean[field] = errors.check(field, checks[field], value)
        else:
            raise TypeError(f"unknown person field {field!r}")
    email = clean.get("email")
    if email:
        other = find_person_by_email(email)
        if other is not None and other is not current:
            errors["email"] = _("Another person in the hub already uses the email %(email)s.",
                                email=email)
    errors.raise_if_any()
    return clean


def create_person(*, surname: str, first_name: str, email: str,
                  organisation: Organisation | int, patronymic: str = "", phone: str = "",
                  position: str = "", category: Category | int | str = Category.NONE,
                  role: Role | int = Role.TEACHER, timezone_override: str = "",
                  locale: str = "") -> Person:
    """A new active person (no password: they sign in by emailed link or reset one).

    `category` may be a Category, its number or spreadsheet text («высшая», «педагог-наставник»).
    Raises DirectoryError (with errors["email"]) when the email is taken, in any letter case.
    """
    values = _clean_person({
        "surname": surname, "first_name": first_name, "patronymic": patronymic, "email": email,
        "phone": phone, "organisation": organisation, "position": position,
        "category": category, "role": role, "timezone_override": timezone_override,
        "locale": locale}, None)
    person = Person(**values)
    db.session.add(person)
    db.session.flush()
    return person


def update_person(person: Person, **changes: Any) -> Person:
    """Change the given fields (any of create_person's keywords); the others stay as they are.

    Nothing changes when any value is bad (DirectoryError lists every bad field).
    """
    values = _clean_person(changes, person)
    for field, value in values.items():
        setattr(person, field, value)
    db.session.flush()
    return person


def person_changes(person: Person, **values: Any) -> dict[str, tuple[Any, Any]]:
    """What update_person(person, **values) would change: {field: (old, new)}. Changes nothing.

    Useful for an import preview ("position: воспитатель → старший воспитатель").
    """
    clean = _clean_person(values, person)
    changes = {}
    for field, new in clean.items():
        old = getattr(person, field)
        if old != new:
            changes[field] = (old, new)
    return changes


def set_person_active(person: Person, active: bool) -> None:
    """Deactivate (they can no longer sign in; their history stays) or reactivate."""
    person.active = active
    db.session.flush()


def search_people(query: str = "", *, organisation_id: int | None = None,
                  role: Role | None = None, category: Category | None = None,
                  active: bool | None = True) -> Select[tuple[Person]]:
    """People whose name or email contains every word of `query` (any case, ё = е).

    `active=None` includes deactivated people. Sorted by surname, first name, patronymic.
    """
    statement = select(Person).options(selectinload(Person.organisation))
    for word in fold_for_search(query).split()[:SEARCH_WORDS_MAX]:
        statement = statement.where(Person.search_key.contains(word, autoescape=True))
    if organisation_id is not None:
        statement = statement.where(Person.organisation_id == organisation_id)
    if role is not None:
        statement = statement.where(Person.role == role)
    if category is not None:
        statement = statement.where(Person.category == category)
    if active is not None:
        statement = statement.where(Person.active.is_(active))
    return statement.order_by(Person.search_key, Person.id)


def coordinator_candidates(organisation_ids: Iterable[int] | None = None,
                           include: Iterable[int] = ()) -> list[Person]:
    """Active organisation (and municipal) coordinators who may coordinate a network member,
    plus the people in `include` (current coordinators), sorted by organisation and name."""
    condition = Person.active.is_(True) & Person.role.in_(
        [Role.ORG_COORDINATOR, Role.MUNICIPAL_COORDINATOR])
    if organisation_ids is not None:
        condition = condition & Person.organisation_id.in_(list(organisation_ids))
    ids = [i for i in include if i]
    if ids:
        condition = condition | Person.id.in_(ids)
    return list(db.session.scalars(
        select(Person).where(condition).order_by(Person.organisation_id, Person.search_key)))


def coordinated_networks(person: Person) -> list[Network]:
    """Active networks in which `person` coordinates their organisation's membership."""
    return list(db.session.scalars(
        select(Network).join(NetworkMember)
        .where(NetworkMember.coordinator_id == person.id, Network.active.is_(True))
        .order_by(Network.name).distinct()))


# --- networks -----------------------------------------------------------------------------

MemberSpec = tuple[Organisation | int, Person | int]


def _clean_members(members: Sequence[MemberSpec], current: Network | None,
                   errors: _Errors) -> list[tuple[Organisation, Person]]:
    current_orgs = {m.organisation_id for m in current.members} if current else set()
    current_coordinators = {m.coordinator_id for m in current.members} if current else set()
    result: list[tuple[Organisation, Person]] = []
    seen: set[int] = set()
    for index, (org_value, person_value) in enumerate(members):
        organisation = _get(Organisation, org_value)
        coordinator = _get(Person, person_value)
        key = f"members-{index}"
        if organisation is None:
            errors.setdefault(f"{key}-organisation", _("Choose an organisation from the list."))
            continue
        if not organisation.active and organisation.id not in current_orgs:
            errors.setdefault(f"{key}-organisation", _(
                "The organisation “%(name)s” is deactivated.", name=organisation.short_name))
        if organisation.id in seen:
            errors.setdefault(f"{key}-organisation", _(
                "“%(name)s” is listed twice.", name=organisation.short_name))
        seen.add(organisation.id)
        if coordinator is None:
            errors.setdefault(f"{key}-coordinator", _("Choose the member's coordinator."))
            continue
        if coordinator.organisation_id != organisation.id:
            errors.setdefault(f"{key}-coordinator", _(
                "%(person)s does not work in “%(name)s”.",
                person=coordinator.short_name, name=organisation.short_name))
        elif not coordinator.active and coordinator.id not in current_coordinators:
            errors.setdefault(f"{key}-coordinator", _(
                "%(person)s is deactivated.", person=coordinator.short_name))
        result.append((organisation, coordinator))
    if len(seen) < 2:
        errors.setdefault("members", _("A network needs at least two member organisations."))
    return result


def _clean_network(values: Mapping[str, Any], current: Network | None) -> dict[str, Any]:
    errors = _Errors()
    clean: dict[str, Any] = {}
    checks = {
        "name": lambda v: clean_plain_name(v, _("Name"), NETWORK_NAME_MAX),
        "school_year": parse_school_year,
        "description": lambda v: clean_text(v, max_length=DESCRIPTION_MAX,
                                            field=_("Description")),
    }
    for field, value in values.items():
        if field == "members":
            clean["members"] = _clean_members(value, current, errors)
        elif field in checks:
            clean[field] = errors.check(field, checks[field], value)
        else:
            raise TypeError(f"unknown network field {field!r}")
    name = clean.get("name") or (current.name if current else None)
    year = clean.get("school_year") or (current.school_year if current else None)
    if name and year and ("name" in clean or "school_year" in clean):
        for other in db.session.scalars(select(Network).where(Network.school_year == year)):
            if other is not current and fold_for_search(other.name) == fold_for_search(name):
                errors.setdefault("name", _(
                    "A network with this name already exists for %(year)s.", year=year))
    errors.raise_if_any()
    return clean


def _set_members(network: Network, members: list[tuple[Organisation, Person]]) -> None:
    existing = {m.organisation_id: m for m in network.members}
    keep = []
    for organisation, coordinator in members:
        member = existing.get(organisation.id)
        if member is None:
            member = NetworkMember(organisation=organisation, coordinator=coordinator)
        else:
            member.coordinator = coordinator
        keep.append(member)
    network.members = keep


def create_network(*, name: str, school_year: str, members: Sequence[MemberSpec],
                   description: str = "") -> Network:
    """A new active network. `members` is a list of (organisation, its coordinator), at least
    two organisations; each coordinator must be a person of that organisation."""
    values = _clean_network({"name": name, "school_year": school_year,
                             "description": description, "members": members}, None)
    network = Network(name=values["name"], school_year=values["school_year"],
                      description=values["description"])
    _set_members(network, values["members"])
    db.session.add(network)
    db.session.flush()
    return network


def update_network(network: Network, **changes: Any) -> Network:
    """Change any of name, school_year, description, members (members replaces the whole list:
    organisations left out stop being members)."""
    values = _clean_network(changes, network)
    members = values.pop("members", None)
    for field, value in values.items():
        setattr(network, field, value)
    if members is not None:
        _set_members(network, members)
    db.session.flush()
    return network


def set_network_active(network: Network, active: bool) -> None:
    network.active = active
    db.session.flush()


def search_networks(query: str = "", *, include_inactive: bool = False,
                    organisation_id: int | None = None) -> Select[tuple[Network]]:
    """Networks, newest school year first; `query` matches the name (any case, ё = е)."""
    statement = select(Network).options(
        selectinload(Network.members).selectinload(NetworkMember.organisation))
    if not include_inactive:
        statement = statement.where(Network.active.is_(True))
    if organisation_id is not None:
        statement = statement.where(Network.members.any(
            NetworkMember.organisation_id == organisation_id))
    words = fold_for_search(query).split()[:SEARCH_WORDS_MAX]
    if words:
        # Networks are few (tens per municipality): match the folded name in Python.
        ids = [n.id for n in db.session.scalars(statement)
               if all(w in fold_for_search(n.name, n.description) for w in words)]
        statement = statement.where(Network.id.in_(ids))
    return statement.order_by(Network.school_year.desc(), Network.name, Network.id)
