"""Invitation letters as a real SMTP server on loopback receives them: MIME structure, the
iCalendar inside (iTIP REQUEST, updates, CANCEL), who gets what, and the fan-out by batches."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from email.header import decode_header, make_header

import icalendar
import pytest
from sqlalchemy import func, select

from hub.calendar import invitations as calendar
from hub.calendar.invitations import (
    invitation_token,
    queue_cancellations,
    queue_event_cancelled,
    queue_requests,
    queue_updates,
    run_batches,
)
from hub.calendar.models import BatchStatus, InvitationBatch
from hub.extensions import db
from hub.outbox.models import OutboxMessage
from hub.scheduling.models import (
    EventPerson,
    EventRole,
    EventStatus,
    Invitation,
    InvitationState,
    PartStat,
)
from tests.calendar.conftest import at, calendar_part, leaves


def subject(message) -> str:  # type: ignore[no-untyped-def]
    return str(make_header(decode_header(message["Subject"])))


def test_a_long_cyrillic_subject_keeps_its_spaces(smtp_server, people, make_event, invite,
                                                  deliver):
    event = make_event()
    queue_requests(event, invite(event, [people.teacher]))
    deliver()
    [message] = smtp_server.messages
    assert "Семинар-практикум «Образовательная робототехника в ДОУ»" in subject(message)


def text_of(part) -> str:  # type: ignore[no-untyped-def]
    return part.get_payload(decode=True).decode("utf-8")


def vevents(message) -> list:  # type: ignore[no-untyped-def]
    return icalendar.Calendar.from_ical(calendar_part(message)[1]).walk("VEVENT")


def to(sink, email: str):  # type: ignore[no-untyped-def]
    found = [m for m in sink.messages if email in m["To"]]
    return found


def outbox_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def test_an_invitation_letter_has_text_html_calendar_and_the_same_ics_attached(
        smtp_server, people, make_event, invite, deliver):
    event = make_event()
    [invitation] = invite(event, [people.teacher])
    queue_requests(event, [invitation])
    deliver()

    assert smtp_server.envelopes == [("no-reply@vmeste.local", ["teacher@example.org"])]
    [message] = smtp_server.messages
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == [
        "text/plain", "text/html", "text/calendar"]
    plain, html, calendar_alt = alternative.get_payload()
    assert calendar_alt.get_param("method") == "REQUEST"
    assert calendar_alt.get_content_charset() == "utf-8"
    assert calendar_alt.get_content_disposition() is None  # an alternative, not an attachment
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "invite.ics"
    ics_bytes = calendar_alt.get_payload(decode=True)
    assert attachment.get_payload(decode=True) == ics_bytes
    assert ics_bytes.startswith(b"BEGIN:VCALENDAR\r\n")

    token = invitation_token(invitation)
    join = f"http://localhost/j/{token}"
    body, page = text_of(plain), text_of(html)
    for part in (body, page):
        assert join in part
        for answer in ("accepted", "tentative", "declined"):
            assert f"http://localhost/rsvp/{token}?answer={answer}" in part
        # Both zones: the event's (Yekaterinburg 10:00) and the teacher's (Moscow 08:00).
        assert "10:00–11:30 (Asia/Yekaterinburg, UTC+5)" in part
        assert "08:00–09:30 (Europe/Moscow, UTC+3)" in part
    assert "<b>Bee-Bot</b>" in page and "Bee-Bot & LEGO" in body
    assert subject(message).startswith("Invitation: Семинар-практикум")
    assert subject(message).endswith("в ДОУ», 3 Dec 2026, 08:00 (Europe/Moscow)")

    [vevent] = vevents(message)
    cal = icalendar.Calendar.from_ical(ics_bytes)
    assert cal["METHOD"] == "REQUEST" and cal["VERSION"] == "2.0" and "Vmeste" in cal["PRODID"]
    assert vevent["UID"] == event.uid and vevent["SEQUENCE"] == 0
    assert vevent["STATUS"] == "CONFIRMED"
    assert str(vevent["LOCATION"]) == str(vevent["URL"]) == join
    assert join in str(vevent["DESCRIPTION"]) and "Bee-Bot & LEGO" in str(vevent["DESCRIPTION"])
    organizer = vevent["ORGANIZER"]
    assert organizer == "mailto:coordinator@example.org"
    assert organizer.params["CN"] == people.coordinator.full_name
    attendee = vevent["ATTENDEE"]
    assert attendee == "mailto:teacher@example.org"
    assert dict(attendee.params) == {"CN": people.teacher.full_name, "CUTYPE": "INDIVIDUAL",
                                     "ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION",
                                     "RSVP": "TRUE"}
    [alarm] = vevent.walk("VALARM")
    assert alarm["ACTION"] == "DISPLAY" and alarm["TRIGGER"].dt == -timedelta(minutes=1440)

    db.session.refresh(invitation)
    assert invitation.sent_sequence == 0
    assert db.session.scalar(select(InvitationBatch.status)) == BatchStatus.DONE


def test_a_letter_speaks_the_persons_language_and_names_a_speaker_chair(
        smtp_server, people, make_event, invite, deliver):
    people.other_teacher.locale = "ru"
    event = make_event(zone="Asia/Vladivostok", start=at("Asia/Vladivostok", 2026, 12, 3, 9, 0))
    event.people.append(EventPerson(person=people.other_teacher, role=EventRole.SPEAKER))
    queue_requests(event, invite(event, [people.other_teacher]))
    deliver()
    [message] = smtp_server.messages
    body = text_of(leaves(message)[0])
    assert body.startswith("Здравствуйте, Мария Петровна!")
    nbsp = "\u202f"  # CLDR's narrow no-break space before «г.»
    assert f"четверг, 3 декабря 2026{nbsp}г., 09:00–10:30 (Asia/Vladivostok, UTC+10)" in body
    assert f"четверг, 3 декабря 2026{nbsp}г., 04:00–05:30 (Asia/Yekaterinburg, UTC+5)" in body
    [vevent] = vevents(message)
    assert vevent["ATTENDEE"].params["ROLE"] == "CHAIR"


def test_no_letters_for_drafts_deactivated_people_or_waiting_lists(
        smtp_server, people, make_event, invite, deliver):
    draft = make_event(status=EventStatus.DRAFT)
    queue_requests(draft, invite(draft, [people.teacher]))
    event = make_event(title="Круглый стол")
    rows = invite(event, [people.teacher, people.other_teacher, people.municipal])
    people.other_teacher.active = False
    rows[2].state = InvitationState.WAITLISTED
    queue_requests(event, rows)
    deliver()
    assert [rcpt for _, rcpt in smtp_server.envelopes] == [["teacher@example.org"]]


def test_an_update_has_the_same_uid_a_higher_sequence_and_reaches_only_the_invited(
        smtp_server, people, make_event, invite, deliver):
    event = make_event()
    teacher, other = invite(event, [people.teacher, people.other_teacher])
    queue_requests(event, [teacher, other])
    deliver()
    teacher.partstat = PartStat.ACCEPTED
    queue_cancellations(event, [other])
    deliver()
    smtp_server.messages.clear()

    event.start_at += timedelta(hours=2)
    event.end_at += timedelta(hours=2)
    event.sequence += 1
    queue_updates(event)
    deliver()
    [message] = smtp_server.messages
    assert "teacher@example.org" in message["To"]
    assert subject(message).startswith("Updated: ")
    assert calendar_part(message)[0] == "REQUEST"
    [vevent] = vevents(message)
    assert vevent["UID"] == event.uid and vevent["SEQUENCE"] == 1
    assert vevent["DTSTART"].dt == event.start_at
    assert vevent["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"  # the answer given by RSVP
    assert "12:00–13:30 (Asia/Yekaterinburg, UTC+5)" in text_of(leaves(message)[0])

    queue_updates(event)  # nothing changed since: nobody is written to twice
    assert deliver() == 0


def test_people_taken_out_of_the_audience_get_a_cancel(smtp_server, people, make_event, invite,
                                                       deliver):
    event = make_event()
    teacher, other = invite(event, [people.teacher, people.other_teacher])
    queue_requests(event, [teacher, other])
    deliver()
    smtp_server.messages.clear()
    queue_cancellations(event, [other])
    deliver()
    [message] = smtp_server.messages
    assert "other@example.org" in message["To"]
    assert subject(message).startswith("Invitation withdrawn: ")
    method, data = calendar_part(message)
    assert method == "CANCEL" and b"METHOD:CANCEL" in data
    [vevent] = vevents(message)
    assert vevent["UID"] == event.uid and vevent["STATUS"] == "CANCELLED"
    assert vevent["ATTENDEE"] == "mailto:other@example.org"
    assert not vevent.walk("VALARM")
    assert "/rsvp/" not in str(vevent["DESCRIPTION"])  # links that lead nowhere now
    assert db.session.get(Invitation, other.id).state == InvitationState.REMOVED
    assert "/rsvp/" not in text_of(leaves(message)[0])


def test_a_cancelled_event_sends_cancel_to_everyone_who_was_invited(
        smtp_server, people, make_event, invite, deliver):
    event = make_event()
    rows = invite(event, [people.teacher, people.other_teacher])
    queue_requests(event, rows)
    deliver()
    smtp_server.messages.clear()
    event.status = EventStatus.CANCELLED
    event.sequence += 1
    queue_event_cancelled(event)
    deliver()
    assert len(smtp_server.messages) == 2
    for message in smtp_server.messages:
        assert calendar_part(message)[0] == "CANCEL"
        assert subject(message).startswith("Cancelled: ")
        [vevent] = vevents(message)
        assert vevent["STATUS"] == "CANCELLED" and vevent["SEQUENCE"] == 1
        assert vevent["UID"] == event.uid


def test_a_cancel_before_the_worker_ran_sends_nothing(smtp_server, people, make_event, invite,
                                                      deliver):
    event = make_event()
    queue_requests(event, invite(event, [people.teacher]))
    event.status = EventStatus.CANCELLED
    queue_event_cancelled(event)
    deliver()
    assert smtp_server.messages == []


def test_a_request_and_an_update_waiting_together_make_one_letter(smtp_server, people,
                                                                  make_event, invite, deliver):
    event = make_event()
    queue_requests(event, invite(event, [people.teacher]))
    event.title = "Новое название"
    event.sequence += 1
    queue_updates(event)
    deliver()
    [message] = smtp_server.messages
    assert subject(message).startswith("Invitation: Новое название")
    assert vevents(message)[0]["SEQUENCE"] == 1


# -- series ----------------------------------------------------------------------------------


def test_a_series_is_one_letter_per_person_with_rrule_exdate_and_overrides(
        smtp_server, people, make_series, invite, deliver):
    series = make_series()
    rows = sorted(series.events, key=lambda e: e.original_start)
    rows[1].status = EventStatus.CANCELLED
    rows[3].start_at += timedelta(hours=1)
    rows[3].end_at += timedelta(hours=1)
    rows[3].detached = True
    queue_requests(series, invite(series, [people.teacher, people.other_teacher]))
    deliver()
    assert len(smtp_server.messages) == 2
    for message in smtp_server.messages:
        assert subject(message).startswith("Invitation to a series: Занятие цифровой")
        master, override = vevents(message)
        assert master["UID"] == override["UID"] == series.uid
        assert str(master["RRULE"].to_ical(), "ascii") == "FREQ=WEEKLY;COUNT=8;BYDAY=TU"
        assert [d.dt for d in master["EXDATE"].dts] == [
            rows[1].original_start.astimezone(master["DTSTART"].dt.tzinfo)]
        assert override["RECURRENCE-ID"].dt == rows[3].original_start
        assert override["DTSTART"].dt == rows[3].start_at
        body = text_of(leaves(message)[0])
        assert body.count("  • ") == 8 and "cancelled" in body
    assert all(i.sent_sequence == 0 for i in db.session.scalars(select(Invitation)))


def test_per_occurrence_calls_still_make_one_letter_per_person(smtp_server, people,
                                                               make_series, invite, deliver):
    series = make_series()
    for event in series.events:  # how scheduling calls: occurrence by occurrence
        queue_requests(event, invite(event, [people.teacher, people.other_teacher]))
    assert db.session.scalar(select(func.count()).select_from(InvitationBatch)) == 1
    deliver()
    assert len(smtp_server.messages) == 2
    assert all(vevents(m)[0].get("RRULE") for m in smtp_server.messages)
    smtp_server.messages.clear()

    series.sequence += 1  # a change of every session, told occurrence by occurrence
    for event in series.events:
        event.title = "Занятие цифровой интернатуры (новое время)"
        queue_updates(event)
    deliver()
    assert len(smtp_server.messages) == 2
    for message in smtp_server.messages:
        master = vevents(message)[0]
        assert master["SEQUENCE"] == 1 and master.get("RRULE")
        assert subject(message).startswith("Series updated: ")


def test_one_moved_or_cancelled_occurrence_travels_with_recurrence_id(
        smtp_server, people, make_series, invite, deliver):
    series = make_series(zone="Asia/Yekaterinburg", first=at("Asia/Yekaterinburg",
                                                             2026, 12, 29, 10, 0))
    queue_requests(series, invite(series, [people.teacher]))
    deliver()
    smtp_server.messages.clear()
    rows = sorted(series.events, key=lambda e: e.original_start)
    moved, dropped = rows[1], rows[2]
    moved.start_at += timedelta(days=1)
    moved.end_at += timedelta(days=1)
    moved.detached = True
    moved.sequence += 1
    queue_updates(moved)
    deliver()
    dropped.status = EventStatus.CANCELLED
    dropped.sequence += 1
    queue_event_cancelled(dropped)
    deliver()
    update, cancel = smtp_server.messages
    [vevent] = vevents(update)
    assert calendar_part(update)[0] == "REQUEST"
    assert vevent["UID"] == series.uid and vevent["RECURRENCE-ID"].dt == moved.original_start
    assert vevent["SEQUENCE"] == 1 and "RRULE" not in vevent
    [vevent] = vevents(cancel)
    assert calendar_part(cancel)[0] == "CANCEL" and vevent["STATUS"] == "CANCELLED"
    assert vevent["RECURRENCE-ID"].dt == dropped.original_start


def test_a_cohort_member_removed_from_every_session_gets_a_cancel_of_the_series(
        smtp_server, people, make_series, invite, deliver):
    series = make_series()
    rows = invite(series, [people.teacher, people.other_teacher])
    queue_requests(series, rows)
    deliver()
    smtp_server.messages.clear()
    removed = [r for r in rows if r.person_id == people.other_teacher.id]
    for event in series.events:
        queue_cancellations(event, [r for r in removed if r.event_id == event.id])
    deliver()
    [message] = smtp_server.messages
    assert "other@example.org" in message["To"]
    [master] = vevents(message)
    assert calendar_part(message)[0] == "CANCEL" and "RECURRENCE-ID" not in master
    assert master["UID"] == series.uid and master["STATUS"] == "CANCELLED"


def test_a_cancelled_series_cancels_the_master(smtp_server, people, make_series, invite,
                                               deliver):
    series = make_series()
    queue_requests(series, invite(series, [people.teacher]))
    deliver()
    smtp_server.messages.clear()
    for event in series.events:
        event.status = EventStatus.CANCELLED
    series.sequence += 1
    queue_event_cancelled(series)
    deliver()
    [message] = smtp_server.messages
    [master] = vevents(message)
    assert master["STATUS"] == "CANCELLED" and master["SEQUENCE"] == 1
    assert subject(message).startswith("Series cancelled: ")


# -- the fan-out -----------------------------------------------------------------------------


def test_queueing_writes_one_batch_row_and_the_worker_writes_the_letters(
        app, people, make_event, make_person, invite):
    event = make_event(title="Вебинар для 120 человек")
    audience = [make_person(email=f"webinar{n}@example.org") for n in range(120)]
    rows = invite(event, audience)
    queue_requests(event, rows)
    db.session.commit()
    assert outbox_count() == 0  # the organiser's request wrote only this:
    [batch] = db.session.scalars(select(InvitationBatch)).all()
    assert json.loads(batch.recipient_ids) == [r.id for r in rows]
    assert run_batches(chunk=50) == 120
    assert outbox_count() == 120
    db.session.refresh(batch)
    assert (batch.status, batch.done, batch.total) == (BatchStatus.DONE, 120, 120)
    assert run_batches() == 0


def test_a_batch_that_fails_half_way_goes_on_where_it_stopped(app, people, make_event,
                                                              make_person, invite,
                                                              monkeypatch):
    event = make_event()
    rows = invite(event, [make_person(email=f"half{n}@example.org") for n in range(30)])
    queue_requests(event, rows)
    db.session.commit()
    real = calendar._send_chunk
    calls = []

    def flaky(batch, ids, now):  # type: ignore[no-untyped-def]
        calls.append(len(ids))
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real(batch, ids, now)

    monkeypatch.setattr(calendar, "_send_chunk", flaky)
    assert run_batches(chunk=10) == 10
    batch = db.session.scalars(select(InvitationBatch)).one()
    db.session.refresh(batch)
    assert batch.done == 10 and batch.status == BatchStatus.PENDING
    assert "database went away" in batch.last_error and batch.lease_until is not None
    assert outbox_count() == 10
    batch.lease_until = None  # the back-off is over
    db.session.commit()
    assert run_batches(chunk=10) == 20
    assert outbox_count() == 30
    to_addrs = db.session.scalars(select(OutboxMessage.to_addr)).all()
    assert len(set(to_addrs)) == 30  # nobody twice


def test_a_batch_held_by_one_worker_is_not_taken_by_another(app, people, make_event, invite):
    event = make_event()
    queue_requests(event, invite(event, [people.teacher]))
    db.session.commit()
    from hub.core.types import utcnow

    held = calendar._claim(utcnow(), "worker-a")
    assert held is not None
    assert calendar._claim(utcnow(), "worker-b") is None
    assert calendar._claim(utcnow() + timedelta(seconds=calendar.BATCH_LEASE_SECONDS + 1),
                           "worker-b") is not None  # the lease ran out: taken over


def test_batches_of_one_event_run_in_order(app, people, make_event, invite):
    event = make_event()
    first = queue_requests(event, invite(event, [people.teacher]))
    event.sequence += 1
    second = queue_updates(event)
    db.session.commit()
    from hub.core.types import utcnow

    assert calendar._claim(utcnow(), "worker-a").id == first.id
    assert calendar._claim(utcnow(), "worker-b") is None  # the update waits for the request
    assert second.status == BatchStatus.PENDING


def test_a_batch_that_keeps_failing_is_failed_with_its_reason(app, people, make_event, invite,
                                                              monkeypatch):
    event = make_event()
    queue_requests(event, invite(event, [people.teacher]))
    db.session.commit()

    def broken(*args):  # type: ignore[no-untyped-def]
        raise ValueError("template is broken")

    monkeypatch.setattr(calendar, "_send_chunk", broken)
    for _ in range(calendar.BATCH_MAX_ATTEMPTS):
        run_batches()
        db.session.execute(InvitationBatch.__table__.update().values(lease_until=None))
        db.session.commit()
    batch = db.session.scalars(select(InvitationBatch)).one()
    db.session.refresh(batch)
    assert batch.status == BatchStatus.FAILED
    assert batch.last_error == "ValueError: template is broken"


@pytest.mark.parametrize("title", [
    'Круглый стол "Преемственность", 1; 2', "🙂" * 300, "Я" * 300,
])
def test_odd_titles_make_valid_letters(title, smtp_server, people, make_event, invite, deliver):
    event = make_event(title=title)
    queue_requests(event, invite(event, [people.teacher]))
    deliver()
    [message] = smtp_server.messages
    [vevent] = vevents(message)
    assert str(vevent["SUMMARY"]) == title
    for line in calendar_part(message)[1].split(b"\r\n"):
        assert len(line) <= 75
    assert re.search(r"…, 3 Dec 2026", subject(message)) or len(title) <= 150
