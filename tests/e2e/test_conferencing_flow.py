"""In a real browser: an organiser sets up BigBlueButton for their organisation, picks it for
an event on the event form and publishes; the worker makes the room; a teacher's personal
/j/ link lands in the BigBlueButton room with her name. And the default: a teacher's link
lands in the event's Jitsi room with her name filled in.

The BigBlueButton server is a local HTTP server answering with recorded bbb-web XML; the Jitsi
server is a local one too (JITSI_BASE_URL, as for a self-hosted server: meet.jit.si cannot be
reached here), and the URL the browser landed on is what is checked."""

from __future__ import annotations

import json
import re
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import time_machine
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from hub.calendar.invitations import invitation_token
from hub.conferencing import rooms
from hub.conferencing.models import RoomState
from hub.extensions import db
from hub.outbox.worker import run_jobs
from hub.scheduling.models import Event, EventFormat, EventHost, Invitation
from tests.calendar.conftest import invite, make_event  # noqa: F401 - fixtures
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e,
              pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")]

expect = pytest.importorskip("playwright.sync_api").expect

BBB_XML = Path(__file__).parent.parent / "conferencing" / "providers" / "bigbluebutton"
SECRET = "ECCJZNJWLPEA3YB6Y2LTQGQD3GJZ3F93kq7Zt2Xw"
TITLE = "Круглый стол «Преемственность детского сада и школы»"


def _bbb_server(httpserver: HTTPServer) -> str:
    """bbb-web's API on the local server; its join page is a stand-in for the BBB client."""
    api = "/bigbluebutton/api"
    for call, answer in (("", "api_root.xml"), ("/isMeetingRunning", "is_meeting_running.xml"),
                         ("/create", "create.xml")):
        httpserver.expect_request(f"{api}{call}").respond_with_data(
            (BBB_XML / answer).read_text(encoding="utf-8"), content_type="text/xml")
    httpserver.expect_request(f"{api}/join").respond_with_data(
        "<!doctype html><title>BigBlueButton</title><h1>BigBlueButton room</h1>",
        content_type="text/html")
    return httpserver.url_for(api)


def test_an_organiser_picks_bigbluebutton_and_a_teacher_joins_by_name(  # type: ignore[no-untyped-def]
        page, live_server, people, httpserver, screenshots) -> None:
    coordinator, teacher = people.coordinator, people.teacher
    api_url = _bbb_server(httpserver)

    # Settings: the organisation's BigBlueButton server, checked on saving.
    sign_in(page, live_server, coordinator.email, PASSWORD)
    page.goto(f"{live_server}/organisations/{coordinator.organisation_id}/conferencing")
    card = page.locator("section#bigbluebutton")
    card.locator("input[name='bigbluebutton-api_url']").fill(api_url)
    card.locator("input[name='bigbluebutton-secret']").fill(SECRET)
    with page.expect_navigation():
        card.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("the connection works")
    expect(page.locator("section#bigbluebutton")).to_contain_text("BigBlueButton 3.0.4")
    assert SECRET not in page.content()
    page.screenshot(path=str(screenshots / "conferencing-settings.png"), full_page=True)

    # The event form offers all five services; the organiser picks BigBlueButton.
    page.goto(f"{live_server}/events/new")
    form = page.locator("form:has([name=publish])")
    options = form.locator("select[name=provider] option")
    assert options.evaluate_all("os => os.map(o => o.value)") == [
        "jitsi", "bigbluebutton", "google_meet", "zoom", "telemost"]
    form.locator("select[name=provider]").select_option("bigbluebutton")
    form.locator("select[name=format]").select_option(str(int(EventFormat.ROUND_TABLE)))
    form.locator("input[name=title]").fill(TITLE)
    form.locator("input[name=start_date]").fill((date.today() + timedelta(days=3)).isoformat())
    form.locator("input[name=start_time]").fill("15:00")
    form.locator("input[name=end_time]").fill("16:30")
    form.locator("textarea[name=audience_people]").fill(teacher.email)
    with page.expect_navigation():
        form.locator("[name=publish]").click()
    if page.locator(".warnings").count():
        with page.expect_navigation():
            page.locator("form [name=publish]").click()
    expect(page.locator("#room")).to_contain_text("being prepared")

    # The worker makes the room; the organiser sees it ready.
    run_jobs(time.monotonic, force=True)
    db.session.expire_all()
    event = db.session.scalar(select(Event).where(Event.title == TITLE))
    assert event.provider == "bigbluebutton"
    assert rooms.room_of(event).state == RoomState.READY
    page.reload()
    expect(page.locator("#room")).to_contain_text("ready")

    # The teacher's personal link, as in her letter, opened on her phone.
    invitation = db.session.scalar(select(Invitation).where(Invitation.event_id == event.id,
                                                            Invitation.person_id == teacher.id))
    teacher_page = page.context.browser.new_context(locale="ru-RU").new_page()
    try:
        with time_machine.travel(event.start_at - timedelta(minutes=5)):  # the link is open
            teacher_page.goto(f"{live_server}/j/{invitation_token(invitation)}")
        expect(teacher_page.locator("h1")).to_have_text("BigBlueButton room")
        joined = urlsplit(teacher_page.url)
        query = parse_qs(joined.query)
        assert joined.path == "/bigbluebutton/api/join"
        assert query["fullName"] == [teacher.full_name]
        assert query["role"] == ["VIEWER"] and query["userID"] == [f"p{teacher.id}"]
        assert query["createTime"] == ["1796021700123"] and "checksum" in query
    finally:
        teacher_page.context.close()
    assert not page.js_errors


@pytest.fixture
def jitsi_server(app, httpserver: HTTPServer):  # type: ignore[no-untyped-def]
    """A Jitsi server of our own: any room page answers."""
    httpserver.expect_request(re.compile(r"^/jitsi/vmeste-[a-z2-7]+$")).respond_with_data(
        "<!doctype html><title>Jitsi Meet</title><h1>Jitsi Meet</h1>", content_type="text/html")
    saved = app.config["JITSI_BASE_URL"]
    app.config["JITSI_BASE_URL"] = httpserver.url_for("/jitsi")
    yield
    app.config["JITSI_BASE_URL"] = saved


def test_a_teachers_link_lands_in_the_jitsi_room_with_her_name(  # type: ignore[no-untyped-def]
        phone_page, live_server, people, make_event, invite, jitsi_server) -> None:  # noqa: F811
    teacher = people.teacher
    event = make_event(title=TITLE)
    event.hosts.append(EventHost(organisation_id=people.coordinator.organisation_id))
    [invitation] = invite(event, [teacher])

    with time_machine.travel(event.start_at - timedelta(minutes=5)):  # the link is open
        phone_page.goto(f"{live_server}/j/{invitation_token(invitation)}")
    expect(phone_page.locator("h1")).to_have_text("Jitsi Meet")
    db.session.expire_all()
    room = rooms.room_of(db.session.get(Event, event.id))
    landed = urlsplit(phone_page.url)
    assert f"{landed.scheme}://{landed.netloc}{landed.path}" == room.join_url
    fragment = dict(part.split("=", 1) for part in landed.fragment.split("&"))
    assert json.loads(unquote(fragment["userInfo.displayName"])) == teacher.full_name
