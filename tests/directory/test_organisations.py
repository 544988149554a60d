"""Organisation pages: list, detail, create, edit, deactivate."""

from __future__ import annotations

from sqlalchemy import select

from hub.directory.models import Organisation, OrgKind
from hub.extensions import db

from .conftest import count, fresh, organisation_data, text


def by_short_name(name: str) -> Organisation | None:
    db.session.expire_all()
    return db.session.scalar(select(Organisation).where(Organisation.short_name == name))


def test_list_searches_names_and_municipality_in_any_case(client, people, make_org, login_as):
    make_org(full_name="МБДОУ «Детский сад № 5 «Ёлочка»»", short_name="Детский сад № 5",
             municipality="г. Светлоуральск")
    make_org(full_name="МАОУ «СОШ № 8»", short_name="СОШ № 8", kind=OrgKind.SCHOOL)
    login_as(people.teacher)
    for query in ("ёлочка", "ЕЛОЧКА", "светлоуральск", "сад № 5", "СВЕТЛОУРАЛЬСК ЁЛОЧКА"):
        body = text(client.get("/organisations", query_string={"q": query}))
        assert "Детский сад № 5<" in body, query
        assert "СОШ № 8<" not in body, query
    body = text(client.get("/organisations", query_string={"kind": int(OrgKind.SCHOOL)}))
    assert "СОШ № 8<" in body and "Детский сад № 5<" not in body


def test_list_sorts_numbers_naturally_and_counts_people(client, people, make_org, login_as):
    for n in (22, 3, 11):
        make_org(short_name=f"Детский сад № {n}", full_name=f"МБДОУ «Детский сад № {n}»")
    login_as(people.municipal)
    body = text(client.get("/organisations", query_string={"q": "детский сад №"}))
    assert body.index("Детский сад № 3<") < body.index("Детский сад № 11<") < body.index(
        "Детский сад № 22<")
    kindergarten = people.teacher.organisation
    row = body[body.index(kindergarten.short_name + "<"):]
    assert '<td class="num" data-label="People">2</td>' in row[:1500]  # coordinator, teacher


def test_municipal_creates_an_organisation(client, people, login_as):
    login_as(people.municipal)
    response = client.post("/organisations/new", data=organisation_data())
    assert response.status_code == 302
    org = by_short_name("Детский сад № 40")
    assert org.full_name == "МБДОУ «Детский сад № 40 «Пчёлка»»"
    assert (org.kind, org.municipality, org.timezone, org.active) == (
        OrgKind.KINDERGARTEN, "г. Лесной", "Asia/Yekaterinburg", True)


def test_full_name_must_be_new_in_any_case(client, people, login_as):
    login_as(people.municipal)
    existing = people.teacher.organisation
    before = count(Organisation)
    response = client.post("/organisations/new", data=organisation_data(
        full_name=existing.full_name.upper(), short_name="Другой"))
    assert response.status_code == 200
    assert "An organisation with this full name already exists." in text(response)
    assert count(Organisation) == before


def test_coordinator_edits_own_organisation_but_not_its_kind(client, people, login_as):
    login_as(people.coordinator)
    org = people.coordinator.organisation
    page = text(client.get(f"/organisations/{org.id}/edit"))
    assert 'name="kind"' not in page
    data = organisation_data(full_name="МБДОУ «Детский сад № 1 «Солнышко»»",
                             short_name="Детский сад № 1", kind=str(int(OrgKind.SCHOOL)))
    assert client.post(f"/organisations/{org.id}/edit", data=data).status_code == 302
    org = fresh(org)
    assert org.short_name == "Детский сад № 1" and org.kind == OrgKind.KINDERGARTEN
    assert org.timezone == "Asia/Yekaterinburg"


def test_coordinator_cannot_edit_or_deactivate_another_organisation(client, people, login_as):
    login_as(people.coordinator)
    other = people.other_teacher.organisation
    data = organisation_data(short_name="Взломано")
    assert client.post(f"/organisations/{other.id}/edit", data=data).status_code == 403
    assert client.post(f"/organisations/{other.id}/deactivate").status_code == 403
    assert client.post(f"/organisations/{people.coordinator.organisation_id}/deactivate"
                       ).status_code == 403
    assert fresh(other).short_name != "Взломано" and fresh(other).active


def test_deactivated_organisation_is_kept_hidden_and_not_offered(client, people, login_as):
    login_as(people.municipal)
    other = people.other_teacher.organisation
    response = client.post(f"/organisations/{other.id}/deactivate", follow_redirects=True)
    assert "is deactivated" in text(response)
    assert not fresh(other).active
    assert fresh(people.other_teacher).active  # its people stay as they are
    assert other.short_name + "<" not in text(client.get("/organisations"))
    assert other.short_name + "<" in text(client.get("/organisations?inactive=1"))
    # Not offered for new people, and refused when posted anyway.
    assert f">{other.short_name}</option>" not in text(client.get("/people/new"))
    assert f">{other.short_name}</option>" not in text(client.get("/networks/new"))
    response = client.post("/people/new", data={
        "surname": "Новая", "first_name": "Анна", "email": "new@example.org",
        "organisation_id": str(other.id), "category": "0", "role": "3"})
    assert response.status_code == 200
    # Its page still opens, for the history.
    assert client.get(f"/organisations/{other.id}").status_code == 200
    assert client.post(f"/organisations/{other.id}/reactivate").status_code == 302
    assert fresh(other).active


def test_municipal_cannot_deactivate_own_organisation(client, people, login_as):
    login_as(people.municipal)
    response = client.post(f"/organisations/{people.municipal.organisation_id}/deactivate",
                           follow_redirects=True)
    assert "You cannot deactivate your own organisation." in text(response)
    assert fresh(people.municipal.organisation).active


def test_coordinator_toggle_for_deactivated_is_ignored(client, people, make_org, login_as):
    make_org(short_name="Закрытый сад", active=False)
    login_as(people.coordinator)
    assert "Закрытый сад" not in text(client.get("/organisations?inactive=1"))


def test_detail_lists_people_only_for_those_allowed(client, people, network, login_as):
    org = people.teacher.organisation
    login_as(people.teacher)
    body = text(client.get(f"/organisations/{org.id}"))
    assert "Растим инженеров" in body  # its networks are public to signed-in people
    assert "coordinator@example.org" not in body
    client.post("/logout")
    login_as(people.coordinator)
    body = text(client.get(f"/organisations/{org.id}"))
    assert "teacher@example.org" in body and "Растим инженеров" in body
    body = text(client.get(f"/organisations/{people.other_teacher.organisation_id}"))
    assert "other@example.org" not in body
