"""Bad input in every field: a clear message next to the field, nothing changed, never a 500.
HTML and SQL fragments are refused in names and stored verbatim (and shown escaped) elsewhere."""

from __future__ import annotations

import pytest
from markupsafe import escape
from sqlalchemy import select

from hub.directory.models import Organisation, Person
from hub.extensions import db

from .conftest import count, fresh, organisation_data, person_data, text

LONG = "Я" * 10_000
SCRIPT = "<script>alert(1)</script>"
SQL = "Robert'); DROP TABLE person;--"

BAD_PERSON = [
    ("surname", "", "Surname is required."),
    ("surname", "   ", "Surname is required."),
    ("surname", LONG, "Surname is longer than 100 characters."),
    ("surname", "Ёлкина😀", "Surname may contain only letters"),
    ("surname", SCRIPT, "Surname may contain only letters"),
    ("surname", SQL, "Surname may contain only letters"),
    ("surname", "Иванова\x00", "Surname contains control characters."),
    ("first_name", "", "First name is required."),
    ("first_name", LONG, "First name is longer than 100 characters."),
    ("first_name", "<b>Анна</b>", "First name may contain only letters"),
    ("first_name", "1; DELETE FROM person", "First name may contain only letters"),
    ("patronymic", LONG, "Patronymic is longer than 100 characters."),
    ("patronymic", "' OR '1'='1", "Patronymic may contain only letters"),
    ("patronymic", "<i>Петровна</i>", "Patronymic may contain only letters"),
    ("email", "", "Email is required."),
    ("email", "not-an-email", "is not a valid email address."),
    ("email", "a@b", "is not a valid email address."),
    ("email", "x" * 10_000 + "@example.org", "Email is longer than 254 characters."),
    ("email", "<script>@example.org", "is not a valid email address."),
    ("email", "a@example.org'; DROP TABLE person;--", "is not a valid email address."),
    ("email", "два@@пример.рф", "is not a valid email address."),
    ("phone", "x" * 10_000, "Phone is longer than 40 characters."),
    ("phone", "<b>123456</b>", "is not a phone number."),
    ("phone", "1; DROP TABLE person", "is not a phone number."),
    ("phone", "+7 912 😀", "is not a phone number."),
    ("position", LONG, "Position is longer than 200 characters."),
    ("position", "воспитатель\x07", "Position contains control characters."),
    ("organisation_id", "", "Choose an organisation from the list."),
    ("organisation_id", "abc", "Choose an organisation from the list."),
    ("organisation_id", "999999", "Choose an organisation from the list."),
    ("organisation_id", "1 OR 1=1", "Choose an organisation from the list."),
    ("category", "99", "Choose a value from the list."),
    ("category", "первая", "Choose a value from the list."),
    ("role", "9", "Choose a role from the list."),
    ("role", "", "Choose a role from the list."),
    ("timezone_override", "Mars/Olympus", "Choose a time zone from the list."),
    ("timezone_override", "Europe/Moscow'--", "Choose a time zone from the list."),
    ("timezone_override", LONG, "Choose a time zone from the list."),
    ("locale", "de", "Choose a value from the list."),
]


def _check(response, message: str) -> None:  # type: ignore[no-untyped-def]
    body = text(response)
    assert response.status_code == 200
    assert message in body
    assert "Nothing has been saved." in body
    assert 'aria-invalid="true"' in body
    assert "Traceback" not in body and "<script>alert(1)</script>" not in body


@pytest.mark.parametrize("field, value, message", BAD_PERSON,
                         ids=[f"{f}-{i}" for i, (f, _v, _m) in enumerate(BAD_PERSON)])
def test_bad_person_field_creates_nothing(client, people, login_as, field, value, message):
    login_as(people.municipal)
    before = count(Person)
    response = client.post("/people/new", data=person_data(people.teacher.organisation,
                                                           **{field: value}))
    _check(response, message)
    assert count(Person) == before


@pytest.mark.parametrize("field, value, message", BAD_PERSON,
                         ids=[f"{f}-{i}" for i, (f, _v, _m) in enumerate(BAD_PERSON)])
def test_bad_person_field_changes_nothing(client, people, login_as, field, value, message):
    login_as(people.coordinator)
    target = people.teacher
    data = person_data(target.organisation, email=target.email, surname="Изменённая")
    data[field] = value
    response = client.post(f"/people/{target.id}/edit", data=data)
    _check(response, message)
    after = fresh(target)
    assert (after.surname, after.email, after.phone, after.position) == (
        "Попова", "teacher@example.org", "", "воспитатель")


@pytest.mark.parametrize("value", [SCRIPT, "'; DROP TABLE person; --", "Иванова & Co <b>"])
def test_markup_and_sql_in_free_text_are_stored_verbatim_and_escaped(client, people,
                                                                     login_as, value):
    login_as(people.municipal)
    response = client.post("/people/new", data=person_data(people.teacher.organisation,
                                                           position=value))
    assert response.status_code == 302
    db.session.expire_all()
    person = db.session.scalar(select(Person).where(Person.email == "elkina@example.org"))
    assert person.position == value
    escaped = str(escape(value))
    for page in (f"/people/{person.id}", f"/people/{person.id}/edit",
                 f"/organisations/{person.organisation_id}"):
        body = text(client.get(page))
        assert escaped in body, page
        if "<" in value:
            assert value not in body, page
    assert count(Person) == 5  # the table is still there


def test_markup_in_search_is_shown_escaped(client, people, login_as):
    login_as(people.municipal)
    for page in ("/people", "/organisations", "/networks"):
        body = text(client.get(page, query_string={"q": SCRIPT}))
        assert SCRIPT not in body and "&lt;script&gt;" in body, page


BAD_ORGANISATION = [
    ("full_name", "", "Full name is required."),
    ("full_name", LONG, "Full name is longer than 300 characters."),
    ("full_name", SCRIPT, "Full name may not contain the characters &lt; and &gt;."),
    ("short_name", "", "Short name is required."),
    ("short_name", LONG, "Short name is longer than 120 characters."),
    ("short_name", "<b>Сад</b>", "Short name may not contain the characters"),
    ("municipality", "", "Municipality is required."),
    ("municipality", LONG, "Municipality is longer than 120 characters."),
    ("municipality", "г. Лесной\x00", "Municipality contains control characters."),
    ("kind", "99", "Choose a value from the list."),
    ("kind", "school", "Choose a value from the list."),
    ("timezone", "", "Choose a time zone from the list."),
    ("timezone", "Mars/Olympus", "Choose a time zone from the list."),
    ("timezone", LONG, "Choose a time zone from the list."),
]


@pytest.mark.parametrize("field, value, message", BAD_ORGANISATION,
                         ids=[f"{f}-{i}" for i, (f, _v, _m) in enumerate(BAD_ORGANISATION)])
def test_bad_organisation_field_creates_and_changes_nothing(client, people, login_as, field,
                                                            value, message):
    login_as(people.municipal)
    before = count(Organisation)
    _check(client.post("/organisations/new", data=organisation_data(**{field: value})), message)
    assert count(Organisation) == before
    org = people.other_teacher.organisation
    saved = (org.full_name, org.short_name, org.municipality, org.timezone, org.kind)
    _check(client.post(f"/organisations/{org.id}/edit",
                       data=organisation_data(**{field: value})), message)
    org = fresh(org)
    assert (org.full_name, org.short_name, org.municipality, org.timezone, org.kind) == saved


def test_sql_in_organisation_text_is_stored_verbatim(client, people, login_as):
    login_as(people.municipal)
    data = organisation_data(full_name="Школа'; DROP TABLE organisation; --",
                             municipality="<b>Лесной</b>")
    assert client.post("/organisations/new", data=data).status_code == 302
    db.session.expire_all()
    org = db.session.scalar(select(Organisation).where(
        Organisation.full_name == "Школа'; DROP TABLE organisation; --"))
    assert org.municipality == "<b>Лесной</b>"
    body = text(client.get(f"/organisations/{org.id}"))
    assert "<b>Лесной</b>" not in body and "&lt;b&gt;Лесной&lt;/b&gt;" in body
