"""Signing out (POST only) and CSRF protection of the sign-in forms."""

from __future__ import annotations

import re

import pytest

from hub import create_app
from tests.auth.conftest import outbox
from tests.conftest import PASSWORD, FreshContextClient


def signed_in(client) -> bool:  # type: ignore[no-untyped-def]
    return client.get("/").status_code == 200


def test_logout_requires_post(client, teacher, login_as):
    login_as(teacher)
    assert client.get("/logout").status_code == 405
    assert signed_in(client)


def test_logout_signs_out_and_clears_the_session(client, teacher, login_as):
    login_as(teacher)
    with client.session_transaction() as sess:
        sess["lang"] = "en"
    response = client.post("/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert not signed_in(client)
    with client.session_transaction() as sess:
        assert "_user_id" not in sess
        assert sess.get("lang") == "en"


def test_logout_when_signed_out_is_harmless(client):
    assert client.post("/logout").status_code == 302


def test_sign_out_button_is_a_form(client, teacher, login_as):
    login_as(teacher)
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'<form method="post" action="/logout"', html)


@pytest.fixture
def csrf_client(database_uri):  # type: ignore[no-untyped-def]
    """A second app on the same database with CSRF protection on, as in production."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_uri, WTF_CSRF_ENABLED=True)
    app.test_client_class = FreshContextClient
    with app.app_context():
        yield app.test_client()


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:2000]
    return match.group(1)


def test_login_without_csrf_token_is_refused(csrf_client, teacher):
    response = csrf_client.post("/login", data={"email": teacher.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"  # back to the form, with an explanation
    page = csrf_client.get("/login").get_data(as_text=True)
    assert "The form was open for too long" in page
    assert not signed_in(csrf_client)


def test_login_with_csrf_token_works(csrf_client, teacher):
    token = _token(csrf_client.get("/login").get_data(as_text=True))
    response = csrf_client.post("/login", data={"email": teacher.email, "password": PASSWORD,
                                                "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert signed_in(csrf_client)


def test_logout_without_csrf_token_keeps_the_session(csrf_client, teacher):
    token = _token(csrf_client.get("/login").get_data(as_text=True))
    csrf_client.post("/login", data={"email": teacher.email, "password": PASSWORD,
                                     "csrf_token": token})
    assert csrf_client.post("/logout").status_code == 302
    assert signed_in(csrf_client)
    home = csrf_client.get("/").get_data(as_text=True)
    assert csrf_client.post("/logout", data={"csrf_token": _token(home)}).status_code == 302
    assert not signed_in(csrf_client)


def test_link_request_without_csrf_token_sends_nothing(csrf_client, teacher):
    csrf_client.post("/login/link", data={"email": teacher.email})
    assert outbox() == []
