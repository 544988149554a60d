"""A real SMTP server on loopback (aiosmtpd) that keeps every message it accepts and can refuse
mail for a while, as a provider's server does in an outage (451: try again later)."""

from __future__ import annotations

import email
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Delivery:
    """One message the server accepted."""

    to: str
    message_id: str
    subject: str
    text: str
    at: float


class MailSink:
    """The SMTP server: `deliveries` it accepted, `refused` the ones it turned away."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.deliveries: list[Delivery] = []
        self.refused = 0
        self.refusing_until = 0.0
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def refuse_for(self, seconds: float) -> None:
        """Refuse every message from now on for `seconds`."""
        self.refusing_until = time.time() + seconds

    @property
    def refusing(self) -> bool:
        return time.time() < self.refusing_until

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        """Keep the message, or refuse it during an outage (after it was sent in full: the
        worst moment for the sender)."""
        if self.refusing:
            with self.lock:
                self.refused += 1
            return "451 4.3.0 Mail server temporarily unavailable, try again later"
        message: EmailMessage = email.message_from_bytes(
            envelope.content, policy=default)  # type: ignore[attr-defined, assignment]
        body = message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        with self.lock:
            for to in envelope.rcpt_tos:  # type: ignore[attr-defined]
                self.deliveries.append(Delivery(to.lower(), str(message["Message-ID"]),
                                                str(message["Subject"]), text, time.time()))
        return "250 2.0.0 OK: queued"

    def snapshot(self) -> list[Delivery]:
        with self.lock:
            return list(self.deliveries)

    def copies(self) -> Counter[tuple[str, str]]:
        """How many times each (recipient, Message-ID) arrived."""
        return Counter((d.to, d.message_id) for d in self.snapshot())
