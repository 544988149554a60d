"""In a real browser, under the strict Content-Security-Policy: the scripts that left the
templates for static/js/ still work — the event form's repeat section and address suggestions,
the network form's coordinators, the import preview's button, and the data-confirm questions
before cancelling an event or submitting a report (declined: nothing happens)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from hub.directory.importing import save_upload
from hub.extensions import db
from hub.reports.models import OrgReport, ReportPeriod
from hub.scheduling.models import Event, EventStatus
from tests.calendar import conftest as calendar_fixtures
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api").expect

make_event = calendar_fixtures.make_event


def test_the_event_form_shows_its_repeat_parts_and_suggests_people(page, live_server, people):  # type: ignore[no-untyped-def]
    sign_in(page, live_server, people.coordinator.email, PASSWORD)
    page.goto(f"{live_server}/events/new")
    form = page.locator("form.event-form")
    expect(form.locator(".repeat-details")).to_be_hidden()
    form.locator("input[name='repeat'][value='WEEKLY']").check()
    expect(form.locator(".repeat-details")).to_be_visible()
    expect(form.locator(".field.for-weekly")).to_be_visible()
    expect(form.locator(".for-until")).to_be_hidden()
    form.locator("input[name='ends'][value='until']").check()
    expect(form.locator(".for-until")).to_be_visible()

    speakers = form.locator("textarea[name='speakers']")
    speakers.press_sequentially("Поп")
    suggestion = form.locator("ul.suggest li", has_text=people.teacher.email)
    expect(suggestion).to_be_visible()
    suggestion.dispatch_event("mousedown")
    expect(speakers).to_have_value(people.teacher.email)
    assert not page.js_errors


def test_the_network_form_offers_the_chosen_organisations_coordinator(page, live_server,  # type: ignore[no-untyped-def]
                                                                      people):
    sign_in(page, live_server, people.municipal.email, PASSWORD)
    page.goto(f"{live_server}/networks/new")
    row = page.locator(".member-row").first
    row.locator("select.member-org").select_option(str(people.coordinator.organisation_id))
    expect(row.locator("select.member-coordinator")).to_have_value(str(people.coordinator.id))
    hidden = row.locator("select.member-coordinator optgroup[hidden]")
    assert hidden.count() == row.locator("select.member-coordinator optgroup").count() - 1


def test_the_import_button_waits_for_only_valid_rows(page, live_server, people):  # type: ignore[no-untyped-def]
    organisation = people.coordinator.organisation.short_name
    csv = (f"ФИО;организация;email\nОрлова Анна Ильинична;{organisation};anna@example.org\n"
           f"Без Почты;{organisation};not-an-email\n")
    upload = save_upload(csv.encode(), owner_id=people.coordinator.id, filename="people.csv")
    db.session.commit()
    sign_in(page, live_server, people.coordinator.email, PASSWORD)
    page.goto(f"{live_server}/people/import/{upload.token}")
    button = page.locator("#import-button")
    expect(button).to_be_disabled()
    page.locator("#only-valid").check()
    expect(button).to_be_enabled()
    page.locator("#only-valid").uncheck()
    expect(button).to_be_disabled()


def test_cancelling_an_event_asks_first(page, live_server, people, make_event):  # type: ignore[no-untyped-def]
    event = make_event()
    sign_in(page, live_server, people.coordinator.email, PASSWORD)
    page.goto(f"{live_server}/events/{event.id}")
    page.locator("details.danger-zone summary").click()
    asked: list[str] = []

    def answer(dialog, accept: bool) -> None:  # type: ignore[no-untyped-def]
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    page.locator("details.danger-zone button[type='submit']").click()
    page.wait_for_timeout(300)
    db.session.expire_all()
    assert db.session.get(Event, event.id).status == EventStatus.SCHEDULED
    page.once("dialog", lambda dialog: answer(dialog, True))
    with page.expect_navigation():
        page.locator("details.danger-zone button[type='submit']").click()
    db.session.expire_all()
    assert db.session.get(Event, event.id).status == EventStatus.CANCELLED
    assert len(asked) == 2 and all(asked)


def test_submitting_a_report_asks_first(page, live_server, people):  # type: ignore[no-untyped-def]
    period = ReportPeriod(title="Первое полугодие", starts_on=date(2026, 9, 1),
                          ends_on=date(2026, 12, 13), deadline=date(2026, 12, 13))
    db.session.add(period)
    db.session.commit()
    own = people.coordinator.organisation_id
    sign_in(page, live_server, people.coordinator.email, PASSWORD)
    page.goto(f"{live_server}/reports/periods/{period.id}/organisations/{own}")
    page.locator("input[name='confirm']").check()
    submit = page.locator("button[value='submit']")
    page.once("dialog", lambda dialog: dialog.dismiss())
    submit.click()
    page.wait_for_timeout(300)
    assert _report_submitted(period.id, own) is False
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        submit.click()
    assert _report_submitted(period.id, own) is True


def _report_submitted(period_id: int, organisation_id: int) -> bool:
    db.session.expire_all()
    report = db.session.scalar(select(OrgReport).where(
        OrgReport.period_id == period_id,
        OrgReport.organisation_id == organisation_id))
    return report is not None and report.submitted_at is not None
