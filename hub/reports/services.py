"""Reporting periods, organisations' reports and where each organisation stands.

The municipal coordinator sets periods and deadlines; each organisation's report is drafted
from the data (live figures, hub/reports/figures.py) until its coordinator submits it, which
freezes the figures; the municipal coordinator may reopen it. Functions change the session
and leave the commit to the caller."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hub.core.types import utcnow
from hub.directory.models import Organisation, Person
from hub.directory.validation import InvalidValue, clean_text
from hub.extensions import db
from hub.reports import figures as fig
from hub.reports.models import OrgReport, ReportPeriod, ReportStatus, Standing

TITLE_MAX = 200
COMMENT_MAX = 5000


class ReportError(InvalidValue):
    """Input a report or period cannot accept. ``errors`` maps field names to messages."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(" ".join(self.errors.values()))


# -- periods -----------------------------------------------------------------------------------

def _date(value: date | str | None, label: str) -> date:
    if isinstance(value, date):
        return value
    text = (value or "").strip()
    if not text:
        raise InvalidValue(_("%(field)s is required.", field=label))
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidValue(_("“%(value)s” is not a date: give it as YYYY-MM-DD.",
                             value=text[:40])) from None


def clean_period(title: str | None, starts_on: date | str | None, ends_on: date | str | None,
                 deadline: date | str | None) -> tuple[dict[str, Any], list[str]]:
    """The period's clean values and warnings, or ReportError naming each bad field."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    checks = {"title": lambda: clean_text(title, max_length=TITLE_MAX, required=True,
                                          field=_("Title")),
              "starts_on": lambda: _date(starts_on, _("Start date")),
              "ends_on": lambda: _date(ends_on, _("End date")),
              "deadline": lambda: _date(deadline, _("Deadline"))}
    for name, check in checks.items():
        try:
            values[name] = check()
        except InvalidValue as error:
            errors[name] = str(error)
    if "starts_on" in values and "ends_on" in values and values["ends_on"] < values["starts_on"]:
        errors["ends_on"] = _("The period ends before it starts: the end date must be on or "
                              "after the start date.")
    if errors:
        raise ReportError(errors)
    warnings = []
    if values["deadline"] < values["ends_on"]:
        warnings.append(_("The deadline is before the end of the period: reports submitted "
                          "before the period ends leave out its last events."))
    return values, warnings


def periods() -> list[ReportPeriod]:
    """Every period, the latest first."""
    return list(db.session.scalars(select(ReportPeriod).order_by(
        ReportPeriod.starts_on.desc(), ReportPeriod.id.desc())))


def create_period(actor: Person, title: str | None, starts_on: date | str | None,
                  ends_on: date | str | None, deadline: date | str | None,
                  ) -> tuple[ReportPeriod, list[str]]:
    """A new period (and its warnings)."""
    values, warnings = clean_period(title, starts_on, ends_on, deadline)
    period = ReportPeriod(created_by_id=actor.id, **values)
    db.session.add(period)
    db.session.flush()
    return period, warnings


def has_submissions(period: ReportPeriod) -> bool:
    return db.session.scalar(select(OrgReport.id).where(
        OrgReport.period_id == period.id, OrgReport.submitted_at.is_not(None)).limit(1)) \
        is not None


def _unchanged_once_submitted(period: ReportPeriod) -> None:
    if has_submissions(period):
        raise ReportError({"period": _("Reports have been submitted for this period: it can "
                                       "no longer be changed or deleted.")})


def update_period(period: ReportPeriod, title: str | None, starts_on: date | str | None,
                  ends_on: date | str | None, deadline: date | str | None) -> list[str]:
    """Change a period nobody has submitted for yet; returns the warnings."""
    _unchanged_once_submitted(period)
    values, warnings = clean_period(title, starts_on, ends_on, deadline)
    for name, value in values.items():
        setattr(period, name, value)
    db.session.flush()
    return warnings


def delete_period(period: ReportPeriod) -> None:
    """Delete a period nobody has submitted for (its draft comments go with it)."""
    _unchanged_once_submitted(period)
    db.session.delete(period)
    db.session.flush()


# -- reports -----------------------------------------------------------------------------------

def find_report(period: ReportPeriod, organisation_id: int) -> OrgReport | None:
    return db.session.scalar(select(OrgReport).where(
        OrgReport.period_id == period.id, OrgReport.organisation_id == organisation_id))


def report_of(period: ReportPeriod, organisation_id: int) -> OrgReport:
    """The organisation's report for the period, made as a draft on first use."""
    found = find_report(period, organisation_id)
    if found is not None:
        return found
    report = OrgReport(period_id=period.id, organisation_id=organisation_id)
    try:
        with db.session.begin_nested():
            db.session.add(report)
    except IntegrityError:  # made meanwhile by another request
        return find_report(period, organisation_id)  # type: ignore[return-value]
    return report


def save_comment(report: OrgReport, comment: str | None) -> None:
    """Keep the coordinator's comment on a draft."""
    if report.status == ReportStatus.SUBMITTED:
        raise ReportError({"comment": _("The report has been submitted; ask the municipal "
                                        "coordinator to reopen it to change it.")})
    try:
        report.comment = clean_comment(comment)
    except InvalidValue as error:
        raise ReportError({"comment": str(error)}) from None
    db.session.flush()


def clean_comment(comment: str | None) -> str:
    text = (comment or "").replace("\r\n", "\n").strip()
    if len(text) > COMMENT_MAX:
        raise InvalidValue(_("%(field)s is longer than %(n)d characters.", field=_("Comment"),
                             n=COMMENT_MAX))
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise InvalidValue(_("%(field)s contains control characters.", field=_("Comment")))
    return text


def submit(report: OrgReport, person: Person, comment: str | None,
           now: datetime | None = None) -> None:
    """Submit the report: the comment kept, the figures frozen as they are now."""
    now = now or utcnow()
    if report.id is not None:  # two submits at once: the second sees the first's
        db.session.refresh(report, with_for_update=True)
    save_comment(report, comment)
    report.figures = dict(
        fig.figures(report.period, [report.organisation_id], now=now)[report.organisation_id],
        computed_at=now.isoformat())
    report.status = ReportStatus.SUBMITTED
    report.submitted_at = now
    report.submitted_by_id = person.id
    db.session.flush()


def reopen(report: OrgReport) -> None:
    """Back to a draft with live figures (the municipal coordinator's decision)."""
    if report.status != ReportStatus.SUBMITTED:
        raise ReportError({"report": _("The report is not submitted: there is nothing to "
                                       "reopen.")})
    report.status = ReportStatus.DRAFT
    report.figures = None
    report.submitted_at = None
    report.submitted_by_id = None
    db.session.flush()


def figures_of(report: OrgReport | None, period: ReportPeriod,
               organisation_id: int) -> dict[str, Any]:
    """Frozen figures of a submitted report, else live ones."""
    if report is not None and report.status == ReportStatus.SUBMITTED and report.figures:
        return report.figures
    return fig.figures(period, [organisation_id])[organisation_id]


# -- standing ----------------------------------------------------------------------------------

def deadline_end(period: ReportPeriod, zone: str | None) -> datetime:
    """The end of the deadline day in the organisation's zone."""
    return datetime.combine(period.deadline + timedelta(days=1), time(0), fig.zone_of(zone))


def standing(period: ReportPeriod, organisation: Organisation, report: OrgReport | None,
             now: datetime | None = None) -> Standing:
    """Submitted (on time or late), overdue or not yet due."""
    end = deadline_end(period, organisation.timezone)
    if report is not None and report.status == ReportStatus.SUBMITTED and report.submitted_at:
        return Standing.LATE if report.submitted_at >= end else Standing.SUBMITTED
    return Standing.OVERDUE if (now or utcnow()) >= end else Standing.DUE


@dataclass(frozen=True)
class Row:
    """One organisation on the period's page and in its exports."""

    organisation: Organisation
    report: OrgReport | None
    standing: Standing
    figures: dict[str, Any]


def rows(period: ReportPeriod, now: datetime | None = None) -> list[Row]:
    """Every reporting organisation (and any other with a report) with its standing and
    figures: frozen when submitted, live otherwise (computed together, for all at once)."""
    reports = {r.organisation_id: r for r in period.reports}
    organisations = fig.reporting_organisations()
    extra = set(reports) - {o.id for o in organisations}
    if extra:
        organisations += fig.reporting_organisations(extra)
    live = fig.figures(period, [o.id for o in organisations
                                if _frozen(reports.get(o.id)) is None], now=now)
    return [Row(o, reports.get(o.id), standing(period, o, reports.get(o.id), now),
                _frozen(reports.get(o.id)) or live[o.id]) for o in organisations]


def _frozen(report: OrgReport | None) -> dict[str, Any] | None:
    if report is not None and report.status == ReportStatus.SUBMITTED and report.figures:
        return report.figures
    return None


#: Figures that add up across organisations.
SUMMED = ("events", "participants", "participants_people", "participants_guests",
          "teachers_credited", "credited_records", "hours", "active_teachers",
          "active_teachers_credited", "interns", "interns_completed")


def totals(period_rows: list[Row]) -> dict[str, Any]:
    """Sums over the organisations, the share of teachers over them all, and the standings."""
    result: dict[str, Any] = {name: sum(r.figures.get(name) or 0 for r in period_rows)
                              for name in SUMMED}
    result["hours"] = round(result["hours"], 2)
    result["teacher_share_percent"] = round(
        100 * result["active_teachers_credited"] / result["active_teachers"], 1) \
        if result["active_teachers"] else None
    result["standing"] = {s.name: sum(r.standing == s for r in period_rows) for s in Standing}
    return result
