"""Reporting periods and organisations' reports through the pages: periods with bad dates,
submitting (figures frozen), late and overdue, reopening, who may see what, the exports."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import func, select

from hub import create_app
from hub.extensions import db
from hub.reports import services
from hub.reports.models import OrgReport, ReportPeriod, ReportStatus, Standing
from tests.conftest import PASSWORD, FreshContextClient, login

PERIOD = {"title": "Второе полугодие", "starts_on": "2027-01-01", "ends_on": "2027-05-31",
          "deadline": "2027-06-01"}


def _periods() -> int:
    return db.session.scalar(select(func.count(ReportPeriod.id)))


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"ends_on": "2026-12-31"}, "ends_on", "ends before it starts"),
    ({"starts_on": "13.12.2026"}, "starts_on", "“13.12.2026” is not a date"),
    ({"deadline": ""}, "deadline", "Deadline is required"),
    ({"title": "  "}, "title", "Title is required"),
])
def test_a_period_with_bad_input_is_refused_with_a_clear_message(change, field, message,
                                                                    people, login_as) -> None:
    client = login_as(people.municipal)
    response = client.post("/reports/periods", data={**PERIOD, **change})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page and 'aria-invalid="true"' in page
    assert _periods() == 0


def test_a_period_is_created_and_a_deadline_before_its_end_only_warns(people, login_as) -> None:
    client = login_as(people.municipal)
    response = client.post("/reports/periods", data={**PERIOD, "deadline": "2027-05-20"},
                           follow_redirects=True)
    assert response.status_code == 200
    assert "The deadline is before the end of the period" in response.get_data(as_text=True)
    period = db.session.scalars(select(ReportPeriod)).one()
    assert (period.title, period.starts_on, period.ends_on, period.deadline) == (
        "Второе полугодие", date(2027, 1, 1), date(2027, 5, 31), date(2027, 5, 20))
    assert period.created_by_id == people.municipal.id


def test_the_coordinator_cannot_create_periods(people, login_as) -> None:
    assert login_as(people.coordinator).post("/reports/periods", data=PERIOD).status_code == 403
    assert _periods() == 0


def _report_url(world, organisation) -> str:  # type: ignore[no-untyped-def]
    return f"/reports/periods/{world.period.id}/organisations/{organisation.id}"


def test_submitting_freezes_the_figures(world, people, login_as, attend, make_person) -> None:
    client = login_as(people.coordinator)
    url = _report_url(world, world.kindergarten)
    refused = client.post(url, data={"action": "submit", "comment": "Всё по плану"})
    assert "Tick the box to confirm" in refused.get_data(as_text=True)
    draft = services.find_report(world.period, world.kindergarten.id)
    assert draft is None or draft.status == ReportStatus.DRAFT
    response = client.post(url, data={"action": "submit", "confirm": "1",
                                      "comment": "Всё по плану"})
    assert response.status_code == 302
    db.session.expire_all()
    report = services.find_report(world.period, world.kindergarten.id)
    assert report.status == ReportStatus.SUBMITTED and report.comment == "Всё по плану"
    assert report.submitted_by_id == people.coordinator.id
    assert report.figures["hours"] == 8.5 and report.figures["participants"] == 5
    newcomer = make_person(organisation=world.kindergarten, surname="Фролова")
    attend(world.seminar, newcomer, 90)  # after submitting: the frozen figures stay
    assert services.figures_of(report, world.period, world.kindergarten.id)["hours"] == 8.5
    page = client.get(url).get_data(as_text=True)
    assert "frozen" in page and "8.5" in page
    assert client.post(url, data={"action": "save", "comment": "x"}).status_code == 200
    db.session.refresh(report)
    assert report.comment == "Всё по плану"


def test_standing_due_overdue_submitted_and_late_by_each_zone(world, people) -> None:
    kindergarten, other = world.kindergarten, world.other  # Moscow, Yekaterinburg
    # 13 Dec 20:00 UTC: 23:00 in Moscow, already 14 Dec 01:00 in Yekaterinburg
    evening = datetime(2026, 12, 13, 20, 0, tzinfo=UTC)
    assert services.standing(world.period, kindergarten, None,
                             datetime(2026, 11, 25, tzinfo=UTC)) == Standing.DUE
    assert services.standing(world.period, kindergarten, None, evening) == Standing.DUE
    assert services.standing(world.period, other, None, evening) == Standing.OVERDUE
    for organisation, person in ((kindergarten, people.coordinator),
                                 (other, people.other_teacher)):
        services.submit(services.report_of(world.period, organisation.id), person, "",
                        now=evening)
    db.session.commit()
    standings = {r.organisation.id: r.standing for r in services.rows(world.period, evening)}
    assert standings == {kindergarten.id: Standing.SUBMITTED, other.id: Standing.LATE}


def test_the_period_page_shows_who_submitted_and_who_is_late(world, people, client) -> None:
    with time_machine.travel(datetime(2026, 12, 14, 9, 0, tzinfo=UTC)):
        login(client, people.municipal)
        page = client.get(f"/reports/periods/{world.period.id}").get_data(as_text=True)
    assert page.count("Overdue") >= 2 and world.kindergarten.short_name in page


def test_reopening_makes_the_figures_live_again(world, people, client, login_as) -> None:
    report = services.report_of(world.period, world.kindergarten.id)
    services.submit(report, people.coordinator, "Готово")
    db.session.commit()
    url = _report_url(world, world.kindergarten) + "/reopen"
    assert login_as(people.coordinator).post(url).status_code == 403
    client.post("/logout")
    login(client, people.municipal)
    assert client.post(url).status_code == 302
    db.session.refresh(report)
    assert (report.status, report.figures, report.submitted_at) == (ReportStatus.DRAFT, None,
                                                                    None)
    assert report.comment == "Готово"
    # nothing to reopen now: said so, no error
    page = client.post(url, follow_redirects=True).get_data(as_text=True)
    assert "nothing to reopen" in page


def test_a_period_with_submissions_cannot_be_edited_or_deleted(world, people, client) -> None:
    services.submit(services.report_of(world.period, world.kindergarten.id), people.coordinator,
                    "")
    db.session.commit()
    login(client, people.municipal)
    base = f"/reports/periods/{world.period.id}"
    page = client.post(base + "/delete", follow_redirects=True).get_data(as_text=True)
    assert "can no longer be changed or deleted" in page
    assert client.post(base + "/edit", data=PERIOD).status_code == 302
    db.session.refresh(world.period)
    assert world.period.title == "Первое полугодие 2026/2027"


def test_a_period_without_submissions_is_edited_and_deleted(world, people, client) -> None:
    login(client, people.municipal)
    base = f"/reports/periods/{world.period.id}"
    bad = client.post(base + "/edit", data={**PERIOD, "ends_on": "2026-01-01"})
    assert "ends before it starts" in bad.get_data(as_text=True)
    assert client.post(base + "/edit", data=PERIOD).status_code == 302
    db.session.refresh(world.period)
    assert world.period.starts_on == date(2027, 1, 1)
    services.report_of(world.period, world.kindergarten.id).comment = "черновик"
    db.session.commit()
    assert client.post(base + "/delete").status_code == 302
    assert _periods() == 0 and db.session.scalar(select(func.count(OrgReport.id))) == 0


def test_who_may_see_which_report(world, people, client, login_as, other_coordinator) -> None:
    own, other = _report_url(world, world.kindergarten), _report_url(world, world.other)
    coordinator = login_as(people.coordinator)
    assert coordinator.get(own).status_code == 200
    assert coordinator.get(other).status_code == 403
    assert coordinator.get(other + ".xlsx").status_code == 403
    assert coordinator.post(other, data={"action": "save", "comment": "x"}).status_code == 403
    assert coordinator.get(f"/reports/periods/{world.period.id}").headers["Location"] \
        .endswith(own)
    client.post("/logout")
    login(client, people.teacher)
    assert client.get(own).status_code == 403
    client.post("/logout")
    login(client, people.municipal)
    assert client.get(other).status_code == 200
    assert client.post(other, data={"action": "save", "comment": "x"}).status_code == 403


def test_csv_and_xlsx_exports(world, people, client) -> None:
    report = services.report_of(world.period, world.kindergarten.id)
    services.submit(report, people.coordinator, "=HYPERLINK(\"x\")",
                    now=datetime(2026, 12, 12, 9, 0, tzinfo=UTC))
    db.session.commit()
    login(client, people.municipal)
    base = f"/reports/periods/{world.period.id}"
    text = client.get(base + ".csv").get_data().decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text), delimiter=";" if ";" in text[:200] else ","))
    header, *rows, total = lines
    hours = header.index("Credited hours")
    by_name = {row[0]: row for row in rows}
    kindergarten = by_name[world.kindergarten.short_name]
    assert kindergarten[1] == "Submitted" and kindergarten[hours] == "8.5"
    assert kindergarten[-1] == "'=HYPERLINK(\"x\")"  # never run as a formula
    assert by_name[world.other.short_name][hours] == "1.0"
    assert total[0] == "Total" and total[hours] == "9.5"

    book = load_workbook(io.BytesIO(client.get(base + ".xlsx").get_data()))
    sheet = book.active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    header_row = next(i for i, row in enumerate(cells) if row[0] == "Organisation")
    assert cells[header_row + 1][0] in (world.kindergarten.short_name, world.other.short_name)
    assert cells[-1][0] == "Total" and cells[-1][cells[header_row].index("Credited hours")] \
        == 9.5

    single = load_workbook(io.BytesIO(client.get(
        _report_url(world, world.kindergarten) + ".xlsx").get_data())).active
    values = {row[0].value: row[1].value for row in single.iter_rows() if row[0].value}
    assert values["Credited hours"] == 8.5 and values["Interns"] == 2
    assert values["Format: Seminar-practicum"] == 1


def test_the_coordinator_lists_periods_with_their_standing(world, people, client) -> None:
    login(client, people.coordinator)
    page = client.get("/reports/periods").get_data(as_text=True)
    assert world.period.title in page and "Not yet due" in page
    assert f'href="{_report_url(world, world.kindergarten)}"' in page
    assert 'href="/reports/periods">' in page  # the navigation's link
    assert "Create period" not in page
    client.post("/logout")
    login(client, people.teacher)
    assert 'href="/reports/periods"' not in client.get("/").get_data(as_text=True)


def _token(html: str) -> str:
    return re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html).group(1)


def test_submitting_needs_the_form_token(world, people, database_uri) -> None:
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_uri, WTF_CSRF_ENABLED=True)
    app.test_client_class = FreshContextClient
    url = _report_url(world, world.kindergarten)
    with app.app_context():
        client = app.test_client()
        client.post("/login", data={"email": people.coordinator.email, "password": PASSWORD,
                                    "csrf_token": _token(client.get("/login").get_data(
                                        as_text=True))})
        client.post(url, data={"action": "submit", "confirm": "1"})  # no token: refused
        assert services.find_report(world.period, world.kindergarten.id) is None
        page = client.get(url).get_data(as_text=True)
        client.post(url, data={"action": "submit", "confirm": "1", "csrf_token": _token(page)})
    report = services.find_report(world.period, world.kindergarten.id)
    assert report is not None and report.status == ReportStatus.SUBMITTED


def test_a_comment_too_long_is_refused(world, people, login_as) -> None:
    response = login_as(people.coordinator).post(
        _report_url(world, world.kindergarten), data={"action": "save", "comment": "я" * 5001})
    assert "longer than 5000 characters" in response.get_data(as_text=True)
    report = services.find_report(world.period, world.kindergarten.id)
    assert report is None or report.comment == ""
