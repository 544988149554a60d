"""People pages: list and search, create, edit, own profile, deactivate — and the role rules."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hub.directory.models import Category, Person, Role
from hub.extensions import db

from .conftest import count, fresh, person_data, text


def by_email(email: str) -> Person | None:
    db.session.expire_all()
    return db.session.scalar(select(Person).where(Person.email == email))


# --- list and search ----------------------------------------------------------------------

def test_search_ignores_case_and_yo_in_cyrillic(client, people, make_person, login_as):
    make_person(surname="Ёлкина", first_name="Алёна", patronymic="Фёдоровна",
                email="alena@example.org", organisation=people.teacher.organisation)
    make_person(surname="Елисеева", first_name="Ольга", email="olga@example.org",
                organisation=people.teacher.organisation)
    login_as(people.municipal)
    for query in ("ёлкина", "ЕЛКИНА", "Ёлк", "алёна", "АЛЕНА", "фёдоровна", "ЁЛКИНА АЛЁНА",
                  "алена ёлкина", "ALENA@EXAMPLE", "  ёлкина  "):
        body = text(client.get("/people", query_string={"q": query}))
        assert "alena@example.org" in body, query
        assert "olga@example.org" not in body, query


def test_search_treats_wildcards_and_sql_as_plain_text(client, people, login_as):
    login_as(people.municipal)
    for query in ("%", "_", "' OR 1=1 --", "\\", "Попова%"):
        response = client.get("/people", query_string={"q": query})
        assert response.status_code == 200
        assert "teacher@example.org" not in text(response), query
    assert count(Person) == 4


def test_filters_by_organisation_role_category_and_status(client, people, make_person,
                                                         login_as):
    org = people.teacher.organisation
    make_person(organisation=org, email="highest@example.org", category=Category.HIGHEST)
    make_person(organisation=org, email="gone@example.org", active=False)
    login_as(people.municipal)

    def emails(**args):  # type: ignore[no-untyped-def]
        body = text(client.get("/people", query_string=args))
        return {p.email for p in db.session.scalars(select(Person)) if p.email in body}

    assert emails(organisation=org.id) == {"coordinator@example.org", "teacher@example.org",
                                           "highest@example.org"}
    assert emails(role=int(Role.ORG_COORDINATOR)) == {"coordinator@example.org"}
    assert emails(category=int(Category.HIGHEST)) == {"highest@example.org"}
    assert emails(status="inactive") == {"gone@example.org"}
    assert "gone@example.org" in emails(status="all")
    # Nonsense in filters is ignored, never a 500.
    for bad in ({"role": "x"}, {"category": "99"}, {"organisation": "abc"}, {"status": "?"},
                {"page": "-3"}, {"page": "abc"}, {"q": "я" * 10_000}):
        assert client.get("/people", query_string=bad).status_code == 200, bad


def test_list_is_paginated(client, people, make_person, login_as):
    org = people.teacher.organisation
    for n in range(33):
        make_person(organisation=org, surname="Петрова", email=f"p{n:02d}@example.org",
                    password=None)
    login_as(people.municipal)
    first = text(client.get("/people", query_string={"q": "петрова"}))
    second = text(client.get("/people", query_string={"q": "петрова", "page": 2}))
    assert "33" in first and "Page 1 of 2" in first
    on_first = {f"p{n:02d}@" for n in range(33) if f"p{n:02d}@" in first}
    on_second = {f"p{n:02d}@" for n in range(33) if f"p{n:02d}@" in second}
    assert len(on_first) == 30 and len(on_second) == 3 and not on_first & on_second
    assert client.get("/people?page=999").status_code == 200


def test_coordinator_sees_only_own_organisation(client, people, login_as):
    login_as(people.coordinator)
    body = text(client.get("/people?status=all"))
    assert "teacher@example.org" in body
    assert "other@example.org" not in body
    assert "municipal@example.org" not in body
    assert client.get(
        f"/people?organisation={people.other_teacher.organisation_id}").status_code == 403


def test_teacher_gets_403_on_the_list(client, people, login_as):
    login_as(people.teacher)
    assert client.get("/people").status_code == 403


# --- detail -------------------------------------------------------------------------------

def test_own_profile_shows_times_in_the_viewers_zone_with_its_name(client, people, login_as):
    login_as(people.other_teacher)  # organisation in Asia/Yekaterinburg
    body = text(client.get(f"/people/{people.other_teacher.id}"))
    assert "(Asia/Yekaterinburg)" in body
    assert people.other_teacher.email in body


def test_municipal_sees_times_in_own_zone(client, people, login_as):
    login_as(people.municipal)
    body = text(client.get(f"/people/{people.other_teacher.id}"))
    assert "(Europe/Moscow)" in body
    assert "Asia/Yekaterinburg" in body  # the person's own zone is listed as a property


# --- create -------------------------------------------------------------------------------

def test_municipal_creates_a_person_with_cyrillic_yo(client, people, login_as):
    login_as(people.municipal)
    org = people.other_teacher.organisation
    response = client.post("/people/new", data=person_data(org, email="Elkina@Example.ORG"))
    assert response.status_code == 302
    person = by_email("elkina@example.org")
    assert person is not None
    assert (person.surname, person.first_name, person.patronymic) == ("Ёлкина", "Алёна",
                                                                     "Фёдоровна")
    assert person.phone == "+79123456789"
    assert person.category == Category.HIGHEST
    assert person.organisation_id == org.id
    assert person.timezone == "Asia/Yekaterinburg"  # empty override: the organisation's
    assert response.headers["Location"].endswith(f"/people/{person.id}")


def test_coordinator_creates_in_own_organisation(client, people, login_as):
    login_as(people.coordinator)
    org = people.coordinator.organisation
    data = person_data(org, role=str(int(Role.ORG_COORDINATOR)))
    assert client.post("/people/new", data=data).status_code == 302
    person = by_email("elkina@example.org")
    assert person.organisation_id == org.id and person.role == Role.ORG_COORDINATOR


def test_coordinator_cannot_create_in_another_organisation(client, people, login_as):
    login_as(people.coordinator)
    data = person_data(people.other_teacher.organisation)  # tampered id
    response = client.post("/people/new", data=data)
    assert response.status_code == 200
    assert "Choose an organisation from the list." in text(response)
    assert by_email("elkina@example.org") is None


def test_coordinator_cannot_grant_the_municipal_role(client, people, login_as):
    login_as(people.coordinator)
    data = person_data(people.coordinator.organisation,
                       role=str(int(Role.MUNICIPAL_COORDINATOR)))
    response = client.post("/people/new", data=data)
    assert response.status_code == 200
    assert "Choose a role from the list." in text(response)
    assert by_email("elkina@example.org") is None
    # Nor by editing someone.
    data = person_data(people.coordinator.organisation, email="teacher@example.org",
                       role=str(int(Role.MUNICIPAL_COORDINATOR)))
    assert client.post(f"/people/{people.teacher.id}/edit", data=data).status_code == 200
    assert fresh(people.teacher).role == Role.TEACHER


def test_new_person_form_preselects_the_organisation(client, people, login_as):
    login_as(people.municipal)
    org = people.other_teacher.organisation
    body = text(client.get(f"/people/new?organisation={org.id}"))
    assert f'<option selected value="{org.id}">' in body


@pytest.mark.parametrize("email", ["teacher@example.org", "TEACHER@Example.org",
                                   " Teacher@EXAMPLE.ORG "])
def test_duplicate_email_is_refused_clearly(client, people, login_as, email):
    login_as(people.municipal)
    before = count(Person)
    response = client.post("/people/new", data=person_data(people.teacher.organisation,
                                                           email=email))
    assert response.status_code == 200
    assert "Another person in the hub already uses the email teacher@example.org." in text(
        response)
    assert count(Person) == before


def test_duplicate_email_on_edit_changes_nothing(client, people, login_as):
    login_as(people.municipal)
    data = person_data(people.teacher.organisation, email="Coordinator@example.org",
                       surname="Новикова")
    response = client.post(f"/people/{people.teacher.id}/edit", data=data)
    assert response.status_code == 200
    teacher = fresh(people.teacher)
    assert teacher.email == "teacher@example.org" and teacher.surname == "Попова"


# --- edit ---------------------------------------------------------------------------------

def test_municipal_edits_every_field(client, people, login_as):
    login_as(people.municipal)
    target = people.teacher
    data = person_data(people.other_teacher.organisation, email="popova.new@example.org",
                       surname="Попова-Ёлкина", category="4", role="2",
                       timezone_override="Asia/Vladivostok", locale="en", phone="")
    assert client.post(f"/people/{target.id}/edit", data=data).status_code == 302
    target = fresh(target)
    assert target.email == "popova.new@example.org"
    assert target.surname == "Попова-Ёлкина"
    assert target.organisation_id == people.other_teacher.organisation_id
    assert (target.category, target.role) == (Category.MENTOR, Role.ORG_COORDINATOR)
    assert (target.timezone, target.locale, target.phone) == ("Asia/Vladivostok", "en", "")


def test_coordinator_cannot_move_a_person_to_another_organisation(client, people, login_as):
    login_as(people.coordinator)
    data = person_data(people.other_teacher.organisation, email="teacher@example.org")
    response = client.post(f"/people/{people.teacher.id}/edit", data=data)
    assert response.status_code == 200
    assert fresh(people.teacher).organisation_id == people.coordinator.organisation_id


def test_coordinator_cannot_edit_people_of_other_organisations(client, people, login_as):
    login_as(people.coordinator)
    data = person_data(people.other_teacher.organisation, email="other@example.org",
                       surname="Взломова")
    assert client.post(f"/people/{people.other_teacher.id}/edit", data=data).status_code == 403
    assert fresh(people.other_teacher).surname == "Соколова"


def test_coordinator_cannot_edit_a_municipal_coordinator_of_own_organisation(
        client, people, make_person, login_as):
    boss = make_person(Role.MUNICIPAL_COORDINATOR, people.coordinator.organisation,
                       email="boss@example.org")
    login_as(people.coordinator)
    assert client.get(f"/people/{boss.id}/edit").status_code == 403
    assert client.post(f"/people/{boss.id}/deactivate").status_code == 403
    assert fresh(boss).active


def test_nobody_changes_their_own_role(client, people, login_as):
    login_as(people.coordinator)
    body = text(client.get(f"/people/{people.coordinator.id}/edit"))
    assert 'name="role"' not in body
    data = person_data(people.coordinator.organisation, email="coordinator@example.org",
                       role=str(int(Role.TEACHER)), position="заместитель заведующего")
    assert client.post(f"/people/{people.coordinator.id}/edit", data=data).status_code == 302
    me = fresh(people.coordinator)
    assert me.role == Role.ORG_COORDINATOR and me.position == "заместитель заведующего"


def test_teacher_edits_only_phone_time_zone_and_language(client, people, login_as):
    login_as(people.teacher)
    page = text(client.get(f"/people/{people.teacher.id}/edit"))
    assert 'name="phone"' in page and 'name="surname"' not in page
    data = person_data(people.other_teacher.organisation, email="hacked@example.org",
                       surname="Взломова", role="1", category="4", position="директор",
                       phone="+7 (343) 222-33-44", timezone_override="Asia/Krasnoyarsk",
                       locale="en")
    response = client.post(f"/people/{people.teacher.id}/edit", data=data)
    assert response.status_code == 302
    me = fresh(people.teacher)
    assert (me.phone, me.timezone, me.locale) == ("+73432223344", "Asia/Krasnoyarsk", "en")
    assert (me.email, me.surname, me.role, me.category, me.position, me.organisation_id) == (
        "teacher@example.org", "Попова", Role.TEACHER, Category.FIRST, "воспитатель",
        people.coordinator.organisation_id)
    # The chosen language is used at once.
    assert 'lang="en"' in text(client.get(f"/people/{people.teacher.id}"))


def test_teacher_cannot_open_anyone_elses_edit_page(client, people, login_as):
    login_as(people.teacher)
    for someone in (people.coordinator, people.other_teacher, people.municipal):
        assert client.get(f"/people/{someone.id}/edit").status_code == 403
        assert client.post(f"/people/{someone.id}/edit",
                           data={"phone": "+70000000000"}).status_code == 403
        assert fresh(someone).phone == ""


def test_teacher_profile_rejects_bad_values(client, people, login_as):
    login_as(people.teacher)
    for data, message in (
        ({"phone": "позвоните мне", "timezone_override": "", "locale": ""},
         "is not a phone number"),
        ({"phone": "", "timezone_override": "Mars/Olympus", "locale": ""},
         "Choose a time zone from the list."),
        ({"phone": "", "timezone_override": "", "locale": "de"}, "Choose a value from the list."),
    ):
        response = client.post(f"/people/{people.teacher.id}/edit", data=data)
        assert response.status_code == 200
        assert message in text(response)
    me = fresh(people.teacher)
    assert (me.phone, me.timezone_override, me.locale) == ("", "", "")


# --- deactivate ---------------------------------------------------------------------------

def test_deactivated_person_cannot_sign_in_and_is_signed_out(client, new_client, people,
                                                            login_as):
    teacher_browser = new_client()
    teacher_browser.post("/login", data={"email": "teacher@example.org",
                                         "password": "correct horse battery staple"})
    assert teacher_browser.get("/").status_code == 200

    login_as(people.coordinator)
    response = client.post(f"/people/{people.teacher.id}/deactivate")
    assert response.status_code == 302
    assert not fresh(people.teacher).active
    assert count(Person) == 4  # kept, never deleted

    assert teacher_browser.get("/").status_code == 302  # signed out
    again = new_client()
    again.post("/login", data={"email": "teacher@example.org",
                               "password": "correct horse battery staple"})
    assert again.get("/").status_code == 302

    assert client.post(f"/people/{people.teacher.id}/reactivate").status_code == 302
    assert fresh(people.teacher).active


def test_deactivating_a_network_coordinator_warns(client, people, network, login_as):
    login_as(people.municipal)
    response = client.post(f"/people/{people.coordinator.id}/deactivate",
                           follow_redirects=True)
    assert "Растим инженеров" in text(response)
    assert "choose a new coordinator" in text(response)


def test_nobody_deactivates_themselves(client, people, login_as):
    login_as(people.municipal)
    assert client.post(f"/people/{people.municipal.id}/deactivate").status_code == 403
    assert fresh(people.municipal).active


def test_detail_page_offers_only_allowed_actions(client, people, login_as):
    login_as(people.teacher)
    body = text(client.get(f"/people/{people.teacher.id}"))
    assert f"/people/{people.teacher.id}/edit" in body
    assert "/deactivate" not in body
    client.post("/logout")
    login_as(people.coordinator)
    body = text(client.get(f"/people/{people.teacher.id}"))
    assert f"/people/{people.teacher.id}/deactivate" in body


def test_a_race_on_the_same_email_is_explained_not_a_500(client, people, login_as,
                                                         monkeypatch):
    """Two coordinators saving the same new email at once: the database's unique index wins."""
    from hub.directory import services

    monkeypatch.setattr(services, "find_person_by_email", lambda email: None)
    login_as(people.municipal)
    response = client.post("/people/new", data=person_data(people.teacher.organisation,
                                                           email="teacher@example.org"))
    assert response.status_code == 200
    assert "Someone else has just saved a conflicting change." in text(response)
    assert count(Person) == 4
