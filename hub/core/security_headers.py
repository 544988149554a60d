"""Security headers on every response: the Content-Security-Policy and its companions
(docs/security.md, "Headers and cookies")."""

from __future__ import annotations

from flask import Flask, Response, current_app, request

#: The policy of every page, directive by directive. No inline script or style anywhere:
#: templates load static/js/*.js and static/css/*.css, and pass data in data- attributes or
#: <script type="application/json"> blocks. blob: pictures are the board's for guests
#: (static/board/board.js fetches them itself); 'self' covers Socket.IO's same-host ws:/wss:.
#: The only frame is /dev/mail's srcdoc preview; form-action 'self' holds because every
#: route that sends the browser to a conferencing provider is a GET link, never a form.
POLICY: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' blob:",
    "connect-src": "'self'",
    "frame-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

#: Browser features the hub never uses, switched off for it and anything it might embed.
PERMISSIONS_POLICY = ("camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
                      "display-capture=()")

#: Pages whose URL carries a secret (a token, a code): their address must never leave in a
#: Referer, e.g. to the conferencing provider a join page sends the browser to.
TOKEN_ENDPOINTS = frozenset({
    "calendar.join", "calendar.rsvp_page", "calendar.rsvp_answer", "calendar.person_feed",
    "auth.link_signin", "auth.reset_password", "growth.feedback_survey", "growth.verify",
    "archive.digest_unsubscribe", "attendance.checkin", "people_import.preview",
    "people_import.confirm", "people_import.cancel", "people_import.result",
})


def content_security_policy(**changes: str) -> str:
    """The policy as a header value; `changes` replace directives (underscores for dashes)."""
    directives = POLICY | {name.replace("_", "-"): value for name, value in changes.items()}
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def referrer_policy(endpoint: str | None) -> str:
    """no-referrer on pages whose URL is a secret, else the origin only to other sites."""
    return "no-referrer" if endpoint in TOKEN_ENDPOINTS else "strict-origin-when-cross-origin"


def add_security_headers(response: Response) -> Response:
    """Set each header the view has not set itself (downloads keep their stricter CSP)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", referrer_policy(request.endpoint))
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    hsts = current_app.config.get("STRICT_TRANSPORT_SECURITY")
    if hsts:
        headers.setdefault("Strict-Transport-Security", hsts)
    return response


def register_security_headers(app: Flask) -> None:
    """Add the headers to every response of the app."""
    app.after_request(add_security_headers)
