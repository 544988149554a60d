"""In a real browser (headless Chromium), the main flow from organiser to teacher: a coordinator
creates and publishes an event for their own organisation, the outbox worker sends the
invitations, a teacher answers from the letter's link and the organiser sees the answer."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from email import message_from_string

import pytest
from sqlalchemy import select

from hub.extensions import db
from hub.outbox.models import MessageStatus, OutboxMessage
from hub.outbox.worker import drain, run_jobs
from hub.scheduling.models import Event, EventFormat, EventStatus, Invitation, PartStat
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api").expect

TITLE = 'Семинар-практикум «Образовательная робототехника в ДОУ»: "Bee-Bot", шаг 1; итоги'


def plain_text(mime: str) -> str:
    parsed = message_from_string(mime)
    part = next(p for p in parsed.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")


def test_organiser_publishes_and_a_teacher_accepts(  # type: ignore[no-untyped-def]
        page, live_server, people, smtp_server, screenshots) -> None:
    coordinator, teacher = people.coordinator, people.teacher
    organisation = coordinator.organisation
    day = date.today() + timedelta(days=14)

    # The organiser fills the real form and publishes.
    sign_in(page, live_server, coordinator.email, PASSWORD)
    page.goto(f"{live_server}/events/new")
    form = page.locator("form:has([name=publish])")
    form.locator("select[name=format]").select_option(str(int(EventFormat.SEMINAR_PRACTICUM)))
    form.locator("input[name=title]").fill(TITLE)
    form.locator("select[name=timezone]").select_option("Europe/Moscow")
    form.locator("input[name=start_date]").fill(day.isoformat())
    form.locator("input[name=start_time]").fill("15:00")
    form.locator("input[name=end_time]").fill("16:30")
    form.locator("select[name=audience_organisations]").select_option(
        label=organisation.short_name)
    with page.expect_navigation():
        form.locator("[name=publish]").click()
    if page.locator(".warnings").count():  # a conflict warning: go ahead
        with page.expect_navigation():
            page.locator("form [name=publish]").click()
    main = page.locator("main")
    expect(main).to_contain_text("Published")
    expect(page.locator("h1")).to_contain_text(TITLE)
    event = db.session.scalar(select(Event).where(Event.title == TITLE))
    assert event is not None and event.status == EventStatus.SCHEDULED
    assert event.format == EventFormat.SEMINAR_PRACTICUM
    assert re.search(rf"/events/{event.id}$", page.url)
    page.screenshot(path=str(screenshots / "event-published.png"), full_page=True)

    # The outbox worker: the invitation jobs expand the batches, the mail goes out.
    run_jobs(time.monotonic, force=True)
    drain()
    db.session.expire_all()
    letters = list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.to_addr == teacher.email)))
    assert len(letters) == 1, [m.subject for m in letters]
    assert letters[0].status == MessageStatus.SENT, letters[0].last_error
    assert any(teacher.email in ",".join(rcpts) for _, rcpts in smtp_server.envelopes)
    text = plain_text(letters[0].mime)
    link = re.search(rf"{re.escape(live_server)}/rsvp/[^\s?]+\?answer=accepted", text)
    assert link is not None, text

    # The teacher answers from the letter, without signing in.
    teacher_page = page.context.browser.new_context(locale="ru-RU").new_page()
    try:
        teacher_page.goto(link.group(0))
        expect(teacher_page.locator("main")).to_contain_text(TITLE)
        assert teacher_page.locator("input[value='accepted']").is_checked()
        with teacher_page.expect_navigation():
            teacher_page.locator("form button[type='submit']").click()
        expect(teacher_page.locator("[role=status]")).to_contain_text("Accepted")
    finally:
        teacher_page.context.close()
    db.session.expire_all()
    answer = db.session.scalar(select(Invitation).where(
        Invitation.event_id == event.id, Invitation.person_id == teacher.id))
    assert answer.partstat == PartStat.ACCEPTED

    # The organiser sees the teacher among those who accepted.
    page.reload()
    accepted = page.locator("section.responses ul.names li:has(.dot.answer-accepted)")
    expect(accepted).to_contain_text(teacher.full_name)
    page.goto(f"{live_server}/events/{event.id}/responses?answer=accepted")
    expect(page.locator("main")).to_contain_text(teacher.full_name)
    page.screenshot(path=str(screenshots / "event-accepted.png"), full_page=True)
    assert not page.js_errors
