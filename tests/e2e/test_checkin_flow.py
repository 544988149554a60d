"""In a real browser (headless Chromium, CSRF on): during the seminar the organiser opens a
presence check and shows the rotating code with its QR; a teacher on a phone types the code she
reads off the shared screen and is checked in; the organiser's display counts her, and the
sheet shows the check."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from hub.attendance.models import Attendance
from hub.extensions import db
from tests.calendar import conftest as calendar_fixtures
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

make_event = calendar_fixtures.make_event
invite = calendar_fixtures.invite


def test_a_presence_check_from_the_shared_screen_to_a_phone(page, phone_page, live_server,
                                                            people, make_event, invite,
                                                            screenshots):
    event = make_event()
    event.required_checks = 1
    invite(event, [people.teacher])
    db.session.commit()
    with time_machine.travel(event.start_at + timedelta(minutes=20)):
        sign_in(page, live_server, people.coordinator.email, PASSWORD)
        page.goto(f"{live_server}/events/{event.id}/checkin/display")
        with page.expect_navigation():
            page.locator("form.checkin-open button[type='submit']").click()
        code = page.locator("#checkin-code").inner_text().replace(" ", "")
        assert len(code) == 6 and code.isdigit()
        assert page.locator("#checkin-qr svg").count() == 1
        page.screenshot(path=str(screenshots / "checkin-display.png"), full_page=True)

        sign_in(phone_page, live_server, people.teacher.email, PASSWORD)
        phone_page.goto(f"{live_server}/events/{event.id}/checkin")
        phone_page.locator("#checkin-input").fill(code)
        with phone_page.expect_navigation():
            phone_page.locator("button.checkin-submit").tap()
        assert phone_page.locator(".flash-success").is_visible()
        phone_page.screenshot(path=str(screenshots / "checkin-phone.png"), full_page=True)

        page.locator("#checkin-count").filter(has_text="1").wait_for()  # the display polls
        page.goto(f"{live_server}/events/{event.id}/attendance")
        assert "1 / 1" in page.inner_text("main")
    db.session.expire_all()
    record = db.session.scalars(select(Attendance).where(
        Attendance.person_id == people.teacher.id)).one()
    assert record.checks_passed == 1
    assert page.js_errors == [] and phone_page.js_errors == []
