"""The digital internship: progress per mentor–intern pair, the threshold of all planned
sessions, the mentor's confirmation (and the organiser's fallback), the mentor's hours in the
mentor's role, and who sees which rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from hub.attendance import services
from hub.attendance.models import Attendance, GrowthRole
from hub.directory.models import Person, Role
from hub.extensions import db
from hub.growth import internship
from hub.growth.models import Certificate, InternshipCompletion
from hub.scheduling.models import EventHost, EventRole, Series, SeriesPerson
from tests.conftest import login


@dataclass
class Program:
    series: Series
    mentor: Person
    other_mentor: Person

    @property
    def id(self) -> int:
        return self.series.id


@pytest.fixture
def program(make_series, make_person, people) -> Program:  # type: ignore[no-untyped-def]
    """Four weekly sessions (15, 22, 29 December, 5 January, an hour each) organised by the
    coordinator; the teacher is an intern of the mentor (of the teacher's organisation), the
    other teacher an intern of a second mentor."""
    series = make_series(rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=4")
    mentor = make_person(Role.TEACHER, people.teacher.organisation, surname="Волкова",
                         email="mentor@example.org", position="старший воспитатель")
    other_mentor = make_person(Role.TEACHER, people.other_teacher.organisation,
                               surname="Лебедева", email="mentor2@example.org")
    series.cohort = [
        SeriesPerson(person=mentor, role=EventRole.MENTOR),
        SeriesPerson(person=other_mentor, role=EventRole.MENTOR),
        SeriesPerson(person=people.teacher, role=EventRole.INTERN, mentor_id=mentor.id),
        SeriesPerson(person=people.other_teacher, role=EventRole.INTERN,
                     mentor_id=other_mentor.id),
    ]
    db.session.commit()
    return Program(series, mentor, other_mentor)


def hold(program: Program, intern: Person, actor: Person, credited: int,
         sessions: int | None = None) -> None:
    """Hold the first `sessions` sessions (all by default); the intern was there (marked by
    the organiser) at the first `credited` of them."""
    events = sorted(program.series.events, key=lambda e: e.start_at)[:sessions]
    with time_machine.travel(events[-1].end_at + timedelta(minutes=5)):
        for n, event in enumerate(events):
            if n < credited:
                services.record_manual(services.record_of(event, intern), event.start_at,
                                       event.end_at, "по телефону", actor)
            services.finalise(event)
        db.session.commit()


def after(program: Program):  # type: ignore[no-untyped-def]
    """The clock after the program's last session."""
    return time_machine.travel(max(e.end_at for e in program.series.events)
                               + timedelta(hours=1))


def pair_of(program: Program, person: Person) -> internship.PairProgress:
    return next(p for p in internship.progress(program.series) if p.intern.id == person.id)


def confirm_url(program: Program, person: Person) -> str:
    return f"/programs/{program.id}/internship/{person.id}/confirm"


def client_of(app, person):  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert login(client, person).status_code == 302
    return client


def test_progress_counts_held_and_credited_sessions(program, people) -> None:
    hold(program, people.teacher, people.coordinator, credited=2, sessions=2)
    second = sorted(program.series.events, key=lambda e: e.start_at)[1]
    with time_machine.travel(second.end_at + timedelta(hours=1)):
        pair = pair_of(program, people.teacher)
        other = pair_of(program, people.other_teacher)
    assert (pair.sessions.planned, pair.sessions.held, pair.sessions.needed) == (4, 2, 4)
    assert (pair.credited, pair.percent, pair.reached) == (2, 50, False)
    assert pair.state == internship.State.IN_PROGRESS
    assert pair.mentor.id == program.mentor.id and pair.mentor_hours == 2.0
    # The other intern missed both: two sessions left cannot make the four needed.
    assert (other.credited, other.state) == (0, internship.State.OUT_OF_REACH)


def test_three_of_four_is_below_the_threshold_and_cannot_be_confirmed(app, program,
                                                                      people) -> None:
    hold(program, people.teacher, people.coordinator, credited=3)
    with after(program):
        pair = pair_of(program, people.teacher)
        assert (pair.credited, pair.percent, pair.reached) == (3, 75, False)
        with pytest.raises(internship.InternshipError, match="not_reached"):
            internship.confirm(program.series, people.teacher, program.mentor)
        client = client_of(app, program.mentor)
        response = client.post(confirm_url(program, people.teacher), follow_redirects=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "has not reached the program&#39;s attendance threshold" in body
    assert db.session.scalar(select(InternshipCompletion.id)) is None


def test_four_of_four_is_confirmed_by_the_mentor_only(app, program, people) -> None:
    hold(program, people.teacher, people.coordinator, credited=4)
    with after(program):
        assert pair_of(program, people.teacher).state == internship.State.READY
        page = client_of(app, program.mentor).get(f"/programs/{program.id}/internship")
        assert "Confirm completion" in page.get_data(as_text=True)
        # Another program's mentor, and the intern themselves, may not.
        for person in (program.other_mentor, people.teacher):
            response = client_of(app, person).post(confirm_url(program, people.teacher))
            assert response.status_code == 403, person.email
        mentor = client_of(app, program.mentor)
        response = mentor.post(confirm_url(program, people.teacher),
                               data={"comment": "Отличная работа с Bee-Bot"})
        assert response.status_code == 302
        again = mentor.post(confirm_url(program, people.teacher), follow_redirects=True)
    db.session.expire_all()
    [done] = db.session.scalars(select(InternshipCompletion)).all()
    assert (done.intern_id, done.mentor_id, done.confirmed_by_id) == (
        people.teacher.id, program.mentor.id, program.mentor.id)
    assert (done.attended_percent, done.comment) == (100, "Отличная работа с Bee-Bot")
    assert "already been confirmed" in again.get_data(as_text=True)
    certificate = db.session.scalar(select(Certificate).where(
        Certificate.series_id == program.id))
    assert certificate.person_id == people.teacher.id and certificate.role == GrowthRole.INTERN
    assert certificate.hours == 4.0


def test_the_organiser_may_confirm_in_place_of_the_mentor(app, program, people) -> None:
    hold(program, people.teacher, people.coordinator, credited=4)
    with after(program):
        page = client_of(app, people.coordinator).get(f"/programs/{program.id}/internship")
        assert "in place of the mentor" in page.get_data(as_text=True)
        organiser = client_of(app, people.coordinator)
        refused = organiser.post(confirm_url(program, people.teacher),
                                 data={"comment": "я" * 1001}, follow_redirects=True)
        assert "The comment is too long" in refused.get_data(as_text=True)
        assert db.session.scalar(select(InternshipCompletion.id)) is None
        response = organiser.post(confirm_url(program, people.teacher))
    assert response.status_code == 302
    done = db.session.scalar(select(InternshipCompletion))
    assert (done.mentor_id, done.confirmed_by_id) == (program.mentor.id, people.coordinator.id)


def test_mentor_hours_are_counted_in_the_mentor_role(program, people) -> None:
    hold(program, people.teacher, people.coordinator, credited=1)
    records = db.session.scalars(select(Attendance).where(
        Attendance.person_id == program.mentor.id)).all()
    assert len(records) == 4
    assert {(r.role, r.credited, r.hours) for r in records} == {(GrowthRole.MENTOR, True, 1.0)}
    intern = db.session.scalars(select(Attendance).where(
        Attendance.person_id == people.teacher.id, Attendance.credited.is_(True))).all()
    assert [r.role for r in intern] == [GrowthRole.INTERN]
    with after(program):
        assert pair_of(program, people.teacher).mentor_hours == 4.0


def _rows(client, program: Program) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    response = client.get(f"/programs/{program.id}/internship")
    return response.status_code, response.get_data(as_text=True)


def test_who_sees_which_rows(app, program, people, other_coordinator, make_person) -> None:
    teacher_row, other_row = f'id="intern-{people.teacher.id}"', \
        f'id="intern-{people.other_teacher.id}"'
    for person in (people.municipal, people.coordinator, other_coordinator):
        code, body = _rows(client_of(app, person), program)
        assert code == 200 and teacher_row in body and other_row in body, person.email
    for person, own, hidden in ((program.mentor, teacher_row, other_row),
                                (people.teacher, teacher_row, other_row),
                                (people.other_teacher, other_row, teacher_row)):
        code, body = _rows(client_of(app, person), program)
        assert code == 200 and own in body and hidden not in body, person.email
        assert "Confirm completion" not in body
    stranger = make_person(Role.TEACHER, people.coordinator.organisation, surname="Зайцева",
                           email="stranger@example.org")
    assert _rows(client_of(app, stranger), program)[0] == 403
    outsider = make_person(Role.ORG_COORDINATOR, surname="Новикова", email="far@example.org")
    assert _rows(client_of(app, outsider), program)[0] == 403


def test_the_series_page_links_the_progress_for_those_who_see_it(app, program,
                                                                  people) -> None:
    link = f"/programs/{program.id}/internship"
    assert link in client_of(app, people.coordinator).get(
        f"/series/{program.id}").get_data(as_text=True)
    assert link in client_of(app, program.mentor).get(
        f"/series/{program.id}").get_data(as_text=True)


def test_a_plain_series_has_no_internship(app, make_series, people) -> None:
    plain = make_series()
    plain.is_program = False
    db.session.commit()
    client = client_of(app, people.coordinator)
    assert client.get(f"/programs/{plain.id}/internship").status_code == 404
    assert f"/programs/{plain.id}/internship" not in client.get(
        f"/series/{plain.id}").get_data(as_text=True)


def test_organisers_are_the_sessions_editors_and_the_series_creator(program, people,
                                                                    other_coordinator) -> None:
    series = program.series
    assert internship.can_manage(people.coordinator, series)  # creator and organiser
    assert internship.can_manage(people.municipal, series)
    assert not internship.can_manage(other_coordinator, series)  # sees all, cannot confirm
    assert internship.sees_all(other_coordinator, series)
    series.events[-1].hosts.append(EventHost(organisation_id=other_coordinator.organisation_id))
    db.session.commit()
    assert internship.can_manage(other_coordinator, series)  # coordinator of a host
    assert not internship.can_manage(program.mentor, series)
