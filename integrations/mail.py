"""Sending email: an SMTP transport (smtplib) and a development transport.

A transport hands one already-built RFC 5322 message to the next hop. It raises

- `TemporaryMailError` when trying again later may succeed: any 4xx answer; its subclass
  `ServerUnavailable` when the server itself is the problem (down or unreachable, a timeout, a
  TLS or authentication problem fixed by configuration, not by the message);
- `PermanentMailError` when the server refused this message for good: a 5xx answer to the
  sender, a recipient or the data.

Nothing here logs or reports the SMTP password; error texts carry the server's answer only.
This module knows nothing of the hub: it reads plain settings (a mapping such as app.config).
"""

from __future__ import annotations

import base64
import contextlib
import logging
import re
import smtplib
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy
from typing import Any, Protocol

log = logging.getLogger(__name__)

#: A connection unused for longer than this is closed and opened again before the next message
#: (servers drop idle clients; a dead connection must not cost the message an attempt).
IDLE_REUSE_SECONDS = 10.0
#: The longest error text kept (it goes into OutboxMessage.last_error).
MAX_ERROR_LENGTH = 900


class MailError(Exception):
    """Sending failed; `temporary` says whether trying again later may succeed."""

    temporary = True


class TemporaryMailError(MailError):
    """Try again later: server down, timeout, 4xx answer, TLS or authentication problem."""

    temporary = True


class ServerUnavailable(TemporaryMailError):
    """The server, or the settings to reach it, is the problem — not this message: unreachable,
    timeouts, a dropped connection, TLS, authentication, a refused session, 421. Every other
    message would fail the same way now, and an outage must never make mail fail for good."""


class PermanentMailError(MailError):
    """The server refused this message for good (5xx): retrying would not help."""

    temporary = False


class MailConfigError(RuntimeError):
    """No way to send mail is configured (production without SMTP_HOST)."""


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


@dataclass(frozen=True)
class SMTPSettings:
    """Where and how to connect; built from SMTP_* settings."""

    host: str
    port: int = 25
    username: str = ""
    password: str = field(default="", repr=False)  # never in repr, logs or errors
    starttls: bool = False
    ssl: bool = False
    timeout: float = 20.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SMTPSettings:
        use_ssl = _truthy(config.get("SMTP_SSL", False))
        default_port = 465 if use_ssl else 25
        return cls(
            host=str(config.get("SMTP_HOST") or ""),
            port=int(config.get("SMTP_PORT") or default_port),
            username=str(config.get("SMTP_USERNAME") or ""),
            password=str(config.get("SMTP_PASSWORD") or ""),
            starttls=_truthy(config.get("SMTP_STARTTLS", False)),
            ssl=use_ssl,
            timeout=float(config.get("SMTP_TIMEOUT") or 20),
        )

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class Transport(Protocol):
    """What the outbox worker needs from a way of sending mail."""

    #: Short name for logs and summaries ("smtp", "dev").
    name: str

    def send(self, envelope_from: str, recipients: Sequence[str], message: bytes) -> None:
        """Hand the message over, or raise TemporaryMailError / PermanentMailError."""

    def close(self) -> None:
        """Release any connection (called after each batch)."""


class DevTransport:
    """Development without SMTP: the message counts as delivered and stays in the outbox,
    where /dev/mail shows it. Nothing leaves the machine."""

    name = "dev"

    def send(self, envelope_from: str, recipients: Sequence[str], message: bytes) -> None:
        log.debug("dev mail: kept a message for %d recipient(s) in the outbox", len(recipients))

    def close(self) -> None:
        pass


class SMTPTransport:
    """Sends through an SMTP server with smtplib, reusing one connection for a batch."""

    name = "smtp"

    def __init__(self, settings: SMTPSettings) -> None:
        if not settings.host:
            raise MailConfigError("SMTP_HOST is empty")
        self.settings = settings
        self._conn: smtplib.SMTP | None = None
        self._last_used = 0.0

    def __repr__(self) -> str:
        return f"<SMTPTransport {self.settings.address}>"

    # -- connection -------------------------------------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        conn: smtplib.SMTP
        if s.ssl:
            conn = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout,
                                    context=ssl.create_default_context())
        else:
            conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            conn.ehlo()
            if s.starttls and not s.ssl:
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if s.username:
                if (s.username + s.password).isascii():
                    conn.login(s.username, s.password)
                else:
                    _login_plain_utf8(conn, s.username, s.password)
        except BaseException:
            _quietly_close(conn)
            raise
        return conn

    def _connection(self) -> smtplib.SMTP:
        if self._conn is not None and time.monotonic() - self._last_used > IDLE_REUSE_SECONDS:
            self.close()
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                _quietly_close(conn)

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            _quietly_close(conn)

    # -- sending ----------------------------------------------------------------------------

    def send(self, envelope_from: str, recipients: Sequence[str], message: bytes) -> None:
        data = to_wire(message)
        try:
            conn = self._connection()
            options: list[str] = []
            if not data.isascii():
                if conn.has_extn("8bitmime"):
                    options.append("BODY=8BITMIME")
                else:
                    data = to_7bit(data)
            if not all(a.isascii() for a in (envelope_from, *recipients)):
                if not conn.has_extn("smtputf8"):
                    raise PermanentMailError(
                        "the server does not accept internationalised addresses (no SMTPUTF8)")
                options.append("SMTPUTF8")
            refused = conn.sendmail(envelope_from, list(recipients), data, mail_options=options)
            self._last_used = time.monotonic()
        except MailError:
            self._drop()
            raise
        except smtplib.SMTPRecipientsRefused as exc:
            # Every recipient was refused; the connection stays usable after smtplib's RSET.
            self._last_used = time.monotonic()
            answers = exc.recipients
            text = "; ".join(f"{addr}: {_answer(code, msg)}" for addr, (code, msg) in
                             answers.items())
            if answers and all(500 <= code < 600 for code, _ in answers.values()):
                raise PermanentMailError(self._clean(f"recipient refused: {text}")) from None
            raise TemporaryMailError(self._clean(f"recipient deferred: {text}")) from None
        except smtplib.SMTPAuthenticationError as exc:
            self._drop()
            raise ServerUnavailable(self._clean(
                f"authentication failed at {self.settings.address} (check SMTP_USERNAME and "
                f"SMTP_PASSWORD): {_answer(exc.smtp_code, exc.smtp_error)}")) from None
        except (smtplib.SMTPConnectError, smtplib.SMTPHeloError) as exc:
            self._drop()
            raise ServerUnavailable(self._clean(
                f"{self.settings.address} refused the session: "
                f"{_answer(exc.smtp_code, exc.smtp_error)}")) from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            self._drop()
            what = "sender refused" if isinstance(exc, smtplib.SMTPSenderRefused) else \
                "message refused"
            text = self._clean(f"{what}: {_answer(exc.smtp_code, exc.smtp_error)}")
            if 500 <= exc.smtp_code < 600:
                raise PermanentMailError(text) from None
            if exc.smtp_code == 421:  # the server is closing the session
                raise ServerUnavailable(text) from None
            raise TemporaryMailError(text) from None
        except smtplib.SMTPResponseException as exc:
            self._drop()
            raise ServerUnavailable(self._clean(
                f"unexpected answer from {self.settings.address}: "
                f"{_answer(exc.smtp_code, exc.smtp_error)}")) from None
        except smtplib.SMTPNotSupportedError as exc:
            self._drop()
            raise ServerUnavailable(self._clean(
                f"{self.settings.address} does not support what the settings ask for: {exc}"
            )) from None
        except smtplib.SMTPServerDisconnected as exc:
            self._drop()
            raise ServerUnavailable(self._clean(
                f"{self.settings.address} closed the connection: {exc or 'no reason given'}"
            )) from None
        except TimeoutError:
            self._drop()
            raise ServerUnavailable(
                f"timed out after {self.settings.timeout:g} s talking to {self.settings.address}"
            ) from None
        except ssl.SSLError as exc:
            self._drop()
            raise ServerUnavailable(self._clean(
                f"TLS failed with {self.settings.address}: {exc.reason or exc}")) from None
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise ServerUnavailable(self._clean(
                f"cannot reach {self.settings.address}: {reason}")) from None
        if refused:  # some recipients refused, the others accepted: never resend to them
            log.warning("smtp: %d recipient(s) refused, the others accepted", len(refused))

    def _clean(self, text: str) -> str:
        """Error text safe to store and log: no password, bounded length."""
        if self.settings.password:
            text = text.replace(self.settings.password, "********")
        return text[:MAX_ERROR_LENGTH]


def _answer(code: int, message: bytes | str) -> str:
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return f"{code} {' '.join(message.split())}".strip()


def _login_plain_utf8(conn: smtplib.SMTP, username: str, password: str) -> None:
    """AUTH PLAIN with UTF-8 credentials (RFC 4616): smtplib's login() accepts ASCII only."""
    if "plain" not in conn.esmtp_features.get("auth", "").lower().split():
        raise ServerUnavailable(
            "the SMTP credentials contain non-ASCII characters, which need AUTH PLAIN, and the "
            "server does not offer it")
    token = base64.b64encode(b"\0" + username.encode() + b"\0" + password.encode())
    code, answer = conn.docmd("AUTH", "PLAIN " + token.decode("ascii"))
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, answer)


def _quietly_close(conn: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        conn.close()


_EOL = re.compile(rb"\r?\n|\r")


def to_wire(message: bytes | str) -> bytes:
    """The message as SMTP wants it: bytes with CRLF line endings (no bare LF)."""
    if isinstance(message, str):
        message = message.encode("utf-8", "surrogateescape")
    return _EOL.sub(b"\r\n", message)


def to_7bit(message: bytes) -> bytes:
    """Re-encode 8-bit parts as base64, for a server without 8BITMIME."""
    parsed = message_from_bytes(message, policy=email_policy.SMTP)
    for part in parsed.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True) or b""
        if payload.isascii() and str(part.get("Content-Transfer-Encoding", "")).lower() not in (
                "8bit", "binary"):
            continue
        del part["Content-Transfer-Encoding"]
        part.set_payload(base64.encodebytes(payload).decode("ascii"))
        part["Content-Transfer-Encoding"] = "base64"
    return to_wire(parsed.as_bytes(policy=email_policy.SMTP))


def transport_from_config(config: Mapping[str, Any]) -> Transport:
    """SMTP when SMTP_HOST is set; the development transport when DEV_MAIL is on; otherwise a
    MailConfigError saying what to set."""
    if config.get("SMTP_HOST"):
        return SMTPTransport(SMTPSettings.from_config(config))
    if config.get("DEV_MAIL"):
        return DevTransport()
    raise MailConfigError(
        "no mail transport: set SMTP_HOST (and SMTP_PORT, SMTP_USERNAME, SMTP_PASSWORD, "
        "SMTP_STARTTLS or SMTP_SSL) so that the outbox can send mail"
    )
