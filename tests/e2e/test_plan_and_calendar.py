"""In a real browser, on the demo town: a coordinator changes the joint plan, approves the new
version and makes an event from an item; on a phone the month calendar becomes a list."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from hub import demo
from hub.directory.models import Network
from hub.extensions import db
from hub.scheduling.models import Event, EventStatus, PlanItem
from tests.e2e.conftest import horizontal_overflow, overflowing_elements, sign_in

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture
def engineers():  # type: ignore[no-untyped-def]
    demo.load_demo()
    return db.session.scalar(select(Network).where(Network.name == "Растим инженеров"))


def test_a_coordinator_changes_approves_and_carries_out_the_plan(  # type: ignore[no-untyped-def]
        page, live_server, engineers, screenshots) -> None:
    sign_in(page, live_server, demo.COORDINATOR_EMAIL, demo.DEMO_PASSWORD)
    page.goto(f"{live_server}/networks/{engineers.id}")
    page.get_by_role("link", name="Joint plan").first.click()
    main = page.locator("main")
    expect(main).to_contain_text("Approved by 10 of 10 members")
    expect(main).to_contain_text("You approved version 2")

    form = page.locator("form.plan-item")
    form.locator("select[name=month]").select_option("2027-04")
    form.locator("textarea[name=topic]").fill(
        "Мастер-класс «Пчёлки Bee-Bot: игры с мини-роботами»")
    form.locator("select[name=format]").select_option(label="Master class")
    form.locator("select[name=responsible]").select_option(label="Детский сад № 22")
    form.locator("[type=submit]").click()
    expect(main).to_contain_text("Item added")
    expect(main).to_contain_text("Пчёлки Bee-Bot: игры с мини-роботами")
    expect(main).to_contain_text("Version 3")
    expect(main).to_contain_text("Approved by 0 of 10 members")

    page.get_by_role("button", name=re.compile(r"Approve version 3 for")).click()
    expect(main).to_contain_text("You approved version 3")
    expect(main).to_contain_text("Approved by 1 of 10 members")
    page.screenshot(path=str(screenshots / "plan-approved.png"), full_page=True)

    item = db.session.scalar(select(PlanItem).where(
        PlanItem.topic == "Мастер-класс «Пчёлки Bee-Bot: игры с мини-роботами»"))
    page.locator(f"#item-{item.id}").get_by_role("button", name="Create event").click()
    page.wait_for_load_state()
    assert page.js_errors == []
    db.session.expire_all()
    event = db.session.scalar(select(Event).where(Event.plan_item_id == item.id))
    assert event is not None and event.status == EventStatus.DRAFT
    assert f"/events/{event.id}" in page.url or f"#item-{item.id}" in page.url

    response = page.request.get(f"{live_server}/networks/{engineers.id}/plan.xlsx")
    assert response.status == 200 and response.body()[:2] == b"PK"


def test_on_a_phone_the_month_becomes_a_list(phone_page, live_server, engineers, screenshots):  # type: ignore[no-untyped-def]
    page = phone_page
    sign_in(page, live_server, demo.TEACHER_EMAIL, demo.DEMO_PASSWORD)
    page.goto(f"{live_server}/calendar?date=2026-12-01")
    expect(page.locator(".cal-weekday").first).to_be_hidden()
    expect(page.locator(".cal-day.no-events").first).to_be_hidden()
    days = page.locator(".cal-day:not(.no-events):not(.outside)")
    assert days.count() >= 3
    first = days.first
    expect(first.locator(".cal-full")).to_be_visible()
    expect(first).to_contain_text("December")  # the full date (tests read English)
    # One column: every day with events spans the width of the screen.
    widths = {round(days.nth(i).bounding_box()["width"]) for i in range(days.count())}
    assert len(widths) == 1 and widths.pop() > 300
    assert horizontal_overflow(page) == 0, overflowing_elements(page)
    page.screenshot(path=str(screenshots / "calendar-phone.png"), full_page=True)

    page.goto(f"{live_server}/calendar?view=week&date=2026-11-05")
    assert horizontal_overflow(page) == 0, overflowing_elements(page)
    expect(page.locator("main")).to_contain_text("Цифровая педагогическая интернатура")
    page.goto(f"{live_server}/networks/{engineers.id}/plan")
    assert horizontal_overflow(page) == 0, overflowing_elements(page)
