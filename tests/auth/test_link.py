"""Passwordless sign-in by an emailed single-use link."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select

from hub.auth.models import AuthToken, TokenPurpose
from hub.core.types import utcnow
from hub.extensions import db
from tests.auth.conftest import html_of, link_in, outbox, parse, text_of, without_csrf

SENT = "If the address is registered in the hub, we have sent a sign-in link to it."


def signed_in(client) -> bool:  # type: ignore[no-untyped-def]
    return client.get("/").status_code == 200


def request_link(client, email):  # type: ignore[no-untyped-def]
    response = client.post("/login/link", data={"email": email})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client.get(response.headers["Location"])


def test_request_page_renders(client):
    response = client.get("/login/link")
    assert response.status_code == 200
    assert 'name="email"' in response.get_data(as_text=True)


def test_link_round_trip(app, client, teacher):
    page = request_link(client, teacher.email)
    assert SENT in page.get_data(as_text=True)

    [row] = outbox("auth.sign_in_link")
    assert row.to_addr == teacher.email
    message = parse(row)
    assert message["To"] == teacher.email
    assert "sign-in link" in message["Subject"].lower()
    path, token = link_in(row)
    assert "15 minutes" in text_of(row)
    assert token in html_of(row)  # the HTML part has the same link
    assert app.config["BASE_URL"] + path in text_of(row)

    # Opening the link (as a mail scanner would) does not sign in or use it up.
    for _ in range(2):
        shown = client.get(path)
        assert shown.status_code == 200
        assert teacher.full_name in shown.get_data(as_text=True)
        assert shown.headers["Referrer-Policy"] == "no-referrer"
    assert not signed_in(client)

    response = client.post(path)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert signed_in(client)


def test_only_the_hash_is_stored(client, teacher):
    request_link(client, teacher.email)
    _, token = link_in(outbox()[0])
    [stored] = db.session.scalars(select(AuthToken)).all()
    assert stored.purpose == TokenPurpose.SIGN_IN
    assert stored.person_id == teacher.id
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored.token_hash
    assert len(token) >= 43  # 32 random bytes
    minutes = (stored.expires_at - stored.created_at).total_seconds() / 60
    assert 14.9 < minutes <= 15.01


def test_link_works_only_once(client, app, teacher):
    request_link(client, teacher.email)
    path, _ = link_in(outbox()[0])
    assert client.post(path).status_code == 302
    client.post("/logout")

    again = client.post(path)
    assert again.status_code == 410
    assert "The link no longer works" in again.get_data(as_text=True)
    assert client.get(path).status_code == 410
    assert not signed_in(client)


def test_expired_link_is_refused_with_an_offer_of_a_new_one(client, teacher):
    request_link(client, teacher.email)
    path, _ = link_in(outbox()[0])
    stored = db.session.scalar(select(AuthToken))
    stored.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    for response in (client.get(path), client.post(path)):
        assert response.status_code == 410
        html = response.get_data(as_text=True)
        assert 'action="/login/link"' in html and 'name="email"' in html
    assert not signed_in(client)


def test_unknown_and_malformed_tokens_are_refused(client):
    for path in ("/login/link/" + "A" * 43, "/login/link/x", "/login/link/" + "b" * 5000,
                 "/login/link/%3Cscript%3E", "/login/link/' OR 1=1 --"):
        assert client.get(path).status_code == 410
        assert client.post(path).status_code == 410


def test_reset_token_does_not_sign_in_as_a_link(client, teacher):
    client.post("/password/forgot", data={"email": teacher.email})
    _, token = link_in(outbox()[0])
    assert client.post(f"/login/link/{token}").status_code == 410


def test_unknown_address_gets_the_same_answer_and_no_mail(client, teacher):
    known = request_link(client, teacher.email).get_data(as_text=True)
    unknown = request_link(client, "nobody@example.org").get_data(as_text=True)
    assert without_csrf(known) == without_csrf(unknown)
    assert [m.to_addr for m in outbox()] == [teacher.email]


def test_deactivated_person_gets_no_link(client, teacher):
    teacher.active = False
    db.session.commit()
    assert SENT in request_link(client, teacher.email).get_data(as_text=True)
    assert outbox() == []


def test_link_of_a_person_deactivated_later_does_not_work(client, teacher):
    request_link(client, teacher.email)
    path, _ = link_in(outbox()[0])
    teacher.active = False
    db.session.commit()
    assert client.post(path).status_code == 410
    assert not signed_in(client)


def test_link_sign_in_ends_a_password_lockout(app, client, teacher):
    teacher.locked_until = utcnow() + timedelta(minutes=10)
    teacher.failed_logins = 0
    db.session.commit()
    request_link(client, teacher.email)
    path, _ = link_in(outbox()[0])
    assert client.post(path).status_code == 302
    db.session.refresh(teacher)
    assert teacher.locked_until is None


def test_link_sign_in_replaces_another_session(client, people, login_as):
    login_as(people.coordinator)
    request_link(client, people.teacher.email)
    path, _ = link_in(outbox()[0])
    client.post(path)
    with client.session_transaction() as sess:
        assert sess["_user_id"] == str(people.teacher.id)


def test_requests_are_limited_per_address(client, teacher):
    statuses = [client.post("/login/link", data={"email": teacher.email}).status_code
                for _ in range(4)]
    assert statuses == [302, 302, 302, 429]
    assert len(outbox()) == 3


def test_requests_are_limited_per_client_address(client):
    statuses = [client.post("/login/link", data={"email": f"n{i}@example.org"}).status_code
                for i in range(6)]
    assert statuses[-1] == 429 and statuses[:5] == [302] * 5


def test_bad_addresses_get_a_clear_message(client):
    for email, message in (("", "Enter your email address."),
                           ("no-at-sign", "Enter an email address like name@example.ru."),
                           ("y" * 10_000, "The email address is too long"),
                           ("<b>x</b>@@x", "Enter an email address like name@example.ru.")):
        response = client.post("/login/link", data={"email": email})
        assert response.status_code == 200
        assert message in response.get_data(as_text=True)
    assert outbox() == []


def test_email_is_in_the_persons_language(client, make_person):
    english = make_person(locale="en", first_name="Анна", patronymic="Сергеевна")
    request_link(client, english.email)
    message = parse(outbox()[0])
    assert message["Subject"] == "Your sign-in link to Vmeste hub"
    assert "Анна Сергеевна" in text_of(outbox()[0])
    assert '<html lang="en">' in html_of(outbox()[0])


def test_email_html_escapes_the_name(client, make_person):
    person = make_person(first_name="<b>Анна</b>")
    request_link(client, person.email)
    html = html_of(outbox()[0])
    assert "<b>Анна</b>" not in html and "&lt;b&gt;Анна&lt;/b&gt;" in html
    assert "<b>Анна</b>" in text_of(outbox()[0])  # plain text is not HTML-escaped
