"""The events pages from the browser's side: the form (single events, series, programs), bad
input, warnings, the event page, registration and the waiting list."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from hub.core.types import utcnow
from hub.directory.models import Role
from hub.extensions import db
from hub.scheduling import services
from hub.scheduling.models import (
    Event,
    EventRole,
    EventStatus,
    Invitation,
    InvitationState,
    PartStat,
    Series,
)

from .conftest import NEXT_YEAR, form_data, invited, last_sunday, spec, text

NEXT_YEAR_TEXT = str(NEXT_YEAR)


def count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def only_event() -> Event:
    db.session.expire_all()
    return db.session.scalar(select(Event))


@pytest.fixture
def coordinator(people, login_as):  # type: ignore[no-untyped-def]
    return login_as(people.coordinator)


def own(people) -> str:  # type: ignore[no-untyped-def]
    return str(people.coordinator.organisation_id)


def test_the_new_event_form_starts_from_sensible_defaults(coordinator, people):
    page = text(coordinator.get("/events/new"))
    assert 'name="title"' in page and 'name="start_date"' in page
    assert re.search(r'<option selected value="Europe/Moscow">|'
                     r'<option value="Europe/Moscow" selected', page)
    assert re.search(rf'<option selected value="{own(people)}">', page)
    assert 'value="15:00"' in page and 'value="16:30"' in page


def test_a_coordinator_creates_a_draft_then_publishes_it(coordinator, people, calendar_calls):
    response = coordinator.post("/events/new", data=form_data(
        hosts=[own(people)], audience_organisations=[own(people)],
        speakers=f"Попова Мария <{people.teacher.email}>"))
    assert response.status_code == 302, text(response)[:3000]
    event = only_event()
    assert response.headers["Location"] == f"/events/{event.id}"
    assert event.status == EventStatus.DRAFT and calendar_calls.log == []
    assert [(p.person_id, p.role) for p in event.people if p.role == EventRole.SPEAKER] == [
        (people.teacher.id, EventRole.SPEAKER)]
    assert event.description_html == ("<p>Программа: Bee-Bot, LEGO.</p>"
                                       "<p>Ведущие — педагоги ДОУ.</p>")
    page = text(coordinator.get(f"/events/{event.id}"))
    assert "only the organisers see it" in page
    assert "Семинар-практикум «Образовательная робототехника в ДОУ»" in page.replace(
        "&#34;", '"')

    response = coordinator.post(f"/events/{event.id}/publish")
    assert response.status_code == 302
    event = only_event()
    assert event.status == EventStatus.SCHEDULED
    assert invited(event) == {people.coordinator.id, people.teacher.id}
    page = text(coordinator.get(f"/events/{event.id}"))
    assert "on their way" in page
    assert f'href="/events/{event.id}.ics"' in page
    assert "No answer yet: 2" in page


def test_publishing_from_the_form_sends_invitations(coordinator, people, calendar_calls):
    response = coordinator.post("/events/new", data=form_data(
        hosts=[own(people)], audience_organisations=[own(people)], save="", publish="1"))
    assert response.status_code == 302
    event = only_event()
    assert event.status == EventStatus.SCHEDULED
    assert [target.id for target, _ids in calendar_calls.of("requests")] == [event.id]


def test_times_show_in_the_viewers_zone_and_the_events_own(people, login_as):
    event = services.create_event(people.coordinator, spec(
        timezone="Asia/Vladivostok", host_ids=[people.coordinator.organisation_id],
        audience_person_ids=[people.other_teacher.id]), publish=True)
    db.session.commit()
    client = login_as(people.other_teacher)  # in Asia/Yekaterinburg
    page = text(client.get(f"/events/{event.id}")).replace("\u202f", " ")
    assert "10:00 AM–11:30 AM (Asia/Yekaterinburg)" in page
    assert "Event's own time: Wednesday, February 10, 2027, 3:00 PM–4:30 PM (Asia/Vladivostok)" \
        in page.replace(NEXT_YEAR_TEXT, "2027")
    listing = text(client.get("/events")).replace("\u202f", " ")
    assert "Times in Asia/Yekaterinburg" in listing and "10:00 AM–11:30 AM" in listing


@pytest.mark.parametrize(("changes", "message"), [
    ({"end_time": "14:00"}, "The end must be after the start."),
    ({"timezone": "Europe/Berlin", "start_date": last_sunday(NEXT_YEAR, 3).isoformat(),
      "start_time": "02:30", "end_time": "04:00"}, "does not exist in Europe/Berlin"),
    ({"start_date": "31.02.2027"}, "Not a valid date value"),
    ({"start_date": ""}, "Give the date."),
    ({"start_time": "25:99"}, "Not a valid time value"),
    ({"title": "Я" * 10_000}, "longer than 300 characters"),
    ({"title": ""}, "Title is required"),
    ({"description": "x" * 20_001}, "longer than 20000 characters"),
    ({"hosts": ["abc"]}, "Choose values from the list."),
    ({"hosts": ["999999"]}, "Choose values from the list."),
    ({"hosts": []}, "Choose at least one host organisation."),
    ({"format": "77"}, "Choose a value from the list."),
    ({"timezone": "Mars/Base"}, "Choose a time zone from the list."),
    ({"network_id": "-5"}, "Choose a network from the list."),
    ({"audience_organisations": ["1", "x"]}, "Choose values from the list."),
    ({"speakers": "nobody@example.org"}, "Nobody in the hub has these addresses"),
    ({"audience_people": "not an address"}, "Not an email address"),
    ({"capacity": "-3"}, "Places"),
    ({"capacity": "1e9"}, "Not a valid integer value"),
    ({"credit_hours": "NaN"}, "Credit hours"),
    ({"credit_hours": "1e400"}, "Credit hours"),
    ({"reminder_minutes": "вчера"}, "not a number"),
    ({"repeat": "YEARLY"}, "Not a valid choice"),
    ({"repeat": "WEEKLY", "ends": "until", "until": ""}, "Give the last date of the series."),
    ({"repeat": "WEEKLY", "count": "5000"}, "Number must be between 1 and 200"),
    ({"repeat": "WEEKLY", "ends": "until", "until": f"{NEXT_YEAR + 5}-01-01"}, "two years"),
    ({"repeat": "WEEKLY", "weekdays": ["0", "1", "2", "3", "4", "5", "6"], "ends": "until",
      "until": f"{NEXT_YEAR + 1}-12-31"}, "more than 200 sessions"),
    ({"repeat": "WEEKLY", "weekdays": ["9"]}, "Choose weekdays from the list."),
    ({"repeat": "WEEKLY", "count": "3", "is_program": "y", "cohort": "a@b"},
     "Not an email address"),
])
def test_bad_input_is_explained_and_nothing_is_saved(coordinator, people, changes, message):
    data = form_data(hosts=[own(people)], count="5")
    data.update(changes)
    response = coordinator.post("/events/new", data=data)
    assert response.status_code == 200
    page = text(response).replace("&#34;", '"').replace("&#39;", "'")
    assert message in page, re.findall(r'class="error"[^>]*>([^<]*)<', page)
    assert "Nothing has been saved" in page
    assert count(Event) == 0 and count(Series) == 0


def test_odd_titles_and_hostile_descriptions(coordinator, people):
    title = 'Круглый стол "Преемственность": детский сад, школа; семья 👨‍👩‍👧 ' + "ё" * 230
    title = title[:300]
    response = coordinator.post("/events/new", data=form_data(
        hosts=[own(people)], title=title,
        description="<p>План</p><script>document.location='https://evil.example'</script>"
                    '<a href="javascript:alert(1)" onclick="x()">ссылка</a>'
                    '<a href="https://example.org/">сайт</a>' + "я" * 10_000))
    assert response.status_code == 302
    event = only_event()
    assert event.title == title
    page = text(coordinator.get(f"/events/{event.id}"))
    assert "<script>document" not in page and "javascript:" not in page
    assert 'onclick="x()"' not in page
    assert '<a href="https://example.org/" rel="noopener">сайт</a>' in page


def test_a_weekly_series_from_the_form(coordinator, people, calendar_calls):
    first = date(NEXT_YEAR, 2, 10)
    response = coordinator.post("/events/new", data=form_data(
        hosts=[own(people)], audience_organisations=[own(people)], start_date=first.isoformat(),
        repeat="WEEKLY", weekdays=[str(first.weekday()), str((first.weekday() + 2) % 7)],
        interval="2", ends="count", count="6", save="", publish="1"))
    assert response.status_code == 302, re.findall(r'class="error"[^>]*>([^<]*)<',
                                                   text(response))
    series = db.session.scalar(select(Series))
    assert len(series.events) == 6
    assert series.rrule.startswith("FREQ=WEEKLY;INTERVAL=2;BYDAY=")
    [(target, ids)] = calendar_calls.of("requests")
    assert target.id == series.id and len(ids) == 12
    page = text(coordinator.get(response.headers["Location"]))
    assert "Session 1 of 6" in page
    series_page = text(coordinator.get(f"/series/{series.id}"))
    assert "Every 2 weeks on" in series_page and series_page.count("<li") >= 6


def test_a_monthly_series_defaults_to_the_weekday_of_the_start(coordinator, people):
    first = date(NEXT_YEAR, 2, 10)
    response = coordinator.post("/events/new", data=form_data(
        hosts=[own(people)], start_date=first.isoformat(), repeat="MONTHLY", ends="until",
        until=f"{NEXT_YEAR}-06-30"))
    assert response.status_code == 302
    series = db.session.scalar(select(Series))
    nth = (first.day - 1) // 7 + 1
    assert f"BYDAY={nth if nth < 5 else -1}{'MOTUWETHFRSASU'[2 * first.weekday():][:2]}" in (
        series.rrule)
    assert [e.start_at.month for e in sorted(series.events, key=lambda e: e.start_at)] == [
        2, 3, 4, 5, 6]


def test_a_program_with_its_cohort_from_the_form(coordinator, people, make_person):
    mentor = make_person(Role.TEACHER, people.coordinator.organisation, email="mentor@example.org")
    intern = make_person(Role.TEACHER, people.coordinator.organisation, email="intern@example.org")
    response = coordinator.post("/events/new", data=form_data(
        hosts=[own(people)], title="Цифровая педагогическая интернатура", repeat="WEEKLY",
        count="4", is_program="y", cohort="mentor@example.org — intern@example.org\n",
        save="", publish="1"))
    assert response.status_code == 302
    series = db.session.scalar(select(Series))
    assert series.is_program and len(series.cohort) == 2
    assert all(invited(e) == {mentor.id, intern.id} for e in series.events)
    edit = text(coordinator.get(f"/events/{series.events[0].id}/edit"))
    assert "mentor@example.org, intern@example.org" in edit
    page = text(coordinator.get(f"/series/{series.id}"))
    assert "Cohort" in page and "Intern" in page


def test_editing_a_session_with_each_scope_from_the_form(coordinator, people, calendar_calls):
    first = date(NEXT_YEAR, 2, 10)
    coordinator.post("/events/new", data=form_data(
        hosts=[own(people)], start_date=first.isoformat(), repeat="WEEKLY", count="4",
        save="", publish="1"))
    series = db.session.scalar(select(Series))
    sessions = sorted(series.events, key=lambda e: e.start_at)
    edit = text(coordinator.get(f"/events/{sessions[1].id}/edit"))
    assert "This and the following sessions" in edit
    last = (first + timedelta(weeks=3)).isoformat()
    assert f'value="{last}"' in edit  # the rule's end, shown as its last date

    base = form_data(hosts=[own(people)], repeat="WEEKLY", ends="until", until=last,
                     save="", save_changes="1")
    response = coordinator.post(f"/events/{sessions[1].id}/edit", data={
        **base, "start_date": (first + timedelta(weeks=1)).isoformat(), "title": "Одно",
        "scope": "one"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Event, sessions[1].id).detached
    response = coordinator.post(f"/events/{sessions[2].id}/edit", data={
        **base, "start_date": (first + timedelta(weeks=2)).isoformat(), "start_time": "10:00",
        "end_time": "11:00", "scope": "following"})
    assert response.status_code == 302, re.findall(r'class="error"[^>]*>([^<]*)<',
                                                   text(response))
    db.session.expire_all()
    assert len({e.series_id for e in db.session.scalars(select(Event))}) == 2
    response = coordinator.post(f"/events/{sessions[0].id}/edit", data={
        **base, "start_date": first.isoformat(), "title": "Все", "scope": "all",
        "until": (first + timedelta(weeks=1)).isoformat()})
    assert response.status_code == 302
    db.session.expire_all()
    titles = {e.title for e in db.session.scalars(select(Event).where(
        Event.series_id == series.id, Event.status != EventStatus.CANCELLED))}
    assert titles == {"Все"}


def test_a_scope_out_of_the_list_is_this_session_only(coordinator, people):
    first = date(NEXT_YEAR, 2, 10)
    coordinator.post("/events/new", data=form_data(
        hosts=[own(people)], start_date=first.isoformat(), repeat="WEEKLY", count="2"))
    session = min(db.session.scalar(select(Series)).events, key=lambda e: e.start_at)
    response = coordinator.post(f"/events/{session.id}/edit", data=form_data(
        hosts=[own(people)], start_date=first.isoformat(), scope="everything", title="Т"))
    assert response.status_code == 200
    assert "Not a valid choice" in text(response)


def test_conflicts_warn_before_publishing_and_do_not_block(coordinator, people,
                                                           calendar_calls):
    services.create_event(people.municipal, spec(
        host_ids=[people.other_teacher.organisation_id], speaker_ids=[people.teacher.id],
        title="Мастер-класс «Создание мультфильмов с детьми»", start_time=time(16),
        end_time=time(17)), publish=True)
    db.session.commit()
    data = form_data(hosts=[own(people)], speakers=people.teacher.email, save="", publish="1")
    response = coordinator.post("/events/new", data=data)
    assert response.status_code == 200
    page = text(response)
    assert "Please check before the invitations go out" in page
    assert re.search(r"Попова Мария Петровна also has «<a href=\"/events/\d+\">Мастер-класс "
                     r"«Создание мультфильмов с детьми»</a>»", page) is None  # not hers to see
    assert "Попова Мария Петровна also has another event" in page
    assert "Publish anyway" in page and count(Event) == 1
    confirmed = re.search(r'name="confirmed" type="hidden" value="(\d)"', page).group(1)
    response = coordinator.post("/events/new", data={**data, "confirmed": confirmed})
    assert response.status_code == 302 and count(Event) == 2
    page = text(coordinator.get(response.headers["Location"]))
    assert "Overlapping events" in page


def test_a_draft_saves_without_asking_even_with_conflicts(coordinator, people):
    services.create_event(people.municipal, spec(
        host_ids=[people.coordinator.organisation_id], title="Совещание"), publish=True)
    db.session.commit()
    response = coordinator.post("/events/new", data=form_data(hosts=[own(people)]))
    assert response.status_code == 302


def test_registration_and_the_waiting_list(people, client, app, login_as, make_person,
                                           calendar_calls):
    event = services.create_event(people.municipal, spec(
        host_ids=[people.other_teacher.organisation_id], open_registration=True, capacity=1),
        publish=True)
    db.session.commit()
    first = login_as(people.teacher)
    page = text(first.get(f"/events/{event.id}"))
    assert "Register" in page and "1 left" in page
    first.post(f"/events/{event.id}/register")
    assert invited(event) == {people.teacher.id}
    page = text(first.get(f"/events/{event.id}"))
    assert "You are registered" in page and "Withdraw my registration" in page
    first.post("/logout")

    second = login_as(people.other_teacher)
    page = text(second.get(f"/events/{event.id}"))
    assert "Join the waiting list" in page
    second.post(f"/events/{event.id}/register")
    assert invited(event, InvitationState.WAITLISTED) == {people.other_teacher.id}
    assert "waiting list (number 1)" in text(second.get(f"/events/{event.id}"))
    second.post("/logout")

    first = login_as(people.teacher)
    first.post(f"/events/{event.id}/unregister")
    assert invited(event) == {people.other_teacher.id}
    assert invited(event, InvitationState.REMOVED) == {people.teacher.id}
    assert [ids for _t, ids in calendar_calls.of("requests")] == [
        [people.teacher.id], [people.other_teacher.id]]
    assert [(t.id, ids) for t, ids in calendar_calls.of("cancellations")] == [
        (event.id, [people.teacher.id])]
    response = first.post(f"/events/{event.id}/unregister")
    assert "not registered" in text(first.get(response.headers["Location"]))


def test_a_decline_frees_a_place_for_the_next_in_line(people, make_person, calendar_calls):
    from hub.scheduling import audience

    event = services.create_event(people.municipal, spec(
        host_ids=[people.other_teacher.organisation_id], open_registration=True, capacity=1),
        publish=True)
    audience.register(event, people.teacher)
    waiting = audience.register(event, people.other_teacher)
    assert waiting.state == InvitationState.WAITLISTED
    first = audience.invitation_of(event, people.teacher)
    first.partstat = PartStat.DECLINED  # as /rsvp/<token>?answer=declined records it
    moved = audience.fill_from_waiting_list(event)
    assert moved == [waiting] and waiting.state == InvitationState.INVITED


def test_the_join_button_shows_in_the_event_window_only(people, login_as):
    event = services.create_event(people.coordinator, spec(
        host_ids=[people.coordinator.organisation_id],
        audience_person_ids=[people.teacher.id]), publish=True)
    db.session.commit()
    client = login_as(people.teacher)
    page = text(client.get(f"/events/{event.id}"))
    assert "Join the meeting" not in page and "30 minutes before the start" in page
    event.start_at = utcnow() + timedelta(minutes=25)
    event.end_at = utcnow() + timedelta(hours=1)
    db.session.commit()
    page = text(client.get(f"/events/{event.id}"))
    assert "Join the meeting" in page
    invitation = db.session.scalar(select(Invitation).where(
        Invitation.person_id == people.teacher.id))
    from hub.scheduling.audience import personal_token

    assert (f'href="/j/{personal_token(invitation)}"' in page
            or "https://meet.jit.si/vmeste-" in page)


def test_organisers_see_answers_and_names(people, login_as):
    event = services.create_event(people.coordinator, spec(
        host_ids=[people.coordinator.organisation_id],
        audience_organisation_ids=[people.coordinator.organisation_id]), publish=True)
    answer = db.session.scalar(select(Invitation).where(
        Invitation.person_id == people.teacher.id))
    answer.partstat = PartStat.ACCEPTED
    db.session.commit()
    client = login_as(people.coordinator)
    page = text(client.get(f"/events/{event.id}"))
    assert "Accepted: 1" in page and "No answer yet: 1" in page
    assert "Попова Мария Петровна" in page
    page = text(client.get(f"/events/{event.id}/responses?answer=accepted"))
    assert "Попова Мария Петровна" in page and "Кузнецова Мария Петровна" not in page
    client.post("/logout")
    teacher = login_as(people.teacher)
    page = text(teacher.get(f"/events/{event.id}"))
    assert "Accepted: 1" not in page and 'class="names"' not in page


def test_an_open_event_has_a_public_page(client, people):
    event = services.create_event(people.coordinator, spec(
        host_ids=[people.coordinator.organisation_id], open_registration=True,
        speaker_ids=[people.teacher.id]), publish=True)
    db.session.commit()
    page = text(client.get(f"/events/{event.id}"))
    assert "Sign in to register" in page and "Попова Мария Петровна" in page
    assert "meet.jit.si" not in page and "/j/" not in page


def test_cancelling_a_session_or_the_rest_of_a_series(coordinator, people, calendar_calls):
    first = date(NEXT_YEAR, 2, 10)
    coordinator.post("/events/new", data=form_data(
        hosts=[own(people)], start_date=first.isoformat(), repeat="WEEKLY", count="3",
        save="", publish="1"))
    sessions = sorted(db.session.scalar(select(Series)).events, key=lambda e: e.start_at)
    page = text(coordinator.get(f"/events/{sessions[1].id}"))
    assert "This and the following sessions" in page
    coordinator.post(f"/events/{sessions[1].id}/cancel", data={"scope": "following"})
    db.session.expire_all()
    assert [db.session.get(Event, e.id).status for e in sessions] == [
        EventStatus.SCHEDULED, EventStatus.CANCELLED, EventStatus.CANCELLED]
    response = coordinator.post(f"/events/{sessions[1].id}/cancel", data={"scope": "one"})
    assert "already" in text(coordinator.get(response.headers["Location"]))
    edit = coordinator.get(f"/events/{sessions[1].id}/edit")
    assert edit.status_code == 302


def test_people_search_for_the_address_fields(coordinator, people):
    found = coordinator.get("/events/people.json?q=попова").get_json()
    assert found == {"people": [{"name": "Попова Мария Петровна", "email": "teacher@example.org",
                                 "organisation": people.teacher.organisation.short_name}]}
    assert coordinator.get("/events/people.json?q=" + "я" * 5000).get_json() == {"people": []}


def test_the_form_works_with_csrf_on(app, coordinator, people):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = text(coordinator.get("/events/new"))
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        without = coordinator.post("/events/new", data=form_data(hosts=[own(people)]))
        created = coordinator.post("/events/new", data=form_data(hosts=[own(people)],
                                                                 csrf_token=token))
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert without.status_code == 400 and "expired" in text(without)
    assert created.status_code == 302


def test_the_events_list_filters_and_pages(people, login_as):
    for n in range(35):
        services.create_event(people.coordinator, spec(
            host_ids=[people.coordinator.organisation_id], title=f"Вебинар {n:02d}",
            start_date=date(NEXT_YEAR, 2, 1) + timedelta(days=n)), publish=True)
    db.session.commit()
    client = login_as(people.teacher)
    first = text(client.get("/events"))
    assert "35 events" in first and "Вебинар 00" in first and "Вебинар 34" not in first
    second = text(client.get("/events?page=2"))
    assert "Вебинар 34" in second
    assert "No events match" in text(client.get("/events?format=3"))


@pytest.mark.parametrize("field", [
    "title", "description", "speakers", "moderators", "audience_people", "reminder_minutes",
    "capacity", "credit_hours", "interval", "count", "cohort", "start_date", "start_time",
    "end_time", "end_date", "until", "timezone", "network_id", "format", "repeat", "ends",
    "monthly_setpos", "scope", "confirmed",
])
def test_ten_thousand_characters_in_any_field_are_answered_not_a_500(coordinator, people,
                                                                     field):
    data = form_data(hosts=[own(people)], repeat="WEEKLY", count="3", is_program="y")
    data[field] = "ж;,\"'<b>" * 1250  # 10,000 characters
    response = coordinator.post("/events/new", data=data)
    assert response.status_code in (200, 302)
    assert "Traceback" not in text(response)


def test_five_thousand_addresses_pasted_into_the_form(coordinator, people, make_org,
                                                      calendar_calls):
    from hub.directory.models import Category, Person

    org = make_org()
    db.session.add_all([
        Person(surname="Педагог", first_name="Номер", email=f"t{n}@example.org",
               organisation=org, category=Category.NONE, role=Role.TEACHER)
        for n in range(5000)])
    db.session.commit()
    addresses = "\n".join(f"Педагог {n} <t{n}@example.org>" for n in range(5000))
    data = form_data(hosts=[own(people)], audience_people=addresses, save="", publish="1")
    response = coordinator.post("/events/new", data=data)
    assert response.status_code == 200
    page = text(response)
    assert "5000 people will be invited" in page
    confirmed = re.search(r'name="confirmed" type="hidden" value="(\d)"', page).group(1)
    response = coordinator.post("/events/new", data={**data, "confirmed": confirmed})
    assert response.status_code == 302
    event = only_event()
    assert len(invited(event)) == 5000
    assert [len(ids) for _t, ids in calendar_calls.of("requests")] == [5000]


def test_people_search_of_a_coordinator_stays_within_network_partners(
        people, network, make_person, make_org, login_as):
    outsider = make_person(Role.TEACHER, make_org(), surname="Посторонняя",
                           email="outsider@example.org")
    client = login_as(people.coordinator)
    names = {p["name"] for p in client.get("/events/people.json?q=мария").get_json()["people"]}
    assert "Соколова Мария Петровна" in names  # other_teacher: a network partner
    assert outsider.full_name not in names
    client.post("/logout")
    client = login_as(people.municipal)
    names = {p["name"] for p in client.get("/events/people.json?q=мария").get_json()["people"]}
    assert outsider.full_name in names
