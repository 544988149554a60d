"""Network association pages: list, detail, create and edit with member rows, deactivate."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hub.directory.models import Network, NetworkMember, Role
from hub.extensions import db

from .conftest import count, fresh, network_data, text


def only_network() -> Network:
    db.session.expire_all()
    return db.session.scalars(select(Network)).one()


@pytest.fixture
def third(make_org, make_person):  # type: ignore[no-untyped-def]
    """A third organisation with its coordinator: (organisation, coordinator)."""
    org = make_org(short_name="Дом детского творчества", full_name="МАУ ДО «ДДТ»")
    return org, make_person(Role.ORG_COORDINATOR, org, email="ddt@example.org", password=None)


def test_municipal_creates_a_network(client, people, other_coordinator, login_as):
    login_as(people.municipal)
    rows = [(people.coordinator.organisation_id, people.coordinator.id),
            (None, None),
            (other_coordinator.organisation_id, other_coordinator.id)]
    response = client.post("/networks/new", data=network_data(rows))
    assert response.status_code == 302, text(response)[:3000]
    net = only_network()
    assert (net.name, net.school_year, net.active) == ("Пчёлки Bee-Bot", "2026/2027", True)
    assert [(m.organisation_id, m.coordinator_id) for m in net.members] == [
        (people.coordinator.organisation_id, people.coordinator.id),
        (other_coordinator.organisation_id, other_coordinator.id)]
    body = text(client.get(f"/networks/{net.id}"))
    assert "coordinator@example.org" in body and "other-coordinator@example.org" in body


def test_new_form_offers_rows_and_more_rows_keeps_input(client, people, login_as):
    login_as(people.municipal)
    body = text(client.get("/networks/new"))
    assert body.count('class="member-row"') == 4
    data = network_data([(people.coordinator.organisation_id, people.coordinator.id)],
                        name="Мульти-пульти", add_rows="More rows")
    del data["submit"]
    response = client.post("/networks/new", data=data)
    assert response.status_code == 200
    body = text(response)
    assert body.count('class="member-row"') == 4  # one submitted row + three more
    assert 'value="Мульти-пульти"' in body
    assert count(Network) == 0


def test_edit_changes_coordinator_removes_and_adds_members(client, people, network, third,
                                                           make_person, login_as):
    org, ddt = third
    deputy = make_person(Role.ORG_COORDINATOR, people.coordinator.organisation,
                         email="deputy@example.org", password=None)
    login_as(people.municipal)
    page = text(client.get(f"/networks/{network.id}/edit"))
    assert 'value="Растим инженеров"' in page
    rows = [(people.coordinator.organisation_id, deputy.id), (None, None), (org.id, ddt.id)]
    response = client.post(f"/networks/{network.id}/edit",
                           data=network_data(rows, name="Растим инженеров",
                                             school_year="2027-2028"))
    assert response.status_code == 302, text(response)[:3000]
    net = only_network()
    assert net.school_year == "2027/2028"
    assert {(m.organisation_id, m.coordinator_id) for m in net.members} == {
        (people.coordinator.organisation_id, deputy.id), (org.id, ddt.id)}
    assert count(NetworkMember) == 2  # the removed membership is gone, not orphaned


@pytest.mark.parametrize("school_year, message", [
    ("", "School year is required."),
    ("2026", "Write the school year as two years, e.g. 2026/2027."),
    ("2026/2028", "A school year spans two consecutive years"),
    ("2027/2026", "A school year spans two consecutive years"),
    ("abcd/efgh", "Write the school year as two years"),
    ("١٢٣٤/١٢٣٥", "Write the school year as two years"),
    ("1899/1900", "between 2000/2001 and 2099/2100"),
    ("2026/2027" * 1200, "longer than"),
    ("2026' OR '1'='1", "Write the school year as two years"),
])
def test_bad_school_year_is_explained(client, people, other_coordinator, login_as,
                                      school_year, message):
    login_as(people.municipal)
    rows = [(people.coordinator.organisation_id, people.coordinator.id),
            (other_coordinator.organisation_id, other_coordinator.id)]
    response = client.post("/networks/new", data=network_data(rows, school_year=school_year))
    assert response.status_code == 200
    assert message in text(response)
    assert count(Network) == 0


def test_member_rules(client, people, other_coordinator, third, login_as):
    login_as(people.municipal)
    own = people.coordinator.organisation_id
    other = other_coordinator.organisation_id
    org, ddt = third
    cases = [
        ([(own, people.coordinator.id)], "at least two member organisations"),
        ([(own, people.coordinator.id), (own, people.coordinator.id)],
         "listed twice"),
        ([(own, people.coordinator.id), (other, ddt.id)], "does not work in"),
        ([(own, people.coordinator.id), (other, None)], "Choose the member&#39;s coordinator."),
        ([(own, people.coordinator.id), (None, other_coordinator.id)], "Choose the organisation."),
        ([(own, people.coordinator.id), (other, 999999)], "Choose the coordinator from the list."),
        ([(own, people.coordinator.id), ("abc", other_coordinator.id)],
         "Choose an organisation from the list."),
        ([(own, people.coordinator.id), (999999, other_coordinator.id)],
         "Choose an organisation from the list."),
        # A teacher is not offered as a network coordinator.
        ([(own, people.teacher.id), (other, other_coordinator.id)],
         "Choose the coordinator from the list."),
    ]
    for rows, message in cases:
        response = client.post("/networks/new", data=network_data(rows))
        assert response.status_code == 200, rows
        assert message in text(response), (rows, message)
        assert count(Network) == 0


def test_deactivated_member_organisation_is_refused_for_new_networks(
        client, people, other_coordinator, login_as):
    other = other_coordinator.organisation
    other.active = False
    db.session.commit()
    login_as(people.municipal)
    rows = [(people.coordinator.organisation_id, people.coordinator.id),
            (other.id, other_coordinator.id)]
    response = client.post("/networks/new", data=network_data(rows))
    assert response.status_code == 200
    assert "Choose an organisation from the list." in text(response)
    assert count(Network) == 0


def test_name_and_description_are_checked_and_escaped(client, people, other_coordinator,
                                                      login_as):
    login_as(people.municipal)
    rows = [(people.coordinator.organisation_id, people.coordinator.id),
            (other_coordinator.organisation_id, other_coordinator.id)]
    for name, message in (("", "Name is required."), ("Ы" * 10_000, "longer than 300"),
                          ("<script>alert(1)</script>", "may not contain the characters")):
        response = client.post("/networks/new", data=network_data(rows, name=name))
        assert message in text(response)
    response = client.post("/networks/new", data=network_data(rows, description="Я" * 10_000))
    assert "longer than 2000" in text(response)
    assert count(Network) == 0
    description = "<img src=x onerror=alert(1)> '; DROP TABLE network; --"
    response = client.post("/networks/new", data=network_data(rows, description=description))
    assert response.status_code == 302
    net = only_network()
    assert net.description == description
    body = text(client.get(f"/networks/{net.id}"))
    assert "<img src=x" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body


def test_same_name_in_the_same_school_year_is_refused(client, people, network,
                                                      other_coordinator, login_as):
    login_as(people.municipal)
    rows = [(people.coordinator.organisation_id, people.coordinator.id),
            (other_coordinator.organisation_id, other_coordinator.id)]
    response = client.post("/networks/new", data=network_data(rows, name="РАСТИМ ИНЖЕНЕРОВ"))
    assert "already exists for 2026/2027" in text(response)
    response = client.post("/networks/new", data=network_data(
        rows, name="Растим инженеров", school_year="2027/2028"))
    assert response.status_code == 302


def test_bad_edit_changes_nothing(client, people, network, login_as):
    login_as(people.municipal)
    response = client.post(f"/networks/{network.id}/edit", data=network_data(
        [(people.coordinator.organisation_id, people.coordinator.id)], name="Другое"))
    assert response.status_code == 200
    net = fresh(network)
    assert net.name == "Растим инженеров" and len(net.members) == 2


def test_deactivate_and_reactivate(client, people, network, login_as):
    login_as(people.municipal)
    response = client.post(f"/networks/{network.id}/deactivate", follow_redirects=True)
    assert "is deactivated" in text(response)
    assert not fresh(network).active
    assert "Растим инженеров" not in text(client.get("/networks"))
    assert "Растим инженеров" in text(client.get("/networks?inactive=1"))
    assert client.post(f"/networks/{network.id}/reactivate").status_code == 302
    assert fresh(network).active
    assert count(Network) == 1


def test_list_searches_by_name_in_any_case(client, people, network, login_as):
    login_as(people.teacher)
    assert "Растим инженеров" in text(client.get("/networks?q=ИНЖЕНЕР"))
    assert "Растим инженеров" not in text(client.get("/networks?q=мульти"))


def test_detail_links_coordinators_only_for_those_who_may_see_them(client, people, network,
                                                                    other_coordinator,
                                                                    login_as):
    login_as(people.teacher)
    body = text(client.get(f"/networks/{network.id}"))
    assert other_coordinator.email in body  # the network's contacts are shared
    assert f"/people/{other_coordinator.id}" not in body
    assert f"/networks/{network.id}/edit" not in body
