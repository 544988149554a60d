"""Recording evidence and deriving records: joins, presence, provider imports, overrides and
guests, with the rules changed afterwards."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from hub.attendance import services
from hub.attendance.models import Attendance, AttendanceInterval, CreditRule, Source, Status
from hub.conferencing.models import ProviderInterval, ProviderReport, Room, RoomState
from hub.extensions import db
from hub.scheduling.models import EventFormat, Invitation


def invitation_of(event, person) -> Invitation:  # type: ignore[no-untyped-def]
    return db.session.scalars(select(Invitation).where(
        Invitation.event_id == event.id, Invitation.person_id == person.id)).one()


def test_a_join_stands_until_the_end_and_a_second_click_adds_nothing(event, people) -> None:
    invitation = invitation_of(event, people.teacher)
    at = event.start_at + timedelta(minutes=3)
    record = services.record_join(invitation, ip="10.0.0.1", user_agent="UA", client_key="a",
                                  now=at)
    services.record_join(invitation, ip="10.0.0.1", user_agent="UA", client_key="a", now=at)
    db.session.commit()
    assert len(record.intervals) == 1 and not record.shared_link
    with time_machine.travel(event.end_at + timedelta(minutes=1)):
        services.recompute(record)
    assert (record.minutes, record.computed_status, record.credited) == (
        87, Status.PRESENT, True)
    assert record.hours == 1.5


def test_two_browsers_on_one_link_are_flagged(event, people) -> None:
    invitation = invitation_of(event, people.teacher)
    services.record_join(invitation, ip="1", user_agent="A", client_key="a",
                         now=event.start_at)
    record = services.record_join(invitation, ip="2", user_agent="B", client_key="b",
                                  now=event.start_at + timedelta(minutes=1))
    assert record.shared_link and len(record.intervals) == 2


def test_presence_reports_extend_one_interval(event, people) -> None:
    record = services.record_of(event, people.teacher)
    for minute in range(0, 30):
        services.record_presence(record, client_key="k", ip="", user_agent="",
                                 now=event.start_at + timedelta(minutes=minute))
    assert len(record.intervals) == 1
    assert record.intervals[0].ended_at == event.start_at + timedelta(minutes=29, seconds=90)
    services.record_presence(record, client_key="k", ip="", user_agent="",
                             now=event.start_at + timedelta(minutes=60))
    assert len(record.intervals) == 2  # the page was closed in between


def _provider_report(event, rows) -> None:  # type: ignore[no-untyped-def]
    room = Room(event_id=event.id, provider="zoom", state=RoomState.READY, external_id="z1")
    db.session.add(room)
    db.session.flush()
    report = ProviderReport(room_id=room.id, kind="attendance", dedupe_key="r1")
    report.intervals = [ProviderInterval(room_id=room.id, **row) for row in rows]
    db.session.add(report)
    db.session.commit()


def test_provider_attendance_is_imported_once_and_bounds_the_joins(event, people) -> None:
    services.record_join(invitation_of(event, people.teacher), ip="", user_agent="",
                         client_key="a", now=event.start_at)
    _provider_report(event, [
        {"person_id": people.teacher.id, "joined_at": event.start_at,
         "left_at": event.start_at + timedelta(minutes=40)},
        {"person_id": people.teacher.id, "joined_at": event.start_at + timedelta(minutes=30),
         "left_at": event.start_at + timedelta(minutes=60)},  # a rejoin that overlaps
        {"person_id": None, "joined_at": event.start_at, "left_at": event.end_at,
         "name": "Гость Петров", "email": "Guest@Example.org"},
    ])
    with time_machine.travel(event.end_at + timedelta(minutes=20)):
        records = services.finalise(event)
        assert services.import_provider(event) == 0  # idempotent
        db.session.commit()
    by_name = {r.display_name: r for r in records}
    teacher = next(r for r in records if r.person_id == people.teacher.id)
    assert teacher.minutes == 60 and teacher.computed_status == Status.LEFT_EARLY
    assert not teacher.credited
    guest = by_name["Гость Петров"]
    assert guest.person_id is None and guest.guest_email == "guest@example.org"
    assert guest.credited
    absent = next(r for r in records if r.person_id == people.other_teacher.id)
    assert absent.computed_status == Status.ABSENT
    organiser = next(r for r in records if r.person_id == people.coordinator.id)
    assert organiser.credited and organiser.role.name == "ORGANISER"


def test_changing_the_rule_recomputes_from_the_raw_intervals(event, people) -> None:
    record = services.record_of(event, people.teacher)
    services.record_manual(record, event.start_at, event.start_at + timedelta(minutes=63),
                           "по телефону", people.coordinator)
    with time_machine.travel(event.end_at + timedelta(minutes=1)):
        services.recompute_event(event)
        assert not record.credited  # 70 % < 80 %
        db.session.add(CreditRule(format=EventFormat.SEMINAR_PRACTICUM,
                                  min_presence_percent=70))
        db.session.flush()
        services.recompute_event(event)
    assert record.credited
    assert [i.source for i in record.intervals] == [Source.ORGANISER]


def test_overrides_and_guest_merges_are_logged(event, people) -> None:
    guest = services.add_guest(event, " Петров Пётр ", "P@Example.org", people.coordinator)
    services.record_manual(guest, event.start_at, event.end_at, "", people.coordinator)
    services.set_override(guest, Status.EXCUSED, "болел", people.coordinator)
    merged = services.merge_guest(guest, people.other_teacher, people.coordinator)
    db.session.commit()
    assert merged.person_id == people.other_teacher.id
    assert merged.override_status == Status.EXCUSED
    assert db.session.scalar(select(db.func.count(Attendance.id)).where(
        Attendance.event_id == event.id, Attendance.person_id.is_(None))) == 0
    assert db.session.scalar(select(db.func.count(AttendanceInterval.id)).where(
        AttendanceInterval.attendance_id == merged.id)) == 1


def test_a_replaced_provider_fetch_replaces_the_imported_intervals(event, people) -> None:
    _provider_report(event, [{"person_id": people.teacher.id, "joined_at": event.start_at,
                              "left_at": event.end_at}])
    with time_machine.travel(event.end_at + timedelta(minutes=20)):
        services.finalise(event)
        record = services.record_of(event, people.teacher)
        assert record.minutes == 90
        old = db.session.scalars(select(ProviderReport)).one()
        room_id = old.room_id
        db.session.delete(old)  # a newer fetch replaces the previous one
        report = ProviderReport(room_id=room_id, kind="fetched", dedupe_key="fetched")
        report.intervals = [ProviderInterval(
            room_id=room_id, person_id=people.teacher.id, joined_at=event.start_at,
            left_at=event.start_at + timedelta(minutes=30))]
        db.session.add(report)
        db.session.commit()
        services.finalise(event)
        db.session.commit()
    assert record.minutes == 30 and not record.credited
    assert len(record.intervals) == 1
