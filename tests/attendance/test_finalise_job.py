"""The attendance.finalise job: events are finalised from 15 minutes to 8 days after their end,
once, and again when a provider's report arrives; each time `signals.credited` is sent."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from hub.attendance import jobs, services
from hub.attendance.models import Attendance, AttendanceInterval, Source, Status
from hub.attendance.signals import credited
from hub.conferencing.models import ProviderInterval, ProviderReport, Room
from hub.extensions import db
from hub.outbox.worker import _jobs
from hub.scheduling.models import EventStatus
from tests.attendance.test_services import _provider_report, invitation_of


def _intervals() -> int:
    return db.session.scalar(select(func.count(AttendanceInterval.id))) or 0


def test_the_job_is_registered_with_the_worker(app) -> None:
    assert _jobs["attendance.finalise"].func is jobs.finalise_due


def test_events_are_due_from_15_minutes_to_8_days_after_their_end(event) -> None:
    for after, due in ((timedelta(minutes=-5), False), (timedelta(minutes=10), False),
                       (timedelta(minutes=16), True), (timedelta(days=7, hours=23), True),
                       (timedelta(days=8, minutes=1), False)):
        assert jobs.due_events(event.end_at + after) == ([event.id] if due else []), after


def test_drafts_and_cancelled_events_are_not_finalised(event) -> None:
    for status in (EventStatus.DRAFT, EventStatus.CANCELLED):
        event.status = status
        db.session.commit()
        assert jobs.due_events(event.end_at + timedelta(hours=1)) == []


def test_the_job_imports_provider_data_once_and_credits(event, people) -> None:
    services.record_join(invitation_of(event, people.teacher), ip="", user_agent="",
                         client_key="a", now=event.start_at)
    db.session.commit()
    _provider_report(event, [
        {"person_id": people.teacher.id, "joined_at": event.start_at,
         "left_at": event.end_at},
        {"person_id": None, "joined_at": event.start_at + timedelta(minutes=5),
         "left_at": event.end_at, "name": "Гость Петров", "email": "petrov@example.org"},
    ])
    with time_machine.travel(event.end_at + timedelta(minutes=20)):
        assert jobs.finalise_due() == 1
        imported = _intervals()
        assert jobs.finalise_due() == 0  # nothing changed: nothing to do
        assert jobs.due_events(event.end_at + timedelta(hours=1)) == []
    assert imported == _intervals() == 3  # the join and two provider rows
    records = {r.display_name: r for r in db.session.scalars(select(Attendance))}
    teacher = records[people.teacher.full_name]
    assert (teacher.computed_status, teacher.credited, teacher.hours) == (
        Status.PRESENT, True, 1.5)
    assert records["Гость Петров"].credited
    assert records[people.other_teacher.full_name].computed_status == Status.ABSENT
    assert records[people.coordinator.full_name].credited  # the organiser


def test_a_late_report_finalises_the_event_again(event, people) -> None:
    _provider_report(event, [{"person_id": people.teacher.id, "joined_at": event.start_at,
                              "left_at": event.start_at + timedelta(minutes=30)}])
    with time_machine.travel(event.end_at + timedelta(minutes=20)):
        assert jobs.finalise_due() == 1
    teacher = db.session.scalars(select(Attendance).where(
        Attendance.person_id == people.teacher.id)).one()
    assert not teacher.credited
    with time_machine.travel(event.end_at + timedelta(hours=2)):
        room = db.session.scalars(select(Room)).one()
        report = ProviderReport(room_id=room.id, kind="callback", dedupe_key="r2")
        report.intervals = [ProviderInterval(
            room_id=room.id, person_id=people.teacher.id,
            joined_at=event.start_at + timedelta(minutes=30), left_at=event.end_at)]
        db.session.add(report)
        db.session.commit()
        assert jobs.due_events(event.end_at + timedelta(hours=2)) == [event.id]
        assert jobs.finalise_due() == 1
        assert jobs.finalise_due() == 0
    db.session.refresh(teacher)
    assert teacher.credited and teacher.minutes == 90
    assert [i.source for i in teacher.intervals] == [Source.PROVIDER, Source.PROVIDER]


def test_records_made_during_the_meeting_are_finalised_after_it(event, people) -> None:
    services.record_join(invitation_of(event, people.teacher), ip="", user_agent="",
                         client_key="a", now=event.start_at)
    db.session.commit()
    with time_machine.travel(event.start_at + timedelta(minutes=10)):
        services.recompute_event(event)
        db.session.commit()
    with time_machine.travel(event.end_at + timedelta(minutes=20)):
        assert jobs.finalise_due() == 1
    assert db.session.scalars(select(Attendance).where(
        Attendance.person_id == people.teacher.id)).one().credited


def test_receivers_hear_of_each_finalised_event_and_a_failing_one_harms_nothing(
        event, people) -> None:
    heard = []

    def listener(sender, records):  # type: ignore[no-untyped-def]
        heard.append((sender.id, len(records)))

    def broken(sender, records):  # type: ignore[no-untyped-def]
        db.session.add(Attendance(event_id=sender.id, guest_name="half-done"))
        db.session.flush()
        raise RuntimeError("certificate service down")

    with time_machine.travel(event.end_at + timedelta(minutes=20)), \
            credited.connected_to(broken), credited.connected_to(listener):
        assert jobs.finalise_due() == 1
        assert jobs.finalise_due() == 0
    assert heard == [(event.id, 3)]
    names = {r.display_name for r in db.session.scalars(select(Attendance))}
    assert "half-done" not in names and len(names) == 3


def test_an_event_that_fails_does_not_hold_up_the_others(event, make_event, monkeypatch) -> None:
    later = make_event(title="Круглый стол", start=event.start_at + timedelta(hours=2))
    real = services.finalise

    def finalise(target, now=None):  # type: ignore[no-untyped-def]
        if target.id == event.id:
            raise RuntimeError("broken data")
        return real(target, now=now)

    monkeypatch.setattr(services, "finalise", finalise)
    with time_machine.travel(later.end_at + timedelta(minutes=20)):
        assert jobs.finalise_due() == 1
        assert jobs.due_events(later.end_at + timedelta(minutes=20)) == [event.id]
