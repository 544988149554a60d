"""In a real browser: sign in through the form and find a teacher in the directory; a teacher's
pages fit a phone screen."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from hub import demo
from hub.directory.models import Organisation, Person, Role
from hub.extensions import db
from tests.conftest import PASSWORD
from tests.e2e.conftest import horizontal_overflow, overflowing_elements, sign_in

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture
def town(make_person):  # type: ignore[no-untyped-def]
    """The demo town (about 480 people, so the list has more than one page), plus two teachers
    whose surnames begin alike: Ёжикова (to find) and Ежова (must not match the query)."""
    demo.load_demo()
    kindergarten = db.session.scalar(
        select(Organisation).where(Organisation.short_name == "Детский сад № 22"))
    wanted = make_person(Role.TEACHER, kindergarten, surname="Ёжикова", first_name="Олеся",
                         patronymic="Игоревна", email="ezhikova.oi@ds22.lesnogorsk.example.org",
                         position="учитель-логопед")
    other = make_person(Role.TEACHER, kindergarten, surname="Ежова", first_name="Дарья",
                        patronymic="Павловна", email="ezhova.dp@ds22.lesnogorsk.example.org")
    return wanted, other


def _search(page, query: str) -> None:  # type: ignore[no-untyped-def]
    box = page.locator("input[name='q']")
    box.fill(query)
    box.press("Enter")
    page.wait_for_url(re.compile(r"[?&]q="))


def test_municipal_coordinator_finds_a_teacher(page, live_server, town, screenshots):  # type: ignore[no-untyped-def]
    wanted, other = town
    sign_in(page, live_server, demo.MUNICIPAL_EMAIL, demo.DEMO_PASSWORD)

    page.goto(f"{live_server}/people")
    main = page.locator("main")
    expect(page.locator("input[name='q']")).to_be_visible()

    _search(page, "Ёжик")  # part of the surname, as typed
    expect(main).to_contain_text("Ёжикова")
    expect(main).not_to_contain_text("Ежова")
    page.screenshot(path=str(screenshots / "people-search.png"), full_page=True)

    _search(page, "ежиков")  # lower case, е for ё: people type it so
    expect(main).to_contain_text("Ёжикова")
    expect(main).not_to_contain_text("Ежова")

    # The result leads to the teacher's card.
    main.get_by_role("link", name=re.compile("Ёжикова")).first.click()
    page.wait_for_url(re.compile(rf"/people/{wanted.id}\b"))
    expect(main).to_contain_text(wanted.email)
    page.screenshot(path=str(screenshots / "person-card.png"), full_page=True)
    assert page.js_errors == []


def test_teacher_pages_fit_a_phone(phone_page, live_server, town, screenshots):  # type: ignore[no-untyped-def]
    page = phone_page
    too_wide: dict[str, list[str]] = {}

    def check_width(path: str) -> None:
        if horizontal_overflow(page) > 0:
            too_wide[path] = overflowing_elements(page)

    page.goto(f"{live_server}/login")
    page.screenshot(path=str(screenshots / "phone-login.png"))
    check_width("/login")

    sign_in(page, live_server, demo.TEACHER_EMAIL, demo.DEMO_PASSWORD)
    me = db.session.scalar(select(Person).where(Person.email == demo.TEACHER_EMAIL))
    pages = {"home": "/", "own-card": f"/people/{me.id}",
             "organisations": "/organisations", "networks": "/networks"}
    seen = 0
    for name, path in pages.items():
        response = page.goto(f"{live_server}{path}")
        if name in ("home", "own-card"):
            assert response.status == 200, f"{path}: {response.status}"
        elif response.status != 200:
            continue  # not every list is for teachers
        seen += 1
        page.screenshot(path=str(screenshots / f"phone-{name}.png"))  # the first screen
        check_width(path)
    assert seen >= 2
    assert not too_wide, f"pages that scroll sideways on a phone (what sticks out): {too_wide}"
    expect(page.locator("body")).to_contain_text("Зайцева")
    assert page.js_errors == []


def test_wrong_password_keeps_the_form(page, live_server, town):  # type: ignore[no-untyped-def]
    wanted, _other = town
    page.goto(f"{live_server}/login")
    page.fill("input[name='email']", wanted.email)
    page.fill("input[name='password']", PASSWORD + " typo")
    with page.expect_navigation():
        page.locator("form:has(input[name='password']) [type='submit']").first.click()
    expect(page.locator("input[name='password']")).to_be_visible()
    # Still signed out: the people list sends us back to sign in.
    page.goto(f"{live_server}/people")
    assert "/login" in page.url
