"""A queued message reaches a real SMTP server once, complete; a rolled-back one never does."""

from __future__ import annotations

from email.header import decode_header, make_header

from sqlalchemy import func, select

from hub.extensions import db
from hub.outbox.models import MessageStatus, OutboxMessage
from hub.outbox.services import Part, enqueue_email
from tests.outbox.conftest import SMTP_PASSWORD, SMTP_USER, fresh

ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Vmeste hub//RU\r\nMETHOD:REQUEST\r\n"
    "BEGIN:VEVENT\r\nUID:event-7@vmeste.hub\r\nSEQUENCE:0\r\n"
    "SUMMARY:Семинар-практикум «Образовательная робототехника в ДОУ»\r\n"
    "DTSTART:20261203T070000Z\r\nDTEND:20261203T083000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def queue_invitation(to: str = "Ёлкина Анна 🙂 <anna.yolkina@example.org>") -> OutboxMessage:
    row = enqueue_email(
        to, "Приглашение: семинар-практикум «Робототехника»",
        "Здравствуйте, Анна Сергеевна!\nСсылка для входа: http://localhost/j/tok123\n",
        "<p>Здравствуйте, <b>Анна Сергеевна</b>!</p>",
        kind="invitation:7",
        alternatives=[Part(ICS, "text", "calendar", params=(("method", "REQUEST"),))],
        attachments=[Part(PDF, "application", "pdf", filename="Программа семинара.pdf")],
    )
    db.session.commit()
    return row


def test_queued_message_is_delivered_with_envelope_and_mime_parts(smtp_server, work):
    row = queue_invitation()

    summary = work()

    assert (summary.sent, summary.retrying, summary.failed) == (1, 0, 0)
    assert smtp_server.envelopes == [("no-reply@vmeste.local", ["anna.yolkina@example.org"])]
    [message] = smtp_server.messages
    assert str(make_header(decode_header(message["Subject"]))) == (
        "Приглашение: семинар-практикум «Робототехника»")
    assert "anna.yolkina@example.org" in message["To"]
    leaves = [p for p in message.walk() if not p.is_multipart()]
    assert [p.get_content_type() for p in leaves] == [
        "text/plain", "text/html", "text/calendar", "application/pdf"]
    text, html, calendar, attachment = leaves
    assert "Ссылка для входа: http://localhost/j/tok123" in text.get_payload(
        decode=True).decode("utf-8")
    assert "<b>Анна Сергеевна</b>" in html.get_payload(decode=True).decode("utf-8")
    assert calendar.get_param("method") == "REQUEST"
    assert "METHOD:REQUEST" in calendar.get_payload(decode=True).decode("utf-8")
    assert "Образовательная робототехника" in calendar.get_payload(decode=True).decode("utf-8")
    assert attachment.get_filename() == "Программа семинара.pdf"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_payload(decode=True) == PDF

    sent = fresh(row.id)
    assert sent.status == MessageStatus.SENT
    assert sent.sent_at is not None and sent.lease_until is None
    assert (sent.attempts, sent.last_error) == (1, "")

    assert work().handled == 0  # nothing is sent twice
    assert len(smtp_server.messages) == 1


def test_rolled_back_message_is_never_sent(smtp_server, work, make_person):
    person = make_person(email="teacher@example.org")
    person.position = "методист"
    queue = enqueue_email(person.email, "Ваша должность изменена", "…", kind="test")
    assert queue in db.session.new
    db.session.rollback()  # the change that caused the email failed: the email goes with it

    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert work().handled == 0
    assert smtp_server.messages == []


def test_message_commits_with_the_change_that_caused_it(smtp_server, work, make_person):
    person = make_person(email="teacher@example.org")
    person.position = "методист"
    enqueue_email(person.email, "Ваша должность изменена", "Новая должность: методист",
                  kind="directory.person_changed")
    db.session.commit()

    assert work().sent == 1
    assert smtp_server.envelopes[0][1] == ["teacher@example.org"]


def test_smtp_auth_login_and_delivery(smtp_auth_server, work):
    row = queue_invitation("auth@example.org")
    assert work().sent == 1
    assert smtp_auth_server.logins == [SMTP_USER]
    assert fresh(row.id).status == MessageStatus.SENT


def test_wrong_smtp_password_is_retried_and_never_logged(smtp_auth_server, work, app,
                                                         monkeypatch, caplog):
    wrong = "wrong-" + SMTP_PASSWORD
    monkeypatch.setitem(app.config, "SMTP_PASSWORD", wrong)
    row = queue_invitation("auth@example.org")

    with caplog.at_level("DEBUG"):
        summary = work()

    assert summary.retrying == 1
    failed = fresh(row.id)
    assert failed.status == MessageStatus.PENDING
    assert "authentication failed" in failed.last_error and "535" in failed.last_error
    for secret in (wrong, SMTP_PASSWORD):
        assert secret not in failed.last_error
        assert secret not in caplog.text
    assert smtp_auth_server.messages == []


def test_the_row_keeps_the_bare_address_and_the_letter_the_name(smtp_server, work):
    """A long Cyrillic name, encoded in the To header, used to go into to_addr too: past its
    254 characters (PostgreSQL refused the row) and unreadable on the outbox page."""
    name = " ".join(["Константинопольская-Преображенская"] * 3)
    address = f"{'k' * 60}@{'d' * 60}.example.org"
    row = queue_invitation(f"{name} <{address}>")
    assert row.to_addr == address

    work()
    assert fresh(row.id).status == MessageStatus.SENT
    assert smtp_server.envelopes[-1][1] == [address]
    to = str(make_header(decode_header(smtp_server.messages[-1]["To"])))
    assert name in to and address in to
