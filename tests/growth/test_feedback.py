"""Feedback after events: the job asks each attendee once (not the absent, the excused, guests
or the organiser) by an email with a personal link; the survey is answered once, bad input
is refused with a reason and saves nothing; results per event (escaped) and per organiser."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_string, policy

import pytest
import time_machine
from sqlalchemy import func, select

from hub.attendance import services
from hub.attendance.models import Status
from hub.core.tokens import hash_token
from hub.directory.models import Role
from hub.extensions import db
from hub.growth import feedback
from hub.growth.models import FeedbackRequest
from hub.outbox.models import OutboxMessage
from tests.conftest import login

LINK = re.compile(r"http://localhost/feedback/([A-Za-z0-9_\-]+)")


def surveys() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind.like("feedback:%")).order_by(OutboxMessage.id)))


def text_of(row: OutboxMessage) -> str:
    message = message_from_string(row.mime, policy=policy.default)
    return message.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture
def held(event, people, make_person, invite):  # type: ignore[no-untyped-def]
    """The seminar, held: the teacher was there; the other teacher absent; an excused teacher;
    a guest without an account; the coordinator organised it."""
    excused = make_person(Role.TEACHER, people.teacher.organisation, surname="Морозова",
                          email="excused@example.org")
    invite(event, [excused])
    services.record_manual(services.record_of(event, people.teacher), event.start_at,
                           event.end_at, "в зале", people.coordinator)
    guest = services.add_guest(event, "Гость Петров", "guest@example.org", people.coordinator)
    services.record_manual(guest, event.start_at, event.end_at, "", people.coordinator)
    services.set_override(services.record_of(event, excused), Status.EXCUSED, "болеет",
                          people.coordinator)
    with time_machine.travel(event.end_at + timedelta(minutes=5)):
        services.finalise(event)
    db.session.commit()
    return event


def queue_at(moment) -> int:  # type: ignore[no-untyped-def]
    with time_machine.travel(moment):
        made = feedback.queue_surveys()
        db.session.commit()
    return made


def token_of(row: OutboxMessage) -> str:
    return LINK.search(text_of(row)).group(1)


@pytest.fixture
def survey(held) -> str:  # type: ignore[no-untyped-def]
    """The teacher's survey token (queued two hours after the end)."""
    assert queue_at(held.end_at + timedelta(hours=2)) == 1
    return token_of(surveys()[0])


def test_the_job_asks_each_attendee_once_by_email(held, people) -> None:
    assert queue_at(held.end_at + timedelta(minutes=30)) == 0  # too early
    assert queue_at(held.end_at + timedelta(hours=2)) == 1
    assert queue_at(held.end_at + timedelta(hours=3)) == 0  # idempotent
    [request] = db.session.scalars(select(FeedbackRequest)).all()
    assert request.person_id == people.teacher.id and request.answered_at is None
    [mail] = surveys()
    assert mail.to_addr == "teacher@example.org"
    token = token_of(mail)
    assert request.token_hash == hash_token(token) and len(token) >= 43
    assert token not in request.token_hash
    assert held.title in message_from_string(mail.mime, policy=policy.default)["Subject"]


def test_no_survey_a_week_after_or_for_cancelled_events(event, people) -> None:
    services.record_manual(services.record_of(event, people.teacher), event.start_at,
                           event.end_at, "", people.coordinator)
    db.session.commit()
    assert queue_at(event.end_at + timedelta(days=8)) == 0
    from hub.scheduling.models import EventStatus

    event.status = EventStatus.CANCELLED
    db.session.commit()
    assert queue_at(event.end_at + timedelta(hours=2)) == 0
    assert surveys() == []


def test_the_letter_speaks_the_persons_language(held, people) -> None:
    people.teacher.locale = "en"
    db.session.commit()
    queue_at(held.end_at + timedelta(hours=2))
    [mail] = surveys()
    assert "A short survey" in message_from_string(mail.mime, policy=policy.default)["Subject"]
    assert "Your personal link" in text_of(mail)


def test_the_survey_saves_once(client, survey) -> None:
    page = client.get(f"/feedback/{survey}")
    assert page.status_code == 200 and 'name="rating"' in page.get_data(as_text=True)
    response = client.post(f"/feedback/{survey}", data={
        "rating": "4", "useful": ["theory", "board"], "comment": "Спасибо!\nБольше практики."})
    assert response.status_code == 302
    request = db.session.scalar(select(FeedbackRequest))
    db.session.refresh(request)
    assert (request.rating, request.useful, request.comment) == (
        4, "theory,board", "Спасибо!\nБольше практики.")
    again = client.get(f"/feedback/{survey}")
    body = again.get_data(as_text=True)
    assert again.status_code == 200 and "already answered" in body
    assert "Больше практики." in body and 'name="rating"' not in body
    second = client.post(f"/feedback/{survey}", data={"rating": "1", "comment": "другое"})
    assert second.status_code == 409
    db.session.refresh(request)
    assert (request.rating, request.comment) == (4, "Спасибо!\nБольше практики.")


@pytest.mark.parametrize(("data", "message"), [
    ({"rating": "0"}, "Choose a rating from 1 to 5."),
    ({"rating": "6"}, "Choose a rating from 1 to 5."),
    ({"rating": "abc"}, "Choose a rating from 1 to 5."),
    ({}, "Choose a rating from 1 to 5."),
    ({"rating": "5", "comment": "а" * 10_000}, "At most 2000 characters"),
    ({"rating": "5", "useful": ["theory", "nonsense"]}, "not a valid choice"),
])
def test_bad_answers_are_refused_with_a_reason(client, survey, data, message) -> None:
    response = client.post(f"/feedback/{survey}", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(FeedbackRequest).where(
        FeedbackRequest.answered_at.is_not(None))) == 0


@pytest.mark.parametrize("token", ["garbage", "A" * 43, "x" * 5000])
def test_an_unknown_link_is_a_clear_404(client, token) -> None:
    for response in (client.get(f"/feedback/{token}"), client.post(f"/feedback/{token}")):
        assert response.status_code == 404
        assert "Link not valid" in response.get_data(as_text=True)


def _answers(event, people, make_person):  # type: ignore[no-untyped-def]
    """Three requests: ratings 5 and 3 (one with a script as its comment), one unanswered."""
    now = event.end_at + timedelta(hours=2)
    for n, (rating, useful, comment) in enumerate([
            (5, "theory,examples", "<script>alert(1)</script>"), (3, "examples", ""),
            (None, "", "")]):
        person = make_person(Role.TEACHER, people.teacher.organisation,
                             email=f"answer{n}@example.org")
        db.session.add(FeedbackRequest(
            event_id=event.id, person_id=person.id, token_hash=hash_token(f"t{n}"),
            rating=rating, useful=useful, comment=comment,
            answered_at=now if rating else None))
    db.session.commit()


def test_results_of_an_event(app, event, people, make_person) -> None:
    _answers(event, people, make_person)
    client = app.test_client()
    login(client, people.coordinator)
    response = client.get(f"/events/{event.id}/feedback")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<strong id="sent">3</strong>' in body and '<strong id="answered">2</strong>' in body
    assert '<strong id="average">4.0</strong>' in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert" not in body
    results = feedback.event_results(event)
    assert results.ratings == {1: 0, 2: 0, 3: 1, 4: 0, 5: 1}
    assert results.useful["examples"] == 2 and results.useful["theory"] == 1


def test_who_sees_the_results(app, event, people, other_coordinator) -> None:
    for person, code in ((people.municipal, 200), (people.coordinator, 200),
                         (people.teacher, 403), (other_coordinator, 403)):
        client = app.test_client()
        login(client, person)
        assert client.get(f"/events/{event.id}/feedback").status_code == code, person.email
    assert app.test_client().get(f"/events/{event.id}/feedback").status_code == 302


def test_results_per_organiser(app, event, people, other_coordinator, make_person) -> None:
    _answers(event, people, make_person)
    with time_machine.travel(event.end_at + timedelta(days=1)):
        [row] = feedback.organiser_summary()
        assert (row.person.id, row.events, row.sent, row.answered, row.average) == (
            people.coordinator.id, 1, 3, 2, 4.0)
        assert feedback.organiser_summary(other_coordinator.organisation_id) == []
        pages = {}
        for person in (people.municipal, people.coordinator, other_coordinator,
                       people.teacher):
            client = app.test_client()
            login(client, person)
            response = client.get("/feedback/organisers")
            pages[person.email] = (response.status_code, response.get_data(as_text=True))
    name = people.coordinator.full_name
    assert pages["municipal@example.org"][0] == 200 and name in pages["municipal@example.org"][1]
    assert name in pages["coordinator@example.org"][1]
    assert pages["other-coordinator@example.org"][0] == 200
    assert name not in pages["other-coordinator@example.org"][1]
    assert pages["teacher@example.org"][0] == 403


def test_the_event_page_links_the_results_after_the_event(app, event, people) -> None:
    from flask import render_template_string

    template = '{% include "growth/_feedback_link.html" %}'
    link = f"/events/{event.id}/feedback"
    with app.test_request_context():
        assert link in render_template_string(template, event=event, public=False,
                                              can_edit=True, ended=True)
        assert link not in render_template_string(template, event=event, public=False,
                                                  can_edit=False, ended=True)
        assert link not in render_template_string(template, event=event, public=False,
                                                  can_edit=True, ended=False)
