"""Reminders of report deadlines (job "reports.reminders" of the outbox worker loop).

An organisation whose report for a period is not submitted gets a reminder REMIND_DAYS_BEFORE
the end of the deadline day (its own zone): an email to each of its active coordinators, in
their language, with the link to the report. When several are due at once (the worker was
stopped, the period was made late) only the nearest is sent, and all are recorded. Never
twice: a ReportReminder row (period, organisation, days) is inserted in the same transaction
as the emails; of two workers, the one whose insert fails sends nothing. After the deadline
nothing is sent (the municipal coordinator sees who is overdue)."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import formataddr

from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hub.auth.services import absolute_url
from hub.calendar.messages import greeting_name, person_locale
from hub.core.types import utcnow
from hub.directory.models import Organisation, Person, Role
from hub.extensions import db
from hub.outbox.services import enqueue_email
from hub.reports import services
from hub.reports.figures import reporting_organisations
from hub.reports.models import OrgReport, ReportPeriod, ReportReminder, ReportStatus

#: Days before the end of the deadline day at which the coordinators are reminded.
REMIND_DAYS_BEFORE = (7, 1)


def send_due_reminders(now: datetime | None = None) -> int:
    """Queue the reminders that are due; returns the emails queued (the caller commits)."""
    now = now or utcnow()
    today = now.date()
    periods = db.session.scalars(select(ReportPeriod).where(
        ReportPeriod.deadline >= today - timedelta(days=1),
        ReportPeriod.deadline <= today + timedelta(days=max(REMIND_DAYS_BEFORE) + 1)))
    queued = 0
    for period in periods:
        submitted = set(db.session.scalars(select(OrgReport.organisation_id).where(
            OrgReport.period_id == period.id, OrgReport.status == ReportStatus.SUBMITTED)))
        for organisation in reporting_organisations():
            if organisation.id not in submitted:
                queued += _remind(period, organisation, now)
    return queued


def _remind(period: ReportPeriod, organisation: Organisation, now: datetime) -> int:
    end = services.deadline_end(period, organisation.timezone)
    due = [days for days in REMIND_DAYS_BEFORE if end - timedelta(days=days) <= now < end]
    if not due:
        return 0
    claimed = False
    for days in due:
        try:
            with db.session.begin_nested():
                db.session.add(ReportReminder(period_id=period.id,
                                              organisation_id=organisation.id,
                                              days_before=days))
            claimed = True
        except IntegrityError:  # sent before, or by another worker just now
            continue
    if not claimed:
        return 0
    coordinators = db.session.scalars(select(Person).where(
        Person.organisation_id == organisation.id, Person.role == Role.ORG_COORDINATOR,
        Person.active.is_(True)))
    count = 0
    for person in coordinators:
        _letter(period, organisation, person)
        count += 1
    return count


def _letter(period: ReportPeriod, organisation: Organisation, person: Person) -> None:
    link = absolute_url("reports.report", period_id=period.id, organisation_id=organisation.id)
    with force_locale(person_locale(person)):
        deadline = format_date(period.deadline, "long")
        subject = _("Report due by %(date)s: %(title)s", date=deadline, title=period.title)
        lines = [
            _("Dear %(name)s,", name=greeting_name(person)),
            _("the report of %(organisation)s for «%(title)s» is due by the end of %(date)s. "
              "The hub has drafted it from the events and attendance: check the figures, add "
              "a comment and submit it.", organisation=organisation.short_name,
              title=period.title, date=deadline),
            link,
        ]
    text = "\n\n".join(lines) + "\n"
    html = "".join(f"<p>{escape(line)}</p>" for line in lines[:-1]) + \
        f'<p><a href="{escape(link)}">{escape(link)}</a></p>'
    enqueue_email(formataddr((person.full_name, person.email)), subject, text, html,
                  kind="report_reminder")
