"""In a real browser on a phone (headless Chromium, CSRF on): a teacher opens the survey from
the letter after the seminar, taps a star and two ticks, sends, and sees the answer kept; the
organiser sees it among the results."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_string, policy

import pytest
import time_machine
from sqlalchemy import select

from hub.attendance import services
from hub.extensions import db
from hub.growth.feedback import queue_surveys
from hub.growth.models import FeedbackRequest
from hub.outbox.models import OutboxMessage
from tests.calendar import conftest as calendar_fixtures
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

make_event = calendar_fixtures.make_event
invite = calendar_fixtures.invite


def test_answering_the_survey_on_a_phone(phone_page, page, live_server, people, make_event,
                                         invite, screenshots):
    event = make_event()
    invite(event, [people.teacher])
    services.record_manual(services.record_of(event, people.teacher), event.start_at,
                           event.end_at, "в зале", people.coordinator)
    with time_machine.travel(event.end_at + timedelta(hours=2)):
        services.finalise(event)
        assert queue_surveys() == 1
        db.session.commit()
    [mail] = db.session.scalars(select(OutboxMessage)).all()
    text = message_from_string(mail.mime, policy=policy.default).get_body(
        preferencelist=("plain",)).get_content()
    link = re.search(rf"{re.escape(live_server)}/feedback/\S+", text).group(0)

    phone_page.goto(link)
    assert event.title in phone_page.inner_text("main")
    phone_page.screenshot(path=str(screenshots / "feedback-survey-phone.png"), full_page=True)
    phone_page.locator("label[for='rating-4']").tap()
    phone_page.locator("input[value='examples']").check()
    phone_page.locator("input[value='board']").check()
    phone_page.locator("textarea[name='comment']").fill("Больше примеров с Bee-Bot, пожалуйста")
    with phone_page.expect_navigation():
        phone_page.locator("button[type='submit']").tap()
    assert phone_page.locator(".flash-success").is_visible()
    assert "Больше примеров с Bee-Bot" in phone_page.inner_text("main")
    phone_page.screenshot(path=str(screenshots / "feedback-answered-phone.png"), full_page=True)
    db.session.expire_all()
    answer = db.session.scalars(select(FeedbackRequest)).one()
    assert (answer.rating, answer.useful) == (4, "examples,board")
    assert phone_page.js_errors == []

    sign_in(page, live_server, people.coordinator.email, PASSWORD)
    page.goto(f"{live_server}/events/{event.id}/feedback")
    assert "Больше примеров с Bee-Bot" in page.inner_text("main")
    page.screenshot(path=str(screenshots / "feedback-results.png"), full_page=True)
