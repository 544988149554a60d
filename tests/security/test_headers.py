"""Security headers (hub/core/security_headers.py): every GET route of the route tables, for
every role, answers with the Content-Security-Policy and its companions, and no page it renders
holds what that policy would block (an inline script or style, an on*= handler, a javascript:
URL); pages whose URL is a secret send no Referer; production's cookies are Secure, HttpOnly
and SameSite=Lax."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from config import ProductionConfig
from hub.core.security_headers import TOKEN_ENDPOINTS
from hub.extensions import db
from hub.outbox.services import enqueue_email
from tests.conftest import PASSWORD
from tests.directory.test_access import ROLES
from tests.security.worlds import BUILDERS, endpoint_of, routes_of, table_names

#: Attributes that take a URL a browser may navigate to or load.
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "xlink:href"}
#: Route arguments that are secrets: a page under such a URL must not pass it on as a Referer.
SECRET_ARGUMENTS = {"token", "code"}
#: Routes whose argument of that name is no secret (/lang/<code> is a language).
NOT_SECRET = {"core.set_language"}
#: Views whose own, stricter policy is kept (downloads and /dev/mail's raw parts).
OWN_POLICY = "default-src 'none'"


class InlineCode(HTMLParser):
    """What in a page a strict CSP would block, one line per finding."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for name, value in values.items():
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name == "style":
                self.found.append(f"<{tag} style={value!r}>")
            if name in URL_ATTRIBUTES and "".join(value.split()).lower().startswith(
                    "javascript:"):
                self.found.append(f"<{tag} {name}={value!r}>")
        if tag == "style":
            self.found.append("<style> element")
        if tag == "script" and "src" not in values and values.get("type") != "application/json":
            self.found.append(f"inline <script type={values.get('type')!r}>")
        if tag == "script" and values.get("src", "").startswith(("http:", "https:", "//")):
            self.found.append(f"<script src={values['src']!r}> from elsewhere")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    parser.close()
    return parser.found


def directives(policy: str) -> dict[str, set[str]]:
    """The policy's directives, each with its set of sources."""
    parsed: dict[str, set[str]] = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = set(sources)
    return parsed


def problems(path: str, response, endpoint: str | None) -> list[str]:  # type: ignore[no-untyped-def]
    """What is wrong with the security headers and the page of one answer."""
    headers = response.headers
    found = []
    policy = headers.get("Content-Security-Policy", "")
    if OWN_POLICY in policy:
        pass  # a download's own policy: nothing may run, nothing may load
    elif not policy:
        found.append("no Content-Security-Policy")
    else:
        rules = directives(policy)
        if rules.get("script-src") != {"'self'"}:
            found.append(f"script-src {rules.get('script-src')}")
        if rules.get("frame-ancestors") != {"'none'"}:
            found.append(f"frame-ancestors {rules.get('frame-ancestors')}")
        if rules.get("object-src") != {"'none'"}:
            found.append(f"object-src {rules.get('object-src')}")
        if endpoint != "dev_mail.message" and rules.get("style-src") != {"'self'"}:
            found.append(f"style-src {rules.get('style-src')}")
    if headers.get("X-Content-Type-Options") != "nosniff":
        found.append("no X-Content-Type-Options: nosniff")
    if headers.get("X-Frame-Options") != "DENY":
        found.append(f"X-Frame-Options {headers.get('X-Frame-Options')}")
    wanted = ("no-referrer",) if endpoint in TOKEN_ENDPOINTS else (
        "no-referrer", "strict-origin-when-cross-origin")
    if headers.get("Referrer-Policy") not in wanted:
        found.append(f"Referrer-Policy {headers.get('Referrer-Policy')}")
    if not headers.get("Permissions-Policy"):
        found.append("no Permissions-Policy")
    if "Strict-Transport-Security" in headers:
        found.append("HSTS outside production")
    for cookie in headers.getlist("Set-Cookie"):
        if "HttpOnly" not in cookie or "SameSite=Lax" not in cookie:
            found.append(f"cookie without HttpOnly, SameSite=Lax: {cookie.split(';')[0]}")
    if response.mimetype == "text/html":
        found += inline_code(response.get_data(as_text=True))
    return [f"GET {path}: {problem}" for problem in found]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("table", table_names())
def test_every_page_has_the_headers_and_no_inline_code(table, role, app, client, people,
                                                       login_as, request):
    ids = BUILDERS[table](request)
    if role != "anonymous":
        login_as(getattr(people, role))
    wrong = []
    for method, template, *_ in routes_of(table):
        if method != "GET":
            continue
        path = template.format(**ids)
        wrong += problems(path, client.get(path), endpoint_of(app, "GET", path))
    assert not wrong, "\n".join(wrong)


def test_every_url_with_a_secret_sends_no_referrer(app):
    """A route with a token or code in its URL is in TOKEN_ENDPOINTS (the walk above checks
    that those answer no-referrer, even with an unknown token)."""
    secret = {rule.endpoint for rule in app.url_map.iter_rules()
              if rule.arguments & SECRET_ARGUMENTS}
    assert secret - NOT_SECRET - TOKEN_ENDPOINTS == set()
    assert "attendance.checkin" in TOKEN_ENDPOINTS  # its ?code= comes from the QR code


@pytest.mark.parametrize("path", [
    "/j/not-a-real-invitation-token-00000000000",
    "/rsvp/not-a-real-invitation-token-00000000000?answer=accepted",
    "/login/link/not-a-real-token", "/password/reset/not-a-real-token",
    "/feedback/not-a-real-token", "/bank/digest/unsubscribe/not-a-real-token",
    "/verify/NOTACODE", "/events/1/checkin?code=123456",
])
def test_token_pages_send_no_referrer_even_when_the_token_is_wrong(client, path):
    response = client.get(path)
    assert response.headers["Referrer-Policy"] == "no-referrer", response.status_code


def test_the_csp_allows_no_inline_script_and_no_framing(client):
    rules = directives(client.get("/login").headers["Content-Security-Policy"])
    assert rules["default-src"] == {"'self'"}
    assert rules["script-src"] == {"'self'"} and rules["style-src"] == {"'self'"}
    assert rules["frame-ancestors"] == {"'none'"} and rules["form-action"] == {"'self'"}
    assert rules["base-uri"] == {"'self'"} and rules["object-src"] == {"'none'"}


def test_downloads_keep_their_own_stricter_policy(client):
    mail = enqueue_email("teacher@example.org", "Приглашение", "Текст", "<p>Текст</p>")
    db.session.commit()
    response = client.get(f"/dev/mail/{mail.id}/raw")
    assert response.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.fixture
def production_cookies(app, monkeypatch):  # type: ignore[no-untyped-def]
    """The session app with production's cookie and transport settings."""
    production = ProductionConfig({"SECRET_KEY": "a-long-random-production-secret",
                                   "DATABASE_URL": "postgresql://hub@db.example/hub"})
    for key in ("SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE",
                "REMEMBER_COOKIE_SECURE", "REMEMBER_COOKIE_HTTPONLY",
                "REMEMBER_COOKIE_SAMESITE", "STRICT_TRANSPORT_SECURITY"):
        monkeypatch.setitem(app.config, key, getattr(production, key))
    return production


@pytest.mark.parametrize("remember", [False, True])
def test_production_sign_in_cookie_is_secure_httponly_and_lax(app, people, production_cookies,
                                                              remember):
    client = app.test_client()
    form = {"email": people.teacher.email, "password": PASSWORD}
    if remember:
        form["remember"] = "y"
    response = client.post("/login", data=form, base_url="https://localhost")
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies, "signing in sets the session cookie"
    for cookie in cookies:
        flags = {flag.strip().split("=")[0].lower(): flag.strip() for flag in cookie.split(";")}
        assert "secure" in flags and "httponly" in flags, cookie
        assert flags["samesite"] == "SameSite=Lax", cookie
        assert ("expires" in flags) is remember, cookie
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_production_remember_cookie_flags_match_the_session_cookie():
    production = ProductionConfig({"SECRET_KEY": "a-long-random-production-secret",
                                   "DATABASE_URL": "postgresql://hub@db.example/hub"})
    assert production.REMEMBER_COOKIE_SECURE and production.REMEMBER_COOKIE_HTTPONLY
    assert production.REMEMBER_COOKIE_SAMESITE == production.SESSION_COOKIE_SAMESITE == "Lax"


def test_hsts_can_be_set_from_the_environment():
    production = ProductionConfig({"SECRET_KEY": "a-long-random-production-secret",
                                   "DATABASE_URL": "postgresql://hub@db.example/hub",
                                   "STRICT_TRANSPORT_SECURITY": ""})
    assert production.STRICT_TRANSPORT_SECURITY == ""


def test_permissions_policy_turns_off_what_the_hub_never_uses(client):
    policy = client.get("/login").headers["Permissions-Policy"]
    features = {item.split("=")[0].strip() for item in policy.split(",")}
    assert {"camera", "microphone", "geolocation"} <= features
