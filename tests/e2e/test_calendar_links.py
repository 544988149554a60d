"""In a real browser (headless Chromium): the teacher answers from the letter's link, and finds
their calendar subscription and makes a new address for it."""

from __future__ import annotations

import re
from email import message_from_string

import pytest
from sqlalchemy import select

from hub.calendar.invitations import queue_requests, run_batches
from hub.extensions import db
from hub.outbox.models import OutboxMessage
from hub.scheduling.models import Invitation, PartStat
from tests.calendar import conftest as calendar_fixtures
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

# The calendar tests' fixtures, here too.
make_event = calendar_fixtures.make_event
invite = calendar_fixtures.invite


def letter_text(message: OutboxMessage) -> str:
    parsed = message_from_string(message.mime)
    plain = next(p for p in parsed.walk() if p.get_content_type() == "text/plain")
    return plain.get_payload(decode=True).decode("utf-8")


def test_answering_from_the_letter(page, live_server, people, make_event, invite, screenshots):
    event = make_event()
    queue_requests(event, invite(event, [people.teacher]))
    db.session.commit()
    assert run_batches() == 1
    [message] = db.session.scalars(select(OutboxMessage)).all()
    text = letter_text(message)
    link = re.search(rf"{re.escape(live_server)}/rsvp/\S+answer=tentative", text).group(0)

    page.goto(link)
    assert event.title in page.inner_text("main")
    assert page.locator("input[value='tentative']").is_checked()
    db.session.expire_all()
    assert db.session.scalars(select(Invitation)).one().partstat == PartStat.NEEDS_ACTION
    page.screenshot(path=str(screenshots / "rsvp-confirm.png"), full_page=True)

    page.locator("input[value='accepted']").check()
    with page.expect_navigation():
        page.locator("form button[type='submit']").click()
    assert "Accepted" in page.inner_text("[role=status]")
    db.session.expire_all()
    assert db.session.scalars(select(Invitation)).one().partstat == PartStat.ACCEPTED
    assert not page.js_errors


def test_the_calendar_subscription_box(page, live_server, people, screenshots):
    sign_in(page, live_server, people.teacher.email, PASSWORD)
    page.goto(f"{live_server}/feeds")
    subscribe = page.locator("#calendar-feed a[href^='webcal://']")
    webcal = subscribe.get_attribute("href")
    assert webcal.endswith(".ics")
    google = page.locator("#calendar-feed a[href^='https://calendar.google.com/']")
    assert "cid=webcal%3A%2F%2F" in google.get_attribute("href")
    address = page.locator("#feed-url").input_value()
    assert address.replace("http://", "webcal://") == webcal
    assert page.request.get(address).status == 200
    page.screenshot(path=str(screenshots / "feed-box.png"), full_page=True)

    with page.expect_navigation():
        page.locator("#calendar-feed form button[type='submit']").click()
    new_address = page.locator("#feed-url").input_value()
    assert new_address != address
    assert page.request.get(address).status == 404
    assert page.request.get(new_address).status == 200
