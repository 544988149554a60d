"""Password reset by email, and changing the password when signed in."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hub.auth.models import AuthToken, TokenPurpose
from hub.auth.passwords import verify_password
from hub.core.types import utcnow
from hub.extensions import db, limiter
from tests.auth.conftest import link_in, outbox, text_of, without_csrf
from tests.conftest import PASSWORD

NEW = "a new and long passphrase"


def signed_in(client) -> bool:  # type: ignore[no-untyped-def]
    return client.get("/").status_code == 200


def forgot(client, email):  # type: ignore[no-untyped-def]
    response = client.post("/password/forgot", data={"email": email})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client.get(response.headers["Location"])


def reset_link(client, person) -> str:  # type: ignore[no-untyped-def]
    forgot(client, person.email)
    rows = outbox("auth.password_reset")
    return link_in(rows[-1])[0]


def set_new(client, path, password=NEW, confirm=None):  # type: ignore[no-untyped-def]
    return client.post(path, data={"new_password": password,
                                   "confirm": password if confirm is None else confirm})


# --- reset --------------------------------------------------------------------------------


def test_reset_round_trip(app, client, teacher):
    page = forgot(client, teacher.email).get_data(as_text=True)
    assert "we have sent a link to set a new password" in page
    [row] = outbox("auth.password_reset")
    path, token = link_in(row)
    assert path.startswith("/password/reset/")
    stored = db.session.scalar(select(AuthToken))
    assert stored.purpose == TokenPurpose.PASSWORD_RESET and token not in stored.token_hash
    minutes = (stored.expires_at - stored.created_at).total_seconds() / 60
    assert abs(minutes - app.config["PASSWORD_RESET_MINUTES"]) < 0.1

    form = client.get(path)
    assert form.status_code == 200 and 'name="new_password"' in form.get_data(as_text=True)

    response = set_new(client, path)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert signed_in(client)
    db.session.refresh(teacher)
    assert verify_password(teacher.password_hash, NEW)
    assert not verify_password(teacher.password_hash, PASSWORD)
    # A notice goes to the person, in case it was not them.
    [notice] = outbox("auth.password_changed")
    assert notice.to_addr == teacher.email
    assert "/password/forgot" in text_of(notice)

    # The link cannot be used twice.
    client.post("/logout")
    assert set_new(client, path, "yet another passphrase").status_code == 410
    assert client.post("/login", data={"email": teacher.email, "password": NEW}).status_code == 302


def test_reset_invalidates_other_outstanding_links(client, teacher):
    first = reset_link(client, teacher)
    second = reset_link(client, teacher)
    client.post("/login/link", data={"email": teacher.email})
    sign_in = link_in(outbox("auth.sign_in_link")[0])[0]
    assert set_new(client, second).status_code == 302
    client.post("/logout")
    assert client.get(first).status_code == 410
    assert set_new(client, first, "some other passphrase").status_code == 410
    assert client.post(sign_in).status_code == 410


def test_reset_clears_lockout(client, teacher):
    teacher.locked_until = utcnow() + timedelta(minutes=10)
    teacher.failed_logins = 3
    db.session.commit()
    assert set_new(client, reset_link(client, teacher)).status_code == 302
    db.session.refresh(teacher)
    assert teacher.locked_until is None and teacher.failed_logins == 0


def test_reset_signs_out_other_sessions(client, new_client, teacher, login_as):
    login_as(teacher)
    other = new_client()
    path = reset_link(other, teacher)
    assert set_new(other, path).status_code == 302
    assert signed_in(other)
    assert not signed_in(client)  # the session opened with the old password has ended


def test_expired_reset_link(client, teacher):
    path = reset_link(client, teacher)
    stored = db.session.scalar(select(AuthToken))
    stored.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = client.get(path)
    assert response.status_code == 410
    assert 'action="/password/forgot"' in response.get_data(as_text=True)
    assert set_new(client, path).status_code == 410
    db.session.refresh(teacher)
    assert verify_password(teacher.password_hash, PASSWORD)


def test_unknown_address_same_answer(client, teacher):
    known = forgot(client, teacher.email).get_data(as_text=True)
    unknown = forgot(client, "nobody@example.org").get_data(as_text=True)
    assert without_csrf(known) == without_csrf(unknown)
    assert len(outbox()) == 1


def test_new_password_rules(client, teacher):
    path = reset_link(client, teacher)
    cases = [
        ("short", None, "The password must be 10 to 200 characters long."),
        ("x" * 201, None, "The password must be 10 to 200 characters long."),
        ("p" * 10_000, None, "The password must be 10 to 200 characters long."),
        (NEW, "something different", "The two passwords do not match."),
        ("", None, "Enter a new password."),
        (" " * 12, None, "Enter a new password."),
        ("1234567890", None, "This password is too easy to guess."),
        ("aaaaaaaaaaaa", None, "This password is too easy to guess."),
        (teacher.email, None, "The password must not be your email address."),
        ("bell\x07ringing pass", None, "cannot be typed"),
    ]
    for password, confirm, message in cases:
        response = set_new(client, path, password, confirm)
        assert response.status_code == 200, password
        assert message in response.get_data(as_text=True), password
    # Nothing changed and the link still works (after the rate limit's minute).
    limiter.reset()
    db.session.refresh(teacher)
    assert verify_password(teacher.password_hash, PASSWORD)
    assert set_new(client, path).status_code == 302


def test_html_and_sql_in_new_password_are_just_characters(client, teacher):
    password = "<script>alert(1)</script>' OR 1=1; DROP TABLE person; --"
    assert set_new(client, reset_link(client, teacher), password).status_code == 302
    client.post("/logout")
    assert client.post("/login", data={"email": teacher.email,
                                       "password": password}).status_code == 302


def test_forgot_bad_input(client):
    for email in ("", "x" * 10_000, "not an email", "<script>@"):
        response = client.post("/password/forgot", data={"email": email})
        assert response.status_code == 200
    assert outbox() == []


# --- change -------------------------------------------------------------------------------


def change(client, current=PASSWORD, new=NEW, confirm=None):  # type: ignore[no-untyped-def]
    return client.post("/account/password", data={
        "current_password": current, "new_password": new,
        "confirm": new if confirm is None else confirm})


def test_change_password_needs_sign_in(client):
    response = client.get("/account/password")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert change(client).status_code == 302


def test_change_password(client, new_client, teacher, login_as):
    login_as(teacher)
    other = new_client()
    assert other.post("/login", data={"email": teacher.email,
                                      "password": PASSWORD}).status_code == 302

    assert client.get("/account/password").status_code == 200
    response = change(client)
    assert response.status_code == 302
    assert signed_in(client)  # this session goes on
    assert not signed_in(other)  # other devices are signed out
    db.session.refresh(teacher)
    assert verify_password(teacher.password_hash, NEW)
    assert outbox("auth.password_changed")


def test_change_password_wrong_current(client, teacher, login_as):
    login_as(teacher)
    response = change(client, current="not my password")
    assert response.status_code == 200
    assert "The current password is not right." in response.get_data(as_text=True)
    db.session.refresh(teacher)
    assert verify_password(teacher.password_hash, PASSWORD)


def test_change_password_requires_current(client, teacher, login_as):
    login_as(teacher)
    response = change(client, current="")
    assert "Enter your current password." in response.get_data(as_text=True)


def test_change_to_the_same_password(client, teacher, login_as):
    login_as(teacher)
    response = change(client, new=PASSWORD)
    assert "The new password is the same as the current one." in response.get_data(as_text=True)


def test_change_password_validation(client, teacher, login_as):
    login_as(teacher)
    for new, confirm, message in (("short", None, "10 to 200 characters"),
                                  (NEW, "mismatch!!", "do not match"),
                                  ("z" * 10_000, None, "10 to 200 characters")):
        response = change(client, new=new, confirm=confirm)
        assert response.status_code == 200
        assert message in response.get_data(as_text=True)


def test_person_without_password_sets_one_without_current(client, make_person):
    person = make_person(password=None)
    client.post("/login/link", data={"email": person.email})
    client.post(link_in(outbox()[0])[0])
    page = client.get("/account/password").get_data(as_text=True)
    assert 'name="current_password"' not in page
    response = client.post("/account/password", data={"new_password": NEW, "confirm": NEW})
    assert response.status_code == 302
    db.session.refresh(person)
    assert verify_password(person.password_hash, NEW)
