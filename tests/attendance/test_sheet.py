"""The organiser's attendance sheet: statuses and overrides with who and why, guests added and
merged, manual intervals in the event's zone, recomputing, the exports, and bad input refused
with a message and nothing changed."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import func, select

from hub.attendance import jobs, services
from hub.attendance.models import Attendance, AttendanceInterval, AttendanceLog, Source, Status
from hub.attendance.signals import credited
from hub.extensions import db
from tests.attendance.test_services import _provider_report, invitation_of


@pytest.fixture
def organiser(client, people, login_as):  # type: ignore[no-untyped-def]
    """The organising coordinator, signed in, reading English."""
    login_as(people.coordinator)
    client.get("/lang/en")
    return client


def _url(event, tail: str = "") -> str:  # type: ignore[no-untyped-def]
    return f"/events/{event.id}/attendance{tail}"


def _record(event, person) -> Attendance:  # type: ignore[no-untyped-def]
    return db.session.scalars(select(Attendance).where(
        Attendance.event_id == event.id, Attendance.person_id == person.id)).one()


def _logs(action: str) -> int:
    return db.session.scalar(select(func.count(AttendanceLog.id)).where(
        AttendanceLog.action == action)) or 0


@pytest.fixture
def held(event, people, make_person, invite):  # type: ignore[no-untyped-def]
    """After the event: the teacher stayed throughout, a third teacher left after 30 minutes,
    a guest came 20 minutes late; the other teacher never came."""
    leaver = make_person(surname="Морозова", email="leaver@example.org")
    invite(event, [leaver])
    services.record_manual(services.record_of(event, people.teacher), event.start_at,
                           event.end_at, "", people.coordinator)
    services.record_manual(services.record_of(event, leaver), event.start_at,
                           event.start_at + timedelta(minutes=30), "", people.coordinator)
    guest = services.add_guest(event, "Гость Петров", "petrov@example.org", people.coordinator)
    services.record_manual(guest, event.start_at + timedelta(minutes=20), event.end_at, "",
                           people.coordinator)
    db.session.commit()
    with time_machine.travel(event.end_at + timedelta(minutes=20)):
        services.finalise(event)
        db.session.commit()
        yield leaver


def test_the_sheet_shows_every_status_and_the_override_with_who_and_why(
        organiser, event, people, held) -> None:
    response = organiser.post(_url(event, f"/{_record(event, people.other_teacher).id}/override"),
                              data={"status": str(Status.EXCUSED.value), "reason": "болела"})
    assert response.status_code == 302
    page = organiser.get(_url(event)).get_data(as_text=True)
    for label in ("Present", "Late", "Left early", "Excused", "Absent"):
        assert f">{label}</span>" in page, label
    assert "Кузнецова" in page and "«болела»" in page  # who and why, shown and in the tooltip
    assert "Гость Петров" in page and "petrov@example.org" in page
    assert "Present: 2" in page and "Excused: 1" in page and "Left early: 1" in page
    assert "Credited hours: 3.0" in page  # the teacher and the organiser (the guest: 78 %)
    assert f"/attendance/{invitation_of(event, people.teacher).id}/revoke-link" in page
    assert "level" in page and "Municipal" in page and "Organiser" in page
    record = _record(event, people.other_teacher)
    assert (record.status, record.override_by_id, record.credited) == (
        Status.EXCUSED, people.coordinator.id, False)
    assert _logs("override") == 1


def test_an_override_needs_a_reason_and_a_known_status(organiser, event, people) -> None:
    record = services.record_of(event, people.teacher)
    db.session.commit()
    for data, message in (({"status": "1", "reason": "  "}, "Give the reason for the change."),
                          ({"status": "1"}, "Give the reason for the change."),
                          ({"status": "9", "reason": "так"}, "Choose a value from the list."),
                          ({"status": "present", "reason": "так"},
                           "Choose a value from the list.")):
        response = organiser.post(_url(event, f"/{record.id}/override"), data=data)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    db.session.refresh(record)
    assert record.override_status is None and _logs("override") == 0


def test_clearing_an_override_goes_back_to_the_computed_status(organiser, event,
                                                                people) -> None:
    record = services.record_of(event, people.teacher)
    services.set_override(record, Status.PRESENT, "был на месте", people.coordinator)
    db.session.commit()
    response = organiser.post(_url(event, f"/{record.id}/override"),
                              data={"status": "", "reason": "ошибка"})
    assert response.status_code == 302
    db.session.refresh(record)
    assert record.override_status is None and record.override_by_id is None
    assert _logs("override") == 2


def test_unknown_records_are_not_found(organiser, event, make_event, people) -> None:
    other = make_event(title="Круглый стол")
    foreign = services.record_of(other, people.teacher)
    db.session.commit()
    for record_id in (999999, foreign.id):
        response = organiser.post(_url(event, f"/{record_id}/override"),
                                  data={"status": "1", "reason": "так"})
        assert response.status_code == 404
    assert organiser.get("/events/999999/attendance").status_code == 404


def test_a_guest_is_added_and_then_merged_into_an_invited_person(organiser, event,
                                                                  people) -> None:
    response = organiser.post(_url(event, "/guests"),
                              data={"name": "  Петров   Пётр ", "email": "P.Petrov@Example.org"})
    assert response.status_code == 302
    guest = db.session.scalars(select(Attendance).where(
        Attendance.event_id == event.id, Attendance.person_id.is_(None))).one()
    guest_id = guest.id
    assert (guest.guest_name, guest.guest_email) == ("Петров Пётр", "p.petrov@example.org")
    organiser.post(_url(event, f"/{guest.id}/intervals"),
                   data={"started": "2026-12-03T10:00", "ended": "2026-12-03T11:00"})
    response = organiser.post(_url(event, f"/{guest.id}/merge"),
                              data={"person_id": str(people.other_teacher.id), "email": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Attendance.id).where(Attendance.id == guest_id)) is None
    merged = _record(event, people.other_teacher)
    assert [i.source for i in merged.intervals] == [Source.ORGANISER]
    assert merged.minutes == 60
    assert _logs("guest") == 1 and _logs("merge") == 1


def test_a_guest_is_merged_by_email_into_anyone_in_the_hub(organiser, event, people,
                                                            make_person) -> None:
    stranger = make_person(surname="Волкова", email="volkova@example.org")
    guest = services.add_guest(event, "Волкова", "", people.coordinator)
    db.session.commit()
    response = organiser.post(_url(event, f"/{guest.id}/merge"),
                              data={"person_id": "", "email": "Volkova@Example.org"})
    assert response.status_code == 302
    assert _record(event, stranger).person_id == stranger.id


@pytest.mark.parametrize(("data", "message"), [
    ({"person_id": "", "email": ""}, "Choose an invited person or give an email."),
    ({"person_id": "abc"}, "Choose a value from the list."),
    ({"person_id": "999999"}, "Choose a value from the list."),
    ({"person_id": "", "email": "not-an-address"}, "is not a valid email address"),
    ({"person_id": "", "email": "nobody@example.org"},
     "Nobody in the hub has the email nobody@example.org."),
])
def test_a_merge_that_cannot_be_done_says_why(organiser, event, people, data,
                                              message) -> None:
    guest = services.add_guest(event, "Гость", "", people.coordinator)
    db.session.commit()
    response = organiser.post(_url(event, f"/{guest.id}/merge"), data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.get(Attendance, guest.id) is not None and _logs("merge") == 0


def test_only_a_guest_can_be_merged(organiser, event, people) -> None:
    record = services.record_of(event, people.teacher)
    db.session.commit()
    response = organiser.post(_url(event, f"/{record.id}/merge"),
                              data={"person_id": str(people.other_teacher.id)})
    assert response.status_code == 400
    assert "is not a guest" in response.get_data(as_text=True)


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "", "email": ""}, "Give the guest&#39;s name."),
    ({"name": "   ", "email": ""}, "Give the guest&#39;s name."),
    ({"name": "Гость", "email": "nope"}, "is not a valid email address"),
    ({"name": "Г" * 301, "email": ""}, "Field cannot be longer than 300 characters."),
])
def test_a_guest_needs_a_name_and_a_valid_email(organiser, event, data, message) -> None:
    response = organiser.post(_url(event, "/guests"), data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Attendance.id))) == 0


def test_a_manual_interval_is_read_in_the_event_zone(organiser, event, people) -> None:
    record = services.record_of(event, people.teacher)
    db.session.commit()
    # 10:00–10:45 in Yekaterinburg (the event's zone) is 05:00–05:45 UTC.
    response = organiser.post(_url(event, f"/{record.id}/intervals"), data={
        "started": "2026-12-03T10:00", "ended": "2026-12-03T10:45", "note": "по телефону"})
    assert response.status_code == 302
    interval = db.session.scalars(select(AttendanceInterval)).one()
    assert (interval.started_at, interval.ended_at) == (
        event.start_at, event.start_at + timedelta(minutes=45))
    assert (interval.source, interval.note, interval.created_by_id) == (
        Source.ORGANISER, "по телефону", people.coordinator.id)
    db.session.refresh(record)
    assert record.minutes == 45 and _logs("interval") == 1


@pytest.mark.parametrize(("data", "message"), [
    ({"started": "2026-12-03T09:00", "ended": "2026-12-03T10:30"},
     "The interval must lie within the event&#39;s time"),
    ({"started": "2026-12-03T11:00", "ended": "2026-12-03T10:30"},
     "The interval must end after it starts."),
    ({"started": "вчера", "ended": "2026-12-03T10:30"}, "Not a valid datetime value."),
    ({"ended": "2026-12-03T10:30"}, "Give the time the person came."),
])
def test_a_wrong_interval_is_refused(organiser, event, people, data, message) -> None:
    record = services.record_of(event, people.teacher)
    db.session.commit()
    response = organiser.post(_url(event, f"/{record.id}/intervals"), data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(AttendanceInterval.id))) == 0


def test_recompute_before_the_event_makes_the_records(organiser, event, people) -> None:
    response = organiser.post(_url(event, "/recompute"))
    assert response.status_code == 302
    assert "3 records recomputed." in organiser.get(_url(event)).get_data(as_text=True)
    assert not any(r.credited for r in db.session.scalars(select(Attendance)))


def test_recompute_after_the_event_imports_the_reports_and_tells_the_receivers(
        organiser, event, people) -> None:
    _provider_report(event, [{"person_id": people.teacher.id, "joined_at": event.start_at,
                              "left_at": event.end_at}])
    calls = []

    def receiver(sender, records):  # type: ignore[no-untyped-def]
        calls.append((sender.id, sorted(r.person_id or 0 for r in records)))

    with time_machine.travel(event.end_at + timedelta(minutes=5)), \
            credited.connected_to(receiver):
        assert organiser.post(_url(event, "/recompute")).status_code == 302
    assert _record(event, people.teacher).credited
    assert calls == [(event.id, sorted([people.coordinator.id, people.teacher.id,
                                        people.other_teacher.id]))]


def _csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_the_csv_export_has_every_row(organiser, event, people, held) -> None:
    response = organiser.get(_url(event, ".csv"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f"attendance-{event.id}-2026-12-03.csv" in response.headers["Content-Disposition"]
    rows = _csv_rows(response.data)
    header = rows[0]
    assert header[:4] == ["Person", "Email", "Organisation", "Role"]
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert len(by_name) == 5
    teacher = by_name[people.teacher.full_name]
    assert (teacher["Status"], teacher["Credited"], teacher["Hours"], teacher["Minutes"]) == (
        "Present", "yes", "1.5", "90")
    assert teacher["Sources"] == "Marked by the organiser"
    assert teacher["First seen (Europe/Moscow)"] == "2026-12-03 08:00"
    assert by_name["Гость Петров"]["Status"] == "Late"
    assert by_name["Гость Петров"]["Email"] == "petrov@example.org"
    assert by_name[held.full_name]["Status"] == "Left early"
    assert by_name[people.other_teacher.full_name]["Credited"] == "no"


def test_the_csv_uses_semicolons_for_russian_excel(client, login_as, event, people,
                                                   held) -> None:
    login_as(people.coordinator)
    client.get("/lang/ru")
    body = client.get(_url(event, ".csv")).data.decode("utf-8-sig")
    assert body.splitlines()[0].count(";") == 17


def test_the_xlsx_export_opens_in_openpyxl(organiser, event, people, held) -> None:
    response = organiser.get(_url(event, ".xlsx"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Person" and rows[0][-1] == "Shared link"
    teacher = next(row for row in rows if row[0] == people.teacher.full_name)
    header = rows[0]
    values = dict(zip(header, teacher, strict=True))
    assert values["Minutes"] == 90 and values["Hours"] == 1.5 and values["Status"] == "Present"
    assert values["First seen (Europe/Moscow)"].strftime("%H:%M") == "08:00"
    assert len(rows) == 6


def test_a_participant_sees_their_own_record(client, login_as, event, people, held) -> None:
    login_as(people.teacher)
    client.get("/lang/en")
    page = client.get(_url(event, "/me")).get_data(as_text=True)
    assert "My attendance" in page and "yes, 1.5 h" in page
    login_as(people.other_teacher)
    page = client.get(_url(event, "/me")).get_data(as_text=True)
    assert "Absent" in page


def test_the_event_page_leads_organisers_to_the_sheet_and_others_to_their_record(
        client, login_as, event, people) -> None:
    login_as(people.coordinator)
    client.get("/lang/en")
    assert f'href="/events/{event.id}/attendance"' in client.get(
        f"/events/{event.id}").get_data(as_text=True)
    login_as(people.teacher)
    with time_machine.travel(event.end_at + timedelta(hours=1)):
        page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert f'href="/events/{event.id}/attendance"' not in page
    assert f'href="/events/{event.id}/attendance/me"' in page


def test_a_guest_row_offers_the_invited_people_who_were_not_seen(organiser, event, people,
                                                                  held) -> None:
    page = organiser.get(_url(event)).get_data(as_text=True)
    options = page[page.index('name="person_id"'):page.index("</select>",
                                                              page.index('name="person_id"'))]
    assert people.other_teacher.full_name.split()[0] in options
    assert people.teacher.full_name.split()[0] not in options
    assert held.surname not in options


def test_opening_the_sheet_after_the_event_finalises_it_when_the_job_has_not(
        organiser, event, people) -> None:
    _provider_report(event, [{"person_id": people.teacher.id, "joined_at": event.start_at,
                              "left_at": event.end_at}])
    with time_machine.travel(event.end_at + timedelta(minutes=5)):
        page = organiser.get(_url(event)).get_data(as_text=True)
    assert "Conference report" in page and "Credited hours: 3.0" in page
    assert jobs.due_events(event.end_at + timedelta(minutes=20)) == []
