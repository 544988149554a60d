"""The whole emailed sign-in: request a link, the outbox worker delivers it over real SMTP,
the teacher opens the link from the received mail and is signed in."""

from __future__ import annotations

import re

from hub.outbox.worker import drain


def test_sign_in_link_travels_through_smtp(client, people, smtp_server):
    teacher = people.teacher
    response = client.post("/login/link", data={"email": teacher.email.upper()})
    assert response.status_code in (200, 302)

    summary = drain()
    assert summary.sent == 1
    assert smtp_server.envelopes[0][1] == [teacher.email]
    mail = smtp_server.messages[0]
    text = next(p for p in mail.walk() if p.get_content_type() == "text/plain")
    body = text.get_payload(decode=True).decode(text.get_content_charset())
    path = re.search(r"http://localhost(/login/link/[\w\-]+)", body).group(1)

    assert client.get("/").status_code == 302  # not signed in yet
    page = client.get(path)
    assert page.status_code == 200  # a page with a button: mail scanners cannot use the link
    assert client.post(path).status_code == 302
    assert client.get("/").status_code == 200
    assert client.post(path).status_code == 410  # single use
