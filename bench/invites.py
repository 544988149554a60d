"""Invitations for a 500-person webinar: what the organiser's request waits for, and what the
worker then does.

- enqueue: queue_requests(event, 500 invitations) + commit: the organiser's transaction writes
  one InvitationBatch row (the invitations themselves are made by scheduling, timed apart);
- worker: run_batches() expands the batch into 500 personal letters (iCalendar, text, HTML,
  MIME) in chunks of 100, each chunk committed;
- baseline: 500 plain emails (text + HTML, no iCalendar) queued with enqueue_email in one
  transaction: the least a synchronous fan-out in the request would cost.

    .venv/bin/python bench/invites.py     (BENCH_DATABASE_URL=postgresql://… for PostgreSQL)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from time import perf_counter

from _setup import bench_app, organisation, people
from sqlalchemy import func, select

from hub.calendar.invitations import new_invitation, queue_requests, run_batches
from hub.extensions import db
from hub.outbox.models import OutboxMessage
from hub.outbox.services import enqueue_email
from hub.scheduling.models import Event, EventFormat, EventPerson, EventRole, EventStatus

PEOPLE = 500


def main() -> None:
    with bench_app():
        org = organisation()
        organiser, *audience = people(org, PEOPLE + 1)
        start = datetime(2026, 12, 10, 14, 0, tzinfo=UTC)
        event = Event(title="Вебинар для родителей «Чем занять ребёнка дома»",
                      format=EventFormat.WEBINAR, description_html="<p>Программа вебинара.</p>",
                      start_at=start, end_at=start + timedelta(hours=1),
                      timezone="Asia/Yekaterinburg", status=EventStatus.SCHEDULED,
                      created_by=organiser)
        event.people.append(EventPerson(person=organiser, role=EventRole.ORGANISER))
        db.session.add(event)
        db.session.commit()

        began = perf_counter()
        invitations = [new_invitation(event, person) for person in audience]
        db.session.flush()
        made_s = perf_counter() - began

        began = perf_counter()
        queue_requests(event, invitations)
        db.session.commit()
        enqueue_s = perf_counter() - began

        began = perf_counter()
        letters = run_batches(budget_seconds=600)
        worker_s = perf_counter() - began
        count = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        assert letters == count == PEOPLE, (letters, count)
        size = db.session.scalar(select(func.avg(func.length(OutboxMessage.mime))))

        db.session.execute(OutboxMessage.__table__.delete())
        db.session.commit()
        began = perf_counter()
        for person in audience:
            enqueue_email(person.email, f"Приглашение: {event.title}",
                          "Здравствуйте!\nСсылка: http://127.0.0.1:5000/j/…\n",
                          "<p>Здравствуйте!</p>", kind="bench")
        db.session.commit()
        baseline_s = perf_counter() - began

        print(f"invites: {PEOPLE} invitation rows made in {made_s:.3f} s (scheduling's part)")
        print(f"invites: worker expanded the batch into {letters} letters in {worker_s:.2f} s "
              f"({letters / worker_s:.0f} letters/s, {size / 1024:.1f} KiB each)")
        print(f"invites: baseline, {PEOPLE} plain emails queued in the request: "
              f"{baseline_s:.2f} s")
        print(f"invites people={PEOPLE} enqueue_s={enqueue_s:.3f}")


if __name__ == "__main__":
    main()
