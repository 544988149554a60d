"""Russian by default, English on request; times in the viewer's zone with the zone named."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask_login import login_user

from hub import create_app
from hub.core.templating import localtime
from tests.conftest import FreshContextClient


@pytest.fixture
def russian_app(database_uri, app):  # type: ignore[no-untyped-def]
    """The app with the product's default language (the test config reads English)."""
    russian = create_app("testing", SQLALCHEMY_DATABASE_URI=database_uri,
                         BABEL_DEFAULT_LOCALE="ru")
    russian.test_client_class = FreshContextClient
    return russian


def test_russian_is_the_default_and_english_is_a_click_away(russian_app):
    client = russian_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="ru">' in page
    assert "Войти" in page
    assert 'href="/lang/en' in page

    switched = client.get("/lang/en?next=/login")
    assert switched.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Sign in" in page and "Войти" not in page


def test_a_chosen_language_is_remembered_for_the_person(russian_app, people):
    client = russian_app.test_client()
    client.post("/login", data={"email": people.teacher.email,
                                "password": "correct horse battery staple"})
    client.get("/lang/en")
    other_browser = russian_app.test_client()
    other_browser.post("/login", data={"email": people.teacher.email,
                                       "password": "correct horse battery staple"})
    assert '<html lang="en">' in other_browser.get("/").get_data(as_text=True)


def test_language_switch_never_redirects_elsewhere(russian_app):
    response = russian_app.test_client().get("/lang/en?next=https://evil.example/")
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(("zone", "shown"), [
    ("Europe/Moscow", "12:30"), ("Asia/Yekaterinburg", "2:30"), ("Asia/Vladivostok", "7:30"),
])
def test_times_are_shown_in_the_viewers_zone(app, make_person, make_org, zone, shown):
    person = make_person(organisation=make_org(timezone=zone))
    moment = datetime(2026, 12, 13, 9, 30, tzinfo=UTC)
    with app.test_request_context():
        login_user(person)
        text = localtime(moment)
    assert shown in text
    assert zone in text


def test_dates_follow_the_locale(russian_app, make_person):
    person = make_person()
    with russian_app.test_request_context():
        login_user(person)
        assert "дек" in localtime(datetime(2026, 12, 13, 9, 30, tzinfo=UTC))
