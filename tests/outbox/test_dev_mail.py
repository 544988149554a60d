"""/dev/mail: lists and shows the outbox in development, escapes everything, and does not exist
in production."""

from __future__ import annotations

import pytest

from hub import create_app
from hub.extensions import db
from hub.outbox.models import MessageStatus
from hub.outbox.services import Part, enqueue_email
from tests.outbox.conftest import fresh

SCRIPT_SUBJECT = '<script>alert("subject")</script> Круглый стол'
SCRIPT_TEXT = "Текст <b>жирный</b> <script>alert('text')</script>\nВход: http://localhost/login/link/abc?x=1&y=2\n"
SCRIPT_HTML = ('<p onclick="alert(1)">Привет</p><script>alert("html")</script>'
               '<img src=x onerror=alert(2)>"><iframe src="javascript:alert(3)"></iframe>')


def queue(subject: str = "Семинар", to: str = "teacher@example.org", **kw) -> int:  # type: ignore[no-untyped-def]
    row = enqueue_email(to, subject, kw.pop("text", "Текст письма"), kw.pop("html", None),
                        kind=kw.pop("kind", "test"), **kw)
    db.session.commit()
    return row.id


def test_lists_messages_newest_first_with_their_state(client):
    first = queue("Первое письмо", kind="invitation:1")
    queue("Второе письмо", to="coordinator@example.org")
    third = queue("Третье письмо")
    row = fresh(first)
    row.status, row.attempts, row.last_error = MessageStatus.FAILED, 8, "451 4.3.0 Try again"
    fresh(third).status = MessageStatus.SENT
    db.session.commit()

    response = client.get("/dev/mail/")  # signed out: a developer tool, open in development

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "open without sign-in" in page and "only in development" in page
    positions = [page.index(s) for s in ("Третье письмо", "Второе письмо", "Первое письмо")]
    assert positions == sorted(positions)
    assert "coordinator@example.org" in page
    assert "invitation:1" in page
    assert "451 4.3.0 Try again" in page
    assert "Failed" in page and "Sent" in page and "Pending" in page


def test_filters_by_text_and_status(client):
    queue("Вебинар для родителей", to="parent@example.org")
    failed = queue("Мастер-класс «Мульти-пульти»")
    fresh(failed).status = MessageStatus.FAILED
    db.session.commit()

    by_text = client.get("/dev/mail/?q=parent@").get_data(as_text=True)
    assert "Вебинар для родителей" in by_text and "Мульти-пульти" not in by_text
    by_status = client.get("/dev/mail/?status=failed").get_data(as_text=True)
    assert "Мульти-пульти" in by_status and "Вебинар для родителей" not in by_status
    for odd in ("?q=%25_%5C&status=nonsense&page=999", "?q=%00%27%3B--", "?q=" + "я" * 10000,
                "?page=-1", "?page=abc"):
        assert client.get("/dev/mail/" + odd).status_code == 200, odd


def test_message_page_shows_text_html_calendar_and_attachments_safely(client):
    message_id = queue(
        SCRIPT_SUBJECT, text=SCRIPT_TEXT, html=SCRIPT_HTML,
        alternatives=[Part("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n", "text",
                           "calendar", params=(("method", "REQUEST"),))],
        attachments=[Part(b"\x89PNG\r\n<script>alert(4)</script>", "image", "png",
                          filename="<img src=x onerror=alert(5)>.png")],
    )

    response = client.get(f"/dev/mail/{message_id}")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for payload in ("<script>alert", "<img src=x", 'onclick="alert', "<iframe src="):
        assert payload not in page
    assert "&lt;script&gt;alert(&#34;subject&#34;)&lt;/script&gt; Круглый стол" in page
    assert "Текст &lt;b&gt;жирный&lt;/b&gt;" in page
    assert '<iframe title="HTML part of the message" sandbox=""' in page
    assert "allow-scripts" not in page and "allow-same-origin" not in page
    assert 'srcdoc="&lt;p onclick=&#34;alert(1)&#34;&gt;Привет&lt;/p&gt;' in page
    assert "method=REQUEST" in page and "METHOD:REQUEST" in page
    assert "&lt;img src=x onerror=alert(5)&gt;.png" in page
    assert 'href="http://localhost/login/link/abc?x=1&amp;y=2"' in page  # the link to click
    assert "Raw source" in page and "Content-Type: multipart/mixed" in page


def test_attachment_downloads_as_a_file_that_cannot_run(client):
    content = b"\x89PNG\r\n<script>alert(4)</script>"
    message_id = queue(attachments=[Part(content, "image", "png", filename="схема.png")],
                       html="<p>x</p>")
    page = client.get(f"/dev/mail/{message_id}").get_data(as_text=True)
    assert f"/dev/mail/{message_id}/parts/2" in page  # text, html, then the attachment

    response = client.get(f"/dev/mail/{message_id}/parts/2")

    assert response.status_code == 200
    assert response.data == content
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%D1%81%D1%85%D0%B5%D0%BC%D0%B0.png" in response.headers[
        "Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert client.get(f"/dev/mail/{message_id}/parts/9").status_code == 404


def test_raw_source_is_plain_text(client):
    message_id = queue(SCRIPT_SUBJECT, html=SCRIPT_HTML)
    response = client.get(f"/dev/mail/{message_id}/raw")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.get_data(as_text=True) == fresh(message_id).mime


def test_unknown_and_broken_messages(client):
    assert client.get("/dev/mail/424242").status_code == 404
    message_id = queue()
    fresh(message_id).mime = "Content-Type: multipart/mixed; boundary=\"x\"\n\n--x\nbroken"
    db.session.commit()
    response = client.get(f"/dev/mail/{message_id}")
    assert response.status_code == 200
    assert "broken" in response.get_data(as_text=True)


def test_send_now_requeues_a_failed_message(client, clock):
    message_id = queue()
    row = fresh(message_id)
    row.status, row.attempts = MessageStatus.FAILED, 8
    db.session.commit()

    response = client.post(f"/dev/mail/{message_id}/retry")

    assert response.status_code == 302
    again = fresh(message_id)
    assert (again.status, again.attempts) == (MessageStatus.PENDING, 0)
    sent = fresh(queue())
    sent.status = MessageStatus.SENT
    db.session.commit()
    client.post(f"/dev/mail/{sent.id}/retry")
    assert fresh(sent.id).status == MessageStatus.SENT  # a sent message is not sent again


def test_signed_in_users_see_it_too(client, people, login_as):
    queue("Для координатора")
    login_as(people.teacher)
    response = client.get("/dev/mail/")
    assert response.status_code == 200
    assert "Для координатора" in response.get_data(as_text=True)


@pytest.fixture
def production_app(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SECRET_KEY", "a-long-and-random-production-secret")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'production.sqlite3'}")
    app = create_app("production")
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("path", ["/dev/mail/", "/dev/mail", "/dev/mail/1", "/dev/mail/1/raw",
                                  "/dev/mail/1/parts/0"])
def test_production_has_no_dev_mail(production_app, path):
    assert "dev_mail.index" not in production_app.view_functions
    response = production_app.test_client().get(path)
    assert response.status_code == 404
