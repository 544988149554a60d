"""Reminders of report deadlines: a week and a day before the end of the deadline day in each
organisation's zone, to its coordinators, never twice, none once the report is submitted or
the deadline has passed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from email import message_from_string, policy
from email.header import decode_header, make_header

from sqlalchemy import select

from hub.extensions import db
from hub.outbox.models import OutboxMessage
from hub.outbox.worker import _jobs
from hub.reports import services
from hub.reports.models import ReportPeriod
from hub.reports.reminders import send_due_reminders


def _sent() -> list[tuple[str, str]]:
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind ==
                                                          "report_reminder")
                              .order_by(OutboxMessage.id))
    return [(m.to_addr, str(make_header(decode_header(m.subject)))) for m in rows]


def test_a_week_and_a_day_before_never_twice(people, other_coordinator) -> None:
    period = ReportPeriod(title="Первое полугодие", starts_on=date(2026, 9, 1),
                          ends_on=date(2026, 12, 13), deadline=date(2026, 12, 13))
    db.session.add(period)
    db.session.commit()
    assert send_due_reminders(datetime(2026, 12, 6, 12, 0, tzinfo=UTC)) == 0  # 7 days 9 h
    # a week before: Moscow's 13 Dec ends at 21:00 UTC, Yekaterinburg's at 19:00 UTC
    assert send_due_reminders(datetime(2026, 12, 6, 20, 0, tzinfo=UTC)) == 1
    assert send_due_reminders(datetime(2026, 12, 6, 21, 30, tzinfo=UTC)) == 1
    db.session.commit()
    assert {to for to, _subject in _sent()} == {"coordinator@example.org",
                                                "other-coordinator@example.org"}
    assert send_due_reminders(datetime(2026, 12, 8, 9, 0, tzinfo=UTC)) == 0  # never twice
    services.submit(services.report_of(period, people.coordinator.organisation_id),
                    people.coordinator, "", now=datetime(2026, 12, 10, 9, 0, tzinfo=UTC))
    assert send_due_reminders(datetime(2026, 12, 13, 9, 0, tzinfo=UTC)) == 1  # the day before
    db.session.commit()
    assert _sent()[-1][0] == "other-coordinator@example.org"
    assert "Первое полугодие" in _sent()[-1][1]
    assert send_due_reminders(datetime(2026, 12, 14, 9, 0, tzinfo=UTC)) == 0  # past: none


def test_the_letter_links_to_the_report(people) -> None:
    period = ReportPeriod(title="Второе полугодие", starts_on=date(2027, 1, 1),
                          ends_on=date(2027, 5, 31), deadline=date(2027, 6, 1))
    db.session.add(period)
    db.session.commit()
    send_due_reminders(datetime(2027, 5, 31, 12, 0, tzinfo=UTC))
    db.session.commit()
    message = db.session.scalars(select(OutboxMessage)).one()
    parsed = message_from_string(message.mime, policy=policy.default)
    body = parsed.get_body(("plain",)).get_content()
    assert f"/reports/periods/{period.id}/organisations/{people.coordinator.organisation_id}" \
        in body
    assert "reports.reminders" in _jobs
