"""Portfolios: a person's events, roles, hours and certificates for a period, on a page and as
PDF and XLSX for attestation."""

from __future__ import annotations

from typing import Any

from flask import Response, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_login import current_user, login_required

from hub.auth.permissions import require
from hub.core.routing import MAX_ID
from hub.directory.models import Person
from hub.extensions import db
from hub.growth.portfolio import (
    PeriodError,
    can_view_portfolio,
    colleagues_of,
    parse_period,
    portfolio_of,
)
from hub.growth.portfolio_export import portfolio_pdf, portfolio_xlsx
from hub.growth.views import bp

MIMETYPES = {"pdf": "application/pdf",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@bp.app_template_filter("hours")
def hours_filter(value: float) -> str:
    """Hours as the viewer's locale writes numbers: 1,5 in Russian."""
    return format_decimal(round(value or 0.0, 2))


def _person(person_id: int | None) -> Person:
    """The person whose portfolio is asked for, after the permission check."""
    person = current_user if person_id is None else db.get_or_404(Person, person_id)
    require(can_view_portfolio(current_user, person))
    return person  # type: ignore[return-value]


def _query() -> dict[str, str]:
    """The period as the query gave it (kept in links and the form)."""
    return {key: request.args.get(key, "").strip()[:20] for key in ("from", "to")}


def _page(person_id: int | None) -> Any:
    person = _person(person_id)
    query = _query()
    context: dict[str, Any] = {"person": person, "own": person.id == current_user.id,
                               "query": query, "portfolio": None, "error": None,
                               "colleagues": colleagues_of(current_user)}
    try:
        period = parse_period(query["from"], query["to"], person.timezone)
    except PeriodError as error:
        context["error"] = str(error)
        return render_template("growth/portfolio.html", **context), 400
    portfolio = portfolio_of(person, period)
    peak = max((g.hours for g in portfolio.summary.by_month), default=0.0)
    context.update(portfolio=portfolio, peak=peak,
                   export_args={k: v for k, v in query.items() if v})
    return render_template("growth/portfolio.html", **context)


def _export(person_id: int | None, kind: str) -> Any:
    person = _person(person_id)
    query = _query()
    try:
        period = parse_period(query["from"], query["to"], person.timezone)
    except PeriodError as error:
        return render_template("core/error.html", code=400, message=str(error)), 400
    portfolio = portfolio_of(person, period)
    data = portfolio_pdf(portfolio) if kind == "pdf" else portfolio_xlsx(portfolio)
    response = Response(data, mimetype=MIMETYPES[kind])
    name = f"portfolio-{person.id}-{period.start.isoformat()}-{period.end.isoformat()}.{kind}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.app_template_global("may_view_portfolio")
def may_view_portfolio(person: Person) -> bool:
    """Whether the signed-in viewer may open this person's portfolio (the directory's page)."""
    return current_user.is_authenticated and can_view_portfolio(current_user, person)


@bp.get("/portfolio")
@login_required
def portfolio():  # type: ignore[no-untyped-def]
    """The signed-in person's portfolio; ?person=<id> (a coordinator's choice) goes to theirs."""
    chosen = request.args.get("person", "").strip()
    if chosen.isascii() and chosen.isdigit() and 0 < int(chosen) <= MAX_ID \
            and int(chosen) != current_user.id:
        args = {k: v for k, v in _query().items() if v}
        return redirect(url_for(".portfolio_of_person", person_id=int(chosen), **args))
    return _page(None)


@bp.get("/people/<int:person_id>/portfolio")
@login_required
def portfolio_of_person(person_id: int):  # type: ignore[no-untyped-def]
    return _page(person_id)


@bp.get("/portfolio.<any(pdf, xlsx):kind>")
@login_required
def portfolio_export(kind: str):  # type: ignore[no-untyped-def]
    return _export(None, kind)


@bp.get("/people/<int:person_id>/portfolio.<any(pdf, xlsx):kind>")
@login_required
def portfolio_export_of(person_id: int, kind: str):  # type: ignore[no-untyped-def]
    return _export(person_id, kind)
