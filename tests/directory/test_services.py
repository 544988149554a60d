"""The directory services the pages, the import and the CLI share: plain functions over the
session that validate, flush and leave the commit to the caller."""

from __future__ import annotations

import pytest

from hub.auth.permissions import assignable_roles, can_edit_person
from hub.directory import services
from hub.directory.models import (
    Category,
    OrgKind,
    Person,
    Role,
    fold_for_search,
    natural_sort_key,
)
from hub.extensions import db

from .conftest import count


def test_fold_for_search_is_case_and_yo_blind():
    assert fold_for_search("  ЁЛКИНА   Алёна ") == "елкина алена"
    assert fold_for_search("Straße") == fold_for_search("STRASSE")
    assert natural_sort_key("Детский сад № 3") < natural_sort_key("Детский сад № 22")


def test_create_person_normalises_and_leaves_the_commit_to_the_caller(people):
    org = people.teacher.organisation
    person = services.create_person(
        surname=" Ёлкина ", first_name="Алёна", patronymic="", email=" Elkina@Example.ORG ",
        organisation=org.id, phone="8 912 345 67 89", position="  старший   воспитатель ",
        category="высшая", role=Role.TEACHER)
    assert person.id is not None  # flushed
    assert (person.surname, person.email, person.phone, person.position, person.category) == (
        "Ёлкина", "elkina@example.org", "+79123456789", "старший воспитатель",
        Category.HIGHEST)
    assert person.search_key == "елкина алена elkina@example.org"
    assert services.find_person_by_email("ELKINA@example.org") is person
    db.session.rollback()
    assert services.find_person_by_email("elkina@example.org") is None


def test_create_person_reports_every_bad_field_at_once(people):
    with pytest.raises(services.DirectoryError) as raised:
        services.create_person(surname="<b>", first_name="", email="TEACHER@example.org",
                               organisation=999999, category="десятая",
                               timezone_override="Mars/Olympus", locale="de", role=7)
    assert set(raised.value.errors) == {"surname", "first_name", "email", "organisation",
                                        "category", "timezone_override", "locale", "role"}
    assert "teacher@example.org" in raised.value.errors["email"]
    assert count(Person) == 4


def test_update_person_changes_only_what_is_given(people):
    teacher = people.teacher
    services.update_person(teacher, phone="+7 (343) 111-22-33", category=Category.MENTOR)
    db.session.commit()
    assert (teacher.phone, teacher.category, teacher.surname) == (
        "+73431112233", Category.MENTOR, "Попова")
    with pytest.raises(services.DirectoryError):
        services.update_person(teacher, phone="+7 000 000 00 01", email="other@example.org")
    assert teacher.phone == "+73431112233"  # nothing was applied
    with pytest.raises(TypeError):
        services.update_person(teacher, password_hash="x")


def test_person_changes_previews_an_update_without_applying_it(people):
    teacher = people.teacher
    changes = services.person_changes(teacher, position="старший воспитатель",
                                      email="TEACHER@example.org", category="первая")
    assert changes == {"position": ("воспитатель", "старший воспитатель")}
    assert teacher.position == "воспитатель"


def test_moving_into_a_deactivated_organisation_is_refused(people, make_org):
    closed = make_org(active=False)
    with pytest.raises(services.DirectoryError) as raised:
        services.update_person(people.teacher, organisation=closed)
    assert "deactivated" in raised.value.errors["organisation"]


def test_search_people_matches_every_word_anywhere(people, make_person):
    make_person(surname="Ёлкина", first_name="Алёна", email="alena@example.org",
                organisation=people.teacher.organisation, password=None)

    def found(query: str, **filters) -> set[str]:  # type: ignore[no-untyped-def]
        return {p.email for p in db.session.scalars(services.search_people(query, **filters))}

    assert found("алена ЕЛКИНА") == {"alena@example.org"}
    assert found("example.org") == {"alena@example.org", "municipal@example.org",
                                    "coordinator@example.org", "teacher@example.org",
                                    "other@example.org"}
    assert found("%") == set() and found("_") == set()
    assert found("", role=Role.MUNICIPAL_COORDINATOR) == {"municipal@example.org"}


def test_organisations_find_by_name_and_refuse_duplicates(people):
    org = services.create_organisation(
        full_name="МБДОУ «Детский сад № 22 «Яблонька»»", short_name="Детский сад № 22",
        kind=OrgKind.KINDERGARTEN, municipality="г. Лесной", timezone="Asia/Krasnoyarsk")
    assert services.find_organisation_by_name("детский САД № 22") is org
    assert services.find_organisation_by_name("мбдоу «детский сад № 22 «яблонька»»") is org
    assert services.find_organisation_by_name("Детский сад") is None
    with pytest.raises(services.DirectoryError) as raised:
        services.create_organisation(full_name="МБДОУ «ДЕТСКИЙ САД № 22 «ЯБЛОНЬКА»»",
                                     short_name="x", kind=1, municipality="x")
    assert "full_name" in raised.value.errors
    services.update_organisation(org, short_name="ДС № 22")  # its own name is no duplicate
    assert org.short_name == "ДС № 22"


def test_network_services_check_members(people, make_person):
    own, other = people.coordinator.organisation, people.other_teacher.organisation
    other_coordinator = make_person(Role.ORG_COORDINATOR, other, email="oc@example.org",
                                    password=None)
    with pytest.raises(services.DirectoryError) as raised:
        services.create_network(name="Мульти-пульти", school_year="2026/2027",
                                members=[(own, people.teacher), (other, people.coordinator)])
    assert "does not work in" in raised.value.errors["members-1-coordinator"]
    net = services.create_network(name="Мульти-пульти", school_year="2026 – 2027",
                                  members=[(own, people.coordinator),
                                           (other.id, other_coordinator.id)])
    assert net.school_year == "2026/2027" and len(net.members) == 2
    services.update_network(net, members=[(own, people.teacher), (other, other_coordinator)])
    assert net.members[0].coordinator is people.teacher
    assert [n.name for n in services.coordinated_networks(people.teacher)] == ["Мульти-пульти"]


@pytest.mark.parametrize("value, expected", [
    ("2026/2027", "2026/2027"), (" 2026 / 2027 ", "2026/2027"), ("2026-2027", "2026/2027"),
    ("2026—2027", "2026/2027"),
])
def test_parse_school_year_accepts_common_spellings(app, value, expected):
    assert services.parse_school_year(value) == expected


def test_role_rules():
    municipal = Person(role=Role.MUNICIPAL_COORDINATOR, organisation_id=1, id=1)
    coordinator = Person(role=Role.ORG_COORDINATOR, organisation_id=2, id=2)
    teacher = Person(role=Role.TEACHER, organisation_id=2, id=3)
    boss_in_org = Person(role=Role.MUNICIPAL_COORDINATOR, organisation_id=2, id=4)
    assert Role.MUNICIPAL_COORDINATOR not in assignable_roles(coordinator)
    assert assignable_roles(teacher) == []
    assert can_edit_person(coordinator, teacher)
    assert not can_edit_person(coordinator, boss_in_org)
    assert not can_edit_person(teacher, teacher)  # own data goes through the profile form
    assert can_edit_person(municipal, boss_in_org)
