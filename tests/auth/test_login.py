"""Signing in with email and password: success, failures, lockout, rate limit, redirects."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher

from hub.auth.passwords import verify_password
from hub.core.types import utcnow
from hub.extensions import db
from tests.auth.conftest import without_csrf
from tests.conftest import PASSWORD

GENERIC = "The email or password is not right."


def signed_in(client) -> bool:  # type: ignore[no-untyped-def]
    """True when the home page opens (it redirects to sign-in otherwise)."""
    return client.get("/").status_code == 200


def post_login(client, email, password=PASSWORD, **extra):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"email": email, "password": password, **extra},
                       query_string=extra.pop("query_string", None))


def test_login_page_renders_form(client):
    response = client.get("/login")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for name in ('name="email"', 'name="password"', 'name="remember"'):
        assert name in html
    assert 'autocomplete="current-password"' in html
    assert response.headers["Cache-Control"] == "no-store"


def test_sign_in_redirects_home_and_signs_in(client, teacher):
    response = post_login(client, teacher.email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert signed_in(client)


def test_email_is_case_and_space_insensitive(client, teacher):
    response = post_login(client, "  " + teacher.email.upper() + " ")
    assert response.status_code == 302
    assert signed_in(client)


def test_wrong_password_gives_generic_message(client, teacher):
    response = post_login(client, teacher.email, "not the password at all")
    assert response.status_code == 200
    assert GENERIC in response.get_data(as_text=True)
    assert not signed_in(client)
    db.session.refresh(teacher)
    assert teacher.failed_logins == 1


def test_unknown_email_gives_the_same_message(client, teacher):
    wrong = post_login(client, teacher.email, "not the password at all").get_data(as_text=True)
    unknown = post_login(client, "nobody@example.org", PASSWORD).get_data(as_text=True)
    assert GENERIC in unknown
    # The pages differ only by the address echoed back in the form.
    assert without_csrf(wrong).replace(teacher.email, "X") == without_csrf(unknown).replace(
        "nobody@example.org", "X")


def test_password_is_not_echoed_back(client, teacher):
    html = post_login(client, teacher.email, "my-secret-typo-123").get_data(as_text=True)
    assert "my-secret-typo-123" not in html


def test_lockout_after_max_failures(app, client, teacher):
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        post_login(client, teacher.email, "wrong password!")
    db.session.refresh(teacher)
    assert teacher.locked_until is not None and teacher.locked_until > utcnow()
    # The right password does not help while locked, and the answer does not give it away.
    response = post_login(client, teacher.email, PASSWORD)
    assert response.status_code == 200
    assert GENERIC in response.get_data(as_text=True)
    assert not signed_in(client)


def test_lock_ends_after_its_time(app, client, teacher):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        post_login(client, teacher.email, "wrong password!")
    db.session.refresh(teacher)
    teacher.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert post_login(client, teacher.email, PASSWORD).status_code == 302
    db.session.refresh(teacher)
    assert teacher.failed_logins == 0 and teacher.locked_until is None


def test_success_resets_failure_count(client, teacher):
    for _ in range(3):
        post_login(client, teacher.email, "wrong password!")
    assert post_login(client, teacher.email).status_code == 302
    db.session.refresh(teacher)
    assert teacher.failed_logins == 0


def test_failures_just_below_the_limit_do_not_lock(app, client, teacher):
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        post_login(client, teacher.email, "wrong password!")
    assert post_login(client, teacher.email).status_code == 302


def test_deactivated_person_cannot_sign_in(client, teacher):
    teacher.active = False
    db.session.commit()
    response = post_login(client, teacher.email)
    assert response.status_code == 200
    assert GENERIC in response.get_data(as_text=True)
    assert not signed_in(client)


def test_deactivating_ends_an_open_session(client, teacher, login_as):
    login_as(teacher)
    teacher.active = False
    db.session.commit()
    assert not signed_in(client)


def test_person_without_password_cannot_sign_in_with_empty_hash(client, make_person):
    person = make_person(password=None)
    response = post_login(client, person.email, "anything at all")
    assert GENERIC in response.get_data(as_text=True)


def test_outdated_hash_is_upgraded(client, teacher):
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    teacher.password_hash = weak.hash(PASSWORD)
    db.session.commit()
    old = teacher.password_hash
    assert post_login(client, teacher.email).status_code == 302
    db.session.refresh(teacher)
    assert teacher.password_hash != old
    assert verify_password(teacher.password_hash, PASSWORD)


def test_rate_limit_by_client_address(app, client, new_client, teacher):
    limit = int(app.config["LOGIN_RATE_LIMIT"].split(" per ")[0])
    for _ in range(limit):
        assert post_login(client, "nobody@example.org", "whatever123").status_code == 200
    response = post_login(client, teacher.email)
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    assert not signed_in(client)
    # Other clients are not affected.
    other = new_client()
    response = other.post("/login", data={"email": teacher.email, "password": PASSWORD},
                          environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert response.status_code == 302


def test_get_is_not_rate_limited(app, client):
    limit = int(app.config["LOGIN_RATE_LIMIT"].split(" per ")[0])
    for _ in range(limit + 3):
        assert client.get("/login").status_code == 200


@pytest.mark.parametrize("target", [
    "https://evil.example/phish", "//evil.example/x", "/\\evil.example", "javascript:alert(1)",
    "http:/evil.example", "\\\\evil.example",
])
def test_open_redirect_refused(client, teacher, target):
    response = client.post("/login", query_string={"next": target},
                           data={"email": teacher.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_on_this_site_is_followed(client, teacher):
    response = client.post("/login", query_string={"next": "/people?q=Попова"},
                           data={"email": teacher.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/people?q=")


def test_protected_page_sends_to_login_and_back(client, teacher):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Please sign in to open this page." in page
    assert 'action="/login?next=/"' in page  # the form keeps where to go back
    response = client.post("/login?next=%2F", data={"email": teacher.email, "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_signed_in_visitor_is_sent_on_from_login_page(client, teacher, login_as):
    login_as(teacher)
    response = client.get("/login")
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_session_is_renewed_on_sign_in(client, teacher):
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
        sess["lang"] = "en"
    post_login(client, teacher.email)
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["lang"] == "en"  # the visitor's language choice survives
        assert sess["_user_id"] == str(teacher.id)


def test_remember_me_makes_a_lasting_cookie(client, teacher):
    response = post_login(client, teacher.email, remember="y")
    cookie = response.headers["Set-Cookie"]
    assert "Expires=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_without_remember_me_the_cookie_ends_with_the_browser(client, teacher):
    response = post_login(client, teacher.email)
    assert "Expires=" not in response.headers["Set-Cookie"]


@pytest.mark.parametrize("email,password,message", [
    ("", "", "Enter your email address."),
    ("   ", PASSWORD, "Enter your email address."),
    ("teacher@example.org", "", "Enter your password."),
    ("not-an-email", PASSWORD, "Enter an email address like name@example.ru."),
    ("two@@example.org", PASSWORD, "Enter an email address like name@example.ru."),
    ("a b@example.org", PASSWORD, "Enter an email address like name@example.ru."),
    ("x" * 10_000 + "@example.org", PASSWORD, "The email address is too long"),
    ("teacher@example.org", "p" * 10_000, "The password is too long."),
    ("nul\x00@example.org", PASSWORD, "Enter an email address like name@example.ru."),
])
def test_bad_input_gets_a_clear_message(client, teacher, email, password, message):
    response = post_login(client, email, password)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert not signed_in(client)


@pytest.mark.parametrize("email", [
    "<script>alert(1)</script>@example.org",
    "' OR '1'='1' --@example.org",
    "teacher@example.org' OR 1=1 --",
    "\"><img src=x onerror=alert(1)>@x.ru",
])
def test_html_and_sql_fragments_are_harmless(client, teacher, email):
    response = post_login(client, email, "' OR '1'='1")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert not signed_in(client)


def test_cyrillic_address_is_looked_up(client, make_person):
    person = make_person(email="ёлка@детсад.рф")
    assert post_login(client, "ЁЛКА@ДЕТСАД.РФ").status_code == 302
    assert signed_in(client)
    assert person.id


def test_secrets_never_reach_the_log(client, teacher, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    secret = "a very secret wrong password"
    for _ in range(6):
        post_login(client, teacher.email, secret)
    client.post("/login/link", data={"email": teacher.email})
    from tests.auth.conftest import link_in, outbox

    path, token = link_in(outbox()[0])
    client.post(path)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "locked" in logged  # the lock is logged, by person id
    assert secret not in logged and PASSWORD not in logged and token not in logged
