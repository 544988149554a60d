"""Browser tests: the hub served on a loopback port, driven by Debian's Chromium via Playwright.

Fixtures:

- ``live_server`` — the base URL (``http://127.0.0.1:PORT``) of the test app served by werkzeug in
  a thread. It is the session's ``app`` (same database as every other test, emptied after each
  test by ``_clean_state``) with CSRF protection switched on while the test runs, as in
  production. One app object, not a second one: the extensions (Socket.IO, the limiter) are
  module-level singletons, and binding them to a second app would rebind them for the tests
  that run afterwards.
- ``browser`` — a headless Chromium (session-scoped); the tests skip, saying why, when Chromium or
  Playwright is missing (``make chromium`` installs it on Debian).
- ``page`` — a fresh browser context (no cookies) and page for one test; ``phone_page`` the same
  on a phone-sized viewport. A failing test leaves a screenshot, and its path is printed. A
  test whose pages break the Content-Security-Policy (an inline script or style, an outside
  resource: Chromium's `securitypolicyviolation` events and console reports) fails at teardown;
  ``page.csp_violations`` lists them.
- ``screenshots`` — a directory for screenshots: $HUB_E2E_SCREENSHOTS if set, else a temp dir.

Helpers: ``sign_in(page, base_url, email, password)`` fills the real sign-in form.
Tests here are marked ``e2e`` (``pytest -m "not e2e"`` leaves them out).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

#: Where Debian and Ubuntu put Chromium.
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
#: How long Playwright waits for an element or a page before failing (milliseconds).
TIMEOUT_MS = 15_000
PHONE = {"viewport": {"width": 375, "height": 667}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}


def find_chromium() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        path = candidate if os.path.isabs(candidate) else shutil.which(candidate)
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


@pytest.fixture(scope="session")
def _server(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def live_server(app: Flask, _server: str) -> Iterator[str]:
    """The base URL of the running hub, with CSRF on and links in emails pointing at it."""
    saved = {key: app.config.get(key) for key in ("WTF_CSRF_ENABLED", "BASE_URL")}
    app.config.update(WTF_CSRF_ENABLED=True, BASE_URL=_server)
    try:
        yield _server
    finally:
        app.config.update(saved)


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is not installed")
    executable = find_chromium()
    if executable is None:
        pytest.skip("Chromium is not installed (apt-get install chromium, or `make chromium`): "
                    "browser tests skipped")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("HUB_E2E_SCREENSHOTS")
    if chosen:
        path = Path(chosen)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("screenshots")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call):  # type: ignore[no-untyped-def]
    """Remember each phase's report on the test item, so fixtures can tell that a test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


#: Runs first in every document and frame: each CSP violation goes to the test.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => window.__cspViolation(
    `${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`
    + ` (${document.location.pathname})`));
"""


def _watch_csp(context, page) -> list[str]:  # type: ignore[no-untyped-def]
    """Collect the page's CSP violations: its events, and Chromium's console reports (which
    also cover what no document sees, such as a refused frame)."""
    violations: list[str] = []
    context.expose_function("__cspViolation", lambda text: violations.append(text))
    context.add_init_script(CSP_LISTENER)
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    return violations


def _open_page(browser, request: pytest.FixtureRequest, screenshots: Path,  # type: ignore[no-untyped-def]
               **context_options):
    context = browser.new_context(locale="ru-RU", timezone_id="Europe/Moscow", **context_options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors  # type: ignore[attr-defined]
    violations = page.csp_violations = _watch_csp(context, page)  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            path = screenshots / f"FAILED-{request.node.name}.png"
            try:
                page.screenshot(path=str(path), full_page=True)
                print(f"\nscreenshot of the failed test: {path} (page {page.url})")
            except Exception as error:  # noqa: BLE001 - a screenshot must not hide the failure
                print(f"\nno screenshot of the failed test: {error}")
        context.close()
    if violations and not (report is not None and report.failed):
        pytest.fail("the pages broke the Content-Security-Policy:\n" + "\n".join(violations))


@pytest.fixture
def page(browser, live_server, request, screenshots):  # type: ignore[no-untyped-def]
    """A desktop-sized page in a fresh context (signed out)."""
    yield from _open_page(browser, request, screenshots, viewport={"width": 1280, "height": 800})


@pytest.fixture
def phone_page(browser, live_server, request, screenshots):  # type: ignore[no-untyped-def]
    """A phone-sized page (375×667, touch) in a fresh context (signed out)."""
    yield from _open_page(browser, request, screenshots, **PHONE)


def sign_in(page, base_url: str, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    """Sign in through the real form at /login (fields `email` and `password`)."""
    page.goto(f"{base_url}/login")
    form = page.locator("form:has(input[name='password'])")
    form.locator("input[name='email']").fill(email)
    form.locator("input[name='password']").fill(password)
    with page.expect_navigation():
        form.locator("button[type='submit'], input[type='submit']").first.click()
    if page.url.rstrip("/").endswith("/login"):
        raise AssertionError(
            f"sign-in as {email} failed; the page says: {page.inner_text('main')[:500]}")


def horizontal_overflow(page) -> int:  # type: ignore[no-untyped-def]
    """How many CSS pixels the page is wider than the viewport (0 when nothing scrolls sideways)."""
    return int(page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - document.documentElement.clientWidth"))


def overflowing_elements(page, limit: int = 5) -> list[str]:  # type: ignore[no-untyped-def]
    """The innermost elements that stick out past the right edge of the viewport, described as
    `tag.class "text"` — what to fix when `horizontal_overflow` is not 0."""
    return page.evaluate(
        """(limit) => {
            const width = document.documentElement.clientWidth;
            const wide = [...document.body.querySelectorAll('*')].filter(
                el => el.getBoundingClientRect().right > width + 0.5);
            const innermost = wide.filter(el => !wide.some(o => o !== el && el.contains(o)));
            return innermost.slice(0, limit).map(el => {
                const cls = el.className && typeof el.className === 'string'
                    ? '.' + el.className.trim().split(' ').filter(Boolean).join('.') : '';
                const text = (el.innerText || '').trim().slice(0, 60);
                return `${el.tagName.toLowerCase()}${cls} "${text}"`;
            });
        }""", limit)

