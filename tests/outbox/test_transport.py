"""integrations/mail.py against real sockets: aiosmtpd, a closed port, a server that answers 421,
one that never answers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email import policy as email_policy

import pytest

from integrations.mail import (
    DevTransport,
    MailConfigError,
    PermanentMailError,
    SMTPSettings,
    SMTPTransport,
    TemporaryMailError,
    to_7bit,
    to_wire,
    transport_from_config,
)
from tests.outbox.conftest import free_port

EIGHT_BIT = (
    "From: hub@example.org\nTo: a@example.org\nSubject: test\nMIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
    "Здравствуйте! Ёлка 🙂\n.точка в начале строки\n"
).encode()


def settings(port: int, **kw) -> SMTPSettings:  # type: ignore[no-untyped-def]
    return SMTPSettings(host="127.0.0.1", port=port, timeout=kw.pop("timeout", 5), **kw)


def test_settings_from_config_never_show_the_password():
    s = SMTPSettings.from_config({"SMTP_HOST": "smtp.example.ru", "SMTP_PORT": "587",
                                  "SMTP_USERNAME": "hub", "SMTP_PASSWORD": "p@ss-w0rd",
                                  "SMTP_STARTTLS": "true", "SMTP_TIMEOUT": 7})
    assert (s.host, s.port, s.starttls, s.ssl, s.timeout) == ("smtp.example.ru", 587, True,
                                                              False, 7.0)
    assert "p@ss-w0rd" not in repr(s)
    assert "p@ss-w0rd" not in repr(SMTPTransport(s))
    assert SMTPSettings.from_config({"SMTP_HOST": "h", "SMTP_SSL": True}).port == 465


def test_transport_choice():
    assert isinstance(transport_from_config({"SMTP_HOST": "h", "DEV_MAIL": True}), SMTPTransport)
    assert isinstance(transport_from_config({"SMTP_HOST": "", "DEV_MAIL": True}), DevTransport)
    with pytest.raises(MailConfigError, match="SMTP_HOST"):
        transport_from_config({"SMTP_HOST": "", "DEV_MAIL": False})


def test_wire_form_has_crlf_only():
    assert to_wire("a\nb\r\nc\rd") == b"a\r\nb\r\nc\r\nd"


def test_8bit_message_becomes_7bit_for_old_servers():
    converted = to_7bit(EIGHT_BIT)
    assert converted.isascii()
    parsed = message_from_bytes(converted, policy=email_policy.default)
    assert parsed["Content-Transfer-Encoding"] == "base64"
    assert parsed.get_content() == "Здравствуйте! Ёлка 🙂\n.точка в начале строки\n"


def test_8bit_message_is_sent_with_8bitmime(smtp_server):
    transport = SMTPTransport(settings(smtp_server.port))
    try:
        transport.send("hub@example.org", ["a@example.org"], EIGHT_BIT)
        transport.send("hub@example.org", ["b@example.org"], EIGHT_BIT)  # same connection
    finally:
        transport.close()
    body = smtp_server.messages[0].get_payload(decode=True).decode("utf-8")
    assert body.replace("\r\n", "\n") == "Здравствуйте! Ёлка 🙂\n.точка в начале строки\n"
    assert [r for _, r in smtp_server.envelopes] == [["a@example.org"], ["b@example.org"]]


def test_recipient_refused_is_permanent_and_connection_stays_usable(smtp_server):
    smtp_server.reject.add("nobody@example.org")
    transport = SMTPTransport(settings(smtp_server.port))
    try:
        with pytest.raises(PermanentMailError, match="550"):
            transport.send("hub@example.org", ["nobody@example.org"], EIGHT_BIT)
        transport.send("hub@example.org", ["a@example.org"], EIGHT_BIT)
    finally:
        transport.close()
    assert len(smtp_server.messages) == 1


def test_451_is_temporary(smtp_server):
    smtp_server.fail_next = 1
    transport = SMTPTransport(settings(smtp_server.port))
    with pytest.raises(TemporaryMailError, match="451"):
        transport.send("hub@example.org", ["a@example.org"], EIGHT_BIT)
    transport.send("hub@example.org", ["a@example.org"], EIGHT_BIT)  # reconnects
    transport.close()
    assert len(smtp_server.messages) == 1


def test_connection_refused_is_temporary():
    port = free_port()
    with pytest.raises(TemporaryMailError, match=f"cannot reach 127.0.0.1:{port}"):
        SMTPTransport(settings(port)).send("hub@example.org", ["a@example.org"], EIGHT_BIT)


class RawServer:
    """A loopback TCP server that greets each client with `greeting` (or says nothing)."""

    def __init__(self, greeting: bytes | None) -> None:
        self.greeting = greeting
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.clients: list[socket.socket] = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self.clients.append(client)
            if self.greeting is not None:
                client.sendall(self.greeting)

    def close(self) -> None:
        self.sock.close()
        for client in self.clients:
            client.close()


@pytest.fixture
def raw_server(request) -> Iterator[RawServer]:  # type: ignore[no-untyped-def]
    server = RawServer(request.param)
    yield server
    server.close()


@pytest.mark.parametrize("raw_server", [b"421 4.3.2 Too busy, come back later\r\n"],
                         indirect=True)
def test_busy_greeting_is_temporary(raw_server):
    with pytest.raises(TemporaryMailError, match="421"):
        SMTPTransport(settings(raw_server.port)).send("hub@example.org", ["a@example.org"],
                                                      EIGHT_BIT)


@pytest.mark.parametrize("raw_server", [b"554 5.7.1 No SMTP service for you\r\n"],
                         indirect=True)
def test_refused_session_is_temporary_not_the_messages_fault(raw_server):
    with pytest.raises(TemporaryMailError, match="554"):
        SMTPTransport(settings(raw_server.port)).send("hub@example.org", ["a@example.org"],
                                                      EIGHT_BIT)


@pytest.mark.parametrize("raw_server", [None], indirect=True)
def test_silent_server_times_out_as_temporary(raw_server):
    transport = SMTPTransport(settings(raw_server.port, timeout=0.3))
    with pytest.raises(TemporaryMailError, match="timed out"):
        transport.send("hub@example.org", ["a@example.org"], EIGHT_BIT)


def test_non_ascii_address_needs_smtputf8(smtp_server):
    transport = SMTPTransport(settings(smtp_server.port))
    transport.send("hub@example.org", ["учитель@школа.рф"], EIGHT_BIT)  # aiosmtpd has SMTPUTF8
    transport.close()
    assert smtp_server.envelopes[0][1] == ["учитель@школа.рф"]
