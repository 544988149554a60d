"""Report fixtures: a seminar with two invited teachers (from the calendar tests), hosts for
events, and attendance records derived as after the event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import time_machine

from hub.attendance import services
from hub.attendance.models import Attendance
from hub.directory.models import Organisation, Person, Role
from hub.extensions import db
from hub.growth.models import InternshipCompletion
from hub.reports.models import ReportPeriod
from hub.scheduling.models import (
    Event,
    EventFormat,
    EventHost,
    EventRole,
    EventStatus,
    Level,
    Series,
    SeriesPerson,
)
from tests.calendar.conftest import at, invite, make_event, make_series  # noqa: F401


@pytest.fixture
def event(make_event, invite, people) -> Event:  # type: ignore[no-untyped-def]  # noqa: F811
    """A 90-minute seminar on 3 December 2026, 10:00 in Yekaterinburg (05:00–06:30 UTC),
    organised by the coordinator; the teacher and the other teacher invited."""
    event = make_event()
    invite(event, [people.teacher, people.other_teacher])
    return event


@pytest.fixture
def host():  # type: ignore[no-untyped-def]
    """Make organisations hosts of an event (make_event adds none)."""

    def make(event: Event, *organisations: Organisation) -> Event:
        for organisation in organisations:
            event.hosts.append(EventHost(organisation_id=organisation.id))
        db.session.commit()
        return event

    return make


@pytest.fixture
def attend(people):  # type: ignore[no-untyped-def]
    """A person's record at an event, derived as after the event: present for `minutes` from
    the start (None: no evidence at all, so absent unless they host it)."""

    def make(event: Event, person: Person, minutes: int | None = None) -> Attendance:
        record = services.record_of(event, person)
        with time_machine.travel(event.end_at + timedelta(days=1)):
            if minutes:
                services.record_manual(record, event.start_at,
                                       event.start_at + timedelta(minutes=minutes), "",
                                       people.coordinator)
            else:
                services.recompute(record)
        db.session.commit()
        return record

    return make


@dataclass
class World:
    """Two organisations and what their people did in the first half of 2026/2027."""

    period: ReportPeriod
    kindergarten: Organisation  # Europe/Moscow: the coordinator, the teacher, three more
    other: Organisation  # Asia/Yekaterinburg: the other teacher
    seminar: Event
    webinar: Event
    late_evening: Event
    novice: Person
    program: Series


@pytest.fixture
def world(people, event, make_event, make_series, make_person, host, attend):  # type: ignore[no-untyped-def]  # noqa: F811
    """The period 1 Sep – 13 Dec 2026 (deadline 13 Dec) and:

    - the seminar (3 Dec, 1.5 h, hosted by the kindergarten): the teacher present, the
      coordinator (its organiser) credited as host, a former teacher (now inactive) present,
      a guest present, the other teacher absent;
    - a webinar (10 Dec, 1 h, regional, hosted by the other organisation): the other teacher
      credited, the teacher there 10 minutes (took part, not credited);
    - a round table hosted by both at 13 Dec 22:30 Moscow = 14 Dec 00:30 Yekaterinburg: in
      the kindergarten's period only; the teacher and the other teacher credited;
    - a master class hosted by both at 31 Aug 22:30 Moscow = 1 Sep 00:30 Yekaterinburg: in
      the other organisation's period only;
    - a cancelled and a draft event hosted by the kindergarten (never counted);
    - an internship program (sessions 24 Nov, 1, 8 and 15 Dec, 1 h): interns the teacher
      (credited at 2 of the 3 sessions in the period, completion confirmed) and a novice
      (credited at 1); one more active teacher with nothing.
    """
    kindergarten = people.teacher.organisation
    other = people.other_teacher.organisation
    period = ReportPeriod(title="Первое полугодие 2026/2027", starts_on=date(2026, 9, 1),
                          ends_on=date(2026, 12, 13), deadline=date(2026, 12, 13))
    db.session.add(period)
    novice = make_person(Role.TEACHER, kindergarten, surname="Новикова")
    make_person(Role.TEACHER, kindergarten, surname="Белова")
    former = make_person(Role.TEACHER, kindergarten, surname="Зайцева", active=False)
    seminar = host(event, kindergarten)
    webinar = host(make_event("Вебинар «Чем занять ребёнка дома»", format=EventFormat.WEBINAR,
                              level=Level.REGIONAL, minutes=60,
                              start=at("Asia/Yekaterinburg", 2026, 12, 10, 15, 0)), other)
    late_evening = host(make_event("Круглый стол «Преемственность детского сада и школы»",
                                   format=EventFormat.ROUND_TABLE, minutes=60,
                                   start=at("Europe/Moscow", 2026, 12, 13, 22, 30)),
                        kindergarten, other)
    host(make_event("Мастер-класс «Создание мультфильмов с детьми»",
                    format=EventFormat.MASTER_CLASS, minutes=60,
                    start=at("Europe/Moscow", 2026, 8, 31, 22, 30)), kindergarten, other)
    host(make_event("Отменённый семинар", status=EventStatus.CANCELLED), kindergarten)
    host(make_event("Черновик", status=EventStatus.DRAFT), kindergarten)

    attend(seminar, people.teacher, 90)
    attend(seminar, people.coordinator)
    attend(seminar, former, 80)
    attend(seminar, people.other_teacher)
    guest = services.add_guest(seminar, "Гость Петров", "guest@example.org", people.coordinator)
    with time_machine.travel(seminar.end_at + timedelta(days=1)):
        services.record_manual(guest, seminar.start_at, seminar.end_at, "", people.coordinator)
    attend(webinar, people.other_teacher, 60)
    attend(webinar, people.teacher, 10)
    attend(late_evening, people.teacher, 60)
    attend(late_evening, people.other_teacher, 60)

    program = make_series("FREQ=WEEKLY;COUNT=4", first=at("Asia/Vladivostok", 2026, 11, 24,
                                                                  15, 0))
    program.cohort = [
        SeriesPerson(person_id=people.coordinator.id, role=EventRole.MENTOR),
        SeriesPerson(person_id=people.teacher.id, role=EventRole.INTERN,
                     mentor_id=people.coordinator.id),
        SeriesPerson(person_id=novice.id, role=EventRole.INTERN,
                     mentor_id=people.coordinator.id)]
    db.session.commit()
    sessions = program.events
    attend(sessions[0], people.teacher, 60)
    attend(sessions[1], people.teacher, 60)
    attend(sessions[2], novice, 60)
    attend(sessions[1], novice)
    db.session.add(InternshipCompletion(series_id=program.id, intern_id=people.teacher.id,
                                        mentor_id=people.coordinator.id, attended_percent=67))
    db.session.commit()
    return World(period, kindergarten, other, seminar, webinar, late_evening, novice, program)
