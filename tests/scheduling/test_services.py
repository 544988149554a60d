"""Events through the services: create, publish, edit, cancel, complete; the audience and its
invitations; times in the event's own zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from hub.core.tokens import derive_token, hash_token
from hub.core.types import utcnow
from hub.directory.models import Role
from hub.extensions import db
from hub.scheduling import services
from hub.scheduling.audience import resolve_audience
from hub.scheduling.models import (
    Event,
    EventFormat,
    EventRole,
    EventStatus,
    Invitation,
    InvitationState,
)
from hub.scheduling.spec import SchedulingError

from .conftest import NEXT_YEAR, invited, last_sunday, spec


def test_a_draft_is_saved_in_utc_and_sends_nothing(people, calendar_calls):
    event = services.create_event(people.coordinator, spec(
        timezone="Asia/Vladivostok", host_ids=[people.coordinator.organisation_id],
        audience_organisation_ids=[people.coordinator.organisation_id]))
    db.session.commit()
    assert event.status == EventStatus.DRAFT
    assert event.start_at == datetime(NEXT_YEAR, 2, 10, 5, 0, tzinfo=UTC)  # 15:00 +10
    assert event.end_at - event.start_at == timedelta(minutes=90)
    assert event.timezone == "Asia/Vladivostok"
    assert event.hours == 1.5
    assert [(p.person_id, p.role) for p in event.people] == [
        (people.coordinator.id, EventRole.ORGANISER)]
    assert invited(event) == set()
    assert calendar_calls.log == []


def test_publishing_invites_the_audience_once(people, network, make_person, calendar_calls):
    gone = make_person(Role.TEACHER, people.teacher.organisation, active=False)
    event = services.create_event(people.municipal, spec(
        host_ids=[people.coordinator.organisation_id], audience_network_ids=[network.id],
        speaker_ids=[people.municipal.id]))
    services.publish_event(event)
    db.session.commit()
    expected = {people.coordinator.id, people.teacher.id, people.other_teacher.id,
                network.members[1].coordinator_id, people.municipal.id}
    assert gone.id not in invited(event)
    assert invited(event) == expected
    [(target, ids)] = calendar_calls.of("requests")
    assert target is event and set(ids) == expected
    invitation = db.session.scalar(select(Invitation).where(
        Invitation.person_id == people.teacher.id))
    assert invitation.token_hash == hash_token(derive_token("invitation", invitation.nonce))
    with pytest.raises(SchedulingError):
        services.publish_event(event)


def test_audience_changes_invite_new_people_and_withdraw_removed_ones(people, calendar_calls):
    own, other = people.coordinator.organisation_id, people.other_teacher.organisation_id
    event = services.create_event(people.municipal, spec(
        host_ids=[own], audience_organisation_ids=[own]), publish=True)
    db.session.commit()
    assert invited(event) == {people.coordinator.id, people.teacher.id}
    calendar_calls.clear()

    services.update_event(people.municipal, event, spec(
        host_ids=[own], audience_organisation_ids=[other],
        audience_person_ids=[people.teacher.id]))
    db.session.commit()
    assert invited(event) == {people.other_teacher.id, people.teacher.id}
    assert invited(event, InvitationState.REMOVED) == {people.coordinator.id}
    assert calendar_calls.of("requests") == [(event, [people.other_teacher.id])]
    assert calendar_calls.of("cancellations") == [(event, [people.coordinator.id])]
    assert calendar_calls.of("updates") == []  # nothing the invitation says has changed
    assert event.sequence == 0


def test_a_change_of_time_or_title_raises_the_sequence_and_sends_an_update(
        people, calendar_calls):
    own = people.coordinator.organisation_id
    event = services.create_event(people.coordinator, spec(
        host_ids=[own], audience_organisation_ids=[own]), publish=True)
    calendar_calls.clear()
    services.update_event(people.coordinator, event, spec(
        host_ids=[own], audience_organisation_ids=[own], start_time=time(16),
        end_time=time(17)))
    assert event.sequence == 1
    assert calendar_calls.kinds() == ["updates"]
    services.update_event(people.coordinator, event, spec(
        host_ids=[own], audience_organisation_ids=[own], start_time=time(16),
        end_time=time(17), title="Новое название"))
    assert event.sequence == 2
    services.update_event(people.coordinator, event, spec(
        host_ids=[own], audience_organisation_ids=[own], start_time=time(16),
        end_time=time(17), title="Новое название", capacity=50))
    assert event.sequence == 2


def test_cancel_and_complete(people, calendar_calls):
    own = people.coordinator.organisation_id
    event = services.create_event(people.coordinator, spec(host_ids=[own]), publish=True)
    with pytest.raises(SchedulingError):
        services.complete_event(event)  # not started yet
    services.cancel_event(event)
    assert event.status == EventStatus.CANCELLED and event.sequence == 1
    assert calendar_calls.of("event_cancelled") == [(event, [])]
    with pytest.raises(SchedulingError):
        services.cancel_event(event)
    with pytest.raises(SchedulingError):
        services.update_event(people.coordinator, event, spec(host_ids=[own]))

    started = services.create_event(people.coordinator, spec(host_ids=[own]), publish=True)
    started.start_at = utcnow() - timedelta(hours=1)
    started.end_at = utcnow() + timedelta(hours=1)
    services.complete_event(started)
    assert started.status == EventStatus.COMPLETED


def test_a_draft_cancelled_tells_nobody(people, calendar_calls):
    event = services.create_event(people.coordinator, spec(
        host_ids=[people.coordinator.organisation_id],
        audience_organisation_ids=[people.coordinator.organisation_id]))
    services.cancel_event(event)
    assert event.status == EventStatus.CANCELLED
    assert calendar_calls.log == []


def test_resolving_a_5000_person_audience_is_a_few_queries(people, make_org, calendar_calls):
    from hub.directory.models import Category, Person

    orgs = [make_org() for _ in range(5)]
    db.session.add_all([
        Person(surname="Педагог", first_name="Номер", email=f"t{n}@example.org",
               organisation=orgs[n % 5], category=Category.NONE, role=Role.TEACHER)
        for n in range(5000)])
    db.session.commit()
    statements: list[str] = []
    from sqlalchemy import event as sa_event

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event = services.create_event(people.municipal, spec(
        host_ids=[people.coordinator.organisation_id],
        audience_organisation_ids=[o.id for o in orgs]))
    services.publish_event(event)
    db.session.commit()
    sa_event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert len(resolve_audience(event)) == 5000
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) <= 3
    assert db.session.scalar(select(func.count(Invitation.id))) == 5000


def test_a_5000_person_audience_is_allowed_and_a_larger_one_refused(
        people, make_org, calendar_calls, monkeypatch):
    from hub.directory.models import Category, Person
    from hub.scheduling import spec as spec_module

    org = make_org()
    db.session.add_all([
        Person(surname="Педагог", first_name="Номер", email=f"p{n}@example.org",
               organisation=org, category=Category.NONE, role=Role.TEACHER)
        for n in range(5000)])
    db.session.commit()
    clean = spec_module.clean_spec(spec(host_ids=[org.id], audience_organisation_ids=[org.id]),
                                   people.municipal)
    assert clean.audience_size == 5000
    warnings = services.warnings_for(people.municipal, clean)
    assert warnings.large_audience
    monkeypatch.setattr(spec_module, "AUDIENCE_MAX", 4999)
    with pytest.raises(SchedulingError) as error:
        spec_module.clean_spec(spec(host_ids=[org.id], audience_organisation_ids=[org.id]),
                               people.municipal)
    assert "5000" in error.value.errors["audience_organisations"]


@pytest.mark.parametrize(("values", "field", "words"), [
    ({"end_time": time(14)}, "end_time", "after the start"),
    ({"end_time": time(15)}, "end_time", "after the start"),
    ({"end_date": date(NEXT_YEAR, 2, 9), "end_time": time(18)}, "end_date", "after the start"),
    ({"end_date": date(NEXT_YEAR, 4, 1)}, "end_date", "at most"),
    ({"timezone": "Europe/Berlin", "start_date": last_sunday(NEXT_YEAR, 3),
      "start_time": time(2, 30), "end_time": time(4)}, "start_time", "does not exist"),
    ({"timezone": "Mars/Olympus"}, "timezone", "time zone"),
    ({"title": "   "}, "title", "required"),
    ({"title": "x" * 301}, "title", "longer than 300"),
    ({"title": "a\x00b"}, "title", "control characters"),
    ({"description": "x" * 20_001}, "description", "longer than"),
    ({"format": 99}, "format", "format"),
    ({"host_ids": []}, "hosts", "at least one"),
    ({"host_ids": [999_999]}, "hosts", "from the list"),
    ({"network_id": 999_999}, "network_id", "from the list"),
    ({"speaker_ids": [999_999]}, "speakers", "unknown"),
    ({"audience_organisation_ids": [999_999]}, "audience_organisations", "from the list"),
    ({"capacity": 0}, "capacity", "Places"),
    ({"credit_hours": -1.0}, "credit_hours", "Credit hours"),
    ({"reminder_minutes": "soon"}, "reminder_minutes", "not a number"),
    ({"reminder_minutes": "1,2,3,4,5,6"}, "reminder_minutes", "At most"),
    ({"start_date": date(9999, 12, 31)}, "start_date", "between"),
    ({"start_date": date(1, 1, 1)}, "start_date", "between"),
])
def test_bad_input_is_refused_with_the_field_and_reason(people, values, field, words):
    values.setdefault("host_ids", [people.coordinator.organisation_id])
    with pytest.raises(SchedulingError) as error:
        services.create_event(people.coordinator, spec(**values))
    assert words in error.value.errors[field], error.value.errors
    assert db.session.scalar(select(func.count(Event.id))) == 0


def test_an_ambiguous_time_means_the_first_one(people):
    # The last Sunday of October: 02:30 happens twice in Berlin; the first is still CEST (+2).
    event = services.create_event(people.municipal, spec(
        timezone="Europe/Berlin", start_date=last_sunday(NEXT_YEAR, 10), start_time=time(2, 30),
        end_time=time(3, 30), host_ids=[people.coordinator.organisation_id]))
    day = last_sunday(NEXT_YEAR, 10)
    assert event.start_at == datetime.combine(day, time(0, 30), tzinfo=UTC)
    assert event.end_at == datetime.combine(day, time(2, 30), tzinfo=UTC)


@pytest.mark.parametrize("title", [
    'Круглый стол "Преемственность"; часть 1, вводная',
    "Мастер-класс «Создание мультфильмов с детьми» 🎬🎨",
    "Ё" * 300,
    "Pipes | backslashes \\ and commas, semicolons; colons: “quotes”",
])
def test_titles_are_kept_as_written(people, title):
    event = services.create_event(people.coordinator, spec(
        title=title, host_ids=[people.coordinator.organisation_id]))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Event, event.id).title == title


def test_the_description_is_sanitised(people):
    event = services.create_event(people.coordinator, spec(
        host_ids=[people.coordinator.organisation_id],
        description='<p onclick="steal()">План <strong>встречи</strong>'
                    '<script>alert(1)</script></p><img src=x onerror=alert(1)>'
                    '<a href="javascript:alert(1)">плохая</a> '
                    '<a href="https://example.org/plan" target="_blank">план</a>'
                    '<iframe src="https://evil.example"></iframe>'))
    html = event.description_html
    for bad in ("script", "onclick", "onerror", "<img", "javascript:", "iframe", "target"):
        assert bad not in html
    assert '<a href="https://example.org/plan" rel="noopener">план</a>' in html
    assert "<strong>встречи</strong>" in html


def test_plain_text_descriptions_become_paragraphs(people):
    event = services.create_event(people.coordinator, spec(
        host_ids=[people.coordinator.organisation_id],
        description="Первая строка\nвторая < третьей & четвёртой\n\nНовый абзац"))
    assert event.description_html == (
        "<p>Первая строка<br>вторая &lt; третьей &amp; четвёртой</p><p>Новый абзац</p>")


def test_an_organisation_coordinator_hosts_with_their_own_organisation(people):
    own, other = people.coordinator.organisation_id, people.other_teacher.organisation_id
    with pytest.raises(SchedulingError) as error:
        services.create_event(people.coordinator, spec(host_ids=[other]))
    assert "Your organisation" in error.value.errors["hosts"]
    event = services.create_event(people.coordinator, spec(host_ids=[own, other]))
    assert {h.organisation_id for h in event.hosts} == {own, other}
    assert services.create_event(people.municipal, spec(host_ids=[other])).id


def test_a_deactivated_host_stays_on_old_events_but_hosts_no_new_ones(people):
    own = people.coordinator.organisation
    event = services.create_event(people.municipal, spec(host_ids=[own.id]))
    own.active = False
    db.session.commit()
    services.update_event(people.municipal, event, spec(host_ids=[own.id], title="Другое"))
    with pytest.raises(SchedulingError):
        services.create_event(people.municipal, spec(host_ids=[own.id]))


def test_visibility(people, network, other_coordinator, make_person, calendar_calls):
    own, other = people.coordinator.organisation_id, people.other_teacher.organisation_id
    stranger = make_person(Role.TEACHER)
    draft = services.create_event(people.coordinator, spec(host_ids=[own], title="Черновик"))
    own_event = services.create_event(people.coordinator, spec(host_ids=[own], title="Своё"),
                                      publish=True)
    network_event = services.create_event(other_coordinator, spec(
        host_ids=[other], audience_network_ids=[network.id], title="Сети"), publish=True)
    open_event = services.create_event(other_coordinator, spec(
        host_ids=[other], open_registration=True, title="Открытое"), publish=True)
    private = services.create_event(other_coordinator, spec(
        host_ids=[other], title="Чужое"), publish=True)
    db.session.commit()

    def titles(person):  # type: ignore[no-untyped-def]
        return {e.title for e in db.session.scalars(services.visible_events(person))}

    everything = {"Черновик", "Своё", "Сети", "Открытое", "Чужое"}
    assert titles(people.municipal) == everything
    assert titles(people.coordinator) == {"Черновик", "Своё", "Сети", "Открытое"}
    assert titles(people.teacher) == {"Своё", "Сети", "Открытое"}
    assert titles(stranger) == {"Открытое"}
    assert titles(other_coordinator) == {"Сети", "Открытое", "Чужое"}

    from hub.auth.permissions import can_edit_event, can_view_event

    assert can_view_event(people.coordinator, draft) and not can_view_event(people.teacher, draft)
    assert can_view_event(people.teacher, own_event)
    assert can_view_event(people.teacher, network_event)
    assert can_view_event(stranger, open_event) and not can_view_event(stranger, private)
    assert can_edit_event(people.coordinator, own_event)
    assert not can_edit_event(people.coordinator, network_event)
    assert not can_edit_event(people.teacher, own_event)
    assert can_edit_event(people.municipal, private)


def test_filters_and_past_events(people, calendar_calls):
    own = people.coordinator.organisation_id
    services.create_event(people.coordinator, spec(host_ids=[own], title="Вебинар"),
                          publish=True)
    services.create_event(people.coordinator, spec(
        host_ids=[own], title="Круглый стол", format=EventFormat.ROUND_TABLE), publish=True)
    past = services.create_event(people.coordinator, spec(host_ids=[own], title="Прошлое"),
                                 publish=True)
    past.start_at = utcnow() - timedelta(days=2)
    past.end_at = past.start_at + timedelta(hours=1)
    db.session.commit()
    upcoming = [e.title for e in db.session.scalars(services.visible_events(people.teacher))]
    assert upcoming == ["Вебинар", "Круглый стол"]
    assert [e.title for e in db.session.scalars(services.visible_events(
        people.teacher, event_format=EventFormat.ROUND_TABLE))] == ["Круглый стол"]
    assert [e.title for e in db.session.scalars(services.visible_events(
        people.teacher, past=True))] == ["Прошлое"]
    assert list(db.session.scalars(services.visible_events(
        people.teacher, organisation_id=people.other_teacher.organisation_id))) == []


@pytest.mark.parametrize("typed", [
    "Первая строка\nвторая\n\nабзац",
    "Скобки <b> как текст & амперсанд",
    "<p>Уже <strong>HTML</strong></p><ul><li>пункт</li></ul>",
])
def test_a_description_reads_back_the_same_in_the_edit_form(people, typed):
    from hub.scheduling.forms import editable_description
    from hub.scheduling.validation import sanitize_description

    stored = sanitize_description(typed)
    assert sanitize_description(editable_description(stored)) == stored
