"""In a real browser (headless Chromium, CSRF on), the issue's done-when: a teacher finds last
year's master-class slides by searching a word form that differs from the title («мультипликацией»
for «Мультипликация»), sees the word highlighted, and opens the material."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.archive.models import Visibility
from hub.scheduling.models import EventFormat
from tests.archive import bank_fixtures
from tests.conftest import PASSWORD
from tests.e2e.conftest import horizontal_overflow, sign_in

make_material = bank_fixtures.make_material

pytestmark = pytest.mark.e2e

TITLE = "Слайды мастер-класса «Мультипликация в детском саду»"


def test_a_teacher_finds_last_years_slides_by_another_word_form(page, phone_page, live_server,
                                                                 people, network, make_material,
                                                                 screenshots):
    slides = make_material(
        TITLE, description="Пошаговый план занятия: раскадровка, съёмка, озвучивание.",
        fmt=EventFormat.MASTER_CLASS, year=2025, visibility=Visibility.NETWORK,
        organisation=people.other_teacher.organisation,
        created_at=datetime(2025, 11, 20, 9, 0, tzinfo=UTC))
    make_material("Чек-лист «Робототехника в старшей группе»")

    sign_in(page, live_server, people.teacher.email, PASSWORD)
    page.locator("nav.mainnav a[href='/bank']").click()
    page.wait_for_url(f"{live_server}/bank")
    page.locator("input[name='q']").fill("мультипликацией")
    with page.expect_navigation():
        page.locator("input[name='q']").press("Enter")
    results = page.locator(".bank-results")
    assert results.locator(".bank-item").count() == 1
    assert results.locator("h3 mark").first.inner_text() == "Мультипликация"
    assert "Робототехника" not in results.inner_text()
    page.screenshot(path=str(screenshots / "bank-search.png"), full_page=True)
    with page.expect_navigation():
        results.locator("h3 a").first.click()
    assert page.url == f"{live_server}/materials/{slides.id}"
    assert TITLE in page.inner_text("main")
    assert page.js_errors == []

    # The same search on a phone: no sideways scrolling.
    sign_in(phone_page, live_server, people.teacher.email, PASSWORD)
    phone_page.goto(f"{live_server}/bank?q=мультипликацией")
    assert phone_page.locator(".bank-results .bank-item").count() == 1
    assert horizontal_overflow(phone_page) == 0
    phone_page.screenshot(path=str(screenshots / "bank-search-phone.png"), full_page=True)
