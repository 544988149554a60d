"""The plan's pages as a coordinator, a municipal coordinator and a teacher use them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from hub.extensions import db
from hub.scheduling import plan
from hub.scheduling.models import (
    Event,
    EventFormat,
    EventStatus,
    PlanApproval,
    PlanItem,
)

from .conftest import fresh, make_event, text, utc


def _add(client, network, org, **overrides):  # type: ignore[no-untyped-def]
    data = {"month": "2026-10", "topic": "Семинар-практикум «Образовательная робототехника в ДОУ»",
            "format": str(int(EventFormat.SEMINAR_PRACTICUM)), "responsible": str(org.id)}
    data.update(overrides)
    return client.post(f"/networks/{network.id}/plan/items", data=data)


def _items() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(PlanItem))


def test_a_coordinator_plans_and_both_members_approve(  # type: ignore[no-untyped-def]
        app, network, people, other_coordinator, login_as) -> None:
    client = login_as(people.coordinator)
    page = text(client.get(f"/networks/{network.id}/plan"))
    assert "The plan has no items yet." in page
    assert 'name="topic"' in page

    response = _add(client, network, other_coordinator.organisation)
    assert response.status_code == 302
    item = db.session.scalar(select(PlanItem))
    assert response.headers["Location"].endswith(f"/networks/{network.id}/plan#item-{item.id}")
    _add(client, network, people.coordinator.organisation, month="2027-01",
         topic="Круглый стол «Преемственность детского сада и школы»",
         format=str(int(EventFormat.ROUND_TABLE)))
    page = text(client.get(f"/networks/{network.id}/plan"))
    assert "October 2026" in page and "January 2027" in page
    assert "Образовательная робототехника в ДОУ" in page
    assert page.index("October 2026") < page.index("January 2027")
    assert "Awaiting approval" in page
    assert "Approve version 1 for" in page
    assert "Not yet approved" in page

    response = client.post(f"/networks/{network.id}/plan/approve", data={"version": "1"})
    assert response.status_code == 302
    page = text(client.get(f"/networks/{network.id}/plan"))
    assert "You approved version 1" in page
    assert "Approved by 1 of 2 members" in page

    other = app.test_client()
    other.post("/login", data={"email": other_coordinator.email,
                               "password": "correct horse battery staple"})
    other.post(f"/networks/{network.id}/plan/approve", data={"version": "1"})
    page = text(client.get(f"/networks/{network.id}/plan"))
    assert "Approved by 2 of 2 members" in page
    assert re.search(r'class="badge good big">\s*Approved', page)

    # A change after approval: version 2, everyone asked again.
    response = client.post(f"/networks/{network.id}/plan/items/{item.id}/edit", data={
        "month": "2026-11", "topic": item.topic, "format": str(int(item.format)),
        "responsible": str(item.responsible_id)})
    assert response.status_code == 302
    page = text(client.get(f"/networks/{network.id}/plan"))
    assert "The plan is now version 2" in page
    assert "Approve version 2 for" in page
    assert "approved version 1 on" in page
    assert "Approved by 0 of 2 members" in page


def test_the_approval_of_a_version_not_seen_is_refused(network, people, login_as) -> None:  # type: ignore[no-untyped-def]
    plan.add_item(network, month="2026-10", topic="Вебинар", format=1,
                  responsible=people.coordinator.organisation)
    db.session.commit()
    client = login_as(people.coordinator)
    for version in ("2", "", "x" * 500, "-1"):
        response = client.post(f"/networks/{network.id}/plan/approve", data={"version": version})
        assert response.status_code == 302
    page = text(client.get(f"/networks/{network.id}/plan"))
    assert "The plan has changed since you opened it" in page
    assert db.session.scalar(select(func.count()).select_from(PlanApproval)) == 0


@pytest.mark.parametrize(("field", "value", "message"), [
    ("month", "2027-09", "Choose a month of the school year from the list."),
    ("month", "", "Choose a month of the school year from the list."),
    ("topic", "", "Topic is required."),
    ("topic", "т" * 301, "Topic is longer than 300 characters."),
    ("topic", "NUL\x00", "Topic contains control characters."),
    ("format", "99", "Choose a format from the list."),
    ("format", "abc", "Choose a format from the list."),
    ("responsible", "999999", "Choose a member organisation from the list."),
    ("responsible", "1e9", "Choose a member organisation from the list."),
])
def test_bad_input_is_explained_and_nothing_is_saved(  # type: ignore[no-untyped-def]
        network, people, login_as, field, value, message) -> None:
    client = login_as(people.coordinator)
    response = _add(client, network, people.coordinator.organisation, **{field: value})
    assert response.status_code == 200
    page = text(response)
    assert "Nothing has been saved" in page
    assert message in page
    assert _items() == 0


def test_an_organisation_outside_the_network_is_refused(  # type: ignore[no-untyped-def]
        network, people, login_as, make_org) -> None:
    outsider = make_org()
    client = login_as(people.municipal)
    response = _add(client, network, outsider)
    assert response.status_code == 200
    assert "Choose a member organisation from the list." in text(response)
    assert _items() == 0


def test_tampered_ids_are_not_found(network, people, login_as, make_org) -> None:  # type: ignore[no-untyped-def]
    from hub.directory.models import Network, NetworkMember

    item = plan.add_item(network, month="2026-10", topic="Вебинар", format=1,
                         responsible=people.coordinator.organisation)
    other = Network(name="Не скучаем вместе", school_year="2026/2027")
    other.members = [NetworkMember(organisation=people.coordinator.organisation,
                                   coordinator=people.coordinator),
                     NetworkMember(organisation=people.other_teacher.organisation,
                                   coordinator=people.other_teacher)]
    db.session.add(other)
    db.session.commit()
    client = login_as(people.coordinator)
    # The item belongs to another network's plan.
    for method, path in (("GET", f"/networks/{other.id}/plan/items/{item.id}/edit"),
                         ("POST", f"/networks/{other.id}/plan/items/{item.id}/edit"),
                         ("POST", f"/networks/{other.id}/plan/items/{item.id}/delete"),
                         ("POST", f"/networks/{other.id}/plan/items/{item.id}/event"),
                         ("GET", f"/networks/{network.id}/plan/items/999999/edit"),
                         ("GET", "/networks/999999/plan"),
                         ("GET", "/networks/999999/plan.xlsx")):
        assert client.open(path, method=method).status_code == 404, path
    assert fresh(item).plan.network_id == network.id


def test_editing_an_item_with_bad_values_keeps_it(network, people, login_as) -> None:  # type: ignore[no-untyped-def]
    item = plan.add_item(network, month="2026-10", topic="Вебинар", format=1,
                         responsible=people.coordinator.organisation)
    db.session.commit()
    client = login_as(people.coordinator)
    page = text(client.get(f"/networks/{network.id}/plan/items/{item.id}/edit"))
    assert re.search(r'<option selected value="2026-10">', page)
    response = client.post(f"/networks/{network.id}/plan/items/{item.id}/edit", data={
        "month": "2026-08", "topic": "", "format": "1",
        "responsible": str(people.coordinator.organisation_id)})
    assert response.status_code == 200
    assert "Topic is required." in text(response)
    assert (fresh(item).topic, fresh(item).month) == ("Вебинар", 10)


def test_delete_an_item(network, people, login_as) -> None:  # type: ignore[no-untyped-def]
    kept = plan.add_item(network, month="2026-10", topic="С мероприятием", format=1,
                         responsible=people.coordinator.organisation)
    gone = plan.add_item(network, month="2026-11", topic="Лишний пункт", format=1,
                         responsible=people.coordinator.organisation)
    db.session.commit()
    make_event(start=utc(2026, 10, 5, 10), plan_item=kept)
    client = login_as(people.coordinator)
    assert client.post(f"/networks/{network.id}/plan/items/{gone.id}/delete").status_code == 302
    response = client.post(f"/networks/{network.id}/plan/items/{kept.id}/delete",
                           follow_redirects=True)
    assert "change the item instead of deleting it" in text(response)
    assert _items() == 1


def test_create_event_from_an_item(network, people, login_as) -> None:  # type: ignore[no-untyped-def]
    item = plan.add_item(network, month="2026-12", topic="Мастер-класс «Создание мультфильмов "
                         "с детьми»", format=int(EventFormat.MASTER_CLASS),
                         responsible=people.coordinator.organisation)
    db.session.commit()
    client = login_as(people.coordinator)
    response = client.post(f"/networks/{network.id}/plan/items/{item.id}/event")
    assert response.status_code == 302
    event = db.session.scalar(select(Event))
    assert event.plan_item_id == item.id and event.status == EventStatus.DRAFT
    assert event.created_by_id == people.coordinator.id
    # To the event's edit page when the scheduling pages have one, else back to the plan.
    location = response.headers["Location"]
    assert location.endswith((f"/events/{event.id}/edit", f"/events/{event.id}",
                              f"/plan#item-{item.id}"))
    page = text(client.get(f"/networks/{network.id}/plan"))
    assert f'href="/events/{event.id}"' in page and "Draft" in page
    # A teacher of the network does not see the draft's link.
    teacher = login_as(people.teacher)
    assert f'href="/events/{event.id}"' not in text(teacher.get(f"/networks/{network.id}/plan"))


def test_a_teacher_reads_the_plan_but_does_not_change_it(network, people, login_as) -> None:  # type: ignore[no-untyped-def]
    item = plan.add_item(network, month="2026-10", topic="Вебинар для родителей «Чем занять "
                         "ребёнка дома»", format=1, responsible=people.coordinator.organisation)
    db.session.commit()
    client = login_as(people.teacher)
    page = text(client.get(f"/networks/{network.id}/plan"))
    assert "Чем занять ребёнка дома" in page
    assert 'name="topic"' not in page
    assert "Approve version" not in page
    assert "Create event" not in page
    assert _add(client, network, people.coordinator.organisation).status_code == 403
    assert client.post(f"/networks/{network.id}/plan/approve").status_code == 403
    assert client.post(f"/networks/{network.id}/plan/items/{item.id}/event").status_code == 403
    assert _items() == 1


def test_an_inactive_network_plan_is_read_only(network, people, login_as) -> None:  # type: ignore[no-untyped-def]
    plan.add_item(network, month="2026-10", topic="Вебинар", format=1,
                  responsible=people.coordinator.organisation)
    network.active = False
    db.session.commit()
    client = login_as(people.municipal)
    page = text(client.get(f"/networks/{network.id}/plan"))
    assert 'name="topic"' not in page
    assert _add(client, network, people.coordinator.organisation).status_code == 403


def test_links_from_the_network_page(network, people, login_as) -> None:  # type: ignore[no-untyped-def]
    client = login_as(people.teacher)
    page = text(client.get(f"/networks/{network.id}"))
    assert f'href="/networks/{network.id}/plan"' in page
    assert f'href="/networks/{network.id}/calendar"' in page


def test_an_event_that_cannot_be_made_is_explained(network, people, login_as) -> None:  # type: ignore[no-untyped-def]
    item = plan.add_item(network, month="2026-12", topic="Мастер-класс", format=4,
                         responsible=people.other_teacher.organisation)
    people.other_teacher.organisation.active = False
    db.session.commit()
    client = login_as(people.municipal)
    response = client.post(f"/networks/{network.id}/plan/items/{item.id}/event",
                           follow_redirects=True)
    assert response.status_code == 200
    assert "A deactivated organisation cannot host new events." in text(response)
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0
