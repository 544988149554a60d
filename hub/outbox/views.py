"""/dev/mail: the outbox as a mailbox, for developers. Registered only when DEV_MAIL is on
(development and tests), so production has no such page.

Open without sign-in on purpose: a developer who is signed out must still be able to read the
sign-in link the hub just mailed them. The page header says so.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from email import message_from_string
from email import policy as email_policy
from email.message import EmailMessage, Message

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import defer

from hub.core.security_headers import content_security_policy
from hub.extensions import db
from hub.outbox import services
from hub.outbox.models import MessageStatus, OutboxMessage

bp = Blueprint("dev_mail", __name__, url_prefix="/dev/mail")

PER_PAGE = 50

STATUS_LABELS = {
    MessageStatus.PENDING: _l("Pending"),
    MessageStatus.SENDING: _l("Sending"),
    MessageStatus.SENT: _l("Sent"),
    MessageStatus.FAILED: _l("Failed"),
}
STATUS_BADGES = {MessageStatus.SENT: "good", MessageStatus.FAILED: "bad"}

#: Headers shown above a message.
SHOWN_HEADERS = ("From", "To", "Subject", "Date", "Message-ID")


@bp.before_request
def _development_only() -> None:
    if not current_app.config.get("DEV_MAIL"):
        abort(404)


@bp.context_processor
def _labels() -> dict[str, object]:
    return {"status_label": lambda s: STATUS_LABELS.get(s, s),
            "status_badge": lambda s: STATUS_BADGES.get(s, ""),
            "MessageStatus": MessageStatus}


@bp.get("/", endpoint="index")
def index():  # type: ignore[no-untyped-def]
    """Every message, newest first; filter by recipient or subject, and by status."""
    query = request.args.get("q", "").replace("\x00", "").strip()[:200]
    status_arg = request.args.get("status", "")
    statement = (select(OutboxMessage).options(defer(OutboxMessage.mime))  # sources can be big
                 .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()))
    if query:
        pattern = f"%{_escape_like(query)}%"
        statement = statement.where(or_(OutboxMessage.to_addr.ilike(pattern, escape="\\"),
                                        OutboxMessage.subject.ilike(pattern, escape="\\")))
    status = next((s for s in MessageStatus if s.name.lower() == status_arg), None)
    if status is not None:
        statement = statement.where(OutboxMessage.status == status)
    page = db.paginate(statement, per_page=PER_PAGE, error_out=False, count=True)
    return render_template("outbox/index.html", page=page, q=query,
                           status=status.name.lower() if status else "",
                           counts=services.status_counts())


@bp.get("/<int:message_id>", endpoint="message")
def show(message_id: int):  # type: ignore[no-untyped-def]
    row = db.get_or_404(OutboxMessage, message_id)
    view = parse(row.mime)
    response = make_response(render_template("outbox/message.html", m=row, view=view))
    # The HTML part shows in a srcdoc frame, which inherits this page's policy: let a letter's
    # inline styles apply (scripts still never run: the frame is sandboxed, script-src 'self').
    response.headers["Content-Security-Policy"] = content_security_policy(
        style_src="'self' 'unsafe-inline'")
    return response


@bp.get("/<int:message_id>/raw", endpoint="raw")
def raw(message_id: int):  # type: ignore[no-untyped-def]
    """The message source as text/plain (never interpreted by the browser)."""
    row = db.get_or_404(OutboxMessage, message_id)
    return _inert(Response(row.mime, mimetype="text/plain"))


@bp.get("/<int:message_id>/parts/<int:index>", endpoint="part")
def part(message_id: int, index: int):  # type: ignore[no-untyped-def]
    """Download one part (an attachment, the calendar invitation...) as a file."""
    row = db.get_or_404(OutboxMessage, message_id)
    view = parse(row.mime)
    found = next((p for p in view.parts if p.index == index), None)
    if found is None:
        abort(404)
    response = send_file(io.BytesIO(found.payload), mimetype=found.content_type,
                         as_attachment=True, download_name=found.download_name,
                         max_age=0)
    return _inert(response)


@bp.post("/<int:message_id>/retry", endpoint="retry")
def retry(message_id: int):  # type: ignore[no-untyped-def]
    row = db.get_or_404(OutboxMessage, message_id)
    if services.retry_now([row.id]):
        db.session.commit()
        flash(_("The message is queued for sending now."), "success")
    else:
        flash(_("Only a pending or failed message can be retried."), "warning")
    return redirect(url_for("dev_mail.message", message_id=row.id))


def _inert(response: Response) -> Response:
    """Nothing served from here may run: no sniffing, and a sandbox if it is ever rendered."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# -- reading a stored message ---------------------------------------------------------------


@dataclass(frozen=True)
class PartView:
    """One leaf part of the message."""

    index: int  # position among the leaf parts (used in the download URL)
    content_type: str
    filename: str
    is_attachment: bool
    payload: bytes
    params: dict[str, str]

    @property
    def size(self) -> int:
        return len(self.payload)

    @property
    def download_name(self) -> str:
        if self.filename:
            return self.filename
        extension = {"text/calendar": "ics", "text/html": "html", "text/plain": "txt"}.get(
            self.content_type, "bin")
        return f"part-{self.index}.{extension}"

    def text(self) -> str:
        charset = self.params.get("charset") or "utf-8"
        try:
            return self.payload.decode(charset, "replace")
        except LookupError:
            return self.payload.decode("utf-8", "replace")


@dataclass(frozen=True)
class MailView:
    headers: list[tuple[str, str]]
    text: str | None
    html: str | None
    parts: list[PartView]
    error: str = ""

    @property
    def attachments(self) -> list[PartView]:
        return [p for p in self.parts if p.is_attachment]

    @property
    def alternatives(self) -> list[PartView]:
        """Inline parts other than the text and HTML bodies (e.g. text/calendar; REQUEST)."""
        return [p for p in self.parts if not p.is_attachment
                and p.content_type not in ("text/plain", "text/html")]

    @property
    def links(self) -> list[str]:
        """Web links in the text part, to click while developing (sign-in links...)."""
        found = (link.rstrip(".,;:!?)»\"'") for link in _LINK.findall(self.text or ""))
        return list(dict.fromkeys(found))


_LINK = re.compile(r"https?://[^\s<>\"']+")


def parse(source: str) -> MailView:
    """Split a stored message into what the page shows. Never raises on a broken message."""
    try:
        message = message_from_string(source, policy=email_policy.default)
        assert isinstance(message, EmailMessage)
        headers = [(name, str(message.get(name, ""))) for name in SHOWN_HEADERS
                   if message.get(name) is not None]
        parts = [_part_view(i, p) for i, p in enumerate(_leaves(message))]
        text = _body(message, "plain")
        html = _body(message, "html")
    except Exception as exc:  # noqa: BLE001 - show the raw source instead
        return MailView([], None, None, [], error=f"{type(exc).__name__}: {exc}")
    return MailView(headers, text, html, parts)


def _leaves(message: Message) -> list[Message]:
    return [p for p in message.walk() if not p.is_multipart()]


def _part_view(index: int, part: Message) -> PartView:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        payload = str(part.get_payload()).encode("utf-8", "replace")
    filename = part.get_filename() or ""
    disposition = (part.get_content_disposition() or "").lower()
    params = {k.lower(): str(v) for k, v in (part.get_params() or [])[1:]}
    return PartView(index, part.get_content_type(), filename,
                    disposition == "attachment" or bool(filename), payload, params)


def _body(message: EmailMessage, subtype: str) -> str | None:
    body = message.get_body(preferencelist=(subtype,))
    if body is None:
        return None
    try:
        content = body.get_content()
    except (LookupError, UnicodeError, KeyError):
        payload = body.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else None
