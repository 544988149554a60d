"""Portfolios: the events a person attended in a period with role, status and hours, the
totals by format, role, level and month, who may see them, and the PDF and XLSX exports."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import event as sa_event

from hub.attendance.models import GrowthRole, Status
from hub.extensions import db
from hub.growth import certificates
from hub.growth.portfolio import (
    Period,
    PeriodError,
    entries_for,
    parse_period,
    portfolio_of,
    school_year,
)
from hub.scheduling.models import EventFormat, EventPerson, EventRole, EventStatus, Level
from tests.calendar.conftest import at
from tests.growth.records import after, attend


@pytest.fixture
def record(make_event, event, people):  # type: ignore[no-untyped-def]
    """The teacher's year: the December seminar (participant, 1.5 h, with a certificate), an
    October webinar (speaker, 2 h, regional), a talk on 1 November Moscow time (31 October in
    UTC), a seminar of the year before, one missed and one cancelled event."""
    webinar = make_event(title="Вебинар «Чем занять ребёнка дома»", format=EventFormat.WEBINAR,
                         start=at("Europe/Moscow", 2026, 10, 14, 15, 0), minutes=120,
                         level=Level.REGIONAL)
    webinar.people.append(EventPerson(person=people.teacher, role=EventRole.SPEAKER))
    night = make_event(title="=1+1 Круглый стол", format=EventFormat.ROUND_TABLE,
                       start=datetime(2026, 10, 31, 22, 0, tzinfo=UTC), minutes=60)
    old = make_event(title="Мастер-класс «Мульти-пульти»", format=EventFormat.MASTER_CLASS,
                     start=at("Europe/Moscow", 2026, 3, 10, 10, 0), minutes=60)
    missed = make_event(title="Пропущенный", start=at("Europe/Moscow", 2026, 11, 10, 10, 0))
    cancelled = make_event(title="Отменённый", start=at("Europe/Moscow", 2026, 11, 11, 10, 0),
                           status=EventStatus.CANCELLED)
    db.session.commit()
    with after(event):
        for held in (webinar, night, old, event, cancelled):
            attend(held, people.teacher, people.coordinator)
        attend(missed, people.teacher, people.coordinator, minutes=0)
        certificates.issue_for(attend(event, people.teacher, people.coordinator))
        attend(event, people.other_teacher, people.coordinator)
        db.session.commit()
    return {"event": event, "webinar": webinar, "night": night, "old": old}


def test_the_school_year_and_the_period() -> None:
    assert school_year(date(2026, 11, 25)) == Period(date(2026, 9, 1), date(2027, 8, 31))
    assert school_year(date(2027, 8, 31)).start == date(2026, 9, 1)
    now = datetime(2026, 8, 31, 21, 30, tzinfo=UTC)  # 1 September in Moscow
    assert parse_period(None, "", "Europe/Moscow", now).start == date(2026, 9, 1)
    assert parse_period(" 2026-10-01 ", None, "Europe/Moscow", now) == Period(
        date(2026, 10, 1), date(2027, 8, 31))
    assert len(Period(date(2026, 9, 1), date(2027, 8, 31)).months()) == 12


@pytest.mark.parametrize("start, end, message", [
    ("2026-13-01", "", "is not a date"),
    ("01.09.2026", "", "is not a date"),
    ("2026-10-01", "2026-09-01", "ends before it starts"),
    ("2010-01-01", "2026-01-01", "too long"),
    ("0001-01-01", "0001-01-02", "between 2000 and 2100"),
    ("2026-01-01", "9999-12-31", "between 2000 and 2100"),
])
def test_bad_periods_are_refused_with_a_reason(start, end, message) -> None:
    with pytest.raises(PeriodError, match=message):
        parse_period(start, end, "Europe/Moscow")


def test_totals_and_groups_for_the_school_year(record, people) -> None:
    period = school_year(date(2026, 11, 25))
    portfolio = portfolio_of(people.teacher, period)
    titles = [e.title for e in portfolio.entries]
    assert titles == [record["webinar"].title, record["night"].title, record["event"].title]
    summary = portfolio.summary
    assert (summary.events, summary.credited_events, summary.hours) == (3, 3, 4.5)
    assert [(g.key, g.events, g.hours) for g in summary.by_format] == [
        (EventFormat.WEBINAR, 1, 2.0), (EventFormat.SEMINAR_PRACTICUM, 1, 1.5),
        (EventFormat.ROUND_TABLE, 1, 1.0)]
    assert [(g.key, g.hours) for g in summary.by_role] == [
        (GrowthRole.PARTICIPANT, 2.5), (GrowthRole.SPEAKER, 2.0)]
    assert [(g.key, g.hours) for g in summary.by_level] == [
        (Level.MUNICIPAL, 2.5), (Level.REGIONAL, 2.0)]
    months = {g.key: g.hours for g in summary.by_month}
    assert len(months) == 12 and months[date(2026, 9, 1)] == 0
    assert (months[date(2026, 10, 1)], months[date(2026, 11, 1)],
            months[date(2026, 12, 1)]) == (2.0, 1.0, 1.5)  # the night's talk: 1 Nov in Moscow
    assert [c.title for c in portfolio.certificates] == [record["event"].title]


def test_the_period_filters_by_the_persons_days(record, people) -> None:
    previous = entries_for(people.teacher.id, Period(date(2025, 9, 1), date(2026, 8, 31)),
                           people.teacher.timezone)
    assert [e.title for e in previous] == [record["old"].title]
    october = entries_for(people.teacher.id, Period(date(2026, 10, 1), date(2026, 10, 31)),
                          "Europe/Moscow")
    assert [e.title for e in october] == [record["webinar"].title]
    assert entries_for(people.teacher.id, Period(date(2026, 10, 1), date(2026, 10, 31)),
                       "UTC")[-1].title == record["night"].title


def test_the_excused_stay_without_hours(record, people) -> None:
    from hub.attendance import services

    with after(record["event"]):
        services.set_override(services.record_of(record["event"], people.teacher),
                              Status.EXCUSED, "болезнь", people.coordinator)
    entry = [e for e in portfolio_of(people.teacher, school_year(date(2026, 11, 25))).entries
             if e.event_id == record["event"].id][0]
    assert (entry.status, entry.credited, entry.hours) == (Status.EXCUSED, False, 0.0)


def test_a_portfolio_takes_two_queries(record, people) -> None:
    person = people.teacher
    zone = person.timezone  # the organisation is loaded
    statements: list[str] = []

    def count(*args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        statements.append(args[2])

    sa_event.listen(db.engine, "before_cursor_execute", count)
    try:
        portfolio_of(person, school_year(date(2026, 11, 25)))
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", count)
    assert zone and len(statements) == 2, statements


# -- pages and who sees them --------------------------------------------------------------------

def test_the_teacher_sees_their_own(client, login_as, record, people) -> None:
    login_as(people.teacher)
    page = client.get("/portfolio")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert record["webinar"].title in text
    assert "Мульти-пульти" not in text and "Пропущенный" not in text
    assert "Отменённый" not in text and "4.5" in text
    assert "/portfolio.pdf" in text and "/portfolio.xlsx" in text
    previous = client.get("/portfolio?from=2025-09-01&to=2026-08-31").get_data(as_text=True)
    assert "Мульти-пульти" in previous and "Чем занять" not in previous


def test_coordinators_see_their_peoples(client, login_as, record, people,
                                        other_coordinator) -> None:
    login_as(people.coordinator)
    assert client.get(f"/people/{people.teacher.id}/portfolio").status_code == 200
    assert client.get(f"/people/{people.other_teacher.id}/portfolio").status_code == 403
    client.post("/logout")
    login_as(other_coordinator)
    assert client.get(f"/people/{people.teacher.id}/portfolio").status_code == 403
    assert client.get(f"/people/{people.teacher.id}/portfolio.pdf").status_code == 403
    assert client.get(f"/people/{people.other_teacher.id}/portfolio").status_code == 200


def test_a_coordinator_picks_a_colleague(client, login_as, record, people) -> None:
    login_as(people.coordinator)
    page = client.get("/portfolio").get_data(as_text=True)
    assert f'<option value="{people.teacher.id}"' in page
    assert f'value="{people.other_teacher.id}"' not in page
    picked = client.get(f"/portfolio?person={people.teacher.id}&from=2026-10-01&to=")
    assert picked.status_code == 302
    assert picked.headers["Location"].endswith(
        f"/people/{people.teacher.id}/portfolio?from=2026-10-01")
    assert client.get(f"/portfolio?person={people.coordinator.id}").status_code == 200
    assert client.get("/portfolio?person=abc").status_code == 200


def test_the_municipal_coordinator_sees_all(client, login_as, record, people) -> None:
    login_as(people.municipal)
    for person in (people.teacher, people.other_teacher):
        assert client.get(f"/people/{person.id}/portfolio").status_code == 200


def test_a_teacher_may_not_see_anothers(client, login_as, record, people) -> None:
    login_as(people.teacher)
    assert client.get(f"/people/{people.other_teacher.id}/portfolio").status_code == 403
    assert client.get(f"/people/{people.teacher.id}/portfolio").status_code == 200


def test_bad_dates_give_a_message_not_an_error(client, login_as, people) -> None:
    login_as(people.teacher)
    for query in ("from=2026-02-30", "from=2026-10-01&to=2026-09-01", "to=tomorrow",
                  "to=9999-12-31", "from=%00"):
        page = client.get(f"/portfolio?{query}")
        assert page.status_code == 400, query
        text = page.get_data(as_text=True)
        assert "date" in text or "ends before" in text or "between" in text
        assert client.get(f"/portfolio.pdf?{query}").status_code == 400
        assert client.get(f"/portfolio.xlsx?{query}").status_code == 400


def test_the_pdf_export(client, login_as, record, people) -> None:
    login_as(people.coordinator)
    response = client.get(f"/people/{people.teacher.id}/portfolio.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert b"/FontFile2" in response.data
    assert "attachment" in response.headers["Content-Disposition"]


def test_the_xlsx_export(client, login_as, record, people) -> None:
    login_as(people.teacher)
    response = client.get("/portfolio.xlsx?from=2026-09-01&to=2026-12-31")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Events", "Totals"]
    rows = [[c for c in row] for row in book["Events"].iter_rows(values_only=True)]
    titles = [row[2] for row in rows if isinstance(row[0], int)]
    assert titles == [record["webinar"].title, record["night"].title, record["event"].title]
    assert rows[0][0] == people.teacher.full_name
    totals = {row[0]: row[1] for row in book["Totals"].iter_rows(values_only=True) if row}
    assert totals["Credited hours"] == 4.5 and totals["Credited events"] == 3
    assert totals["Webinar"] == 1


def test_the_directory_page_links_the_portfolio_for_those_who_may_see_it(
        client, login_as, people, other_coordinator) -> None:
    link = f'href="/people/{people.teacher.id}/portfolio"'
    login_as(people.coordinator)
    assert link in client.get(f"/people/{people.teacher.id}").get_data(as_text=True)
    login_as(other_coordinator)
    page = client.get(f"/people/{people.teacher.id}")
    assert page.status_code != 200 or link not in page.get_data(as_text=True)
