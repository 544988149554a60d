"""In a real browser (headless Chromium): the live board of an event opened by two people at
once — the organiser (a moderator) at a desk and a teacher on her phone. What one does appears
on the other's page without a reload: a new post, a like, a post hidden by the moderator. A
post made of HTML and script is shown as text and runs nothing. The composer fits the phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from hub.board import limits
from hub.board.models import Post, PostState
from hub.core.types import utcnow
from hub.extensions import db
from tests.calendar import conftest as calendar_fixtures
from tests.conftest import PASSWORD, socket_server_of
from tests.e2e.conftest import horizontal_overflow, overflowing_elements, sign_in

pytestmark = pytest.mark.e2e

# The calendar tests' fixtures, here too.
make_event = calendar_fixtures.make_event
invite = calendar_fixtures.invite

expect = pytest.importorskip("playwright.sync_api").expect

TITLE = "Семинар-практикум «Образовательная робототехника в ДОУ»"
IDEA = "Идея: квест с Bee-Bot по станциям «Профессии» вместе с библиотекой"
XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


@pytest.fixture(autouse=True)
def _real_socket_server(app) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """The browsers talk to the Socket.IO server that serves the live app, and get real packets
    (other tests may have left the module-level `socketio` elsewhere: see socket_server_of)."""
    with socket_server_of(app, real_packets=True):
        yield


def card(page, text: str):  # type: ignore[no-untyped-def]
    """The card on `page` whose text contains `text`."""
    return page.locator(".board-card").filter(has_text=text)


def has_class(name: str) -> re.Pattern[str]:
    """A pattern for a class attribute that contains the class `name`."""
    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")


def open_board(page, base_url: str, event_id: int) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}/events/{event_id}/board")
    expect(page.locator("#board-conn")).to_have_attribute("data-conn", "live")
    # Marks this document: still there at the end means nothing reloaded the page.
    page.evaluate("() => { window.__same_document = true; }")


def test_two_people_on_one_board(  # type: ignore[no-untyped-def]
        app, monkeypatch, page, phone_page, live_server, people, make_event, invite,
        screenshots) -> None:
    limits.reset()
    monkeypatch.setitem(app.config, "BOARD_POST_LIMIT", "1 per minute")  # the teacher's 2nd post
    start = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    event = make_event(title=TITLE, start=start)
    invite(event, [people.teacher])
    organiser, teacher = page, phone_page

    sign_in(organiser, live_server, people.coordinator.email, PASSWORD)
    sign_in(teacher, live_server, people.teacher.email, PASSWORD)
    open_board(organiser, live_server, event.id)
    open_board(teacher, live_server, event.id)

    # The organiser moderates (settings and exports); the teacher does not.
    expect(organiser.locator("#board-mod-tools")).to_be_visible()
    expect(teacher.locator("#board-mod-tools")).to_be_hidden()

    # On the phone the composer is on the first screen, usable, and nothing scrolls sideways.
    composer = teacher.locator("#board-composer")
    expect(composer).to_be_visible()
    expect(teacher.locator("#bc-body")).to_be_editable()
    box = teacher.locator("#bc-body").bounding_box()
    viewport = teacher.viewport_size
    assert box is not None and box["y"] < viewport["height"] and box["x"] >= 0
    assert box["x"] + box["width"] <= viewport["width"]
    assert horizontal_overflow(teacher) == 0, overflowing_elements(teacher)
    teacher.screenshot(path=str(screenshots / "board-phone.png"))

    # A post made by the organiser appears on the teacher's phone, live.
    organiser.locator("#bc-body").fill(IDEA)
    organiser.locator("#bc-submit").click()
    expect(card(organiser, IDEA)).to_have_count(1)
    expect(card(teacher, IDEA)).to_have_count(1)
    expect(card(teacher, IDEA).locator(".card-author")).to_have_text(
        people.coordinator.full_name)

    # The teacher likes it: the count changes on both pages; only hers is pressed.
    teacher_like = card(teacher, IDEA).locator("button.like")
    organiser_like = card(organiser, IDEA).locator("button.like")
    expect(teacher_like).to_have_attribute("aria-pressed", "false")
    teacher_like.click()
    expect(teacher_like).to_have_attribute("aria-pressed", "true")
    expect(teacher_like.locator(".react-n")).to_have_text("1")
    expect(organiser_like.locator(".react-n")).to_have_text("1")
    expect(organiser_like).to_have_attribute("aria-pressed", "false")

    # A post of HTML and script: shown as text on both pages, nothing runs, no image is made.
    teacher.locator("#bc-body").fill(XSS)
    teacher.locator("#bc-submit").click()
    for viewer in (teacher, organiser):
        hostile = card(viewer, "window.__xss=1")
        expect(hostile).to_have_count(1)
        expect(hostile.locator(".card-body")).to_contain_text("<script>window.__xss=1</script>")
        expect(hostile.locator(".card-body")).to_contain_text('onerror="window.__xss=2"')
        assert hostile.locator(".card-body script, .card-body img").count() == 0
    for viewer in (teacher, organiser):
        assert viewer.evaluate("() => typeof window.__xss") == "undefined"

    # A post the server refuses (too fast): its message is shown, and the text is kept.
    teacher.locator("#bc-body").fill("Ещё одна мысль")
    teacher.locator("#bc-submit").click()
    status = teacher.locator("#bc-status")
    expect(status).to_have_class(has_class("is-error"))
    expect(status).to_contain_text("Too fast")
    expect(status).to_be_visible()
    assert status.get_attribute("aria-live") == "polite"
    expect(teacher.locator("#bc-body")).to_have_value("Ещё одна мысль")
    expect(card(organiser, "Ещё одна мысль")).to_have_count(0)

    # The moderator hides the organiser's post: it leaves the teacher's page at once and stays
    # on the moderator's, marked hidden.
    organiser_card = card(organiser, IDEA)
    organiser_card.locator("button.card-menu").click()
    organiser_card.locator("button[data-op='hide']").click()
    expect(card(teacher, IDEA)).to_have_count(0)
    expect(organiser_card).to_have_class(has_class("is-hidden"))
    expect(card(teacher, "window.__xss=1")).to_have_count(1)
    db.session.expire_all()
    hidden = db.session.scalar(select(Post).where(Post.body == IDEA))
    assert hidden is not None and hidden.state == PostState.HIDDEN

    organiser.screenshot(path=str(screenshots / "board-desktop.png"), full_page=True)
    for viewer in (organiser, teacher):
        assert viewer.evaluate("() => window.__same_document === true")
        assert viewer.evaluate("() => typeof window.__xss") == "undefined"
        assert not viewer.js_errors, viewer.js_errors


class Relay:
    """Stands between a page and the server's websocket: forwards everything, except the next
    frame that contains `drop`, and refuses new connections while `blocked`."""

    def __init__(self) -> None:
        self.drop: str | None = None
        self.dropped = 0
        self.blocked = False
        self.routes: list = []

    def __call__(self, ws) -> None:  # type: ignore[no-untyped-def]
        if self.blocked:
            ws.close()
            return
        server = ws.connect_to_server()
        self.routes.append(ws)

        def to_page(message) -> None:  # type: ignore[no-untyped-def]
            if self.drop and isinstance(message, str) and self.drop in message:
                self.drop = None  # once: the catch-up that follows carries the same text
                self.dropped += 1
                return
            ws.send(message)

        server.on_message(to_page)

    def cut(self) -> None:
        """Close the page's connections and refuse new ones."""
        self.blocked = True
        for ws in self.routes:
            ws.close()
        self.routes.clear()

    def polling(self, route) -> None:  # type: ignore[no-untyped-def]
        """Socket.IO's HTTP long-polling (its fallback): refused too while `blocked`."""
        if self.blocked:
            route.abort()
        else:
            route.continue_()


def test_missed_changes_are_caught_up(  # type: ignore[no-untyped-def]
        page, phone_page, live_server, people, make_event, invite) -> None:
    """A change lost on the way (a gap in the sequence numbers) and changes made while the
    connection was down both reach the page, without a reload."""
    limits.reset()
    event = make_event(title=TITLE, start=(utcnow() + timedelta(days=2)).replace(microsecond=0))
    invite(event, [people.teacher])
    organiser, teacher = page, phone_page
    relay = Relay()
    teacher.route_web_socket(re.compile(r".*/socket\.io/.*"), relay)
    teacher.route(re.compile(r".*/socket\.io/.*"), relay.polling)
    sign_in(organiser, live_server, people.coordinator.email, PASSWORD)
    sign_in(teacher, live_server, people.teacher.email, PASSWORD)
    open_board(organiser, live_server, event.id)
    open_board(teacher, live_server, event.id)

    def post(text: str) -> None:
        organiser.locator("#bc-body").fill(text)
        organiser.locator("#bc-submit").click()
        expect(card(organiser, text)).to_have_count(1)

    # The frame with the first post never reaches the teacher; the next one shows the gap.
    relay.drop = "LOST-ON-THE-WAY"
    post("LOST-ON-THE-WAY: план квеста")
    post("NEXT-ONE: список станций")
    expect(card(teacher, "NEXT-ONE")).to_have_count(1)
    expect(card(teacher, "LOST-ON-THE-WAY")).to_have_count(1)
    assert relay.dropped == 1

    # The teacher's connection drops; what is posted meanwhile arrives when it comes back.
    relay.cut()
    expect(teacher.locator("#board-conn")).to_have_attribute("data-conn", "reconnecting")
    post("WHILE-AWAY: итоги")
    expect(card(teacher, "WHILE-AWAY")).to_have_count(0)
    relay.blocked = False
    expect(teacher.locator("#board-conn")).to_have_attribute("data-conn", "live")
    expect(card(teacher, "WHILE-AWAY")).to_have_count(1)
    assert teacher.evaluate("() => window.__board.lastSeq() === window.__board.head()")
    for viewer in (organiser, teacher):
        assert viewer.evaluate("() => window.__same_document === true")
        assert not viewer.js_errors, viewer.js_errors


#: A WebSocket that fails to connect, as behind a proxy that lets none through.
BLOCKED_WEBSOCKET = """
window.__websocket_attempts = 0;
window.WebSocket = class BlockedWebSocket {
  constructor(url) {
    window.__websocket_attempts += 1;
    this.url = url; this.readyState = 0;
    setTimeout(() => {
      this.readyState = 3;
      if (this.onerror) this.onerror(new Event("error"));
      if (this.onclose) this.onclose({code: 1006, reason: "", wasClean: false});
    }, 10);
  }
  send() {}
  close() {}
};
"""


def test_the_board_works_where_websockets_are_blocked(  # type: ignore[no-untyped-def]
        page, phone_page, live_server, people, make_event, invite) -> None:
    """A school's proxy that lets no websocket through: the page falls back to long-polling
    and still receives what others post."""
    limits.reset()
    event = make_event(title=TITLE, start=(utcnow() + timedelta(days=2)).replace(microsecond=0))
    invite(event, [people.teacher])
    organiser, teacher = page, phone_page
    teacher.add_init_script(BLOCKED_WEBSOCKET)
    sign_in(organiser, live_server, people.coordinator.email, PASSWORD)
    sign_in(teacher, live_server, people.teacher.email, PASSWORD)
    open_board(organiser, live_server, event.id)
    open_board(teacher, live_server, event.id)
    assert teacher.evaluate("() => window.__websocket_attempts") >= 1

    organiser.locator("#bc-body").fill("POLLING: через прокси школы")
    organiser.locator("#bc-submit").click()
    expect(card(teacher, "POLLING")).to_have_count(1)
    card(teacher, "POLLING").locator("button.like").click()
    expect(card(organiser, "POLLING").locator("button.like .react-n")).to_have_text("1")
    for viewer in (organiser, teacher):
        assert not viewer.js_errors, viewer.js_errors
