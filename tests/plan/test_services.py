"""The plan's services: items within the school year, versions and approvals, planned against
held, events made from items."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from hub.directory.models import NetworkMember, Role
from hub.extensions import db
from hub.scheduling import plan
from hub.scheduling.calendars import is_visible
from hub.scheduling.models import (
    Event,
    EventFormat,
    EventRole,
    EventStatus,
    PlanApproval,
    PlanItem,
    PlanStatus,
)

from .conftest import fresh, make_event, utc


def _item(network, org, month="2026-10", topic="Семинар-практикум «Образовательная робототехника "
          "в ДОУ»", fmt=EventFormat.SEMINAR_PRACTICUM):  # type: ignore[no-untyped-def]
    item = plan.add_item(network, month=month, topic=topic, format=fmt, responsible=org)
    db.session.commit()
    return item


def _count_items() -> int:
    return db.session.scalar(select(func.count()).select_from(PlanItem))


def test_the_school_year_runs_from_september_to_august(network) -> None:  # type: ignore[no-untyped-def]
    months = plan.school_year_months(network)
    assert months[0] == (2026, 9) and months[3] == (2026, 12)
    assert months[4] == (2027, 1) and months[-1] == (2027, 8)
    assert len(months) == 12
    assert plan.parse_month("2027-05", network) == (2027, 5)
    assert plan.parse_month((2026, 9), network) == (2026, 9)
    assert plan.month_name(2026, 9) == "сентябрь 2026"


@pytest.mark.parametrize("month", ["2026-08", "2027-09", "2026-13", "2026-00", "abc", "", None,
                                   "2026/10", "２０２６-10", "-1-1", "99999-10", "2026-10-01"])
def test_a_month_outside_the_school_year_is_refused(network, people, month) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(plan.PlanError) as error:
        plan.add_item(network, month=month, topic="Круглый стол", format=3,
                      responsible=people.coordinator.organisation)
    assert set(error.value.errors) == {"month"}
    db.session.rollback()
    assert _count_items() == 0


@pytest.mark.parametrize(("topic", "message"), [
    ("", "Topic is required."), ("   \n ", "Topic is required."),
    ("х" * 301, "Topic is longer than 300 characters."),
    ("Вебинар\x00", "Topic contains control characters."),
])
def test_a_topic_must_be_given_and_not_too_long(network, people, topic, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(plan.PlanError) as error:
        plan.add_item(network, month="2026-10", topic=topic, format=1,
                      responsible=people.coordinator.organisation)
    assert error.value.errors == {"topic": message}


def test_a_topic_of_300_characters_with_quotes_and_emoji_is_fine(network, people) -> None:  # type: ignore[no-untyped-def]
    topic = ("Мастер-класс «Создание мультфильмов с детьми»; «кавычки», запятые 🎬 "
             + "я" * 300)[:300]
    item = _item(network, people.coordinator.organisation, topic=topic)
    assert fresh(item).topic == topic


def test_the_responsible_organisation_must_be_a_member(network, people, make_org) -> None:  # type: ignore[no-untyped-def]
    outsider = make_org()
    for value in (outsider, outsider.id, "abc", None, 10**12, -1):
        with pytest.raises(plan.PlanError) as error:
            plan.add_item(network, month="2026-10", topic="Круглый стол", format=3,
                          responsible=value)
        assert "responsible" in error.value.errors
    with pytest.raises(plan.PlanError) as error:
        plan.add_item(network, month="2026-10", topic="Круглый стол", format=99,
                      responsible=outsider)
    assert set(error.value.errors) == {"format", "responsible"}
    db.session.rollback()
    assert _count_items() == 0


def test_items_are_in_month_order(network, people, other_coordinator) -> None:  # type: ignore[no-untyped-def]
    _item(network, people.coordinator.organisation, month="2027-02", topic="Февраль")
    _item(network, other_coordinator.organisation, month="2026-09", topic="Сентябрь")
    _item(network, people.coordinator.organisation, month="2026-12", topic="Декабрь")
    current = plan.plan_of(network)
    assert [i.topic for i in current.items] == ["Сентябрь", "Декабрь", "Февраль"]
    months = plan.plan_progress(current, network).months
    assert [(m.year, m.month) for m in months] == [(2026, 9), (2026, 12), (2027, 2)]


def test_an_item_of_another_network_is_not_found(network, people, other_coordinator) -> None:  # type: ignore[no-untyped-def]
    item = _item(network, people.coordinator.organisation)
    from hub.directory.models import Network

    other = Network(name="Не скучаем вместе", school_year="2026/2027")
    other.members = [NetworkMember(organisation=people.coordinator.organisation,
                                   coordinator=people.coordinator),
                     NetworkMember(organisation=other_coordinator.organisation,
                                   coordinator=other_coordinator)]
    db.session.add(other)
    db.session.commit()
    assert plan.item_of(network, item.id) is item
    assert plan.item_of(other, item.id) is None
    assert plan.item_of(network, "x") is None
    assert plan.item_of(network, 10**9) is None


# --- approvals ----------------------------------------------------------------------------

def test_approval_by_every_member_and_a_new_version_after_a_change(  # type: ignore[no-untyped-def]
        network, people, other_coordinator) -> None:
    item = _item(network, people.coordinator.organisation)
    _item(network, other_coordinator.organisation, month="2026-11", topic="Круглый стол")
    current = plan.plan_of(network)
    assert current.version == 1
    assert plan.plan_status(current, network) == PlanStatus.DRAFT

    # Changes before anyone approved keep the version.
    assert plan.update_item(item, topic="Семинар-практикум «Пчёлки Bee-Bot»")
    db.session.commit()
    assert fresh(current).version == 1

    first = plan.approve(network, people.coordinator, version=1)
    db.session.commit()
    assert (first.person_id, first.version) == (people.coordinator.id, 1)
    assert first.organisation_id == people.coordinator.organisation_id
    assert first.approved_at is not None
    assert plan.plan_status(plan.plan_of(network), network) == PlanStatus.DRAFT
    rows = plan.approval_rows(plan.plan_of(network), network)
    assert [bool(r.approval) for r in rows] == [True, False]

    # Approving twice is harmless.
    again = plan.approve(network, people.coordinator, version=1)
    assert again.id == first.id

    plan.approve(network, other_coordinator)
    db.session.commit()
    assert plan.plan_status(plan.plan_of(network), network) == PlanStatus.APPROVED

    # The same values again: no change, no new version.
    assert not plan.update_item(fresh(item), topic="Семинар-практикум «Пчёлки Bee-Bot»",
                                month=(2026, 10))
    assert fresh(current).version == 1

    # A real change after approval: version 2, asked again; the approvals of 1 stay as history.
    assert plan.update_item(fresh(item), month="2026-12")
    db.session.commit()
    current = plan.plan_of(network)
    assert current.version == 2
    assert plan.plan_status(current, network) == PlanStatus.DRAFT
    rows = plan.approval_rows(current, network)
    assert [r.approval for r in rows] == [None, None]
    assert [r.earlier.version for r in rows] == [1, 1]

    # Further changes while nobody approved version 2 stay in version 2.
    _item(network, people.coordinator.organisation, month="2027-03", topic="Деловая игра")
    assert fresh(current).version == 2

    plan.approve(network, other_coordinator, version=2)
    db.session.commit()
    plan.delete_item(plan.plan_of(network).items[-1])
    db.session.commit()
    assert plan.plan_of(network).version == 3
    assert db.session.scalar(select(func.count()).select_from(PlanApproval)) == 3


def test_only_member_coordinators_approve(network, people) -> None:  # type: ignore[no-untyped-def]
    _item(network, people.coordinator.organisation)
    for outsider in (people.municipal, people.teacher, people.other_teacher):
        with pytest.raises(plan.PlanError):
            plan.approve(network, outsider)
    assert not plan.can_approve_plan(people.municipal, network)
    assert plan.can_approve_plan(people.coordinator, network)


def test_an_empty_plan_cannot_be_approved(network, people) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(plan.PlanError) as error:
        plan.approve(network, people.coordinator)
    assert "no items" in str(error.value)
    assert plan.plan_status(None, network) == PlanStatus.DRAFT


def test_approving_a_version_that_has_changed_is_refused(network, people) -> None:  # type: ignore[no-untyped-def]
    _item(network, people.coordinator.organisation)
    for stale in (2, 0, "abc", "1.0"):
        with pytest.raises(plan.PlanError) as error:
            plan.approve(network, people.coordinator, version=stale)
        assert "has changed" in str(error.value)
    assert db.session.scalar(select(func.count()).select_from(PlanApproval)) == 0


def test_a_new_member_makes_the_plan_unapproved_until_it_approves(  # type: ignore[no-untyped-def]
        network, people, other_coordinator, make_person, make_org) -> None:
    _item(network, people.coordinator.organisation)
    plan.approve(network, people.coordinator)
    plan.approve(network, other_coordinator)
    db.session.commit()
    assert plan.plan_status(plan.plan_of(network), network) == PlanStatus.APPROVED
    newcomer = make_person(Role.ORG_COORDINATOR, make_org(), email="new@example.org")
    network.members.append(NetworkMember(organisation=newcomer.organisation,
                                         coordinator=newcomer))
    db.session.commit()
    assert plan.plan_status(plan.plan_of(network), network) == PlanStatus.DRAFT
    plan.approve(network, newcomer)
    assert plan.plan_status(plan.plan_of(network), network) == PlanStatus.APPROVED


def test_who_may_edit(network, people, other_coordinator, make_person) -> None:  # type: ignore[no-untyped-def]
    assert plan.can_edit_plan(people.municipal, network)
    assert plan.can_edit_plan(people.coordinator, network)
    assert plan.can_edit_plan(other_coordinator, network)
    assert not plan.can_edit_plan(people.teacher, network)
    # A coordinator of an organisation that is not a member.
    stranger = make_person(Role.ORG_COORDINATOR, email="stranger@example.org")
    assert not plan.can_edit_plan(stranger, network)
    network.active = False
    assert not plan.can_edit_plan(people.municipal, network)
    assert not plan.can_approve_plan(people.coordinator, network)


# --- planned against held -------------------------------------------------------------------

def test_planned_against_held(network, people, other_coordinator) -> None:  # type: ignore[no-untyped-def]
    october = _item(network, people.coordinator.organisation, month="2026-10")
    november = _item(network, other_coordinator.organisation, month="2026-11", topic="Вебинар")
    _item(network, people.coordinator.organisation, month="2026-11", topic="Деловая игра")
    now = utc(2026, 11, 20, 12)
    org = [people.coordinator.organisation]
    make_event(start=utc(2026, 10, 14, 12), status=EventStatus.COMPLETED, plan_item=october,
               hosts=org)
    make_event(start=utc(2026, 10, 21, 12), status=EventStatus.SCHEDULED, plan_item=october,
               hosts=org)  # past: held
    make_event(start=utc(2026, 10, 28, 12), status=EventStatus.CANCELLED, plan_item=october,
               hosts=org)
    make_event(start=utc(2026, 11, 25, 12), status=EventStatus.SCHEDULED, plan_item=november,
               hosts=org)  # ahead
    make_event(start=utc(2026, 11, 10, 12), status=EventStatus.DRAFT, plan_item=november,
               hosts=org)  # a draft in the past is not held
    progress = plan.plan_progress(plan.plan_of(network), network, now)
    oct_, nov_ = progress.months
    assert (oct_.planned, oct_.created, oct_.held, oct_.done) == (1, 2, 2, 1)
    assert (nov_.planned, nov_.created, nov_.held, nov_.done) == (2, 1, 0, 0)
    assert [len(i.events) for i in nov_.items] == [2, 0]
    assert (progress.planned, progress.created, progress.held, progress.done) == (3, 3, 2, 1)
    assert progress.percent_done == 33
    assert plan.is_held(oct_.items[0].events[0], now)


def test_deleting_an_item_with_events_is_refused(network, people) -> None:  # type: ignore[no-untyped-def]
    item = _item(network, people.coordinator.organisation)
    live = make_event(start=utc(2026, 10, 14, 12), plan_item=item)
    with pytest.raises(plan.PlanError):
        plan.delete_item(item)
    db.session.rollback()
    assert _count_items() == 1
    live.status = EventStatus.CANCELLED
    db.session.commit()
    plan.delete_item(fresh(item))
    db.session.commit()
    assert _count_items() == 0
    assert fresh(live).plan_item_id is None


# --- events from items ----------------------------------------------------------------------

def test_a_draft_event_is_made_from_an_item(network, people, other_coordinator) -> None:  # type: ignore[no-untyped-def]
    item = _item(network, other_coordinator.organisation, month="2026-11",
                 topic="Круглый стол «Преемственность детского сада и школы»",
                 fmt=EventFormat.ROUND_TABLE)
    event = plan.create_event_from_item(item, people.coordinator, now=utc(2026, 10, 1))
    db.session.commit()
    event = fresh(event)
    assert event.status == EventStatus.DRAFT
    assert event.plan_item_id == item.id and event.network_id == network.id
    assert event.format == EventFormat.ROUND_TABLE
    assert event.title == item.topic
    # In the responsible organisation's zone, on the month's first working day, 15:00 there.
    assert event.timezone == "Asia/Yekaterinburg"
    local = event.start_at.astimezone(ZoneInfo("Asia/Yekaterinburg"))
    assert (local.date(), local.hour) == (date(2026, 11, 2), 15)
    assert event.end_at > event.start_at
    # The responsible organisation hosts it, with the organiser's own (their rule of hosting).
    assert {h.organisation_id for h in event.hosts} == {
        item.responsible_id, people.coordinator.organisation_id}
    assert [(p.person_id, p.role) for p in event.people] == [
        (people.coordinator.id, EventRole.ORGANISER)]
    assert [a.network_id for a in event.audience] == [network.id]
    # A draft: its organiser and the municipal coordinator see it, a teacher does not.
    assert is_visible(event, people.coordinator)
    assert is_visible(event, people.municipal)
    assert not is_visible(event, people.teacher)
    # It shows under the item, but does not count as created or held.
    progress = plan.plan_progress(plan.plan_of(network), network, utc(2026, 12, 31))
    entry = progress.months[0].items[0]
    assert entry.events == [event] and entry.created == 0 and entry.held == 0


def test_a_draft_in_the_current_month_starts_on_a_day_ahead(network, people) -> None:  # type: ignore[no-untyped-def]
    item = _item(network, people.coordinator.organisation, month="2026-11")
    start = plan.draft_start(item, "Europe/Moscow", date(2026, 11, 20))  # a Friday
    assert start.date() == date(2026, 11, 23)
    late = plan.draft_start(item, "Europe/Moscow", date(2026, 11, 30))  # none left
    assert late.date() == date(2026, 11, 2)
    december = _item(network, people.coordinator.organisation, month="2026-12")
    assert plan.draft_start(december, "Asia/Vladivostok", date(2026, 1, 1)) == datetime(
        2026, 12, 1, 15, tzinfo=ZoneInfo("Asia/Vladivostok"))


def test_only_editors_make_events(network, people) -> None:  # type: ignore[no-untyped-def]
    item = _item(network, people.coordinator.organisation)
    with pytest.raises(plan.PlanError):
        plan.create_event_from_item(item, people.teacher)
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0


def test_the_municipal_coordinator_makes_an_event_hosted_by_the_responsible_member(  # type: ignore[no-untyped-def]
        network, people, other_coordinator) -> None:
    item = _item(network, other_coordinator.organisation, month="2027-03")
    event = plan.create_event_from_item(item, people.municipal, now=utc(2026, 11, 22))
    db.session.commit()
    assert [h.organisation_id for h in fresh(event).hosts] == [item.responsible_id]
    assert is_visible(event, other_coordinator)  # the host's coordinator sees the draft
    assert not is_visible(event, people.coordinator)


def test_a_deactivated_responsible_organisation_hosts_no_new_event(  # type: ignore[no-untyped-def]
        network, people, other_coordinator) -> None:
    item = _item(network, other_coordinator.organisation)
    other_coordinator.organisation.active = False
    db.session.commit()
    with pytest.raises(plan.PlanError) as error:
        plan.create_event_from_item(item, people.municipal)
    assert "deactivated" in str(error.value)
