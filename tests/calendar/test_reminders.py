"""Reminders: at each offset before the start, never twice, none for cancelled events or for
people who declined, sent by the worker loop's job."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from hub.calendar.jobs import register_jobs
from hub.calendar.models import ReminderSent
from hub.calendar.reminders import send_due_reminders
from hub.core.types import utcnow
from hub.extensions import db
from hub.outbox.models import OutboxMessage
from hub.outbox.worker import WorkerSettings, run_forever
from hub.scheduling.models import EventStatus, InvitationState, PartStat


def reminders() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind.like("reminder:%")).order_by(OutboxMessage.id)))


def invited_long_ago(rows) -> None:  # type: ignore[no-untyped-def]
    for row in rows:
        row.created_at = utcnow() - timedelta(days=10)
    db.session.commit()


def test_a_day_and_an_hour_before_and_never_twice(people, make_event, invite):
    start = utcnow() + timedelta(days=3)
    event = make_event(start=start)
    invited_long_ago(invite(event, [people.teacher]))
    assert send_due_reminders(now=start - timedelta(days=2)) == 0
    assert send_due_reminders(now=start - timedelta(hours=23, minutes=59)) == 1
    db.session.commit()
    assert send_due_reminders(now=start - timedelta(hours=23, minutes=58)) == 0
    assert send_due_reminders(now=start - timedelta(hours=2)) == 0
    assert send_due_reminders(now=start - timedelta(minutes=59)) == 1
    db.session.commit()
    assert send_due_reminders(now=start - timedelta(minutes=30)) == 0
    assert send_due_reminders(now=start + timedelta(minutes=1)) == 0
    [day, hour] = reminders()
    assert (day.kind.rsplit(":", 1)[1], hour.kind.rsplit(":", 1)[1]) == ("1440", "60")
    assert day.subject.startswith("Reminder: ") and hour.subject.startswith("Reminder: ")
    assert db.session.scalar(select(func.count()).select_from(ReminderSent)) == 2


def test_the_letter_has_the_join_link_both_zones_and_a_way_to_decline(people, make_event,
                                                                      invite):
    start = utcnow() + timedelta(hours=5)
    event = make_event(start=start, reminder_minutes="360")
    invited_long_ago(invite(event, [people.teacher]))
    assert send_due_reminders() == 1
    db.session.commit()
    [message] = reminders()
    from email import message_from_string

    parsed = message_from_string(message.mime)
    text = parsed.get_payload()[0].get_payload(decode=True).decode()
    assert "the event starts in 5 hours" in text
    assert "/j/" in text and "/rsvp/" in text and "answer=declined" in text
    assert "Asia/Yekaterinburg" in text and "Europe/Moscow" in text


def test_no_reminders_for_declined_removed_cancelled_or_drafts(people, make_event, invite,
                                                                make_person):
    start = utcnow() + timedelta(minutes=30)
    event = make_event(start=start)
    declined, removed, fine = invite(event, [people.teacher, people.other_teacher,
                                             people.municipal])
    declined.partstat = PartStat.DECLINED
    removed.state = InvitationState.REMOVED
    cancelled = make_event(title="Отменено", start=start, status=EventStatus.CANCELLED)
    draft = make_event(title="Черновик", start=start, status=EventStatus.DRAFT)
    others = invite(cancelled, [people.teacher]) + invite(draft, [people.teacher])
    invited_long_ago([declined, removed, fine, *others])
    assert send_due_reminders() == 1
    db.session.commit()
    [message] = reminders()
    assert message.kind.startswith(f"reminder:{fine.id}:")


def test_only_the_nearest_due_reminder_goes_and_none_from_before_the_invitation(
        people, make_event, invite):
    start = utcnow() + timedelta(minutes=40)
    late = make_event(start=start)  # the worker was stopped: both offsets are due
    invited_long_ago(invite(late, [people.teacher]))
    fresh_event = make_event(title="Приглашены только что", start=start)
    invite(fresh_event, [people.other_teacher])  # invited now: both moments passed before
    assert send_due_reminders() == 1
    db.session.commit()
    [message] = reminders()
    assert message.kind.endswith(":60")
    assert db.session.scalar(select(func.count()).select_from(ReminderSent)) == 2
    assert send_due_reminders() == 0


def test_a_moved_event_gets_new_reminders(people, make_event, invite):
    start = utcnow() + timedelta(minutes=30)
    event = make_event(start=start, reminder_minutes="60")
    invited_long_ago(invite(event, [people.teacher]))
    assert send_due_reminders() == 1
    db.session.commit()
    event.start_at += timedelta(days=1, minutes=-30)
    event.end_at += timedelta(days=1, minutes=-30)
    db.session.commit()
    assert send_due_reminders() == 0
    assert send_due_reminders(now=event.start_at - timedelta(minutes=59)) == 1


def test_the_worker_loop_runs_the_reminder_job_and_sends_it(app, smtp_server, people,
                                                            make_event, invite):
    register_jobs()
    start = utcnow() + timedelta(minutes=50)
    event = make_event(start=start)
    invited_long_ago(invite(event, [people.teacher]))
    stop = threading.Event()
    settings = WorkerSettings.from_config(app.config, poll_seconds=0.05)
    worker = threading.Thread(target=run_forever, args=(app, stop),
                              kwargs={"settings": settings})
    worker.start()
    try:
        for _ in range(200):
            if smtp_server.messages:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        worker.join(10)
    [message] = smtp_server.messages
    assert message["Subject"] and smtp_server.envelopes[0][1] == ["teacher@example.org"]
    assert len(reminders()) == 1
