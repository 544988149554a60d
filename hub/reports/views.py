"""The reports blueprint: reporting periods, organisations' reports, exports, the dashboard.

The municipal coordinator manages periods and sees every organisation; an organisation's
coordinator sees, comments and submits their own organisation's report. Teachers: 403."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from hub.auth.permissions import coordinators_only, is_coordinator_of, is_municipal, require
from hub.core.types import utcnow
from hub.directory.models import Organisation
from hub.extensions import db
from hub.reports import charts, export, services
from hub.reports import figures as fig
from hub.reports.jobs import register_jobs
from hub.reports.models import ReportPeriod, ReportStatus, Standing
from hub.scheduling.models import EventFormat, Level

bp = Blueprint("reports", __name__)
bp.record_once(lambda state: register_jobs())


# -- helpers -----------------------------------------------------------------------------------

def _period(period_id: int) -> ReportPeriod:
    return db.get_or_404(ReportPeriod, period_id)


def _organisation(period: ReportPeriod, organisation_id: int) -> Organisation:
    """An organisation that reports (or has a report for this period); 404 otherwise."""
    organisation = db.get_or_404(Organisation, organisation_id)
    reporting = fig.reporting_organisations()
    if organisation not in reporting and services.find_report(period, organisation.id) is None:
        abort(404)
    return organisation


def _may_view(organisation_id: int) -> bool:
    return is_municipal(current_user) or is_coordinator_of(current_user, organisation_id)


def _form_values() -> dict[str, str]:
    return {name: request.form.get(name, "") for name in
            ("title", "starts_on", "ends_on", "deadline")}


def _download(data: bytes, mimetype: str, ascii_name: str, name: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}")
    return response


def _row(period: ReportPeriod, organisation: Organisation) -> services.Row:
    report = services.find_report(period, organisation.id)
    return services.Row(organisation, report, services.standing(period, organisation, report),
                        services.figures_of(report, period, organisation.id))


# -- periods -----------------------------------------------------------------------------------

def _periods_page(values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                  status: int = 200) -> tuple[str, int]:
    items = services.periods()
    mine: dict[int, Any] = {}
    if not is_municipal(current_user):
        org = current_user.organisation
        for period in items:
            report = services.find_report(period, org.id)
            mine[period.id] = services.standing(period, org, report)
    return render_template("reports/periods.html", periods=items, mine=mine,
                           values=values or {}, errors=errors or {},
                           municipal=is_municipal(current_user)), status


@bp.get("/reports/periods")
@coordinators_only
def periods():  # type: ignore[no-untyped-def]
    return _periods_page()


@bp.post("/reports/periods")
@coordinators_only
def create_period():  # type: ignore[no-untyped-def]
    require(is_municipal(current_user))
    values = _form_values()
    try:
        period, warnings = services.create_period(current_user, **values)
        db.session.commit()
    except services.ReportError as error:
        db.session.rollback()
        return _periods_page(values, error.errors)
    flash(_("Period created: %(title)s.", title=period.title), "success")
    for warning in warnings:
        flash(warning, "warning")
    return redirect(url_for(".period", period_id=period.id))


@bp.route("/reports/periods/<int:period_id>/edit", methods=["GET", "POST"])
@coordinators_only
def edit_period(period_id: int):  # type: ignore[no-untyped-def]
    require(is_municipal(current_user))
    period = _period(period_id)
    if services.has_submissions(period):
        flash(_("Reports have been submitted for this period: it can no longer be changed or "
                "deleted."), "error")
        return redirect(url_for(".period", period_id=period.id))
    values = {"title": period.title, "starts_on": period.starts_on.isoformat(),
              "ends_on": period.ends_on.isoformat(), "deadline": period.deadline.isoformat()}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = _form_values()
        try:
            warnings = services.update_period(period, **values)
            db.session.commit()
        except services.ReportError as error:
            db.session.rollback()
            errors = error.errors
        else:
            flash(_("Changes saved."), "success")
            for warning in warnings:
                flash(warning, "warning")
            return redirect(url_for(".period", period_id=period.id))
    return render_template("reports/period_form.html", period=period, values=values,
                           errors=errors)


@bp.post("/reports/periods/<int:period_id>/delete")
@coordinators_only
def delete_period(period_id: int):  # type: ignore[no-untyped-def]
    require(is_municipal(current_user))
    period = _period(period_id)
    title = period.title
    try:
        services.delete_period(period)
        db.session.commit()
    except services.ReportError as error:
        db.session.rollback()
        for message in error.errors.values():
            flash(message, "error")
        return redirect(url_for(".period", period_id=period_id))
    flash(_("Period deleted: %(title)s.", title=title), "success")
    return redirect(url_for(".periods"))


@bp.get("/reports/periods/<int:period_id>")
@coordinators_only
def period(period_id: int):  # type: ignore[no-untyped-def]
    period = _period(period_id)
    if not is_municipal(current_user):
        return redirect(url_for(".report", period_id=period.id,
                                organisation_id=current_user.organisation_id))
    rows = services.rows(period)
    return render_template("reports/period.html", period=period, rows=rows,
                           totals=services.totals(rows), main=export.MAIN,
                           standings=Standing, locked=services.has_submissions(period),
                           distinct_events=len(fig.distinct_events(
                               period, [r.organisation.id for r in rows])))


@bp.get("/reports/periods/<int:period_id>.csv")
@coordinators_only
def period_csv(period_id: int):  # type: ignore[no-untyped-def]
    require(is_municipal(current_user))
    period = _period(period_id)
    rows = services.rows(period)
    data = export.period_csv(rows, services.totals(rows), current_user.timezone)
    return _download(data, "text/csv", f"report-{period.id}.csv", f"{period.title}.csv")


@bp.get("/reports/periods/<int:period_id>.xlsx")
@coordinators_only
def period_xlsx(period_id: int):  # type: ignore[no-untyped-def]
    require(is_municipal(current_user))
    period = _period(period_id)
    rows = services.rows(period)
    data = export.period_xlsx(period, rows, services.totals(rows), current_user.timezone)
    return _download(data, export.XLSX_TYPE, f"report-{period.id}.xlsx", f"{period.title}.xlsx")


# -- an organisation's report ------------------------------------------------------------------

@bp.route("/reports/periods/<int:period_id>/organisations/<int:organisation_id>",
          methods=["GET", "POST"])
@coordinators_only
def report(period_id: int, organisation_id: int):  # type: ignore[no-untyped-def]
    period = _period(period_id)
    organisation = _organisation(period, organisation_id)
    require(_may_view(organisation.id))
    errors: dict[str, str] = {}
    comment = None
    if request.method == "POST":
        require(is_coordinator_of(current_user, organisation.id))
        comment = request.form.get("comment", "")
        errors = _save_or_submit(period, organisation, comment)
        if not errors:
            return redirect(url_for(".report", period_id=period.id,
                                    organisation_id=organisation.id))
    row = _row(period, organisation)
    return render_template(
        "reports/report.html", period=period, organisation=organisation, row=row,
        main=export.MAIN, formats=EventFormat, levels=Level, errors=errors,
        comment=comment if comment is not None else (row.report.comment if row.report else ""),
        submitted=row.report is not None and row.report.status == ReportStatus.SUBMITTED,
        can_submit=is_coordinator_of(current_user, organisation.id),
        municipal=is_municipal(current_user),
        zone=fig.zone_of(organisation.timezone).key)


def _save_or_submit(period: ReportPeriod, organisation: Organisation,
                    comment: str) -> dict[str, str]:
    """Keep the comment, or submit when asked and confirmed; the errors to show, if any."""
    submitting = request.form.get("action") == "submit"
    if submitting and request.form.get("confirm") != "1":
        return {"confirm": _("Tick the box to confirm the figures before submitting.")}
    report = services.report_of(period, organisation.id)
    try:
        if submitting:
            services.submit(report, current_user, comment)
        else:
            services.save_comment(report, comment)
        db.session.commit()
    except services.ReportError as error:
        db.session.rollback()
        return error.errors
    flash(_("The report is submitted.") if submitting else _("Comment saved."), "success")
    return {}


@bp.post("/reports/periods/<int:period_id>/organisations/<int:organisation_id>/reopen")
@coordinators_only
def reopen(period_id: int, organisation_id: int):  # type: ignore[no-untyped-def]
    require(is_municipal(current_user))
    period = _period(period_id)
    organisation = _organisation(period, organisation_id)
    try:
        services.reopen(services.report_of(period, organisation.id))
        db.session.commit()
        flash(_("The report is reopened: its coordinator can change and submit it again."),
              "success")
    except services.ReportError as error:
        db.session.rollback()
        for message in error.errors.values():
            flash(message, "error")
    return redirect(url_for(".report", period_id=period.id, organisation_id=organisation.id))


@bp.get("/reports/periods/<int:period_id>/organisations/<int:organisation_id>.xlsx")
@coordinators_only
def report_xlsx(period_id: int, organisation_id: int):  # type: ignore[no-untyped-def]
    period = _period(period_id)
    organisation = _organisation(period, organisation_id)
    require(_may_view(organisation.id))
    data = export.report_xlsx(period, _row(period, organisation), current_user.timezone)
    return _download(data, export.XLSX_TYPE, f"report-{period.id}-{organisation.id}.xlsx",
                     f"{period.title} — {organisation.short_name}.xlsx")


# -- dashboard ---------------------------------------------------------------------------------

def current_school_year(today: date) -> int:
    """The first calendar year of the school year (September to August) `today` is in."""
    return today.year if today.month >= 9 else today.year - 1


def school_year(value: str | None, today: date) -> int | None:
    """The first calendar year of "2026/2027" (None when malformed); default: today's."""
    if not value:
        return current_school_year(today)
    first, _slash, second = value.partition("/")
    if not (first.isdigit() and second.isdigit() and len(first) == 4
            and int(second) == int(first) + 1 and 2000 <= int(first) <= 2100):
        return None
    return int(first)


@bp.get("/reports/dashboard")
@coordinators_only
def dashboard():  # type: ignore[no-untyped-def]
    today = utcnow().date()
    year = school_year(request.args.get("year"), today)
    if year is None:
        flash(_("Give the school year as 2026/2027."), "error")
        year = current_school_year(today)
    span = fig.Dates(date(year, 9, 1), date(year + 1, 8, 31))
    organisations = fig.reporting_organisations(
        None if is_municipal(current_user) else [current_user.organisation_id])
    ids = [o.id for o in organisations]
    per_org = fig.figures(span, ids)
    events = fig.distinct_events(span, ids)
    return render_template("reports/dashboard.html", year=year, **_charts(
        year, organisations, per_org, events), totals=_dashboard_totals(per_org, events),
        municipal=is_municipal(current_user), organisation=current_user.organisation)


def _charts(year: int, organisations: list[Organisation], per_org: dict[int, dict[str, Any]],
            events: list[Any]) -> dict[str, Any]:
    months = [(year + (m < 9), m) for m in (*range(9, 13), *range(1, 9))]
    counts = dict.fromkeys(months, 0)
    formats = dict.fromkeys(EventFormat, 0)
    levels = dict.fromkeys(Level, 0)
    for _id, fmt, level, start, zone in events:
        local = start.astimezone(fig.zone_of(zone))
        counts[(local.year, local.month)] = counts.get((local.year, local.month), 0) + 1
        formats[EventFormat(fmt)] += 1
        levels[Level(level)] += 1
    month_items = [(format_date(date(y, m, 1), "LLL yy"), counts[(y, m)]) for y, m in months]
    hours = sorted(((o.short_name, per_org[o.id]["hours"]) for o in organisations),
                   key=lambda item: -item[1])[:20]
    return {
        "by_month": charts.columns(_("Events per month"), month_items),
        "by_hours": charts.bars(_("Credited hours per organisation (top 20)"),
                                [h for h in hours if h[1] > 0]),
        "by_format": charts.bars(_("Events by format"),
                                 [(f.label, n) for f, n in formats.items() if n]),
        "by_level": charts.bars(_("Events by level"),
                                [(lv.label, n) for lv, n in levels.items() if n]),
    }


def _dashboard_totals(per_org: dict[int, dict[str, Any]], events: list[Any]) -> dict[str, Any]:
    def total(name: str) -> Any:
        return sum(row[name] or 0 for row in per_org.values())

    teachers, credited = total("active_teachers"), total("active_teachers_credited")
    return {"events": len(events), "participants": total("participants"),
            "hours": round(total("hours"), 2), "teachers_credited": total("teachers_credited"),
            "teacher_share_percent": round(100 * credited / teachers, 1) if teachers else None,
            "interns": total("interns"), "interns_completed": total("interns_completed")}
